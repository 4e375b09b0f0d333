"""Tests of the lab's simulated ConnectX host tools (package doca-ofed), run on the controller,
and of the roce_qos module end to end against them.

The simulator is a test double; these tests pin it to the real tools' command lines,
output formats, errors and exit codes (see lab/simulators/README.md, section
"ConnectX host tools"). The netdev's MAC/IPv4 come from AIFABRIC_SIM_NETDEV_* here.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import connectx_qos
from ansible_collections.aifabric.cluster.plugins.modules import roce_qos

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "lab/sim-packages/doca-ofed"
PROFILES = REPO / "lab/sim-packages/aifabric-sim-common/usr/share/aifabric-lab/profiles"
BIN = {t: PKG / "usr/bin" / t for t in ("mlnx_qos", "ibdev2netdev", "ibv_devinfo", "rdma")}
BIN.update({t: PKG / "usr/sbin" / t for t in ("show_gids", "cma_roce_mode", "cma_roce_tos", "aifabric-sim-rdma")})

MAC = "10:70:fd:27:25:0b"
IP = "10.99.91.35"


class Sim:
    def __init__(self, root, profile="hgx-h100-8gpu", netdev="eth1", mac=MAC, ip=IP):
        self.root = root
        (root / "etc/aifabric-lab").mkdir(parents=True, exist_ok=True)
        shutil.copytree(PROFILES, root / "usr/share/aifabric-lab/profiles", dirs_exist_ok=True)
        (root / "etc/aifabric-lab/hw_profile").write_text(profile + "\n")
        if netdev:
            (root / "etc/aifabric-lab/rdma_netdev").write_text(netdev + "\n")
        self.netdev = netdev or "eth1"
        self.env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_HOSTNAME="gpu-node-01",
                        AIFABRIC_SIM_NETDEV_MAC=mac, AIFABRIC_SIM_NETDEV_IPV4=ip)

    @property
    def sys(self):
        return self.root / "var/lib/aifabric-sim/sys"

    @property
    def configfs(self):
        return self.root / "var/lib/aifabric-sim/configfs"

    @property
    def port(self):
        return self.sys / "class/infiniband/mlx5_0/ports/1"

    @property
    def ecn(self):
        return self.sys / "class/net" / self.netdev / "ecn"

    def run(self, tool, *args, **env):
        e = dict(self.env, **env)
        return subprocess.run([str(BIN[tool]), *args], capture_output=True, text=True, env=e, timeout=60,
                              check=False)

    def ok(self, tool, *args, **env):
        r = self.run(tool, *args, **env)
        assert r.returncode == 0, r
        return r.stdout


@pytest.fixture
def sim(tmp_path):
    return Sim(tmp_path)


# ------------------------------------------------------------------ package


def test_package_control_divert_and_units():
    ctl = (PKG / "DEBIAN/control").read_text()
    fields = dict(line.split(": ", 1) for line in ctl.splitlines() if line and not line.startswith(" "))
    assert fields["Package"] == "doca-ofed"
    assert fields["Version"] == "2.9.1-0aifabric1"
    assert "python3" in fields["Depends"] and "aifabric-sim-common" in fields["Depends"]
    pre = (PKG / "DEBIAN/preinst").read_text()
    post = (PKG / "DEBIAN/postrm").read_text()
    divert = "--divert /usr/bin/rdma.distrib /usr/bin/rdma"
    assert "dpkg-divert --package doca-ofed --add --rename " + divert in pre
    assert "dpkg-divert --package doca-ofed --remove --rename " + divert in post
    for unit in ("aifabric-sim-rdma.service", "aifabric-sim-rdma-configfs.service"):
        assert (PKG / "lib/systemd/system" / unit).is_file()
    for script in ("preinst", "postinst", "prerm", "postrm"):
        r = subprocess.run(["sh", "-n", str(PKG / "DEBIAN" / script)], capture_output=True, check=False)
        assert r.returncode == 0 and os.access(PKG / "DEBIAN" / script, os.X_OK)


# ------------------------------------------------------------------ mlnx_qos

DEFAULT_REPORT = """DCBX mode: OS controlled
Priority trust state: pcp
default priority:
Receive buffer size (bytes): 262016,0,0,0,0,0,0,0,max_buffer_size=4151520
Cable len: 7
PFC configuration:
\tpriority    0   1   2   3   4   5   6   7
\tenabled     0   0   0   0   0   0   0   0   {eol}
\tbuffer      0   0   0   0   0   0   0   0   {eol}
tc: 0 ratelimit: unlimited, tsa: vendor
\t priority:  1
tc: 1 ratelimit: unlimited, tsa: vendor
\t priority:  0
""".format(eol="") + "".join("tc: %d ratelimit: unlimited, tsa: vendor\n\t priority:  %d\n" % (i, i) for i in range(2, 8))


def test_mlnx_qos_default_report_is_byte_exact(sim):
    assert sim.ok("mlnx_qos", "-i", "eth1") == DEFAULT_REPORT


def test_mlnx_qos_trust_dscp_installs_firmware_map_newest_first(sim):
    out = sim.ok("mlnx_qos", "-i", "eth1", "--trust", "dscp")
    assert "Priority trust state: dscp\ndscp2prio mapping:\n" in out
    assert "\tprio:3 dscp:31,30,29,28,27,26,25,24,\n" in out  # the real capture's line
    assert "\tprio:0 dscp:07,06,05,04,03,02,01,00,\n" in out
    # set moves the entry to the head of its priority (kernel dcb_app list order)
    out = sim.ok("mlnx_qos", "-i", "eth1", "--dscp2prio", "set,48,6", "--dscp2prio", "set,40,5")
    assert "\tprio:6 dscp:48,55,54,53,52,51,50,49,\n" in out
    assert "\tprio:5 dscp:40,47,46,45,44,43,42,41,\n" in out
    out = sim.ok("mlnx_qos", "-i", "eth1", "--dscp2prio", "set,26,5")
    assert "\tprio:5 dscp:26,40,47,46,45,44,43,42,\n\tprio:5 dscp:41,\n" in out  # 8 per line, wraps
    assert "\tprio:3 dscp:31,30,29,28,27,25,24,\n" in out
    parsed = connectx_qos.parse_mlnx_qos(out)
    assert parsed["trust"] == "dscp" and parsed["dscp2prio"][26] == 5 and len(parsed["dscp2prio"]) == 64


def test_mlnx_qos_dscp2prio_on_pcp_switches_trust_and_del_last_goes_back(sim):
    out = sim.ok("mlnx_qos", "-i", "eth1", "--dscp2prio", "set,26,3")
    assert "Priority trust state: dscp\ndscp2prio mapping:\n\tprio:3 dscp:26,\ndefault priority:" in out
    r = sim.run("mlnx_qos", "-i", "eth1", "--dscp2prio", "del,26,4")  # not the device's mapping
    assert (r.returncode, r.stdout) == (1, "dscp2prio command failed\n")
    out = sim.ok("mlnx_qos", "-i", "eth1", "--dscp2prio", "del,26,3")
    assert "Priority trust state: pcp\ndefault priority:" in out


def test_mlnx_qos_pfc_and_persistence(sim):
    out = sim.ok("mlnx_qos", "-i", "eth1", "--pfc", "0,0,0,1,0,0,0,0")
    assert "\tenabled     0   0   0   1   0   0   0   0   \n\tbuffer      0   0   0   1   0   0   0   0   \n" in out
    assert "Receive buffer size (bytes): 130944,130944,0,0,0,0,0,0,max_buffer_size=4151520" in out
    again = sim.ok("mlnx_qos", "-i", "eth1")
    assert connectx_qos.parse_mlnx_qos(again)["pfc_priorities"] == [3]
    assert sim.ok("mlnx_qos", "-i", "eth1", "-P", "3") == "1\n"
    state = json.loads((sim.root / "var/lib/aifabric-sim/rdma/state.json").read_text())
    assert state["pfc_en"] == 8


@pytest.mark.parametrize("args, rc, out", [
    (["--pfc", "0,0,0,2,0,0,0,0"], 1, "Bad value for PFC: 2 is not in the range 0..1\nUsage: mlnx_qos -i <interface> [options]\n"),
    (["--pfc", "0,0,0,1"], 1, "pfc list must have 8 items\n"),
    (["--pfc", "0,0,0,0,0,0,0,0,1"], 1, "Too many items for PFC\n"),
    (["--trust", "foo"], 1, "Invalid trust state command. Refer to the help.\n"),
    (["--trust", "dscp", "--dscp2prio", "set,26,3"], 1, "trust and dscp2prio commands cannot be used at the same time.\n"),
    (["--dscp2prio", "set,64,3"], 1, "Invalid dscp2prio command. Refer to the help.\n"),
    (["--dscp2prio", "bogus"], 1, "Invalid dscp2prio command. Refer to the help.\n"),
])
def test_mlnx_qos_argument_errors(sim, args, rc, out):
    r = sim.run("mlnx_qos", "-i", "eth1", *args)
    assert (r.returncode, r.stdout) == (rc, out)


def test_mlnx_qos_usage_errors(sim):
    r = sim.run("mlnx_qos")
    assert (r.returncode, r.stdout) == (1, "Interface name is required\nUsage: mlnx_qos -i <interface> [options]\n")
    r = sim.run("mlnx_qos", "-i", "eth1", "--nope")
    assert r.returncode == 2 and "mlnx_qos: error: no such option: --nope" in r.stderr


def test_mlnx_qos_unknown_netdev_as_the_real_tool(sim):
    r = sim.run("mlnx_qos", "-i", "eth9")
    assert r.returncode == 1
    assert r.stdout == ("Priority trust state is not supported on your system\n"
                        "Buffers commands are not supported on your system\n"
                        "Rate limit is not supported on your system!\n"
                        "ETS features are not supported on your system\n")
    r = sim.run("mlnx_qos", "-i", "eth9", "--pfc", "0,0,0,1,0,0,0,0")
    assert r.returncode == 1 and r.stderr.endswith('TypeError: can only concatenate str (not "OSError") to str\n')
    with pytest.raises(connectx_qos.ParseError):
        connectx_qos.parse_mlnx_qos(sim.run("mlnx_qos", "-i", "eth9").stdout)


# ------------------------------------------------------------------ sysfs tree, GIDs, listing tools


def test_sysfs_tree_shape_for_rdma_link_info(sim):
    sim.ok("aifabric-sim-rdma", "refresh")
    dev = sim.sys / "class/infiniband/mlx5_0"
    assert (dev / "fw_ver").read_text() == "28.43.2026\n"
    assert (dev / "board_id").read_text() == "MT_0000000838\n"
    assert (dev / "hca_type").read_text() == "MT4129\n"
    assert (dev / "node_guid").read_text() == "1070:fd03:0027:250b\n"
    assert (sim.port / "state").read_text() == "4: ACTIVE\n"
    assert (sim.port / "phys_state").read_text() == "5: LinkUp\n"
    assert (sim.port / "rate").read_text() == "400 Gb/sec (4X NDR)\n"
    assert (sim.port / "link_layer").read_text() == "Ethernet\n"
    gids = [(sim.port / "gids" / str(i)).read_text().strip() for i in range(4)]
    assert gids == ["fe80:0000:0000:0000:1270:fdff:fe27:250b"] * 2 + ["0000:0000:0000:0000:0000:ffff:0a63:5b23"] * 2
    assert [(sim.port / "gid_attrs/types" / str(i)).read_text() for i in range(4)] == \
        ["IB/RoCE v1\n", "RoCE v2\n", "IB/RoCE v1\n", "RoCE v2\n"]
    assert all((sim.port / "gid_attrs/ndevs" / str(i)).read_text() == "eth1\n" for i in range(4))
    assert (sim.port / "gids/254").read_text() == "0000:0000:0000:0000:0000:0000:0000:0000\n"
    assert not (sim.port / "gid_attrs/types/4").exists()
    assert (sim.port / "counters/port_xmit_data").read_text() == "0\n"
    assert (sim.port / "hw_counters/np_cnp_sent").read_text() == "0\n"
    assert [(sim.ecn / "roce_np/enable" / str(p)).read_text() for p in range(8)] == ["1\n"] * 8
    assert (sim.ecn / "roce_np/cnp_dscp").read_text() == "48\n"
    assert (sim.ecn / "roce_np/cnp_802p_prio").read_text() == "6\n"
    assert (sim.configfs / "rdma_cm").is_dir() and not (sim.configfs / "rdma_cm/mlx5_0").exists()


def test_gids_follow_the_netdev_and_written_files_persist(sim):
    sim.ok("aifabric-sim-rdma", "refresh")
    (sim.ecn / "roce_np/enable/0").write_text("0\n")
    (sim.port / "hw_counters/np_cnp_sent").write_text("12\n")
    sim.ok("aifabric-sim-rdma", "refresh", AIFABRIC_SIM_NETDEV_IPV4="10.0.0.7", AIFABRIC_SIM_NETDEV_MAC="0c:42:a1:2d:9c:3b")
    assert (sim.port / "gids/0").read_text() == "fe80:0000:0000:0000:0e42:a1ff:fe2d:9c3b\n"
    assert (sim.port / "gids/3").read_text() == "0000:0000:0000:0000:0000:ffff:0a00:0007\n"
    assert (sim.ecn / "roce_np/enable/0").read_text() == "0\n"
    assert (sim.port / "hw_counters/np_cnp_sent").read_text() == "12\n"
    sim.ok("aifabric-sim-rdma", "refresh", AIFABRIC_SIM_NETDEV_IPV4="")
    assert (sim.port / "gids/2").read_text().startswith("0000:0000:0000:0000:0000:0000:")
    assert not (sim.port / "gid_attrs/ndevs/2").exists()


def test_ibdev2netdev_show_gids(sim):
    assert sim.ok("ibdev2netdev") == "mlx5_0 port 1 ==> eth1 (Up)\n"
    assert sim.ok("ibdev2netdev", AIFABRIC_SIM_NETDEV_CARRIER="0") == "mlx5_0 port 1 ==> eth1 (Down)\n"
    assert sim.ok("show_gids") == (
        "DEV\tPORT\tINDEX\tGID\t\t\t\t\tIPv4  \t\tVER\tDEV\n"
        "---\t----\t-----\t---\t\t\t\t\t------------  \t---\t---\n"
        "mlx5_0\t1\t0\tfe80:0000:0000:0000:1270:fdff:fe27:250b\t\t\tv1\teth1\n"
        "mlx5_0\t1\t1\tfe80:0000:0000:0000:1270:fdff:fe27:250b\t\t\tv2\teth1\n"
        "mlx5_0\t1\t2\t0000:0000:0000:0000:0000:ffff:0a63:5b23\t10.99.91.35  \tv1\teth1\n"
        "mlx5_0\t1\t3\t0000:0000:0000:0000:0000:ffff:0a63:5b23\t10.99.91.35  \tv2\teth1\n"
        "n_gids_found=4\n")


def test_ibv_devinfo(sim):
    out = sim.ok("ibv_devinfo")
    assert out.startswith("hca_id:\tmlx5_0\n\ttransport:\t\t\tInfiniBand (0)\n\tfw_ver:\t\t\t\t28.43.2026\n"
                          "\tnode_guid:\t\t\t1070:fd03:0027:250b\n")
    assert "\tvendor_part_id:\t\t\t4129\n" in out and "\tboard_id:\t\t\tMT_0000000838\n" in out
    assert "\t\t\tstate:\t\t\tPORT_ACTIVE (4)\n" in out and "\t\t\tlink_layer:\t\tEthernet\n" in out
    assert "GID[" not in out
    verbose = sim.ok("ibv_devinfo", "-v", "-d", "mlx5_0")
    assert "\t\t\tGID[  0]:\t\tfe80:0000:0000:0000:1270:fdff:fe27:250b, RoCE v1\n" in verbose
    assert "\t\t\tGID[  1]:\t\tfe80::1270:fdff:fe27:250b, RoCE v2\n" in verbose
    assert "\t\t\tGID[  3]:\t\t::ffff:10.99.91.35, RoCE v2\n" in verbose
    r = sim.run("ibv_devinfo", "-d", "mlx5_9")
    assert (r.returncode, r.stderr) == (255, "IB device 'mlx5_9' wasn't found\n")


def test_rdma_link_and_dev(sim):
    assert sim.ok("rdma", "link", "show") == "link mlx5_0/1 state ACTIVE physical_state LINK_UP netdev eth1 \n"
    assert json.loads(sim.ok("rdma", "-j", "link", "show")) == [
        {"ifindex": 0, "ifname": "mlx5_0", "port": 1, "state": "ACTIVE", "physical_state": "LINK_UP",
         "netdev": "eth1", "netdev_index": 3}]
    assert sim.ok("rdma", "dev", "show") == \
        "0: mlx5_0: node_type ca fw 28.43.2026 node_guid 1070:fd03:0027:250b sys_image_guid 1070:fd03:0027:250b \n"
    r = sim.run("rdma", "resource", "show")  # not simulated: goes to the diverted real rdma (absent here)
    assert r.returncode == 1 and "rdma.distrib" in r.stderr


def test_host_without_nics_has_no_rdma(tmp_path):
    sim = Sim(tmp_path, profile="mgmt-generic", netdev=None)
    r = sim.run("ibv_devinfo")
    assert (r.returncode, r.stderr) == (255, "No IB devices found\n")
    assert sim.run("ibdev2netdev").returncode == 255
    assert sim.ok("rdma", "-j", "link") == "[]\n"
    assert sim.ok("show_gids").endswith("n_gids_found=0\n")


def test_connectx6_profile(tmp_path):
    sim = Sim(tmp_path, profile="hgx-a100-8gpu")
    sim.ok("aifabric-sim-rdma", "refresh")
    assert (sim.port / "rate").read_text() == "200 Gb/sec (4X HDR)\n"
    assert (sim.sys / "class/infiniband/mlx5_0/hca_type").read_text() == "MT4123\n"


# ------------------------------------------------------------------ rdma_cm configfs


def test_configfs_group_appears_on_mkdir_and_keeps_device_values(sim):
    sim.ok("aifabric-sim-rdma", "refresh")
    group = sim.configfs / "rdma_cm/mlx5_0"
    group.mkdir()
    sim.ok("aifabric-sim-rdma", "configfs-watch", "--once")
    attr = group / "ports/1/default_roce_mode"
    assert attr.read_text() == "IB/RoCE v1\n"
    attr.write_text("RoCE v2\n")
    (group / "ports/1/default_roce_tos").write_text("106\n")
    sim.ok("aifabric-sim-rdma", "configfs-watch", "--once")
    shutil.rmtree(group)  # rmdir of the group: the device keeps its values
    assert sim.ok("cma_roce_mode", "-d", "mlx5_0", "-p", "1") == "RoCE v2\n"
    assert sim.ok("cma_roce_tos", "-d", "mlx5_0") == "106\n"
    assert not group.exists()  # both tools rmdir a group they created
    assert sim.ok("cma_roce_mode", "-d", "mlx5_0", "-m", "1") == "IB/RoCE v1\n"
    (group).mkdir()
    sim.ok("aifabric-sim-rdma", "configfs-watch", "--once")
    (group / "ports/1/default_roce_mode").write_text("RoCE v3\n")  # invalid: configfs refuses, value stays
    sim.ok("aifabric-sim-rdma", "configfs-watch", "--once")
    assert (group / "ports/1/default_roce_mode").read_text() == "IB/RoCE v1\n"


# ------------------------------------------------------------------ roce_qos end to end


def run_module(monkeypatch, capsys, sim, args, check=False):
    from ansible.module_utils.common import warnings
    for name in ("_global_warnings", "_global_deprecations"):
        if hasattr(warnings, name):
            monkeypatch.setattr(warnings, name, type(getattr(warnings, name))())
    for k, v in sim.env.items():
        if k.startswith("AIFABRIC_"):
            monkeypatch.setenv(k, v)
    monkeypatch.setenv("PATH", "%s:%s:%s" % (PKG / "usr/bin", PKG / "usr/sbin", os.environ["PATH"]))
    full = dict(args, sysfs_root=str(sim.sys), configfs_root=str(sim.configfs), _ansible_check_mode=check,
                _ansible_diff=True)
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        pytest.skip("needs ansible-core 2.19")
    with patch_module_args(full):
        with pytest.raises(SystemExit) as exc:
            roce_qos.main()
    result = json.loads(capsys.readouterr().out)
    result["_rc"] = exc.value.code
    result.setdefault("changed", None)
    return result


@pytest.fixture
def watched(tmp_path):
    """A sim whose rdma_cm configfs behaves as in the lab (the configfs-watch service runs)."""
    if shutil.which("ethtool") is None:
        pytest.skip("roce_qos runs the real ethtool (Debian package ethtool)")
    # 'lo' exists everywhere and, like the lab's veth, has no pause parameters: the real
    # ethtool answers "netlink error: Operation not supported" for it
    s = Sim(tmp_path, netdev="lo")
    s.ok("aifabric-sim-rdma", "refresh")
    proc = subprocess.Popen([str(BIN["aifabric-sim-rdma"]), "configfs-watch", "--interval", "0.02"], env=s.env)
    yield s
    proc.terminate()
    proc.wait(timeout=10)


WANT = {"trust": "dscp", "pfc_priorities": [3], "dscp2prio": {"26": 3, "48": 6}, "ecn_priorities": [3],
        "cnp_dscp": 48, "cnp_priority": 6, "roce_mode": "RoCE v2", "roce_tos": 106}


def test_roce_qos_end_to_end_check_change_idempotent(monkeypatch, capsys, watched):
    sim = watched
    want = dict(WANT, netdev=sim.netdev, global_pause=False)
    before_report = sim.ok("mlnx_qos", "-i", sim.netdev)

    r = run_module(monkeypatch, capsys, sim, want, check=True)
    assert r["_rc"] == 0 and r["changed"] is True, r
    assert r["diff"]["before"]["trust"] == "pcp" and r["diff"]["after"]["trust"] == "dscp"
    assert r["diff"]["before"]["pfc_priorities"] == [] and r["diff"]["after"]["pfc_priorities"] == [3]
    assert r["diff"]["before"]["ecn_np_priorities"] == list(range(8)) and r["diff"]["after"]["ecn_np_priorities"] == [3]
    assert r["diff"]["before"]["roce_mode"] is None  # group not created in check mode
    assert "mlnx_qos -i %s --trust dscp" % sim.netdev in r["commands"]
    assert sim.ok("mlnx_qos", "-i", sim.netdev) == before_report  # nothing changed
    assert (sim.ecn / "roce_np/enable/0").read_text() == "1\n"
    assert not (sim.configfs / "rdma_cm/mlx5_0").exists()

    r = run_module(monkeypatch, capsys, sim, want)
    assert r["_rc"] == 0 and r["changed"] is True, r
    assert r["rdma_device"] == "mlx5_0" and r["rdma_port"] == 1
    assert r["state"]["dscp2prio"] == {"26": 3, "48": 6}
    assert r["state"]["global_pause"] == r["diff"]["before"]["global_pause"] == "unsupported"
    q = connectx_qos.parse_mlnx_qos(sim.ok("mlnx_qos", "-i", sim.netdev))
    assert (q["trust"], q["pfc_priorities"], q["dscp2prio"][26], q["dscp2prio"][48]) == ("dscp", [3], 3, 6)
    assert [(sim.ecn / "roce_np/enable" / str(p)).read_text() for p in range(8)] == \
        ["1\n" if p == 3 else "0\n" for p in range(8)]
    assert [(sim.ecn / "roce_rp/enable" / str(p)).read_text() for p in range(8)] == \
        ["1\n" if p == 3 else "0\n" for p in range(8)]
    assert (sim.configfs / "rdma_cm/mlx5_0/ports/1/default_roce_mode").read_text() == "RoCE v2\n"
    assert (sim.configfs / "rdma_cm/mlx5_0/ports/1/default_roce_tos").read_text() == "106\n"

    r = run_module(monkeypatch, capsys, sim, want)
    assert r["_rc"] == 0 and r["changed"] is False and r["commands"] == [], r
    assert "diff" not in r

    r = run_module(monkeypatch, capsys, sim, want, check=True)
    assert r["changed"] is False, r

    # the device keeps the rdma_cm values after the group goes (cma_roce_mode rmdirs it)
    time.sleep(0.1)
    assert sim.ok("cma_roce_mode", "-d", "mlx5_0") == "RoCE v2\n"


def test_roce_qos_drift_is_repaired_and_only_that(monkeypatch, capsys, watched):
    sim = watched
    want = dict(WANT, netdev=sim.netdev)
    r = run_module(monkeypatch, capsys, sim, want)
    assert r["changed"] is True, r
    sim.ok("mlnx_qos", "-i", sim.netdev, "--dscp2prio", "set,26,0")
    (sim.ecn / "roce_rp/enable/5").write_text("1\n")
    r = run_module(monkeypatch, capsys, sim, want)
    assert r["changed"] is True
    assert r["commands"] == ["mlnx_qos -i %s --dscp2prio set,26,3" % sim.netdev,
                             "write %s = 0" % (sim.ecn / "roce_rp/enable/5")]
    assert r["diff"]["before"]["dscp2prio"] == {"26": 0, "48": 6}


def test_roce_qos_on_a_netdev_without_dcb_fails_with_the_tool_output(monkeypatch, capsys, watched):
    r = run_module(monkeypatch, capsys, watched, dict(WANT, netdev="eth9"))
    assert r["_rc"] == 1 and r["failed"]
    assert "ETS features are not supported on your system" in r["msg"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
