"""Verify the Kubernetes phase as far as it goes today: containerd on every Kubernetes host,
configured from the intent and read back from what the real containerd (Debian's 1.6) loads
(containerd config dump), the kernel prerequisites persisted, swap kept out of fstab; then a
drift pass (cgroupfs in the config, a swap line in fstab) named by check mode and restored."""
import json
import os

import pytest
import yaml

import labhosts

GPU = labhosts.group("gpu_nodes")
CONTROL = labhosts.group("kube_control_plane")
NVIDIA = "/usr/bin/nvidia-container-runtime"
CONFIG = "/etc/containerd/config.toml"
SWAP_LINE = "/swapfile none swap sw 0 0"


def pause_image():
    with open(os.path.join(labhosts.ROOT, "inventories", "lab", "group_vars", "all", "kubernetes.yml")) as handle:
        version = yaml.safe_load(handle)["cluster_kubernetes"]["version"]
    minor = int(version.split(".")[1])
    return "registry.k8s.io/pause:%s" % {30: "3.9", 31: "3.10", 32: "3.10", 33: "3.10"}.get(minor, "3.10.1")


def containerd_info(hosts, gpu):
    expect = {"systemd_cgroup": True, "sandbox_image": pause_image(), "cdi": True,
              "runtimes": ["runc", "nvidia"] if gpu else ["runc"],
              "default_runtime": "nvidia" if gpu else "runc",
              "binary_names": {"nvidia": NVIDIA} if gpu else {}}
    return labhosts.module(hosts, "aifabric.cluster.containerd_config_info", json.dumps(expect))


def test_containerd_loads_what_kubernetes_needs_on_gpu_nodes():
    for name, result in containerd_info(GPU, gpu=True).items():
        assert result.get("problems") == [], (name, result)
        assert result["containerd_version"].startswith("1.6."), (name, result)
        assert result["config_version"] == 2 and result["cri_plugin"] == "io.containerd.grpc.v1.cri"
        assert result["runtimes"]["nvidia"] == {"runtime_type": "io.containerd.runc.v2", "binary_name": NVIDIA,
                                                "systemd_cgroup": True}
        assert result["runtimes"]["runc"]["systemd_cgroup"] is True
        # containerd 1.6 has no CDI switch: the role writes none and the module reports none
        assert result["enable_cdi"] is None


def test_containerd_on_the_control_plane_has_no_nvidia_runtime():
    for name, result in containerd_info(CONTROL, gpu=False).items():
        assert result.get("problems") == [], (name, result)
        assert "nvidia" not in result["runtimes"] and result["default_runtime"] == "runc"


@pytest.mark.parametrize("name", CONTROL + GPU)
def test_containerd_runs_and_the_kernel_prerequisites_persist(name):
    h = labhosts.host(name)
    svc = h.service("containerd")
    assert svc.is_running and svc.is_enabled
    assert h.socket("unix:///run/containerd/containerd.sock").is_listening
    assert 'imports = ["/etc/containerd/conf.d/*.toml"]' in h.file(CONFIG).content_string
    assert h.file("/etc/modules-load.d/aifabric-kubernetes.conf").content_string.split("\n")[1:3] == [
        "overlay", "br_netfilter"]
    sysctls = h.file("/etc/sysctl.d/90-aifabric-kubernetes.conf").content_string
    for key in ("net.bridge.bridge-nf-call-ip6tables", "net.bridge.bridge-nf-call-iptables", "net.ipv4.ip_forward"):
        assert "%s = 1" % key in sysctls
        assert h.check_output("cat /proc/sys/%s", key.replace(".", "/")) == "1"
    assert not [line for line in h.file("/etc/fstab").content_string.splitlines()
                if line.split()[2:3] == ["swap"]]


def test_drift_is_named_in_check_mode_and_restored():
    """cgroupfs written into a GPU node's containerd config and a swap line added to its fstab:
    check mode names both (and the restart they need) on that node and changes nothing; a converge restores the
    config (containerd restarted and read back clean) and comments the swap line out."""
    name = GPU[-1]
    h = labhosts.host(name)
    h.run("sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' %s && echo '%s' >> /etc/fstab" % (CONFIG, SWAP_LINE))
    try:
        assert containerd_info([name], gpu=True)[name]["problems"] == [
            "runtime 'nvidia' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)",
            "runtime 'runc' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)"]
        check = labhosts.playbook("kubernetes.yml", "--check", "--diff", "--limit", name)
        assert check.returncode == 0, check.stdout[-3000:]
        assert "changed=3 " in check.stdout, check.stdout[-3000:]
        assert "-        SystemdCgroup = false\n+        SystemdCgroup = true" in check.stdout
        assert "+# disabled by aifabric.cluster.container_runtime (the kubelet needs swap off): %s" % SWAP_LINE \
            in check.stdout
        assert "SystemdCgroup = false" in h.file(CONFIG).content_string
        run = labhosts.playbook("kubernetes.yml", "--limit", name)
        assert run.returncode == 0, run.stdout[-3000:]
        assert containerd_info([name], gpu=True)[name]["problems"] == []
        assert "# disabled by aifabric.cluster.container_runtime (the kubelet needs swap off): %s" % SWAP_LINE \
            in h.file("/etc/fstab").content_string
        again = labhosts.playbook("kubernetes.yml", "--limit", name)
        assert again.returncode == 0 and "changed=0 " in again.stdout, again.stdout[-3000:]
    finally:
        h.run("sed -i '\\#%s#d' /etc/fstab" % SWAP_LINE)
        if "SystemdCgroup = false" in h.file(CONFIG).content_string:
            labhosts.playbook("kubernetes.yml", "--limit", name)
