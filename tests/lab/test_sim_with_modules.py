"""The lab's simulated nvidia-smi read by the collection's own parser and health rules.

Each injected fault must come out of plugins/module_utils (the code the modules run) as
exactly that fault on exactly that GPU, and a healthy simulated node must be healthy.
"""
import os

import pytest
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils import gpu_health, nvidia_smi

from labtest import Sim  # the simulated nvidia-smi

# the lab inventory's hardware profiles: the expectations playbooks/gpu_health.yml passes
HARDWARE = os.path.join(os.path.dirname(__file__), "..", "..", "inventories", "lab", "group_vars", "all",
                        "hardware.yml")
with open(HARDWARE) as _f:
    PROFILES = yaml.safe_load(_f)["cluster_hw_profiles"]
EXPECT = dict((name, PROFILES[name]) for name in ("hgx-h100-8gpu", "hgx-a100-8gpu", "pcie-l40s-4gpu"))


def verdict(sim, profile, **extra):
    r = sim.smi("-q", "-x")
    info = nvidia_smi.parse_nvidia_smi_xml(r.stdout)
    errors = nvidia_smi.parse_device_errors(r.stderr)
    if EXPECT[profile]["nvlinks_per_gpu"]:
        nvidia_smi.merge_nvlinks(info, sim.smi("nvlink", "-s").stdout)
    kernel_log = sim.state_dir / "kernel.log"
    xids = gpu_health.parse_xid_lines(kernel_log.read_text().splitlines() if kernel_log.exists() else [])
    expect, sources = gpu_health.expectations_from_profile(EXPECT[profile], profile)
    expect.update(driver_version="580.95.05", **extra)
    return info, gpu_health.evaluate(info, None, xids, expect, device_errors=errors, sources=sources)


@pytest.mark.parametrize("profile", sorted(EXPECT))
def test_simulated_node_is_healthy_and_persistence_off_is_a_finding(tmp_path, profile):
    sim = Sim(tmp_path, profile)
    info, result = verdict(sim, profile)
    assert len(info["gpus"]) == EXPECT[profile]["gpu_count"]
    assert info["driver_version"] == "580.95.05"
    # persistence mode is off until nvidia-persistenced or -pm 1 turns it on: configuration, a
    # finding against the profile (gpu_persistence_mode), not a fault
    assert result["healthy"], result
    assert [(f["gpu"], f["check"], f["severity"]) for f in result["findings"]] == [
        (g["index"], "persistence_mode", "warning") for g in info["gpus"]]
    assert not verdict(sim, profile, fail_on="warning")[1]["healthy"]
    assert sim.smi("-pm", "1").returncode == 0
    info, result = verdict(sim, profile)
    assert result["healthy"], result
    assert result["findings"] == []
    assert all(g["persistence_mode"] for g in info["gpus"])


FAULTS = [
    ("ecc-uncorrectable", 2, "uncorrectable"),
    ("row-remap-pending", 5, "remap"),
    ("row-remap-failure", 6, "remap"),
    ("pcie-degraded", 1, "pcie"),
    ("hot", 3, "temperature"),
    ("nvlink-down", 4, "nvlink"),
]


@pytest.mark.parametrize("kind,gpu,word", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_named_on_its_gpu_only(tmp_path, kind, gpu, word):
    sim = Sim(tmp_path, "hgx-h100-8gpu")
    assert sim.smi("-pm", "1").returncode == 0
    assert sim.ctl("fault", str(gpu), kind).returncode == 0
    dummy, result = verdict(sim, "hgx-h100-8gpu")
    assert not result["healthy"]
    bad = [g for g in result["gpus"] if not g["healthy"]]
    assert [g["index"] for g in bad] == [gpu], result
    assert any(word in r.lower() for r in bad[0]["reasons"]), bad[0]["reasons"]
    assert all(f["severity"] == "critical" for f in bad[0]["faults"])


def test_degraded_pcie_names_the_profile(tmp_path):
    sim = Sim(tmp_path, "hgx-h100-8gpu")
    sim.smi("-pm", "1")
    assert sim.ctl("fault", "7", "pcie-degraded").returncode == 0
    dummy, result = verdict(sim, "hgx-h100-8gpu")
    assert result["gpus"][7]["reasons"][0].startswith(
        "GPU 7 (00000000:DB:00.0): PCIe link trained narrower than expected [pci/pci_gpu_link_info/link_widths/"
        "current_link_width = x8; expected x16 (hardware profile 'hgx-h100-8gpu', gpu_pcie_width)]")


def test_xid_79_asks_for_a_reboot_on_that_gpu(tmp_path):
    sim = Sim(tmp_path, "hgx-h100-8gpu")
    sim.smi("-pm", "1")
    assert sim.ctl("fault", "2", "xid", "79").returncode == 0
    dummy, result = verdict(sim, "hgx-h100-8gpu")
    bad = [g for g in result["gpus"] if not g["healthy"]]
    assert [g["index"] for g in bad] == [2]
    assert any("79" in r and "reboot" in r.lower() for r in bad[0]["reasons"]), bad[0]["reasons"]


def test_fallen_off_bus_is_a_node_reason(tmp_path):
    sim = Sim(tmp_path, "hgx-h100-8gpu")
    sim.smi("-pm", "1")
    assert sim.ctl("fault", "4", "fallen-off-bus").returncode == 0
    info, result = verdict(sim, "hgx-h100-8gpu")
    assert len(info["gpus"]) == 7
    assert not result["healthy"]
    assert any("9A:00.0" in r.upper() for r in result["node_reasons"]), result["node_reasons"]
