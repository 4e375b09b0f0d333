"""roles/fabric_switch against the lab's simulated NX-OS switch, on the controller (127.0.0.1).

The role runs as users run it (ansible-playbook, network_cli, the unmodified cisco.nxos
modules): check mode on a fresh switch changes nothing, a converge pushes the intent, a
second converge changes nothing, check mode on a drifted switch shows the drift and
leaves it, a push the switch rejects is rolled back to the checkpoint. The fabric
validator's rules read the switch's running-config at each step.
"""
import os
import subprocess

import paramiko
import pytest
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils.fabric_consistency import fabric_violations
from labtest import REPO, Switch, ansible_playbook

INTENT = yaml.safe_load((REPO / "inventories/lab/group_vars/all/fabric.yml").read_text())["cluster_fabric_qos"]
PORTS = [{"name": "Ethernet1/1", "peer": "gpu-01"}, {"name": "Ethernet1/2", "peer": "gpu-02"}]
PLAY = """---
- name: Fabric switches
  hosts: switches
  gather_facts: false
  roles:
    - role: aifabric.cluster.fabric_switch
"""

pytestmark = pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")


@pytest.fixture(name="leaf", scope="module")
def leaf_fixture(tmp_path_factory):
    state = tmp_path_factory.mktemp("leaf") / "state"
    state.mkdir()
    paramiko.RSAKey.generate(2048).write_private_key_file(str(state / "ssh_host_rsa_key"))
    sw = Switch(state, None).start()
    yield sw
    sw.stop()


def playbook(tmp_path, leaf, *args):
    inv = tmp_path / "hosts.yml"
    inv.write_text(yaml.safe_dump({"all": {"vars": {"cluster_fabric_qos": INTENT}, "children": {"switches": {"hosts": {
        "leaf-01": {"ansible_host": "127.0.0.1", "ansible_port": leaf.port, "ansible_user": "admin",
                    "ansible_password": "Lab-Pass-1", "ansible_connection": "ansible.netcommon.network_cli",
                    "ansible_network_os": "cisco.nxos.nxos", "switch_platform": "nxos",
                    "switch_fabric_interfaces": PORTS}}}}}}))
    play = tmp_path / "fabric.yml"
    play.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_NOCOLOR="1", ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=str(tmp_path / "pc"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache/collections"),
               PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([ansible_playbook(), "-i", str(inv), str(play)] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    recap = [line for line in proc.stdout.splitlines() if line.startswith("leaf-01 ") and "ok=" in line]
    changed = int(recap[-1].split("changed=")[1].split()[0]) if recap else None
    return proc, changed


def running(leaf):
    cli = leaf.cli()
    try:
        cli.run("terminal length 0")
        return cli.run("show running-config")
    finally:
        cli.close()


def configure(leaf, *lines):
    cli = leaf.cli()
    try:
        return cli.config("\n".join(lines))
    finally:
        cli.close()


def hook(leaf, command):
    """The simulator's hidden test hooks (exec mode)."""
    cli = leaf.cli()
    try:
        return cli.run(command)
    finally:
        cli.close()


def violations(leaf):
    switch = {"platform": "nxos", "fabric_interfaces": [p["name"] for p in PORTS], "running_config": running(leaf)}
    intent = dict(INTENT, host_mtu=9000)
    return [(v["rule"], v.get("port")) for v in fabric_violations(intent, {}, {"leaf-01": switch})]


def body(config):
    return [line for line in config.splitlines() if not line.startswith("!")]


def test_check_converge_idempotence_drift_and_rollback(tmp_path, leaf):
    factory = body(running(leaf))
    assert violations(leaf), "a factory switch is not a lossless fabric"

    # check mode on a fresh switch: shows the change, changes nothing
    proc, changed = playbook(tmp_path, leaf, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changed and changed > 0
    assert "pause pfc-cos 3" in proc.stdout  # the --diff
    assert body(running(leaf)) == factory
    assert "checkpoint" not in running(leaf)

    # converge: the intent on the switch, consistent by the validator's rules
    proc, changed = playbook(tmp_path, leaf)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changed and changed > 0
    config = running(leaf)
    for line in ("match dscp 26", "match dscp 48", "pause pfc-cos 3", "mtu 9216", "priority level 1",
                 "random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes drop-probability 7 weight 0 ecn"):
        assert line in config, line
    for port in PORTS:
        block = config.split("interface %s\n" % port["name"])[1].split("\ninterface ")[0]
        assert "priority-flow-control mode on" in block and "priority-flow-control watch-dog-interval on" in block, block
    assert violations(leaf) == []

    # a second converge changes nothing
    proc, changed = playbook(tmp_path, leaf)
    assert proc.returncode == 0 and changed == 0, proc.stdout[-4000:]

    # drift: a port loses PFC; check mode names it and leaves it drifted
    configure(leaf, "interface Ethernet1/2", "no priority-flow-control mode on")
    assert violations(leaf) == [("pfc", "Ethernet1/2")]
    drifted = body(running(leaf))
    proc, changed = playbook(tmp_path, leaf, "--check", "--diff")
    assert proc.returncode == 0 and changed and changed > 0, proc.stdout[-4000:]
    assert "priority-flow-control mode on" in proc.stdout
    assert body(running(leaf)) == drifted

    # the switch rejects the fix: the role rolls back to its checkpoint and says so
    assert "rejected" in hook(leaf, "aifabric-sim fault reject priority-flow-control mode on")
    proc, changed = playbook(tmp_path, leaf)
    assert proc.returncode != 0
    assert "leaf-01" in proc.stdout and "roll" in proc.stdout.lower(), proc.stdout[-4000:]
    assert body(running(leaf)) == drifted
    assert "cleared" in hook(leaf, "aifabric-sim fault clear")

    # and the next run repairs it
    proc, changed = playbook(tmp_path, leaf)
    assert proc.returncode == 0 and changed and changed > 0, proc.stdout[-4000:]
    assert violations(leaf) == []
