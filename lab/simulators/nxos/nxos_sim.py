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
import json
import os
import re
import socket
import sys
import threading
import time

import paramiko

from nxos_cli import (
    BANNER, CliError, ERR_INCOMPLETE, ERR_INVALID, MTU_RANGE, NQ_CLASSES, P, PROMPTS, Rule, default_config,
    find_child, match_rules, section, tokenize)
from nxos_checkpoints import CheckpointCommands
from nxos_configure import ConfigCommands
from nxos_show import ShowCommands


class Device(ShowCommands, CheckpointCommands, ConfigCommands):
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
