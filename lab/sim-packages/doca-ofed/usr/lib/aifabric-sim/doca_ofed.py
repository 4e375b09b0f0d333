"""aifabric lab test double of NVIDIA DOCA-OFED's ConnectX host tools (DOCA-Host 2.9.1 LTS).

One source for every simulated tool; the #!/bin/sh wrappers in the package call it as
``python3 doca_ofed.py --tool <name> ARGS...``:

  mlnx_qos      (mlnx-tools, python/mlnx_qos, netlink/DCB path: no qos/trust sysfs)
  ibdev2netdev  (mlnx-tools, ofed_scripts/ibdev2netdev)
  show_gids     (mlnx-tools, sbin/show_gids)
  cma_roce_mode, cma_roce_tos (mlnx-tools, sbin/)
  ibv_devinfo   (rdma-core, libibverbs/examples/devinfo.c)
  rdma          (iproute2's rdma: only `link show`, `-j link show`, `dev show`;
                 anything else runs the diverted Debian binary /usr/bin/rdma.distrib)
  aifabric-sim-rdma  (lab control: refresh, configfs-watch, show, reset, unbind, bind)

The simulated ConnectX port (mlx5_0, port 1, RoCE) sits on the lab's fabric netdev
(/etc/aifabric-lab/rdma_netdev, else eth1 when the hardware profile has NICs). A
sysfs-shaped tree (/var/lib/aifabric-sim/sys) and a configfs-shaped tree
(/var/lib/aifabric-sim/configfs) are materialised by every tool call; the GIDs follow
the netdev's current MAC and IPv4 address. Test-side only: see
lab/simulators/README.md (section "ConnectX host tools").
"""

import errno
import ipaddress
import json
import optparse
import os
import shutil
import socket
import subprocess
import sys
import time

from sim_common import ROOT, JsonState, hw_profile  # package aifabric-sim-common

DOCA_VERSION = "2.9.1"
OFED_VERSION = "24.10-1.1.4.0"

LAB_ETC = ROOT + "/etc/aifabric-lab"
VAR = ROOT + "/var/lib/aifabric-sim"
STATE_DIR = VAR + "/rdma"
STATE_FILE = STATE_DIR + "/state.json"
# present while the mlx5 PCI function is unbound from mlx5_core (`aifabric-sim-rdma unbind`)
UNBOUND_FILE = STATE_DIR + "/unbound"
SYS = VAR + "/sys"
CONFIGFS = VAR + "/configfs"
REAL_RDMA = "/usr/bin/rdma.distrib"  # Debian's iproute2 rdma, diverted by this package's preinst

IBDEV = "mlx5_0"
PORT = 1
GID_TBL_LEN = 255
NULL_GID = "0000:0000:0000:0000:0000:0000:0000:0000"

# Per NIC model (profile nics[0].model): what the device reports. Firmware versions are
# those bundled with DOCA-Host 2.9.1 (see the README: not confirmed against a capture).
MODELS = {
    "ConnectX-7": {"part_id": 4129, "pci_device": "0x1021", "hca_type": "MT4129", "board_id": "MT_0000000838", "fw": "28.43.2026",
                   "opn": "MCX75310AAS-NEAT", "desc": "NVIDIA ConnectX-7 HHHL Adapter Card"},
    "ConnectX-6": {"part_id": 4123, "pci_device": "0x101b", "hca_type": "MT4123", "board_id": "MT_0000000223", "fw": "20.43.2026",
                   "opn": "MCX653105A-HDAT", "desc": "ConnectX-6 VPI adapter card"},
}
RATES = {400: "400 Gb/sec (4X NDR)", 200: "200 Gb/sec (4X HDR)", 100: "100 Gb/sec (4X EDR)"}
# ibv_devinfo -v active_width/active_speed codes (devinfo.c width_str/speed_str; NDR/HDR
# codes print "invalid speed" in releases older than their addition)
SPEED_CODES = {400: ("4X (2)", "100.0 Gbps (128)"), 200: ("4X (2)", "50.0 Gbps (64)"),
               100: ("4X (2)", "25.0 Gbps (32)")}
NIC_PCI_BUS = {"hgx-h100-8gpu": "19", "hgx-a100-8gpu": "08", "pcie-l40s-4gpu": "18"}

# mlx5 defaults (after driver load): trust pcp, no DSCP app entries, firmware DSCP map
# dscp>>3, prio 0 -> tc 1 and prio 1 -> tc 0, every TC "vendor", cable length 7 m
PRIO_TC_DEFAULT = [1, 0, 2, 3, 4, 5, 6, 7]
TSA_STRICT, TSA_ETS, TSA_VENDOR = 0, 2, 255
MAX_BUFFER_SIZE = 4151520  # a 23.10/ConnectX-7 capture's max_buffer_size
BUF_NO_PFC = [262016, 0, 0, 0, 0, 0, 0, 0]
BUF_PFC = [130944, 130944, 0, 0, 0, 0, 0, 0]

ECN_NP_DEFAULTS = {"cnp_dscp": "48", "cnp_802p_prio": "6", "min_time_between_cnps": "4"}
ECN_RP_DEFAULTS = {
    "clamp_tgt_rate": "0", "clamp_tgt_rate_after_time_inc": "1", "dce_tcp_g": "1019", "dce_tcp_rtt": "1",
    "initial_alpha_value": "1023", "rate_reduce_monitor_period": "4", "rate_to_set_on_first_cnp": "0",
    "rpg_ai_rate": "5", "rpg_byte_reset": "32767", "rpg_gd": "11", "rpg_hai_rate": "50",
    "rpg_max_rate": "0", "rpg_min_dec_fac": "50", "rpg_min_rate": "1", "rpg_threshold": "1",
    "rpg_time_reset": "300",
}
PORT_COUNTERS = [
    "VL15_dropped", "excessive_buffer_overrun_errors", "link_downed", "link_error_recovery",
    "local_link_integrity_errors", "multicast_rcv_packets", "multicast_xmit_packets",
    "port_rcv_constraint_errors", "port_rcv_data", "port_rcv_errors", "port_rcv_packets",
    "port_rcv_remote_physical_errors", "port_rcv_switch_relay_errors", "port_xmit_constraint_errors",
    "port_xmit_data", "port_xmit_discards", "port_xmit_packets", "port_xmit_wait", "symbol_error",
    "unicast_rcv_packets", "unicast_xmit_packets",
]
HW_COUNTERS = [
    "duplicate_request", "implied_nak_seq_err", "lifespan", "local_ack_timeout_err",
    "np_cnp_sent", "np_ecn_marked_roce_packets", "out_of_buffer", "out_of_sequence", "packet_seq_err",
    "req_cqe_error", "req_cqe_flush_error", "req_remote_access_errors", "req_remote_invalid_request",
    "resp_cqe_error", "resp_cqe_flush_error", "resp_local_length_error", "resp_remote_access_errors",
    "rnr_nak_retry_err", "roce_adp_retrans", "roce_adp_retrans_to", "roce_slow_restart",
    "roce_slow_restart_cnps", "roce_slow_restart_trans", "rp_cnp_handled", "rp_cnp_ignored",
    "rx_atomic_requests", "rx_icrc_encapsulated", "rx_read_requests", "rx_write_requests",
]
ROCE_MODES = {"IB/RoCE v1": 1, "RoCE v2": 2}


class SimError(Exception):
    def __init__(self, rc, out="", err=""):
        Exception.__init__(self, out or err)
        self.rc, self.out, self.err = rc, out, err


# ------------------------------------------------------------------ host facts


def hostname():
    return os.environ.get("AIFABRIC_SIM_HOSTNAME") or socket.gethostname()


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def profile():
    return hw_profile()


def nic_info(prof):
    """(model constants, rate Gb/s) of the simulated ConnectX, or None when the host has none."""
    if not prof or not prof.get("nics"):
        return None
    nic = prof["nics"][0]
    return MODELS.get(nic.get("model"), MODELS["ConnectX-7"]), int(nic.get("rate_gbps", 400))


def rdma_netdev(prof):
    """The fabric netdev of mlx5_0: /etc/aifabric-lab/rdma_netdev; else the netdev whose MAC is
    /etc/aifabric-lab/rdma_mac (the lab harness writes the fabric MAC there: podman names a
    container's interfaces in an order that can change); else eth1 (lab convention)."""
    name = (read(LAB_ETC + "/rdma_netdev") or "").strip()
    if name:
        return name
    mac = (read(LAB_ETC + "/rdma_mac") or "").strip().lower()
    if mac and os.path.isdir("/sys/class/net"):
        for dev in sorted(os.listdir("/sys/class/net")):
            if (read("/sys/class/net/%s/address" % dev) or "").strip().lower() == mac:
                return dev
    return "eth1" if nic_info(prof) else None


def netdev_facts(name):
    """MAC, IPv4 addresses, carrier and ifindex of a real netdev, or None when it does not exist.

    Test-side override (controller tests, where the lab's netdev does not exist):
    AIFABRIC_SIM_NETDEV_MAC (its presence makes the netdev exist), AIFABRIC_SIM_NETDEV_IPV4
    (comma-separated, may be empty), AIFABRIC_SIM_NETDEV_CARRIER (1/0, default 1).
    """
    if os.environ.get("AIFABRIC_SIM_NETDEV_MAC"):
        ips = [a for a in os.environ.get("AIFABRIC_SIM_NETDEV_IPV4", "").split(",") if a]
        return {"mac": os.environ["AIFABRIC_SIM_NETDEV_MAC"].lower(), "ipv4": ips,
                "carrier": os.environ.get("AIFABRIC_SIM_NETDEV_CARRIER", "1") == "1", "ifindex": 3}
    base = "/sys/class/net/" + name
    mac = read(base + "/address")
    if mac is None:
        return None
    ips = []
    try:
        out = subprocess.run(["ip", "-j", "-4", "addr", "show", "dev", name], capture_output=True,
                             text=True, timeout=10, check=False).stdout
        for link in json.loads(out or "[]"):
            ips += [a["local"] for a in link.get("addr_info", []) if a.get("family") == "inet"]
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    return {"mac": mac.strip().lower(), "ipv4": ips, "carrier": (read(base + "/carrier") or "0").strip() == "1",
            "ifindex": int((read(base + "/ifindex") or "0").strip() or 0)}


def netdev_exists(name):
    if os.environ.get("AIFABRIC_SIM_NETDEV_MAC"):
        return name == rdma_netdev(profile()) or os.path.exists("/sys/class/net/" + name)
    return os.path.exists("/sys/class/net/" + name)


def guid_from_mac(mac):
    """ConnectX node GUID <-> base MAC: aa:bb:cc:dd:ee:ff -> aabb:cc03:00dd:eeff."""
    b = mac.split(":")
    return "%s%s:%s03:00%s:%s%s" % (b[0], b[1], b[2], b[3], b[4], b[5])


def gid_link_local(mac):
    b = [int(x, 16) for x in mac.split(":")]
    eui = [b[0] ^ 2, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]]
    return "fe80:0000:0000:0000:%02x%02x:%02x%02x:%02x%02x:%02x%02x" % tuple(eui)


def gid_v4(ip):
    o = [int(x) for x in ip.split(".")]
    return "0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x" % tuple(o)


def gid_compact(gid):
    """inet_ntop(AF_INET6) form: IPv4-mapped addresses keep the dotted quad."""
    addr = ipaddress.IPv6Address(gid)
    if addr.ipv4_mapped is not None:
        return "::ffff:%s" % addr.ipv4_mapped
    return str(addr)


def gid_table(facts, netdev):
    """[(index, gid, type, ndev)] as the kernel's RoCE GID cache builds it."""
    if not facts:
        return []
    ll = gid_link_local(facts["mac"])
    rows = [(0, ll, "IB/RoCE v1", netdev), (1, ll, "RoCE v2", netdev)]
    for ip in facts["ipv4"]:
        n = len(rows)
        rows += [(n, gid_v4(ip), "IB/RoCE v1", netdev), (n + 1, gid_v4(ip), "RoCE v2", netdev)]
    return rows


# ------------------------------------------------------------------ state


def fresh_state(netdev):
    return {
        "netdev": netdev, "dcbx_host": True,
        "apps": [],  # DSCP app table, newest first (the kernel's dcb_app_list order): [dscp, prio]
        "default_prio": [],  # ETHERTYPE app entries (--defltprio)
        "dscp2prio_hw": [d >> 3 for d in range(64)],
        "pfc_en": 0, "pfc_delay": 7, "prio_tc": list(PRIO_TC_DEFAULT),
        "tsa": [TSA_VENDOR] * 8, "tc_bw": [0] * 8, "maxrate": [0] * 8,
        "buffer_size": None, "prio2buffer": None,
        "rdma_cm": {str(PORT): {"default_roce_mode": "IB/RoCE v1", "default_roce_tos": "0"}},
    }


class State(JsonState):
    """state.json (aifabric-sim-common's JsonState): fresh when the netdev changed."""

    def __init__(self, netdev, write=False):
        JsonState.__init__(self, STATE_FILE, lambda: fresh_state(netdev), write=write,
                           valid=lambda data: data.get("netdev") == netdev)


# ------------------------------------------------------------------ sysfs/configfs trees


def put(path, value, overwrite=True):
    """Write a sysfs-style file (value + newline) when absent, or when different and overwrite."""
    text = value + "\n"
    if os.path.exists(path):
        if not overwrite or read(path) == text:
            return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


class Host:
    """Everything a tool needs: profile, NIC model, fabric netdev, its facts."""

    def __init__(self):
        self.prof = profile()
        self.nic = nic_info(self.prof)
        self.netdev = rdma_netdev(self.prof) if self.nic else None
        self.facts = netdev_facts(self.netdev) if self.netdev else None
        # the mlx5 device exists with the NIC (unless its PCI function was unbound from
        # mlx5_core); its netdev binding only when the netdev exists
        self.unbound = self.nic is not None and os.path.exists(UNBOUND_FILE)
        self.present = self.nic is not None and not self.unbound

    @property
    def model(self):
        return self.nic[0]

    @property
    def rate(self):
        return self.nic[1]

    @property
    def mac(self):
        return self.facts["mac"] if self.facts else "00:00:00:00:00:00"

    @property
    def guid(self):
        return guid_from_mac(self.mac)

    @property
    def port_up(self):
        return bool(self.facts and self.facts["carrier"])

    @property
    def pci(self):
        bus = NIC_PCI_BUS.get((self.prof or {}).get("name"), "19")
        return "0000:%s:00.0" % bus

    def gids(self):
        return gid_table(self.facts, self.netdev)


def pci_function(host):
    """/sys/bus/pci/devices/<bdf>: the ConnectX PCI function (there with the NIC, bound or not);
    while mlx5_core drives it, its infiniband/<ibdev> and net/<netdev> entries (what the RDMA
    shared device plugin's selectors read: vendor, device, netdev). Returns its path."""
    pdir = "%s/bus/pci/devices/%s" % (SYS, host.pci)
    put(pdir + "/vendor", "0x15b3")
    put(pdir + "/device", host.model["pci_device"])
    put(pdir + "/subsystem_vendor", "0x15b3")
    put(pdir + "/class", "0x020000")
    if host.unbound:
        for sub in ("infiniband", "net", "driver"):
            shutil.rmtree(pdir + "/" + sub, ignore_errors=True)
        shutil.rmtree("%s/class/infiniband/%s" % (SYS, IBDEV), ignore_errors=True)
        return pdir
    put(pdir + "/driver/module", "mlx5_core")  # a file here, a link to the driver in sysfs
    os.makedirs("%s/infiniband/%s" % (pdir, IBDEV), exist_ok=True)
    netdir = pdir + "/net"
    for old in (os.listdir(netdir) if os.path.isdir(netdir) else []):
        if old != host.netdev:
            shutil.rmtree(os.path.join(netdir, old), ignore_errors=True)
    if host.netdev and host.facts:
        os.makedirs("%s/%s" % (netdir, host.netdev), exist_ok=True)
    return pdir


def materialise(host, state):
    """Create/refresh the sysfs- and configfs-shaped trees; keep what others wrote (ECN, counters)."""
    ib = SYS + "/class/infiniband"
    if host.nic is not None:
        pci_function(host)
    if not host.present:
        return
    dev = "%s/%s" % (ib, IBDEV)
    m = host.model
    link = dev + "/device"  # sysfs: class/infiniband/<ibdev>/device -> the PCI function
    if not os.path.islink(link):
        os.makedirs(dev, exist_ok=True)
        os.symlink("../../../bus/pci/devices/" + host.pci, link)
    put(dev + "/fw_ver", m["fw"])
    put(dev + "/board_id", m["board_id"])
    put(dev + "/hca_type", m["hca_type"])
    put(dev + "/hw_rev", "0x0")
    put(dev + "/node_type", "1: CA")
    put(dev + "/node_guid", host.guid)
    put(dev + "/sys_image_guid", host.guid)
    put(dev + "/node_desc", "%s %s" % (hostname().split(".")[0], IBDEV))
    port = "%s/ports/%d" % (dev, PORT)
    put(port + "/state", "4: ACTIVE" if host.port_up else "1: DOWN")
    put(port + "/phys_state", "5: LinkUp" if host.port_up else "3: Disabled")
    put(port + "/rate", RATES.get(host.rate, "%d Gb/sec (4X)" % host.rate) if host.port_up
        else "40 Gb/sec (4X QDR)")
    put(port + "/link_layer", "Ethernet")
    put(port + "/lid", "0x0")
    put(port + "/sm_lid", "0x0")
    put(port + "/lid_mask_count", "0")
    put(port + "/sm_sl", "0")
    put(port + "/cap_mask", "0x04010000")
    for name in PORT_COUNTERS:
        put(port + "/counters/" + name, "0", overwrite=False)
    for name in HW_COUNTERS:
        put(port + "/hw_counters/" + name, "10" if name == "lifespan" else "0", overwrite=False)
    rows = {i: (g, t, n) for i, g, t, n in host.gids()}
    for i in range(GID_TBL_LEN):
        if i in rows:
            g, t, n = rows[i]
            put("%s/gids/%d" % (port, i), g)
            put("%s/gid_attrs/types/%d" % (port, i), t)
            put("%s/gid_attrs/ndevs/%d" % (port, i), n)
        else:
            put("%s/gids/%d" % (port, i), NULL_GID)
            # the kernel answers EINVAL for attributes of unused entries: no file here
            remove("%s/gid_attrs/types/%d" % (port, i))
            remove("%s/gid_attrs/ndevs/%d" % (port, i))
    # ECN (MLNX_OFED/DOCA mlx5 sysfs): enabled on every priority by default
    if host.netdev:
        ecn = "%s/class/net/%s/ecn" % (SYS, host.netdev)
        for kind in ("roce_np", "roce_rp"):
            for p in range(8):
                put("%s/%s/enable/%d" % (ecn, kind, p), "1", overwrite=False)
        for k, v in ECN_NP_DEFAULTS.items():
            put("%s/roce_np/%s" % (ecn, k), v, overwrite=False)
        for k, v in ECN_RP_DEFAULTS.items():
            put("%s/roce_rp/%s" % (ecn, k), v, overwrite=False)
    configfs_sync(host, state)


def configfs_sync(host, state):
    """rdma_cm configfs: a device group exists only after mkdir; its ports/N attributes then
    appear, showing the values the device holds (kept across rmdir/mkdir, as in the kernel).
    Values written into the files are taken over; invalid ones are put back."""
    cm = CONFIGFS + "/rdma_cm"
    os.makedirs(cm, exist_ok=True)
    held = state.data.setdefault("rdma_cm", fresh_state(None)["rdma_cm"])
    try:
        groups = sorted(os.listdir(cm))
    except OSError:
        groups = []
    changed = False
    for g in groups:
        gdir = "%s/%s" % (cm, g)
        if not os.path.isdir(gdir) or g != IBDEV or not host.present:
            continue  # mkdir of an unknown device fails in the kernel; left as is here
        for p, values in held.items():
            pdir = "%s/ports/%s" % (gdir, p)
            for attr in ("default_roce_mode", "default_roce_tos"):
                path = "%s/%s" % (pdir, attr)
                text = read(path)
                if text is None:
                    put(path, values[attr])
                    continue
                v = text.strip()
                if not v:
                    continue  # a writer between truncate and write: look again next time
                ok = (v in ROCE_MODES) if attr == "default_roce_mode" else (v.isdigit() and int(v) <= 255)
                if ok and v != values[attr]:
                    values[attr] = v
                    changed = True
                elif not ok:
                    put(path, values[attr])
    return changed


def configfs_snapshot():
    """{path: (mtime_ns, size)} of everything under rdma_cm/ (plus the state file)."""
    snap = {}
    for top, dirs, files in os.walk(CONFIGFS + "/rdma_cm"):
        for name in dirs + files:
            path = os.path.join(top, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            snap[path] = (st.st_mtime_ns, st.st_size)
    try:
        st = os.stat(STATE_FILE)
        snap[STATE_FILE] = (st.st_mtime_ns, st.st_size)
    except OSError:
        pass
    return snap


def refresh(write=True):
    host = Host()
    if host.unbound:
        materialise(host, None)
    if not host.present:
        return host, None
    with State(host.netdev, write=write) as st:
        materialise(host, st)
        return host, st.data


# ------------------------------------------------------------------ mlnx_qos


def qos_parser():
    p = optparse.OptionParser(usage="%prog -i <interface> [options]", version="%prog 1.2", prog="mlnx_qos")
    p.add_option("-f", "--pfc", dest="pfc", metavar="LIST",
                 help="Set priority flow control for each priority. LIST is comma separated value for each "
                      "priority starting from 0 to 7. Example: 0,0,0,0,1,1,1,1 enable PFC on TC4-7")
    p.add_option("-F", "--specific_pfc", dest="specific_pfc", metavar="LIST",
                 help="Set priority flow control for specific priorities.")
    p.add_option("-P", "--get_pfc", dest="get_pfc", help="Get priority flow control status for specific priority.")
    p.add_option("-p", "--prio_tc", dest="prio_tc", metavar="LIST", help="maps UPs to TCs.")
    p.add_option("-s", "--tsa", dest="tsa", metavar="LIST", help="Transmission algorithm for each TC.")
    p.add_option("-t", "--tcbw", dest="tc_bw", metavar="LIST", help="Set minimal guaranteed %BW for ETS TCs.")
    p.add_option("-r", "--ratelimit", dest="ratelimit", metavar="LIST", help="Rate limit for TCs (in Gbps).")
    p.add_option("-d", "--dcbx", dest="dcbx", help="set dcbx mode to firmware controlled(fw) or OS controlled(os).")
    p.add_option("--trust", dest="trust", help="set priority trust state to pcp or dscp")
    p.add_option("--dscp2prio", dest="dscp2prio", action="append",
                 help="set/del a (dscp,prio) mapping, or 'flush' to delete all.")
    p.add_option("--defltprio", dest="defltprio", help="set/del default priority.")
    p.add_option("--cable_len", dest="cable_len", help="set cable_len for buffer's xoff and xon thresholds")
    p.add_option("--prio2buffer", dest="prio2buffer", metavar="LIST", help="maps priority to receive buffer.")
    p.add_option("--buffer_size", dest="buffer_size", metavar="LIST", help="Set receive buffer size")
    p.add_option("-i", "--interface", dest="intf", help="Interface name")
    p.add_option("-a", action="store_true", dest="printall", default=False, help="Show all interface's TCs")
    return p


def parse_int(parser, s, lo, hi, what, out):
    try:
        v = int(s)
        if v < lo or v > hi:
            raise ValueError("%d is not in the range %d..%d" % (v, lo, hi))
        return v
    except ValueError as e:
        out.append("Bad value for %s: %s" % (what, e))
        raise SimError(1, "\n".join(out) + "\n" + parser.get_usage())


def parse_list8(parser, text, lo, hi, what, too_many, count_msg, out):
    vals = []
    for t in text.split(","):
        if len(vals) >= 8:
            out.append(too_many)
            raise SimError(1, "\n".join(out) + "\n")
        vals.append(parse_int(parser, t, lo, hi, what, out))
    if len(vals) != 8:
        out.append(count_msg)
        raise SimError(1, "\n".join(out) + "\n")
    return vals


def auto_buffers(d):
    """mlx5 port buffer auto mode: PFC priorities go to buffer 1, the others to buffer 0."""
    if d.get("prio2buffer") and d.get("buffer_size"):
        return d["buffer_size"], d["prio2buffer"]
    pfc = [(d["pfc_en"] >> p) & 1 for p in range(8)]
    return (BUF_PFC if any(pfc) else BUF_NO_PFC), [1 if x else 0 for x in pfc]


def qos_report(d, printall):
    o = ["DCBX mode: OS controlled" if d["dcbx_host"] else "DCBX mode: Firmware controlled"]
    trust = "dscp" if d["apps"] else "pcp"
    o.append("Priority trust state: " + trust)
    if trust == "dscp":
        o.append("dscp2prio mapping:")
        s = [""] * 8
        for dscp, prio in d["apps"]:
            s[prio] += "%02d," % dscp
        for i in range(8):
            temp, pad = "", "\tprio:%d dscp:" % i
            while len(s[i]) > 24:
                temp += pad + s[i][:24] + "\n"
                s[i] = s[i][24:]
            if s[i]:
                temp += pad + s[i]
            if temp:
                o.append(temp)
    o.append("default priority:")
    o += ["\tprio:%d" % p for p in d["default_prio"]]
    sizes, p2b = auto_buffers(d)
    o.append("Receive buffer size (bytes): " + "".join("%d," % b for b in sizes)
             + "max_buffer_size=%d" % MAX_BUFFER_SIZE)
    o.append("Cable len: %d" % d["pfc_delay"])
    o.append("PFC configuration:")
    o.append("\tpriority    0   1   2   3   4   5   6   7")
    o.append("\tenabled     " + "".join("%1d   " % ((d["pfc_en"] >> up) & 1) for up in range(8))
             + "\n\tbuffer      " + "".join("%1d   " % p2b[up] for up in range(8)))
    tc2up = {}
    if printall:
        for i in range(8):
            tc2up.setdefault(i, [])
    for up, tc in enumerate(d["prio_tc"]):
        tc2up.setdefault(tc, []).append(up)
    for tc in sorted(tc2up):
        rate = d["maxrate"][tc]
        r = "%.1f Gbps" % (float(rate / 1000) / 1000) if rate > 0 else "unlimited"
        msg = "tc: %d ratelimit: %s, tsa: " % (tc, r)
        tsa = d["tsa"][tc]
        msg += ("ets, bw: %s%%" % d["tc_bw"][tc]) if tsa == TSA_ETS else \
            "strict" if tsa == TSA_STRICT else "vendor" if tsa == TSA_VENDOR else "unknown"
        o.append(msg)
        o += ["\t priority:  %s" % up for up in tc2up[tc]]
    return "\n".join(o) + "\n"


def set_app(d, dscp, prio):
    """mlx5e_dcbnl_ieee_setapp: first DSCP entry switches trust to dscp; the old entry of that
    DSCP is deleted and the new one added at the head of the app list."""
    d["dscp2prio_hw"][dscp] = prio
    d["apps"] = [[dscp, prio]] + [a for a in d["apps"] if a[0] != dscp]


def del_app(d, dscp, prio):
    """mlx5e_dcbnl_ieee_delapp: -ENOENT unless the entry matches the device mapping."""
    if not d["apps"] or d["dscp2prio_hw"][dscp] != prio or [dscp, prio] not in d["apps"]:
        raise OSError(errno.ENOENT, "No such file or directory")
    d["apps"].remove([dscp, prio])
    d["dscp2prio_hw"][dscp] = 0


TYPEERROR_TRACE = ("Traceback (most recent call last):\n"
                   "  File \"/usr/bin/mlnx_qos\", line {line}, in <module>\n"
                   "    print('mlnx_qos: Error setting pfc:' + e)\n"
                   "TypeError: can only concatenate str (not \"OSError\") to str\n")


def mlnx_qos(argv):
    parser = qos_parser()
    opts, args = parser.parse_args(argv)  # optparse: usage + "error: ..." on stderr, rc 2
    out = []
    if args:
        raise SimError(1, "Bad arguments\n" + parser.get_usage())
    if opts.intf is None:
        raise SimError(1, "Interface name is required\n" + parser.get_usage())
    host = Host()
    supported = host.present and opts.intf == host.netdev and host.facts is not None
    if not supported:
        # the netlink DCB calls fail (ENODEV, or EOPNOTSUPP on a netdev without dcbnl_ops);
        # mlnx_qos turns every failure into these messages (or crashes, for --pfc)
        if opts.dcbx not in (None, "os", "fw", "get"):
            raise SimError(1, "Invalid dcbx mode command. Refer to the help.\n")
        if opts.pfc or opts.specific_pfc or opts.cable_len:
            raise SimError(1, err=TYPEERROR_TRACE.format(line=421))
        if opts.dscp2prio:
            if opts.trust:
                raise SimError(1, "trust and dscp2prio commands cannot be used at the same time.\n")
            raise SimError(1, "dscp2prio command failed\n")
        if opts.trust and opts.trust not in ("dscp", "pcp"):
            raise SimError(1, "Invalid trust state command. Refer to the help.\n")
        out.append("Priority trust state is not supported on your system")
        if opts.trust:
            raise SimError(1, "\n".join(out) + "\n")
        out += ["Buffers commands are not supported on your system",
                "Rate limit is not supported on your system!",
                "ETS features are not supported on your system"]
        raise SimError(1, "\n".join(out) + "\n")

    with State(host.netdev, write=True) as st:
        materialise(host, st)
        d = st.data
        if opts.dcbx is not None:
            if opts.dcbx == "os":
                d["dcbx_host"] = True
            elif opts.dcbx == "fw":
                d["dcbx_host"] = False
            elif opts.dcbx != "get":
                raise SimError(1, "Invalid dcbx mode command. Refer to the help.\n")
        if opts.cable_len:
            d["pfc_delay"] = parse_int(parser, opts.cable_len, 0, 0xffff, "cable_len", out)
        if opts.get_pfc:
            index = int(opts.get_pfc)
            if index not in range(8):
                raise SimError(1, "pfc index must be in range of 0-7\n")
            return "%d\n" % ((d["pfc_en"] >> index) & 1)
        if opts.specific_pfc:
            spec = opts.specific_pfc.split(",")
            if len(spec) != 8:
                raise SimError(1, "pfc list must have 8 items\n")
            en = d["pfc_en"]
            for up, t in enumerate(spec):
                if t == "x":
                    continue
                if t not in ("0", "1"):
                    raise SimError(1, "Bad value for 'PFC': %s\n" % t)
                en = (en | (1 << up)) if t == "1" else (en & ~(1 << up))
            d["pfc_en"] = en
            return ""
        if opts.pfc:
            vals = parse_list8(parser, opts.pfc, 0, 1, "PFC", "Too many items for PFC",
                               "pfc list must have 8 items", out)
            d["pfc_en"] = sum(v << i for i, v in enumerate(vals))
        if opts.dscp2prio and opts.trust:
            raise SimError(1, "\n".join(out + ["trust and dscp2prio commands cannot be used at the same time."]) + "\n")
        ops = []
        for opt in opts.dscp2prio or []:
            try:
                if opt == "flush":
                    ops.append(("flush", None, None))
                    continue
                action, dscp, prio = opt.split(",")
                dscp, prio = int(dscp), int(prio)
                if action not in ("set", "del") or dscp > 63 or prio > 7:
                    raise ValueError
                ops.append((action, dscp, prio))
            except ValueError:
                raise SimError(1, "\n".join(out + ["Invalid dscp2prio command. Refer to the help."]) + "\n")
        try:
            for action, dscp, prio in ops:
                if action == "set":
                    set_app(d, dscp, prio)
                elif action == "del":
                    del_app(d, dscp, prio)
                else:
                    for a in list(d["apps"]):
                        del_app(d, a[0], a[1])
        except OSError:
            raise SimError(1, "\n".join(out + ["dscp2prio command failed"]) + "\n")
        if opts.defltprio:
            try:
                action, prio = opts.defltprio.split(",")
                prio = int(prio)
                if action not in ("set", "del") or prio < 0 or prio > 7:
                    raise ValueError
            except ValueError:
                raise SimError(1, "\n".join(out + ["Invalid defltprio command. Refer to the help."]) + "\n")
            if action == "set" and prio not in d["default_prio"]:
                d["default_prio"].insert(0, prio)
            elif action == "del":
                if prio not in d["default_prio"]:
                    raise SimError(1, "\n".join(out + ["defltprio command failed"]) + "\n")
                d["default_prio"].remove(prio)
        if opts.trust:
            if opts.trust not in ("dscp", "pcp"):
                raise SimError(1, "\n".join(out + ["Invalid trust state command. Refer to the help."]) + "\n")
            current = "dscp" if d["apps"] else "pcp"
            if opts.trust != current:
                if opts.trust == "pcp":
                    for a in list(d["apps"]):
                        del_app(d, a[0], a[1])
                else:  # setDefaultAppEntry: the firmware default dscp>>3 for all 64
                    for i in range(64):
                        set_app(d, i, i >> 3)
        if opts.prio2buffer or opts.buffer_size:
            sizes, p2b = auto_buffers(d)
            if opts.prio2buffer:
                p2b = parse_list8(parser, opts.prio2buffer, 0, 7, "prio buffer", "Too many items for prio2buffer",
                                  "prio2buffer list must have 8 items", out)
            if opts.buffer_size:
                try:
                    sizes = [int(x) for x in opts.buffer_size.split(",")][:8]
                    sizes += [0] * (8 - len(sizes))
                except ValueError:
                    raise SimError(1, "\n".join(out + ["Buffers commands error"]) + "\n")
            d["buffer_size"], d["prio2buffer"] = sizes, p2b
        if opts.ratelimit:
            rates = []
            for r in opts.ratelimit.split(","):
                if len(rates) >= 8:
                    raise SimError(1, "\n".join(out + ["Too many items for ratelimit"]) + "\n")
                rates.append(parse_int(parser, r, 0, 1000000, "ratelimit", out) * 1000 * 1000)
            if len(rates) != 8:
                raise SimError(1, "\n".join(out + ["ratelimit must have 8 items"]) + "\n")
            d["maxrate"] = rates
        if opts.tsa:
            tsa = list(d["tsa"])
            names = opts.tsa.split(",")
            for i, t in enumerate(names):
                if i >= 8:
                    raise SimError(1, "\n".join(out + ["Too many items for TSA"]) + "\n")
                if t not in ("strict", "ets", "vendor"):
                    raise SimError(1, "\n".join(out + ["('Bad TSA value: ', '%s')" % t]) + "\n" + parser.get_usage())
                tsa[i] = {"strict": TSA_STRICT, "ets": TSA_ETS, "vendor": TSA_VENDOR}[t]
            if len(names) != 8:
                raise SimError(1, "\n".join(out + ["tsa list must have 8 items"]) + "\n")
            d["tsa"] = tsa
        if opts.tc_bw:
            bws = parse_list8(parser, opts.tc_bw, 0, 100, "ETS BW", "Too many items for ETS BW",
                              "tcbw list must have 8 items", out)
            for i, bw in enumerate(bws):
                if d["tsa"][i] != TSA_ETS and bw != 0:
                    raise SimError(1, "\n".join(out + ["ETS BW for a strict/vendor TC must be 0"]) + "\n"
                                   + parser.get_usage())
            d["tc_bw"] = bws
        if opts.prio_tc:
            d["prio_tc"] = parse_list8(parser, opts.prio_tc, 0, 7, "UP => TC mapping",
                                       "Too many items in UP => TC mapping", "prio_tc list must have 8 items", out)
        report = qos_report(d, opts.printall)
    return ("\n".join(out) + "\n" if out else "") + report


# ------------------------------------------------------------------ ibdev2netdev / show_gids


def ibdev2netdev(argv):
    usage = "ibdev2netdev <options>\n-h, --help                print help message\n" \
            "-v, --verbose             print more info\n"
    if argv and argv[0] in ("-h", "--help"):
        return usage
    if len(argv) > 1 or (len(argv) == 1 and argv[0] != "-v"):
        raise SimError(255, usage)
    host, dummy = refresh()
    if not host.present:
        raise SimError(255)  # /sys/class/infiniband absent: "driver is stopped", exit -1
    if not host.facts:
        return ""
    link = "Up" if host.port_up else "Down"
    if argv == ["-v"]:
        ibstate = "%-6s" % ("ACTIVE" if host.port_up else "DOWN")
        return "%s %s (MT%d - %-11s) %-15s fw %s port %d (%s) ==> %s (%s)\n" % (
            host.pci, IBDEV, host.model["part_id"], host.model["opn"], host.model["desc"], host.model["fw"],
            PORT, ibstate, host.netdev, link)
    return "%s port %d ==> %s (%s)\n" % (IBDEV, PORT, host.netdev, link)


def show_gids(argv):
    host, dummy = refresh()
    o = ["DEV\tPORT\tINDEX\tGID\t\t\t\t\tIPv4  \t\tVER\tDEV",
         "---\t----\t-----\t---\t\t\t\t\t------------  \t---\t---"]
    count = 0
    devs = argv[:1] or ([IBDEV] if host.present else [])
    for d in devs:
        if d != IBDEV or not host.present:
            continue  # ls of a missing directory: the real script prints errors to stderr
        for i, gid, typ, ndev in host.gids():
            ver = typ[typ.index("v"):] if "v" in typ else typ
            if gid.startswith("0000"):
                o.append("%s\t%d\t%d\t%s\t%s  \t%s\t%s" % (d, PORT, i, gid, gid_compact(gid)[7:], ver, ndev))
            else:
                o.append("%s\t%d\t%d\t%s\t\t\t%s\t%s" % (d, PORT, i, gid, ver, ndev))
            count += 1
    o.append("n_gids_found=%d" % count)
    return "\n".join(o) + "\n"


# ------------------------------------------------------------------ ibv_devinfo


def ibv_devinfo(argv):
    usage = ("Usage: ibv_devinfo             print the ca attributes\n\nOptions:\n"
             "  -d, --ib-dev=<dev>     use IB device <dev> (default first device found)\n"
             "  -i, --ib-port=<port>   use port <port> of IB device (default all ports)\n"
             "  -l, --list             print only the IB devices names\n"
             "  -v, --verbose          print all the attributes of the IB device(s)\n")
    dev, port, verbose, listing = None, 0, False, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-d", "--ib-dev") and args:
            dev = args.pop(0)
        elif a.startswith("--ib-dev="):
            dev = a.split("=", 1)[1]
        elif a.startswith("-d") and len(a) > 2:
            dev = a[2:]
        elif a in ("-i", "--ib-port") and args:
            try:
                port = int(args.pop(0), 0)
            except ValueError:
                port = 0
            if port <= 0:
                return usage
        elif a in ("-v", "--verbose", "-vv"):
            verbose = True
        elif a in ("-l", "--list"):
            listing = True
        else:
            raise SimError(255, usage)
    host, dummy = refresh()
    devs = [IBDEV] if host.present else []
    if listing:
        return "%d HCA%s found:\n%s\n" % (len(devs), "s" if len(devs) != 1 else "",
                                          "".join("\t%s\n" % d for d in devs))
    if dev is not None and dev not in devs:
        raise SimError(255, err="IB device '%s' wasn't found\n" % dev)
    if not devs:
        raise SimError(255, err="No IB devices found\n")
    if port and port > 1:
        raise SimError(4, err="Invalid port requested for device\n")
    m, guid = host.model, host.guid
    o = ["hca_id:\t%s" % IBDEV,
         "\ttransport:\t\t\tInfiniBand (0)",
         "\tfw_ver:\t\t\t\t%s" % m["fw"],
         "\tnode_guid:\t\t\t%s" % guid,
         "\tsys_image_guid:\t\t\t%s" % guid,
         "\tvendor_id:\t\t\t0x02c9",
         "\tvendor_part_id:\t\t\t%d" % m["part_id"],
         "\thw_ver:\t\t\t\t0x0",
         "\tboard_id:\t\t\t%s" % m["board_id"],
         "\tphys_port_cnt:\t\t\t1"]
    if verbose:
        o += VERBOSE_DEVICE
    up = host.port_up
    o += ["\t\tport:\t%d" % PORT,
          "\t\t\tstate:\t\t\t%s" % ("PORT_ACTIVE (4)" if up else "PORT_DOWN (1)"),
          "\t\t\tmax_mtu:\t\t4096 (5)",
          "\t\t\tactive_mtu:\t\t%s" % active_mtu(host),
          "\t\t\tsm_lid:\t\t\t0",
          "\t\t\tport_lid:\t\t0",
          "\t\t\tport_lmc:\t\t0x00",
          "\t\t\tlink_layer:\t\tEthernet"]
    if verbose:
        width, speed = SPEED_CODES.get(host.rate, ("4X (2)", "invalid speed (0)"))
        o += ["\t\t\tmax_msg_sz:\t\t0x40000000",
              "\t\t\tport_cap_flags:\t\t0x04010000",
              "\t\t\tport_cap_flags2:\t0x0000",
              "\t\t\tmax_vl_num:\t\tinvalid value (0)",
              "\t\t\tbad_pkey_cntr:\t\t0x0",
              "\t\t\tqkey_viol_cntr:\t\t0x0",
              "\t\t\tsm_sl:\t\t\t0",
              "\t\t\tpkey_tbl_len:\t\t1",
              "\t\t\tgid_tbl_len:\t\t%d" % GID_TBL_LEN,
              "\t\t\tsubnet_timeout:\t\t0",
              "\t\t\tinit_type_reply:\t0",
              "\t\t\tactive_width:\t\t%s" % (width if up else "4X (2)"),
              "\t\t\tactive_speed:\t\t%s" % (speed if up else "invalid speed (0)"),
              "\t\t\tphys_state:\t\t%s" % ("LINK_UP (5)" if up else "DISABLED (3)")]
        for i, gid, typ, dummy_ndev in host.gids():
            shown = gid if typ == "IB/RoCE v1" else gid_compact(gid)
            o.append("\t\t\tGID[%3d]:\t\t%s, %s" % (i, shown, "RoCE v1" if typ == "IB/RoCE v1" else "RoCE v2"))
    o.append("")
    return "\n".join(o) + "\n"


def active_mtu(host):
    mtu = 1500
    if host.netdev and not os.environ.get("AIFABRIC_SIM_NETDEV_MAC"):
        mtu = int((read("/sys/class/net/%s/mtu" % host.netdev) or "1500").strip() or 1500)
    else:
        mtu = int(os.environ.get("AIFABRIC_SIM_NETDEV_MTU", "9000"))
    # RoCE: the largest IB MTU that fits the netdev MTU minus RoCE headers
    for ib, code in ((4096, 5), (2048, 4), (1024, 3), (512, 2), (256, 1)):
        if mtu - 96 >= ib:  # the kernel's iboe_get_mtu: netdev MTU minus 96 bytes of RoCE headers
            return "%d (%d)" % (ib, code)
    return "256 (1)"


VERBOSE_DEVICE = [
    "\tmax_mr_size:\t\t\t0xffffffffffffffff",
    "\tpage_size_cap:\t\t\t0xfffffffffffff000",
    "\tmax_qp:\t\t\t\t131072",
    "\tmax_qp_wr:\t\t\t32768",
    "\tdevice_cap_flags:\t\t0xa5721c36",
    "\t\t\t\t\tBAD_PKEY_CNTR",
    "\t\t\t\t\tBAD_QKEY_CNTR",
    "\t\t\t\t\tAUTO_PATH_MIG",
    "\t\t\t\t\tCHANGE_PHY_PORT",
    "\t\t\t\t\tPORT_ACTIVE_EVENT",
    "\t\t\t\t\tSYS_IMAGE_GUID",
    "\t\t\t\t\tRC_RNR_NAK_GEN",
    "\t\t\t\t\tMEM_WINDOW",
    "\t\t\t\t\tXRC",
    "\t\t\t\t\tMEM_MGT_EXTENSIONS",
    "\t\t\t\t\tMEM_WINDOW_TYPE_2B",
    "\t\t\t\t\tRAW_IP_CSUM",
    "\t\t\t\t\tMANAGED_FLOW_STEERING",
    "\t\t\t\t\tUnknown flags: 0x84400000",
    "\tmax_sge:\t\t\t30",
    "\tmax_sge_rd:\t\t\t30",
    "\tmax_cq:\t\t\t\t16777216",
    "\tmax_cqe:\t\t\t4194303",
    "\tmax_mr:\t\t\t\t16777216",
    "\tmax_pd:\t\t\t\t8388608",
    "\tmax_qp_rd_atom:\t\t\t16",
    "\tmax_ee_rd_atom:\t\t\t0",
    "\tmax_res_rd_atom:\t\t2097152",
    "\tmax_qp_init_rd_atom:\t\t16",
    "\tmax_ee_init_rd_atom:\t\t0",
    "\tatomic_cap:\t\t\tATOMIC_HCA (1)",
    "\tmax_ee:\t\t\t\t0",
    "\tmax_rdd:\t\t\t0",
    "\tmax_mw:\t\t\t\t16777216",
    "\tmax_raw_ipv6_qp:\t\t0",
    "\tmax_raw_ethy_qp:\t\t0",
    "\tmax_mcast_grp:\t\t\t2097152",
    "\tmax_mcast_qp_attach:\t\t240",
    "\tmax_total_mcast_qp_attach:\t503316480",
    "\tmax_ah:\t\t\t\t2147483647",
    "\tmax_fmr:\t\t\t0",
    "\tmax_srq:\t\t\t8388608",
    "\tmax_srq_wr:\t\t\t32767",
    "\tmax_srq_sge:\t\t\t31",
    "\tmax_pkeys:\t\t\t128",
    "\tlocal_ca_ack_delay:\t\t16",
    "\tgeneral_odp_caps:",
    "\t\t\t\t\tODP_SUPPORT",
    "\t\t\t\t\tODP_SUPPORT_IMPLICIT",
    "\trc_odp_caps:",
    "\t\t\t\t\tSUPPORT_SEND",
    "\t\t\t\t\tSUPPORT_RECV",
    "\t\t\t\t\tSUPPORT_WRITE",
    "\t\t\t\t\tSUPPORT_READ",
    "\t\t\t\t\tSUPPORT_SRQ",
    "\tuc_odp_caps:",
    "\t\t\t\t\tNO SUPPORT",
    "\tud_odp_caps:",
    "\t\t\t\t\tSUPPORT_SEND",
    "\txrc_odp_caps:",
    "\t\t\t\t\tSUPPORT_SEND",
    "\t\t\t\t\tSUPPORT_WRITE",
    "\t\t\t\t\tSUPPORT_READ",
    "\t\t\t\t\tSUPPORT_SRQ",
    "\tcompletion timestamp_mask:\t\t\t0x7fffffffffffffff",
    "\thca_core_clock:\t\t\t1000000kHZ",
    "\traw packet caps:",
    "\t\t\t\t\tC-VLAN stripping offload",
    "\t\t\t\t\tScatter FCS offload",
    "\t\t\t\t\tIP csum offload",
    "\t\t\t\t\tDelay drop",
    "\tdevice_cap_flags_ex:\t\t0x30000055A5721C36",
    "\t\t\t\t\tRAW_SCATTER_FCS",
    "\t\t\t\t\tPCI_WRITE_END_PADDING",
    "\t\t\t\t\tUnknown flags: 0x3000004100000000",
    "\ttso_caps:",
    "\t\tmax_tso:\t\t\t262144",
    "\t\tsupported_qp:",
    "\t\t\t\t\tSUPPORT_RAW_PACKET",
    "\trss_caps:",
    "\t\tmax_rwq_indirection_tables:\t\t\t1048576",
    "\t\tmax_rwq_indirection_table_size:\t\t\t2048",
    "\t\trx_hash_function:\t\t\t\t0x1",
    "\t\trx_hash_fields_mask:\t\t\t\t0x800000FF",
    "\t\tsupported_qp:",
    "\t\t\t\t\tSUPPORT_RAW_PACKET",
    "\tmax_wq_type_rq:\t\t\t8388608",
    "\tpacket_pacing_caps:",
    "\t\tqp_rate_limit_min:\t1kbps",
    "\t\tqp_rate_limit_max:\t400000000kbps",
    "\t\tsupported_qp:",
    "\t\t\t\t\tSUPPORT_RAW_PACKET",
    "\ttag matching not supported",
    "",
    "\tcq moderation caps:",
    "\t\tmax_cq_count:\t65535",
    "\t\tmax_cq_period:\t4095 us",
    "",
    "\tmaximum available device memory:\t131072Bytes",
    "",
    "\tnum_comp_vectors:\t\t63",
]


# ------------------------------------------------------------------ rdma (iproute2)


def rdma(argv):
    args = list(argv)
    json_out = pretty = details = False
    while args and args[0].startswith("-"):
        a = args[0]
        if a in ("-j", "-json", "--json"):
            json_out = True
        elif a in ("-p", "-pretty", "--pretty"):
            pretty = True
        elif a in ("-d", "-details", "--details"):
            details = True
        else:
            break
        args.pop(0)
    words = args
    if words and words[0] in ("link", "l", "li", "lin") and (len(words) == 1 or words[1] in ("show", "list")) \
            and len(words) <= 3:
        return rdma_link(words[2] if len(words) == 3 else None, json_out, pretty, details)
    if words and words[0] in ("dev", "d", "de") and (len(words) == 1 or words[1] in ("show", "list")) \
            and len(words) <= 3:
        return rdma_dev(words[2] if len(words) == 3 else None, json_out, pretty)
    if os.path.exists(REAL_RDMA) and not ROOT:
        os.execv(REAL_RDMA, ["rdma"] + list(argv))
    raise SimError(1, err="aifabric-sim: rdma %s is not simulated and %s is missing\n"
                   % (" ".join(argv), REAL_RDMA))


def dump_json(rows, pretty):
    if pretty:
        return json.dumps(rows, indent=4) + "\n"
    return json.dumps(rows, separators=(",", ":")) + "\n"


def rdma_link(which, json_out, pretty, details):
    host, dummy = refresh()
    devs = [IBDEV] if host.present else []
    if which:
        name, dummy_sep, port = which.partition("/")
        if name not in devs:
            raise SimError(1, err='Wrong device name\n')
        if port and port != str(PORT):
            raise SimError(1, err="Wrong port value\n")
    rows = []
    for d in devs:
        up = host.port_up
        row = {"ifindex": 0, "ifname": d, "port": PORT, "state": "ACTIVE" if up else "DOWN",
               "physical_state": "LINK_UP" if up else "DISABLED"}
        if host.facts:
            row.update({"netdev": host.netdev, "netdev_index": host.facts["ifindex"]})
        rows.append(row)
    if json_out:
        return dump_json(rows, pretty)
    o = []
    for r in rows:
        line = "link %s/%d state %s physical_state %s " % (r["ifname"], r["port"], r["state"], r["physical_state"])
        if "netdev" in r:
            line += "netdev %s " % r["netdev"]
            if details:
                line += "netdev_index %d " % r["netdev_index"]
        o.append(line)
    return "".join(x + "\n" for x in o)


def rdma_dev(which, json_out, pretty):
    host, dummy = refresh()
    devs = [IBDEV] if host.present else []
    if which and which not in devs:
        raise SimError(1, err="Wrong device name\n")
    rows = [{"ifindex": 0, "ifname": d, "node_type": "ca", "fw": host.model["fw"], "node_guid": host.guid,
             "sys_image_guid": host.guid} for d in devs]
    if json_out:
        return dump_json(rows, pretty)
    return "".join("%d: %s: node_type ca fw %s node_guid %s sys_image_guid %s \n"
                   % (r["ifindex"], r["ifname"], r["fw"], r["node_guid"], r["sys_image_guid"]) for r in rows)


# ------------------------------------------------------------------ cma_roce_mode / cma_roce_tos


def cma_tool(argv, kind):
    """mlnx-tools cma_roce_mode/cma_roce_tos on the simulated configfs (mkdir, write, cat, rmdir)."""
    dev, port, value = IBDEV, str(PORT), None
    args = list(argv)
    flag = "-m" if kind == "mode" else "-t"
    while args:
        a = args.pop(0)
        if a == "-h":
            return ("Set/Show RoCE default mode of RDMA_CM applications\n" if kind == "mode"
                    else "Set/Show RoCE default ToS of RDMA_CM applications\n")
        if a == "-d" and args:
            dev = args.pop(0)
        elif a == "-p" and args:
            port = args.pop(0)
        elif a == flag and args:
            value = args.pop(0)
    if not ROOT and os.geteuid() != 0:
        raise SimError(1, "You must be root to run this\n")
    host = Host()
    with State(host.netdev, write=True) as st:
        materialise(host, st)
        cm = CONFIGFS + "/rdma_cm"
        gdir = "%s/%s" % (cm, dev)
        created = False
        if not os.path.isdir(gdir):
            if dev != IBDEV or not host.present:
                raise SimError(1, "mkdir: cannot create directory '%s': No such file or directory\n"
                               "Failed to create configuration for %s\n" % (dev, dev))
            os.mkdir(gdir)
            created = True
            configfs_sync(host, st)
        pdir = "%s/ports/%s" % (gdir, port)
        if not os.path.isdir(pdir):
            raise SimError(1, "Device %s port %s does not exist\n" % (dev, port))
        attr = "%s/default_roce_%s" % (pdir, kind)
        if value is not None:
            if kind == "mode":
                if value in ("1", "2"):
                    put(attr, "IB/RoCE v1" if value == "1" else "RoCE v2")
            else:
                put(attr, value)
            configfs_sync(host, st)
        text = read(attr) or ""
        if created or kind == "mode":
            clean_group(gdir)
    return text


def clean_group(gdir):
    """rmdir of a configfs group removes its attribute files with it."""
    for top, dirs, files in os.walk(gdir, topdown=False):
        for f in files:
            remove(os.path.join(top, f))
        for d in dirs:
            if os.path.islink(os.path.join(top, d)):  # class/infiniband/<ibdev>/device
                remove(os.path.join(top, d))
                continue
            try:
                os.rmdir(os.path.join(top, d))
            except OSError:
                pass
    try:
        os.rmdir(gdir)
    except OSError:
        pass


# ------------------------------------------------------------------ lab control


def sim_ctl(argv):
    usage = ("usage: aifabric-sim-rdma refresh | configfs-watch [--interval S] [--once] | show | reset | unbind | bind\n")
    if not argv:
        raise SimError(2, err=usage)
    cmd = argv[0]
    if cmd in ("unbind", "bind"):
        # the lab's fault: the mlx5 PCI function unbound from mlx5_core (as `echo <bdf> >
        # /sys/bus/pci/drivers/mlx5_core/unbind`): mlx5_0 disappears from sysfs, ibv_devinfo,
        # rdma link, ibdev2netdev; `bind` brings it back (fresh counters, as a re-probe)
        host = Host()
        if host.nic is None:
            raise SimError(2, err="aifabric-sim-rdma: no ConnectX in this host's profile\n")
        os.makedirs(STATE_DIR, exist_ok=True)
        if cmd == "unbind":
            with open(UNBOUND_FILE, "w") as f:
                f.write(host.pci + "\n")
        else:
            remove(UNBOUND_FILE)
        host, dummy = refresh()
        return "aifabric-sim-rdma: %s %s mlx5_core (%s %s)\n" % (
            host.pci, "unbound from" if cmd == "unbind" else "bound to", IBDEV, "gone" if host.unbound else "present")
    if cmd == "refresh":
        host, data = refresh()
        if host.unbound:
            return "%s unbound from mlx5_core: no RDMA device\n" % host.pci
        if not host.present:
            return "no ConnectX in this host's profile\n"
        return "%s port %d ==> %s, %d GIDs\n" % (IBDEV, PORT, host.netdev, len(host.gids()))
    if cmd == "show":
        host, data = refresh()
        return json.dumps(data, indent=1, sort_keys=True) + "\n"
    if cmd == "reset":
        remove(UNBOUND_FILE)  # a fresh state: the function bound again
        host = Host()
        if host.present:
            with State(host.netdev, write=True) as st:
                st.data = fresh_state(host.netdev)
        for tree in (SYS, CONFIGFS):
            clean_group(tree)
        refresh()
        return ""
    if cmd == "configfs-watch":
        interval = 0.05
        once = "--once" in argv
        if "--interval" in argv:
            interval = float(argv[argv.index("--interval") + 1])
        seen = None
        while True:
            # cheap poll: sync only when a group or attribute appeared, went or was written
            snap = configfs_snapshot()
            if snap != seen:
                prof = profile()
                if nic_info(prof):
                    light = Host.__new__(Host)
                    light.present, light.netdev = not os.path.exists(UNBOUND_FILE), rdma_netdev(prof)
                    with State(light.netdev, write=True) as st:
                        os.makedirs(CONFIGFS + "/rdma_cm", exist_ok=True)
                        configfs_sync(light, st)
                # what was seen before the sync: a mkdir during the sync (a tool right after the
                # package install, while the first sync runs) differs next time and is synced
                # then; the sync's own writes cost one more pass that writes nothing
                seen = snap
            if once:
                return ""
            time.sleep(interval)
    raise SimError(2, err=usage)


TOOLS = {
    "mlnx_qos": mlnx_qos, "ibdev2netdev": ibdev2netdev, "show_gids": show_gids, "ibv_devinfo": ibv_devinfo,
    "rdma": rdma, "cma_roce_mode": lambda a: cma_tool(a, "mode"), "cma_roce_tos": lambda a: cma_tool(a, "tos"),
    "aifabric-sim-rdma": sim_ctl,
}


def main(argv):
    if len(argv) < 2 or argv[0] != "--tool" or argv[1] not in TOOLS:
        sys.stderr.write("usage: doca_ofed.py --tool {%s} ARGS...\n" % ",".join(sorted(TOOLS)))
        return 2
    tool, args = argv[1], argv[2:]
    try:
        out = TOOLS[tool](args)
    except SimError as e:
        sys.stdout.write(e.out)
        sys.stderr.write(e.err)
        return e.rc
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
