"""Verify the base role's real state on every lab host after playbooks/site.yml."""

import pytest

import labhosts

CLUSTER = labhosts.cluster_hosts()
GPU = labhosts.group("gpu_nodes")
MGMT = labhosts.group("mgmt_nodes")
INV = labhosts.inventory()
NTP_SERVER = "10.231.0.10"
REPO = "http://10.231.0.3/debian"


@pytest.mark.parametrize("name", CLUSTER)
def test_hostname_and_hosts(name):
    h = labhosts.host(name)
    assert h.check_output("hostname") == name
    # every cluster host resolves to its management address through /etc/hosts
    for other in CLUSTER:
        line = h.check_output("getent hosts %s", other).split()
        assert line[0] == INV["_meta"]["hostvars"][other]["node_mgmt_ip"], line
        assert "%s.lab.aifabric.internal" % other in line


@pytest.mark.parametrize("name", CLUSTER)
def test_packages_from_signed_lab_mirror(name):
    h = labhosts.host(name)
    for pkg in ("chrony", "pciutils", "numactl", "ethtool", "jq", "dmidecode"):
        assert h.package(pkg).is_installed, pkg
    # apt keeps an InRelease only after its signature verified against Signed-By
    assert h.file("/var/lib/apt/lists/10.231.0.3_debian_dists_bookworm_InRelease").exists
    sources = h.file("/etc/apt/sources.list.d/aifabric-lab.sources").content_string
    assert "Signed-By: /etc/apt/keyrings/aifabric-lab.asc" in sources
    assert REPO in h.check_output("apt-cache policy chrony")
    # simulator packages are delivered by the same signed repository
    policy = h.check_output("apt-cache policy aifabric-sim-common")
    assert "Candidate: 0.1.0" in policy and REPO in policy


@pytest.mark.parametrize("name", GPU)
def test_chrony_syncs_from_management_node(name):
    h = labhosts.host(name)
    assert h.service("chrony").is_running and h.service("chrony").is_enabled

    def reached():
        for line in h.check_output("chronyc -n -c sources").splitlines():
            fields = line.split(",")
            if fields[2] == NTP_SERVER and int(fields[5], 8) != 0:
                return fields
        return None

    fields = labhosts.wait_for(reached, timeout=60)
    assert fields, "%s never reached NTP server %s: %s" % (
        name, NTP_SERVER, h.check_output("chronyc -n sources"))


@pytest.mark.parametrize("name", MGMT)
def test_management_node_serves_time(name):
    h = labhosts.host(name)
    conf = h.file("/etc/chrony/chrony.conf").content_string
    assert "allow 10.231.0.0/24" in conf and "local stratum 10" in conf

    def served():
        for line in h.check_output("chronyc serverstats").splitlines():
            if line.startswith("NTP packets received"):
                return int(line.split(":")[1]) > 0
        return False

    assert labhosts.wait_for(served, timeout=60), h.check_output("chronyc serverstats")


@pytest.mark.parametrize("name", CLUSTER)
def test_tuning_only_on_gpu_nodes(name):
    h = labhosts.host(name)
    sysctl = h.file("/etc/sysctl.d/90-aifabric.conf")
    limits = h.file("/etc/security/limits.d/90-aifabric-rdma.conf")
    assert sysctl.exists
    if name in GPU:
        assert "vm.zone_reclaim_mode = 0" in sysctl.content_string
        assert "kernel.numa_balancing = 0" in sysctl.content_string
        assert "* hard memlock unlimited" in " ".join(limits.content_string.split())
    else:
        assert "zone_reclaim_mode" not in sysctl.content_string
        assert not limits.exists


@pytest.mark.parametrize("name", CLUSTER)
def test_journal_is_persistent(name):
    h = labhosts.host(name)
    header = h.check_output("journalctl --header --system")
    assert "File path: /var/log/journal/" in header


@pytest.mark.parametrize("name", CLUSTER)
def test_no_failed_units(name):
    h = labhosts.host(name)
    state = h.run("systemctl is-system-running").stdout.strip()
    assert state == "running", h.run("systemctl --failed --no-legend").stdout


def test_fabric_carries_jumbo_frames():
    if len(GPU) < 2:
        pytest.skip("needs two GPU nodes")
    a, b = GPU[0], GPU[1]
    peer = INV["_meta"]["hostvars"][b]["node_fabric_ip"]
    h = labhosts.host(a)
    # 8972 bytes of ICMP payload + 28 bytes of headers = 9000, don't fragment
    assert h.run("ping -c1 -W2 -M do -s 8972 %s", peer).rc == 0
    # one byte more does not fit the fabric MTU
    assert h.run("ping -c1 -W2 -M do -s 8973 %s", peer).rc != 0
