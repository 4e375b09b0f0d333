"""Verify the Kubernetes GPU phase: the GPU Operator and the Network Operator installed by the real
helm from the lab repo host's chart repository (chart doubles, lab/charts), the ClusterPolicy
Reconciled, the NicClusterPolicy and the macvlan network ready, and the readiness report
(playbooks/k8s_gpu_validate.yml) healthy on every GPU node; then faults, each named by the report
on exactly its node (four node faults judged by one run, one per node), or, for the ClusterPolicy,
for the cluster, and restored."""
import json
import os

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")


def helm(*args):
    out = labhosts.kube("helm", *args)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def get(*args):
    return json.loads(labhosts.kubectl("get", "-o", "json", *args))


def validate(tmp_path, fail=True, smoke_timeout=120):
    """Run the readiness check; (run, report.json). A smoke Job that cannot run waits out smoke_timeout."""
    args = ["-e", "k8s_gpu_validate_report_dir=%s" % tmp_path, "-e", "k8s_gpu_validate_smoke_timeout=%d" % smoke_timeout]
    if not fail:
        args += ["-e", "k8s_gpu_validate_fail=false"]
    run = labhosts.playbook("k8s_gpu_validate.yml", *args)
    report = None
    if os.path.exists(os.path.join(str(tmp_path), "report.json")):
        with open(os.path.join(str(tmp_path), "report.json")) as handle:
            report = json.load(handle)
    return run, report


def reasons(report):
    """{node: [codes]} of the unhealthy nodes, and the operators' codes under 'cluster'."""
    out = dict((v["node"], [r["code"] for r in v["reasons"]]) for v in report["nodes"] if v["reasons"])
    if report["operators"]:
        out["cluster"] = [p["code"] for p in report["operators"]]
    return out


def node(name):
    return get("node", name)


def wait_node(name, predicate, timeout=90):
    assert labhosts.wait_for(lambda: predicate(node(name)), timeout=timeout), json.dumps(node(name)["status"], indent=1)[-3000:]


def healthy_again(tmp_path):
    assert labhosts.wait_for(lambda: reasons(validate(tmp_path, fail=False)[1]) == {}, timeout=180, interval=5)


def test_both_releases_come_from_the_chart_repository():
    releases = dict((r["name"], r) for r in json.loads(helm("list", "-A", "-o", "json")))
    want = labhosts.kubernetes_intent()
    assert releases["gpu-operator"]["chart"] == "gpu-operator-" + want["gpu_operator"]["chart_version"]
    assert releases["gpu-operator"]["namespace"] == want["gpu_operator"]["namespace"]
    assert releases["network-operator"]["chart"] == "network-operator-" + want["network_operator"]["chart_version"]
    assert releases["gpu-operator"]["status"] == releases["network-operator"]["status"] == "deployed"
    values = json.loads(helm("get", "values", "gpu-operator", "-n", want["gpu_operator"]["namespace"], "-o", "json"))
    # the host owns driver and toolkit; Debian 12's containerd 1.6 has no CDI; the host's DCGM
    assert values["driver"] == {"enabled": False} and values["toolkit"] == {"enabled": False}
    assert values["cdi"]["enabled"] is False and values["dcgm"] == {"enabled": False}
    assert values["mig"] == {"strategy": "single"}


def test_the_cluster_policy_is_reconciled_and_validated_on_every_gpu_node():
    policy = get("clusterpolicies.nvidia.com")["items"]
    assert len(policy) == 1 and policy[0]["status"]["state"] == "ready", policy
    ready = [c for c in policy[0]["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["reason"] == "Reconciled", policy[0]["status"]
    spec = policy[0]["spec"]
    assert spec["driver"]["enabled"] is False and spec["toolkit"]["enabled"] is False
    pods = get("pods", "-n", labhosts.kubernetes_intent()["gpu_operator"]["namespace"], "-l", "app=nvidia-operator-validator")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods if p["status"]["phase"] == "Running") == sorted(GPU)


def test_the_nic_cluster_policy_and_the_fabric_network():
    want = labhosts.kubernetes_intent()["network_operator"]
    policy = get("nicclusterpolicies.mellanox.com", "nic-cluster-policy")
    assert policy["status"]["state"] == "ready" and "ofedDriver" not in policy["spec"]
    config = json.loads(policy["spec"]["rdmaSharedDevicePlugin"]["config"])["configList"][0]
    netdev = labhosts.fabric_netdev(GPU[0])
    assert config == {"resourceName": want["rdma_resource"], "rdmaHcaMax": want["rdma_hca_max"],
                      "selectors": {"vendors": ["15b3"], "ifNames": [netdev]}}
    net = want["secondary_network"]
    nad = get("network-attachment-definitions.k8s.cni.cncf.io", net["name"], "-n", net["namespace"])
    cni = json.loads(nad["spec"]["config"])
    first, last = net["ip_range"].split("-")
    assert cni["type"] == "macvlan" and cni["master"] == netdev and cni["mtu"] == 9000
    assert cni["ipam"]["type"] == "whereabouts" and (cni["ipam"]["range_start"], cni["ipam"]["range_end"]) == (first, last)


def test_gpu_nodes_advertise_their_gpus_and_rdma():
    rdma = "rdma/" + labhosts.kubernetes_intent()["network_operator"]["rdma_resource"]
    for name in GPU:
        n = node(name)
        assert n["status"]["allocatable"].get("nvidia.com/gpu") == n["metadata"]["labels"].get("nvidia.com/gpu.count"), name
        assert n["status"]["allocatable"].get(rdma) == str(labhosts.kubernetes_intent()["network_operator"]["rdma_hca_max"]), name


def test_the_readiness_report_is_healthy(tmp_path):
    run, report = validate(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert sorted(v["node"] for v in report["nodes"]) == sorted(GPU)
    assert reasons(report) == {}, report
    # every node ran its smoke Job: one GPU, and on the fabric the RDMA device and the macvlan network
    assert [v["smoke"] for v in report["nodes"]] == ["complete"] * len(GPU), report
    assert "**%d of %d GPU nodes ready**" % (len(GPU), len(GPU)) in (tmp_path / "report.md").read_text()
    assert not get("jobs", "-n", labhosts.kubernetes_intent()["network_operator"]["secondary_network"]["namespace"],
                   "-l", "app.kubernetes.io/name=aifabric-gpu-smoke")["items"]


def test_the_phase_in_check_mode_changes_nothing():
    run = labhosts.playbook("kubernetes_gpu.yml", "--check", "--diff")
    assert run.returncode == 0, run.stdout[-3000:]
    assert not any(labhosts.recaps(run.stdout).values()), run.stdout[-3000:]


@pytest.mark.fault
def test_four_faults_on_four_nodes_are_each_named_on_their_node(tmp_path):
    # one readiness run judges four faults at once, one per GPU node, so that each must be
    # named on its own node and on no other:
    # - a product that is not the profile: GFD switched off on the node
    #   (nvidia.com/gpu.deploy.gpu-feature-discovery=false), then its product label set by
    #   hand, a stale label that no longer describes the node;
    # - a GPU fallen off the bus: 7 of 8 allocatable, GFD's count label following it down;
    # - the RDMA device gone: rdma at 0, and the node's smoke Job, which asks for one unit
    #   of it, cannot be scheduled;
    # - a cordoned node: its smoke Job cannot be scheduled either.
    assert len(GPU) >= 4, GPU
    stale, bus, nordma, cordoned = GPU[:4]
    rdma = "rdma/" + labhosts.kubernetes_intent()["network_operator"]["rdma_resource"]
    labhosts.kubectl("label", "node", stale, "nvidia.com/gpu.deploy.gpu-feature-discovery=false", "--overwrite")
    labhosts.host(bus).run_expect([0], "aifabric-sim-gpu fault 3 fallen-off-bus")
    labhosts.host(nordma).run_expect([0], "aifabric-sim-rdma unbind")
    labhosts.kubectl("cordon", cordoned)
    try:
        labhosts.kubectl("label", "node", stale, "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB", "--overwrite")
        wait_node(bus, lambda n: n["status"]["allocatable"].get("nvidia.com/gpu") == "7")
        wait_node(nordma, lambda n: n["status"]["allocatable"].get(rdma) == "0")
        run, report = validate(tmp_path, smoke_timeout=15)
        assert run.returncode != 0, run.stdout[-3000:]
        found = reasons(report)
        assert sorted(found) == sorted([stale, bus, nordma, cordoned]), report
        assert found[stale] == ["gpu_product"], report
        # GFD counts the GPUs NVML still lists: the label follows the allocatable down
        assert "gpu_allocatable" in found[bus] and set(found[bus]) <= {"gpu_allocatable", "gpu_count_label"}, report
        assert "allocatable nvidia.com/gpu is 7" in run.stdout
        assert found[nordma] == ["rdma_allocatable", "smoke_job_pending"], report
        pending = [r["message"] for v in report["nodes"] if v["node"] == nordma for r in v["reasons"] if r["code"] == "smoke_job_pending"]
        assert "Insufficient " + rdma in pending[0], pending
        assert found[cordoned] == ["cordoned", "smoke_job_pending"], report
    finally:
        labhosts.kubectl("label", "node", stale, "nvidia.com/gpu.deploy.gpu-feature-discovery=true", "--overwrite")
        labhosts.host(bus).run_expect([0], "aifabric-sim-gpu fault 3 clear")
        labhosts.host(nordma).run_expect([0], "aifabric-sim-rdma bind")
        labhosts.kubectl("uncordon", cordoned)
    wait_node(bus, lambda n: n["status"]["allocatable"].get("nvidia.com/gpu") == "8")
    wait_node(nordma, lambda n: n["status"]["allocatable"].get(rdma) == str(labhosts.kubernetes_intent()["network_operator"]["rdma_hca_max"]))
    # the report healthy again on every node is the next fault test's last step (one readiness run for both)


@pytest.mark.fault
def test_no_gpu_node_labelled_is_no_gpu_nodes_and_converge_restores_it(tmp_path):
    namespace = labhosts.kubernetes_intent()["gpu_operator"]["namespace"]
    helm("upgrade", "gpu-operator", "gpu-operator", "--repo", labhosts.kubernetes_intent()["gpu_operator"]["chart_repo_url"],
         "--version", labhosts.kubernetes_intent()["gpu_operator"]["chart_version"], "-n", namespace, "--reuse-values", "--set", "nfd.enabled=false")
    labhosts.kubectl("label", "nodes", "--all", "feature.node.kubernetes.io/pci-10de.present-", "nvidia.com/gpu.present-")

    def reason():
        conditions = get("clusterpolicies.nvidia.com")["items"][0].get("status", {}).get("conditions", [])
        return [c.get("reason") for c in conditions if c["type"] == "Ready"]
    assert labhosts.wait_for(lambda: reason() == ["NoGPUNodes"], timeout=60), reason()
    run, report = validate(tmp_path)
    assert run.returncode != 0 and reasons(report).get("cluster") == ["cluster_policy_no_gpu_nodes"], report
    # the phase puts the values back (NFD on), the nodes are labelled again, Reconciled
    converge = labhosts.playbook("kubernetes_gpu.yml")
    assert converge.returncode == 0, converge.stdout[-3000:]
    assert labhosts.recaps(converge.stdout).get("mgmt-01", 0) > 0, converge.stdout[-3000:]
    assert reason() == ["Reconciled"]
    healthy_again(tmp_path)
