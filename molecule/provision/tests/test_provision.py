"""provision scenario, verify: bare metal to installed OS, as an operator runs it.

The lab (AIFABRIC_LAB_NODES=1, AIFABRIC_LAB_BARE_NODES=2): mgmt-01 is the PXE server
(converged by this scenario), gpu-01 an installed node, gpu-02 and gpu-03 bare metal
whose BMC emulators (127.0.0.1, lab CA) run their network-boot simulator. The tests run
in file order; they share the lab and the Ansible output they capture.
"""
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import labhosts

ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))

CACHE = os.path.join(ROOT, ".cache")
PXE = "mgmt-01"
INSTALLED = "gpu-01"
BARE = ["gpu-02", "gpu-03"]
# the OS each bare node declares (AIFABRIC_LAB_BARE_OS in molecule.yml): a preseed install
# of debian-12 is the OS the lab image is, and is handed to site.yml; the autoinstall node
# (ubuntu-24.04) is installed and checked, never converged (its OS would not be what it
# declares)
DEBIAN, UBUNTU = BARE
UNKNOWN_MAC = "0a:af:09:00:00:01"
OUTPUTS = []  # every ansible-playbook output of this module: searched for secrets at the end


def vault():
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "vault.yml")) as f:
        return yaml.safe_load(f)


def run_playbook(name, *args):
    """ansible-playbook aifabric.cluster.<name> from the installed collection against the lab;
    (rc, output), the output kept for the secret search at the end."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1")
    installed = os.path.join(CACHE, "installed")
    if os.path.isdir(os.path.join(installed, "ansible_collections", "aifabric", "cluster")):
        env["ANSIBLE_COLLECTIONS_PATH"] = installed
    cmd = ["ansible-playbook", "-i", os.path.join(ROOT, "inventories", "lab"), "aifabric.cluster." + name] + list(args)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=1800)
    out = proc.stdout + proc.stderr
    OUTPUTS.append(out)
    return proc.returncode, out


def playbook(*args):
    return run_playbook("provision", "-e", "provision_poll_interval=2", *args)


def recap(out, name):
    match = re.search(r"^%s\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % re.escape(name),
                      out, re.M)
    assert match, "no PLAY RECAP line for %s in:\n%s" % (name, out[-3000:])
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def container_exec(name, *cmd, check=True):
    proc = subprocess.run(["podman", "exec", "aifabric-lab-" + name] + list(cmd), capture_output=True, text=True,
                          check=False)
    if check:
        assert proc.returncode == 0, "%s: %s: %s%s" % (name, " ".join(cmd), proc.stdout, proc.stderr)
    return proc


def boots(name):
    proc = container_exec(name, "cat", "/var/lib/aifabric-sim/netboot/boots.jsonl", check=False)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def bmc_state(name):
    with open(os.path.join(CACHE, "lab", "bmc", name, "state", "state.json")) as f:
        return json.load(f)


def hv(name):
    return labhosts.hostvars(name)


# --- the PXE server ------------------------------------------------------------------


def test_pxe_server_serves_only_inventory_hosts():
    conf = labhosts.host(PXE).file("/etc/dnsmasq.d/aifabric-pxe.conf").content_string
    for name in [INSTALLED] + BARE:
        assert "dhcp-host=%s,%s,%s" % (hv(name)["node_mgmt_mac"], name, hv(name)["node_mgmt_ip"]) in conf
    assert len(re.findall(r"^dhcp-host=", conf, re.M)) == 3, conf
    assert re.search(r"^dhcp-ignore=tag:!known$", conf, re.M), conf
    for service in ("dnsmasq", "nginx"):
        assert labhosts.host(PXE).service(service).is_running
    base = "http://%s" % hv(PXE)["node_mgmt_ip"]
    mac = hv(DEBIAN)["node_mgmt_mac"]
    with urllib.request.urlopen("%s/ipxe/%s.ipxe" % (base, mac.replace(":", "-")), timeout=10) as resp:
        assert "auto=true priority=critical url=%s/install/%s/preseed.cfg" % (base, DEBIAN) in resp.read().decode()
    mac = hv(UBUNTU)["node_mgmt_mac"]
    with urllib.request.urlopen("%s/ipxe/%s.ipxe" % (base, mac.replace(":", "-")), timeout=10) as resp:
        assert "ds=nocloud-net;s=%s/install/%s/" % (base, UBUNTU) in resp.read().decode()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen("%s/ipxe/%s.ipxe" % (base, UNKNOWN_MAC.replace(":", "-")), timeout=10)  # pylint: disable=consider-using-with
    assert missing.value.code == 404


def test_unknown_mac_gets_no_lease():
    """A NIC whose MAC is in no inventory asks for a lease on the provisioning network
    (from inside a bare node, a macvlan with that MAC): dnsmasq sees it and ignores it."""
    name = BARE[0]
    ignored = re.compile(r"DHCPDISCOVER\(\S+\) %s ignored" % re.escape(UNKNOWN_MAC))
    # the provisioning NIC, found by its MAC: podman does not keep the order of a container's
    # networks, so eth0 is the management network on some runs and the fabric on others
    links = json.loads(container_exec(name, "ip", "-j", "link", "show").stdout)
    mgmt = [link["ifname"] for link in links if link.get("address") == hv(name)["node_mgmt_mac"].lower()]
    assert len(mgmt) == 1, links
    container_exec(name, "ip", "link", "add", "stray0", "link", mgmt[0], "address", UNKNOWN_MAC, "type", "macvlan",
                   "mode", "bridge")
    log = ""
    try:
        container_exec(name, "ip", "link", "set", "stray0", "up")
        # dnsmasq writes its log a moment after it answers: ask again (up to three rounds) until
        # dnsmasq has seen us
        for _round in range(3):
            dhcp = container_exec(name, "busybox", "udhcpc", "-i", "stray0", "-f", "-q", "-n", "-t", "3", "-T", "1",
                                  "-s", "/bin/true", check=False)
            assert dhcp.returncode != 0, "an unknown MAC got a lease:\n%s%s" % (dhcp.stdout, dhcp.stderr)
            for _poll in range(5):
                log = labhosts.host(PXE).file("/var/log/aifabric-pxe/dnsmasq.log").content_string
                if ignored.search(log):
                    break
                time.sleep(1)
            if ignored.search(log):
                break
    finally:
        container_exec(name, "ip", "link", "del", "stray0", check=False)
    assert ignored.search(log), log[-2000:]
    assert not re.search(r"DHCP(OFFER|ACK)\(\S+\) \S+ %s" % re.escape(UNKNOWN_MAC), log)


# --- the provision flow ----------------------------------------------------------------


def test_provision_refuses_to_run_unlimited():
    rc, out = playbook()
    assert rc != 0
    assert "name the nodes with --limit" in out


def test_provision_installs_two_bare_nodes():
    rc, out = playbook("--limit", ",".join(BARE))
    assert rc == 0, out[-6000:]
    for name in BARE:
        assert recap(out, name)["failed"] == 0
        assert "%s installed: lease %s" % (name, hv(name)["node_mgmt_ip"]) in out
        assert "Next: ansible-playbook playbooks/site.yml --limit %s to add it to the converged cluster (a new cluster, " \
            "whose control plane is not set up yet: the whole site.yml)" % name in " ".join(out.split())


@pytest.mark.parametrize("name", BARE)
def test_boot_chain_and_own_install_data(name):
    """What each node received, recorded by its boot simulator: its reserved address, the
    iPXE binary over TFTP, its own iPXE script, kernel, initrd and its own user-data."""
    pxe_ip = hv(PXE)["node_mgmt_ip"]
    mac = hv(name)["node_mgmt_mac"]
    net = [b for b in boots(name) if b["source"] == "Pxe"]
    assert len(net) == 1, boots(name)
    boot = net[0]
    assert "error" not in boot, boot
    assert boot["dhcp_pxe"]["ip"] == hv(name)["node_mgmt_ip"]
    assert boot["dhcp_pxe"]["boot_file"] == "snponly.efi"  # UEFI boot mode: client arch 7
    ipxe_size = int(labhosts.host(PXE).run("stat -c %s /srv/aifabric-pxe/tftp/snponly.efi").stdout)
    assert boot["tftp"]["server"] == pxe_ip and boot["tftp"]["size"] == ipxe_size
    assert boot["dhcp_ipxe"]["ip"] == hv(name)["node_mgmt_ip"]
    assert boot["dhcp_ipxe"]["boot_file"] == "http://%s/boot.ipxe" % pxe_ip
    urls = [h["url"] for h in boot["http"] if h.get("status") == 200]
    os_name = hv(name)["node_os"]
    install = ["http://%s/install/%s/preseed.cfg" % (pxe_ip, name)] if name == DEBIAN else [
        "http://%s/install/%s/user-data" % (pxe_ip, name), "http://%s/install/%s/meta-data" % (pxe_ip, name)]
    assert urls == [
        "http://%s/boot.ipxe" % pxe_ip,
        "http://%s/ipxe/%s.ipxe" % (pxe_ip, mac.replace(":", "-")),
        "http://%s/images/%s/vmlinuz" % (pxe_ip, os_name),
        "http://%s/images/%s/initrd" % (pxe_ip, os_name),
    ] + install, boot["http"]
    if name == DEBIAN:
        answers = dict(line.split(None, 3)[1:4:2] for line in boot["preseed"].splitlines()
                       if line.startswith("d-i ") and len(line.split(None, 3)) == 4)
        assert answers["netcfg/hostname"] == name
        assert answers["passwd/user-password-crypted"] == vault()["vault_cluster_install_password_hash"]
        assert answers["netcfg/choose_interface"] == mac
        assert answers["netcfg/get_ipaddress"] == hv(name)["node_mgmt_ip"]
    else:
        import yaml  # pylint: disable=import-outside-toplevel
        auto = yaml.safe_load(boot["user_data"])["autoinstall"]
        assert auto["identity"]["hostname"] == name
        assert auto["identity"]["password"] == vault()["vault_cluster_install_password_hash"]
        addresses = [a for eth in auto["network"]["ethernets"].values()
                     if eth.get("match", {}).get("macaddress") == mac for a in eth.get("addresses", [])]
        assert addresses == [hv(name)["node_mgmt_ip"] + "/24"]
    assert boot["netboot"] == "installed" and boot["installed"] == name and boot["result"] == "os booted"


@pytest.mark.parametrize("name", BARE)
def test_installed_node_answers_ssh_as_itself(name):
    node = labhosts.host(name)
    assert node.check_output("hostname") == name
    nic = [dev for dev in node.check_output("ls /sys/class/net").split()
           if node.file("/sys/class/net/%s/address" % dev).content_string.strip() == hv(name)["node_mgmt_mac"]]
    assert node.interface(nic[0]).addresses[0] == hv(name)["node_mgmt_ip"]


@pytest.mark.parametrize("name", BARE)
def test_bmc_rotated_and_booted_once_from_pxe(name):
    state = bmc_state(name)
    names = {a["UserName"]: a for a in state["accounts"]}
    assert not names["root"]["Enabled"], "factory account root still enabled"
    assert names[vault()["vault_cluster_bmc_username"]]["Enabled"]
    kinds = [(e["type"], e.get("target") or e.get("source") or e.get("reset_type")) for e in state["events"]
             if e["type"] in ("boot_override", "reset", "boot")]
    assert kinds[:3] == [("boot_override", "Pxe"), ("reset", "On"), ("boot", "Pxe")], kinds
    system = list(state["systems"].values())[0]
    assert system["power_state"] == "On" and system["boot_override_enabled"] == "Disabled"


# --- negative cases ----------------------------------------------------------------------


def test_installed_nodes_are_not_reinstalled():
    before = {name: len(bmc_state(name)["events"]) for name in BARE}
    rc, out = playbook("--limit", ",".join([INSTALLED] + BARE))
    assert rc == 0, out[-6000:]
    for name in [INSTALLED] + BARE:
        assert "%s is installed" % name in out and "not reinstalled" in out
        assert recap(out, name)["changed"] == 0
    for name in BARE:
        assert len(bmc_state(name)["events"]) == before[name], "the BMC of %s was driven" % name
        assert len([b for b in boots(name) if b["source"] == "Pxe"]) == 1


def test_wrong_bmc_password_fails_after_one_attempt():
    """With every configured password wrong, the BMC role fails the node with a clear
    message after one login attempt per password, before any power action; the account
    is not locked (lockout after 3)."""
    name = BARE[0]
    before = bmc_state(name)
    rc, out = playbook("--limit", name, "-e", "reinstall=true", "-e", "bmc_password=Wrong-Password-1",
                       "-e", "bmc_new_password=Wrong-Password-2")
    assert rc != 0
    assert re.search(r"%s: .*(credential|password|401|log ?in)" % name, out, re.I), out[-4000:]
    after = bmc_state(name)
    user = vault()["vault_cluster_bmc_username"]
    failures = after["auth"]["failed_by_user"].get(user, 0) - before["auth"]["failed_by_user"].get(user, 0)
    assert 1 <= failures <= 2, after["auth"]
    account = [a for a in after["accounts"] if a["UserName"] == user][0]
    assert not account["Locked"]
    assert [e for e in after["events"][len(before["events"]):] if e["type"] in ("reset", "boot", "boot_override")] == []


def bmc_pid(name):
    with open(os.path.join(CACHE, "lab", "bmc", name, "pid")) as f:
        return int(f.read().strip())


def test_a_bmc_that_stops_answering_fails_its_node_only():
    """Issue 18's fault pass for provisioning: both bare nodes reinstalled (reinstall=true), and the BMC
    emulator of one stops answering (SIGSTOP: it accepts connections and says nothing, as a hung BMC does)
    as the run reaches the network boot. That node fails with a message naming it and its BMC; the other
    node is installed again: its second network boot, and it answers as itself. Once the BMC answers again,
    the next run installs the failed node."""
    victim, other = UBUNTU, DEBIAN
    pid = bmc_pid(victim)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    installed = os.path.join(CACHE, "installed")
    if os.path.isdir(os.path.join(installed, "ansible_collections", "aifabric", "cluster")):
        env["ANSIBLE_COLLECTIONS_PATH"] = installed
    cmd = ["ansible-playbook", "-i", os.path.join(ROOT, "inventories", "lab"), "aifabric.cluster.provision",
           "-e", "provision_poll_interval=2", "-e", "reinstall=true", "-e", "bmc_timeout=5", "--limit", "%s,%s" % (victim, other)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, stopped = [], False
    try:
        for line in proc.stdout:
            lines.append(line)
            if not stopped and line.startswith("TASK [") and "Network-boot the node" in line:
                os.kill(pid, signal.SIGSTOP)
                stopped = True
        proc.wait(timeout=1800)
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
    out = "".join(lines)
    OUTPUTS.append(out)
    assert stopped, out[-4000:]
    assert proc.returncode != 0, out[-4000:]
    assert recap(out, victim)["failed"] == 1, out[-4000:]
    assert re.search(r"%s: (cannot talk to the BMC at https://127\.0\.0\.1:\d+|BMC at https://127\.0\.0\.1:\d+: .* failed): .*"
                     r"(timed out|timeout)" % victim, out, re.I), out[-4000:]
    assert recap(out, other)["failed"] == 0 and "%s installed: lease" % other in out, out[-4000:]
    assert labhosts.host(other).check_output("hostname") == other
    # reinstall=true reinstalls an installed node: its first install, then this one
    assert len([b for b in boots(other) if b["source"] == "Pxe"]) == 2

    rc, again = playbook("--limit", victim, "-e", "reinstall=true")
    assert rc == 0 and "%s installed: lease" % victim in again, again[-4000:]


# --- the hand-over: the provisioned node converged by site.yml and validated -------------


# with the leaves its fabric port is cabled to and the Kubernetes control plane it joins (mgmt-01,
# which this scenario converged only as the PXE server: the hand-over sets its control plane up)
HANDOVER = "%s,%s,leaf-01,leaf-02" % (DEBIAN, PXE)


def test_handover_before_the_cluster_exists_converges_the_node_and_its_join_waits():
    """The commands of a new cluster, as an operator runs them: provision.yml's printed next step,
    site.yml --limit <node>, before the control plane was ever set up. The node's host phases
    converge and its GPUs are healthy; its Kubernetes join waits (and says so) for a run with the
    control plane, which this run must not set up."""
    rc, out = run_playbook("site", "--limit", DEBIAN)
    assert rc == 0, out[-6000:]
    assert recap(out, DEBIAN)["failed"] == 0 and recap(out, DEBIAN)["changed"] > 0
    assert "%s: not joined to Kubernetes: the control plane %s has no cluster yet" % (DEBIAN, PXE) \
        in " ".join(out.split()), out[-6000:]
    node = labhosts.host(DEBIAN)
    assert "nvidia-driver-580-open" in node.check_output("apt-mark showhold")
    assert "kubelet" in node.check_output("apt-mark showhold")
    assert not node.file("/etc/kubernetes/kubelet.conf").exists
    assert not labhosts.host(PXE).file("/etc/kubernetes/admin.conf").exists
    rc, out = run_playbook("gpu_health", "--limit", DEBIAN)
    assert rc == 0 and recap(out, DEBIAN)["failed"] == 0, out[-4000:]


def test_handover_site_converges_the_provisioned_node():
    """What provision.yml prints as the next step, with the leaves its port is cabled to and the
    control plane it joins."""
    rc, out = run_playbook("site", "--limit", HANDOVER)
    assert rc == 0, out[-6000:]
    assert recap(out, DEBIAN)["failed"] == 0 and recap(out, DEBIAN)["changed"] > 0
    node = labhosts.host(DEBIAN)
    assert node.file("/etc/kubernetes/kubelet.conf").exists
    profile = node.check_output("cat /etc/aifabric-lab/hw_profile")
    gpus = {"hgx-h100-8gpu": 8, "hgx-a100-8gpu": 8, "pcie-l40s-4gpu": 4}[profile]
    assert len(node.check_output("nvidia-smi --query-gpu=persistence_mode --format=csv,noheader").splitlines()) == gpus
    assert "nvidia-driver-580-open" in node.check_output("apt-mark showhold")
    dev = labhosts.fabric_netdev(DEBIAN)
    assert node.check_output("cat /sys/class/net/%s/mtu", dev) == "9000"
    pfc = [line.split()[1:] for line in node.check_output("mlnx_qos -i %s", dev).splitlines()
           if line.strip().startswith("enabled")]
    assert pfc == [["0", "0", "0", "1", "0", "0", "0", "0"]], pfc
    assert node.check_output("findmnt -n -o SOURCE --mountpoint /mnt/datasets") == "10.232.0.200:/datasets"


def test_handover_is_idempotent_and_leaves_the_autoinstall_node_alone():
    before = boots(UBUNTU)
    rc, out = run_playbook("site", "--limit", HANDOVER)
    assert rc == 0, out[-6000:]
    assert recap(out, DEBIAN)["changed"] == 0, out[-6000:]
    assert boots(UBUNTU) == before


def test_handover_validations_are_clean():
    rc, out = run_playbook("gpu_health", "--limit", DEBIAN)
    assert rc == 0 and recap(out, DEBIAN)["failed"] == 0, out[-4000:]
    rc, out = run_playbook("fabric_validate", "--limit", HANDOVER, "-e",
                           "fabric_validate_report_dir=%s" % os.path.join(CACHE, "provision-fabric-report"))
    assert rc == 0, out[-4000:]


def test_no_password_in_any_ansible_output():
    secrets = vault()
    needles = [secrets["vault_cluster_bmc_password"], secrets["vault_bmc_new_password"],
               secrets["vault_cluster_install_password_hash"], "Wrong-Password-1", "Wrong-Password-2", "calvin"]
    texts = list(OUTPUTS)
    # the converge and idempotence output of this scenario, when make test keeps it
    log = os.path.join(CACHE, "logs", "molecule-provision.log")
    if os.path.exists(log):
        with open(log, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    assert len(OUTPUTS) >= 5, "the provision runs above did not all run"
    for text in texts:
        for needle in needles:
            assert needle not in text, "a secret appears in the Ansible output"
