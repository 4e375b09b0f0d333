"""Verify roce_host on the lab's GPU nodes: the fabric port's persisted MTU and address,
and the simulated ConnectX's RoCE QoS read back through the real tools' interfaces."""
import json
import os
import subprocess

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
SYS = "/var/lib/aifabric-sim/sys"
CFS = "/var/lib/aifabric-sim/configfs"


netdev = labhosts.fabric_netdev


def pfc_row(report):
    for line in report.splitlines():
        if line.strip().startswith("enabled"):
            return [int(x) for x in line.split()[1:]]
    raise AssertionError(report)


@pytest.mark.parametrize("name", GPU)
def test_fabric_port_persisted_by_networkd(name):
    h = labhosts.host(name)
    dev = netdev(name)
    hv = labhosts.hostvars(name)
    unit = h.file("/etc/systemd/network/10-aifabric-fabric.network").content_string
    assert "MACAddress=%s" % hv["node_fabric_mac"].lower() in unit
    assert "MTUBytes=9000" in unit and "Address=%s/24" % hv["node_fabric_ip"] in unit
    assert h.service("systemd-networkd").is_running
    assert h.check_output("networkctl status %s --no-pager", dev).count("configured") >= 1
    assert h.file("/sys/class/net/%s/mtu" % dev).content_string.strip() == "9000"
    assert hv["node_fabric_ip"] in h.check_output("ip -4 -o addr show dev %s", dev)


@pytest.mark.parametrize("name", GPU)
def test_nic_qos_matches_the_intent(name):
    h = labhosts.host(name)
    dev = netdev(name)
    report = h.check_output("mlnx_qos -i %s", dev)
    assert "Priority trust state: dscp" in report
    assert pfc_row(report) == [0, 0, 0, 1, 0, 0, 0, 0]
    dscp = {}
    for line in report.splitlines():
        line = line.strip()
        if line.startswith("prio:") and "dscp:" in line:
            prio = int(line.split()[0].split(":")[1])
            for d in line.split("dscp:")[1].strip(",").split(","):
                dscp[int(d)] = prio
    assert dscp[26] == 3 and dscp[48] == 6, dscp
    ecn = "%s/class/net/%s/ecn" % (SYS, dev)
    for point in ("roce_np", "roce_rp"):
        on = [int(h.file("%s/%s/enable/%d" % (ecn, point, p)).content_string) for p in range(8)]
        assert on == [0, 0, 0, 1, 0, 0, 0, 0], (point, on)
    assert h.file(ecn + "/roce_np/cnp_dscp").content_string.strip() == "48"
    assert h.file(ecn + "/roce_np/cnp_802p_prio").content_string.strip() == "6"
    port = "%s/rdma_cm/mlx5_0/ports/1" % CFS
    assert h.file(port + "/default_roce_mode").content_string.strip() == "RoCE v2"
    assert h.file(port + "/default_roce_tos").content_string.strip() == "106"


@pytest.mark.fault
@pytest.mark.parametrize("name", GPU[:1])
def test_boot_unit_restores_the_qos(name):
    h = labhosts.host(name)
    dev = netdev(name)
    assert h.service("aifabric-roce-qos").is_enabled
    try:
        # what a NIC reset does: the firmware forgets the QoS
        assert h.run("mlnx_qos -i %s --pfc 0,0,0,0,0,0,0,0", dev).rc == 0
        assert pfc_row(h.check_output("mlnx_qos -i %s", dev)) == [0] * 8
        assert h.run("systemctl restart aifabric-roce-qos").rc == 0
        assert pfc_row(h.check_output("mlnx_qos -i %s", dev)) == [0, 0, 0, 1, 0, 0, 0, 0]
    finally:
        h.run("mlnx_qos -i %s --pfc 0,0,0,1,0,0,0,0", dev)


def nic_rate(name):
    path = os.path.join(labhosts.ROOT, "lab", "sim-packages", "aifabric-sim-common", "usr", "share",
                        "aifabric-lab", "profiles", labhosts.hostvars(name)["node_hw_profile"] + ".json")
    with open(path) as f:
        return json.load(f)["nics"][0]["rate_gbps"]


def test_rdma_port_healthy_with_the_roce_v2_gid_of_the_fabric_address():
    by_rate = {}
    for name in GPU:
        by_rate.setdefault(nic_rate(name), []).append(name)
    seen = 0
    for rate, hosts in sorted(by_rate.items()):
        out = subprocess.run(
            ["ansible", "gpu_nodes", "-i", os.path.join(labhosts.ROOT, "inventories", "lab"), "-o",
             "--limit", ",".join(hosts), "-m", "aifabric.cluster.rdma_link_info",
             "-a", "sysfs_root=%s/class/infiniband expected_port_count=1 expected_link_layer=Ethernet "
                   "min_rate_gbps=%d expected_roce_ipv4={{ node_fabric_ip }}" % (SYS, rate)],
            capture_output=True, text=True, cwd=labhosts.ROOT, check=False)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
        for line in out.stdout.splitlines():
            host, rest = line.split(" | ", 1)
            result = json.loads(rest.split(" => ", 1)[1])
            assert result["healthy"] is True, (host, result.get("node_reasons"))
            assert result["roce_gid"]["netdev"] == netdev(host), result["roce_gid"]
            seen += 1
    assert seen == len(GPU)
