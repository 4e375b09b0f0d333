"""aifabric lab test double of the Lustre 2.15.6 client tools: lnetctl, lctl, lfs, mount.lustre,
and the lab's fault control aifabric-sim-lustre. Test-side only; see lab/simulators/README.md
("Lustre"). Python 3 standard library only; run as `python3 lustre_client.py --tool NAME ARGS`.

Output formats, errors and exit codes follow lustre-release v2_15_6 (lnet/utils/lnetctl.c,
lnetconfig/liblnetconfig.c, lustre/utils/{lustre_cfg,lfs,liblustreapi,mount_lustre}.c).
State: the kernel's (LNet and the mounts), /run/aifabric-sim/lustre/{lnet,mounts}.json, gone at a
reboot as the kernel's is; the lab's fault switches, /var/lib/aifabric-sim/lustre/faults.json, kept
(AIFABRIC_SIM_ROOT prefixes both, and then a simulated /proc/self/mountinfo under it replaces the kernel's).
"""
import errno
import getopt
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

from sim_common import JsonState  # package aifabric-sim-common

VERSION = "2.15.6"
ROOT = os.environ.get("AIFABRIC_SIM_ROOT", "")  # test-side path prefix (controller tests)
STATE_DIR = ROOT + "/var/lib/aifabric-sim/lustre"  # the lab's fault switches: survive a reboot
KERNEL_STATE_DIR = ROOT + "/run/aifabric-sim/lustre"  # what the kernel holds (LNet, mounts): a reboot clears it
KEPT = ("faults.json",)
MOUNTINFO = ROOT + "/proc/self/mountinfo" if ROOT else "/proc/self/mountinfo"
PORT = int(os.environ.get("AIFABRIC_SIM_LUSTRE_PORT", "988"))  # test-side: the server double's port
KMOD_TOOL = "/usr/lib/aifabric-sim/lustre_kmod.py"  # package lustre-client-modules-dkms
OTHER_KERNEL = "6.1.0-0.deb12.99-amd64"
FAULTS = ("ost-disconn", "health-not-healthy", "lnet-down", "hung", "kmod-mismatch")
# tmpfs accepts these generic options; every Lustre-only one (flock, _netdev, x-*, ...) is dropped
TMPFS_OPTS = {"ro", "rw", "noatime", "atime", "relatime", "norelatime", "strictatime", "nodiratime",
              "diratime", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "sync", "async",
              "lazytime", "nolazytime"}


# ---------------------------------------------------------------------------
# state

class State(JsonState):
    """One JSON file of STATE_DIR (faults) or KERNEL_STATE_DIR (the rest), read-modify-write
    (aifabric-sim-common's JsonState)."""

    def __init__(self, name, default):
        directory = STATE_DIR if name in KEPT else KERNEL_STATE_DIR
        JsonState.__init__(self, os.path.join(directory, name), lambda: json.loads(json.dumps(default)), write=True, indent=2)


def load(name, default):
    with State(name, default) as st:
        return st.data


def faults():
    return load("faults.json", {})


def hang_if_hung():
    if "hung" in faults():
        while True:  # a Lustre call stuck on a dead server; the caller's timeout kills it
            time.sleep(3600)


def err(text):
    sys.stderr.write(text)


# ---------------------------------------------------------------------------
# the host's network (real: ip -j addr, /sys/class/net; AIFABRIC_SIM_NETDEV_* in controller tests)

def netdev(name):
    """{ipv4, up} of an interface, None when it does not exist."""
    if "AIFABRIC_SIM_NETDEV_IPV4" in os.environ:
        return {"ipv4": os.environ["AIFABRIC_SIM_NETDEV_IPV4"] or None,
                "up": os.environ.get("AIFABRIC_SIM_NETDEV_OPERSTATE", "up").lower() == "up"}
    res = subprocess.run(["ip", "-j", "addr", "show", "dev", name], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return None
    try:
        info = json.loads(res.stdout)[0]
    except (ValueError, IndexError):
        return None
    ipv4 = [a["local"] for a in info.get("addr_info", []) if a.get("family") == "inet"]
    try:
        with open("/sys/class/net/%s/operstate" % name) as f:
            operstate = f.read().strip()
    except OSError:
        operstate = str(info.get("operstate", "")).lower()
    return {"ipv4": ipv4[0] if ipv4 else None, "up": operstate == "up"}


def norm_net(net):
    """tcp0 -> tcp, o2ib0 -> o2ib (libcfs_net2str)."""
    net = net.strip().lower()
    return net[:-1] if net.endswith("0") and len(net) > 1 and not net[-2].isdigit() else net


def lnet_state():
    return load("lnet.json", {"configured": False, "nis": [], "msgs": 0})


def lnet_up():
    return lnet_state()["configured"] and "lnet-down" not in faults() and "kmod-mismatch" not in faults()


def bump_msgs():
    with State("lnet.json", {"configured": False, "nis": [], "msgs": 0}) as st:
        st.data["msgs"] = st.data.get("msgs", 0) + 1


def tcp_reach(ip, timeout, payload=None):
    """A real TCP connection to ip:PORT (the server double); the reply line when payload is sent."""
    try:
        with socket.create_connection((ip, PORT), timeout=timeout) as s:
            if payload is None:
                return True
            s.settimeout(timeout)
            s.sendall((json.dumps(payload) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data) if data else None
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------
# lnetctl (cYAML layout of 2.15: 4-space block indentation, errors on stderr)

def yaml_error(cmd, entity, rc, descr):
    return "%s:\n    - %s:\n          errno: %d\n          descr: %s\n" % (cmd, entity, rc, descr)


def enetdown(cmd, entity, what):
    return yaml_error(cmd, entity, -errno.ENETDOWN, '"%s: Network is down"' % what)


def no_dev():
    if "kmod-mismatch" in faults():
        err("opening /dev/lnet failed: No such file or directory\nhint: the kernel modules may not be loaded\n")
        return True
    return False


def ni_block(nid, status, ifname, detail, lo=False, msgs=0):
    out = ["        - nid: %s\n" % nid, "          status: %s\n" % status]
    if ifname:
        out.append("          interfaces:\n              0: %s\n" % ifname)
    if detail:
        out.append("          statistics:\n              send_count: %d\n              recv_count: %d\n"
                   "              drop_count: 0\n" % (msgs, msgs))
        if detail >= 2:
            for name in ("sent_stats", "received_stats", "dropped_stats"):
                count = 0 if name == "dropped_stats" else msgs
                out.append("          %s:\n              put: %d\n              get: 0\n              reply: 0\n"
                           "              ack: 0\n              hello: 0\n" % (name, count))
            health = 0 if lo else (1000 if status == "up" else 0)
            out.append("          health stats:\n              fatal_error: %d\n              health value: %d\n"
                       "              interrupts: 0\n              dropped: 0\n              aborted: 0\n"
                       "              no route: 0\n              timeouts: 0\n              error: 0\n"
                       "              ping_count: 0\n              next_ping: 0\n"
                       % (0 if lo or status == "up" else 1, health))
        if lo:
            out.append("          tunables:\n              peer_timeout: 0\n              peer_credits: 0\n"
                       "              peer_buffer_credits: 0\n              credits: 0\n          dev cpt: 0\n")
        else:
            out.append("          tunables:\n              peer_timeout: 180\n              peer_credits: 8\n"
                       "              peer_buffer_credits: 0\n              credits: 256\n"
                       "          lnd tunables:\n              conns_per_peer: 1\n          dev cpt: -1\n")
        out.append('          CPT: "[0]"\n')
    return "".join(out)


def net_show(args):
    """lnetctl net show [--net NET] [-v [LEVEL] | --verbose[=LEVEL]] (-v takes the next word if numeric)."""
    net_filter, detail, i = None, 0, 0
    while i < len(args):
        word = args[i]
        if word in ("-n", "--net") and i + 1 < len(args):
            net_filter, i = norm_net(args[i + 1]), i + 1
        elif word.startswith("--net="):
            net_filter = norm_net(word[6:])
        elif word in ("-v", "--verbose"):
            detail = 1
            if i + 1 < len(args) and args[i + 1].isdigit():
                detail, i = int(args[i + 1]), i + 1
        elif word.startswith("--verbose="):
            detail = int(word[10:]) if word[10:].isdigit() else 1
        else:
            return 0  # getopt's '?': the real tool prints the help and returns 0
        i += 1
    if no_dev():
        return 0
    if not lnet_up():
        err(enetdown("show", "net", "cannot get networks"))
        return 256 - errno.ENETDOWN
    st = lnet_state()
    nets = [("lo", [ni_block("0@lo", "up", None, detail, lo=True)])]
    for ni in st["nis"]:
        dev = netdev(ni["interface"])
        block = ni_block(ni["nid"], "up" if dev and dev["up"] else "down", ni["interface"], detail,
                         msgs=st.get("msgs", 0))
        for name, blocks in nets:
            if name == ni["net"]:
                blocks.append(block)
                break
        else:
            nets.append((ni["net"], [block]))
    nets = [(n, b) for n, b in nets if net_filter in (None, n)]
    if not nets:
        return 0
    out = ["net:\n"]
    for name, blocks in nets:
        out.append("    - net type: %s\n      local NI(s):\n" % name)
        out.extend(blocks)
    sys.stdout.write("".join(out))
    return 0


def add_ni(net, ifname):
    """(rc, stderr text) of adding an NI on net over interface ifname (several per net: Multi-Rail)."""
    if not lnet_state()["configured"] or "lnet-down" in faults():
        return 256 - errno.ENETDOWN, enetdown("add", "net", "cannot add network")
    net = norm_net(net)
    dev = netdev(ifname)
    if dev is None or not dev["ipv4"]:
        return 256 - errno.ENODEV, yaml_error("add", "net", -errno.ENODEV, '"cannot add network: No such device"')
    with State("lnet.json", {"configured": False, "nis": [], "msgs": 0}) as st:
        if any(ni["net"] == net and ni["interface"] == ifname for ni in st.data["nis"]):
            return 256 - errno.EEXIST, yaml_error("add", "net", -errno.EEXIST, '"cannot add network: File exists"')
        st.data["nis"].append({"net": net, "interface": ifname, "nid": "%s@%s" % (dev["ipv4"], net)})
    return 0, ""


def parse_lnet_conf(text):
    """[(net, [interfaces])] of the net section of a DLC YAML file (lnetctl export layout)."""
    nets = []
    in_ifaces = None
    for line in text.splitlines():
        m = re.match(r"^\s*-?\s*net type:\s*(\S+)", line)
        if m:
            nets.append((m.group(1), []))
            in_ifaces = None
            continue
        m = re.match(r"^(\s*)-?\s*interfaces:\s*(\{(.*)\})?\s*$", line)
        if m and nets:
            if m.group(2):
                nets[-1][1].extend(v.split(":", 1)[1].strip() for v in m.group(3).split(",") if ":" in v)
            else:
                in_ifaces = len(m.group(1))
            continue
        m = re.match(r"^(\s*)\d+:\s*(\S+)\s*$", line)
        if m and in_ifaces is not None and len(m.group(1)) > in_ifaces and nets:
            nets[-1][1].append(m.group(2))
            continue
        if line.strip():
            in_ifaces = None
    return nets


def lnetctl(argv):
    if not argv:
        err("lnetctl: the lab's double has no interactive mode\n")
        return 255
    cmd, args = argv[0], argv[1:]
    sub = args[0] if args else ""
    if cmd == "lnet" and sub in ("configure", "unconfigure"):
        if no_dev():
            return 256 - errno.ENOENT
        with State("lnet.json", {"configured": False, "nis": [], "msgs": 0}) as st:
            st.data["configured"] = sub == "configure"
            if sub == "unconfigure":
                st.data["nis"] = []
        return 0
    if cmd == "net" and sub == "show":
        return net_show(args[1:])
    if cmd == "net" and sub == "add":
        try:
            opts, dummy = getopt.gnu_getopt(args[1:], "n:i:", ["net=", "if="])
        except getopt.GetoptError as exc:
            err("add: %s\n" % exc)
            return 255
        opts = dict(opts)
        net, ifname = opts.get("--net", opts.get("-n")), opts.get("--if", opts.get("-i"))
        if no_dev():
            return 256 - errno.ENOENT
        rc, text = add_ni(net or "tcp", (ifname or "").split(",")[0])
        err(text)
        return rc
    if cmd == "net" and sub == "del":
        opts = dict(getopt.gnu_getopt(args[1:], "n:", ["net="])[0])
        net = norm_net(opts.get("--net", opts.get("-n", "")))
        with State("lnet.json", {"configured": False, "nis": [], "msgs": 0}) as st:
            st.data["nis"] = [ni for ni in st.data["nis"] if ni["net"] != net]
        return 0
    if cmd == "import":
        path = args[0] if args else "/dev/stdin"
        try:
            with open(path) as f:
                text = f.read()
        except OSError as exc:
            err(yaml_error("yaml", "builder", -1, '"Failed to open file: %s: %s"' % (path, exc.strerror)))
            return 255
        if no_dev():
            return 256 - errno.ENOENT
        rc, errors = 0, []
        for net, ifaces in parse_lnet_conf(text):
            for ifname in ifaces or [""]:
                rc2, text2 = add_ni(net, ifname)
                errors.append(text2[len("add:\n"):])
                rc = rc or rc2
        if rc:
            err("add:\n" + "".join(errors))  # cYAML_build_error adds to one "add" sequence
        return rc
    if cmd == "export":
        if no_dev():
            return 0
        out = ["net:\n"]
        if lnet_up():
            for ni in lnet_state()["nis"]:
                out.append("    - net type: %s\n      local NI(s):\n        - interfaces:\n              0: %s\n"
                           "          tunables:\n              peer_timeout: 180\n              peer_credits: 8\n"
                           "              peer_buffer_credits: 0\n              credits: 256\n"
                           "          lnd tunables:\n              conns_per_peer: 1\n" % (ni["net"], ni["interface"]))
        files = [a for a in args if not a.startswith("-")]
        if files:
            with open(files[0], "w") as f:
                f.write("".join(out))
        else:
            sys.stdout.write("".join(out))
        return 0
    if cmd == "ping":
        return ping(args)
    err("lnetctl: the lab's double does not simulate %r\n" % " ".join(argv))
    return 255


def ping(args):
    try:
        opts, nids = getopt.gnu_getopt(args, "hs:t:", ["help", "timeout=", "source="])
    except getopt.GetoptError:
        return 0
    timeout = 1.0  # jt_ping: 1000 ms
    for opt, val in opts:
        if opt in ("-t", "--timeout"):
            timeout = max(float(val), 0.1)
    if no_dev():
        return 256 - errno.ENOENT
    ok, errors = [], []
    up = lnet_up()
    nets = set(ni["net"] for ni in lnet_state()["nis"])
    for nid in ",".join(nids).split(","):
        if not nid:
            continue
        ip, dummy, net = nid.partition("@")
        net = norm_net(net or "tcp")
        nid = "%s@%s" % (ip, net)
        if not up:
            reason = "Network is down"
        elif net in nets and tcp_reach(ip, timeout):
            ok.append(nid)
            bump_msgs()
            continue
        else:
            reason = "Input/output error"
        errors.append(nid + ": " + reason)
    if ok:
        sys.stdout.write("ping:\n" + "".join(
            "    - primary nid: %s\n      Multi-Rail: True\n      peer ni:\n        - nid: %s\n" % (n, n) for n in ok))
    if errors:
        err("manage:\n" + "".join("    - ping:\n          errno: -1\n          descr: failed to ping %s\n"
                                  "                 \n" % e for e in errors))
        return 255  # LUSTRE_CFG_RC_BAD_PARAM (-1)
    return 0


# ---------------------------------------------------------------------------
# mounts

def unescape(field):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def kernel_mounts():
    """[(source, mount point)] of the mount table."""
    out = []
    try:
        with open(MOUNTINFO) as f:
            for line in f:
                left, dummy, right = line.partition(" - ")
                fields, rfields = left.split(), right.split()
                if len(fields) >= 5 and len(rfields) >= 2:
                    out.append((unescape(rfields[1]), unescape(fields[4])))
    except OSError:
        pass
    return out


def active_mounts():
    """The Lustre mounts the kernel still shows (mounts.json pruned of the others), in mount order."""
    table = kernel_mounts()
    with State("mounts.json", {"mounts": []}) as st:
        st.data["mounts"] = [m for m in st.data["mounts"] if (m["device"], m["mountpoint"]) in table]
        return st.data["mounts"]


def devices(mount):
    """[(type, device name, target)] of a mount: osc, mdc."""
    out = []
    for t in mount["targets"]:
        kind = "osc" if t["kind"] == "OST" else "mdc"
        out.append((kind, "%s-%s-%s" % (t["name"], kind, mount["instance"]), t["name"]))
    return out


def state_text(mount, target):
    t0 = int(mount["mounted_at"])
    hist = [(t0, "CONNECTING"), (t0, "FULL")]
    since = faults().get("ost-disconn", {}).get(target)
    if since is not None:
        since = max(int(since), t0)
        hist += [(since, "DISCONN"), (since, "CONNECTING"), (since + 5, "DISCONN")]
    return "current_state: %s\nstate_history:\n%s" % (
        hist[-1][1], "".join(" - [ %d, %s ]\n" % h for h in hist))


# ---------------------------------------------------------------------------
# lctl

def lctl_params():
    """[(name, value)] of the simulated parameter tree (lctl names, values with their newline)."""
    mounts = active_mounts()
    params = [("health_check", "NOT HEALTHY\n" if "health-not-healthy" in faults() else "healthy\n"),
              ("version", VERSION + "\n")]
    for m in mounts:
        for kind, dev, target in devices(m):
            params.append(("%s.%s.state" % (kind, dev), state_text(m, target)))
            params.append(("%s.%s.uuid" % (kind, dev), "%s-%s_UUID\n" % (m["fsname"], m["instance"])))
        params.append(("llite.%s-%s.uuid" % (m["fsname"], m["instance"]), "%s-clilmv_UUID\n" % m["fsname"]))
    return sorted(params)


def glob_match(pattern, name):
    import fnmatch  # pylint: disable=import-outside-toplevel
    pp, np_ = pattern.split("."), name.split(".")
    return len(pp) == len(np_) and all(fnmatch.fnmatchcase(n, p) for p, n in zip(pp, np_))


def lctl(argv):
    if not argv:
        err("lctl: the lab's double has no interactive mode\n")
        return 1
    cmd, args = argv[0], argv[1:]
    if cmd == "get_param":
        try:
            opts, patterns = getopt.getopt(args, "FnNRr", [])
        except getopt.GetoptError as exc:
            err("get_param: %s\n" % exc)
            return 22
        flags = "".join(o[1:] for o, dummy in opts)
        if not patterns:
            err("get_param: no parameter given\n")
            return 22
        hang_if_hung()
        params, rc = lctl_params(), 0
        for pattern in patterns:
            pattern = pattern.replace("/", ".")
            hits = [(n, v) for n, v in params if glob_match(pattern, n)]
            if not hits:
                err("error: get_param: param_path '%s': No such file or directory\n" % pattern.replace(".", "/"))
                rc = rc or errno.ENOENT
            for name, value in hits:
                if "N" in flags:
                    print(name)
                elif "n" in flags:
                    sys.stdout.write(value)
                else:
                    longbuf = "\n" in value[:-1] or len(value) + 1 + len(name) >= 80
                    sys.stdout.write("%s=%s%s" % (name, "\n" if longbuf else "", value))
        return rc
    if cmd == "list_nids":
        if not lnet_up():
            err("IOC_LIBCFS_GET_NI error 100: Network is down\n")
            return 1
        for ni in lnet_state()["nis"]:
            print(ni["nid"])
        return 0
    if cmd in ("--version", "version"):
        print("lctl %s" % VERSION)
        return 0
    err("lctl: the lab's double does not simulate %r\n" % " ".join(argv))
    return 1


# ---------------------------------------------------------------------------
# lfs

def cook(kb, human):
    if not human:
        return "%d" % kb
    value, i = float(kb * 1024), 0
    while value > 1024:
        value /= 1024
        i += 1
    return "%8.1f%c" % (value, "KMGTPEZY"[i - 1]) if i else "%d" % (kb * 1024)


def ratio(used, avail):
    r = used / float(used + avail) * 100 if used + avail else 0
    return int(r) + 1 if r - int(r) > 0 else int(r)


def df_row(uuid, total, used, avail, mount, kind, index, human):
    return "%-20s %11s %11s %11s %4s %s[%s:%d]\n" % (
        uuid, cook(total, human), cook(used, human), cook(avail, human), "%3d%%" % ratio(used, avail),
        mount, kind, index)


def mntdf(m, human):
    disconn = faults().get("ost-disconn", {})
    out = ["%-20s %11s %11s %11s %4s %s\n" % (
        "UUID", "bytes" if human else "1K-blocks", "Used", "Available", "Use%", "Mounted on")]
    rc, total, used, avail = 0, 0, 0, 0
    for kind in ("MDT", "OST"):
        if kind == "OST":
            total = used = avail = 0  # the summary counts OSTs only when there are some
        for t in [t for t in m["targets"] if t["kind"] == kind]:
            uuid = t["name"] + "_UUID"
            if t["name"] in disconn:
                out.append("%-20s: %s\n" % (uuid, "Input/output error"))
                rc = rc or errno.EIO
                continue
            out.append(df_row(uuid, t["kbytes"], t["used"], t["avail"], m["mountpoint"], kind, t["index"], human))
            total, used, avail = total + t["kbytes"], used + t["used"], avail + t["avail"]
    out.append("\n%-20s %11s %11s %11s %4s %s\n\n" % ("filesystem_summary:", cook(total, human), cook(used, human),
                                                      cook(avail, human), "%3d%%" % ratio(used, avail),
                                                      m["mountpoint"]))
    sys.stdout.write("".join(out))
    return rc


def lfs(argv):
    if not argv:
        err("lfs: the lab's double has no interactive mode\n")
        return 1
    cmd, args = argv[0], argv[1:]
    if cmd == "df":
        try:
            opts, paths = getopt.gnu_getopt(args, "hHilp:vS", ["human-readable", "inodes", "lazy", "verbose"])
        except getopt.GetoptError as exc:
            err("lfs df: %s\n" % exc)
            return 22
        human = any(o in ("-h", "--human-readable") for o, dummy in opts)
        hang_if_hung()
        mounts = active_mounts()
        if not paths:
            for m in mounts:
                rc = mntdf(m, human)
                if rc:
                    return rc
            return 0
        rc1 = 0
        for path in paths:
            if not os.path.exists(path):
                err("error: invalid path '%s': No such file or directory\n" % path)
                rc1 = rc1 or errno.ENOENT
                continue
            real = os.path.realpath(path)
            hit = [m for m in mounts if real == m["mountpoint"] or real.startswith(m["mountpoint"].rstrip("/") + "/")]
            if not hit:
                err("df:%s Not a Lustre filesystem\n" % path)
                rc1 = rc1 or errno.EOPNOTSUPP
                continue
            rc1 = rc1 or mntdf(hit[0], human)
        return rc1
    if cmd == "check":
        if len(args) not in (1, 2) or args[0] not in ("osts", "mdts", "mds", "mgts", "all", "servers"):
            err("lfs check: server type must be specified\n" if not args else
                "lfs check: unrecognized option '%s'\n" % args[0])
            return 22
        hang_if_hung()
        mounts = active_mounts()
        if not mounts:
            err("lfs check: cannot find mounted Lustre filesystem: No such device\n")
            return errno.ENODEV
        types = {"osts": ["osc"], "mdts": ["mdc"], "mds": ["mdc"], "mgts": ["mgc"]}.get(args[0], ["osc", "mdc", "mgc"])
        disconn = faults().get("ost-disconn", {})
        for kind in types:
            if kind == "mgc":
                names = sorted(set("MGC" + m["mgs_nid"] for m in mounts))
                rows = [(n, None) for n in names]
            else:
                rows = sorted((dev, target) for m in mounts for k, dev, target in devices(m) if k == kind)
            for dev, target in rows:
                if target in disconn:
                    err("lfs check: error: check '%s': Transport endpoint is not connected (107)\n" % dev)
                else:
                    print("%s active." % dev)
        return 0
    if cmd in ("--version", "version"):
        print("lfs %s" % VERSION)
        return 0
    err("lfs: the lab's double does not simulate %r\n" % " ".join(argv))
    return 1


# ---------------------------------------------------------------------------
# mount.lustre

USAGE = """
This mount helper should only be invoked via the mount (8) command,
e.g. mount -t lustre dev dir

usage: mount.lustre [-fhnvV] [-o <srvopt>] <device> <mountpt>
usage: mount.lustre [-fhnvV] [-o <cliopt>] <mgstarget> <mountpt>
\t<device>: the local disk device when mounting a server
\t<mgstarget>: the server MGS and filesystem for a client:
\t\t<mgsnid>[:<altmgsnid>...]:/<filesystem>[/<subdir>]
\t\t\t<mgsnid>: MGS LNet Node Identifier (e.g. mgs01@o2ib)
\t\t\t<filesystem>: Lustre filesystem name (e.g. lustre1)
\t\t\t<subdir>: subdirectory of the filesystem to mount
\t<mountpt>: filesystem mountpoint (e.g. /mnt/lustre)
\t-f|--fake: fake mount (only update /etc/mtab)
\t-o force|--force: force mount even if already in /etc/mtab
\t-h|--help: print this usage message
\t-n|--nomtab: do not update /etc/mtab after mount
\t-v|--verbose: print verbose config settings
\t-V|--version: output build version of the utility and exit
"""


def mount_failed(source, target, code, *hints):
    err("mount.lustre: mount %s at %s failed: %s\n" % (source, target, os.strerror(code)))
    for hint in hints:
        err(hint + "\n")
    return code


def instance_of(source, target):
    digest = hashlib.sha256(("%s %s %s" % (socket.gethostname(), source, target)).encode()).hexdigest()
    return "ffff8d%07x800" % (int(digest[:7], 16))


def mount_lustre(argv):
    try:
        opts, args = getopt.gnu_getopt(argv, "fhno:vV", ["force", "fake", "help", "nomtab", "options=",
                                                         "verbose", "version"])
    except getopt.GetoptError as exc:
        err("mount.lustre: unknown option '%s'\n" % exc.opt)
        err(USAGE)
        return errno.EINVAL
    options, fake, force = "", False, False
    for opt, val in opts:
        if opt in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        if opt in ("-V", "--version"):
            print("mount.lustre %s (libmount)" % VERSION)
            return 0
        if opt in ("-o", "--options"):
            options = val
        fake = fake or opt in ("-f", "--fake")
        force = force or opt == "--force"
    if len(args) < 2:
        err("mount.lustre: too few arguments\n" + USAGE)
        return errno.EINVAL
    source, target = args[0], args[1]
    if not os.path.exists(target):
        err("warning: %s: cannot resolve: No such file or directory\n" % target)
        return errno.ENOENT
    target = os.path.realpath(target)
    optlist = [o for o in options.split(",") if o]
    force = force or "force" in optlist
    remount = "remount" in optlist
    mounted = [m for m in active_mounts() if m["device"] == source and m["mountpoint"] == target]
    if not force and mounted and not remount:
        err("mount.lustre: according to /etc/mtab %s is already mounted on %s\n" % (source, target))
        return errno.EEXIST
    if not force and remount and not mounted:
        err("mount.lustre: according to /etc/mtab %s is not already mounted on %s\n" % (source, target))
        return errno.ENOENT
    if ":/" not in source:
        err("mount.lustre: cannot mount %s: no server support\n" % source)
        return errno.EINVAL
    if remount:
        with State("mounts.json", {"mounts": []}) as st:
            for m in st.data["mounts"]:
                if m["device"] == source and m["mountpoint"] == target:
                    m["options"] = ",".join(o for o in optlist if o != "remount")
        return 0
    if "kmod-mismatch" in faults():
        return mount_failed(source, target, errno.ENODEV, "Are the lustre modules loaded?",
                            " Check /etc/modprobe.conf and /proc/filesystems")
    if not lnet_up():
        return mount_failed(source, target, errno.ENETDOWN)
    nidpart, dummy, fspath = source.partition(":/")
    fsname = fspath.split("/")[0]
    nets = set(ni["net"] for ni in lnet_state()["nis"])
    reply, mgs_nid = None, None
    for nid in re.split("[:,]", nidpart):
        ip, dummy, net = nid.partition("@")
        net = norm_net(net or "tcp")
        if net not in nets:
            continue
        reply = tcp_reach(ip, 5.0, {"op": "mount", "fsname": fsname})
        if reply is not None:
            mgs_nid = "%s@%s" % (ip, net)
            break
    if reply is None:
        return mount_failed(source, target, errno.EIO, "Is the MGS running?")
    if not reply.get("ok"):
        return mount_failed(source, target, int(reply.get("errno", errno.ENOENT)),
                            "Is the MGS specification correct?", "Is the filesystem name correct?",
                            "If upgrading, is the copied client log valid? (see upgrade docs)")
    if not fake:
        tmpfs_opts = ",".join(["size=16m"] + [o for o in optlist if o in TMPFS_OPTS])
        if ROOT:
            os.makedirs(os.path.dirname(MOUNTINFO), exist_ok=True)
            with open(MOUNTINFO, "a") as f:
                f.write("900 1 0:99 / %s rw,relatime shared:1 - tmpfs %s rw,size=16384k\n" % (
                    target.replace(" ", "\\040"), source))
        else:
            res = subprocess.run(["mount", "-i", "-t", "tmpfs", "-o", tmpfs_opts, source, target],
                                 capture_output=True, text=True, check=False)
            if res.returncode != 0:
                err(res.stderr)
                return mount_failed(source, target, errno.EPERM)
    with State("mounts.json", {"mounts": []}) as st:
        st.data["mounts"] = [m for m in st.data["mounts"] if m["mountpoint"] != target]
        st.data["mounts"].append({
            "device": source, "mountpoint": target, "options": options, "fsname": fsname,
            "mgs_nid": mgs_nid, "instance": instance_of(source, target), "targets": reply["targets"],
            "mounted_at": int(time.time())})
    bump_msgs()
    return 0


# ---------------------------------------------------------------------------
# aifabric-sim-lustre (lab fault control)

def kmod(*args):
    if ROOT:
        return 0  # controller tests: no module files
    if not os.path.exists(KMOD_TOOL):
        err("aifabric-sim-lustre: lustre-client-modules-dkms is not installed (%s)\n" % KMOD_TOOL)
        return 1
    return subprocess.run(["python3", KMOD_TOOL] + list(args), check=False).returncode


def control(argv):
    usage = ("usage: aifabric-sim-lustre fault {ost-disconn TARGET | health-not-healthy | lnet-down | hung | "
             "kmod-mismatch}\n       aifabric-sim-lustre clear [FAULT [TARGET]]\n       aifabric-sim-lustre show\n")
    if not argv or argv[0] not in ("fault", "clear", "show"):
        err(usage)
        return 2
    if argv[0] == "show":
        print(json.dumps({"faults": faults(), "lnet": lnet_state(), "mounts": active_mounts()}, indent=2,
                         sort_keys=True))
        return 0
    name = argv[1] if len(argv) > 1 else None
    if name is not None and name not in FAULTS:
        err("aifabric-sim-lustre: unknown fault %r\n%s" % (name, usage))
        return 2
    if argv[0] == "fault":
        if name is None:
            err(usage)
            return 2
        if name == "kmod-mismatch" and kmod("install", "--vermagic-kernel", OTHER_KERNEL) != 0:
            return 1
        with State("faults.json", {}) as st:
            if name == "ost-disconn":
                if len(argv) < 3 or not re.match(r"^[A-Za-z0-9_]{1,8}-(OST|MDT)[0-9a-f]{4}$", argv[2]):
                    err("aifabric-sim-lustre: fault ost-disconn needs a target such as scratch-OST0001\n")
                    return 2
                st.data.setdefault("ost-disconn", {})[argv[2]] = int(time.time())
            else:
                st.data[name] = True
        return 0
    had_kmod = False
    with State("faults.json", {}) as st:
        if name == "ost-disconn" and len(argv) > 2:
            st.data.get("ost-disconn", {}).pop(argv[2], None)
            if not st.data.get("ost-disconn"):
                st.data.pop("ost-disconn", None)
        else:
            had_kmod = "kmod-mismatch" in st.data and name in (None, "kmod-mismatch")
            for key in [name] if name else list(st.data):
                st.data.pop(key, None)
    if had_kmod:
        return kmod("install")
    return 0


TOOLS = {"lnetctl": lnetctl, "lctl": lctl, "lfs": lfs, "mount.lustre": mount_lustre,
         "aifabric-sim-lustre": control}


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "--tool" or sys.argv[2] not in TOOLS:
        err("usage: lustre_client.py --tool {%s} ARGS\n" % ",".join(sorted(TOOLS)))
        return 2
    try:
        return TOOLS[sys.argv[2]](sys.argv[3:])
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
