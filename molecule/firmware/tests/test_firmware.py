"""firmware scenario, verify: compliance report, rolling update, a failed update.

The lab (AIFABRIC_LAB_NODES=4, all hgx-h100-8gpu, AIFABRIC_LAB_BMCS=1): every GPU node has
a Redfish BMC emulator on 127.0.0.1; gpu-02 starts with BIOS 2.2.0 (the baseline says
2.3.1). This module gives gpu-03 an older ConnectX firmware (the lab mlxfwmanager's
state), then runs playbooks/firmware.yml as an operator does. Tests run in file order.
"""
import json
import os
import ssl
import subprocess
import urllib.request

import yaml

import labhosts

ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))

CACHE = os.path.join(ROOT, ".cache")
NODES = ["gpu-01", "gpu-02", "gpu-03", "gpu-04"]
FAILURE = "Image verification failed: signature mismatch (injected by the test)"
OUTPUTS = []
WORK = os.path.join(CACHE, "firmware-scenario")


def playbook(name, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    installed = os.path.join(CACHE, "installed")
    if os.path.isdir(os.path.join(installed, "ansible_collections", "aifabric", "cluster")):
        env["ANSIBLE_COLLECTIONS_PATH"] = installed
    report = os.path.join(WORK, name)
    cmd = ["ansible-playbook", "-i", os.path.join(ROOT, "inventories", "lab"), "aifabric.cluster.firmware",
           "-e", "firmware_report_dir=%s" % report, "-e", "firmware_update_poll_interval=1"] + list(args)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    OUTPUTS.append(proc.stdout + proc.stderr)
    return proc.returncode, proc.stdout + proc.stderr, report


def read(report, node=None):
    with open(os.path.join(report, "nodes/%s.json" % node if node else "summary.json")) as f:
        return json.load(f)


def bmc(name):
    with open(os.path.join(CACHE, "lab", "bmc", name, "state", "state.json")) as f:
        return json.load(f)


def updates(name):
    return [e for e in bmc(name)["events"] if e["type"].startswith("firmware_update")]


def nic_state(name):
    out = subprocess.run(["podman", "exec", "aifabric-lab-" + name, "cat", "/var/lib/aifabric-sim/mft/state.json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_report_names_exactly_the_drifted_components():
    boot_id = labhosts.host("gpu-03").check_output("cat /proc/sys/kernel/random/boot_id")
    old = {"fw": "28.35.1012", "pxe": "3.7.0300", "uefi": "14.32.0012"}
    state = {"flashed": old, "running": dict(old), "boot_id": boot_id, "burns": []}
    subprocess.run(["podman", "exec", "-i", "aifabric-lab-gpu-03", "sh", "-c",
                    "mkdir -p /var/lib/aifabric-sim/mft && cat > /var/lib/aifabric-sim/mft/state.json"],
                   input=json.dumps(state), text=True, check=True)
    assert nic_state("gpu-03")["flashed"]["fw"] == "28.35.1012"
    rc, out, report = playbook("check")
    assert rc == 0, out[-5000:]
    summary = read(report)
    assert sorted((d["node"], d["component"], d["current"], d["expected"]) for d in summary["drift"]) == [
        ("gpu-02", "bios", "2.2.0", "2.3.1"), ("gpu-03", "nic", "28.35.1012", "28.39.1002")]
    assert (summary["nodes"], summary["compliant_nodes"]) == (4, 2)
    for name in NODES:
        node = read(report, name)
        assert node["compliant"] is (name in ("gpu-01", "gpu-04"))
        sources = {c["source"] for c in node["components"]}
        assert sources == {"redfish", "mlxfwmanager"}, sources
    assert os.path.getsize(os.path.join(report, "summary.md")) > 0
    assert all(updates(name) == [] for name in NODES)


HOOK = """---
- name: Record the {0} hook (test)
  ansible.builtin.shell: echo {0} >> /var/tmp/aifabric-drain.log
  changed_when: true
"""


def hooks():
    os.makedirs(WORK, exist_ok=True)
    paths = []
    for name in ("drain", "undrain"):
        path = os.path.join(WORK, name + ".yml")
        with open(path, "w") as f:
            f.write(HOOK.format(name))
        paths += ["-e", "firmware_%s_tasks=%s" % (name, path)]
    return paths


def drain_log(name):
    return labhosts.host(name).run("cat /var/tmp/aifabric-drain.log").stdout.split()


def test_rolling_update_makes_every_node_compliant():
    # when the node's init started (clock ticks since the kernel booted): a reboot of the
    # sim host restarts its container, and so its PID 1
    started = "cut -d' ' -f22 /proc/1/stat"
    boot_before = labhosts.host("gpu-03").check_output(started)
    rc, out, report = playbook("apply", "-e", "firmware_apply=true", *hooks())
    assert rc == 0, out[-5000:]
    summary = read(report)
    assert (summary["nodes"], summary["compliant_nodes"], summary["drift"]) == (4, 4, [])
    assert bmc("gpu-02")["bmc"]["bios_version"] == "2.3.1"
    assert nic_state("gpu-03")["flashed"]["fw"] == "28.39.1002"
    assert labhosts.host("gpu-03").check_output(started) != boot_before, "gpu-03 was not rebooted"
    assert [len(updates(name)) for name in NODES] == [0, 2, 0, 0]
    # only the nodes that were updated were drained, and undrained afterwards
    assert [drain_log(name) for name in NODES] == [[], ["drain", "undrain"], ["drain", "undrain"], []]


def test_failed_update_stops_the_rollout_and_says_why():
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "firmware.yml")) as f:
        baseline = yaml.safe_load(f)["cluster_firmware_baseline"]
    baseline["hgx-h100-8gpu"]["bios"].update(version="2.4.0", image_url="http://10.231.0.3/firmware/bios-2.4.0.json")
    os.makedirs(WORK, exist_ok=True)
    extra = os.path.join(WORK, "baseline-2.4.0.yml")
    with open(extra, "w") as f:
        yaml.safe_dump({"cluster_firmware_baseline": baseline}, f)
    port = labhosts.hostvars("gpu-02")["bmc_port"]
    context = ssl.create_default_context(cafile=os.path.join(CACHE, "lab", "tls", "ca.pem"))
    request = urllib.request.Request("https://127.0.0.1:%d/aifabric-sim/firmware-fail" % port, method="POST",
                                     data=json.dumps({"component_id": "BIOS", "message": FAILURE}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=10) as resp:
        assert resp.status < 300
    before = {name: len(updates(name)) for name in NODES}
    rc, out, report = playbook("fail", "-e", "firmware_apply=true", "-e", "@" + extra, *hooks())
    assert rc != 0
    assert "gpu-02: the bios update to 2.4.0 ended Exception" in " ".join(out.split()), out[-5000:]
    assert bmc("gpu-01")["bmc"]["bios_version"] == "2.4.0"
    assert bmc("gpu-02")["bmc"]["bios_version"] == "2.3.1"
    for name in ("gpu-03", "gpu-04"):
        assert len(updates(name)) == before[name], "%s was touched after the failure" % name
        assert bmc(name)["bmc"]["bios_version"] == "2.3.1"
        assert not os.path.exists(os.path.join(report, "nodes", name + ".json"))
    # gpu-01 drained and undrained again; gpu-02 left drained for a person to look at
    assert drain_log("gpu-01") == ["drain", "undrain"]
    assert drain_log("gpu-02") == ["drain", "undrain", "drain"]
    failed = read(report, "gpu-02")
    assert failed["compliant"] is False and failed["update"]["component"] == "bios"
    assert FAILURE in failed["update"]["message"]


def test_no_password_in_any_ansible_output():
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "vault.yml")) as f:
        secrets = yaml.safe_load(f)
    assert len(OUTPUTS) == 3
    for text in OUTPUTS:
        for key in ("vault_cluster_bmc_password", "vault_bmc_new_password"):
            assert secrets[key] not in text
