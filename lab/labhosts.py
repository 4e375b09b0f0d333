"""testinfra access to the lab's sim hosts, for the scenarios' verify steps.

Hosts come from inventories/lab (the same script Ansible reads) and are reached the
way Ansible reaches them: OpenSSH as the admin user with the lab-only key, sudo. The
lab's switches are reached as an operator reaches them: an SSH CLI session (NX-OS), a
RESTCONF request over HTTPS checked against the lab CA (SONiC).
"""
import base64
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time

import paramiko
import testinfra
import yaml

LAB = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(LAB)
KEY = os.path.join(os.environ.get("AIFABRIC_LAB_CACHE", os.path.join(ROOT, ".cache", "lab")),
                   "ssh", "id_ed25519")
SSH_ARGS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
# the admin kubeconfig the control-plane role fetched (inventories/lab:
# kubernetes_control_plane_fetch_kubeconfig), and the real kubectl and helm (make tools)
KUBECONFIG = os.path.join(ROOT, ".cache", "lab", "admin.conf")
TOOLS = os.path.join(ROOT, ".cache", "tools", "bin")


def inventory():
    script = os.path.join(LAB, "inventory.py")
    return json.loads(subprocess.check_output([sys.executable, script, "--list"], text=True))


def hostvars(name):
    return inventory()["_meta"]["hostvars"][name]


def group(name):
    return sorted(inventory().get(name, {}).get("hosts", []))


def cluster_hosts():
    return group("mgmt_nodes") + group("gpu_nodes") + group("storage_nodes")


_HOSTS = {}


def host(name):
    if name not in _HOSTS:
        ip = hostvars(name)["node_mgmt_ip"]
        _HOSTS[name] = testinfra.get_host(
            "ssh://aifabric@%s" % ip, ssh_identity_file=KEY, sudo=True,
            controlpersist=60, ssh_extra_args=SSH_ARGS)
    return _HOSTS[name]


def fabric_netdev(name):
    """The netdev of a GPU node's fabric port, found by node_fabric_mac (as roce_host finds it)."""
    mac = hostvars(name)["node_fabric_mac"].lower()
    h = host(name)
    for dev in h.check_output("ls /sys/class/net").split():
        if h.file("/sys/class/net/%s/address" % dev).content_string.strip() == mac:
            return dev
    raise AssertionError("%s: no netdev with %s" % (name, mac))


def wait_for(predicate, timeout=60, interval=1.0):
    """Poll predicate() until it returns a truthy value or timeout; return the last value."""
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


# a switch CLI prompt at the end of the output: "leaf-01# " or "leaf-01(config-if)# "
_PROMPT = re.compile(r"(^|[\r\n])[\w.-]+(\([^)]*\))?# ?$")


def switch_cli(name, commands, timeout=30):
    """Type commands at a lab switch's CLI (SSH, the lab key, user aifabric), one by one,
    as an operator does; return each command's output (echo and prompt included)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(hostvars(name)["node_mgmt_ip"], username="aifabric", key_filename=KEY,
                   look_for_keys=False, allow_agent=False, timeout=timeout)
    try:
        chan = client.invoke_shell(width=511)
        chan.settimeout(timeout)

        def read():
            buf = ""
            while not _PROMPT.search(buf):
                data = chan.recv(65535)
                if not data:
                    raise AssertionError("%s closed the session: %r" % (name, buf[-500:]))
                buf += data.decode("utf-8", "replace")
            return buf

        read()
        outputs = []
        for command in ["terminal length 0"] + list(commands):
            chan.send(command + "\n")
            outputs.append(read())
        return outputs[1:]
    finally:
        client.close()


def switch_rest(name, method, path, body=None, timeout=30):
    """A RESTCONF request to a lab SONiC switch (HTTPS, the lab CA, user admin with the lab's
    vault_switch_admin_password); returns (HTTP status, parsed JSON body or None)."""
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "vault.yml")) as f:
        password = yaml.safe_load(f)["vault_switch_admin_password"]
    context = ssl.create_default_context(cafile=os.path.join(os.path.dirname(KEY), "..", "tls", "ca.pem"))
    conn = http.client.HTTPSConnection(hostvars(name)["node_mgmt_ip"], 443, timeout=timeout, context=context)
    headers = {"Content-Type": "application/yang-data+json", "Accept": "application/yang-data+json",
               "Authorization": "Basic " + base64.b64encode(("admin:%s" % password).encode()).decode()}
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def recaps(out):
    """{host: changed} of an ansible-playbook run's PLAY RECAP."""
    return {name: int(changed) for name, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s", out, re.M)}


def module(hosts, name, args=""):
    """Run one module ad hoc (ansible -o) on hosts of inventories/lab as the roles' tasks do
    (become); {host: result} whether it succeeded or failed."""
    proc = subprocess.run(
        ["ansible", "all", "-i", os.path.join(ROOT, "inventories", "lab"), "-o", "--become",
         "--limit", ",".join(hosts), "-m", name, "-a", args],
        capture_output=True, text=True, cwd=ROOT, check=False)
    results = {}
    for line in proc.stdout.splitlines():
        if " | " in line and " => " in line:
            host, rest = line.split(" | ", 1)
            results[host] = json.loads(rest.split(" => ", 1)[1])
    missing = set(hosts) - set(results)
    assert not missing, "no result from %s: %s%s" % (sorted(missing), proc.stdout[-2000:], proc.stderr[-2000:])
    return results


def playbook(name, *args):
    """ansible-playbook playbooks/<name> against inventories/lab, as an operator runs it."""
    return subprocess.run(
        ["ansible-playbook", "-i", os.path.join(ROOT, "inventories", "lab"),
         os.path.join(ROOT, "playbooks", name)] + list(args),
        capture_output=True, text=True, cwd=ROOT, check=False)


def kubernetes_intent():
    """cluster_kubernetes as inventories/lab declares it."""
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "kubernetes.yml")) as handle:
        return yaml.safe_load(handle)["cluster_kubernetes"]


def kube(tool, *args, timeout=120):
    """The real kubectl or helm with the lab's admin kubeconfig, through the control-plane endpoint
    (the VIP): the finished process, whether it succeeded or not."""
    return subprocess.run([os.path.join(TOOLS, tool), "--kubeconfig", KUBECONFIG] + list(args),
                          capture_output=True, text=True, timeout=timeout, check=False)


def kubectl(*args):
    """kubectl's output, which must have succeeded."""
    out = kube("kubectl", "--request-timeout=30s", *args)
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def vip_holders(names):
    """Those of the hosts names whose netdevs hold the control-plane endpoint's VIP (keepalived adds
    it as a secondary address)."""
    vip = kubernetes_intent()["vip"]
    return [name for name in names if " inet %s/" % vip in host(name).check_output("ip -o -4 addr show")]
