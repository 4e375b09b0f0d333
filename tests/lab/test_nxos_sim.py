"""Tests of the lab's simulated Cisco NX-OS switch (lab/simulators/nxos), on the controller.

The simulator is a test double; these tests pin it to what the real switch shows over SSH
(prompts, echo, show version / inventory / running-config formats, NX-OS error messages,
checkpoint and rollback, persistence) and run the unmodified cisco.nxos modules against
it through ansible.netcommon.network_cli. Everything listens on 127.0.0.1 only.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import paramiko
import pytest

from ansible_collections.ansible.netcommon.plugins.module_utils.network.common.config import NetworkConfig
from labtest import NXOS_PASSWORD, REPO, Switch, ansible_playbook

SIM = REPO / "lab/simulators/nxos/nxos_sim.py"
PLAY_DIR = REPO / "tests/lab/nxos_play"

ROCE_CONFIG = """\
class-map type qos match-any ROCEv2
  match dscp 26
class-map type qos match-any CNP
  match dscp 48
policy-map type qos AIFABRIC-QOS-IN
  class ROCEv2
    set qos-group 3
  class CNP
    set qos-group 7
  class class-default
    set qos-group 0
policy-map type queuing AIFABRIC-ROCE-OUT
  class type queuing c-out-8q-q3
    bandwidth remaining percent 50
    random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes drop-probability 7 weight 0 ecn
  class type queuing c-out-8q-q7
    priority level 1
  class type queuing c-out-8q-q-default
    bandwidth remaining percent 50
policy-map type network-qos AIFABRIC-NQ
  class type network-qos c-8q-nq3
    pause pfc-cos 3
    mtu 9216
  class type network-qos c-8q-nq-default
    mtu 9216
system qos
  service-policy type network-qos AIFABRIC-NQ
  service-policy type queuing output AIFABRIC-ROCE-OUT
priority-flow-control watch-dog-interval on
interface Ethernet1/1
  description to gpu-node-01 mlx5_0
  no switchport
  priority-flow-control mode on
  priority-flow-control watch-dog-interval on
  mtu 9216
  service-policy type qos input AIFABRIC-QOS-IN
  ip address 10.10.0.0/31
  no shutdown
"""


@pytest.fixture(name="host_key", scope="module")
def host_key_fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostkey") / "ssh_host_rsa_key"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(path))
    return path


@pytest.fixture(name="switch")
def switch_fixture(tmp_path, host_key):
    sw = Switch(tmp_path / "state", host_key).start()
    yield sw
    sw.stop()


@pytest.fixture(name="shared_switch", scope="module")
def shared_switch_fixture(tmp_path_factory, host_key):
    sw = Switch(tmp_path_factory.mktemp("shared") / "state", host_key).start()
    yield sw
    sw.stop()


@pytest.fixture(name="cli")
def cli_fixture(shared_switch):
    """A session on the shared simulator, reset to the factory configuration (test hook)."""
    session = shared_switch.cli()
    session.run("aifabric-sim reset")
    session.run("terminal length 0")
    yield session
    session.close()


def body(running):
    """Configuration lines of a show running-config, without the '!' header lines."""
    return [ln for ln in running.split("\n") if ln.strip() and not ln.startswith("!")]


# --------------------------------------------------------------------------- CLI


def test_login_banner_prompt_and_terminal_settings(cli):
    assert cli.banner.startswith("Cisco Nexus Operating System (NX-OS) Software\r\n")
    assert cli.banner.endswith("\r\nleaf-01# ")
    assert cli.run("terminal length 0") == ""
    assert cli.run("terminal width 511") == ""
    assert cli.run("terminal dont-ask") == ""


def test_show_version_and_inventory_parse_like_cliconf(cli):
    version = cli.run("show version")
    # the regexes of cisco.nxos' cliconf get_device_info()
    assert re.search(r"\s+NXOS:\s+version\s*(\S+)", version).group(1) == "10.3(4a)"
    assert re.search(r"Hardware\n\s+cisco(.+)$", version, re.M).group(1).strip() == "Nexus9000 C9364D-GX2A Chassis"
    assert re.search(r"\s+Device name:\s*(\S+)", version).group(1) == "leaf-01"
    assert re.search(r"\s+NXOS image file is:\s*(\S+)", version).group(1) == "bootflash:///nxos64-cs.10.3.4a.M.bin"
    assert re.search(r"Processor Board ID (FDO\w+)", version)
    inventory = cli.run("show inventory")
    assert re.search(r'NAME: "Chassis",\s*DESCR:.*\nPID:\s*(\S+)', inventory).group(1) == "N9K-C9364D-GX2A"
    data = json.loads(cli.run("show version | json"))
    assert data["nxos_ver_str"] == "10.3(4a)" and data["host_name"] == "leaf-01"
    assert json.loads(cli.run("show inventory | json-pretty"))["TABLE_inv"]["ROW_inv"][0]["productid"] == "N9K-C9364D-GX2A"
    assert cli.run("sh ver | inc NXOS:") == " NXOS: version 10.3(4a) [Maintenance Release]"


def test_default_running_config_shape(cli):
    running = cli.run("show running-config")
    lines = running.split("\n")
    assert lines[:2] == ["", "!Command: show running-config"]
    assert lines[2].startswith("!Running configuration last done at: ") and lines[3].startswith("!Time: ")
    assert lines[5].startswith("version 10.3(4a) Bios:version")
    assert "hostname leaf-01" in lines and "vdc leaf-01 id 1" in lines
    ports = [ln for ln in lines if ln.startswith("interface Ethernet")]
    assert ports == ["interface Ethernet1/%d" % n for n in range(1, 65)]
    assert "system default switchport" in cli.run("show running-config all | incl 'system default switchport'").split("\n")


def test_configuration_mode_prompts(cli):
    expected = [
        ("configure terminal", "leaf-01(config)# "),
        ("class-map type qos match-any ROCEv2", "leaf-01(config-cmap-qos)# "),
        ("policy-map type qos P", "leaf-01(config-pmap-qos)# "),
        ("class ROCEv2", "leaf-01(config-pmap-c-qos)# "),
        ("policy-map type network-qos NQ", "leaf-01(config-pmap-nqos)# "),
        ("class type network-qos c-8q-nq3", "leaf-01(config-pmap-nqos-c)# "),
        ("policy-map type queuing Q", "leaf-01(config-pmap-que)# "),
        ("class type queuing c-out-8q-q3", "leaf-01(config-pmap-c-que)# "),
        ("exit", "leaf-01(config-pmap-que)# "),
        ("system qos", "leaf-01(config-sys-qos)# "),
        ("interface ethernet1/3", "leaf-01(config-if)# "),
        ("exit", "leaf-01(config)# "),
        ("int e1/4", "leaf-01(config-if)# "),
        ("end", "leaf-01# "),
        ("conf t", "leaf-01(config)# "),
        ("hostname spine-01", "spine-01(config)# "),
    ]
    for command, prompt in expected:
        assert cli.raw(command).endswith("\r\n" + prompt), command


def test_roce_config_renders_like_nxos(cli):
    outs = cli.config(ROCE_CONFIG)
    assert outs[0] == "Enter configuration commands, one per line. End with CNTL/Z."
    assert all(out == "" for out in outs[1:]), outs
    running = cli.run("show running-config")
    text = "\n".join(body(running))
    for block in ROCE_CONFIG.split("\n"):
        assert block in text
    # blocks in NX-OS order, 2-space indentation under their parents
    lines = body(running)
    assert lines.index("class-map type qos match-any ROCEv2") < lines.index("policy-map type qos AIFABRIC-QOS-IN") \
        < lines.index("policy-map type queuing AIFABRIC-ROCE-OUT") < lines.index("policy-map type network-qos AIFABRIC-NQ") \
        < lines.index("system qos") < lines.index("interface Ethernet1/1")
    # what nxos_config sees: the same lines under the same parents as the candidate
    running_cfg = NetworkConfig(indent=2, contents=running)
    candidate = NetworkConfig(indent=2, contents=ROCE_CONFIG)
    assert not candidate.difference(running_cfg)
    iface = cli.run("show running-config interface Ethernet1/1").split("\n")
    assert iface[1] == "!Command: show running-config interface Ethernet1/1"
    assert iface[7:16] == [
        "interface Ethernet1/1", "  description to gpu-node-01 mlx5_0", "  no switchport", "  priority-flow-control mode on",
        "  priority-flow-control watch-dog-interval on", "  mtu 9216", "  service-policy type qos input AIFABRIC-QOS-IN",
        "  ip address 10.10.0.0/31", "  no shutdown"]
    section = cli.run("show running-config | section ^policy-map").split("\n")
    assert section[0] == "policy-map type qos AIFABRIC-QOS-IN" and "  class type network-qos c-8q-nq3" in section
    assert all(ln.startswith(("policy-map", " ")) for ln in section)
    ipqos = cli.run("show running-config ipqos")
    assert "system qos" in ipqos and "  service-policy type qos input AIFABRIC-QOS-IN" in ipqos and "hostname" not in ipqos
    assert cli.run("show running-config | include mtu 9216").split("\n") == ["    mtu 9216", "    mtu 9216", "  mtu 9216"]


def test_rejected_lines_change_nothing(cli):
    cli.config("policy-map type queuing Q\n  class type queuing c-out-8q-q3\n    bandwidth remaining percent 50")
    before = body(cli.run("show running-config"))
    cli.run("configure terminal")
    cli.run("policy-map type queuing Q")
    cli.run("class type queuing c-out-8q-q3")
    prompt = "leaf-01(config-pmap-c-que)# "
    # echo line, caret under the offending word, NX-OS message, same prompt
    out = cli.raw("bandwidth remaining percentage 40")
    assert out == "bandwidth remaining percentage 40\r\n" + " " * (len(prompt) + 20) + "^\r\n% Invalid command at '^' marker.\r\n" + prompt
    out = cli.raw("bandwidth remaining")
    assert out.split("\r\n")[1:] == [" " * (len(prompt) + 19) + "^", "% Incomplete command at '^' marker.", prompt]
    out = cli.raw("bandwidth remaining percent 101")
    assert out.split("\r\n")[1:] == [" " * (len(prompt) + 28) + "^", "% Invalid number, range is (0:100) at '^' marker.", prompt]
    assert cli.run("frobnicate").endswith("% Invalid command at '^' marker.")
    assert cli.run("class type queuing c-out-9q-q3").endswith("% Invalid command at '^' marker.")
    assert cli.run("interface Ethernet1/65").endswith("^\nInvalid range at '^' marker.")
    cli.run("interface Ethernet1/2")
    assert cli.run("mtu 9215") == "ERROR: Ethernet1/2: MTU must be an even number"
    assert cli.run("mtu 9000") == "ERROR: Ethernet1/2: MTU on L2 interfaces can only be set to default or system-jumboMTU"
    assert cli.run("mtu 100").endswith("% Invalid number, range is (576:9216) at '^' marker.")
    assert cli.run("ip address 10.0.0.1/31").endswith("% Invalid command at '^' marker.")  # layer 2 port
    assert cli.run("ip address 10.0.0.1/33").endswith("% Invalid command at '^' marker.")
    assert cli.run("service-policy type qos input NOPE") == "ERROR: policy-map NOPE does not exist"
    assert cli.run("priority-flow-control mode sometimes").endswith("% Invalid command at '^' marker.")
    cli.run("policy-map type qos P")
    assert cli.run("class NOPE") == "ERROR: class-map NOPE does not exist"
    assert cli.run("no policy-map type qos P") == ""  # (creating P was a valid change)
    cli.run("end")
    assert cli.run("c") == " " * len("leaf-01# ") + "^\n% Ambiguous command at '^' marker."
    assert body(cli.run("show running-config")) == before


def test_no_forms_and_defaults(cli):
    cli.config(ROCE_CONFIG)
    cli.config("""interface Ethernet1/1
  no mtu
  no priority-flow-control mode
  priority-flow-control watch-dog-interval off
  no service-policy type qos input AIFABRIC-QOS-IN
  shutdown
policy-map type queuing AIFABRIC-ROCE-OUT
  no class type queuing c-out-8q-q7
  class type queuing c-out-8q-q3
    no random-detect
no priority-flow-control watch-dog-interval
""")
    iface = cli.run("show running-config interface Ethernet1/1").split("\n")[7:]
    assert iface == ["interface Ethernet1/1", "  description to gpu-node-01 mlx5_0", "  no switchport",
                     "  priority-flow-control watch-dog-interval off", "  ip address 10.10.0.0/31", ""]
    section = cli.run("show running-config | section queuing")
    assert "c-out-8q-q7" not in section and "random-detect" not in section and "bandwidth remaining percent 50" in section
    # a policy in use cannot go; once detached it can
    assert cli.config("no policy-map type queuing AIFABRIC-ROCE-OUT")[1] == "ERROR: Policy-map AIFABRIC-ROCE-OUT is in use, cannot delete"
    outs = cli.config("system qos\nno service-policy type queuing output AIFABRIC-ROCE-OUT\nno policy-map type queuing AIFABRIC-ROCE-OUT")
    assert outs[1:] == ["", "", "", ""]
    assert "AIFABRIC-ROCE-OUT" not in cli.run("show running-config")
    assert cli.config("interface Ethernet1/1\nswitchport")[1:] == ["", "", ""]
    assert "ip address" not in cli.run("show running-config interface Ethernet1/1")
    assert cli.config("no interface Ethernet1/1")[1].endswith("Invalid range at '^' marker.")
    # a dotted mask is shown as a prefix length
    cli.config("interface Ethernet1/5\nno switchport\nip address 10.1.0.1 255.255.255.254")
    assert "  ip address 10.1.0.1/31" in cli.run("show running-config interface Ethernet1/5")


def test_rollback_from_another_session_reanchors_config_mode(shared_switch, cli):
    cli.run("checkpoint base")
    other = shared_switch.cli()
    other.run("configure terminal")
    other.run("interface Ethernet1/9")
    cli.config("interface Ethernet1/9\ndescription before-rollback")
    cli.run("rollback running-config checkpoint base")
    assert "description" not in cli.run("show running-config interface Ethernet1/9")
    assert other.raw("description after-rollback").endswith("\r\nleaf-01(config-if)# ")
    assert "  description after-rollback" in cli.run("show running-config interface Ethernet1/9")
    other.close()


def test_checkpoint_rollback_and_startup(cli):
    cli.config(ROCE_CONFIG)
    assert cli.run("checkpoint good").endswith("Done")
    assert cli.run("checkpoint good") == "ERROR: Checkpoint name is already in use"
    good = body(cli.run("show running-config"))
    cli.config("interface Ethernet1/1\n  mtu 4000\nno system qos\nhostname wrong")
    assert body(cli.run("show running-config")) != good
    assert "1) good:" in cli.run("show checkpoint summary")
    out = cli.run("rollback running-config checkpoint good")
    assert out.split("\n")[-1] == "Rollback completed successfully."
    assert cli.prompt == "leaf-01# "
    assert body(cli.run("show running-config")) == good
    assert cli.run("rollback running-config checkpoint nope") == "ERROR: Checkpoint nope does not exist"
    assert cli.run("no checkpoint good") == ""
    assert cli.run("no checkpoint good") == "ERROR: Checkpoint good does not exist"
    assert "good" not in cli.run("show checkpoint summary")
    # nxos_rollback's commands
    assert cli.run("checkpoint file bootflash:pre.cp").endswith("Done")
    cli.config("no system qos")
    assert cli.run("rollback running-config file bootflash:pre.cp").endswith("Rollback completed successfully.")
    assert body(cli.run("show running-config")) == good
    assert "Copy complete." in cli.run("copy running-config startup-config")
    assert "system qos" in cli.run("show startup-config")


def test_state_persists_across_restart(switch):
    cli = switch.cli()
    cli.config(ROCE_CONFIG)
    cli.run("checkpoint kept")
    running = body(cli.run("show running-config"))
    key = cli.client.get_transport().get_remote_server_key().get_base64()
    cli.close()
    switch.restart()
    cli = switch.cli()
    assert cli.client.get_transport().get_remote_server_key().get_base64() == key
    assert body(cli.run("show running-config")) == running
    assert "kept" in cli.run("show checkpoint summary")
    cli.close()
    assert json.loads((switch.state_dir / "state.json").read_text())["running"]["hostname"] == "leaf-01"


def test_auth_exec_channel_and_test_hooks(tmp_path, switch, host_key):
    with pytest.raises(paramiko.AuthenticationException):
        switch.client(password="wrong")
    key = paramiko.RSAKey(filename=str(host_key))  # any RSA key will do as the user's
    auth = tmp_path / "authorized_keys"
    auth.write_text("%s %s lab@test\n" % (key.get_name(), key.get_base64()))
    switch.stop()
    keyed = Switch(switch.state_dir, None, authorized_keys=auth).start()
    try:
        client = keyed.client(password=None, pkey=key)
        stdout = client.exec_command("show version | include Device")[1]
        assert stdout.read().decode().strip() == "Device name: leaf-01"
        assert stdout.channel.recv_exit_status() == 0
        client.close()
        cli = keyed.cli()
        cli.run("aifabric-sim fault reject ^mtu")
        assert cli.config("interface Ethernet1/1\nmtu 9216")[2].endswith("% Invalid command at '^' marker.")
        cli.run("aifabric-sim fault clear")
        assert cli.config("interface Ethernet1/1\nmtu 9216")[2] == ""
        assert json.loads(cli.run("aifabric-sim show-state"))["faults"] == {"reject": []}
        cli.run("aifabric-sim reset")
        assert "mtu" not in cli.run("show running-config interface Ethernet1/1")
        cli.close()
    finally:
        keyed.stop()


# --------------------------------------------------------------------------- cisco.nxos modules


def play(tmp_path, switch, playbook):
    """Run a playbook of tests/lab/nxos_play against the simulator; results by task name (ansible.posix.json)."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("\n".join([
        "[switches]", "leaf-01 ansible_host=127.0.0.1 ansible_port=%d" % switch.port, "", "[switches:vars]",
        "ansible_connection=ansible.netcommon.network_cli", "ansible_network_os=cisco.nxos.nxos",
        "ansible_user=admin", "ansible_password=%s" % NXOS_PASSWORD, ""]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PERSISTENT_CONTROL_PATH_DIR=str(tmp_path / "pc"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               PATH=str(Path(ansible_playbook()).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    proc = subprocess.run([ansible_playbook(), "-i", str(inventory), str(PLAY_DIR / playbook)], cwd=str(PLAY_DIR), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {t["task"]["name"]: t["hosts"]["leaf-01"] for t in json.loads(proc.stdout)["plays"][0]["tasks"]}


@pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")
def test_cisco_nxos_modules_against_the_simulator(tmp_path, switch):
    results = play(tmp_path, switch, "site.yml")
    version = results["Show version and take a checkpoint"]
    assert "NXOS: version 10.3(4a)" in version["stdout"][0] and version["stdout"][1].endswith("Done")
    check = results["Queuing class in check mode"]
    assert check["changed"] is True
    assert check["updates"] == ["policy-map type queuing AIFABRIC-ROCE-OUT", "class type queuing c-out-8q-q3",
                                "bandwidth remaining percent 50",
                                "random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes drop-probability 7 weight 0 ecn"]
    first = results["Queuing policy and fabric port"]
    assert first["changed"] is True
    assert first["updates"][:4] == check["updates"]  # check mode changed nothing
    assert first["updates"][-7:] == ["interface Ethernet1/1", "no switchport", "priority-flow-control mode on",
                                     "priority-flow-control watch-dog-interval on", "mtu 9216", "ip address 10.10.0.0/31", "no shutdown"]
    second = results["Queuing policy and fabric port again"]
    assert second["changed"] is False and "updates" not in second
    rejected = results["A line NX-OS rejects"]
    assert rejected["failed"] is True and "% Invalid command at '^' marker." in rejected["msg"]
    assert "bandwidth remaining percentage 50" in rejected["msg"]
    out = results["Roll back to the checkpoint"]["stdout"]
    assert "  class type queuing c-out-8q-q7\n    priority level 1" in out[0] and "  ip address 10.10.0.0/31" in out[1]
    assert out[2].endswith("Rollback completed successfully.")
    assert out[4] == "" and out[5].split("\n")[-1] == "interface Ethernet1/1"
    cli = switch.cli()
    assert "checkpoint" not in cli.run("show checkpoint summary").split("--------------------------------------")[1]
    cli.close()


@pytest.mark.skipif(not ansible_playbook() or os.environ.get("AIFABRIC_NXOS_SIM_EXTRAS") != "1",
                    reason="set AIFABRIC_NXOS_SIM_EXTRAS=1 (slow: more ansible tasks)")
def test_more_cisco_nxos_modules(tmp_path, switch):
    results = play(tmp_path, switch, "extras.yml")
    assert results["Checkpoint file with nxos_rollback"]["changed"] is True
    nxif = results["Port description through the interfaces resource module"]
    assert nxif["commands"] == ["interface Ethernet1/2", "description to gpu-node-01 mlx5_0", "no shutdown"]
    assert results["Roll back with nxos_rollback"]["status"] == "rollback executed"
    cli = switch.cli()
    assert cli.run("show running-config interface Ethernet1/2").split("\n")[-2:] == ["interface Ethernet1/2", ""]
    cli.close()
