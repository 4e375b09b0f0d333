"""aifabric lab TEST DOUBLE of a Cisco Nexus 9000 switch (NX-OS 10.3(4a)) reachable over SSH.

Test-side only (lab/simulators/nxos/, never in the collection's production paths).
It speaks what ansible.netcommon.network_cli + the cisco.nxos terminal/cliconf plugins
expect from a real switch: an interactive shell with the NX-OS prompts (``leaf-01#``,
``leaf-01(config-pmap-c-que)#``), terminal echo, ``show version`` / ``show inventory`` /
``show running-config`` in the real formats, hierarchical configuration mode with the
RoCE QoS grammar (class-map / policy-map type qos, network-qos, queuing; system qos;
interface mtu, priority-flow-control, service-policy, ip address), NX-OS error messages
(caret line + ``% Invalid command at '^' marker.``), checkpoints and rollback.
Running-config, startup-config and checkpoints persist in <state-dir>/state.json.

    python3 nxos_sim.py --listen 127.0.0.1 --port 2222 --state-dir DIR --hostname leaf-01 \\
        [--username admin] [--password P] [--authorized-keys FILE]

Grammar, formats and the test hooks (hidden ``aifabric-sim ...`` commands) are described in
lab/simulators/README.md ("Cisco NX-OS switch").
"""
import argparse
import copy
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time

import paramiko

NXOS_VERSION = "10.3(4a)"
NXOS_IMAGE = "nxos64-cs.10.3.4a.M.bin"
BIOS_VERSION = "05.47"
CHASSIS = "Nexus9000 C9364D-GX2A Chassis"
PID = "N9K-C9364D-GX2A"
PORTS = 64
MTU_RANGE = (576, 9216)
DEFAULT_MTU = 1500
JUMBO_MTU = 9216

NQ_CLASSES = ["c-8q-nq%d" % i for i in range(1, 8)] + ["c-8q-nq-default", "c-nq1", "c-nq2", "c-nq3", "c-nq-default"]
QUEUE_CLASSES = ["c-out-8q-q%d" % i for i in range(1, 8)] + ["c-out-8q-q-default", "c-out-q1", "c-out-q2", "c-out-q3", "c-out-q-default"]
FEATURES = ["bfd", "bgp", "interface-vlan", "lacp", "lldp", "netconf", "nxapi", "ospf", "restconf", "scp-server", "sftp-server", "telemetry"]

ERR_INVALID = "% Invalid command at '^' marker."
ERR_INCOMPLETE = "% Incomplete command at '^' marker."
ERR_AMBIGUOUS = "% Ambiguous command at '^' marker."
ERR_RANGE = "Invalid range at '^' marker."

PROMPTS = {
    "exec": "#",
    "config": "(config)#",
    "if": "(config-if)#",
    "cmap-qos": "(config-cmap-qos)#",
    "cmap-nqos": "(config-cmap-nqos)#",
    "pmap-qos": "(config-pmap-qos)#",
    "pmap-c-qos": "(config-pmap-c-qos)#",
    "pmap-nqos": "(config-pmap-nqos)#",
    "pmap-nqos-c": "(config-pmap-nqos-c)#",
    "pmap-que": "(config-pmap-que)#",
    "pmap-c-que": "(config-pmap-c-que)#",
    "sys-qos": "(config-sys-qos)#",
}

# order in which NX-OS prints the lines of a block (by key); unknown keys keep insertion order after these
LINE_ORDER = {
    "if": ["description", "switchport", "priority-flow-control mode", "priority-flow-control watch-dog-interval", "mtu",
           "service-policy qos input", "service-policy queuing output", "ip address", "shutdown"],
    "pmap-nqos-c": ["pause", "mtu"],
    "pmap-c-que": ["bandwidth", "priority", "random-detect"],
    "sys-qos": ["service-policy qos input", "service-policy network-qos", "service-policy queuing input", "service-policy queuing output"],
}

BANNER = """Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (C) 2002-2023, Cisco and/or its affiliates.
All rights reserved.
The copyrights to certain works contained in this software are
owned by other third parties and used and distributed under their own
licenses, such as open source.  This software is provided "as is," and unless
otherwise stated, there is no warranty, express or implied, including but not
limited to warranties of merchantability and fitness for a particular purpose.
Certain components of this software are licensed under
the GNU General Public License (GPL) version 2.0 or
GNU General Public License (GPL) version 3.0  or the GNU
Lesser General Public License (LGPL) Version 2.1 or
Lesser General Public License (LGPL) Version 2.0.
A copy of each such license is available at
http://www.opensource.org/licenses/gpl-2.0.php and
http://opensource.org/licenses/gpl-3.0.html and
http://www.opensource.org/licenses/lgpl-2.1.php and
http://www.gnu.org/licenses/old-licenses/library.txt."""


class CliError(Exception):
    """A command NX-OS refuses: message, and the column (within the typed line) of the caret or None."""

    def __init__(self, message, column=None):
        super().__init__(message)
        self.message = message
        self.column = column


def nxos_time(ts):
    """NX-OS timestamp: 'Sun Mar  5 14:35:15 2023'."""
    t = time.localtime(ts)
    return "%s %2d %s" % (time.strftime("%a %b", t), t.tm_mday, time.strftime("%H:%M:%S %Y", t))


def serial(hostname, prefix="FDO"):
    digest = hashlib.sha256(hostname.encode()).hexdigest().upper()
    return prefix + str(int(digest[:6], 16) % 10000).zfill(4) + digest[6:10]


# --------------------------------------------------------------------------- config tree

def node(text, key=None, children=None):
    return {"t": text, "k": key or text, "c": children if children is not None else []}


def find_child(parent, key):
    for child in parent["c"]:
        if child["k"] == key:
            return child
    return None


def set_child(parent, key, text):
    """Set the single line identified by key (replacing the previous value in place)."""
    for child in parent["c"]:
        if child["k"] == key:
            child["t"] = text
            return child
    new = node(text, key)
    parent["c"].append(new)
    return new


def del_child(parent, key):
    before = len(parent["c"])
    parent["c"] = [c for c in parent["c"] if c["k"] != key]
    return len(parent["c"]) != before


def if_number(name):
    match = re.match(r"Ethernet(\d+)/(\d+)$", name)
    return (int(match.group(1)), int(match.group(2))) if match else (99, 0)


def default_config(hostname):
    root = node("")
    for port in range(1, PORTS + 1):
        root["c"].append(node("interface Ethernet1/%d" % port))
    return {"hostname": hostname, "root": root}


# --------------------------------------------------------------------------- grammar

class P:
    """A parameter in a command syntax."""

    def __init__(self, kind, lo=None, hi=None):
        self.kind, self.lo, self.hi = kind, lo, hi

    def check(self, tok):
        """Return (canonical value, None) or (None, error-kind)."""
        if self.kind == "word":
            return (tok, None) if re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", tok) else (None, "invalid")
        if self.kind == "int":
            if not tok.isdigit():
                return None, "invalid"
            if not self.lo <= int(tok) <= self.hi:
                return None, "range"
            return str(int(tok)), None
        if self.kind == "intlist":  # 26 | 24-31 | 3,4 | 24-31,48
            if not re.match(r"^\d+(-\d+)?(,\d+(-\d+)?)*$", tok):
                return None, "invalid"
            for part in tok.split(","):
                bounds = [int(x) for x in part.split("-")]
                if any(not self.lo <= b <= self.hi for b in bounds) or bounds != sorted(bounds):
                    return None, "range"
            return tok, None
        if self.kind == "if":
            match = re.match(r"^(?i:e|et|eth|ethe|ether|ethernet)(\d+)/(\d+)$", tok)
            if not match:
                return None, "invalid"
            if match.group(1) != "1" or not 1 <= int(match.group(2)) <= PORTS:
                return None, "ifrange"
            return "Ethernet1/%d" % int(match.group(2)), None
        if self.kind == "ifnum":
            return self.__class__("if").check("ethernet" + tok) if re.match(r"^\d+/\d+$", tok) else (None, "invalid")
        if self.kind == "ipv4pfx":
            match = re.match(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)/(\d+)$", tok)
            if not match or any(int(x) > 255 for x in match.groups()[:4]) or int(match.group(5)) > 32:
                return None, "invalid"
            return tok, None
        if self.kind in ("ipv4", "mask"):
            match = re.match(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$", tok)
            if not match or any(int(x) > 255 for x in match.groups()):
                return None, "invalid"
            if self.kind == "mask":
                bits = "".join("{:08b}".format(int(x)) for x in match.groups())
                if "01" in bits:
                    return None, "invalid"
                return str(bits.count("1")), None
            return tok, None
        if self.kind == "nqclass":
            return (tok, None) if tok in NQ_CLASSES or re.match(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", tok) else (None, "invalid")
        if self.kind == "qclass":
            return (tok, None) if tok in QUEUE_CLASSES else (None, "invalid")
        if self.kind == "feature":
            return (tok, None) if tok in FEATURES else (None, "invalid")
        if self.kind == "line":
            return tok, None
        raise ValueError(self.kind)


class Rule:
    """One command: syntax (literals 'a|b', P params), mode it applies in, handler, no-form minimum length."""

    def __init__(self, syntax, handler, no_min=None, pos=True):
        self.syntax = [s.split("|") if isinstance(s, str) else s for s in syntax]
        self.handler = handler
        self.no_min = no_min  # None: no "no" form; else the number of tokens "no ..." needs at least
        self.pos = pos  # the positive form exists


def tokenize(line):
    """Tokens with their start columns; a quoted string is one token."""
    return [(m.group(0), m.start()) for m in re.finditer(r"'[^']*'|\"[^\"]*\"|\S+", line)]


def match_rules(rules, toks, line, negate):
    """Match tokens against rules; return (rule, values) or raise CliError (with caret column)."""
    alive = [(r, []) for r in rules if (r.no_min is not None if negate else r.pos)]
    fail = None
    for i, (tok, col) in enumerate(toks):
        lits = set()
        for rule, _values in alive:
            if i < len(rule.syntax) and isinstance(rule.syntax[i], list):
                lits.update(rule.syntax[i])
        low = tok.lower()
        exact = low in lits
        prefixed = sorted(lit for lit in lits if lit.startswith(low))
        nxt, errs = [], []
        for rule, values in alive:
            if i >= len(rule.syntax):
                continue
            spec = rule.syntax[i]
            if isinstance(spec, list):
                if low in spec:
                    nxt.append((rule, values + [low]))
                elif not exact and len(prefixed) == 1 and prefixed[0] in spec:
                    nxt.append((rule, values + [prefixed[0]]))
            elif spec.kind == "line":
                nxt.append((rule, values + [line[col:].strip()]))
            else:
                value, err = spec.check(tok)
                if err:
                    errs.append((err, spec))
                else:
                    nxt.append((rule, values + [value]))
        if not nxt:
            if not exact and len(prefixed) > 1:
                fail = CliError(ERR_AMBIGUOUS, col)
            elif any(e == "ifrange" for e, _spec in errs):
                fail = CliError(ERR_RANGE, col + len(tok) - 1)
            elif any(e == "range" for e, _spec in errs):
                spec = [s for e, s in errs if e == "range"][0]
                fail = CliError("%% Invalid number, range is (%d:%d) at '^' marker." % (spec.lo, spec.hi), col)
            else:
                fail = CliError(ERR_INVALID, col)
            break
        alive = nxt
        if any(isinstance(r.syntax[i], P) and r.syntax[i].kind == "line" for r, _values in alive):
            alive = [(r, v) for r, v in alive if isinstance(r.syntax[i], P) and r.syntax[i].kind == "line"]
            break
    if fail:
        raise fail
    for rule, values in alive:
        if negate and len(values) >= rule.no_min:
            return rule, values
        if not negate and len(values) == len(rule.syntax):
            return rule, values
        if len(values) < len(rule.syntax) and isinstance(rule.syntax[len(values)], P) and rule.syntax[len(values)].kind == "line":
            continue
    raise CliError(ERR_INCOMPLETE, len(line.rstrip()))


# --------------------------------------------------------------------------- device

class Device:
    """State of the switch (shared by all sessions) and the command interpreter."""

    def __init__(self, state_dir, hostname):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, "state.json")
        self.lock = threading.RLock()
        self.boot = time.time()
        self.factory_hostname = hostname
        self.generation = 0  # bumped when the running tree is replaced (rollback, reset)
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self.state = json.load(f)
        else:
            cfg = default_config(hostname)
            now = time.time()
            self.state = {"running": cfg, "startup": copy.deepcopy(cfg), "checkpoints": {}, "files": {},
                          "last_change": now, "startup_saved": now, "faults": {"reject": []}}
            self.save()
        self.rules = self.build_rules()

    # ---- persistence
    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    @property
    def running(self):
        return self.state["running"]

    @property
    def hostname(self):
        return self.running["hostname"]

    def changed(self):
        self.state["last_change"] = time.time()
        self.save()

    # ---- grammar
    def build_rules(self):
        word, rest = P("word"), P("line")
        r = {}
        r["exec"] = [
            Rule(["terminal", "length", P("int", 0, 511)], self.x_noop),
            Rule(["terminal", "width", P("int", 24, 511)], self.x_noop),
            Rule(["terminal", "dont-ask"], self.x_noop, no_min=2),
            Rule(["terminal", "session-timeout", P("int", 0, 525600)], self.x_noop),
            Rule(["configure"], self.x_configure),
            Rule(["configure", "terminal"], self.x_configure),
            Rule(["show", "version"], self.x_show_version),
            Rule(["show", "inventory"], self.x_show_inventory),
            Rule(["show", "license", "host-id"], self.x_show_hostid),
            Rule(["show", "privilege"], self.x_show_privilege),
            Rule(["show", "hostname"], self.x_show_hostname),
            Rule(["show", "clock"], self.x_show_clock),
            Rule(["show", "running-config"], self.x_show_run),
            Rule(["show", "running-config", "all"], self.x_show_run),
            Rule(["show", "running-config", "interface", P("if")], self.x_show_run),
            Rule(["show", "running-config", "ipqos"], self.x_show_run),
            Rule(["show", "running-config", "ipqos", "all"], self.x_show_run),
            Rule(["show", "startup-config"], self.x_show_startup),
            Rule(["show", "checkpoint", "summary"], self.x_show_cp_summary),
            Rule(["show", "checkpoint", word], self.x_show_cp),
            Rule(["checkpoint", word], self.x_checkpoint, no_min=2),
            Rule(["checkpoint", "file", word], self.x_checkpoint_file),
            Rule(["clear", "checkpoint", "database"], self.x_clear_cp),
            Rule(["rollback", "running-config", "checkpoint", word], self.x_rollback),
            Rule(["rollback", "running-config", "checkpoint", word, "atomic|best-effort|stop-at-first-failure|verbose"], self.x_rollback),
            Rule(["rollback", "running-config", "file", word], self.x_rollback_file),
            Rule(["rollback", "running-config", "file", word, "atomic|best-effort|stop-at-first-failure|verbose"], self.x_rollback_file),
            Rule(["copy", "running-config", "startup-config"], self.x_copy_rs),
            Rule(["end"], self.x_end),
            Rule(["exit"], self.x_exit),
            Rule(["aifabric-sim", rest], self.x_sim),
        ]
        cm_match = ["match-any|match-all"]
        r["config"] = [
            Rule(["hostname", word], self.c_hostname, no_min=1),
            Rule(["switchname", word], self.c_hostname, no_min=1),
            Rule(["feature", P("feature")], self.c_line, no_min=2),
            Rule(["class-map", "type", "qos", word], self.c_block("cmap-qos", "class-map type qos match-all {3}"), no_min=4),
            Rule(["class-map", "type", "qos"] + cm_match + [word], self.c_block("cmap-qos", "class-map type qos {3} {4}", 4), no_min=5),
            Rule(["class-map", "type", "network-qos", word], self.c_block("cmap-nqos", "class-map type network-qos match-any {3}"), no_min=4),
            Rule(["class-map", "type", "network-qos", "match-any", word], self.c_block("cmap-nqos", "class-map type network-qos match-any {4}", 4),
                 no_min=5),
            Rule(["policy-map", "type", "qos", word], self.c_block("pmap-qos", "policy-map type qos {3}"), no_min=4),
            Rule(["policy-map", "type", "network-qos", word], self.c_block("pmap-nqos", "policy-map type network-qos {3}"), no_min=4),
            Rule(["policy-map", "type", "queuing", word], self.c_block("pmap-que", "policy-map type queuing {3}"), no_min=4),
            Rule(["system", "qos"], self.c_block("sys-qos", "system qos"), no_min=2),
            Rule(["interface", P("if")], self.c_interface, no_min=2),
            Rule(["interface", "ethernet", P("ifnum")], self.c_interface, no_min=3),
            Rule(["priority-flow-control", "watch-dog-interval", "on|off"], self.c_keyed("priority-flow-control watch-dog-interval"), no_min=2),
        ]
        r["cmap-qos"] = [
            Rule(["match", "dscp", P("intlist", 0, 63)], self.c_line, no_min=3),
            Rule(["match", "cos", P("intlist", 0, 7)], self.c_line, no_min=3),
            Rule(["match", "precedence", P("intlist", 0, 7)], self.c_line, no_min=3),
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
        ]
        r["cmap-nqos"] = [
            Rule(["match", "qos-group", P("intlist", 0, 7)], self.c_line, no_min=3),
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
        ]
        qos_class = self.c_policy_class("class ", "qos", ("class-default",), "pmap-c-qos")
        r["pmap-qos"] = [
            Rule(["class", word], qos_class, no_min=2),
            Rule(["class", "type", "qos", word], qos_class, no_min=4),
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
        ]
        r["pmap-c-qos"] = [
            Rule(["set", "qos-group", P("int", 0, 7)], self.c_keyed("set qos-group"), no_min=2),
            Rule(["set", "dscp", P("int", 0, 63)], self.c_keyed("set dscp"), no_min=2),
            Rule(["set", "cos", P("int", 0, 7)], self.c_keyed("set cos"), no_min=2),
        ]
        r["pmap-nqos"] = [
            Rule(["class", "type", "network-qos", P("nqclass")],
                 self.c_policy_class("class type network-qos ", "network-qos", NQ_CLASSES, "pmap-nqos-c"), no_min=4),
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
        ]
        r["pmap-nqos-c"] = [
            Rule(["mtu", P("int", *MTU_RANGE)], self.c_keyed("mtu"), no_min=1),
            Rule(["pause", "pfc-cos", P("intlist", 0, 7)], self.c_keyed("pause"), no_min=1),
            Rule(["congestion-control", "random-detect", "ecn"], self.c_keyed("congestion-control"), no_min=1),
        ]
        r["pmap-que"] = [
            Rule(["class", "type", "queuing", P("qclass")], self.c_block("pmap-c-que", "class type queuing {3}"), no_min=4),
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
        ]
        units = ["packets|bytes|kbytes|mbytes"]
        wred = ["random-detect", "minimum-threshold", P("int", 0, 52000000)] + units + ["maximum-threshold", P("int", 0, 52000000)] + units
        wred_dp = wred + ["drop-probability", P("int", 0, 100), "weight", P("int", 0, 15)]
        r["pmap-c-que"] = [
            Rule(["bandwidth", "remaining", "percent", P("int", 0, 100)], self.c_keyed("bandwidth"), no_min=1),
            Rule(["bandwidth", "percent", P("int", 0, 100)], self.c_keyed("bandwidth"), no_min=1),
            Rule(["priority"], self.c_keyed("priority"), no_min=1),
            Rule(["priority", "level", P("int", 1, 7)], self.c_keyed("priority"), no_min=1),
            Rule(wred, self.c_keyed("random-detect"), no_min=1),
            Rule(wred + ["ecn"], self.c_keyed("random-detect"), no_min=1),
            Rule(wred_dp, self.c_keyed("random-detect"), no_min=1),
            Rule(wred_dp + ["ecn"], self.c_keyed("random-detect"), no_min=1),
            Rule(["random-detect", "threshold", "burst-optimized", "ecn"], self.c_keyed("random-detect"), no_min=1),
        ]
        r["sys-qos"] = [
            Rule(["service-policy", "type", "network-qos", word], self.c_svc_policy("network-qos"), no_min=3),
            Rule(["service-policy", "type", "queuing", "input|output", word], self.c_svc_policy("queuing"), no_min=4),
            Rule(["service-policy", "type", "qos", "input", word], self.c_svc_policy("qos"), no_min=4),
        ]
        r["if"] = [
            Rule(["description", rest], self.c_keyed("description"), no_min=1),
            Rule(["mtu", P("int", *MTU_RANGE)], self.i_mtu, no_min=1),
            Rule(["priority-flow-control", "mode", "on|off|auto"], self.i_pfc_mode, no_min=2),
            Rule(["priority-flow-control", "watch-dog-interval", "on|off"], self.c_keyed("priority-flow-control watch-dog-interval"), no_min=2),
            Rule(["service-policy", "type", "qos", "input", word], self.c_svc_policy("qos"), no_min=4),
            Rule(["service-policy", "type", "queuing", "input|output", word], self.c_svc_policy("queuing"), no_min=4),
            Rule(["shutdown"], self.i_shutdown, no_min=1),
            Rule(["switchport"], self.i_switchport, no_min=1),
            Rule(["ip", "address", P("ipv4pfx")], self.i_ip_address, no_min=2),
            Rule(["ip", "address", P("ipv4"), P("mask")], self.i_ip_address, no_min=2),
        ]
        return r

    # ---- session helpers
    def prompt(self, session):
        return self.hostname + PROMPTS[session.mode_name] + " "

    def execute(self, session, line):
        """Run one typed line; return the text to print (without the prompt)."""
        with self.lock:
            session.line = line
            if session.generation != self.generation:
                self.reanchor(session)
            stripped = line.strip()
            if not stripped or stripped.startswith("!"):
                return ""
            pipes = []
            if "|" in stripped and not stripped.startswith("aifabric-sim"):
                parts = stripped.split("|")
                stripped, pipes = parts[0].rstrip(), [p.strip() for p in parts[1:]]
                line = line[:line.index("|")].rstrip()
            try:
                out = self.dispatch(session, line, pipes)
            except CliError as exc:
                if exc.column is None:
                    return exc.message
                return " " * (len(self.prompt(session)) + exc.column) + "^\n" + exc.message
            return out if out is not None else ""

    def dispatch(self, session, line, pipes):
        toks = tokenize(line)
        negate = toks[0][0].lower() == "no" and len(toks) > 1
        if session.mode_name != "exec":
            for rej in self.state["faults"].get("reject", []):
                if re.search(rej, line.strip()):
                    raise CliError(ERR_INVALID, toks[0][1])
            best = None
            for depth in range(len(session.stack) - 1, 0, -1):
                mode_name = session.stack[depth][0]
                rules = self.rules[mode_name]
                try:
                    rule, values = match_rules(rules, toks[1:] if negate else toks, line, negate)
                except CliError as exc:
                    if best is None or (exc.column or 0) > (best.column or 0):
                        best = exc
                    continue
                if pipes:
                    raise CliError(ERR_INVALID, line.index("|") if "|" in line else len(line))
                del session.stack[depth + 1:]
                return rule.handler(session, values, negate)
            # exec commands are accepted in configuration modes as well
            try:
                rule, values = match_rules(self.rules["exec"], toks[1:] if negate else toks, line, negate)
            except CliError as exc:
                if best is None or (exc.column or 0) >= (best.column or 0):
                    best = exc
                raise best from None
            return self.apply_pipes(rule.handler(session, values, negate), pipes, session, line)
        rule, values = match_rules(self.rules["exec"], toks[1:] if negate else toks, line, negate)
        return self.apply_pipes(rule.handler(session, values, negate), pipes, session, line)

    def apply_pipes(self, out, pipes, session, line):
        del session
        for pipe in pipes:
            toks = pipe.split(None, 1)
            if not toks:
                raise CliError(ERR_INCOMPLETE, len(line) + 2)
            verb = toks[0].lower()
            arg = toks[1].strip() if len(toks) > 1 else None
            if arg and len(arg) > 1 and arg[0] == arg[-1] and arg[0] in "'\"":
                arg = arg[1:-1]
            if verb in ("json", "json-pretty", "no-more"):
                if verb == "no-more":
                    continue
                if not isinstance(out, dict) or "json" not in out:
                    raise CliError(ERR_INVALID, len(line) + 3)
                out = json.dumps(out["json"], indent=4 if verb == "json-pretty" else None)
                continue
            text = out["text"] if isinstance(out, dict) else (out or "")
            if arg is None and verb != "count":
                raise CliError(ERR_INCOMPLETE, len(line) + 3 + len(pipe))
            if verb in ("i", "in", "inc", "incl", "include", "grep"):
                out = "\n".join(ln for ln in text.split("\n") if re.search(arg, ln))
            elif verb in ("ex", "exc", "excl", "exclude"):
                out = "\n".join(ln for ln in text.split("\n") if not re.search(arg, ln))
            elif verb in ("b", "be", "beg", "begin"):
                lines = text.split("\n")
                idx = next((n for n, ln in enumerate(lines) if re.search(arg, ln)), len(lines))
                out = "\n".join(lines[idx:])
            elif verb in ("sec", "section"):
                out = "\n".join(section(text, arg))
            elif verb == "count":
                out = str(len([ln for ln in text.split("\n") if ln]))
            else:
                raise CliError(ERR_INVALID, len(line) + 3)
        if isinstance(out, dict):
            return out["text"]
        return out

    # ---- exec handlers
    def x_noop(self, session, values, negate):
        return ""

    def x_configure(self, session, values, negate):
        session.stack = [("exec", None), ("config", self.running["root"])]
        return "Enter configuration commands, one per line. End with CNTL/Z."

    def x_end(self, session, values, negate):
        session.stack = [("exec", None)]
        return ""

    def x_exit(self, session, values, negate):
        if len(session.stack) > 1:
            session.stack.pop()
        else:
            session.closing = True
        return ""

    def version_json(self):
        up = int(time.time() - self.boot)
        return {
            "header_str": BANNER + "\n", "bios_ver_str": BIOS_VERSION, "kickstart_ver_str": NXOS_VERSION, "nxos_ver_str": NXOS_VERSION,
            "bios_cmpl_time": "04/28/2022", "kick_file_name": "bootflash:///" + NXOS_IMAGE, "nxos_file_name": "bootflash:///" + NXOS_IMAGE,
            "kick_cmpl_time": "11/8/2023 12:00:00", "nxos_cmpl_time": "11/8/2023 12:00:00", "kick_tmstmp": "11/08/2023 21:56:03",
            "nxos_tmstmp": "11/08/2023 21:56:03", "chassis_id": CHASSIS, "cpu_name": "Intel(R) Xeon(R) CPU D-1633N @ 2.50GHz",
            "memory": 32772084, "mem_type": "kB", "proc_board_id": serial(self.hostname), "host_name": self.hostname,
            "bootflash_size": 115805708, "kern_uptm_days": up // 86400, "kern_uptm_hrs": up // 3600 % 24, "kern_uptm_mins": up // 60 % 60,
            "kern_uptm_secs": up % 60, "rr_usecs": 123456, "rr_ctime": nxos_time(self.boot), "rr_reason": "Reset Requested by CLI command reload",
            "rr_sys_ver": NXOS_VERSION, "rr_service": None, "plugins": "Core Plugin, Ethernet Plugin", "manufacturer": "Cisco Systems, Inc.",
        }

    def x_show_version(self, session, values, negate):
        j = self.version_json()
        text = "\n".join([
            BANNER, "", "Software",
            "  BIOS: version " + BIOS_VERSION,
            " NXOS: version %s [Maintenance Release]" % NXOS_VERSION,
            "  BIOS compile time:  " + j["bios_cmpl_time"],
            "  NXOS image file is: " + j["nxos_file_name"],
            "  NXOS compile time:  %s [%s]" % (j["nxos_cmpl_time"], j["nxos_tmstmp"]),
            "", "", "Hardware",
            "  cisco %s " % CHASSIS,
            "  %s with %d kB of memory." % (j["cpu_name"], j["memory"]),
            "  Processor Board ID " + j["proc_board_id"],
            "", "  Device name: " + self.hostname,
            "  bootflash:  %d kB" % j["bootflash_size"],
            "", "Kernel uptime is %d day(s), %d hour(s), %d minute(s), %d second(s)" % (
                j["kern_uptm_days"], j["kern_uptm_hrs"], j["kern_uptm_mins"], j["kern_uptm_secs"]),
            "", "Last reset at %d usecs after %s" % (j["rr_usecs"], j["rr_ctime"]),
            "  Reason: " + j["rr_reason"], "  System version: " + NXOS_VERSION, "  Service: ",
            "", "plugin", "  Core Plugin, Ethernet Plugin", "", "Active Package(s):", "",
        ])
        return {"text": text, "json": j}

    def x_show_inventory(self, session, values, negate):
        sn = serial(self.hostname)
        items = [("Chassis", CHASSIS, PID, sn), ("Slot 1", "64x400G QSFP-DD Ethernet Module", PID, sn),
                 ("Power Supply 1", "Nexus9000 C9364D-GX2A Chassis Power Supply", "NXA-PAC-2KW-PI", serial(self.hostname + "ps1", "ART")),
                 ("Power Supply 2", "Nexus9000 C9364D-GX2A Chassis Power Supply", "NXA-PAC-2KW-PI", serial(self.hostname + "ps2", "ART")),
                 ("Fan 1", "Nexus9000 C9364D-GX2A Chassis Fan Module", "NXA-FAN-160CFM-PI", "N/A"),
                 ("Fan 2", "Nexus9000 C9364D-GX2A Chassis Fan Module", "NXA-FAN-160CFM-PI", "N/A")]
        lines, rows = [], []
        for name, descr, pid, snum in items:
            lines += ['NAME: "%s",  DESCR: "%s"' % (name, descr), "PID: %-20s,  VID: V01  ,  SN: %s" % (pid, snum), ""]
            rows.append({"name": name, "desc": descr, "productid": pid, "vendorid": "V01", "serialnum": snum})
        return {"text": "\n".join(lines), "json": {"TABLE_inv": {"ROW_inv": rows}}}

    def x_show_hostid(self, session, values, negate):
        return "License hostid: VDH=" + serial(self.hostname)

    def x_show_privilege(self, session, values, negate):
        return "User privilege level: 15\nFeature privilege: Disabled"

    def x_show_hostname(self, session, values, negate):
        return self.hostname

    def x_show_clock(self, session, values, negate):
        return time.strftime("%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime())

    def x_show_run(self, session, values, negate):
        args = values[2:]
        cfg = self.running
        every = "all" in args
        if args[:1] == ["interface"]:
            iface = find_child(cfg["root"], "interface " + args[1])
            cmd = "show running-config interface " + args[1]
            return "\n".join(self.config_header(cmd) + [""] + render_block(iface, "if", 0, every) + [""])
        if args[:1] == ["ipqos"]:
            cmd = "show running-config ipqos" + (" all" if every else "")
            return "\n".join(self.config_header(cmd) + [""] + render_ipqos(cfg) + [""])
        cmd = "show running-config" + (" all" if every else "")
        return "\n".join(self.config_header(cmd) + render_config(cfg, every))

    def config_header(self, cmd):
        return ["", "!Command: " + cmd, "!Running configuration last done at: " + nxos_time(self.state["last_change"]),
                "!Time: " + nxos_time(time.time()), "", "version %s Bios:version %s " % (NXOS_VERSION, BIOS_VERSION)]

    def x_show_startup(self, session, values, negate):
        head = ["", "!Command: show startup-config", "!Startup config saved at: " + nxos_time(self.state["startup_saved"]),
                "!Time: " + nxos_time(time.time()), "", "version %s Bios:version %s " % (NXOS_VERSION, BIOS_VERSION)]
        return "\n".join(head + render_config(self.state["startup"], False))

    def x_show_cp_summary(self, session, values, negate):
        lines = ["", "User Checkpoints:", "--------------------------------------"]
        for n, (name, cp) in enumerate(sorted(self.state["checkpoints"].items(), key=lambda kv: kv[1]["created"]), 1):
            size = len("\n".join(render_config(cp["config"], False)))
            lines += ["%d) %s:" % (n, name), "Created by admin", "Created at " + time.strftime("%a, %H:%M:%S %d %b %Y", time.localtime(cp["created"])),
                      "Size is {:,} bytes".format(size), "Description: None", ""]
        return "\n".join(lines)

    def x_show_cp(self, session, values, negate):
        name = values[2]
        cp = self.state["checkpoints"].get(name)
        if cp is None:
            raise CliError("ERROR: Checkpoint %s does not exist" % name)
        return "\n".join(["", "Name: " + name] + render_config(cp["config"], False))

    def x_checkpoint(self, session, values, negate):
        name = values[1] if len(values) > 1 else None
        if negate:
            if name not in self.state["checkpoints"]:
                raise CliError("ERROR: Checkpoint %s does not exist" % name)
            del self.state["checkpoints"][name]
            self.save()
            return ""
        if name in self.state["checkpoints"]:
            raise CliError("ERROR: Checkpoint name is already in use")
        self.state["checkpoints"][name] = {"created": time.time(), "config": copy.deepcopy(self.running)}
        self.save()
        return ".......Done"

    def x_checkpoint_file(self, session, values, negate):
        self.state["files"][values[2]] = {"created": time.time(), "config": copy.deepcopy(self.running)}
        self.save()
        return ".......Done"

    def x_clear_cp(self, session, values, negate):
        self.state["checkpoints"] = {}
        self.save()
        return "Checkpoint Database Cleared Successfully"

    def do_rollback(self, source):
        self.state["running"] = copy.deepcopy(source["config"])
        self.generation += 1
        self.changed()
        return "\n".join(["Note: Applying config parallelly may fail Rollback verification", "Collecting Running-Config",
                          "#Generating Rollback Patch", "Executing Rollback Patch", "#Generating Running-config for verification",
                          "#Generating Patch for verification", "Verification is Successful.", "", "Rollback completed successfully."])

    def x_rollback(self, session, values, negate):
        name = values[3]
        if name not in self.state["checkpoints"]:
            raise CliError("ERROR: Checkpoint %s does not exist" % name)
        out = self.do_rollback(self.state["checkpoints"][name])
        self.reset_session_context(session)
        return out

    def x_rollback_file(self, session, values, negate):
        name = values[3]
        if name not in self.state["files"]:
            raise CliError("ERROR: Rollback file %s does not exist" % name)
        out = self.do_rollback(self.state["files"][name])
        self.reset_session_context(session)
        return out

    def reset_session_context(self, session):
        self.reanchor(session)

    def reanchor(self, session):
        """After the running tree was replaced: follow the session's modes into the new tree (as far as they still exist)."""
        session.generation = self.generation
        if session.mode_name == "exec":
            return
        stack, parent = [("exec", None), ("config", self.running["root"])], self.running["root"]
        for mode_name, blk in session.stack[2:]:
            parent = find_child(parent, blk["k"])
            if parent is None:
                break
            stack.append((mode_name, parent))
        session.stack = stack

    def x_copy_rs(self, session, values, negate):
        self.state["startup"] = copy.deepcopy(self.running)
        self.state["startup_saved"] = time.time()
        self.save()
        return "[########################################] 100%\nCopy complete, now saving to disk (please wait)...\nCopy complete."

    def x_sim(self, session, values, negate):
        """Hidden test hooks (not NX-OS): aifabric-sim show-state | reset | fault reject <regex> | fault clear."""
        args = values[1].split(None, 2)
        if args == ["show-state"]:
            return json.dumps(self.state, indent=1, sort_keys=True)
        if args == ["reset"]:
            cfg = default_config(self.factory_hostname)
            self.state.update({"running": cfg, "startup": copy.deepcopy(cfg), "checkpoints": {}, "files": {}, "faults": {"reject": []}})
            session.stack = [("exec", None)]
            self.generation += 1
            session.generation = self.generation
            self.changed()
            return "aifabric-sim: reset to factory configuration"
        if len(args) == 3 and args[:2] == ["fault", "reject"]:
            self.state["faults"]["reject"].append(args[2])
            self.save()
            return "aifabric-sim: configuration lines matching %r are rejected" % args[2]
        if args == ["fault", "clear"]:
            self.state["faults"] = {"reject": []}
            self.save()
            return "aifabric-sim: faults cleared"
        raise CliError(ERR_INVALID, len("aifabric-sim "))

    # ---- config handlers
    def ctx(self, session):
        return session.stack[-1][1]

    def c_hostname(self, session, values, negate):
        self.running["hostname"] = "switch" if negate else values[1]
        self.changed()
        return ""

    def c_line(self, session, values, negate):
        text = " ".join(values)
        if negate:
            del_child(self.ctx(session), text)
        else:
            set_child(self.ctx(session), text, text)
        self.changed()
        return ""

    def c_keyed(self, key):
        def handler(session, values, negate):
            if negate:
                del_child(self.ctx(session), key)
            else:
                set_child(self.ctx(session), key, " ".join(values))
            self.changed()
            return ""
        return handler

    def c_block(self, mode_name, fmt, name_at=3):
        def handler(session, values, negate):
            parent = self.ctx(session)
            text = fmt.format(*values)
            name = values[name_at] if name_at < len(values) else None
            # a class-map/policy-map is identified by type + name (match-any/all is an attribute)
            key = block_key(text)
            if negate:
                if name is not None and text.startswith("policy-map") and self.policy_in_use(text.split()[2], name):
                    raise CliError("ERROR: Policy-map %s is in use, cannot delete" % name)
                del_child(parent, key)
                self.changed()
                return ""
            blk = find_child(parent, key)
            if blk is None:
                blk = node(text, key)
                parent["c"].append(blk)
                self.changed()
            elif blk["t"] != text:
                blk["t"] = text
                self.changed()
            session.stack.append((mode_name, blk))
            return ""
        return handler

    def c_interface(self, session, values, negate):
        name = values[-1]
        if negate:
            raise CliError(ERR_RANGE, len(session.line.rstrip()) - 1)
        blk = find_child(self.running["root"], "interface " + name)
        session.stack.append(("if", blk))
        return ""

    def c_policy_class(self, prefix, cmap_type, builtin, mode):
        """``class ...`` inside a policy-map: enter (creating) the class block; its class-map
        must exist unless it is one of the system classes ``builtin``."""
        def handler(session, values, negate):
            name = values[-1]
            text = prefix + name
            parent = self.ctx(session)
            if negate:
                del_child(parent, text)
                self.changed()
                return ""
            if name not in builtin and find_child(self.running["root"], "class-map type %s %s" % (cmap_type, name)) is None:
                raise CliError("ERROR: class-map %s does not exist" % name)
            blk = find_child(parent, text)
            if blk is None:
                blk = node(text)
                parent["c"].append(blk)
                self.changed()
            session.stack.append((mode, blk))
            return ""
        return handler

    def c_svc_policy(self, ptype):
        def handler(session, values, negate):
            direction = "" if ptype == "network-qos" else " " + values[3]
            key = "service-policy %s%s" % (ptype, direction)
            name = values[-1]
            if negate:
                del_child(self.ctx(session), key)
                self.changed()
                return ""
            if find_child(self.running["root"], "policy-map type %s %s" % (ptype, name)) is None:
                raise CliError("ERROR: policy-map %s does not exist" % name)
            set_child(self.ctx(session), key, "service-policy type %s%s %s" % (ptype, direction, name))
            self.changed()
            return ""
        return handler

    def policy_in_use(self, ptype, name):
        suffix = " " + name
        for blk in self.running["root"]["c"]:
            if blk["t"] == "system qos" or blk["t"].startswith("interface "):
                for child in blk["c"]:
                    if child["t"].startswith("service-policy type %s " % ptype) and child["t"].endswith(suffix):
                        return True
        return False

    def i_mtu(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            del_child(blk, "mtu")
            self.changed()
            return ""
        mtu = int(values[1])
        if mtu % 2:
            raise CliError("ERROR: %s: MTU must be an even number" % blk["t"].split()[1])
        if find_child(blk, "switchport") is None and mtu not in (DEFAULT_MTU, JUMBO_MTU):
            raise CliError("ERROR: %s: MTU on L2 interfaces can only be set to default or system-jumboMTU" % blk["t"].split()[1])
        if mtu == DEFAULT_MTU:
            del_child(blk, "mtu")
        else:
            set_child(blk, "mtu", "mtu %d" % mtu)
        self.changed()
        return ""

    def i_pfc_mode(self, session, values, negate):
        blk = self.ctx(session)
        if negate or values[2] == "auto":
            del_child(blk, "priority-flow-control mode")
        else:
            set_child(blk, "priority-flow-control mode", "priority-flow-control mode " + values[2])
        self.changed()
        return ""

    def i_shutdown(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            set_child(blk, "shutdown", "no shutdown")
        else:
            del_child(blk, "shutdown")
        self.changed()
        return ""

    def i_switchport(self, session, values, negate):
        blk = self.ctx(session)
        if negate:
            set_child(blk, "switchport", "no switchport")
        elif del_child(blk, "switchport"):
            # back to layer 2: the layer-3 configuration goes, like on the real switch
            del_child(blk, "ip address")
            mtu = find_child(blk, "mtu")
            if mtu is not None and int(mtu["t"].split()[1]) != JUMBO_MTU:
                del_child(blk, "mtu")
        self.changed()
        return ""

    def i_ip_address(self, session, values, negate):
        blk = self.ctx(session)
        if find_child(blk, "switchport") is None:
            raise CliError(ERR_INVALID, 0)
        if negate:
            del_child(blk, "ip address")
        else:
            # NX-OS shows a dotted mask as a prefix length
            set_child(blk, "ip address", "ip address " + values[2] + ("/" + values[3] if len(values) > 3 else ""))
        self.changed()
        return ""


def block_key(text):
    words = text.split()
    if words[0] == "class-map" and len(words) == 5:
        return "class-map type %s %s" % (words[2], words[4])
    return text


# --------------------------------------------------------------------------- rendering

MODE_OF_ROOT_BLOCK = [
    ("class-map type qos ", "cmap-qos", 10), ("class-map type network-qos ", "cmap-nqos", 22), ("policy-map type qos ", "pmap-qos", 20),
    ("policy-map type queuing ", "pmap-que", 21), ("policy-map type network-qos ", "pmap-nqos", 23), ("system qos", "sys-qos", 30),
    ("interface ", "if", 50), ("feature ", "config", 1),
]
CHILD_MODE = {"pmap-qos": "pmap-c-qos", "pmap-nqos": "pmap-nqos-c", "pmap-que": "pmap-c-que"}


def root_mode(text):
    for prefix, mode_name, rank in MODE_OF_ROOT_BLOCK:
        if text.startswith(prefix):
            return mode_name, rank
    return "config", 35


def ordered(children, mode_name):
    order = LINE_ORDER.get(mode_name)
    if not order:
        return list(children)
    return sorted(children, key=lambda c: order.index(c["k"]) if c["k"] in order else len(order))


def render_block(blk, mode_name, depth, every=False):
    pad = "  " * depth
    lines = [pad + blk["t"]]
    children = ordered(blk["c"], mode_name)
    if every and mode_name == "if":
        keys = [c["k"] for c in children]
        extra = []
        if "switchport" not in keys:
            extra.append(node("switchport"))
        if "mtu" not in keys:
            extra.append(node("mtu %d" % DEFAULT_MTU, "mtu"))
        if "priority-flow-control mode" not in keys:
            extra.append(node("priority-flow-control mode auto", "priority-flow-control mode"))
        if "shutdown" not in keys:
            extra.append(node("shutdown", "shutdown"))
        children = ordered(children + extra, "if")
    for child in children:
        if child["c"] or mode_name in CHILD_MODE:
            lines += render_block(child, CHILD_MODE.get(mode_name, mode_name), depth + 1, every)
        else:
            lines.append(pad + "  " + child["t"])
    return lines


def render_config(cfg, every):
    host = cfg["hostname"]
    out = ["hostname " + host, "vdc %s id 1" % host,
           "  limit-resource vlan minimum 16 maximum 4094", "  limit-resource vrf minimum 2 maximum 4096",
           "  limit-resource port-channel minimum 0 maximum 511", "  limit-resource m4route-mem minimum 58 maximum 58",
           "  limit-resource m6route-mem minimum 8 maximum 8", ""]

    def sort_key(item):
        index, blk = item
        return root_mode(blk["t"])[1], if_number(blk["t"].split()[-1]) if blk["t"].startswith("interface ") else (0, index)

    blocks = [blk for _index, blk in sorted(enumerate(cfg["root"]["c"]), key=sort_key)]
    features = [b for b in blocks if root_mode(b["t"])[1] == 1]
    out += [b["t"] for b in features] + ([""] if features else [])
    out += ["username admin password 5 $5$SIMLAB$3vKqf0Gm0YV9b3bq1fHk1vS5Zx8oVfP6tYtW6n0l4c3  role network-admin",
            "ip domain-lookup", "copp profile strict"]
    if every:
        out += ["system default switchport", "system default switchport shutdown"]
    out += ["rmon event %d description %s(%d) owner PMON@%s" % (n, lvl, n, own)
            for n, lvl, own in [(1, "FATAL", "FATAL"), (2, "CRITICAL", "CRITICAL"), (3, "ERROR", "ERROR"), (4, "WARNING", "WARNING"),
                                (5, "INFORMATION", "INFO")]]
    ifaces = []
    for blk in blocks:
        mode_name, rank = root_mode(blk["t"])
        if rank == 1:
            continue
        if mode_name == "if":
            ifaces.append(blk)
        elif blk["c"] or mode_name != "config":
            out += render_block(blk, mode_name, 0, every)
        else:
            out.append(blk["t"])
    out += ["", "vlan 1", "", "vrf context management", ""]
    for blk in ifaces:
        out += render_block(blk, "if", 0, every) + [""]
    out += ["interface mgmt0", "  vrf member management", "line console", "line vty", "boot nxos bootflash:/" + NXOS_IMAGE, ""]
    return out


def render_ipqos(cfg):
    out = []
    for blk in cfg["root"]["c"]:
        mode_name, rank = root_mode(blk["t"])
        if 10 <= rank <= 30:
            out += render_block(blk, mode_name, 0)
    for blk in sorted((b for b in cfg["root"]["c"] if b["t"].startswith("interface ")), key=lambda b: if_number(b["t"].split()[1])):
        qos = [c for c in blk["c"] if c["t"].startswith(("service-policy", "priority-flow-control"))]
        if qos:
            out += [""] + render_block(dict(blk, c=qos), "if", 0)
    return out


def section(text, regex):
    """NX-OS '| section REGEX': matching lines plus the lines indented under them."""
    out, inside = [], None
    for line in text.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if inside is not None and indent > inside:
            out.append(line)
            continue
        inside = None
        if re.search(regex, line):
            out.append(line)
            inside = indent
    return out


# --------------------------------------------------------------------------- SSH front end

class Session:
    def __init__(self):
        self.stack = [("exec", None)]
        self.closing = False
        self.line = ""
        self.generation = 0

    @property
    def mode_name(self):
        return self.stack[-1][0]


def to_wire(text):
    if isinstance(text, list):
        text = "\n".join(text)
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def run_shell(device, chan):
    session = Session()
    session.generation = device.generation
    chan.sendall(to_wire(BANNER + "\n" + device.prompt(session)))
    buf, skip_lf = "", False
    while not session.closing:
        data = chan.recv(4096)
        if not data:
            break
        echo = ""
        for ch in data.decode("utf-8", "replace"):
            if ch == "\n" and skip_lf:
                skip_lf = False
                continue
            skip_lf = ch == "\r"
            if ch in "\r\n":
                out = device.execute(session, buf)
                echo += "\r\n" + (to_wire(out) + "\r\n" if out else "")
                buf = ""
                if session.closing:
                    break
                echo += device.prompt(session)
            elif ch in "\x7f\x08":
                if buf:
                    buf = buf[:-1]
                    echo += "\x08 \x08"
            elif ch == "\x03":
                buf = ""
                echo += "\r\n" + device.prompt(session)
            elif ch == "\x1a":
                buf = ""
                session.stack = [("exec", None)]
                echo += "\r\n" + device.prompt(session)
            elif ch >= " " or ch == "\t":
                buf += ch
                echo += ch
        if echo:
            chan.sendall(echo)
    try:
        chan.send_exit_status(0)
        chan.close()
    except (OSError, EOFError, paramiko.SSHException):
        pass


def run_exec(device, chan, command):
    session = Session()
    session.generation = device.generation
    out = ""
    for line in command.replace(";", "\n").split("\n"):
        if line.strip():
            out += device.execute(session, line) + "\n"
    try:
        chan.sendall(to_wire(out))
        chan.send_exit_status(0)
        chan.close()
    except (OSError, EOFError, paramiko.SSHException):
        pass


def load_authorized_keys(path):
    keys = set()
    if not path:
        return keys
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            for i, part in enumerate(parts[:-1]):
                if part.startswith(("ssh-", "ecdsa-")):
                    keys.add((part, parts[i + 1]))
                    break
    return keys


class Server(paramiko.ServerInterface):
    def __init__(self, opts):
        self.opts = opts
        self.kinds = {}
        self.events = {}
        self.interactive_user = None

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            self.events[chanid] = threading.Event()
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def get_allowed_auths(self, username):
        auths = []
        if self.opts.password is not None:
            auths += ["password", "keyboard-interactive"]
        if self.opts.authorized_keys:
            auths.append("publickey")
        return ",".join(auths)

    def check_auth_password(self, username, password):
        if self.opts.password is not None and username == self.opts.username and password == self.opts.password:
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_interactive(self, username, submethods):
        if self.opts.password is None:
            return paramiko.AUTH_FAILED
        self.interactive_user = username
        return paramiko.InteractiveQuery("", "", ("Password: ", False))

    def check_auth_interactive_response(self, responses):
        return self.check_auth_password(self.interactive_user, responses[0] if len(responses) == 1 else None)

    def check_auth_publickey(self, username, key):
        if username == self.opts.username and (key.get_name(), key.get_base64()) in load_authorized_keys(self.opts.authorized_keys):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_pty_request(self, channel, term, width, height, pixelwidth, pixelheight, modes):
        return True

    def check_channel_window_change_request(self, channel, width, height, pixelwidth, pixelheight):
        return True

    def check_channel_shell_request(self, channel):
        self.kinds[channel.get_id()] = ("shell", None)
        self.events[channel.get_id()].set()
        return True

    def check_channel_exec_request(self, channel, command):
        self.kinds[channel.get_id()] = ("exec", command.decode("utf-8", "replace") if isinstance(command, bytes) else command)
        self.events[channel.get_id()].set()
        return True


def handle_connection(device, host_key, opts, sock):
    transport = paramiko.Transport(sock)
    transport.add_server_key(host_key)
    transport.local_version = "SSH-2.0-OpenSSH_8.3"
    server = Server(opts)
    try:
        transport.start_server(server=server)
    except (paramiko.SSHException, EOFError, OSError):
        return
    while transport.is_active():
        chan = transport.accept(1)
        if chan is None:
            continue
        event = server.events.get(chan.get_id())
        if event is None or not event.wait(15):
            chan.close()
            continue
        time.sleep(0.05)
        kind, command = server.kinds[chan.get_id()]
        target = run_shell if kind == "shell" else run_exec
        args = (device, chan) if kind == "shell" else (device, chan, command)
        threading.Thread(target=target, args=args, daemon=True).start()


def host_key_for(state_dir):
    path = os.path.join(state_dir, "ssh_host_rsa_key")
    if not os.path.exists(path):
        key = paramiko.RSAKey.generate(2048)
        key.write_private_key_file(path)
    return paramiko.RSAKey(filename=path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="aifabric lab: simulated Cisco Nexus 9000 (NX-OS) switch over SSH (test double)")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2222)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--hostname", default="switch", help="host name of a fresh switch (an existing state dir keeps its own)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password")
    parser.add_argument("--authorized-keys")
    opts = parser.parse_args(argv)
    if opts.password is None and not opts.authorized_keys:
        parser.error("give --password and/or --authorized-keys")
    os.makedirs(opts.state_dir, exist_ok=True)
    device = Device(opts.state_dir, opts.hostname)
    host_key = host_key_for(opts.state_dir)
    family = socket.AF_INET6 if ":" in opts.listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((opts.listen, opts.port))
    sock.listen(16)
    print("nxos_sim: %s listening on %s:%d (state %s)" % (device.hostname, opts.listen, sock.getsockname()[1], opts.state_dir), flush=True)
    try:
        while True:
            conn, _addr = sock.accept()
            threading.Thread(target=handle_connection, args=(device, host_key, opts, conn), daemon=True).start()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
