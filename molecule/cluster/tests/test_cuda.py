"""Verify the CUDA toolkits (role cuda_toolkit) on the lab's GPU nodes.

The lab sets cuda_toolkit_versions ["12.8", "13.0"] and cuda_toolkit_default "13.0"
(inventories/lab/group_vars/gpu_nodes.yml); the packages are the lab's test doubles
(lab/sim-packages/cuda-toolkit-*), which install and register like the real ones.
"""
import json

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
VERSIONS = ("12.8", "13.0")
DEFAULT = "13.0"


def release_line(version):
    return "Cuda compilation tools, release %s, V%s." % (version, version)


@pytest.mark.parametrize("name", GPU)
def test_toolkits_installed_side_by_side(name):
    h = labhosts.host(name)
    for version in VERSIONS:
        pkg = h.package("cuda-toolkit-" + version.replace(".", "-"))
        assert pkg.is_installed, (name, version)
        assert pkg.version.startswith(version + "."), (name, pkg.version)
        out = h.check_output("/usr/local/cuda-%s/bin/nvcc --version", version)
        assert release_line(version) in out, out


@pytest.mark.parametrize("name", GPU)
def test_default_toolkit_through_alternatives(name):
    h = labhosts.host(name)
    query = h.check_output("update-alternatives --query cuda")
    fields = dict(line.split(": ", 1) for line in query.splitlines() if ": " in line)
    assert fields["Link"] == "/usr/local/cuda", query
    assert fields["Value"] == "/usr/local/cuda-" + DEFAULT, query
    alternatives = [line.split(": ", 1)[1] for line in query.splitlines() if line.startswith("Alternative: ")]
    assert sorted(alternatives) == ["/usr/local/cuda-" + v for v in sorted(VERSIONS)], query
    link = h.file("/usr/local/cuda")
    assert link.is_symlink and link.linked_to == "/usr/local/cuda-" + DEFAULT
    out = h.check_output("/usr/local/cuda/bin/nvcc --version")
    assert out.splitlines()[0] == "nvcc: NVIDIA (R) Cuda compiler driver"
    assert release_line(DEFAULT) in out, out
    sdk = json.loads(h.file("/usr/local/cuda/version.json").content_string)
    assert sdk["cuda"]["version"].startswith(DEFAULT + "."), sdk


@pytest.mark.parametrize("name", GPU)
def test_login_shell_finds_default_nvcc(name):
    h = labhosts.host(name)
    profile = h.file("/etc/profile.d/cuda.sh")
    assert profile.user == "root" and profile.mode == 0o644
    assert h.check_output("bash -lc %s", "command -v nvcc") == "/usr/local/cuda/bin/nvcc"
    assert "/usr/local/cuda/lib64" in h.check_output("bash -lc %s", "echo $LD_LIBRARY_PATH").split(":")
    # sourcing it again (nested login shells) adds nothing twice
    path = h.check_output("bash -lc %s", ". /etc/profile.d/cuda.sh; echo $PATH").split(":")
    assert path.count("/usr/local/cuda/bin") == 1, path
