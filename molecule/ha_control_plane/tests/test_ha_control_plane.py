"""Verify three control planes (issue 13): the VIP, etcd and the API across mgmt-01 to mgmt-03.

Tests run in file order, each on the cluster the one before left: the three control planes
behind one VIP and a three-member etcd, every member voting and healthy; the control plane
that holds the VIP stopped (`podman stop`, the whole host gone): the VIP moves, etcd keeps
quorum with two members, the API answers and takes a write through the VIP, and the host
started again rejoins on its own; a control plane rebuilt (`kubeadm reset`, its Node
deleted) after the certificate key of the cluster has expired (the kubeadm-certs Secret gone,
as the token cleaner leaves it after 2 h) joins again with `site.yml --limit` and a key
uploaded for its join; then day 2 (the Kubernetes upgrade of one minor, 1.34.2 to 1.35.0, the
lab repository carrying both): first the refusals, each before any change with its own message
(a kubelet newer than the API server in the inventory, stopped by preflight; the phase asked
for the next minor, which a converge never does to a node of the cluster), the upgrade in check
mode moving nothing, then the upgrade across the three and the worker, and the upgrade again
and the Kubernetes phase, in a run and in check mode, changing nothing on any host. Last, the
tokens and keys kubeadm made here go to `make test`'s secret search."""
import base64
import json
import os
import re
import subprocess

import pytest

import labhosts

CONTROL = labhosts.group("kube_control_plane")
GPU = labhosts.group("gpu_nodes")
PREFIX = "aifabric-lab-"
ETCD_PKI = "/etc/kubernetes/pki/etcd"
NEXT = "1.35.0"  # the lab repository carries the kubeadm, kubelet and kubectl packages at it
RECORD = "/var/lib/aifabric-sim/kubeadm/issued"
ISSUED = os.path.join(labhosts.ROOT, ".cache", "lab-secrets")
ETCDCTL = ("ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=8s --endpoints=https://127.0.0.1:2379 "
           "--cacert={0}/ca.crt --cert={0}/healthcheck-client.crt --key={0}/healthcheck-client.key ".format(ETCD_PKI))


def try_kubectl(*args):
    """kubectl through the VIP while it may move (20 s per request): the finished process."""
    return labhosts.kube("kubectl", "--request-timeout=20s", *args, timeout=90)


def members(name):
    return json.loads(labhosts.host(name).check_output(ETCDCTL + "member list -w json"))["members"]


def answers(name):
    """Whether name answers over SSH (testinfra raises while sshd is not up yet)."""
    try:
        return labhosts.host(name).run("true").rc == 0
    except RuntimeError:
        return False


def health(name):
    """{client URL: healthy} of every member, asked from name's etcdctl (endpoint health --cluster); {} while
    name does not answer."""
    try:
        out = labhosts.host(name).run(ETCDCTL + "endpoint health --cluster -w json")
    except RuntimeError:
        return {}
    return {e["endpoint"]: bool(e.get("health")) for e in json.loads(out.stdout or "[]")}


def ready_nodes():
    """The nodes Ready, through the VIP; [] while the API does not answer there."""
    out = try_kubectl("get", "nodes", "-o", "json")
    if out.returncode != 0:
        return []
    nodes = json.loads(out.stdout)["items"]
    return sorted(n["metadata"]["name"] for n in nodes
                  if [c for c in n["status"]["conditions"] if c["type"] == "Ready" and c["status"] == "True"])


def client_url(name):
    return "https://%s:2379" % labhosts.hostvars(name)["node_mgmt_ip"]


def assert_changes_nothing(run):
    """An ansible-playbook run that succeeded with changed=0 on every Kubernetes host (labhosts.recaps)."""
    assert run.returncode == 0, run.stdout[-4000:]
    found = labhosts.recaps(run.stdout)
    assert set(CONTROL + GPU) <= set(found), run.stdout.rsplit("PLAY RECAP", 1)[-1]
    assert {name: changed for name, changed in found.items() if changed} == {}, run.stdout.rsplit("PLAY RECAP", 1)[-1]


def test_three_control_planes_behind_one_vip_every_node_ready():
    """The lab's shape: three control planes, mgmt-01 the first; the VIP on mgmt-01 alone (keepalived's MASTER);
    haproxy on each with the three API servers behind it; every node Ready through the VIP, the three with the
    control-plane role and its taint."""
    assert CONTROL == ["mgmt-01", "mgmt-02", "mgmt-03"] and GPU
    assert labhosts.vip_holders(CONTROL) == ["mgmt-01"]
    for name in CONTROL:
        config = labhosts.host(name).file("/etc/haproxy/haproxy.cfg").content_string
        for plane in CONTROL:
            assert "server %s %s:6443 check" % (plane, labhosts.hostvars(plane)["node_mgmt_ip"]) in config, (name, config)
    assert ready_nodes() == sorted(CONTROL + GPU)
    nodes = {n["metadata"]["name"]: n for n in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]}
    for name in CONTROL:
        assert "node-role.kubernetes.io/control-plane" in nodes[name]["metadata"]["labels"], name
        assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in [
            {k: t[k] for k in ("key", "effect")} for t in nodes[name]["spec"].get("taints") or []], name


def test_etcd_has_three_voting_members_all_healthy():
    """A real three-member etcd (Debian's), each member named after its control plane with its peer URL on its
    management address, none left a learner, every member healthy; each control plane's etcdctl sees the same."""
    expect = sorted((name, ["https://%s:2380" % labhosts.hostvars(name)["node_mgmt_ip"]]) for name in CONTROL)
    for name in CONTROL:
        found = members(name)
        assert sorted((m["name"], m["peerURLs"]) for m in found) == expect, (name, found)
        assert not [m for m in found if m.get("isLearner")], found
        assert health(name) == {client_url(plane): True for plane in CONTROL}, name


def test_the_control_plane_holding_the_vip_stopped_the_api_answers_through_the_vip():
    """mgmt-01 (the VIP, etcd's first member, the API server haproxy prefers) stopped as a whole host: the VIP
    moves to one of the other two, etcd keeps quorum with two healthy members and names the third unhealthy, and
    kubectl lists the nodes and writes a ConfigMap through the VIP. Started again, mgmt-01 comes back on its own:
    its etcd member healthy, the VIP back on it (the MASTER's higher priority), the write readable there."""
    first, others = CONTROL[0], CONTROL[1:]
    subprocess.run(["podman", "stop", "-t", "5", PREFIX + first], check=True, capture_output=True)
    try:
        moved = labhosts.wait_for(lambda: labhosts.vip_holders(others), timeout=60)
        assert len(moved) == 1, moved
        assert labhosts.wait_for(lambda: health(others[0]) == dict(
            [(client_url(first), False)] + [(client_url(p), True) for p in others]), timeout=60), health(others[0])
        assert labhosts.wait_for(lambda: try_kubectl("get", "nodes").returncode == 0, timeout=60)
        assert first in labhosts.kubectl("get", "nodes")
        labhosts.kubectl("-n", "default", "create", "configmap", "aifabric-failover-probe", "--from-literal=written=while-%s-was-down" % first)
    finally:
        subprocess.run(["podman", "start", PREFIX + first], check=False, capture_output=True)
    try:
        assert labhosts.wait_for(lambda: answers(first), timeout=120, interval=2)
        assert labhosts.wait_for(lambda: health(first) == {client_url(p): True for p in CONTROL}, timeout=120, interval=2), \
            health(first)
        assert labhosts.wait_for(lambda: labhosts.vip_holders(CONTROL) == [first], timeout=60), labhosts.vip_holders(CONTROL)
        assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
        probe = json.loads(labhosts.kubectl("-n", "default", "get", "configmap", "aifabric-failover-probe", "-o", "json"))
        assert probe["data"] == {"written": "while-%s-was-down" % first}
    finally:
        try_kubectl("-n", "default", "delete", "configmap", "aifabric-failover-probe", "--ignore-not-found")


def test_a_rebuilt_control_plane_joins_again_after_the_certificate_key_expired():
    """mgmt-03 rebuilt: `kubeadm reset -f` (its etcd member removed, its static Pods stopped) and its Node deleted;
    the kubeadm-certs Secret and the token that owns it gone, as 2 h after the last upload. `site.yml --limit
    mgmt-03` joins it again: a fresh certificate key uploaded for the join (the download would fail on the old
    one), three voting members healthy, every node Ready; no certificate key or token in the run's output."""
    name = CONTROL[-1]
    h = labhosts.host(name)
    reset = h.run("kubeadm reset -f")
    assert reset.rc == 0, reset.stdout + reset.stderr
    assert "Removed member %s" % name in reset.stdout + reset.stderr, reset.stdout + reset.stderr
    assert not h.file("/etc/kubernetes/admin.conf").exists
    labhosts.kubectl("delete", "node", name)
    assert labhosts.wait_for(lambda: sorted(m["name"] for m in members(CONTROL[0])) == sorted(CONTROL[:-1]), timeout=30)
    certs = json.loads(labhosts.kubectl("-n", "kube-system", "get", "secret", "kubeadm-certs", "-o", "json"))
    owners = [o["name"] for o in certs["metadata"].get("ownerReferences") or []]
    assert owners and all(o.startswith("bootstrap-token-") for o in owners), certs["metadata"]
    labhosts.kubectl("-n", "kube-system", "delete", "secret", "kubeadm-certs", *owners)

    run = labhosts.playbook("site.yml", "--limit", name)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "failed=0" in run.stdout.rsplit("PLAY RECAP", 1)[-1]
    assert sorted((m["name"], bool(m.get("isLearner"))) for m in members(CONTROL[0])) == [(p, False) for p in CONTROL]
    assert labhosts.wait_for(lambda: health(CONTROL[0]) == {client_url(p): True for p in CONTROL}, timeout=60)
    assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
    certs = json.loads(labhosts.kubectl("-n", "kube-system", "get", "secret", "kubeadm-certs", "-o", "json"))
    [owner] = [o["name"] for o in certs["metadata"]["ownerReferences"]]
    assert owner not in owners
    token = json.loads(labhosts.kubectl("-n", "kube-system", "get", "secret", owner, "-o", "json"))["data"]
    secret = base64.b64decode(token["token-secret"]).decode()
    assert secret not in run.stdout + run.stderr
    assert not re.findall(r"\b[0-9a-f]{64}\b", run.stdout + run.stderr), "a certificate key-shaped string in the output"


def versions():
    """(the API server's version through the VIP, {node: its kubelet's version})."""
    server = json.loads(labhosts.kubectl("version", "-o", "json"))["serverVersion"]["gitVersion"]
    nodes = json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]
    return server, {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}


@pytest.fixture(scope="module")
def next_intent(tmp_path_factory):
    """The lab's intent at the next minor, as extra vars (@file)."""
    assert labhosts.kubernetes_intent()["version"] != NEXT
    path = tmp_path_factory.mktemp("upgrade") / "next.json"
    path.write_text(json.dumps({"cluster_kubernetes": dict(labhosts.kubernetes_intent(), version=NEXT)}))
    return "@%s" % path


def test_a_kubelet_newer_than_the_api_server_is_refused_by_preflight():
    """Day 2 starts with the refusals, each before any change with its own message: a kubelet newer than the API
    server in the inventory stops in preflight."""
    run = labhosts.playbook("kubernetes.yml", "-e", "kubernetes_kubelet_version=" + NEXT)
    assert run.returncode != 0, run.stdout[-3000:]
    assert "%s: kubernetes_kubelet_version '%s' is newer than the API server" % (GPU[0], NEXT) in run.stdout, run.stdout[-3000:]
    assert not any(labhosts.recaps(run.stdout).values()), run.stdout[-3000:]


def test_the_phase_never_upgrades_a_node_of_the_cluster(next_intent):
    """The Kubernetes phase asked for the next minor while the cluster runs this one: a converge never upgrades a node
    of the cluster (it names the upgrade playbook), and nothing moves."""
    now = labhosts.kubernetes_intent()["version"]
    run = labhosts.playbook("kubernetes.yml", "-e", next_intent)
    out = run.stdout
    assert run.returncode != 0, out[-3000:]
    first = CONTROL[0]
    assert "%s: kubelet %s runs here and cluster_kubernetes.version asks %s: a converge does not upgrade a node of the " \
           "cluster; run playbooks/kubernetes_upgrade.yml" % (first, now, NEXT) in out, out[-3000:]
    assert "%s: cluster_kubernetes.version '%s' is newer than the API server (v%s)" % (first, NEXT, now) in out, out[-3000:]
    assert not any(labhosts.recaps(out).values()), out[-3000:]
    assert versions() == ("v" + now, {name: "v" + now for name in CONTROL + GPU})


def test_the_upgrade_in_check_mode_moves_nothing(next_intent):
    """--check --diff names the `kubeadm upgrade apply` it would run, on the first control plane, and moves nothing."""
    now = labhosts.kubernetes_intent()["version"]
    run = labhosts.playbook("kubernetes_upgrade.yml", "--check", "--diff", "-e", next_intent)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "would run kubeadm upgrade apply v%s on %s" % (NEXT, CONTROL[0]) in run.stdout, run.stdout[-3000:]
    assert versions() == ("v" + now, {name: "v" + now for name in CONTROL + GPU})


def test_the_upgrade_moves_the_three_control_planes_and_the_worker_then_nothing_changes(next_intent):
    """playbooks/kubernetes_upgrade.yml to the next minor across three control planes: `upgrade apply` on mgmt-01,
    `upgrade node` on mgmt-02 and mgmt-03, then the worker; the API server answering through the VIP at the new
    version, every kubelet and every control plane's static Pods at it, kubelet and kubeadm (and kubectl on the
    control planes) installed at it and held, every node Ready and schedulable, etcd's three members healthy.
    Then the upgrade again, and the Kubernetes phase at the new version (preflight included), change nothing on
    any host, and in check mode the phase has nothing to change either."""
    run = labhosts.playbook("kubernetes_upgrade.yml", "-e", next_intent)
    assert run.returncode == 0, run.stdout[-5000:]
    assert all(labhosts.recaps(run.stdout).get(name) for name in CONTROL + GPU), run.stdout[-3000:]
    applied = run.stdout.split("kubernetes_control_plane : Apply the upgrade (the control plane's static pods")[1].split("TASK [")[0]
    assert [name for name in CONTROL if "changed: [%s]" % name in applied] == [CONTROL[0]], applied
    assert versions() == ("v" + NEXT, {name: "v" + NEXT for name in CONTROL + GPU})
    for node in json.loads(labhosts.kubectl("get", "nodes", "-o", "json"))["items"]:
        assert not node["spec"].get("unschedulable"), node["metadata"]["name"]
    for name in CONTROL + GPU:
        h = labhosts.host(name)
        packages = {"kubelet", "kubeadm", "kubectl"} if name in CONTROL else {"kubelet", "kubeadm"}
        for package in sorted(packages):
            assert h.check_output("dpkg-query --show --showformat='${Version}' %s" % package).startswith(NEXT + "-"), (name, package)
        assert set(h.check_output("apt-mark showhold").split()) >= packages, name
    for name in CONTROL:
        client = json.loads(labhosts.host(name).check_output("kubectl version --client -o json"))["clientVersion"]
        assert client["minor"] == NEXT.split(".")[1], (name, client)
        manifest = labhosts.host(name).file("/etc/kubernetes/manifests/kube-apiserver.yaml").content_string
        assert "registry.k8s.io/kube-apiserver:v%s" % NEXT in manifest, name
    assert labhosts.wait_for(lambda: health(CONTROL[0]) == {client_url(p): True for p in CONTROL}, timeout=60)
    assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
    assert_changes_nothing(labhosts.playbook("kubernetes_upgrade.yml", "-e", next_intent))
    assert_changes_nothing(labhosts.playbook("kubernetes.yml", "-e", next_intent))
    assert_changes_nothing(labhosts.playbook("kubernetes.yml", "--check", "--diff", "-e", next_intent))


def test_every_token_and_key_kubeadm_made_goes_to_the_secret_search():
    """Every bootstrap token and certificate key the kubeadm double made here (the init, two control-plane joins,
    the worker's join, the rejoin and its fresh key, the upgrade), from its lab-only record on each host, to
    .cache/lab-secrets/ha_control_plane.issued (mode 0600, not a log): `make test`'s secret search then fails if
    any log of the run holds one of them."""
    lines = []
    for name in CONTROL + GPU:
        h = labhosts.host(name)
        if h.file(RECORD).exists:
            lines.extend(h.check_output("cat %s" % RECORD).splitlines())
    kinds = [line.split(" ", 1)[0] for line in lines]
    # the init's token and key, a token and a key for each of the three control-plane joins (two and the rejoin)
    # and a token for the worker
    assert kinds.count("token") >= 4 and kinds.count("certificate-key") >= 3, kinds
    os.makedirs(ISSUED, exist_ok=True)
    fd = os.open(os.path.join(ISSUED, "ha_control_plane.issued"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
