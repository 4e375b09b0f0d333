"""Tests of the lab's simulated NFS client (package nfs-common), run on the controller.

The mountstats writer of mount.nfs is called without mounting or connecting (AIFABRIC_SIM_ROOT
in a tmp dir); its output must read back through the collection's parser
(plugins/module_utils/nfs_mountstats.py) with the options the mount asked for.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

from simpkg import REPO

PKG = REPO / "lab/sim-packages/nfs-common"
SOURCE = PKG / "usr/lib/aifabric-sim/nfs_common.py"
MOUNT_NFS = PKG / "sbin/mount.nfs"
SIMNFS = PKG / "usr/sbin/aifabric-sim-nfs"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sim = _load("aifabric_nfs_common_sim", SOURCE)
parser = _load("aifabric_nfs_mountstats", REPO / "plugins/module_utils/nfs_mountstats.py")


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("AIFABRIC_SIM_ROOT", str(tmp_path))
    return tmp_path


def mounts(root):
    return parser.parse_mountstats((root / "var/lib/aifabric-sim/nfs/mountstats").read_text())


LAB_OPTS = "rw,vers=4.2,proto=tcp,nconnect=4,rsize=1048576,wsize=1048576,hard,_netdev,x-systemd.automount"


@pytest.mark.parametrize("optstr,want", [
    (LAB_OPTS, dict(vers="4.2", proto="tcp", nconnect=4, rsize=1048576, wsize=1048576, hard=True, port=2049)),
    ("", dict(vers="4.2", proto="tcp", nconnect=1, rsize=1048576, wsize=1048576, hard=True, port=2049)),
    ("vers=4.1,soft,rsize=65000,wsize=4194304,nconnect=16",
     dict(vers="4.1", proto="tcp", nconnect=16, rsize=61440, wsize=1048576, hard=False, port=2049)),
    ("nfsvers=4,minorversion=0,timeo=100", dict(vers="4.0", proto="tcp", nconnect=1, hard=True, timeo=100)),
    ("vers=4.2,proto=rdma", dict(vers="4.2", proto="rdma", nconnect=1, port=20049)),
])
def test_writer_reads_back(root, optstr, want):
    rec = sim.negotiate("10.232.0.200", "/datasets", optstr, clientaddr="10.232.0.21")
    sim.add_mount(rec, "/mnt/datasets", now=1000.0)
    (mount,) = mounts(root)
    assert mount["device"] == "10.232.0.200:/datasets" and mount["mount_point"] == "/mnt/datasets"
    assert mount["clientaddr"] == "10.232.0.21" and mount["sec"] == "sys" and not mount["warnings"]
    for key, value in want.items():
        assert mount[key] == value, key
    assert mount["xprt"]["xprt_count"] == mount["nconnect"]
    assert mount["xprt"]["transport"] == want["proto"]
    assert mount["rpc_iostats_version"] == "1.1" and mount["rpc_program_version"] == 4
    assert "NULL" in mount["ops"] and "READ_PLUS" in mount["ops"]
    assert mount["totals"]["retransmissions"] == 0


def test_opts_in_the_kernels_order(root):
    sim.add_mount(sim.negotiate("10.232.0.200", "/datasets", LAB_OPTS, clientaddr="10.232.0.21"), "/mnt/d")
    text = (root / "var/lib/aifabric-sim/nfs/mountstats").read_text()
    assert ("\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,acregmin=3,acregmax=60,acdirmin=30,"
            "acdirmax=60,hard,proto=tcp,nconnect=4,timeo=600,retrans=2,sec=sys,clientaddr=10.232.0.21,"
            "local_lock=none\n") in text
    assert text.startswith("device 10.232.0.200:/datasets mounted on /mnt/d with fstype nfs4 statvers=1.1\n")
    assert text.count("\txprt:\ttcp ") == 4


@pytest.mark.parametrize("optstr,message", [
    ("vers=3", "requested NFS version or transport protocol is not supported"),
    ("nconnect=17", "an incorrect mount option was specified"),
    ("proto=udp", "an incorrect mount option was specified"),
    ("bogus=1", "an incorrect mount option was specified"),
])
def test_refused_options(optstr, message):
    with pytest.raises(sim.MountError) as exc:
        sim.negotiate("10.232.0.200", "/datasets", optstr)
    assert exc.value.msg == "mount.nfs: " + message and exc.value.rc == 32


def test_unmounted_entries_are_dropped(root):
    info = root / "proc/self/mountinfo"
    info.parent.mkdir(parents=True)
    info.write_text("22 1 0:21 / /mnt/a rw,relatime - tmpfs 10.232.0.200:/datasets rw\n"
                    "23 1 0:22 / /mnt/b rw,relatime - tmpfs 10.232.0.200:/datasets rw\n")
    for point in ("/mnt/a", "/mnt/b"):
        sim.add_mount(sim.negotiate("10.232.0.200", "/datasets", "", clientaddr="10.232.0.21"), point)
    assert [m["mount_point"] for m in mounts(root)] == ["/mnt/a", "/mnt/b"]
    info.write_text("22 1 0:21 / /mnt/a rw,relatime - tmpfs 10.232.0.200:/datasets rw\n")
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root))
    subprocess.run([str(SIMNFS), "refresh"], env=env, check=True)
    assert [m["mount_point"] for m in mounts(root)] == ["/mnt/a"]


def test_fault_retrans_and_clear(root):
    sim.add_mount(sim.negotiate("10.232.0.200", "/datasets", LAB_OPTS, clientaddr="10.232.0.21"), "/mnt/d")
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root))
    res = subprocess.run([str(SIMNFS), "fault", "retrans", "/mnt/d", "9"], env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stderr
    (mount,) = mounts(root)
    assert mount["totals"]["retransmissions"] == 9 and mount["totals"]["timeouts"] == 3
    assert mount["xprt"]["sends"] - mount["xprt"]["recvs"] == 9
    subprocess.run([str(SIMNFS), "clear"], env=env, check=True)
    (mount,) = mounts(root)
    assert mount["totals"]["retransmissions"] == 0
    res = subprocess.run([str(SIMNFS), "fault", "retrans", "/mnt/other", "1"], env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 2 and "not a mount of the simulated NFS client" in res.stderr


def test_mount_nfs_cli(tmp_path):
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path))
    res = subprocess.run([str(MOUNT_NFS), "-V"], env=env, capture_output=True, text=True, check=False)
    assert (res.returncode, res.stdout) == (0, "mount.nfs: (linux nfs-utils 2.6.2)\n")
    res = subprocess.run([str(MOUNT_NFS), "server-without-export", str(tmp_path)], env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 32 and res.stderr == "mount.nfs: remote share not in 'host:dir' format\n"
    res = subprocess.run([str(MOUNT_NFS), "10.0.0.1:/x", str(tmp_path / "nope")], env=env, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 32 and "mount point %s does not exist" % (tmp_path / "nope") in res.stderr


def test_connection_refused_is_real(tmp_path):
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path))
        res = subprocess.run([sys.executable, str(SOURCE), "--tool", "mount.nfs", "127.0.0.1:/datasets",
                              str(tmp_path), "-o", "port=%d" % port], env=env, capture_output=True, text=True,
                             check=False)
    assert (res.returncode, res.stderr) == (32, "mount.nfs: Connection refused\n")
