"""roles/firmware (playbooks/firmware.yml) against four emulated Redfish BMCs on the
controller (127.0.0.1, the lab CA, the unmodified community.general redfish modules).

Drift on two of the four nodes (gpu-02's BIOS, gpu-03's BMC): the report lists exactly
those components; an apply run with serial 1 leaves every node compliant (the BIOS after
the power cycle the role runs); then a newer BIOS baseline with a failure injected on
gpu-02: gpu-01 is updated, the rollout stops at gpu-02 with the BMC's reason, gpu-02
keeps its BIOS, gpu-03 and gpu-04 are not touched, and gpu-02's report says why. The
ConnectX (mlxfwmanager) and nvidia-smi sources need a node and are off here.
"""
import functools
import http.server
import json
import os
import subprocess
import threading

import pytest
import yaml

from labtest import BMC_FACTORY_PASSWORD, BMC_PASSWORD, REPO, Bmc, ansible_playbook, make_ca

requests = pytest.importorskip("requests")
pytest.importorskip("sushy_tools")
pytestmark = pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")

NODES = ("gpu-01", "gpu-02", "gpu-03", "gpu-04")
INITIAL = {"gpu-01": ["BIOS=2.4.0"], "gpu-02": [], "gpu-03": ["BIOS=2.4.0", "BMC=1.13.9"], "gpu-04": ["BIOS=2.4.0"]}
FAILURE = "Image verification failed: signature mismatch (injected)"


def package(component_id, version):
    return json.dumps({"aifabric_firmware": 1, "component_id": component_id, "version": version})


@pytest.fixture(name="images", scope="module")
def images_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    for name, component_id, version in (("bios-2.4.0.json", "BIOS", "2.4.0"), ("bios-2.5.0.json", "BIOS", "2.5.0"),
                                        ("bmc-1.14.3.json", "BMC", "1.14.3")):
        (root / name).write_text(package(component_id, version))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(name="bmcs", scope="module")
def bmcs_fixture(tmp_path_factory):
    tls = make_ca(tmp_path_factory.mktemp("tls"))
    sims = {}
    for name in NODES:
        extra = ["--profile", "hgx-h100-8gpu", "--update-duration", "1"]
        for override in INITIAL[name]:
            extra += ["--firmware", override]
        sims[name] = Bmc(tmp_path_factory.mktemp(name) / "state", tls, name=name, delay="0.5,1",
                         power_state="On", extra=extra).start()
    yield sims
    for sim in sims.values():
        sim.stop()


def baseline(images, bios="2.4.0"):
    return {"hgx-h100-8gpu": {
        "bmc": {"version": "1.14.3", "method": "redfish", "image_url": images + "/bmc-1.14.3.json"},
        "bios": {"version": bios, "method": "redfish", "image_url": "%s/bios-%s.json" % (images, bios)},
        "cpld": {"version": "0.2.8", "method": "none"},
        "gpu_vbios": {"version": "96.00.89.00.01", "method": "none"},
        "nvswitch": {"version": "96.10.55.00.01", "method": "none"},
    }}


def run(tmp_path, bmcs, images, bios="2.4.0", *args):
    tmp_path.mkdir(parents=True, exist_ok=True)
    inv = tmp_path / "hosts.yml"
    hosts = {name: {"ansible_connection": "local", "node_bmc_ip": "127.0.0.1", "bmc_port": sim.port,
                    "node_hw_profile": "hgx-h100-8gpu"} for name, sim in bmcs.items()}
    group_vars = {"cluster_bmc_username": "admin", "cluster_bmc_password": BMC_PASSWORD, "bmc_ca_path": bmcs["gpu-01"].ca,
                  "cluster_firmware_baseline": baseline(images, bios), "firmware_collect_nic": False,
                  "firmware_collect_gpu": False, "firmware_report_dir": str(tmp_path / "report"),
                  "firmware_update_poll_interval": 1}
    inv.write_text(yaml.safe_dump({"all": {"children": {"gpu_nodes": {"hosts": hosts, "vars": group_vars}}}}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache/collections"),
               PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get("PATH", ""))
    # preflight_validated: this one-group test inventory is not a whole cluster inventory
    cmd = [ansible_playbook(), "-i", str(inv), str(REPO / "playbooks" / "firmware.yml"),
           "-e", "preflight_validated=true"] + list(args)
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=600, check=False)
    for secret in (BMC_PASSWORD, BMC_FACTORY_PASSWORD):
        assert secret not in proc.stdout and secret not in proc.stderr, "a password leaked into the output"
    return proc


def report(tmp_path, name=None):
    path = tmp_path / "report" / ("nodes/%s.json" % name if name else "summary.json")
    return json.loads(path.read_text())


def versions(sim):
    state = sim.state()
    return state["bmc"]["bios_version"], state["bmc"]["firmware_version"]


def updates(sim):
    return [e for e in sim.state()["events"] if e["type"].startswith("firmware_update")]


def test_report_rollout_and_stop_at_the_failed_node(tmp_path, bmcs, images):
    # compliance only: exactly the two drifted components, nothing updated
    proc = run(tmp_path / "check", bmcs, images)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = report(tmp_path / "check")
    assert sorted((d["node"], d["component"], d["current"], d["expected"]) for d in summary["drift"]) == [
        ("gpu-02", "bios", "2.3.1", "2.4.0"), ("gpu-03", "bmc", "1.13.9", "1.14.3")]
    assert (summary["nodes"], summary["compliant_nodes"]) == (4, 2)
    assert report(tmp_path / "check", "gpu-02")["compliant"] is False
    assert report(tmp_path / "check", "gpu-01")["compliant"] is True
    assert (tmp_path / "check" / "report" / "summary.md").read_text().startswith("# Firmware compliance")
    assert all(updates(sim) == [] for sim in bmcs.values())

    # apply, one node at a time: everything compliant; only the drifted nodes were updated
    proc = run(tmp_path / "apply", bmcs, images, "2.4.0", "-e", "firmware_apply=true")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    summary = report(tmp_path / "apply")
    assert (summary["nodes"], summary["compliant_nodes"], summary["drift"]) == (4, 4, [])
    assert versions(bmcs["gpu-02"])[0] == "2.4.0" and versions(bmcs["gpu-03"])[1] == "1.14.3"
    assert [len(updates(bmcs[n])) for n in NODES] == [0, 2, 2, 0]  # started + completed

    # a newer BIOS everywhere, a failure injected on gpu-02: the rollout stops there
    armed = requests.post(bmcs["gpu-02"].url + "/aifabric-sim/firmware-fail", verify=bmcs["gpu-02"].ca, timeout=10,
                          json={"component_id": "BIOS", "message": FAILURE})
    assert armed.status_code < 300, armed.text
    before = {n: len(updates(bmcs[n])) for n in NODES}
    proc = run(tmp_path / "fail", bmcs, images, "2.5.0", "-e", "firmware_apply=true")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "gpu-02: the bios update to 2.5.0 ended Exception" in " ".join(out.split()), out[-4000:]
    assert FAILURE in out
    assert versions(bmcs["gpu-01"])[0] == "2.5.0"
    assert versions(bmcs["gpu-02"])[0] == "2.4.0"
    for name in ("gpu-03", "gpu-04"):
        assert len(updates(bmcs[name])) == before[name], "%s was touched after the failure" % name
        assert versions(bmcs[name])[0] == "2.4.0"
    failed = report(tmp_path / "fail", "gpu-02")
    assert failed["compliant"] is False and failed["update"]["status"] == "failed"
    assert failed["update"]["component"] == "bios" and FAILURE in failed["update"]["message"]
    assert not (tmp_path / "fail" / "report" / "nodes" / "gpu-03.json").exists()
