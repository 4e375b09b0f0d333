"""roles/bmc against two emulated Redfish BMCs on the controller (127.0.0.1).

The role runs as users run it (ansible-playbook, the unmodified community.general
redfish modules, TLS validation on with the lab CA): a first run records the inventory,
rotates the admin password, disables the factory account, sets NTP and the host name; a
second run changes nothing; check mode changes nothing; a one-time PXE boot plus a power
cycle is seen by the emulator as a boot from Pxe; a wrong password fails with a clear
message after exactly one login attempt. No password appears in any output.
"""
import json
import os
import subprocess

import pytest
import yaml

from labtest import BMC_FACTORY_PASSWORD, BMC_PASSWORD, REPO, Bmc, ansible_playbook, make_ca

# the BMC emulator needs them (sushy-tools serves it; the Bmc helper talks to it with requests)
pytest.importorskip("requests")
pytest.importorskip("sushy_tools")

NEW_PASSWORD = "Rotated-Bmc-Pass-9"
WRONG_PASSWORD = "Not-The-Bmc-Pass-7"
SECRETS = (BMC_PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, BMC_FACTORY_PASSWORD)
PLAY = """---
- name: BMCs
  hosts: nodes
  gather_facts: false
  roles:
    - role: aifabric.cluster.bmc
"""

pytestmark = pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")


@pytest.fixture(name="bmcs", scope="module")
def bmcs_fixture(tmp_path_factory):
    tls = make_ca(tmp_path_factory.mktemp("tls"))
    sims = {}
    for i, name in enumerate(("gpu-01", "gpu-02")):
        sims[name] = Bmc(tmp_path_factory.mktemp(name) / "state", tls, name=name, delay="1,2",
                         macs=("02:00:0a:e7:00:%02x" % (101 + i), "02:00:0a:e8:00:%02x" % (101 + i))).start()
    yield sims
    for sim in sims.values():
        sim.stop()


def playbook(tmp_path, bmcs, *args, **host_vars):
    inv = tmp_path / "hosts.yml"
    hosts = {name: dict({"ansible_connection": "local", "node_bmc_ip": "127.0.0.1", "bmc_port": sim.port},
                        **host_vars.get(name, {}))
             for name, sim in bmcs.items()}
    group_vars = {"cluster_bmc_username": "admin", "cluster_bmc_password": BMC_PASSWORD,
                  "bmc_new_password": NEW_PASSWORD, "bmc_ca_path": bmcs["gpu-01"].ca,
                  "bmc_disable_accounts": ["root"], "cluster_ntp_servers": ["10.231.0.10", "10.231.0.11"],
                  "bmc_hostname": "{{ inventory_hostname }}-bmc", "bmc_inventory_dir": str(tmp_path / "inventory"),
                  "bmc_power_poll_interval": 1}
    inv.write_text(yaml.safe_dump({"all": {"children": {"nodes": {"hosts": hosts, "vars": group_vars}}}}))
    play = tmp_path / "bmc.yml"
    play.write_text(PLAY)
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache/collections"),
               PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([ansible_playbook(), "-i", str(inv), str(play)] + list(args), cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    changed = {}
    for line in proc.stdout.splitlines():
        name = line.split(" ")[0]
        if name in bmcs and "ok=" in line and "changed=" in line:
            changed[name] = int(line.split("changed=")[1].split()[0])
    for secret in SECRETS:  # no password anywhere in what ansible printed
        assert secret not in proc.stdout and secret not in proc.stderr, "a password leaked into the output"
    return proc, changed


def logins(sim):
    auth = sim.state()["auth"]
    return auth["failed_logins"], auth["successful_logins"]


def test_inventory_rotation_idempotence_boot_cycle_and_wrong_password(tmp_path, bmcs):
    # first run: inventory, rotation, factory account, NTP, host name
    proc, changed = playbook(tmp_path, bmcs)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed["gpu-01"] > 0 and changed["gpu-02"] > 0
    for i, (name, sim) in enumerate(bmcs.items()):
        record = json.loads((tmp_path / "inventory" / (name + ".json")).read_text())
        assert record["model"] == "AIF-HGX-8GPU" and record["serial"].startswith("SN")
        assert record["macs"] == ["02:00:0a:e7:00:%02x" % (101 + i), "02:00:0a:e8:00:%02x" % (101 + i)]
        assert record["power_state"] == "Off" and record["bmc_address"] == "127.0.0.1"
        state = sim.state()
        admin, root = [a for a in state["accounts"] if a["UserName"] == "admin"][0], state["accounts"][0]
        assert admin["password_changes"] == 1 and root["UserName"] == "root" and root["Enabled"] is False
        assert sim.get("/redfish/v1/Systems", auth=("admin", NEW_PASSWORD)).status_code == 200
        ntp = state["bmc"]["protocols"]["NTP"]
        assert ntp == {"ProtocolEnabled": True, "NTPServers": ["10.231.0.10", "10.231.0.11"]}
        assert state["bmc"]["hostname"] == name + "-bmc"
        # one failed login per BMC: the new password, tried first, was not set yet
        assert state["auth"]["failed_logins"] == 1
    before = {name: logins(sim) for name, sim in bmcs.items()}

    # second run: nothing to do, and no failed login (the new password works)
    proc, changed = playbook(tmp_path, bmcs)
    assert proc.returncode == 0 and changed == {"gpu-01": 0, "gpu-02": 0}, proc.stdout[-6000:]
    assert {name: logins(sim)[0] for name, sim in bmcs.items()} == {name: v[0] for name, v in before.items()}

    # check mode of a boot + power cycle: reported, not done
    events = {name: len(sim.state()["events"]) for name, sim in bmcs.items()}
    proc, changed = playbook(tmp_path, bmcs, "--check", "-e", "bmc_boot_once=Pxe", "-e", "bmc_power=cycle")
    assert proc.returncode == 0 and changed["gpu-01"] > 0, proc.stdout[-6000:]
    assert "would boot once from Pxe and PowerOn" in proc.stdout
    for name, sim in bmcs.items():
        assert [e["type"] for e in sim.state()["events"][events[name]:]] == []

    # one-time PXE boot and a power cycle on gpu-01: the emulator saw the boot from Pxe
    proc, changed = playbook(tmp_path, bmcs, "--limit", "gpu-01", "-e", "bmc_boot_once=Pxe", "-e", "bmc_power=cycle")
    assert proc.returncode == 0 and changed["gpu-01"] > 0, proc.stdout[-6000:]
    state = bmcs["gpu-01"].state()
    assert state["systems"][next(iter(state["systems"]))]["power_state"] == "On"
    kinds = [(e["type"], e.get("target") or e.get("reset_type") or e.get("source")) for e in state["events"]
             if e["type"] in ("boot_override", "reset", "boot")]
    assert kinds == [("boot_override", "Pxe"), ("reset", "On"), ("boot", "Pxe")]
    assert json.loads((tmp_path / "inventory/gpu-01.json").read_text())["power_state"] == "On"
    # now on: a cycle is a ForceRestart; the override was consumed, so this boot is from disk
    proc, changed = playbook(tmp_path, bmcs, "--limit", "gpu-01", "-e", "bmc_power=cycle")
    assert proc.returncode == 0 and changed["gpu-01"] > 0, proc.stdout[-6000:]
    boots = [(e.get("reset"), e["source"]) for e in bmcs["gpu-01"].state()["events"] if e["type"] == "boot"]
    assert boots == [("On", "Pxe"), ("ForceRestart", "Hdd")]

    # wrong password: a clear message naming host and BMC, after exactly one failed login
    before = {name: logins(sim)[0] for name, sim in bmcs.items()}
    proc, changed = playbook(tmp_path, bmcs, "-v", "-e", "cluster_bmc_password=" + WRONG_PASSWORD,
                             "-e", "bmc_new_password=")
    assert proc.returncode != 0
    for name, sim in bmcs.items():
        assert logins(sim)[0] == before[name] + 1, sim.state()["events"][-3:]
        message = "%s: the BMC at https://127.0.0.1:%d rejected the login of user 'admin' with HTTP 401" % (name, sim.port)
        assert message in " ".join(proc.stdout.split()), proc.stdout[-4000:]
        assert not any(a.get("Locked") for a in sim.state()["accounts"])
