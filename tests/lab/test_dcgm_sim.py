"""Tests of the lab's simulated DCGM (package datacenter-gpu-manager-4-cuda13), run on the controller.

The simulator reads the GPUs through the simulated nvidia-smi (package nvidia-utils-580),
so both packages' bin directories go on PATH; AIFABRIC_SIM_ROOT keeps every path in tmp.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from simpkg import REPO, PROFILES, build, control

PKG = REPO / "lab/sim-packages/datacenter-gpu-manager-4-cuda13"
SMI_PKG = REPO / "lab/sim-packages/nvidia-utils-580"
DCGMI = PKG / "usr/bin/dcgmi"
HOSTENGINE = PKG / "usr/bin/nv-hostengine"
SOURCE = PKG / "usr/lib/aifabric-sim/dcgm.py"
LEVEL_ONE = ["Denylist", "NVML Library", "CUDA Main Library", "Permissions and OS Blocks", "Persistence Mode",
             "Environment Variables", "Page Retirement/Row Remap", "Graphics Processes", "Inforom"]


class Lab:
    def __init__(self, root, profile):
        self.root, self.engine = root, None
        (root / "etc/aifabric-lab").mkdir(parents=True)
        shutil.copytree(PROFILES, root / "usr/share/aifabric-lab/profiles")
        (root / "etc/aifabric-lab/hw_profile").write_text(profile + "\n")
        self.env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_HOSTNAME="gpu-node-01",
                        PATH="%s:%s:%s" % (PKG / "usr/bin", SMI_PKG / "usr/bin", os.environ["PATH"]))

    def run(self, tool, *args):
        return subprocess.run([str(tool), *args], capture_output=True, text=True, env=self.env, timeout=60, check=False)

    def dcgmi(self, *args):
        return self.run(DCGMI, *args)

    def smi(self, *args):
        return self.run(SMI_PKG / "usr/bin/nvidia-smi", *args)

    def fault(self, *args):
        r = self.run(SMI_PKG / "usr/sbin/aifabric-sim-gpu", "fault", *args)
        assert r.returncode == 0, r

    def unit(self, name, active=True):
        flag = self.root / "run/aifabric-sim/units" / (name + ".active")
        flag.parent.mkdir(parents=True, exist_ok=True)
        if active:
            flag.touch()
        elif flag.exists():
            flag.unlink()

    def start_engine(self):
        self.engine = subprocess.Popen([str(HOSTENGINE), "-n", "--service-account", "nvidia-dcgm"], env=self.env,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pid = self.root / "run/nvhostengine.pid"
        for dummy in range(100):
            if pid.exists() or self.engine.poll() is not None:
                break
            time.sleep(0.05)
        assert pid.exists(), self.engine.communicate()

    def stop_engine(self):
        if self.engine and self.engine.poll() is None:
            self.engine.send_signal(signal.SIGTERM)
            self.engine.wait(timeout=10)


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path, "hgx-h100-8gpu")
    lab.smi("-pm", "1")  # what nvidia-persistenced does on a lab node
    lab.unit("nvidia-fabricmanager")
    lab.start_engine()
    yield lab
    lab.stop_engine()


def diag_json(lab, level="1"):
    r = lab.dcgmi("diag", "-r", level, "-j")
    doc = json.loads(r.stdout)
    tests = {t["name"]: t for c in doc["DCGM Diagnostic"]["test_categories"] for t in c["tests"]}
    return r, doc, tests


def failed(tests):
    return sorted(n for n, t in tests.items() if t["test_summary"]["status"] == "Fail")


# ------------------------------------------------------------------ package


def test_package_control_and_layout():
    # generic package rules: test_sim_packages.py
    fields = control("datacenter-gpu-manager-4-cuda13")[1]
    assert fields["Version"] == "4.4.1-0aifabric1"
    assert "python3" in fields["Depends"]
    for wrapper in (DCGMI, HOSTENGINE):
        assert 'sim="$(dirname "$0")/../lib/aifabric-sim/dcgm.py"' in wrapper.read_text()
    unit = (PKG / "lib/systemd/system/nvidia-dcgm.service").read_text()
    assert "ExecStart=/usr/bin/nv-hostengine -n --service-account nvidia-dcgm" in unit


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_package_builds(tmp_path):
    listing = build("datacenter-gpu-manager-4-cuda13", tmp_path)[1]
    for path in ("./usr/bin/dcgmi", "./usr/bin/nv-hostengine", "./usr/lib/aifabric-sim/dcgm.py",
                 "./lib/systemd/system/nvidia-dcgm.service"):
        assert path in listing


# ------------------------------------------------------------------ host engine


def test_dcgmi_without_host_engine(tmp_path):
    lab = Lab(tmp_path, "hgx-h100-8gpu")
    for args in (("discovery", "-l"), ("diag", "-r", "1")):
        r = lab.dcgmi(*args)
        assert r.returncode != 0
        assert r.stdout == ("Error: unable to establish a connection to the specified host: localhost\n"
                            "Error: Unable to connect to host engine. Host engine connection invalid/disconnected.\n")


def test_host_engine_refuses_to_start_without_nvml(tmp_path):
    lab = Lab(tmp_path, "hgx-h100-8gpu")
    lab.fault("4", "fallen-off-bus")
    r = lab.run(HOSTENGINE, "-n", "--service-account", "nvidia-dcgm")
    assert r.returncode != 0 and "NVML" in r.stderr
    assert not (tmp_path / "run/nvhostengine.pid").exists()


def test_host_engine_stops_cleanly(lab):
    lab.stop_engine()
    assert lab.engine.returncode == 0
    assert not (lab.root / "run/nvhostengine.pid").exists()
    assert lab.dcgmi("discovery", "-l").returncode != 0


# ------------------------------------------------------------------ discovery


def test_discovery_lists_the_gpus(lab):
    r = lab.dcgmi("discovery", "-l")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "8 GPUs found."
    assert lines[2] == "| GPU ID | Device Information                                                   |"
    uuids = [line.split("UUID: ")[1].rstrip(")") for line in lab.smi("-L").stdout.splitlines()]
    for i, uuid in enumerate(uuids):
        assert "| %-6d | %-68s |" % (i, "Name: NVIDIA H100 80GB HBM3") in lines
        assert "|        | %-68s |" % ("Device UUID: " + uuid) in lines
    assert "|        | PCI Bus ID: 00000000:18:00.0" in r.stdout
    gpu_table = lines[1:lines.index("0 NvSwitches found.")]
    assert all(len(line) == 81 for line in gpu_table)


# ------------------------------------------------------------------ diag


def test_diag_healthy_table(lab):
    r = lab.dcgmi("diag", "-r", "1")
    assert r.returncode == 0, r.stdout
    lines = r.stdout.splitlines()
    assert lines[0] == "Successfully ran diagnostic for group."
    assert lines[1] == "+---------------------------+------------------------------------------------+"
    assert lines[2] == "| Diagnostic                | Result                                         |"
    assert "|-----  Metadata  ----------+------------------------------------------------|" in lines
    assert "|-----  Deployment  --------+------------------------------------------------|" in lines
    assert "| DCGM Version              | 4.4.1                                          |" in lines
    for name in LEVEL_ONE:
        assert "| %-25s | %-46s |" % (name, "Pass") in lines
    assert all(len(line) == 78 for line in lines[1:])


def test_diag_healthy_json(lab):
    r, doc, tests = diag_json(lab)
    assert r.returncode == 0
    assert list(tests) == LEVEL_ONE and failed(tests) == []
    assert doc["metadata"]["DCGM Version"] == "4.4.1"
    assert doc["metadata"]["Driver Version Detected"] == "580.95.05"
    assert [e["entity_id"] for e in doc["entity_groups"][0]["entities"]] == list(range(8))


@pytest.mark.parametrize("kind, message", [
    ("row-remap-pending", "GPU 3 had memory errors and row remappings are pending"),
    ("ecc-uncorrectable", "GPU 3 had uncorrectable memory errors"),
    ("row-remap-failure", "GPU 3 had uncorrectable memory errors and row remapping failed."),
])
def test_diag_memory_faults(lab, kind, message):
    lab.fault("3", kind)
    r = lab.dcgmi("diag", "-r", "1")
    assert r.returncode != 0
    assert "| Page Retirement/Row Remap | Fail                                           |" in r.stdout
    assert "Error: GPU 3 had" in r.stdout
    r, dummy, tests = diag_json(lab)
    assert r.returncode != 0
    assert failed(tests) == ["Page Retirement/Row Remap"]
    bad = [e for e in tests["Page Retirement/Row Remap"]["results"] if e["status"] == "Fail"]
    assert [e["entity_id"] for e in bad] == [3]
    assert bad[0]["warnings"][0]["warning"].startswith(message)
    lab.fault("3", "clear")
    assert lab.dcgmi("diag", "-r", "1").returncode == 0


def test_diag_persistence_mode_off(lab):
    lab.smi("-i", "5", "-pm", "0")
    r = lab.dcgmi("diag", "-r", "1")
    assert r.returncode != 0 and "| Persistence Mode          | Fail" in r.stdout
    dummy, dummy2, tests = diag_json(lab)
    assert failed(tests) == ["Persistence Mode"]
    assert "Persistence mode for GPU 5 is disabled." in json.dumps(tests["Persistence Mode"])


def test_diag_gpu_fallen_off_the_bus(lab):
    lab.fault("6", "fallen-off-bus")
    r, dummy, tests = diag_json(lab)
    assert r.returncode != 0
    assert "NVML Library" in failed(tests)
    assert "Unknown Error" in json.dumps(tests["NVML Library"])


def test_diag_fabric_manager_down_on_nvswitch_profile(lab):
    lab.unit("nvidia-fabricmanager", active=False)
    r = lab.dcgmi("diag", "-r", "1")
    assert r.returncode != 0
    assert "| CUDA Main Library         | Fail" in r.stdout
    assert "cuInit" in r.stdout and "system not yet" in r.stdout


def test_diag_fabric_manager_irrelevant_without_nvswitch(tmp_path):
    lab = Lab(tmp_path, "pcie-l40s-4gpu")
    lab.smi("-pm", "1")
    lab.start_engine()
    try:
        r, doc, tests = diag_json(lab)
        assert r.returncode == 0 and failed(tests) == []
        assert len(doc["entity_groups"][0]["entities"]) == 4
    finally:
        lab.stop_engine()


def test_diag_higher_levels_and_bad_level(lab):
    r, doc, tests = diag_json(lab, "2")
    assert r.returncode == 0 and {"PCIe", "GPU Memory"} <= set(tests)
    assert [c["category"] for c in doc["DCGM Diagnostic"]["test_categories"]] == ["Deployment", "Integration", "Hardware"]
    r = lab.dcgmi("diag", "-r", "5")
    assert r.returncode != 0 and "5" in r.stderr
