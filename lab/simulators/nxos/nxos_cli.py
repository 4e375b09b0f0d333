"""aifabric lab TEST DOUBLE of a Cisco Nexus 9000 switch: the CLI's constants, errors, grammar
(tokens, parameter kinds, rules), the configuration tree and its rendering as running-config.
Test-side only; the switch is nxos_sim.py (lab/simulators/README.md, "Cisco NX-OS switch")."""

import hashlib
import re
import time

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


# --------------------------------------------------------------------------- the configuration tree, rendered

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
