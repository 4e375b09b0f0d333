"""Verify three control planes (issue 13): the VIP, etcd and the API across mgmt-01 to mgmt-03.

Tests run in file order, each on the cluster the one before left: the three control planes
behind one VIP and a three-member etcd, every member voting and healthy; the control plane
that holds the VIP stopped (`podman stop`, the whole host gone): the VIP moves, etcd keeps
quorum with two members, the API answers and takes a write through the VIP, and the host
started again rejoins on its own; a control plane rebuilt (`kubeadm reset`, its Node
deleted) after the certificate key of the cluster has expired (the kubeadm-certs Secret gone,
as the token cleaner leaves it after 2 h) joins again with `site.yml --limit` and a key
uploaded for its join; the upgrade of one minor across the three and the worker; then the
Kubernetes phase changes nothing on any host, in a run and in check mode. Last, the tokens and
keys kubeadm made here go to `make test`'s secret search."""
import base64
import json
import os
import re
import subprocess

import yaml

import labhosts

CONTROL = labhosts.group("kube_control_plane")
GPU = labhosts.group("gpu_nodes")
PREFIX = "aifabric-lab-"
KUBECONFIG = os.path.join(labhosts.ROOT, ".cache", "lab", "admin.conf")
KUBECTL = os.path.join(labhosts.ROOT, ".cache", "tools", "bin", "kubectl")
ETCD_PKI = "/etc/kubernetes/pki/etcd"
RECORD = "/var/lib/aifabric-sim/kubeadm/issued"
ISSUED = os.path.join(labhosts.ROOT, ".cache", "lab-secrets")
ETCDCTL = ("ETCDCTL_API=3 etcdctl --dial-timeout=3s --command-timeout=8s --endpoints=https://127.0.0.1:2379 "
           "--cacert={0}/ca.crt --cert={0}/healthcheck-client.crt --key={0}/healthcheck-client.key ".format(ETCD_PKI))


def kubectl(*args, check=True):
    out = subprocess.run([KUBECTL, "--kubeconfig", KUBECONFIG, "--request-timeout=20s"] + list(args),
                         capture_output=True, text=True, timeout=90, check=False)
    if check:
        assert out.returncode == 0, (args, out.stderr)
    return out


def intent():
    with open(os.path.join(labhosts.ROOT, "inventories", "lab", "group_vars", "all", "kubernetes.yml")) as handle:
        return yaml.safe_load(handle)["cluster_kubernetes"]


def vip_holders(names):
    vip = intent()["vip"]
    return [name for name in names if " inet %s/" % vip in labhosts.host(name).check_output("ip -o -4 addr show")]


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
    out = kubectl("get", "nodes", "-o", "json", check=False)
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
    assert vip_holders(CONTROL) == ["mgmt-01"]
    for name in CONTROL:
        config = labhosts.host(name).file("/etc/haproxy/haproxy.cfg").content_string
        for plane in CONTROL:
            assert "server %s %s:6443 check" % (plane, labhosts.hostvars(plane)["node_mgmt_ip"]) in config, (name, config)
    assert ready_nodes() == sorted(CONTROL + GPU)
    nodes = {n["metadata"]["name"]: n for n in json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]}
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
        moved = labhosts.wait_for(lambda: vip_holders(others), timeout=60)
        assert len(moved) == 1, moved
        assert labhosts.wait_for(lambda: health(others[0]) == dict(
            [(client_url(first), False)] + [(client_url(p), True) for p in others]), timeout=60), health(others[0])
        assert labhosts.wait_for(lambda: kubectl("get", "nodes", check=False).returncode == 0, timeout=60)
        assert first in kubectl("get", "nodes").stdout
        kubectl("-n", "default", "create", "configmap", "aifabric-failover-probe", "--from-literal=written=while-%s-was-down" % first)
    finally:
        subprocess.run(["podman", "start", PREFIX + first], check=False, capture_output=True)
    try:
        assert labhosts.wait_for(lambda: answers(first), timeout=120, interval=2)
        assert labhosts.wait_for(lambda: health(first) == {client_url(p): True for p in CONTROL}, timeout=120, interval=2), \
            health(first)
        assert labhosts.wait_for(lambda: vip_holders(CONTROL) == [first], timeout=60), vip_holders(CONTROL)
        assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
        probe = json.loads(kubectl("-n", "default", "get", "configmap", "aifabric-failover-probe", "-o", "json").stdout)
        assert probe["data"] == {"written": "while-%s-was-down" % first}
    finally:
        kubectl("-n", "default", "delete", "configmap", "aifabric-failover-probe", "--ignore-not-found", check=False)


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
    kubectl("delete", "node", name)
    assert labhosts.wait_for(lambda: sorted(m["name"] for m in members(CONTROL[0])) == sorted(CONTROL[:-1]), timeout=30)
    certs = json.loads(kubectl("-n", "kube-system", "get", "secret", "kubeadm-certs", "-o", "json").stdout)
    owners = [o["name"] for o in certs["metadata"].get("ownerReferences") or []]
    assert owners and all(o.startswith("bootstrap-token-") for o in owners), certs["metadata"]
    kubectl("-n", "kube-system", "delete", "secret", "kubeadm-certs", *owners)

    run = labhosts.playbook("site.yml", "--limit", name)
    assert run.returncode == 0, run.stdout[-4000:]
    assert "failed=0" in run.stdout.rsplit("PLAY RECAP", 1)[-1]
    assert sorted((m["name"], bool(m.get("isLearner"))) for m in members(CONTROL[0])) == [(p, False) for p in CONTROL]
    assert labhosts.wait_for(lambda: health(CONTROL[0]) == {client_url(p): True for p in CONTROL}, timeout=60)
    assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
    certs = json.loads(kubectl("-n", "kube-system", "get", "secret", "kubeadm-certs", "-o", "json").stdout)
    [owner] = [o["name"] for o in certs["metadata"]["ownerReferences"]]
    assert owner not in owners
    token = json.loads(kubectl("-n", "kube-system", "get", "secret", owner, "-o", "json").stdout)["data"]
    secret = base64.b64decode(token["token-secret"]).decode()
    assert secret not in run.stdout + run.stderr
    assert not re.findall(r"\b[0-9a-f]{64}\b", run.stdout + run.stderr), "a certificate key-shaped string in the output"


def test_the_upgrade_moves_the_three_control_planes_then_the_phase_changes_nothing(tmp_path):
    """playbooks/kubernetes_upgrade.yml to the next minor across three control planes: `upgrade apply` on mgmt-01,
    `upgrade node` on mgmt-02 and mgmt-03, then the worker; the API server answering through the VIP at the new
    version, every kubelet and every control plane's static Pods at it, every node Ready and schedulable, etcd's
    three members healthy. Then the Kubernetes phase at the new version, preflight included, changes nothing on
    any host, and in check mode it has nothing to change either."""
    nxt = "1.35.0"
    assert intent()["version"] != nxt
    path = tmp_path / "next.json"
    path.write_text(json.dumps({"cluster_kubernetes": dict(intent(), version=nxt)}))
    run = labhosts.playbook("kubernetes_upgrade.yml", "-e", "@%s" % path)
    assert run.returncode == 0, run.stdout[-5000:]
    applied = run.stdout.split("kubernetes_control_plane : Apply the upgrade (the control plane's static pods")[1].split("TASK [")[0]
    assert [name for name in CONTROL if "changed: [%s]" % name in applied] == [CONTROL[0]], applied
    server = json.loads(kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    assert (server, {n["metadata"]["name"]: n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes}) == (
        "v" + nxt, {name: "v" + nxt for name in CONTROL + GPU})
    for node in nodes:
        assert not node["spec"].get("unschedulable"), node["metadata"]["name"]
    for name in CONTROL:
        manifest = labhosts.host(name).file("/etc/kubernetes/manifests/kube-apiserver.yaml").content_string
        assert "registry.k8s.io/kube-apiserver:v%s" % nxt in manifest, name
    assert labhosts.wait_for(lambda: health(CONTROL[0]) == {client_url(p): True for p in CONTROL}, timeout=60)
    assert labhosts.wait_for(lambda: ready_nodes() == sorted(CONTROL + GPU), timeout=120, interval=2), ready_nodes()
    assert_changes_nothing(labhosts.playbook("kubernetes.yml", "-e", "@%s" % path))
    assert_changes_nothing(labhosts.playbook("kubernetes.yml", "--check", "--diff", "-e", "@%s" % path))


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
