"""The fabric, proven consistent: playbooks/fabric_validate.yml on the converged lab (the
GPU nodes' simulated ConnectX ports, the simulated NX-OS and SONiC leaves), then one thing broken
at a time; each time the validator must name exactly that violation. Then check mode on
a drifted switch: it shows the drift and changes nothing."""
import json
import os
import re

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
SWITCHES = labhosts.group("leaf_switches")
LEAF = [n for n in SWITCHES if labhosts.hostvars(n)["switch_platform"] == "nxos"][0]
SONIC = [n for n in SWITCHES if labhosts.hostvars(n)["switch_platform"] == "sonic"][0]
DSCP_MAP = "/restconf/data/openconfig-qos:qos/openconfig-qos-maps-ext:dscp-maps/dscp-map=AIFABRIC"
playbook = labhosts.playbook


def validate(tmp_path):
    """The violations of report.json, as (rule, host or switch, port) with their messages."""
    proc = playbook("fabric_validate.yml", "-e", "fabric_validate_report_dir=%s" % tmp_path, "-e", "fabric_validate_fail=false")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(os.path.join(str(tmp_path), "report.json")) as f:
        report = json.load(f)
    assert os.path.getsize(os.path.join(str(tmp_path), "report.md")) > 0
    return [(v["rule"], v.get("host", v.get("switch")), v.get("port")) for v in report["violations"]], report


netdev = labhosts.fabric_netdev


def leaf_config(*lines):
    outputs = labhosts.switch_cli(LEAF, ["configure terminal"] + list(lines) + ["end"])
    for line, out in zip(lines, outputs[1:]):
        assert "Invalid" not in out and "ERROR" not in out and "% " not in out, (line, out)


def leaf_running():
    """The switch's running-config, without the echoed command, the prompt and the '!' header lines."""
    lines = labhosts.switch_cli(LEAF, ["show running-config"])[0].replace("\r", "").split("\n")[1:-1]
    return "\n".join(line for line in lines if not line.startswith("!"))


# the driver package reinstalled with dpkg, and killed, with its whole process group (dpkg, the
# maintainer script, its child), in the configure step, where the real driver's DKMS build spends
# minutes: the double's postinst sleeps there while /var/lib/aifabric-sim/dkms-build-seconds says so
KILL_INSIDE_DPKG = r"""
set -e
cd /tmp
rm -f nvidia-driver-580-open_*.deb
apt-get download -q=2 "nvidia-driver-580-open=$(dpkg-query -W -f '${Version}' nvidia-driver-580-open)"
echo 120 > /var/lib/aifabric-sim/dkms-build-seconds
setsid dpkg -i /tmp/nvidia-driver-580-open_*.deb > /tmp/dpkg-killed.log 2>&1 < /dev/null &
for i in $(seq 120); do
  grep -q '^Building for' /tmp/dpkg-killed.log && break
  sleep 0.5
done
kill -KILL -- "-$(ps -o pgid= -C dpkg | tr -d ' ' | head -1)"
rm -f /var/lib/aifabric-sim/dkms-build-seconds /tmp/nvidia-driver-580-open_*.deb
sleep 1
dpkg-query -W -f '${Status}' nvidia-driver-580-open
"""


def kill_inside_dpkg(h):
    """Kill a package install inside dpkg on host h; the package's status afterwards."""
    out = h.run("bash -c %s", KILL_INSIDE_DPKG)
    assert out.rc == 0, out.stdout + out.stderr
    return out.stdout.strip()


def test_the_converged_fabric_is_consistent(tmp_path):
    found, report = validate(tmp_path)
    assert found == [], [v["message"] for v in report["violations"]]
    assert sorted(report["hosts"]) == GPU and report["switches"] == SWITCHES


@pytest.mark.fault
def test_a_host_with_pfc_on_the_wrong_priority(tmp_path):
    name = GPU[1]
    h, dev = labhosts.host(name), netdev(name)
    try:
        assert h.run("mlnx_qos -i %s --pfc 0,0,0,0,1,0,0,0", dev).rc == 0
        found, report = validate(tmp_path)
        assert found == [("pfc", name, None)], [v["message"] for v in report["violations"]]
    finally:
        h.run("mlnx_qos -i %s --pfc 0,0,0,1,0,0,0,0", dev)


@pytest.mark.fault
def test_a_switch_port_without_pfc(tmp_path):
    try:
        leaf_config("interface Ethernet1/2", "no priority-flow-control mode on")
        found, report = validate(tmp_path)
        assert found == [("pfc", LEAF, "Ethernet1/2")], [v["message"] for v in report["violations"]]
    finally:
        leaf_config("interface Ethernet1/2", "priority-flow-control mode on")


def dscp_26(fwd_group):
    status, _body = labhosts.switch_rest(SONIC, "PATCH", DSCP_MAP, {"openconfig-qos-maps-ext:dscp-map": [
        {"name": "AIFABRIC", "dscp-map-entries": {"dscp-map-entry": [{"dscp": 26, "config": {"dscp": 26, "fwd-group": fwd_group}}]}}]})
    assert status in (200, 204), status


@pytest.mark.fault
def test_a_switch_that_maps_dscp_26_to_a_lossy_class(tmp_path):
    ports = ", ".join(p["name"] for p in labhosts.hostvars(SONIC)["switch_fabric_interfaces"])
    try:
        # SONiC's own default map puts DSCP 26 in lossy traffic class 1: the role's map, drifted there
        dscp_26("1")
        found, report = validate(tmp_path)
        assert found == [("dscp_map", SONIC, ports)], [v["message"] for v in report["violations"]]
        assert "26" in report["violations"][0]["message"]
    finally:
        dscp_26("3")


@pytest.mark.fault
def test_a_host_mtu_of_1500(tmp_path):
    name = GPU[2]
    before = GPU[1]  # pings name in the path-MTU ring (sorted names)
    h, dev = labhosts.host(name), netdev(name)
    try:
        assert h.run("ip link set dev %s mtu 1500", dev).rc == 0
        found, report = validate(tmp_path)
        messages = [v["message"] for v in report["violations"]]
        assert ("mtu", name, None) in found, messages
        # the consequences of that one MTU: its own DF-bit pings fail, and so does the one
        # that its neighbour in the ring sends it; nothing else
        assert set(found) <= {("mtu", name, None), ("path_mtu", name, None), ("path_mtu", before, None)}, messages
        assert ("path_mtu", before, None) in found, messages
        assert all(name in m for m in messages), messages
        # live drift, as an operator meets it: check mode names it on exactly that node
        # and task (with a removed address on another node, and one drift of each other
        # class), converge restores them all, and the fabric is consistent again
        other = GPU[3]
        o, odev = labhosts.host(other), netdev(other)
        address = "%s/24" % labhosts.hostvars(other)["node_fabric_ip"]
        assert o.run("ip addr del %s dev %s", address, odev).rc == 0
        # the other classes of live drift: a stopped service, an unheld package, an edited file
        assert h.run("systemctl stop chrony").rc == 0
        # PFC moved to another priority on the NIC (priority 4 instead of the lossless 3)
        assert h.run("mlnx_qos -i %s --pfc 0,0,0,0,1,0,0,0", dev).rc == 0
        assert o.run("apt-mark unhold nvidia-driver-580-open").rc == 0
        assert o.run("echo 'vm.swappiness = 60' >> /etc/sysctl.d/90-aifabric.conf").rc == 0
        # and a package install killed mid-way on that node, for real: dpkg and its maintainer
        # script killed (last: any later dpkg database write folds dpkg's journal in)
        assert kill_inside_dpkg(o) == "install ok half-configured"
        assert "dpkg was interrupted" in o.run("apt-get -y autoremove").stderr
        proc = playbook("site.yml", "--check", "--diff", "--limit", "%s,%s" % (name, other))
        assert proc.returncode == 0, proc.stdout[-3000:]
        task = proc.stdout.split("TASK [aifabric.cluster.roce_host : Restore the fabric port's live MTU")[1].split("TASK [")[0]
        assert "changed: [%s]" % name in task and "changed: [%s]" % other in task, task
        assert "1500" in task and "9000" in task and address in task, task
        assert "%s: dpkg was interrupted" % other in proc.stdout, proc.stdout[-3000:]

        def changed_in(task_prefix):
            part = proc.stdout.split("TASK [aifabric.cluster." + task_prefix)[1].split("TASK [")[0]
            return sorted(n for n in (name, other) if "changed: [%s]" % n in part)
        assert changed_in("base : Enable chrony") == [name]
        assert changed_in("roce_host : Set the NIC's RoCE QoS") == [name]
        assert changed_in("nvidia_driver : Hold the driver packages") == [other]
        assert changed_in("base : Write kernel tunables") == [other]
        # the drift and nothing else: the MTU, chrony and PFC on one node; the address, dpkg,
        # the hold, the sysctl file and the restart of systemd-sysctl it notifies on the other
        for host, changes in ((name, 3), (other, 5)):
            assert re.search(r"^%s\s+: ok=\d+\s+changed=%d\s" % (host, changes), proc.stdout, re.M), \
                proc.stdout.split("PLAY RECAP")[1]
        assert h.check_output("cat /sys/class/net/%s/mtu", dev) == "1500"
        proc = playbook("site.yml", "--limit", "%s,%s" % (name, other))
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert h.check_output("cat /sys/class/net/%s/mtu", dev) == "9000"
        assert address in o.check_output("ip -4 -o addr show dev %s", odev)
        assert o.check_output("ls /var/lib/dpkg/updates") == "" and o.run("dpkg --audit").stdout == ""
        assert h.service("chrony").is_running
        assert re.search(r"enabled\s+0\s+0\s+0\s+1\s+0\s+0\s+0\s+0\s*$", h.check_output("mlnx_qos -i %s", dev), re.M)
        assert "nvidia-driver-580-open" in o.check_output("apt-mark showhold")
        assert "vm.swappiness" not in o.file("/etc/sysctl.d/90-aifabric.conf").content_string
        found, report = validate(tmp_path)
        assert found == [], [v["message"] for v in report["violations"]]
    finally:
        h.run("ip link set dev %s mtu 9000", dev)
        h.run("mlnx_qos -i %s --pfc 0,0,0,1,0,0,0,0", dev)
        # whatever a failed assertion left drifted, so that no later test sees it
        o = labhosts.host(GPU[3])
        o.run("rm -f /var/lib/aifabric-sim/dkms-build-seconds; dpkg --configure -a")
        o.run("ip addr add %s/24 dev %s", labhosts.hostvars(GPU[3])["node_fabric_ip"], netdev(GPU[3]))
        o.run("apt-mark hold nvidia-driver-580-open")
        o.run("sed -i '/^vm.swappiness = 60$/d' /etc/sysctl.d/90-aifabric.conf")
        h.run("systemctl start chrony")


@pytest.mark.fault
def test_check_mode_on_a_drifted_switch_shows_the_drift_and_changes_nothing():
    try:
        leaf_config("interface Ethernet1/1", "no priority-flow-control watch-dog-interval on")
        drifted = leaf_running()
        ports = labhosts.hostvars(LEAF)["switch_fabric_interfaces"]
        assert drifted.count("priority-flow-control watch-dog-interval on") == len(ports) - 1, drifted
        proc = playbook("fabric.yml", "--check", "--diff", "--limit", LEAF)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        recap = [line for line in proc.stdout.splitlines() if line.startswith(LEAF + " ") and "changed=" in line]
        assert recap and int(recap[-1].split("changed=")[1].split()[0]) > 0, proc.stdout[-3000:]
        # the --diff: the drifted port, the line the role would add back
        assert " interface Ethernet1/1\n+  priority-flow-control watch-dog-interval on\n" in proc.stdout, proc.stdout[-3000:]
        assert leaf_running() == drifted
    finally:
        leaf_config("interface Ethernet1/1", "priority-flow-control watch-dog-interval on")
