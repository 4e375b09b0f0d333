"""Tests of the lab's simulated nvidia-ctk (package nvidia-container-toolkit), run on the controller.

The simulator is a test double; these tests pin it to the real tool's command line,
messages, file edits and CDI spec shape (NVIDIA Container Toolkit 1.18.0).
"""
import json
import os
import shutil
import subprocess

import pytest

from simpkg import REPO, PROFILES, control

PKG = REPO / "lab/sim-packages/nvidia-container-toolkit"
CTK = PKG / "usr/bin/nvidia-ctk"
SMI_BIN = REPO / "lab/sim-packages/nvidia-utils-580/usr/bin"
RT = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]'
OPTS = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]'
WROTE = "INFO[0000] Wrote updated config to %s\nINFO[0000] It is recommended that %s daemon be restarted.\n"


class Ctk:
    def __init__(self, root, profile="hgx-h100-8gpu", host="gpu-node-01"):
        self.root, self.host = root, host
        (root / "etc/aifabric-lab").mkdir(parents=True, exist_ok=True)
        shutil.copytree(PROFILES, root / "usr/share/aifabric-lab/profiles", dirs_exist_ok=True)
        (root / "etc/aifabric-lab/hw_profile").write_text(profile + "\n")
        self.path = str(SMI_BIN) + os.pathsep + os.environ.get("PATH", "")

    def run(self, *args, tool=CTK, path=None):
        env = dict(os.environ, AIFABRIC_SIM_ROOT=str(self.root), AIFABRIC_SIM_HOSTNAME=self.host,
                   PATH=self.path if path is None else path)
        return subprocess.run([str(tool), *args], capture_output=True, text=True, env=env, timeout=30, check=False)

    def smi_uuids(self):
        r = self.run("--query-gpu=index,uuid", "--format=csv,noheader", tool=SMI_BIN / "nvidia-smi")
        assert r.returncode == 0, r
        return [line.split(", ")[1] for line in r.stdout.splitlines()]

    def configure(self, *args):
        return self.run("runtime", "configure", *args)


@pytest.fixture
def ctk(tmp_path):
    return Ctk(tmp_path)


def test_package_control_and_layout():
    # generic package rules: test_sim_packages.py
    fields = control("nvidia-container-toolkit")[1]
    assert fields["Version"] == "1.18.0-0aifabric1"
    assert fields["Depends"] == "python3"
    for tool in ("nvidia-ctk", "nvidia-container-runtime"):
        assert (PKG / "usr/bin" / tool).is_file(), tool


def test_version(ctk):
    r = ctk.run("--version")
    assert r.returncode == 0
    assert r.stdout.splitlines()[0] == "NVIDIA Container Toolkit CLI version 1.18.0"
    assert r.stdout.splitlines()[1].startswith("commit: ")


def test_configure_containerd_on_a_missing_config(ctk, tmp_path):
    cfg = tmp_path / "etc/containerd/config.toml"
    r = ctk.configure("--runtime=containerd", "--config=%s" % cfg, "--drop-in-config=", "--set-as-default")
    assert r.returncode == 0, r
    assert r.stderr == WROTE % (cfg, "containerd")
    text = cfg.read_text()
    assert text.startswith("version = 2\n")
    assert RT in text and OPTS in text
    assert 'runtime_type = "io.containerd.runc.v2"' in text
    assert 'BinaryName = "/usr/bin/nvidia-container-runtime"' in text
    assert 'default_runtime_name = "nvidia"' in text


EXISTING = """version = 2
root = "/var/lib/containerd"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
        runtime_type = "io.containerd.runc.v1"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = true
"""


def test_configure_existing_config_keeps_it_and_replaces_the_nvidia_block(ctk, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(EXISTING)
    assert ctk.configure("--runtime=containerd", "--config=%s" % cfg, "--drop-in-config=", "--set-as-default").returncode == 0
    text = cfg.read_text()
    assert text.count(RT) == 1 and "io.containerd.runc.v1" not in text
    assert 'default_runtime_name = "nvidia"' in text and '"runc"\n' not in text.split("snapshotter")[0]
    for kept in ('root = "/var/lib/containerd"', 'sandbox_image = "registry.k8s.io/pause:3.6"', 'snapshotter = "overlayfs"',
                 '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]'):
        assert kept in text, kept
    # runc's options are copied into the nvidia runtime, as the real tool does
    assert "SystemdCgroup = true" in text.split(OPTS)[1]


def test_configure_is_idempotent_and_dry_run_writes_nothing(ctk, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(EXISTING)
    args = ("--runtime=containerd", "--config=%s" % cfg, "--drop-in-config=", "--set-as-default")
    ctk.configure(*args)
    first = cfg.read_text()
    assert ctk.configure(*args).returncode == 0
    assert cfg.read_text() == first
    dry = ctk.configure(*args, "--dry-run")
    assert dry.returncode == 0 and dry.stdout == first and dry.stderr == ""


def test_configure_without_set_as_default(ctk, tmp_path):
    cfg = tmp_path / "config.toml"
    assert ctk.configure("--runtime=containerd", "--config=%s" % cfg, "--drop-in-config=").returncode == 0
    assert RT in cfg.read_text() and "default_runtime_name" not in cfg.read_text()


def test_configure_containerd_default_drop_in(ctk, tmp_path):
    r = ctk.configure("--runtime=containerd", "--set-as-default")
    drop_in = tmp_path / "etc/containerd/conf.d/99-nvidia.toml"
    assert r.returncode == 0 and r.stderr == WROTE % (drop_in, "containerd")
    assert RT in drop_in.read_text()
    main = (tmp_path / "etc/containerd/config.toml").read_text()
    assert 'imports = ["%s/etc/containerd/conf.d/*.toml"]' % tmp_path in main


def test_configure_docker(ctk, tmp_path):
    cfg = tmp_path / "etc/docker/daemon.json"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('{"log-driver": "journald"}\n')
    r = ctk.configure("--runtime=docker", "--set-as-default")
    assert r.returncode == 0 and r.stderr == WROTE % (cfg, "docker")
    data = json.loads(cfg.read_text())
    assert data == {"default-runtime": "nvidia", "log-driver": "journald",
                    "runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}
    first = cfg.read_text()
    ctk.configure("--runtime=docker", "--set-as-default")
    assert cfg.read_text() == first
    assert ctk.configure("--runtime=docker", "--drop-in-config=/etc/docker/x.json").returncode == 1


def test_configure_bad_arguments(ctk):
    r = ctk.configure("--runtime=podman")
    assert r.returncode == 1 and "unrecognized runtime 'podman'" in r.stderr
    assert ctk.configure("--bogus").returncode == 1


@pytest.mark.parametrize("profile,count", [("hgx-h100-8gpu", 8), ("pcie-l40s-4gpu", 4)])
def test_cdi_generate_and_list(tmp_path, profile, count):
    ctk = Ctk(tmp_path, profile)
    uuids = ctk.smi_uuids()
    assert len(uuids) == count
    spec = tmp_path / "etc/cdi/nvidia.yaml"
    r = ctk.run("cdi", "generate", "--output=%s" % spec)
    assert r.returncode == 0, r
    text = spec.read_text()
    assert "cdiVersion: 0.5.0" in text and "\nkind: nvidia.com/gpu\n" in text
    for node in ("/dev/nvidiactl", "/dev/nvidia-uvm"):
        assert "- path: %s\n" % node in text
    assert "hooks:" in text and "nvidia-cdi-hook" in text
    for i, uuid in enumerate(uuids):
        assert '  name: "%d"\n' % i in text and "  name: %s\n" % uuid in text
        assert "- path: /dev/nvidia%d\n" % i in text
    assert "  name: all\n" in text
    # stdout without --output is the same spec (the role compares it with the file)
    assert ctk.run("cdi", "generate").stdout == text
    lst = ctk.run("cdi", "list")
    assert lst.returncode == 0
    assert lst.stderr == "INFO[0000] Found %d CDI devices\n" % (2 * count + 1)
    assert lst.stdout.splitlines() == sorted(["nvidia.com/gpu=%d" % i for i in range(count)]
                                             + ["nvidia.com/gpu=" + u for u in uuids] + ["nvidia.com/gpu=all"])


def test_cdi_generate_is_valid_yaml(ctk):
    yaml = pytest.importorskip("yaml")
    spec = yaml.safe_load(ctk.run("cdi", "generate").stdout)
    assert spec["kind"] == "nvidia.com/gpu" and spec["cdiVersion"] == "0.5.0"
    names = [d["name"] for d in spec["devices"]]
    assert names[:2] == ["0", ctk.smi_uuids()[0]] and names[-1] == "all"
    assert [n["path"] for n in spec["devices"][-1]["containerEdits"]["deviceNodes"]] == ["/dev/nvidia%d" % i for i in range(8)]


def test_cdi_generate_fails_without_nvml(ctk, tmp_path):
    r = ctk.run("cdi", "generate", path="/usr/bin:/bin")
    assert r.returncode == 1
    assert r.stderr.endswith("ERRO[0000] failed to generate CDI spec: failed to create device CDI specs: "
                             "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND\n")
    (tmp_path / "etc/aifabric-lab/hw_profile").unlink()  # nvidia-smi: no driver
    r = ctk.run("cdi", "generate")
    assert r.returncode == 1 and "ERROR_DRIVER_NOT_LOADED" in r.stderr


def test_cdi_list_without_specs(ctk):
    r = ctk.run("cdi", "list")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "INFO[0000] Found 0 CDI devices\n")
