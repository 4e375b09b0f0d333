"""roles/fabric_switch against the lab's simulated Dell Enterprise SONiC switch, on the controller (127.0.0.1).

The role runs as users run it (ansible-playbook, ansible.netcommon.httpapi over HTTPS, the
unmodified dellemc.enterprise_sonic modules): check mode on a fresh switch changes nothing, a
converge pushes the intent, a second converge changes nothing, check mode on a drifted switch
shows the drift and leaves it. The fabric validator's SONiC rules (check_sonic) read the
switch's sonic_facts resources, read the way playbooks/fabric_validate.yml reads them.
"""
import json
import os
import subprocess

import pytest
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils.fabric_consistency import fabric_violations
from labtest import QOS, REPO, SONIC_PASSWORD, Sonic, ansible_playbook, make_cert

INTENT = yaml.safe_load((REPO / "inventories/lab/group_vars/all/fabric.yml").read_text())["cluster_fabric_qos"]
PORTS = [{"name": "Ethernet0", "peer": "gpu-01", "address": "10.20.0.0/31"}, {"name": "Ethernet8", "peer": "gpu-02"}]
SUBSETS = ["qos_maps", "qos_pfc", "qos_interfaces", "qos_wred", "qos_scheduler", "interfaces"]
# the role, then (every run) the switch's resources as fabric_validate.yml reads them, written to facts.json
PLAY = """---
- name: Fabric switches
  hosts: switches
  gather_facts: false
  tags: [role]
  roles:
    - role: aifabric.cluster.fabric_switch

- name: Read the switch the way fabric_validate does
  hosts: switches
  gather_facts: false
  tags: [facts]
  tasks:
    - name: SONiC resources
      dellemc.enterprise_sonic.sonic_facts:
        gather_network_resources: %s
      register: sonic_read

    - name: Write them
      ansible.builtin.copy:
        content: "{{ sonic_read.ansible_facts | to_json }}"
        dest: "{{ facts_file }}"
        mode: "0644"
      delegate_to: localhost
      check_mode: false
      changed_when: false
""" % json.dumps(SUBSETS)

pytestmark = pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")


@pytest.fixture(name="leaf", scope="module")
def leaf_fixture(tmp_path_factory):
    pytest.importorskip("cryptography")
    cert = make_cert(tmp_path_factory.mktemp("tls"))
    sw = Sonic(tmp_path_factory.mktemp("leaf") / "state", *cert).start()
    yield sw
    sw.stop()


def playbook(tmp_path, leaf, *args):
    """(process, changed count of leaf-01, the sonic_facts read after the run)."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump({"all": {"vars": {"cluster_fabric_qos": INTENT}, "children": {"switches": {"hosts": {
        "leaf-01": {"ansible_host": "127.0.0.1", "ansible_httpapi_port": leaf.port, "ansible_user": "admin",
                    "ansible_password": SONIC_PASSWORD, "ansible_connection": "ansible.netcommon.httpapi",
                    "ansible_network_os": "dellemc.enterprise_sonic.sonic", "ansible_httpapi_use_ssl": True,
                    "ansible_httpapi_validate_certs": False, "switch_platform": "sonic",
                    "switch_fabric_interfaces": PORTS, "facts_file": str(tmp_path / "facts.json")}}}}}}))
    play = tmp_path / "fabric.yml"
    play.write_text(PLAY)
    facts = tmp_path / "facts.json"
    if facts.exists():
        facts.unlink()
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=str(tmp_path / "pc"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache/collections"),
               PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([ansible_playbook(), "-i", str(inv), str(play)] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    recap = [line for line in proc.stdout.splitlines() if line.startswith("leaf-01 ") and "ok=" in line]
    changed = int(recap[-1].split("changed=")[1].split()[0]) if recap else None
    read = json.loads(facts.read_text()) if facts.exists() else None
    return proc, changed, read


def violations(read):
    switch = dict(read["ansible_network_resources"], platform="sonic", fabric_interfaces=[p["name"] for p in PORTS],
                  gathered=read["ansible_net_gather_network_resources"])
    intent = dict(INTENT, host_mtu=9000)
    return [(v["rule"], v.get("setting"), v.get("port")) for v in fabric_violations(intent, {}, {"leaf-01": switch})]


def config(leaf):
    return leaf.get("/aifabric-sim/state")["config"]


def test_check_converge_idempotence_drift_and_consistency(tmp_path, leaf):
    leaf.reset()
    factory = config(leaf)

    # check mode on a fresh switch: shows the change, changes nothing
    proc, changed, _read = playbook(tmp_path, leaf, "--check", "--diff", "--skip-tags", "facts")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed and changed > 0
    assert "'name': 'AIFABRIC'" in proc.stdout and "'dscp_fwd_group': 'AIFABRIC'" in proc.stdout  # the --diff
    assert config(leaf) == factory and leaf.writes() == []

    # converge: the intent on the switch, consistent by the validator's rules
    proc, changed, read = playbook(tmp_path, leaf)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed and changed > 0
    assert violations(read) == []
    qos = leaf.get(QOS)["openconfig-qos:qos"]
    ports = dict((i["interface-id"], i) for i in qos["interfaces"]["interface"])
    for port in PORTS:
        assert ports[port["name"]]["pfc"]["pfc-priorities"]["pfc-priority"] == [{"dot1p": 3, "config": {"dot1p": 3, "enable": True}}]
        assert ports[port["name"]]["openconfig-qos-maps-ext:interface-maps"]["config"]["dscp-to-forwarding-group"] == "AIFABRIC"
    assert ports["Ethernet16"]["openconfig-qos-maps-ext:interface-maps"]["config"] == {"dscp-to-forwarding-group": "AZURE"}
    mtu = leaf.get("/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet8/config/mtu")
    assert mtu == {"openconfig-interfaces:mtu": 9216}
    addr = leaf.get("/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet0/subinterfaces/subinterface=0"
                    "/openconfig-if-ip:ipv4/addresses")
    assert addr["openconfig-if-ip:addresses"]["address"][0]["config"] == {"ip": "10.20.0.0", "prefix-length": 31}

    # a second converge changes nothing (and writes nothing)
    leaf.ok("DELETE", "/aifabric-sim/log")
    proc, changed, _read = playbook(tmp_path, leaf, "--skip-tags", "facts")
    assert proc.returncode == 0 and changed == 0, proc.stdout[-6000:]
    assert leaf.writes() == []

    # drift: a port loses PFC; the validator names it; check mode shows it and leaves it
    leaf.ok("DELETE", QOS + "/interfaces/interface=Ethernet8/pfc/pfc-priorities/pfc-priority=3/config/enable")
    drifted = config(leaf)
    proc, changed, read = playbook(tmp_path, leaf, "--check", "--diff")
    assert proc.returncode == 0 and changed and changed > 0, proc.stdout[-6000:]
    assert violations(read) == [("pfc", "pfc_priorities", "Ethernet8")]
    assert "'enable': true" in proc.stdout  # the --diff of sonic_qos_interfaces
    assert config(leaf) == drifted

    # the other break, PFC back on: DSCP 26 to a lossy traffic class in the role's map
    leaf.ok("PATCH", QOS + "/interfaces/interface=Ethernet8/pfc/pfc-priorities/pfc-priority=3/config",
            {"openconfig-qos:config": {"enable": True}})
    leaf.ok("PATCH", QOS + "/openconfig-qos-maps-ext:dscp-maps/dscp-map=AIFABRIC", {"openconfig-qos-maps-ext:dscp-map": [
        {"name": "AIFABRIC", "dscp-map-entries": {"dscp-map-entry": [{"dscp": 26, "config": {"dscp": 26, "fwd-group": "1"}}]}}]})
    proc, changed, read = playbook(tmp_path, leaf, "--tags", "facts")
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert violations(read) == [("dscp_map", "dscp_tc.26", "Ethernet0, Ethernet8")]


@pytest.mark.skipif(os.environ.get("AIFABRIC_SONIC_SIM_EXTRAS") != "1", reason="set AIFABRIC_SONIC_SIM_EXTRAS=1 (slow: 2 more runs)")
def test_drifted_maps_rollback_and_repair(tmp_path, leaf):
    leaf.reset()
    proc, changed, _read = playbook(tmp_path, leaf, "--skip-tags", "facts")
    assert proc.returncode == 0 and changed, proc.stdout[-6000:]
    # drift: DSCP 26 lossy and a stale entry in the role's map (in use by the ports), ECN
    # probability, and a port without PFC
    dscp_map = QOS + "/openconfig-qos-maps-ext:dscp-maps/dscp-map=AIFABRIC"
    leaf.ok("PATCH", dscp_map, {"openconfig-qos-maps-ext:dscp-map": [{"name": "AIFABRIC", "dscp-map-entries": {"dscp-map-entry": [
        {"dscp": 26, "config": {"dscp": 26, "fwd-group": "1"}}, {"dscp": 24, "config": {"dscp": 24, "fwd-group": "3"}}]}}]})
    leaf.ok("PATCH", QOS + "/wred-profiles/wred-profile", {"openconfig-qos:wred-profile": [
        {"name": "AIFABRIC-ROCE", "config": {"name": "AIFABRIC-ROCE", "green-drop-probability": "50"}}]})
    leaf.ok("DELETE", QOS + "/interfaces/interface=Ethernet8/pfc/pfc-priorities/pfc-priority=3/config/enable")
    drifted = leaf.get(QOS)
    # the switch refuses the last push (the ports' QoS) once: the role rolls everything back
    leaf.ok("POST", "/aifabric-sim/fault", {"reject": "^PATCH /openconfig-qos:qos/interfaces ", "count": 1})
    proc, changed, _read = playbook(tmp_path, leaf)
    assert proc.returncode != 0 and "restored as read before the push" in proc.stdout, proc.stdout[-6000:]
    now = leaf.get(QOS)
    assert now["openconfig-qos:qos"]["openconfig-qos-maps-ext:dscp-maps"] == drifted["openconfig-qos:qos"]["openconfig-qos-maps-ext:dscp-maps"]
    assert now["openconfig-qos:qos"]["wred-profiles"] == drifted["openconfig-qos:qos"]["wred-profiles"]
    ports = dict((i["interface-id"], i) for i in now["openconfig-qos:qos"]["interfaces"]["interface"])
    assert not ports["Ethernet8"]["pfc"]["pfc-priorities"]["pfc-priority"][0]["config"].get("enable")
    assert ports["Ethernet0"]["pfc"]["pfc-priorities"]["pfc-priority"][0]["config"]["enable"] is True
    # the next run repairs it: merged maps, the stale entry deleted (not the map, which the ports use)
    proc, changed, read = playbook(tmp_path, leaf)
    assert proc.returncode == 0 and changed, proc.stdout[-6000:]
    assert violations(read) == []
    entries = leaf.get(dscp_map)["openconfig-qos-maps-ext:dscp-map"][0]["dscp-map-entries"]["dscp-map-entry"]
    assert sorted((e["dscp"], e["config"]["fwd-group"]) for e in entries) == [(26, "3"), (48, "6")]
