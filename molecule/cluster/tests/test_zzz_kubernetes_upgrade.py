"""Day 2: the Kubernetes upgrade of one minor (playbooks/kubernetes_upgrade.yml), rehearsed on the
converged lab cluster from 1.34.2 to 1.35.0 (the lab repository carries both versions of the
kubeadm and kubelet doubles). First the negative cases, each failing before any change with its
own message: a kubelet newer than the API server in the inventory (preflight), and the phase asked
for 1.35.0 while the cluster runs 1.34.2 (a converge never upgrades a node of the cluster). Then
the upgrade in check mode (nothing moves), the upgrade (the API server, every kubelet and the held
packages at 1.35.0, kubectl with them on the control plane, every node Ready and schedulable), a
second upgrade run and the phase at the new version, both changing nothing. Marked final: the cluster stays at 1.35.0, so it runs last."""
import json
import os
import subprocess

import pytest
import yaml

import labhosts

GPU = labhosts.group("gpu_nodes")
CONTROL = labhosts.group("kube_control_plane")
KUBE = sorted(set(CONTROL) | set(GPU))  # kube_nodes: the GPU nodes (lab_inventory.py)
KUBECONFIG = os.path.join(labhosts.ROOT, ".cache", "lab", "admin.conf")
KUBECTL = os.path.join(labhosts.ROOT, ".cache", "tools", "bin", "kubectl")
NEXT = "1.35.0"

pytestmark = pytest.mark.final


def kubectl(*args):
    out = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, "--request-timeout=30s"] + list(args),
                         capture_output=True, text=True, timeout=90, check=False)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def versions():
    server = json.loads(kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"]
    nodes = json.loads(kubectl("get", "nodes", "-o", "json"))["items"]
    return server, {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}


@pytest.fixture(scope="module")
def next_intent(tmp_path_factory):
    with open(os.path.join(labhosts.ROOT, "inventories", "lab", "group_vars", "all", "kubernetes.yml")) as handle:
        intent = yaml.safe_load(handle)["cluster_kubernetes"]
    path = tmp_path_factory.mktemp("upgrade") / "next.json"
    path.write_text(json.dumps({"cluster_kubernetes": dict(intent, version=NEXT)}))
    return "@%s" % path


def test_a_kubelet_newer_than_the_api_server_is_refused_by_preflight():
    run = labhosts.playbook("kubernetes.yml", "-e", "kubernetes_kubelet_version=" + NEXT)
    assert run.returncode != 0, run.stdout[-3000:]
    assert "%s: kubernetes_kubelet_version '%s' is newer than the API server" % (GPU[0], NEXT) in run.stdout, run.stdout[-3000:]
    assert not any(labhosts.recaps(run.stdout).values()), run.stdout[-3000:]


def test_the_phase_never_upgrades_a_node_of_the_cluster(next_intent):
    run = labhosts.playbook("kubernetes.yml", "-e", next_intent)
    out = run.stdout
    assert run.returncode != 0, out[-3000:]
    first = CONTROL[0]
    assert "%s: kubelet 1.34.2 runs here and cluster_kubernetes.version asks %s: a converge does not upgrade a node of the " \
           "cluster; run playbooks/kubernetes_upgrade.yml" % (first, NEXT) in out, out[-3000:]
    assert "%s: cluster_kubernetes.version '%s' is newer than the API server (v1.34.2)" % (first, NEXT) in out, out[-3000:]
    assert not any(labhosts.recaps(out).values()), out[-3000:]
    assert versions() == ("v1.34.2", dict((name, "v1.34.2") for name in KUBE))


def test_the_upgrade_in_check_mode_moves_nothing(next_intent):
    run = labhosts.playbook("kubernetes_upgrade.yml", "--check", "--diff", "-e", next_intent)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "would run kubeadm upgrade apply v%s on %s" % (NEXT, CONTROL[0]) in run.stdout, run.stdout[-3000:]
    assert versions() == ("v1.34.2", dict((name, "v1.34.2") for name in KUBE))


def test_the_upgrade_moves_every_node_then_changes_nothing(next_intent):
    run = labhosts.playbook("kubernetes_upgrade.yml", "-e", next_intent)
    assert run.returncode == 0, run.stdout[-5000:]
    assert all(labhosts.recaps(run.stdout).get(name) for name in KUBE), run.stdout[-3000:]
    assert versions() == ("v" + NEXT, dict((name, "v" + NEXT) for name in KUBE))
    for node in json.loads(kubectl("get", "nodes", "-o", "json"))["items"]:
        assert not node["spec"].get("unschedulable"), node["metadata"]["name"]
        assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    for name in KUBE:
        h = labhosts.host(name)
        packages = {"kubelet", "kubeadm", "kubectl"} if name in CONTROL else {"kubelet", "kubeadm"}
        for package in sorted(packages):
            assert h.check_output("dpkg-query --show --showformat='${Version}' %s" % package).startswith(NEXT + "-")
        assert set(h.check_output("apt-mark showhold").split()) >= packages
    for name in CONTROL:
        client = json.loads(labhosts.host(name).check_output("kubectl version --client -o json"))["clientVersion"]
        assert client["minor"] == NEXT.split(".")[1], client
    manifest = labhosts.host(CONTROL[0]).file("/etc/kubernetes/manifests/kube-apiserver.yaml").content_string
    assert "registry.k8s.io/kube-apiserver:v%s" % NEXT in manifest
    again = labhosts.playbook("kubernetes_upgrade.yml", "-e", next_intent)
    assert again.returncode == 0 and not any(labhosts.recaps(again.stdout).values()), again.stdout[-3000:]
    settled = labhosts.playbook("kubernetes.yml", "-e", next_intent)
    assert settled.returncode == 0 and not any(labhosts.recaps(settled.stdout).values()), settled.stdout[-3000:]
