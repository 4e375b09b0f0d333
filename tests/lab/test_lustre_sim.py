"""Tests of the lab's Lustre test doubles (packages lustre-client-utils, lustre-client-modules-dkms,
and the appliance lab/simulators/lustre), run on the controller: the client tools run under
AIFABRIC_SIM_ROOT against the server double on 127.0.0.1, and their outputs go through the
parsers and rules of plugins/module_utils/lustre_client.py as the lustre_client_info module
feeds them (see lab/simulators/README.md, "Lustre")."""
import os
import socket
import subprocess
import sys

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import lustre_client as lc

from simpkg import REPO, SIM_PACKAGES

PKG = SIM_PACKAGES / "lustre-client-utils"
SIM = PKG / "usr/lib/aifabric-sim/lustre_client.py"
KMOD = SIM_PACKAGES / "lustre-client-modules-dkms/usr/lib/aifabric-sim/lustre_kmod.py"
SERVER = REPO / "lab/simulators/lustre/lustre_server_sim.py"
FIXTURES = REPO / "tests/unit/plugins/fixtures/lustre"
MGS = "127.0.0.1@tcp"
SOURCE = MGS + ":/scratch"


@pytest.fixture(scope="module")
def server():
    proc = subprocess.Popen([sys.executable, str(SERVER), "--listen", "127.0.0.1", "--port", "0"],  # pylint: disable=consider-using-with
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().rsplit(":", 1)[1])
    yield port
    proc.terminate()
    proc.wait(5)


class Lustre:
    def __init__(self, root, port):
        self.root = root
        self.mnt = root / "mnt/scratch"
        self.mnt.mkdir(parents=True)
        self.env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_LUSTRE_PORT=str(port),
                        AIFABRIC_SIM_NETDEV_IPV4="127.0.0.1", AIFABRIC_SIM_NETDEV_OPERSTATE="up")

    def run(self, tool, *args, timeout=20, **env):
        return subprocess.run([sys.executable, str(SIM), "--tool", tool] + list(args), capture_output=True,
                              text=True, timeout=timeout, env=dict(self.env, **env), check=False)

    def setup(self):
        conf = self.root / "lnet.conf"
        conf.write_text("net:\n    - net type: tcp0\n      local NI(s):\n        - interfaces:\n              0: eth1\n")
        assert self.run("lnetctl", "lnet", "configure").returncode == 0
        res = self.run("lnetctl", "import", str(conf))
        assert res.returncode == 0, res.stderr
        res = self.run("mount.lustre", SOURCE, str(self.mnt), "-o", "rw,flock,_netdev")
        assert res.returncode == 0, res.stderr
        return self

    def evaluate(self, **env):
        """lustre_client_info's reading: (verdict, raw results) with the module's command lines."""
        def run(tool, *args):
            res = self.run(tool, *args, timeout=3, **env)
            return res.returncode, res.stdout, res.stderr
        failures = []
        rc, out, err = run("lnetctl", "net", "show", "-v", "3")
        net = lc.parse_net_show(out, err)
        rc, out, err = run("lnetctl", "ping", MGS)
        pings = [lc.parse_ping(out, err, nid=MGS)]
        if rc != 0:
            pings[0]["reachable"] = False
        rc, out, err = run("lctl", "get_param", "osc.*.state", "mdc.*.state")
        states = lc.parse_import_states(out, err)
        rc, out, err = run("lctl", "get_param", "health_check")
        health = lc.parse_health_check(out)
        rc, out, err = run("lfs", "df")
        df = lc.parse_lfs_df(out, err)
        rc, out, err = run("lfs", "check", "servers")
        servers = lc.parse_check_servers(out, err)
        verdict = lc.evaluate(net=net, pings=pings, states=states, health=health, df=df, servers=servers,
                              mgs_nids=[MGS], expected_mounts=[str(self.mnt)], command_failures=failures)
        return verdict, dict(net=net, pings=pings, states=states, health=health, df=df, servers=servers)


@pytest.fixture
def lustre(tmp_path, server):
    return Lustre(tmp_path, server)


def test_server_answers_and_rejects(server):
    with socket.create_connection(("127.0.0.1", server), 2) as s:
        s.sendall(b'{"op": "mount", "fsname": "scratch"}\n')
        reply = s.makefile().readline()
    assert '"scratch-OST0001"' in reply and '"scratch-MDT0000"' in reply
    with socket.create_connection(("127.0.0.1", server), 2) as s:
        s.sendall(b'{"op": "mount", "fsname": "nope"}\n')
        assert '"errno": 2' in s.makefile().readline()
    socket.create_connection(("127.0.0.1", server), 2).close()  # a bare connect (ping) is fine


def test_healthy(lustre):
    lustre.setup()
    verdict, raw = lustre.evaluate()
    assert verdict == {"healthy": True, "reasons": [], "lnet_up": True}
    tcp = [ni for ni in raw["net"]["nis"] if ni["net"] == "tcp"]
    assert tcp and tcp[0]["nid"] == "127.0.0.1@tcp" and tcp[0]["health_value"] == 1000
    assert tcp[0]["interfaces"] == ["eth1"]
    assert raw["pings"][0]["reachable"] and raw["pings"][0]["primary_nid"] == MGS
    assert sorted(t["target"] for t in raw["states"]["targets"]) == [
        "scratch-MDT0000", "scratch-OST0000", "scratch-OST0001"]
    assert all(t["state"] == "FULL" for t in raw["states"]["targets"])
    fs = raw["df"]["filesystems"][0]
    assert fs["mount"] == str(lustre.mnt) and fs["fsname"] == "scratch"
    assert [t["target"] for t in fs["targets"]] == ["scratch-MDT0000", "scratch-OST0000", "scratch-OST0001"]
    assert fs["summary"]["total"] == 2 * 8 * 1024 ** 4  # the OSTs only
    assert {s["kind"] for s in raw["servers"]["servers"]} == {"OST", "MDT", "MGS"}
    assert all(s["active"] for s in raw["servers"]["servers"])
    assert raw["health"]["status"] == "healthy"


def test_formats_match_the_real_layout(lustre):
    lustre.setup()
    df = lustre.run("lfs", "df").stdout.splitlines()
    assert df[0] == "UUID                   1K-blocks        Used   Available Use% Mounted on"
    assert df[0] == FIXTURES.joinpath("lfs-df-1k.txt").read_text().splitlines()[0]
    assert df[1].startswith("scratch-MDT0000_UUID  1073741824 ") and df[1].endswith("%s[MDT:0]" % lustre.mnt)
    assert df[-1] == "" and df[-2].startswith("filesystem_summary: ")
    dfh = lustre.run("lfs", "df", "-h").stdout.splitlines()
    assert dfh[0] == FIXTURES.joinpath("lfs-df-h-inactive.txt").read_text().splitlines()[0]
    assert "        8.0T " in dfh[2]
    state = lustre.run("lctl", "get_param", "osc.*.state").stdout.splitlines()
    assert state[0].startswith("osc.scratch-OST0000-osc-ffff8d") and state[0].endswith(".state=")
    assert state[1:3] == ["current_state: FULL", "state_history:"]
    assert lustre.run("lctl", "get_param", "health_check").stdout == "health_check=healthy\n"
    assert lustre.run("lctl", "get_param", "-n", "version").stdout == "2.15.6\n"
    ping = lustre.run("lnetctl", "ping", MGS).stdout
    assert ping == ("ping:\n    - primary nid: 127.0.0.1@tcp\n      Multi-Rail: True\n      peer ni:\n"
                    "        - nid: 127.0.0.1@tcp\n")
    plain = lustre.run("lnetctl", "net", "show").stdout
    assert plain == ("net:\n    - net type: lo\n      local NI(s):\n        - nid: 0@lo\n          status: up\n"
                     "    - net type: tcp\n      local NI(s):\n        - nid: 127.0.0.1@tcp\n          status: up\n"
                     "          interfaces:\n              0: eth1\n")
    export = lustre.run("lnetctl", "export").stdout
    assert "    - net type: tcp\n      local NI(s):\n        - interfaces:\n              0: eth1\n" in export
    assert lustre.run("lctl", "list_nids").stdout == "127.0.0.1@tcp\n"


def test_lnet_down_and_unconfigured(lustre):
    lustre.setup()
    res = lustre.run("lnetctl", "net", "show", "-v", "3")
    assert res.returncode == 0
    assert lustre.run("aifabric-sim-lustre", "fault", "lnet-down").returncode == 0
    res = lustre.run("lnetctl", "net", "show", "-v", "3")
    assert res.returncode == 156 and res.stdout == ""
    assert res.stderr == FIXTURES.joinpath("net-show-lnet-down.stderr").read_text()
    verdict, dummy = lustre.evaluate()
    assert not verdict["healthy"] and verdict["lnet_up"] is False
    assert verdict["reasons"][0].startswith("LNet is down (lnetctl: errno -100")
    assert lustre.run("aifabric-sim-lustre", "clear", "lnet-down").returncode == 0
    assert lustre.run("lnetctl", "lnet", "unconfigure").returncode == 0
    assert lustre.run("lnetctl", "net", "show").returncode == 156
    res = lustre.run("mount.lustre", SOURCE, str(lustre.mnt))
    assert res.returncode == 17  # still mounted: mount.lustre checks mtab first


def test_ni_down(lustre):
    lustre.setup()
    verdict, dummy = lustre.evaluate(AIFABRIC_SIM_NETDEV_OPERSTATE="down")
    assert not verdict["healthy"]
    assert any(r.startswith("LNet NI 127.0.0.1@tcp (eth1, net tcp): status down") for r in verdict["reasons"])


def test_ost_disconn(lustre):
    lustre.setup()
    assert lustre.run("aifabric-sim-lustre", "fault", "ost-disconn", "scratch-OST0001").returncode == 0
    verdict, raw = lustre.evaluate()
    assert not verdict["healthy"]
    assert len(verdict["reasons"]) == 1, verdict["reasons"]
    reason = verdict["reasons"][0]
    assert reason.startswith("scratch-OST0001 (osc scratch-OST0001-osc-ffff8d")
    assert "import state DISCONN since" in reason and "Transport endpoint is not connected (107)" in reason
    assert lustre.run("lfs", "df").returncode == 5
    assert "scratch-OST0001_UUID: Input/output error" in lustre.run("lfs", "df").stdout
    assert lustre.run("aifabric-sim-lustre", "clear").returncode == 0
    assert lustre.evaluate()[0]["healthy"]


def test_health_not_healthy(lustre):
    lustre.setup()
    lustre.run("aifabric-sim-lustre", "fault", "health-not-healthy")
    verdict, dummy = lustre.evaluate()
    assert verdict["reasons"] == [r for r in verdict["reasons"] if "health_check reports NOT HEALTHY" in r]
    assert len(verdict["reasons"]) == 1


def test_hung(lustre):
    lustre.setup()
    lustre.run("aifabric-sim-lustre", "fault", "hung")
    for args in (("lfs", "df"), ("lfs", "check", "servers"), ("lctl", "get_param", "health_check")):
        with pytest.raises(subprocess.TimeoutExpired):
            lustre.run(*args, timeout=1.5)
    assert lustre.run("lnetctl", "net", "show").returncode == 0


def test_mgs_unreachable_and_ping_failure(lustre, tmp_path):
    lustre.setup()
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()  # nothing listens there now
    res = lustre.run("lnetctl", "ping", MGS, AIFABRIC_SIM_LUSTRE_PORT=str(port))
    assert res.returncode == 255 and res.stdout == ""
    assert res.stderr == ("manage:\n    - ping:\n          errno: -1\n          descr: failed to ping "
                          "127.0.0.1@tcp: Input/output error\n                 \n")
    verdict, dummy = lustre.evaluate(AIFABRIC_SIM_LUSTRE_PORT=str(port))
    expected = ("MGS NID 127.0.0.1@tcp does not answer lnetctl ping "
                "(errno -1, failed to ping 127.0.0.1@tcp: Input/output error)")
    assert [r for r in verdict["reasons"] if r.startswith(expected)]
    other = tmp_path / "mnt/other"
    other.mkdir(parents=True)
    res = lustre.run("mount.lustre", SOURCE, str(other), AIFABRIC_SIM_LUSTRE_PORT=str(port))
    assert res.returncode == 5
    assert res.stderr == "mount.lustre: mount %s at %s failed: Input/output error\nIs the MGS running?\n" % (
        SOURCE, other)
    res = lustre.run("mount.lustre", MGS + ":/nope", str(other))
    assert res.returncode == 2 and "failed: No such file or directory\nIs the MGS specification correct?" in res.stderr


def test_mount_needs_lnet_and_umount_prunes(lustre):
    assert lustre.run("lnetctl", "lnet", "configure").returncode == 0
    res = lustre.run("mount.lustre", SOURCE, str(lustre.mnt))
    assert res.returncode == 5  # no NI on net tcp: the MGS is unreachable
    lustre.run("lnetctl", "lnet", "unconfigure")
    res = lustre.run("mount.lustre", SOURCE, str(lustre.mnt))
    assert res.returncode == 100 and res.stderr.endswith("failed: Network is down\n")
    lustre.setup()
    mountinfo = lustre.root / "proc/self/mountinfo"
    assert " - tmpfs %s " % SOURCE in mountinfo.read_text()
    mountinfo.write_text("")  # umount
    assert lustre.run("lfs", "df").stdout == ""
    assert "cannot find mounted Lustre filesystem" in lustre.run("lfs", "check", "servers").stderr
    res = lustre.run("lctl", "get_param", "osc.*.state", "mdc.*.state")
    assert res.returncode == 2 and "param_path 'osc/*/state': No such file or directory" in res.stderr
    verdict, dummy = lustre.evaluate()
    assert verdict["reasons"] == ["expected Lustre mount %s is not in lfs df: mount it (mount %s; check its fstab "
                                  "line, _netdev and that the MGS NIDs answer lnetctl ping)" % (lustre.mnt, lustre.mnt)]


def test_kmod_module_and_mismatch(tmp_path, lustre):
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path))
    subprocess.run([sys.executable, str(KMOD), "install", "--kernel", "6.1.0-18-amd64"], env=env, check=True)
    ko = (tmp_path / "lib/modules/6.1.0-18-amd64/updates/dkms/lustre.ko").read_bytes()
    assert ko[:7] == b"\x7fELF\x02\x01\x01"
    assert b"\0version=2.15.6\0" in ko and b"\0name=lustre\0" in ko and b"\0license=GPL\0" in ko
    assert b"\0vermagic=6.1.0-18-amd64 SMP preempt mod_unload modversions \0" in ko
    assert b"description=Lustre Client File System\0" in ko
    lustre.setup()
    assert lustre.run("aifabric-sim-lustre", "fault", "kmod-mismatch").returncode == 0
    res = lustre.run("lnetctl", "net", "show")
    assert res.stderr.startswith("opening /dev/lnet failed: No such file or directory")
    assert not lustre.evaluate()[0]["healthy"]
    lustre.run("aifabric-sim-lustre", "clear", "kmod-mismatch")
    assert lustre.evaluate()[0]["healthy"]


def test_fault_control_errors(lustre):
    assert lustre.run("aifabric-sim-lustre", "fault", "ost-disconn").returncode == 2
    assert lustre.run("aifabric-sim-lustre", "fault", "bogus").returncode == 2
    assert lustre.run("aifabric-sim-lustre", "show").returncode == 0
