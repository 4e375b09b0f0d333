"""Verify the storage phase on the lab's GPU nodes: a real NFS round trip with the lab's
NFS-Ganesha appliance, the options the (simulated) kernel negotiated read back by
nfs_mount_info, the Lustre client healthy by lustre_client_info; then a fault pass, each
fault named exactly, on the node and target where it was injected, and restored."""
import json
import subprocess

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
NFS = "10.232.0.200"
LUSTRE_NID = "10.232.0.10@tcp"
DATASETS = "/mnt/datasets"
SCRATCH = "/lustre/scratch"
MOUNTSTATS = "/var/lib/aifabric-sim/nfs/mountstats"
NFS_EXPECTED = json.dumps({
    "mountstats_path": MOUNTSTATS, "probe_timeout": 5,
    "expected_mounts": [{"mount_point": DATASETS, "source": NFS + ":/datasets", "vers": "4.2", "proto": "tcp",
                         "nconnect": 4, "hard": True, "rsize_max": 1048576, "wsize_max": 1048576}]})
LUSTRE_EXPECTED = json.dumps({"mgs_nids": [LUSTRE_NID], "expected_mounts": [SCRATCH], "command_timeout": 5})


def nfs_info(hosts=None):
    return labhosts.module(hosts or GPU, "aifabric.cluster.nfs_mount_info", NFS_EXPECTED)


def lustre_info(hosts=None):
    return labhosts.module(hosts or GPU, "aifabric.cluster.lustre_client_info", LUSTRE_EXPECTED)


@pytest.mark.parametrize("name", GPU)
def test_fstab_and_live_mounts(name):
    h = labhosts.host(name)
    fstab = h.file("/etc/fstab").content_string
    assert ("%s:/datasets %s nfs vers=4.2,proto=tcp,nconnect=4,rsize=1048576,wsize=1048576,hard,_netdev,"
            "x-systemd.automount,x-systemd.mount-timeout=60" % (NFS, DATASETS)) in fstab
    assert ("%s:/scratch %s lustre flock,noatime,x-systemd.requires=lnet.service,_netdev,x-systemd.automount,"
            "x-systemd.mount-timeout=60" % (LUSTRE_NID, SCRATCH)) in fstab
    assert h.check_output("findmnt -n -o SOURCE --mountpoint %s", DATASETS) == NFS + ":/datasets"
    assert h.check_output("findmnt -n -o SOURCE --mountpoint %s", SCRATCH) == LUSTRE_NID + ":/scratch"
    assert h.run("findmnt --verify --tab-file /etc/fstab").rc == 0


@pytest.mark.parametrize("name", GPU)
def test_lnet_configured_the_dlc_way_on_the_fabric_port(name):
    h = labhosts.host(name)
    dev = labhosts.fabric_netdev(name)
    conf = h.file("/etc/lnet.conf").content_string
    assert "net type: tcp0" in conf and "0: %s" % dev in conf
    assert not h.file("/etc/modprobe.d/lnet.conf").exists
    svc = h.service("lnet")
    assert svc.is_enabled and svc.is_running
    assert "/sys/class/net/%s/operstate" % dev in h.file(
        "/etc/systemd/system/lnet.service.d/aifabric-link-wait.conf").content_string
    assert h.check_output("lctl list_nids") == "%s@tcp" % labhosts.hostvars(name)["node_fabric_ip"]
    vermagic = h.check_output("modinfo -F vermagic lustre").split()[0]
    assert vermagic == h.check_output("uname -r")


@pytest.mark.parametrize("name", GPU)
def test_real_nfs_round_trip_with_the_ganesha_appliance(name):
    h = labhosts.host(name)
    url = "nfs://%s/datasets/%s.txt?version=4" % (NFS, name)
    payload = "written by %s over NFSv4" % name
    h.check_output("printf '%%s' %s > /tmp/nfs-rt.txt", payload)
    h.check_output("nfs-cp /tmp/nfs-rt.txt '%s'", url)
    h.check_output("rm -f /tmp/nfs-back.txt && nfs-cp '%s' /tmp/nfs-back.txt", url)
    assert h.file("/tmp/nfs-back.txt").content_string == payload
    assert "%s.txt" % name in h.check_output("nfs-ls 'nfs://%s/datasets?version=4'", NFS)


def test_negotiated_nfs_options_read_back():
    for name, r in nfs_info().items():
        assert r["healthy"] is True, (name, r.get("reasons"))
        (mount,) = [m for m in r["mounts"] if m["mount_point"] == DATASETS]
        assert (mount["vers"], mount["proto"], mount["nconnect"], mount["hard"]) == ("4.2", "tcp", 4, True), mount
        assert (mount["rsize"], mount["wsize"]) == (1048576, 1048576)
        assert mount["xprt"]["xprt_count"] == 4, mount["xprt"]


def test_lustre_client_healthy():
    for name, r in lustre_info().items():
        assert r["healthy"] is True, (name, r.get("reasons"))
        assert r["reasons"] == []


def reasons_by_host(results):
    return dict((name, " ".join(r.get("reasons") or [])) for name, r in results.items()
                if r.get("healthy") is not True)


@pytest.mark.fault
def test_fault_ost_disconnected_named_on_its_node_and_target():
    name = GPU[1]
    h = labhosts.host(name)
    assert h.run("aifabric-sim-lustre fault ost-disconn scratch-OST0001").rc == 0
    try:
        bad = reasons_by_host(lustre_info())
        assert list(bad) == [name], bad
        assert "scratch-OST0001" in bad[name] and "DISCONN" in bad[name], bad[name]
        assert "OST0000" not in bad[name]
    finally:
        h.run("aifabric-sim-lustre clear")
    assert reasons_by_host(lustre_info([name])) == {}


@pytest.mark.fault
def test_fault_lnet_down_named_on_its_node():
    name = GPU[2]
    h = labhosts.host(name)
    assert h.run("aifabric-sim-lustre fault lnet-down").rc == 0
    try:
        bad = reasons_by_host(lustre_info())
        assert list(bad) == [name], bad
        assert "LNet" in bad[name] and "down" in bad[name].lower(), bad[name]
    finally:
        h.run("aifabric-sim-lustre clear")
    assert reasons_by_host(lustre_info([name])) == {}


@pytest.mark.fault
def test_fault_hung_mounts_time_out_and_are_named():
    name = GPU[-1]
    h = labhosts.host(name)
    assert h.run("aifabric-sim-nfs fault hung %s" % DATASETS).rc == 0
    assert h.run("aifabric-sim-lustre fault hung").rc == 0
    try:
        bad = reasons_by_host(nfs_info())
        assert list(bad) == [name], bad
        assert DATASETS in bad[name] and "hung" in bad[name], bad[name]
        bad = reasons_by_host(lustre_info())
        assert list(bad) == [name], bad
        assert "timed out" in bad[name] or "killed" in bad[name], bad[name]
    finally:
        h.run("aifabric-sim-nfs clear")
        h.run("aifabric-sim-lustre clear")
    assert reasons_by_host(nfs_info([name])) == {}
    assert reasons_by_host(lustre_info([name])) == {}


@pytest.mark.fault
def test_fault_mgs_unreachable_named_by_its_nid():
    net, box = "aifabric-lab-fabric", "aifabric-lab-lustre"
    subprocess.run(["podman", "network", "disconnect", net, box], check=True, capture_output=True)
    try:
        bad = reasons_by_host(lustre_info())
        assert sorted(bad) == GPU, bad
        for name in GPU:
            assert LUSTRE_NID in bad[name], bad[name]
    finally:
        subprocess.run(["podman", "network", "connect", "--ip", "10.232.0.10", net, box], check=True, capture_output=True)
    assert labhosts.wait_for(lambda: reasons_by_host(lustre_info()) == {}, timeout=60, interval=3)


@pytest.mark.fault
def test_fault_other_filesystem_left_untouched_and_module_kernel_mismatch_named():
    """One storage run over two broken nodes: another filesystem on a managed mount point
    (left as it is, fstab included, and reported) and a Lustre module built for another
    kernel (named with both versions)."""
    name, other = GPU[0], GPU[1]
    h, o = labhosts.host(name), labhosts.host(other)
    assert h.run("umount %s" % DATASETS).rc == 0
    assert h.run("mount -t tmpfs -o size=1m someone-else:/data %s" % DATASETS).rc == 0
    assert o.run("aifabric-sim-lustre fault kmod-mismatch").rc == 0
    fstab = h.file("/etc/fstab").content_string
    try:
        proc = labhosts.playbook("storage.yml", "--limit", "%s,%s" % (name, other))
        out = " ".join(proc.stdout.split())
        assert proc.returncode != 0, proc.stdout[-3000:]
        assert ("%s: %s holds someone-else:/data (tmpfs), not %s:/datasets; left as it is"
                % (name, DATASETS, NFS)) in out, proc.stdout[-3000:]
        assert h.check_output("findmnt -n -o SOURCE --mountpoint %s", DATASETS) == "someone-else:/data"
        assert h.file("/etc/fstab").content_string == fstab
        kernel = o.check_output("uname -r")
        assert ("%s: the Lustre module is built for kernel 6.1.0-0.deb12.99-amd64, the running kernel is %s"
                % (other, kernel)) in out, proc.stdout[-3000:]
        assert "failed=1" in out.rsplit("PLAY RECAP", maxsplit=1)[-1]
    finally:
        h.run("umount %s" % DATASETS)
        o.run("aifabric-sim-lustre clear")
    proc = labhosts.playbook("storage.yml", "--limit", "%s,%s" % (name, other))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert h.check_output("findmnt -n -o SOURCE --mountpoint %s", DATASETS) == NFS + ":/datasets"
