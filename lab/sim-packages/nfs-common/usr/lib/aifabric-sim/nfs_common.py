"""aifabric lab TEST DOUBLE of Debian's nfs-common mount helper (nfs-utils 2.6.2).

Test-side only: shipped in the lab's nfs-common simulator package, never in production.
The lab's kernel has no NFS client, so /sbin/mount.nfs (and mount.nfs4) does what it can
for real and simulates the rest:

- real: the option parsing and its errors, a TCP connection to server:port (refused,
  unreachable and timed-out servers give the real messages and exit 32), the xprtrdma
  module check for proto=rdma, the export's existence (asked of the server with libnfs,
  nfs-ls ...?version=4) and a mount the kernel shows (a tmpfs named SERVER:/EXPORT);
- simulated: the NFS statistics, written to /var/lib/aifabric-sim/nfs/mountstats in the
  format of /proc/self/mountstats (fs/nfs/super.c nfs_show_stats, net/sunrpc/stats.c).

Run by the sh wrappers /sbin/mount.nfs, /sbin/mount.nfs4 (--tool NAME) and
/usr/sbin/aifabric-sim-nfs (--aifabric-sim-nfs: fault control). See
lab/simulators/README.md ("NFS").
"""
import errno
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

NFS_UTILS_VERSION = "2.6.2"
EX_USAGE, EX_FAIL = 1, 32  # nfs-utils utils/mount/error.h
NFS_PORT, NFS_RDMA_PORT = 2049, 20049
# the lab's server (NFS-Ganesha, simulators/nfs/ganesha.conf: MaxRead/MaxWrite) and the
# Linux client cap transfers at 1 MiB
SERVER_MAX_IO = 1048576
CLIENT_MAX_IO = 1048576
NFS_MAX_CONNECTIONS = 16  # fs/nfs/internal.h
SERVER_MINOR_VERSIONS = (0, 1, 2)  # NFS-Ganesha 4.3 default (NFSV4 Minor_Versions)
LEASE_TIME = 60  # NFS-Ganesha's default Lease_Lifetime
CONNECT_TIMEOUT = float(os.environ.get("AIFABRIC_SIM_NFS_TIMEOUT", "10"))

# userspace options mount(8)/systemd/fstab use; the kernel never sees them
IGNORED = {"_netdev", "nofail", "noauto", "auto", "defaults", "user", "users", "nouser", "owner", "group",
           "bg", "fg", "retry", "rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync",
           "async", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime",
           "nostrictatime", "lazytime", "nolazytime", "mand", "nomand", "silent", "loud", "intr", "nointr",
           "comment", "remount", "bind", "context", "fscontext", "defcontext", "rootcontext"}
VALUE_OPTS = {"vers", "nfsvers", "minorversion", "proto", "port", "rsize", "wsize", "bsize", "timeo", "retrans",
              "acregmin", "acregmax", "acdirmin", "acdirmax", "actimeo", "sec", "nconnect", "max_connect",
              "clientaddr", "lookupcache", "local_lock", "namlen", "mountport", "mountproto", "mountvers",
              "mounthost", "mountaddr", "addr", "fsc", "write", "retry"}
FLAG_OPTS = {"hard", "soft", "softerr", "softreval", "nosoftreval", "ac", "noac", "cto", "nocto", "lock",
             "nolock", "acl", "noacl", "rdirplus", "nordirplus", "sharecache", "nosharecache", "resvport",
             "noresvport", "fsc", "nofsc", "migration", "nomigration", "posix", "noposix", "tcp", "udp", "rdma",
             "trunkdiscovery", "notrunkdiscovery"}

# the NFSv4 client's per-op list, in the kernel's order (include/linux/nfs4.h, as printed)
V4_OPS = ("NULL READ WRITE COMMIT OPEN OPEN_CONFIRM OPEN_NOATTR OPEN_DOWNGRADE CLOSE SETATTR FSINFO RENEW "
          "SETCLIENTID SETCLIENTID_CONFIRM LOCK LOCKT LOCKU ACCESS GETATTR LOOKUP LOOKUP_ROOT REMOVE RENAME LINK "
          "SYMLINK CREATE PATHCONF STATFS READLINK READDIR SERVER_CAPS DELEGRETURN GETACL SETACL FS_LOCATIONS "
          "RELEASE_LOCKOWNER SECINFO FSID_PRESENT EXCHANGE_ID CREATE_SESSION DESTROY_SESSION SEQUENCE "
          "GET_LEASE_TIME RECLAIM_COMPLETE LAYOUTGET GETDEVICEINFO LAYOUTCOMMIT LAYOUTRETURN SECINFO_NO_NAME "
          "TEST_STATEID FREE_STATEID GETDEVICELIST BIND_CONN_TO_SESSION DESTROY_CLIENTID SEEK ALLOCATE DEALLOCATE "
          "LAYOUTSTATS CLONE COPY OFFLOAD_CANCEL LOOKUPP LAYOUTERROR COPY_NOTIFY GETXATTR SETXATTR LISTXATTRS "
          "REMOVEXATTR READ_PLUS").split()
# request/reply sizes (bytes) of the ops a fresh mount and an idle client make
OP_SIZES = {"NULL": (44, 24), "GETATTR": (192, 232), "ACCESS": (192, 164), "LOOKUP": (204, 244),
            "SEQUENCE": (160, 108), "EXCHANGE_ID": (232, 100), "CREATE_SESSION": (192, 124),
            "RECLAIM_COMPLETE": (124, 88), "SECINFO_NO_NAME": (116, 104), "SERVER_CAPS": (172, 164),
            "FSINFO": (168, 152), "PATHCONF": (164, 116), "STATFS": (188, 160), "GET_LEASE_TIME": (120, 96),
            "SETCLIENTID": (272, 88), "SETCLIENTID_CONFIRM": (160, 88), "RENEW": (108, 72),
            "READ": (140, 1048676), "WRITE": (1048780, 136)}


# flag options: (the kernel's flag, its value)
TOGGLES = {"noac": ("noac", True), "ac": ("noac", False), "nocto": ("nocto", True), "cto": ("nocto", False),
           "nolock": ("nolock", True), "lock": ("nolock", False), "noacl": ("noacl", True),
           "acl": ("noacl", False), "nordirplus": ("nordirplus", True), "rdirplus": ("nordirplus", False),
           "nosharecache": ("nosharecache", True), "sharecache": ("nosharecache", False),
           "noresvport": ("noresvport", True), "resvport": ("noresvport", False),
           "migration": ("migration", True), "nomigration": ("migration", False),
           "softreval": ("softreval", True), "nosoftreval": ("softreval", False)}


class MountError(Exception):
    def __init__(self, msg, rc=EX_FAIL):
        super().__init__(msg)
        self.msg, self.rc = msg, rc


# ---------------------------------------------------------------- paths (read at call time)

def root():
    return os.environ.get("AIFABRIC_SIM_ROOT", "")


def state_dir():
    return root() + "/var/lib/aifabric-sim/nfs"


def mountstats_path():
    return state_dir() + "/mountstats"


def mountinfo_path():
    """The kernel's mount table; under AIFABRIC_SIM_ROOT a file of that name beside it (none: no pruning)."""
    return root() + "/proc/self/mountinfo"


# ---------------------------------------------------------------- option negotiation

def parse_optstr(text):
    """'a,b=1' -> [('a', None), ('b', '1')], in order."""
    items = []
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            key, sep, value = item.partition("=")
            items.append((key, value if sep else None))
    return items


def _uint(key, value, low=0, high=None):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MountError("mount.nfs: an incorrect mount option was specified") from None
    if number < low or (high is not None and number > high):
        raise MountError("mount.nfs: an incorrect mount option was specified")
    return number


def _io_size(value):
    """The client rounds a transfer size down to a multiple of the page size, within its limits and the
    server's (fs/nfs/internal.h nfs_io_size; the lab server's maximum is 1 MiB)."""
    size = max(min(value, CLIENT_MAX_IO, SERVER_MAX_IO), 4096)
    return size - size % 4096


def negotiate(server, export, optstr, tool="mount.nfs", readonly=False, clientaddr="0.0.0.0", sloppy=False):
    """What the kernel would mount for these options: a record with the negotiated options (the
    ``opts:`` line of mountstats) and what the helper needs (port, transport). Raises MountError."""
    vers, minor, proto, port = None, None, None, None
    opt = {"rsize": None, "wsize": None, "bsize": 0, "acregmin": 3, "acregmax": 60, "acdirmin": 30,
           "acdirmax": 60, "timeo": None, "retrans": 2, "sec": "sys", "nconnect": None, "max_connect": None,
           "local_lock": "none", "lookupcache": None, "namlen": 255}
    flags = {"soft": False, "softerr": False, "softreval": False, "noac": False, "nocto": False,
             "nolock": False, "noacl": False, "nordirplus": False, "nosharecache": False, "noresvport": False,
             "migration": False}
    ro = readonly
    for key, value in parse_optstr(optstr):
        if key.startswith("x-") or key in ("ro", "rw"):
            ro = key == "ro" if key in ("ro", "rw") else ro
            continue
        if key in IGNORED and key not in VALUE_OPTS and key not in FLAG_OPTS:
            continue
        if key in ("vers", "nfsvers"):
            text = value or ""
            major, _sep, rest = text.partition(".")
            if major not in ("2", "3", "4") or (rest and (major != "4" or rest not in ("0", "1", "2"))):
                raise MountError("mount.nfs: an incorrect mount option was specified")
            vers = int(major)
            minor = int(rest) if rest else minor
        elif key == "minorversion":
            minor = _uint(key, value, 0, 2)
        elif key == "proto":
            if value not in ("tcp", "udp", "rdma", "tcp6", "udp6", "rdma6"):
                raise MountError("mount.nfs: an incorrect mount option was specified")
            proto = value
        elif key in ("tcp", "udp", "rdma") and value is None:
            proto = key
        elif key == "port":
            port = _uint(key, value, 0, 65535)
        elif key in ("rsize", "wsize", "bsize", "timeo", "retrans", "acregmin", "acregmax", "acdirmin",
                     "acdirmax", "namlen"):
            opt[key] = _uint(key, value)
        elif key == "actimeo":
            for name in ("acregmin", "acregmax", "acdirmin", "acdirmax"):
                opt[name] = _uint(key, value)
        elif key == "nconnect":
            opt["nconnect"] = _uint(key, value, 1, NFS_MAX_CONNECTIONS)
        elif key == "max_connect":
            opt["max_connect"] = _uint(key, value, 1, 16)
        elif key == "sec":
            if value not in ("sys", "none", "krb5", "krb5i", "krb5p"):
                raise MountError("mount.nfs: an incorrect mount option was specified")
            opt["sec"] = value
        elif key == "local_lock":
            if value not in ("none", "all", "flock", "posix"):
                raise MountError("mount.nfs: an incorrect mount option was specified")
            opt["local_lock"] = value
        elif key == "lookupcache":
            if value not in ("all", "none", "pos", "positive"):
                raise MountError("mount.nfs: an incorrect mount option was specified")
            opt["lookupcache"] = "pos" if value == "positive" else value
        elif key == "clientaddr":
            clientaddr = value
        elif key in ("hard", "soft", "softerr"):
            flags["soft"], flags["softerr"] = key == "soft", key == "softerr"
        elif key in TOGGLES:
            name, value = TOGGLES[key]
            flags[name] = value
        elif key in VALUE_OPTS or key in FLAG_OPTS:
            continue  # mount-protocol and cache options the NFSv4 client does not show
        elif not sloppy:
            raise MountError("mount.nfs: an incorrect mount option was specified")
    if tool == "mount.nfs4" and vers is None:
        vers = 4
    if vers is None:
        vers = 4  # nfs-utils 2.x tries NFSv4 first (the highest minor version both ends have)
    if vers != 4:
        raise MountError("mount.nfs: requested NFS version or transport protocol is not supported")
    if minor is None:
        minor = max(SERVER_MINOR_VERSIONS)
    elif minor not in SERVER_MINOR_VERSIONS:
        raise MountError("mount.nfs: Protocol not supported")
    proto = proto or "tcp"
    if proto.startswith("udp"):
        # NFSv4 needs a transport with congestion control (fs/nfs/fs_context.c)
        raise MountError("mount.nfs: an incorrect mount option was specified")
    if proto.endswith("6") and ":" not in server:
        raise MountError("mount.nfs: an incorrect mount option was specified")
    if not port:
        port = NFS_RDMA_PORT if proto.startswith("rdma") else NFS_PORT
    if opt["timeo"] is None:
        opt["timeo"] = 600
    nconnect = opt["nconnect"] or 1
    opts = ["ro" if ro else "rw", "vers=%d.%d" % (vers, minor),
            "rsize=%d" % _io_size(opt["rsize"] or CLIENT_MAX_IO), "wsize=%d" % _io_size(opt["wsize"] or CLIENT_MAX_IO)]
    if opt["bsize"]:
        opts.append("bsize=%d" % opt["bsize"])
    opts.append("namlen=%d" % opt["namlen"])
    if flags["noac"]:
        opt.update(acregmin=0, acregmax=0, acdirmin=0, acdirmax=0)
    opts += ["acregmin=%d" % opt["acregmin"], "acregmax=%d" % opt["acregmax"],
             "acdirmin=%d" % opt["acdirmin"], "acdirmax=%d" % opt["acdirmax"]]
    if not (flags["soft"] or flags["softerr"]):
        opts.append("hard")
    for name in ("soft", "softerr", "softreval", "noac", "nocto", "nolock", "noacl", "nordirplus",
                 "nosharecache", "noresvport"):
        if flags[name]:
            opts.append(name)
    opts.append("proto=%s" % proto)
    if nconnect > 1:
        opts.append("nconnect=%d" % nconnect)
    if opt["max_connect"] and opt["max_connect"] > 1:
        opts.append("max_connect=%d" % opt["max_connect"])
    if port != NFS_PORT:
        opts.append("port=%d" % port)
    opts += ["timeo=%d" % opt["timeo"], "retrans=%d" % opt["retrans"], "sec=%s" % opt["sec"],
             "clientaddr=%s" % clientaddr]
    if flags["migration"]:
        opts.append("migration")
    if opt["lookupcache"] in ("none", "pos"):
        opts.append("lookupcache=%s" % opt["lookupcache"])
    opts.append("local_lock=%s" % opt["local_lock"])
    return {"device": "%s:%s" % ("[%s]" % server if ":" in server else server, export),
            "server": server, "export": export, "vers": vers, "minor": minor, "proto": proto, "port": port,
            "nconnect": nconnect, "retrans": opt["retrans"], "opts": ",".join(opts), "readonly": ro}


# ---------------------------------------------------------------- mountstats

def _seed(*parts):
    return int(hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:12], 16)


def op_counts(rec, age):
    """{op: [ops, transmissions, timeouts, bytes_sent, bytes_recv, queue_ms, rtt_ms, execute_ms, errors]}:
    a fresh mount's session setup plus an idle client's traffic over `age` seconds, and the
    retransmissions/major timeouts a `fault retrans` added (on WRITE and READ)."""
    minor = rec["minor"]
    counts = dict((name, 0) for name in V4_OPS)
    counts.update(NULL=1, SERVER_CAPS=3, FSINFO=1, PATHCONF=1, GETATTR=3 + age // 30, ACCESS=1 + age // 300,
                  LOOKUP=1 + age // 600, STATFS=age // 120)
    if minor == 0:
        counts.update(SETCLIENTID=1, SETCLIENTID_CONFIRM=1, RENEW=age // (LEASE_TIME * 2 // 3 or 1))
    else:
        counts.update(EXCHANGE_ID=2, CREATE_SESSION=1, RECLAIM_COMPLETE=1, SECINFO_NO_NAME=1,
                      SEQUENCE=age // (LEASE_TIME * 2 // 3 or 1), GET_LEASE_TIME=1)
    result = {}
    for name in V4_OPS:
        count = counts[name]
        sent, recv = OP_SIZES.get(name, (200, 120))
        rtt = count * (1 if name not in ("READ", "WRITE") else 2)
        result[name] = [count, count, 0, count * sent, count * recv, 0, rtt, rtt + (count // 10), 0]
    extra = int(rec.get("faults", {}).get("retrans", 0))
    if extra:
        major = extra // max(rec.get("retrans", 2) + 1, 1)
        for name, share in (("WRITE", extra - extra // 3), ("READ", extra // 3)):
            row = result[name]
            row[0] += 1 if share else 0  # the op that was retransmitted
            row[1] += (1 if share else 0) + share
            row[2] += major if name == "WRITE" else 0
            row[3] += (1 + share) * OP_SIZES[name][0] if share else 0
            row[4] += OP_SIZES[name][1] if share else 0
            row[6] += 60000 * share if share else 0
            row[7] += 60000 * (share + 1) if share else 0
    return result


def render_entry(rec, now):
    age = max(int(now - rec.get("mounted_at", now)), 0)
    device = "device %s mounted on %s with fstype nfs4 statvers=1.1" % (_escape(rec["device"]), _escape(rec["mount_point"]))
    lines = [device, "\topts:\t%s" % rec["opts"], "\tage:\t%d" % age]
    if rec["minor"] >= 1:
        lines.append("\timpl_id:\tname='',domain='',date='0,0'")
    lines.append("\tcaps:\tcaps=0x3ffbffff,wtmult=512,dtsize=1048576,bsize=0,namlen=255")
    lines.append("\tnfsv4:\tbm0=0xfdffbfff,bm1=0xf9be3e,bm2=0x68800,acl=0x3,%spnfs=not configured,"
                 "lease_time=%d,lease_expired=0" % ("sessions," if rec["minor"] >= 1 else "", LEASE_TIME))
    lines.append("\tsec:\tflavor=1,pseudoflavor=1")
    ops = op_counts(rec, age)
    events = [0] * 27
    events[0], events[1], events[5] = ops["GETATTR"][0], ops["GETATTR"][0] * 3, ops["LOOKUP"][0]
    events[4] = ops["ACCESS"][0]
    lines.append("\tevents:\t%s " % " ".join(str(v) for v in events))
    rd, wr = ops["READ"][4] if ops["READ"][0] else 0, ops["WRITE"][3] if ops["WRITE"][0] else 0
    lines.append("\tbytes:\t%d %d 0 0 %d %d %d %d " % (rd, wr, rd, wr, rd // 4096, wr // 4096))
    lines.append("\tRPC iostats version: 1.1  p/v: 100003/4 (nfs)")
    # one xprt line per connection; the session traffic goes over the first, the others only connected
    total_sends = sum(row[1] for row in ops.values())
    unanswered = sum(row[1] - row[0] for row in ops.values())
    n = rec["nconnect"]
    seed = _seed(rec["device"], rec["mount_point"], rec.get("mounted_at"))
    for index in range(n):
        answered = total_sends - unanswered
        recvs = answered // n + (answered % n if index == 0 else 0)
        sends = recvs + (unanswered if index == 0 else 0)  # the retransmissions went over the first
        if rec["proto"].startswith("rdma"):
            fields = [0, 0, 1, 0, age % 60, sends, recvs, 0, sends * 3, 0] + [0, 0, 0, sends, recvs] + [0] * 12
            lines.append("\txprt:\trdma %s" % " ".join(str(v) for v in fields))
        else:
            srcport = 665 + (seed + index * 8) % (1024 - 665)
            fields = [srcport, 0, 1, 0, age % 60, sends, recvs, 0, sends * 3, 0, 2 if sends else 1, sends, sends * 2]
            lines.append("\txprt:\ttcp %s" % " ".join(str(v) for v in fields))
    lines.append("\tper-op statistics")
    for name in V4_OPS:
        lines.append("\t%12s: %s" % (name, " ".join(str(v) for v in ops[name])))
    lines.append("")
    return "\n".join(lines) + "\n"


def _escape(text):
    """The kernel's mangle of blanks and backslashes in mountinfo/mountstats (seq_escape ' \\t\\n\\\\')."""
    return "".join("\\%03o" % ord(c) if c in " \t\n\\" else c for c in text)


def _unescape(text):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1:i + 4].isdigit() and len(text[i + 1:i + 4]) == 3:
            out.append(chr(int(text[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def read_mountinfo():
    """[(mount point, fstype, source)] of the mount table, bottom to top; None when there is none to read."""
    try:
        with open(mountinfo_path()) as f:
            text = f.read()
    except OSError:
        return None
    mounts = []
    for line in text.splitlines():
        parts = line.split()
        if " - " not in line or len(parts) < 10:
            continue
        sep = parts.index("-")
        mounts.append((_unescape(parts[4]), parts[sep + 1], _unescape(parts[sep + 2])))
    return mounts


def top_mount(mountinfo, mount_point):
    found = None
    for point, fstype, source in mountinfo or []:
        if point == mount_point:
            found = (point, fstype, source)
    return found


def still_mounted(rec, mountinfo):
    """The kernel still has a mount of this source at this mount point (a stacked FUSE mount of the
    hung fault counts)."""
    if mountinfo is None:
        return True
    top = top_mount(mountinfo, rec["mount_point"])
    return top is not None and top[2] == rec["device"]


class Locked:
    """state.json under flock; rewrites mountstats (dropping what is no longer mounted) on exit."""

    def __init__(self, now=None):
        self.now = now

    def __enter__(self):
        os.makedirs(state_dir(), exist_ok=True)
        self.lock = open(state_dir() + "/.lock", "w")  # pylint: disable=consider-using-with
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            with open(state_dir() + "/state.json") as f:
                self.state = json.load(f)
        except (OSError, ValueError):
            self.state = {"mounts": []}
        return self.state

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                write_state(self.state, self.now)
        finally:
            self.lock.close()


def write_state(state, now=None):
    mountinfo = read_mountinfo()
    state["mounts"] = [rec for rec in state["mounts"] if still_mounted(rec, mountinfo)]
    now = time.time() if now is None else now
    text = "".join(render_entry(rec, now) for rec in state["mounts"])
    for path, data in ((state_dir() + "/state.json", json.dumps(state, indent=2) + "\n"), (mountstats_path(), text)):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(data)
        os.replace(tmp, path)


def add_mount(rec, mount_point, now=None):
    """Record a mount (the writer mount.nfs calls after mounting; unit-callable)."""
    now = time.time() if now is None else now
    rec = dict(rec, mount_point=mount_point, mounted_at=now, faults={})
    with Locked(now) as state:
        state["mounts"].append(rec)
    return rec


# ---------------------------------------------------------------- mount.nfs

USAGE = """usage: %s remotetarget dir [-rvVwfnsh] [-o nfsoptions]
options:
\t-r\t\tMount file system readonly
\t-v\t\tVerbose
\t-V\t\tPrint version
\t-w\t\tMount file system read-write
\t-f\t\tFake mount, do not actually mount
\t-n\t\tDo not update /etc/mtab
\t-s\t\tTolerate sloppy mount options rather than fail
\t-h\t\tPrint this help
\tnfsoptions\tRefer to mount.nfs(8) or nfs(5)
"""


def split_target(target):
    if target.startswith("["):
        end = target.find("]")
        if end > 0 and target[end + 1:end + 2] == ":":
            return target[1:end], target[end + 2:]
    server, sep, export = target.partition(":")
    if not sep or not server or not export.startswith("/"):
        return None, None
    return server, export


def connect(server, port):
    """A real TCP connection to the server; its local address (the clientaddr). Raises MountError with the
    message mount.nfs prints for the kernel's error."""
    try:
        infos = socket.getaddrinfo(server, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise MountError("mount.nfs: Failed to resolve server %s: %s" % (server, exc.strerror)) from None
    family, kind, proto, _name, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(addr)
        return sock.getsockname()[0]
    except socket.timeout:
        raise MountError("mount.nfs: Connection timed out") from None
    except OSError as exc:
        raise MountError("mount.nfs: %s" % os.strerror(exc.errno or errno.EIO)) from None
    finally:
        sock.close()


def rdma_loaded():
    """The kernel's NFS/RDMA transport (module rpcrdma, alias xprtrdma) is loaded."""
    if os.path.isdir("/sys/module/rpcrdma") or os.path.isdir("/sys/module/xprtrdma"):
        return True
    try:
        with open("/proc/modules") as f:
            return any(line.split()[0] in ("rpcrdma", "xprtrdma") for line in f if line.strip())
    except OSError:
        return False


def check_export(server, export, port, minor):
    """Ask the server for the export with libnfs (a real NFSv4 PUTROOTFH/LOOKUP)."""
    url = "nfs://%s%s?version=4" % ("[%s]" % server if ":" in server else server, export)
    if port != NFS_PORT:
        url += "&nfsport=%d" % port
    try:
        res = subprocess.run(["nfs-ls", url], capture_output=True, text=True, timeout=CONNECT_TIMEOUT + 5,
                             check=False)
    except FileNotFoundError:
        raise MountError("mount.nfs: libnfs-utils (nfs-ls) is missing") from None
    except subprocess.TimeoutExpired:
        raise MountError("mount.nfs: Connection timed out") from None
    if res.returncode == 0:
        return
    out = res.stdout + res.stderr
    device = "%s:%s" % (server, export)
    if "NOENT" in out:
        raise MountError("mount.nfs: mounting %s failed, reason given by server: No such file or directory" % device)
    if "ACCESS" in out or "PERM" in out or "WRONGSEC" in out:
        raise MountError("mount.nfs: access denied by server while mounting %s" % device)
    if "MINOR_VERS_MISMATCH" in out:
        raise MountError("mount.nfs: Protocol not supported")
    raise MountError("mount.nfs: Connection timed out")


def mount_main(tool, argv):
    args, opts, flags = [], [], set()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-o":
            if i + 1 >= len(argv):
                sys.stderr.write(USAGE % tool)
                return EX_USAGE
            opts.append(argv[i + 1])
            i += 2
            continue
        if arg.startswith("-o") and len(arg) > 2:
            opts.append(arg[2:])
        elif arg.startswith("-") and len(arg) > 1:
            for ch in arg[1:]:
                if ch not in "rvVwfnsh":
                    sys.stderr.write("%s: invalid option -- '%s'\n" % (tool, ch))
                    sys.stderr.write(USAGE % tool)
                    return EX_USAGE
                flags.add(ch)
        else:
            args.append(arg)
        i += 1
    if "V" in flags:
        print("%s: (linux nfs-utils %s)" % (tool, NFS_UTILS_VERSION))
        return 0
    if "h" in flags or len(args) != 2:
        sys.stdout.write(USAGE % tool)
        return 0 if "h" in flags else EX_USAGE
    target, mount_point = args[0], os.path.normpath(args[1])
    optstr = ",".join(opts)
    try:
        server, export = split_target(target)
        if server is None:
            raise MountError("%s: remote share not in 'host:dir' format" % tool)
        if not os.path.isdir(mount_point):
            raise MountError("%s: mount point %s does not exist" % (tool, mount_point))
        if "remount" in [key for key, _v in parse_optstr(optstr)]:
            return remount(mount_point, optstr)
        rec = negotiate(server, export, optstr, tool, readonly="r" in flags, sloppy="s" in flags)
        if rec["proto"].startswith("rdma") and not rdma_loaded():
            raise MountError("%s: Protocol not supported" % tool)
        if "v" in flags:
            print("%s: timeout set for %s" % (tool, time.ctime(time.time() + 120)))
        clientaddr = connect(server, rec["port"])
        rec = negotiate(server, export, optstr, tool, readonly="r" in flags, clientaddr=clientaddr,
                        sloppy="s" in flags)
        if "v" in flags:
            print("%s: trying text-based options '%s'" % (
                tool, ",".join(o for o in [optstr, "addr=%s" % server, "clientaddr=%s" % clientaddr] if o)))
        check_export(server, export, rec["port"], rec["minor"])
        if "f" in flags:
            return 0
        res = subprocess.run(["mount", "-i", "-t", "tmpfs", "-o", "size=16m" + (",ro" if rec["readonly"] else ""),
                              rec["device"], mount_point], capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise MountError("%s: %s" % (tool, (res.stderr.strip().split(": ", 1)[-1] or "mount failed")))
        add_mount(rec, mount_point)
    except MountError as exc:
        sys.stderr.write(exc.msg.replace("mount.nfs:", "%s:" % tool, 1) + "\n")
        return exc.rc
    return 0


def remount(mount_point, optstr):
    """mount -o remount: only ro/rw change (the kernel keeps the negotiated NFS options)."""
    with Locked() as state:
        recs = [r for r in state["mounts"] if r["mount_point"] == mount_point]
        if not recs:
            raise MountError("mount.nfs: %s not mounted" % mount_point)
        ro = any(key == "ro" for key, _v in parse_optstr(optstr))
        res = subprocess.run(["mount", "-i", "-o", "remount," + ("ro" if ro else "rw"), mount_point],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise MountError("mount.nfs: %s" % res.stderr.strip())
        rec = recs[-1]
        rec["readonly"] = ro
        rec["opts"] = ("ro" if ro else "rw") + rec["opts"][2:]
    return 0


# ---------------------------------------------------------------- fault control (aifabric-sim-nfs)

CONTROL_USAGE = """usage: aifabric-sim-nfs fault hung MOUNTPOINT      stat/statfs of the mount point block (FUSE)
       aifabric-sim-nfs fault retrans MOUNTPOINT N retransmissions and major timeouts in the statistics
       aifabric-sim-nfs clear [MOUNTPOINT]         remove the faults (of every mount without MOUNTPOINT)
       aifabric-sim-nfs refresh                    rewrite mountstats (age, drop what is unmounted)
       aifabric-sim-nfs show                       the simulated mounts and their faults (JSON)
"""


def _find(state, mount_point):
    mount_point = os.path.normpath(mount_point)
    recs = [r for r in state["mounts"] if r["mount_point"] == mount_point]
    if not recs:
        raise MountError("aifabric-sim-nfs: %s is not a mount of the simulated NFS client" % mount_point, 2)
    return recs[-1]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def start_hang(rec):
    """Stack a FUSE mount named like the export on the mount point and never answer it: the kernel
    blocks stat(), statfs() and every access (killable) until `clear` ends the holder process."""
    if not os.path.exists("/dev/fuse"):
        subprocess.run(["mknod", "-m", "0666", "/dev/fuse", "c", "10", "229"], capture_output=True, check=False)
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as exc:
        raise MountError("aifabric-sim-nfs: fault hung needs FUSE: cannot open /dev/fuse (%s); start the lab host "
                         "with --device /dev/fuse" % exc.strerror, 1) from None
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the holder: a session of its own, outliving this command
        os.close(ready_r)
        os.setsid()
        if os.fork():
            os._exit(0)  # pylint: disable=protected-access
        _hold(rec, ready_w)
        os._exit(1)  # pylint: disable=protected-access
    os.close(ready_w)
    os.waitpid(pid, 0)
    with os.fdopen(ready_r) as f:
        answer = f.read().strip()
    if not answer.startswith("ok "):
        raise MountError("aifabric-sim-nfs: fault hung: %s" % (answer or "the FUSE holder failed"), 1)
    return int(answer.split()[1])


def _hold(rec, ready_w):
    # nothing of the caller's stays open here, above all not the flock of state.json
    os.closerange(3, ready_w)
    os.closerange(ready_w + 1, 65536)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    fd = os.open("/dev/fuse", os.O_RDWR)
    os.set_inheritable(fd, True)
    res = subprocess.run(["mount", "-i", "-t", "fuse.nfs4", "-o",
                          "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % fd,
                          rec["device"], rec["mount_point"]], pass_fds=(fd,), capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        os.write(ready_w, ("mount: %s\n" % res.stderr.strip()).encode())
        os._exit(1)  # pylint: disable=protected-access
    os.write(ready_w, ("ok %d\n" % os.getpid()).encode())
    os.close(ready_w)
    signal.signal(signal.SIGTERM, lambda *_a: os._exit(0))  # pylint: disable=protected-access
    while True:  # never read /dev/fuse: FUSE_INIT and every request after it stay unanswered
        signal.pause()


def stop_hang(rec):
    pid = rec.get("faults", {}).get("hung_pid")
    if pid and _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)  # closes /dev/fuse: the blocked callers get ENOTCONN
        for dummy in range(50):
            if not _pid_alive(pid):
                break
            time.sleep(0.05)
    top = top_mount(read_mountinfo(), rec["mount_point"])
    if top and top[1].startswith("fuse"):
        subprocess.run(["umount", "-i", "-l", "-c", rec["mount_point"]], capture_output=True, check=False)


def control_main(argv):
    try:
        if argv[:2] == ["fault", "hung"] and len(argv) == 3:
            with Locked() as state:
                rec = _find(state, argv[2])
                if not rec["faults"].get("hung_pid") or not _pid_alive(rec["faults"]["hung_pid"]):
                    rec["faults"]["hung_pid"] = start_hang(rec)
        elif argv[:2] == ["fault", "retrans"] and len(argv) == 4:
            count = _uint("retrans", argv[3])
            with Locked() as state:
                rec = _find(state, argv[2])
                rec["faults"]["retrans"] = rec["faults"].get("retrans", 0) + count
        elif argv[:1] == ["clear"] and len(argv) <= 2:
            with Locked() as state:
                recs = [_find(state, argv[1])] if len(argv) == 2 else state["mounts"]
                for rec in recs:
                    stop_hang(rec)
                    rec["faults"] = {}
        elif argv == ["refresh"]:
            with Locked():
                pass
        elif argv == ["show"]:
            with Locked() as state:
                print(json.dumps(state, indent=2))
        else:
            sys.stderr.write(CONTROL_USAGE)
            return 2
    except MountError as exc:
        sys.stderr.write(exc.msg + "\n")
        return exc.rc
    return 0


def main(argv):
    if argv[:1] == ["--aifabric-sim-nfs"]:
        return control_main(argv[1:])
    if argv[:1] == ["--tool"] and len(argv) >= 2:
        return mount_main(argv[1], argv[2:])
    sys.stderr.write("usage: nfs_common.py --tool mount.nfs|mount.nfs4 ... | --aifabric-sim-nfs ...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
