#!/usr/bin/env python3
"""The aifabric lab harness: a simulated GPU cluster of podman containers.

    lab.py up [--nodes N]   build (cached) image + signed repo, create networks and hosts
    lab.py down             remove every lab container and network
    lab.py status           print the lab's hosts

The hosts are exactly those of inventories/lab (ansible-inventory is asked), with its
addresses and MACs, on two --internal podman networks: management/provisioning
(MTU 1500) and fabric (MTU 9000). A repo container serves the lab's signed apt
repository. Hosts run systemd as PID 1 and sshd; Ansible reaches them over SSH. The
switches (leaf_switches) run the NX-OS simulator (network_cli over SSH) and the SONiC
simulator (RESTCONF over HTTPS, certificate of the lab CA in .cache/lab/tls).
Bare nodes (lab_bare_node, AIFABRIC_LAB_BARE_NODES) start powered off with an empty
disk; each has a Redfish BMC emulator on 127.0.0.1 (simulators/bmc) whose power and
boot events run the node's network-boot simulator (simulators/netboot) in its container.
Test-side only: nothing here is used by roles or modules.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

LAB = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(LAB)
CACHE = os.environ.get("AIFABRIC_LAB_CACHE", os.path.join(ROOT, ".cache", "lab"))
PREFIX = "aifabric-lab"
FABRIC_NETDEV = "ens1f0np0"   # the name of a node's fabric port (host_run_args)
LABEL = "aifabric.lab=1"
NETWORKS = {
    # name: (subnet, gateway, mtu)
    "mgmt": ("10.231.0.0/24", "10.231.0.1", 1500),
    "fabric": ("10.232.0.0/24", "10.232.0.1", 9000),
}
REPO_IP = "10.231.0.3"
# the lab's storage appliances, not managed by the collection (as a site's NFS filer or
# Lustre servers are not): a container each on the fabric network, running
# lab/simulators/<name>/serve. nfs: a real NFS-Ganesha server (NFSv4, FSAL_MEM) exporting
# /datasets; lustre: the MGS/MDS/OSS double (TCP 988) of file system "scratch".
APPLIANCES = {
    "nfs": "10.232.0.200",
    "lustre": "10.232.0.10",
}

os.environ.setdefault("CONTAINERS_CONF", os.path.join(LAB, "containers.conf"))


def log(msg):
    print("[lab] %s" % msg, flush=True)


def run(cmd, check=True, capture=True, **kw):
    res = subprocess.run(cmd, check=False, text=True,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None, **kw)
    if check and res.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s%s" % (
            res.returncode, " ".join(cmd), res.stdout or "", res.stderr or ""))
    return res


def podman(*args, check=True):
    return run(["podman"] + list(args), check=check)


def inventory(nodes):
    env = dict(os.environ)
    if nodes:
        env["AIFABRIC_LAB_NODES"] = str(nodes)
    script = os.path.join(LAB, "inventory.py")
    data = json.loads(run([sys.executable, script, "--list"], env=env).stdout)
    hosts = []
    for group in ("mgmt_nodes", "gpu_nodes", "storage_nodes", "leaf_switches", "spine_switches"):
        for name in data.get(group, {}).get("hosts", []):
            hv = data["_meta"]["hostvars"][name]
            hosts.append(dict(hv, name=name, group=group))
    return hosts


def ensure_image():
    run(["bash", os.path.join(LAB, "image", "build.sh")], capture=False)
    run(["bash", os.path.join(LAB, "repo", "build-repo.sh")], capture=False)
    with open(os.path.join(CACHE, "image")) as f:
        return f.read().strip()


def ensure_networks():
    for name, (subnet, gateway, mtu) in NETWORKS.items():
        net = "%s-%s" % (PREFIX, name)
        if podman("network", "exists", net, check=False).returncode == 0:
            continue
        podman("network", "create", "--internal", "--label", LABEL,
               "--subnet", subnet, "--gateway", gateway,
               "-o", "mtu=%d" % mtu, net)


# the switch simulators (lab/simulators/<platform>): the container's process, the
# port it serves, and its command line
SWITCH_SIMS = {
    "nxos": (22, lambda host: [
        "--listen", "0.0.0.0", "--port", "22", "--state-dir", "/var/lib/aifabric-sim/nxos",
        "--hostname", host["name"], "--username", "aifabric",
        "--authorized-keys", "/etc/aifabric-lab/authorized_keys"]),
    "sonic": (443, lambda host: [
        "--listen", "0.0.0.0", "--port", "443", "--state-dir", "/var/lib/aifabric-sim/sonic",
        "--hostname", host["name"], "--cert", "/etc/aifabric-lab/tls/server.pem",
        "--key", "/etc/aifabric-lab/tls/server.key", "--user", "admin", "--password", lab_secret("vault_switch_admin_password")]),
}


def lab_secret(name):
    """A lab secret from inventories/lab/group_vars/all/vault.yml (clear text in the lab)."""
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "all", "vault.yml")) as f:
        return yaml.safe_load(f)[name]


def ensure_tls(hosts):
    """The lab CA and one server certificate for every switch that serves HTTPS (SONiC's
    RESTCONF), made fresh at each up: .cache/lab/tls/{ca,server}.pem."""
    ips = [h["node_mgmt_ip"] for h in hosts if h.get("switch_platform") == "sonic"]
    if not ips and not any(h.get("lab_bare_node") or h.get("lab_bmc") for h in hosts):
        return
    cmd = [sys.executable, os.path.join(LAB, "simulators", "bmc", "bmc_sim.py"), "make-ca",
           "--dir", os.path.join(CACHE, "tls"), "--ip", "127.0.0.1"]
    for ip in ips:
        cmd += ["--ip", ip]
    for h in hosts:
        if h.get("switch_platform") == "sonic":
            cmd += ["--dns", h["name"]]
    run(cmd)


def switch_run_args(image, host, hostdir):
    """A lab switch: its simulator (lab/simulators/<platform>) as the container's
    process on the management network, fresh state each time the container is created.
    NX-OS: SSH on 22, the lab key for user aifabric; SONiC: RESTCONF over HTTPS on 443 with
    the lab CA's certificate, user admin with the lab's vault_switch_admin_password."""
    platform = host.get("switch_platform")
    if platform not in SWITCH_SIMS:
        raise SystemExit("%s: the lab simulates switch_platform %s, got %r" % (
            host["name"], " or ".join(sorted(SWITCH_SIMS)), platform))
    state = os.path.join(hostdir, platform)
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    sim = os.path.join(LAB, "simulators", platform)
    return [
        "run", "-d", "--name", "%s-%s" % (PREFIX, host["name"]),
        "--hostname", host["name"], "--label", LABEL, "--systemd=false", "--no-hosts",
        "--restart=always",
        "--network", "%s-mgmt:ip=%s,mac=%s" % (PREFIX, host["node_mgmt_ip"], host["node_mgmt_mac"]),
        "-v", "%s:/usr/lib/aifabric-sim/%s:ro" % (sim, platform),
        "-v", "%s:/var/lib/aifabric-sim/%s" % (state, platform),
        "-v", ("%s:/etc/aifabric-lab/tls:ro" % os.path.join(CACHE, "tls") if platform == "sonic" else
               "%s:/etc/aifabric-lab/authorized_keys:ro" % os.path.join(CACHE, "ssh", "id_ed25519.pub")),
        image, "python3", "/usr/lib/aifabric-sim/%s/%s_sim.py" % (platform, platform),
    ] + SWITCH_SIMS[platform][1](host)


def host_run_args(image, host):
    hostdir = os.path.join(CACHE, "hosts", host["name"])
    os.makedirs(hostdir, exist_ok=True)
    if host["group"].endswith("_switches"):
        return switch_run_args(image, host, hostdir)
    with open(os.path.join(hostdir, "hw_profile"), "w") as f:
        f.write(host["node_hw_profile"] + "\n")
    args = [
        "run", "-d", "--name", "%s-%s" % (PREFIX, host["name"]),
        "--hostname", host["name"], "--label", LABEL,
        "--systemd=always", "--no-hosts",
        "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--cap-add", "AUDIT_WRITE",
        "--network", "%s-mgmt:ip=%s,mac=%s" % (PREFIX, host["node_mgmt_ip"], host["node_mgmt_mac"]),
    ]
    if host.get("lab_bare_node"):
        # bare metal, racked and cabled: its NICs are there before any OS; its boot
        # simulator sets the host name the installer gives it (SYS_ADMIN: the container's
        # own UTS namespace)
        args += ["-v", "%s:/usr/lib/aifabric-sim/netboot:ro" % os.path.join(LAB, "simulators", "netboot")]
    # a reboot inside the sim host (systemd) ends the container; podman boots it again (a
    # bare node's power is its BMC's, which never stops the container)
    args.append("--restart=always")
    # the storage clients' mount helpers (mount.nfs, mount.lustre: test doubles, the kernel
    # has neither) mount for real, a tmpfs named after the source: mount(2) needs SYS_ADMIN;
    # /dev/fuse for the NFS double's hung-mount fault (a FUSE mount that never answers)
    args += ["--cap-add", "SYS_ADMIN", "--device", "/dev/fuse"]
    if host.get("node_fabric_ip"):
        # the fabric port gets the predictable name a ConnectX port has on identical servers
        # (ens1f0np0), as the secondary network of the Network Operator needs one master name
        # on every node; the roles still find it by its MAC, never by this name
        args += ["--network", "%s-fabric:ip=%s,mac=%s,interface_name=%s" % (
            PREFIX, host["node_fabric_ip"], host["node_fabric_mac"], FABRIC_NETDEV)]
    # the simulated hardware: which profile this "server" is (read by simulators)
    args += ["-v", "%s:/etc/aifabric-lab/hw_profile:ro" % os.path.join(hostdir, "hw_profile")]
    if host.get("node_fabric_mac"):
        # which netdev is the simulated ConnectX port (package doca-ofed): the one with the
        # fabric MAC
        with open(os.path.join(hostdir, "rdma_mac"), "w") as f:
            f.write(host["node_fabric_mac"] + "\n")
        args += ["-v", "%s:/etc/aifabric-lab/rdma_mac:ro" % os.path.join(hostdir, "rdma_mac")]
    args.append(image)
    return args


def start_repo(image):
    name = "%s-repo" % PREFIX
    if podman("container", "exists", name, check=False).returncode == 0:
        return
    podman("run", "-d", "--name", name, "--label", LABEL, "--systemd=false",
           "--network", "%s-mgmt:ip=%s" % (PREFIX, REPO_IP),
           "-v", "%s:/srv/repo:ro" % os.path.join(CACHE, "repo"),
           image, "python3", "-m", "http.server", "80", "--directory", "/srv/repo")


def appliance_image():
    with open(os.path.join(CACHE, "appliance-image")) as f:
        return f.read().strip()


def start_appliances():
    for name, ip in APPLIANCES.items():
        cname = "%s-%s" % (PREFIX, name)
        if podman("container", "exists", cname, check=False).returncode == 0:
            continue
        podman("run", "-d", "--name", cname, "--hostname", name, "--label", LABEL,
               "--systemd=false", "--no-hosts", "--restart=always",
               "--network", "%s-fabric:ip=%s" % (PREFIX, ip),
               "-v", "%s:/usr/lib/aifabric-sim/%s:ro" % (os.path.join(LAB, "simulators", name), name),
               appliance_image(), "sh", "/usr/lib/aifabric-sim/%s/serve" % name)


def netboot_cmd(host, *args):
    return ["podman", "exec", "%s-%s" % (PREFIX, host["name"]), "python3",
            "/usr/lib/aifabric-sim/netboot/netboot.py", "--mac", host["node_mgmt_mac"]] + list(args)


def start_bmcs(hosts):
    """A Redfish BMC emulator per node on 127.0.0.1:<bmc_port>, fresh state, the site's
    admin account (vault_cluster_bmc_*), the factory root account and the firmware of the
    node's profile; a bare node's power events run its boot simulator, an installed node
    (lab_bmc) is on and its power actions do not touch its container. PIDs in
    .cache/lab/bmc/<name>/pid."""
    tls = os.path.join(CACHE, "tls")
    for host in hosts:
        bmcdir = os.path.join(CACHE, "bmc", host["name"])
        stop_bmc(bmcdir)
        shutil.rmtree(bmcdir, ignore_errors=True)
        os.makedirs(bmcdir)
        cmd = [sys.executable, os.path.join(LAB, "simulators", "bmc", "bmc_sim.py"), "serve",
               "--listen", host["bmc_address"], "--port", str(host["bmc_port"]),
               "--state-dir", os.path.join(bmcdir, "state"),
               "--tls-cert", os.path.join(tls, "server.pem"), "--tls-key", os.path.join(tls, "server.key"),
               "--name", host["name"], "--mac", host["node_mgmt_mac"],
               "--profile", host["node_hw_profile"], "--update-duration", "1",
               "--username", lab_secret("vault_cluster_bmc_username"),
               "--password", lab_secret("vault_cluster_bmc_password")]
        if host.get("lab_bare_node"):
            cmd += ["--power-state", "Off", "--on-boot", shlex.join(netboot_cmd(host, "boot")),
                    "--on-power-off", shlex.join(netboot_cmd(host, "power-off"))]
        else:
            cmd += ["--power-state", "On"]
        for override in host.get("lab_bmc_firmware", []):
            cmd += ["--firmware", override]
        with open(os.path.join(bmcdir, "log"), "w") as log_file:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file,  # pylint: disable=consider-using-with
                                    stderr=subprocess.STDOUT, start_new_session=True)
        with open(os.path.join(bmcdir, "pid"), "w") as f:
            f.write("%d\n" % proc.pid)


def stop_bmc(bmcdir):
    try:
        with open(os.path.join(bmcdir, "pid")) as f:
            pid = int(f.read().strip())
        os.killpg(pid, signal.SIGTERM)
    except (OSError, ValueError):
        pass


def wait_ready(endpoints, timeout=90):
    """Wait until every (address, port) answers: an SSH banner on 22, a TCP accept elsewhere."""
    deadline = time.time() + timeout
    pending = set(endpoints)
    while pending and time.time() < deadline:
        for addr, port in sorted(pending):
            try:
                with socket.create_connection((addr, port), timeout=1) as s:
                    s.settimeout(2)
                    if port != 22 or s.recv(64).startswith(b"SSH-"):
                        pending.discard((addr, port))
            except OSError:
                pass
        if pending:
            time.sleep(0.3)
    if pending:
        raise SystemExit("no answer from: %s" % ", ".join("%s:%d" % e for e in sorted(pending)))


# Every sim host runs systemd, and systemd, logind and dbus in it each take inotify
# instances, which the kernel counts per user (root, for every container) against
# fs.inotify.max_user_instances (128 on Debian): a host started past it logs "Failed to create
# inotify object: Too many open files", may never reach SSH, and the lab would only end with "no
# answer from" a minute later. Measured per fresh sim host (lab.py up, nothing converged):
INOTIFY_PER_HOST = 7
INOTIFY_LIMIT = "/proc/sys/fs/inotify/max_user_instances"


def inotify_in_use(uid, proc="/proc"):
    """The inotify instances that processes of uid hold (anon_inode:inotify descriptors)."""
    count = 0
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            if os.stat(os.path.join(proc, pid)).st_uid != uid:
                continue
            fds = os.listdir(os.path.join(proc, pid, "fd"))
        except OSError:
            continue  # gone, or not ours to read
        for fd in fds:
            try:
                if os.readlink(os.path.join(proc, pid, "fd", fd)) == "anon_inode:inotify":
                    count += 1
            except OSError:
                pass
    return count


def check_inotify(starting, uid=None, proc="/proc", limit_path=INOTIFY_LIMIT):
    """Refuse, before anything is created, a lab whose new sim hosts cannot all start systemd."""
    if not starting:
        return
    with open(limit_path) as f:
        limit = int(f.read().strip())
    used = inotify_in_use(os.geteuid() if uid is None else uid, proc)
    need = INOTIFY_PER_HOST * starting
    if used + need > limit:
        suggested = max(1024, 1 << (used + need - 1).bit_length())
        raise SystemExit(
            "lab.py up: %d new sim hosts need about %d inotify instances (%d each), and "
            "fs.inotify.max_user_instances is %d with %d already in use; raise it first, e.g. "
            "`sysctl -w fs.inotify.max_user_instances=%d` (until the next reboot; docs/lab.md, "
            "\"Large labs\")" % (starting, need, INOTIFY_PER_HOST, limit, used, suggested))


def up(nodes):
    t0 = time.time()
    image = ensure_image()
    t_image = time.time()
    hosts = inventory(nodes)
    existing = set(podman("ps", "-a", "--filter", "label=" + LABEL,
                          "--format", "{{.Names}}").stdout.split())
    todo = [h for h in hosts if "%s-%s" % (PREFIX, h["name"]) not in existing]
    # the switches run their simulator, not systemd
    check_inotify(len([h for h in todo if not h["group"].endswith("_switches")]))
    ensure_networks()
    ensure_tls(hosts)
    start_repo(image)
    start_appliances()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda h: podman(*host_run_args(image, h)), todo))
    wait_ready([(h["node_mgmt_ip"], SWITCH_SIMS[h["switch_platform"]][0] if h.get("switch_platform") else 22)
                for h in hosts])
    wait_appliances()
    bare = [h for h in hosts if h.get("lab_bare_node")]
    for host in bare:
        if "%s-%s" % (PREFIX, host["name"]) in existing:
            continue
        # a new server: powered off, empty disk (its address goes, sshd stops)
        run(netboot_cmd(host, "power-off", "--wipe"))
    with_bmc = [h for h in hosts if h.get("lab_bare_node") or h.get("lab_bmc")]
    start_bmcs(with_bmc)
    wait_ready([(h["bmc_address"], h["bmc_port"]) for h in with_bmc])
    state = {"image": image, "nodes": len(hosts), "hosts": [h["name"] for h in hosts],
             "create_seconds": round(time.time() - t_image, 2),
             "image_seconds": round(t_image - t0, 2)}
    with open(os.path.join(CACHE, "state.json"), "w") as f:
        json.dump(state, f, indent=2)
    log("up: %d hosts (+ repo) in %.1f s (image/repo step %.1f s)" % (
        len(hosts), state["create_seconds"], state["image_seconds"]))
    return state


def wait_appliances(timeout=90):
    """The appliances are on the fabric network only (internal, not routed to the
    controller): ask from inside their containers until NFS (2049) and Lustre (988) listen."""
    ports = {"nfs": 2049, "lustre": 988}
    deadline = time.time() + timeout
    for name in APPLIANCES:
        probe = ("import socket; socket.create_connection(('127.0.0.1', %d), 1)" % ports[name])
        while podman("exec", "%s-%s" % (PREFIX, name), "python3", "-c", probe, check=False).returncode != 0:
            if time.time() > deadline:
                raise SystemExit("lab appliance %s: nothing listens on %d (podman logs %s-%s)" % (
                    name, ports[name], PREFIX, name))
            time.sleep(0.5)


def down():
    for bmcdir in sorted(os.listdir(os.path.join(CACHE, "bmc"))) if os.path.isdir(os.path.join(CACHE, "bmc")) else []:
        stop_bmc(os.path.join(CACHE, "bmc", bmcdir))
    names = podman("ps", "-a", "--filter", "label=" + LABEL, "--format", "{{.Names}}",
                   check=False).stdout.split()
    if names:
        podman("rm", "-f", "-t", "2", *names, check=False)
    nets = podman("network", "ls", "--filter", "label=" + LABEL, "--format", "{{.Name}}",
                  check=False).stdout.split()
    for net in nets:
        podman("network", "rm", "-f", net, check=False)
    try:
        os.remove(os.path.join(CACHE, "state.json"))
    except FileNotFoundError:
        pass
    log("down: removed %d containers, %d networks" % (len(names), len(nets)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["up", "down", "status"])
    ap.add_argument("--nodes", type=int, default=None,
                    help="GPU node count (default: AIFABRIC_LAB_NODES or 4)")
    args = ap.parse_args()
    if args.action == "up":
        up(args.nodes)
    elif args.action == "down":
        down()
    else:
        print(podman("ps", "-a", "--filter", "label=" + LABEL,
                     "--format", "{{.Names}}\t{{.Status}}").stdout, end="")


if __name__ == "__main__":
    main()
