"""Verify the Kubernetes phase: containerd on every Kubernetes host, configured from the intent
and read back from what the real containerd (Debian's 1.6) loads (containerd config dump), the
kernel prerequisites persisted, swap kept out of fstab; the kubeadm control plane and every node
joined and Ready, seen by the real kubectl through the control-plane endpoint with the fetched
admin kubeconfig (TLS checked against the cluster CA), labelled and tainted by hardware profile,
Calico from the site mirror with the intent's pod CIDR (and a manifest that fails the schema refused),
kubelet and kubeadm held at the pinned version (and kubectl on the control plane, which lists every
node with its admin.conf), the stacked etcd real and healthy behind its own TLS, and no bootstrap
token in the run's log; then a
drift pass (cgroupfs in the config, a swap line in fstab) named by check mode and restored."""
import base64
import glob
import json
import os
import re
import subprocess

import pytest
import yaml

import labhosts

GPU = labhosts.group("gpu_nodes")
CONTROL = labhosts.group("kube_control_plane")
NVIDIA = "/usr/bin/nvidia-container-runtime"
CONFIG = "/etc/containerd/config.toml"
SWAP_LINE = "/swapfile none swap sw 0 0"


def pause_image():
    version = labhosts.kubernetes_intent()["version"]
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


def test_every_node_is_ready_through_the_control_plane_endpoint():
    """The admin kubeconfig fetched by the role (0600) names the endpoint; the real kubectl verifies the
    API server's certificate (made by kubeadm's PKI) against the cluster CA and lists every Kubernetes host
    Ready, at the pinned version."""
    want = labhosts.kubernetes_intent()
    assert oct(os.stat(labhosts.KUBECONFIG).st_mode & 0o777) == "0o600"
    endpoint = want["control_plane_endpoint"]
    server = labhosts.kubectl("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
    assert server == "https://%s:%s" % (endpoint["host"], endpoint["port"])
    assert json.loads(labhosts.kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"] == "v" + want["version"]
    nodes = {node["metadata"]["name"]: node for node in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]}
    assert sorted(nodes) == sorted(CONTROL + GPU)
    for name, node in nodes.items():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", (name, ready)
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v" + want["version"], name
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://1.6."), name
    table = labhosts.kubectl("get", "nodes").splitlines()
    assert table[0].split()[:2] == ["NAME", "STATUS"]
    assert sorted(line.split()[0] for line in table[1:] if line.split()[1] == "Ready") == sorted(CONTROL + GPU)


CNI_PLUGINS = ("loopback", "bridge", "host-local", "portmap", "bandwidth")


def _pool_cidr_env():
    daemonset = json.loads(labhosts.kubectl("get", "daemonset", "-n", "kube-system", "calico-node", "-o", "json"))
    return [e.get("value") for c in daemonset["spec"]["template"]["spec"]["containers"] if c["name"] == "calico-node"
            for e in c["env"] if e["name"] == "CALICO_IPV4POOL_CIDR"]


def test_the_cni_is_applied_with_the_pod_cidr_and_its_plugins_in_place():
    """Calico's manifest from the site mirror, applied with the intent's pod CIDR: calico-node's
    CALICO_IPV4POOL_CIDR, and the default IPPool its startup made from it; on every node the CNI
    configuration it wrote (which made the node Ready) and the distribution's reference plugins linked into
    containerd's bin_dir, the real binaries answering the CNI VERSION command."""
    want = labhosts.kubernetes_intent()
    assert _pool_cidr_env() == [want["pod_cidr"]]
    daemonset = json.loads(labhosts.kubectl("get", "daemonset", "-n", "kube-system", "calico-node", "-o", "json", "--show-managed-fields"))
    assert "aifabric-cni" in [m["manager"] for m in daemonset["metadata"]["managedFields"]]
    pool = json.loads(labhosts.kubectl("get", "ippools.crd.projectcalico.org", "default-ipv4-ippool", "-o", "json"))
    assert pool["spec"]["cidr"] == want["pod_cidr"]
    for name in CONTROL + GPU:
        h = labhosts.host(name)
        conf = json.loads(h.file("/etc/cni/net.d/10-calico.conflist").content_string)
        assert [p["type"] for p in conf["plugins"]] == ["calico", "portmap", "bandwidth"], (name, conf)
        assert conf["plugins"][0]["nodename"] == name
        for plugin in CNI_PLUGINS:
            link = h.file("/opt/cni/bin/" + plugin)
            assert link.is_symlink and link.linked_to == "/usr/lib/cni/" + plugin, (name, plugin)
            answer = h.run("CNI_COMMAND=VERSION /opt/cni/bin/%s", plugin)
            assert answer.rc == 0 and "1.0.0" in json.loads(answer.stdout)["supportedVersions"], (name, plugin, answer.stderr)


def test_a_cni_manifest_that_fails_the_schema_is_refused_before_anything_is_applied():
    """The mirror's Calico manifest with one field misspelt (lab/repo/build-repo.sh): the role names the object,
    the field and the version whose schema refused it, and applies nothing (no object changes)."""
    name = GPU[0]
    before = json.loads(labhosts.kubectl("get", "daemonset", "-n", "kube-system", "calico-node", "-o", "json"))["metadata"]["resourceVersion"]
    broken = dict(labhosts.kubernetes_intent(), cni_manifest_url="http://10.231.0.3/cni/broken/calico-v3.30.3.yaml")
    run = labhosts.playbook("kubernetes.yml", "--limit", name, "-e", json.dumps({"cluster_kubernetes": broken}))
    assert run.returncode != 0, run.stdout[-3000:]
    assert ("http://10.231.0.3/cni/broken/calico-v3.30.3.yaml (calico, Kubernetes %s): PodDisruptionBudget "
            "kube-system/calico-kube-controllers: spec: Additional properties are not allowed ('maxUnavailabel' was "
            "unexpected); nothing was applied" % broken["version"]) in run.stdout, run.stdout[-3000:]
    assert "Apply the manifest" not in run.stdout
    after = json.loads(labhosts.kubectl("get", "daemonset", "-n", "kube-system", "calico-node", "-o", "json"))["metadata"]["resourceVersion"]
    assert after == before
    assert "maxUnavailabel" not in labhosts.kubectl("get", "pdb", "-n", "kube-system", "calico-kube-controllers", "-o", "json")


def test_nodes_carry_their_profile_labels_and_gpu_taints():
    want = labhosts.kubernetes_intent()
    nodes = {node["metadata"]["name"]: node for node in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]}
    for name in GPU:
        profile = labhosts.hostvars(name)["node_hw_profile"]
        labels, taints = nodes[name]["metadata"]["labels"], nodes[name]["spec"].get("taints", [])
        for key, value in want["node_labels"][profile].items():
            assert labels.get(key) == value, (name, key, labels)
        assert labels.get("node-role.kubernetes.io/worker") == "", (name, labels)
        assert "node-role.kubernetes.io/control-plane" not in labels
        # nvidia.com/gpu.* are GPU Feature Discovery's (once the GPU Operator runs), never the role's: the intent
        # may not name them (preflight) and test_kubernetes_gpu.py checks them against the simulated hardware
        for taint in want["gpu_taints"][profile]:
            assert taint in [{k: t.get(k) for k in ("key", "value", "effect")} for t in taints], (name, taints)
    for name in CONTROL:
        node = nodes[name]
        assert node["metadata"]["labels"].get("node-role.kubernetes.io/control-plane") == "", name
        assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in node["spec"]["taints"]


@pytest.mark.parametrize("name", CONTROL + GPU)
def test_kubelet_and_kubeadm_are_pinned_and_held(name):
    """kubelet and kubeadm on every node, kubectl on the control planes only, at the pinned version and held."""
    h = labhosts.host(name)
    for package in ("kubelet", "kubeadm", "kubectl") if name in CONTROL else ("kubelet", "kubeadm"):
        status = h.check_output("dpkg-query -W -f='${Status} ${Version}' %s", package)
        assert status.startswith("hold ok installed %s-" % labhosts.kubernetes_intent()["version"]), (name, package, status)
    if name not in CONTROL:
        assert not h.exists("kubectl"), name
    assert h.service("kubelet").is_running and h.service("kubelet").is_enabled
    assert h.file("/etc/kubernetes/kubelet.conf").mode == 0o600


@pytest.mark.parametrize("name", CONTROL)
def test_kubectl_on_the_control_plane_is_real_and_reaches_the_cluster(name):
    """The control plane's kubectl is the real one of the intent's minor (the lab's package holds the upstream
    binary), and with the node's admin.conf it lists every node of the cluster."""
    h = labhosts.host(name)
    client = json.loads(h.check_output("kubectl version --client -o json"))["clientVersion"]
    assert (client["major"], client["minor"]) == tuple(labhosts.kubernetes_intent()["version"].split(".")[:2]), client
    listed = h.check_output("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name")
    assert sorted(listed.split()) == sorted("node/" + n for n in CONTROL + GPU), listed


ETCD_PKI = "/etc/kubernetes/pki/etcd"
HEALTHCHECK_CLIENT = "--cert=%s/healthcheck-client.crt --key=%s/healthcheck-client.key" % (ETCD_PKI, ETCD_PKI)


def etcdctl(endpoint, client, command, timeouts=("5s", "10s")):
    """An etcdctl command line against endpoint, the etcd CA trusted, with the client certificate options given."""
    return "ETCDCTL_API=3 etcdctl --dial-timeout=%s --command-timeout=%s --endpoints=%s --cacert=%s/ca.crt %s %s" % (
        timeouts + (endpoint, ETCD_PKI, client, command))


@pytest.mark.parametrize("name", CONTROL)
def test_etcd_is_real_healthy_and_speaks_only_tls_with_the_clusters_pki(name):
    """The stacked etcd of kubeadm's manifest runs (the real etcd, from the lab image), a member named after the
    node with its peer URL on the node's management address; etcdctl, with the healthcheck client certificate
    kubeadm signed, finds it healthy on the loopback and on that address (the server certificate's SANs checked
    against the etcd CA); without a client certificate, or with the cluster CA's instead of etcd's, it is refused."""
    h = labhosts.host(name)
    ip = labhosts.hostvars(name)["node_mgmt_ip"]
    manifest = yaml.safe_load(h.check_output("cat /etc/kubernetes/manifests/etcd.yaml"))
    assert "--name=%s" % name in manifest["spec"]["containers"][0]["command"], manifest
    assert h.run("systemctl is-active aifabric-static-etcd").stdout.strip() == "active"
    for endpoint in ("https://127.0.0.1:2379", "https://%s:2379" % ip):
        health = h.run(etcdctl(endpoint, HEALTHCHECK_CLIENT, "endpoint health"))
        assert health.rc == 0 and "is healthy" in health.stdout + health.stderr, (endpoint, health.stdout, health.stderr)
    members = json.loads(h.check_output(etcdctl("https://127.0.0.1:2379", HEALTHCHECK_CLIENT, "member list -w json")))["members"]
    assert [(m["name"], m["peerURLs"]) for m in members] == [(name, ["https://%s:2380" % ip])], members
    # the real TLS of etcd: no client certificate, or one etcd's CA did not sign, gets nothing, and etcd
    # says why in its log
    for client, why in (("", "tls: client didn't provide a certificate"),
                        ("--cert=/etc/kubernetes/pki/apiserver-kubelet-client.crt"
                         " --key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
                         "tls: failed to verify client certificate: x509: certificate signed by unknown authority")):
        since = h.check_output("date '+%Y-%m-%d %H:%M:%S'")
        refused = h.run(etcdctl("https://127.0.0.1:2379", client, "member list", ("2s", "3s")))
        assert refused.rc != 0, refused.stdout
        log = h.check_output("journalctl -u aifabric-static-etcd --no-pager -o cat --since %s", since)
        assert 'rejected connection from "127.0.0.1:' in log and why in log, log[-2000:]


def test_the_api_servers_objects_live_in_etcd():
    """The API server keeps its objects in the stacked etcd, as kube-apiserver does: a ConfigMap written with
    kubectl through the endpoint is the key /registry/configmaps/<namespace>/<name> in etcd, its resourceVersion
    the key's mod_revision and its uid the stored one; deleted, the key is gone."""
    h = labhosts.host(CONTROL[0])
    client = "--cert=%s/apiserver-etcd-client.crt --key=%s/apiserver-etcd-client.key" % ("/etc/kubernetes/pki", "/etc/kubernetes/pki")

    def stored(key):
        kvs = json.loads(h.check_output(etcdctl("https://127.0.0.1:2379", client, "get %s -w json" % key))).get("kvs") or []
        return [(json.loads(base64.b64decode(kv["value"])), kv["mod_revision"]) for kv in kvs]
    labhosts.kubectl("-n", "default", "create", "configmap", "aifabric-etcd-probe", "--from-literal=written=through-the-vip")
    try:
        made = json.loads(labhosts.kubectl("-n", "default", "get", "configmap", "aifabric-etcd-probe", "-o", "json"))
        [(value, revision)] = stored("/registry/configmaps/default/aifabric-etcd-probe")
        assert (value["data"], value["metadata"]["uid"], str(revision)) == (
            {"written": "through-the-vip"}, made["metadata"]["uid"], made["metadata"]["resourceVersion"]), (value, revision, made)
    finally:
        labhosts.kubectl("-n", "default", "delete", "configmap", "aifabric-etcd-probe")
    assert stored("/registry/configmaps/default/aifabric-etcd-probe") == []


@pytest.mark.parametrize("lease", ["kube-controller-manager", "kube-scheduler"])
def test_controllers_lead_through_their_lease(lease):
    """kube-controller-manager and kube-scheduler run with --leader-elect (kubeadm's manifest): each holds its
    Lease in kube-system as <control plane>_<uuid>, renewed within the lease duration, so that with several
    control planes one of each acts."""
    spec = json.loads(labhosts.kubectl("-n", "kube-system", "get", "lease", lease, "-o", "json"))["spec"]
    holder = spec.get("holderIdentity") or ""
    assert holder.split("_")[0] in CONTROL and re.match(r"^[0-9a-f-]{36}$", holder.split("_", 1)[1]), spec
    renewed = subprocess.run(["date", "-u", "-d", spec["renewTime"], "+%s"], capture_output=True, text=True, check=True).stdout
    now = subprocess.run(["date", "-u", "+%s"], capture_output=True, text=True, check=True).stdout
    assert int(now) - int(renewed) < spec["leaseDurationSeconds"], spec


def test_the_control_plane_keeps_its_config_and_no_join_file():
    """The secret-free kubeadm config the role keeps, valid for kubeadm itself; no join or init file with a
    token is left anywhere in /tmp."""
    h = labhosts.host(CONTROL[0])
    config = h.file("/etc/kubernetes/aifabric/kubeadm-init.yaml")
    assert config.mode == 0o600 and "token" not in config.content_string.lower()
    assert h.run("kubeadm config validate --config /etc/kubernetes/aifabric/kubeadm-init.yaml").rc == 0
    for name in CONTROL + GPU:
        assert labhosts.host(name).run("ls /tmp/*.kubeadm-*.yaml").rc != 0, name


def test_no_bootstrap_token_reaches_the_logs():
    """Every bootstrap token the cluster still holds, and anything shaped like one, is absent from the run's
    logs (.cache/logs: the Ansible log of every stage)."""
    secrets = json.loads(labhosts.kubectl("get", "secrets", "-n", "kube-system", "-o", "json"))["items"]
    tokens = []
    for secret in secrets:
        if secret.get("type") == "bootstrap.kubernetes.io/token":
            data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
            tokens.append("%s.%s" % (data["token-id"], data["token-secret"]))
    assert tokens, "the init token (24 h) should still be there"
    shaped = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")
    logs = glob.glob(os.path.join(labhosts.ROOT, ".cache", "logs", "**", "*"), recursive=True)
    assert logs
    for path in logs:
        if not os.path.isfile(path):
            continue
        with open(path, errors="replace") as handle:
            text = handle.read()
        for token in tokens:
            assert token not in text and token.split(".")[1] not in text, path
        # kubeadm's documentation example token is no secret
        found = [t for t in shaped.findall(text) if t != "abcdef.0123456789abcdef"]
        assert not found, (path, found[:3])


def test_the_api_is_reached_through_the_vip():
    """haproxy and keepalived (Debian's, real) on the control plane: the VIP on exactly one control plane,
    on the netdev of its management address; haproxy with every API server as a backend, its config accepted
    by haproxy -c; the fetched kubeconfig points at the VIP and the endpoint's port, and the real kubectl
    (TLS checked against the cluster CA, so the VIP is in the API server's certificate) lists every node Ready
    through it."""
    endpoint = labhosts.kubernetes_intent()["control_plane_endpoint"]
    assert labhosts.kubernetes_intent()["ha_mode"] == "keepalived" and endpoint["host"] == labhosts.kubernetes_intent()["vip"]
    assert labhosts.vip_holders(CONTROL) == [CONTROL[0]]
    for name in CONTROL:
        h = labhosts.host(name)
        for service in ("haproxy", "keepalived"):
            assert h.service(service).is_running and h.service(service).is_enabled, (name, service)
        assert h.run("haproxy -c -f /etc/haproxy/haproxy.cfg").rc == 0, name
        config = h.file("/etc/haproxy/haproxy.cfg").content_string
        assert "bind *:%d" % endpoint["port"] in config
        for plane in CONTROL:
            assert "server %s %s:6443 check" % (plane, labhosts.hostvars(plane)["node_mgmt_ip"]) in config, config
        mgmt = labhosts.hostvars(name)["node_mgmt_ip"]
        netdev = re.search(r"^\d+:\s+(\S+)\s+inet %s/" % re.escape(mgmt), h.check_output("ip -o -4 addr show"), re.M).group(1)
        assert "interface %s" % netdev in h.file("/etc/keepalived/keepalived.conf").content_string
    with open(labhosts.KUBECONFIG) as handle:
        assert yaml.safe_load(handle)["clusters"][0]["cluster"]["server"] == "https://%s:%d" % (endpoint["host"], endpoint["port"])
    nodes = json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]
    assert sorted(n["metadata"]["name"] for n in nodes) == sorted(set(CONTROL) | set(GPU))
    for n in nodes:
        assert {"type": "Ready", "status": "True"}.items() <= [c for c in n["status"]["conditions"] if c["type"] == "Ready"][0].items()


@pytest.mark.fault
def test_keepalived_stopped_takes_the_vip_and_a_converge_brings_it_back():
    """keepalived stopped on the control plane that holds the VIP: the VIP is gone and the API does not
    answer through it; the Kubernetes phase on that host starts keepalived again first (its load balancer
    play runs before the control plane's), the VIP is back and the API answers through it."""
    name = CONTROL[0]
    h = labhosts.host(name)
    assert h.run("systemctl stop keepalived").rc == 0
    try:
        assert labhosts.wait_for(lambda: labhosts.vip_holders(CONTROL) == [], timeout=30)
        down = labhosts.kube("kubectl", "--request-timeout=5s", "get", "nodes", timeout=60)
        assert down.returncode != 0, down.stdout
        run = labhosts.playbook("kubernetes.yml", "--limit", name)
        assert run.returncode == 0, run.stdout[-3000:]
        task = run.stdout.split("TASK [aifabric.cluster.kubernetes_loadbalancer : Run keepalived")[1].split("TASK [")[0]
        assert "changed: [%s]" % name in task, task
        assert labhosts.vip_holders(CONTROL) == [name]
        assert name in labhosts.kubectl("get", "nodes")
    finally:
        h.run("systemctl start keepalived")


def test_drift_is_named_in_check_mode_and_restored():
    """One drift pass for the phase, on a GPU node and the control plane at once: cgroupfs written into the GPU
    node's containerd config, a swap line added to its fstab, its GPU taint and profile label taken off with
    kubectl, and calico-node's pool CIDR changed with kubectl. Check mode names all (and the restart they need) on
    their node, the DaemonSet with the field before and after, and changes nothing; a converge restores the config
    (containerd restarted and read back clean), comments the swap line out, puts the taint and label back and the
    intent's pool CIDR; a further run changes nothing on either host."""
    name, control = GPU[-1], CONTROL[0]
    want = labhosts.kubernetes_intent()["pod_cidr"]
    h = labhosts.host(name)
    profile = labhosts.hostvars(name)["node_hw_profile"]
    h.run("sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' %s && echo '%s' >> /etc/fstab" % (CONFIG, SWAP_LINE))
    labhosts.kubectl("taint", "nodes", name, "nvidia.com/gpu-")
    labhosts.kubectl("label", "node", name, "aifabric.io/hw-profile-")
    labhosts.kubectl("set", "env", "daemonset/calico-node", "-n", "kube-system", "-c", "calico-node", "CALICO_IPV4POOL_CIDR=10.99.0.0/16")
    try:
        assert containerd_info([name], gpu=True)[name]["problems"] == [
            "runtime 'nvidia' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)",
            "runtime 'runc' has SystemdCgroup = false, expected true (the kubelet's cgroupDriver is systemd)"]
        check = labhosts.playbook("kubernetes.yml", "--check", "--diff", "--limit", "%s,%s" % (name, control))
        assert check.returncode == 0, check.stdout[-3000:]
        changed = labhosts.recaps(check.stdout)
        assert (changed.get(name), changed.get(control)) == (4, 1), check.stdout[-3000:]
        assert "-        SystemdCgroup = false\n+        SystemdCgroup = true" in check.stdout
        assert "%s: labels {" % name in check.stdout and "are not all on the node" in check.stdout
        assert "nvidia.com/gpu" not in labhosts.kubectl("get", "node", name, "-o", "jsonpath={.spec.taints}")
        assert "+# disabled by aifabric.cluster.container_runtime (the kubelet needs swap off): %s" % SWAP_LINE \
            in check.stdout
        assert "SystemdCgroup = false" in h.file(CONFIG).content_string
        # the message as the default callback folds it (YAML, a single-quoted string over several lines)
        named = re.search(r"- 'DaemonSet kube-system/calico-node: (\{.*?\})'\n", re.sub(r"\n +(?=\S)(?!- )", " ", check.stdout))
        assert named, check.stdout[-3000:]
        diff = json.loads(named.group(1))
        for side, value in (("before", "10.99.0.0/16"), ("after", want)):
            assert diff[side]["spec"]["template"]["spec"]["containers"] == [
                {"name": "calico-node", "env": [{"name": "CALICO_IPV4POOL_CIDR", "value": value}]}], diff
        assert _pool_cidr_env() == ["10.99.0.0/16"]
        run = labhosts.playbook("kubernetes.yml", "--limit", "%s,%s" % (name, control))
        assert run.returncode == 0, run.stdout[-3000:]
        assert containerd_info([name], gpu=True)[name]["problems"] == []
        assert "# disabled by aifabric.cluster.container_runtime (the kubelet needs swap off): %s" % SWAP_LINE \
            in h.file("/etc/fstab").content_string
        node = json.loads(labhosts.kubectl("get", "node", name, "-o", "json"))
        assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in node["spec"]["taints"]
        assert node["metadata"]["labels"].get("aifabric.io/hw-profile") == profile
        assert _pool_cidr_env() == [want]
        again = labhosts.playbook("kubernetes.yml", "--limit", "%s,%s" % (name, control))
        changed = labhosts.recaps(again.stdout)
        assert again.returncode == 0 and (changed.get(name), changed.get(control)) == (0, 0), again.stdout[-3000:]
    finally:
        h.run("sed -i '\\#%s#d' /etc/fstab" % SWAP_LINE)
        if "SystemdCgroup = false" in h.file(CONFIG).content_string or _pool_cidr_env() != [want]:
            labhosts.playbook("kubernetes.yml", "--limit", "%s,%s" % (name, control))


@pytest.mark.fault
def test_a_worker_is_removed_then_joins_again():
    """Day 2: kubernetes_remove_node.yml drains a GPU worker, resets it (kubeadm reset: kubelet stopped, no
    credentials left) and deletes its Node, which stays deleted (no kubelet registers it again); a second removal
    changes nothing; a control plane is refused before any change.
    Check mode names the join it would make; the Kubernetes phase limited to that node then joins it again with a
    fresh token: Ready, labelled, tainted, and a further run changes nothing."""
    name = GPU[-1]
    h = labhosts.host(name)
    removed = labhosts.playbook("kubernetes_remove_node.yml", "-e", "kubernetes_remove_nodes=" + name)
    assert removed.returncode == 0, removed.stdout[-3000:]
    assert name not in [n["metadata"]["name"] for n in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]]
    assert not h.file("/etc/kubernetes/kubelet.conf").exists
    again = labhosts.playbook("kubernetes_remove_node.yml", "-e", "kubernetes_remove_nodes=" + name)
    assert again.returncode == 0 and re.search(r"%s\s+: ok=\d+\s+changed=0 " % name, again.stdout), again.stdout[-3000:]
    assert name not in [n["metadata"]["name"] for n in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]]
    refused = labhosts.playbook("kubernetes_remove_node.yml", "-e", "kubernetes_remove_nodes=" + CONTROL[0])
    assert refused.returncode != 0 and "%s is in kube_control_plane" % CONTROL[0] in refused.stdout, refused.stdout[-3000:]
    assert labhosts.host(CONTROL[0]).file("/etc/kubernetes/admin.conf").exists
    unnamed = labhosts.playbook("kubernetes_remove_node.yml")
    assert unnamed.returncode != 0 and "names no host of the inventory" in unnamed.stdout, unnamed.stdout[-3000:]

    check = labhosts.playbook("kubernetes.yml", "--check", "--diff", "--limit", name)
    assert check.returncode == 0 and "%s has no kubelet credentials: it would join the cluster" % name in check.stdout, \
        check.stdout[-3000:]
    assert not h.file("/etc/kubernetes/kubelet.conf").exists
    joined = labhosts.playbook("kubernetes.yml", "--limit", name)
    assert joined.returncode == 0, joined.stdout[-3000:]
    node = json.loads(labhosts.kubectl("get", "node", name, "-o", "json"))
    assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    profile = labhosts.hostvars(name)["node_hw_profile"]
    assert node["metadata"]["labels"].get("aifabric.io/hw-profile") == profile
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in node["spec"]["taints"]
    settled = labhosts.playbook("kubernetes.yml", "--limit", name)
    assert settled.returncode == 0 and "changed=0 " in settled.stdout, settled.stdout[-3000:]
