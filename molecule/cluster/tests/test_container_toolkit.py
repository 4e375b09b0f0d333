"""Verify the NVIDIA Container Toolkit on the lab's GPU nodes: runtime in containerd, CDI spec of the GPUs."""

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
VERSION = "1.18.0"
CONFIG = "/etc/containerd/config.toml"
SPEC = "/etc/cdi/nvidia.yaml"


def uuids(h):
    lines = h.check_output("nvidia-smi --query-gpu=index,uuid --format=csv,noheader").splitlines()
    return [line.split(", ")[1] for line in lines]


@pytest.mark.parametrize("name", GPU)
def test_toolkit_installed_and_pinned(name):
    h = labhosts.host(name)
    pkg = h.package("nvidia-container-toolkit")
    assert pkg.is_installed and pkg.version.startswith(VERSION + "-"), pkg.version
    assert "Pin: version %s-*" % VERSION in h.file("/etc/apt/preferences.d/aifabric-nvidia-container-toolkit").content_string
    assert h.check_output("nvidia-ctk --version").splitlines()[0] == "NVIDIA Container Toolkit CLI version " + VERSION
    assert h.file("/usr/bin/nvidia-container-runtime").is_executable


@pytest.mark.parametrize("name", GPU)
def test_containerd_runs_the_nvidia_runtime_by_default(name):
    h = labhosts.host(name)
    text = h.file(CONFIG).content_string
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]' in text
    assert 'BinaryName = "/usr/bin/nvidia-container-runtime"' in text
    assert 'default_runtime_name = "nvidia"' in text
    assert h.package("containerd").is_installed
    svc = h.service("containerd")
    assert svc.is_enabled and svc.is_running
    assert h.run("ctr version").rc == 0
    # containerd loaded the config: its effective config carries the runtime
    dump = h.check_output("containerd config dump")
    assert 'default_runtime_name = "nvidia"' in dump and "runtimes.nvidia" in dump


@pytest.mark.parametrize("name", GPU)
def test_cdi_spec_lists_every_gpu(name):
    h = labhosts.host(name)
    ids = uuids(h)
    assert ids, "nvidia-smi reports no GPU"
    spec = h.file(SPEC).content_string
    assert "\nkind: nvidia.com/gpu\n" in spec
    for i, uuid in enumerate(ids):
        assert '  name: "%d"\n' % i in spec and "  name: %s\n" % uuid in spec, (i, uuid)
    assert spec.count("  name: GPU-") == len(ids)
    listed = h.check_output("nvidia-ctk cdi list").splitlines()
    expected = ["nvidia.com/gpu=%d" % i for i in range(len(ids))] + ["nvidia.com/gpu=" + u for u in ids]
    assert set(expected + ["nvidia.com/gpu=all"]) == set(listed), listed
