"""Verify the GPU phase on the lab's GPU nodes, then a fault pass with the health module."""
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import labhosts  # noqa: E402

GPU = labhosts.group("gpu_nodes")
VERSION = "580.95.05"
PACKAGES = ("nvidia-driver-580-open", "nvidia-utils-580", "nvidia-fabricmanager-580")


@pytest.mark.parametrize("name", GPU)
def test_driver_pinned_held_and_loaded(name):
    h = labhosts.host(name)
    for pkg in PACKAGES:
        assert h.package(pkg).is_installed, pkg
        assert h.package(pkg).version.startswith(VERSION + "-"), (pkg, h.package(pkg).version)
    held = h.check_output("apt-mark showhold").split()
    assert set(PACKAGES) <= set(held), held
    assert "Pin: version %s-*" % VERSION in h.file("/etc/apt/preferences.d/aifabric-nvidia-driver").content_string
    assert "blacklist nouveau" in h.file("/etc/modprobe.d/blacklist-nouveau.conf").content_string
    # the node booted the installed driver: NVML answers with the same version
    assert h.check_output("nvidia-smi --query-gpu=driver_version --format=csv,noheader").splitlines() == [VERSION] * 8


@pytest.mark.parametrize("name", GPU)
def test_services_and_persistence(name):
    h = labhosts.host(name)
    for svc in ("nvidia-persistenced", "nvidia-fabricmanager"):
        assert h.service(svc).is_enabled and h.service(svc).is_running, svc
    modes = h.check_output("nvidia-smi --query-gpu=persistence_mode --format=csv,noheader").splitlines()
    assert modes == ["Enabled"] * 8


def health(hosts):
    """Run aifabric.cluster.nvidia_gpu_health on hosts, as an operator would; results by host."""
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    args = ("expected_gpu_count=8 expected_product='H100 80GB HBM3' expected_driver_version=%s "
            "expected_nvlinks=18" % VERSION)
    proc = subprocess.run(
        ["ansible", ",".join(hosts), "-i", os.path.join(labhosts.ROOT, "inventories", "lab"),
         "-m", "aifabric.cluster.nvidia_gpu_health", "-a", args],
        capture_output=True, text=True, env=env, cwd=labhosts.ROOT, check=False)
    data = json.loads(proc.stdout)
    return {h: r for play in data["plays"] for task in play["tasks"] for h, r in task["hosts"].items()}


def test_fault_pass_names_exactly_the_injected_faults():
    assert len(GPU) >= 3, "needs three GPU nodes"
    a, b, healthy = GPU[0], GPU[1], GPU[2]
    faults = {a: [("2", "ecc-uncorrectable"), ("5", "nvlink-down")], b: [("6", "xid", "79")]}
    try:
        for name, items in faults.items():
            for item in items:
                cmd = "aifabric-sim-gpu fault " + " ".join(item)
                assert labhosts.host(name).run(cmd).rc == 0, cmd
        results = health([a, b, healthy])
        assert results[healthy]["healthy"] is True, results[healthy]
        assert all(g["healthy"] for g in results[healthy]["gpus"])
        for name, items in faults.items():
            r = results[name]
            assert r["healthy"] is False and not r.get("failed"), r
            bad = sorted(g["index"] for g in r["gpus"] if not g["healthy"])
            assert bad == sorted(int(i[0]) for i in items), (name, bad, r["gpus"])
        reasons_a = {g["index"]: " ".join(g["reasons"]).lower() for g in results[a]["gpus"]}
        assert "uncorrectable" in reasons_a[2] and "nvlink" in reasons_a[5]
        reasons_b = {g["index"]: " ".join(g["reasons"]) for g in results[b]["gpus"]}
        assert "79" in reasons_b[6] and "reboot" in reasons_b[6].lower()
    finally:
        for name, items in faults.items():
            for item in items:
                labhosts.host(name).run("aifabric-sim-gpu fault %s clear" % item[0])
