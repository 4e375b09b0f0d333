#!/usr/bin/env python3
"""Inventory of the aifabric lab: a simulated GPU cluster of podman containers.

The lab harness (lab/lab.py) creates exactly the hosts this inventory
describes, with the addresses and MACs it assigns, so the inventory stays the source
of truth as it is for a real cluster. One variable sets the size:

    AIFABRIC_LAB_NODES=16 ansible-inventory -i inventories/lab --graph

AIFABRIC_LAB_BARE_NODES=N adds N more GPU nodes after those that are bare metal: no OS
yet, their BMC an emulator on the controller (127.0.0.1, one port each, the lab CA's
certificate) that network-boots them against mgmt-01's pxe_server (the `provision`
scenario). Their node_os is debian-12 (a preseed install: the OS the lab image is, so
site.yml can take them over); AIFABRIC_LAB_BARE_OS="debian-12 ubuntu-24.04" cycles the bare
nodes over those OSes (an autoinstall node is installed, never handed to site.yml).

AIFABRIC_LAB_BMCS=1 gives the installed GPU nodes a BMC emulator too (powered on, its
firmware inventory that of the node's profile); AIFABRIC_LAB_BMC_FIRMWARE="gpu-02:BIOS=2.2.0
gpu-03:BMC=1.13.9" starts some of them with other versions (the `firmware` scenario).

AIFABRIC_LAB_CONTROL_PLANES=3 makes the Kubernetes control plane three management nodes,
mgmt-01 to mgmt-03 (as inventories/example's mgmt-[01:03]): kubeadm's stacked etcd of three
members and keepalived's VRRP between them for the endpoint's VIP. mgmt-01 stays the PXE
server. The default is one (mgmt-01).

Group and variable names are the same as inventories/example (a real-shaped cluster).
"""
import json
import os
import sys

MGMT_PREFIX = "10.231.0."
FABRIC_PREFIX = "10.232.0."
BMC_PREFIX = "10.233.0."
# GPU node hardware, cycled over the nodes: two HGX H100, an HGX A100 and a PCIe L40S
# node by default, so NVSwitch and PCIe-only paths both run; one profile for all with
# AIFABRIC_LAB_PROFILE
DEFAULT_PROFILES = ["hgx-h100-8gpu", "hgx-h100-8gpu", "hgx-a100-8gpu", "pcie-l40s-4gpu"]
MAX_NODES = 150
MAX_BARE_NODES = 8
# the bare nodes' BMC emulators listen on 127.0.0.1, port BMC_PORT_BASE + node number
BMC_PORT_BASE = 9400
BARE_NODE_OS = "debian-12"
BARE_NODE_OSES = ("debian-12", "ubuntu-24.04")
# the lab's leaf switches (simulated, lab/simulators): name, switch_platform, and
# the name of its n-th node-facing port; GPU nodes are spread over them in turn
LEAF_SWITCHES = [
    ("leaf-01", "nxos", lambda n: "Ethernet1/%d" % n),
    ("leaf-02", "sonic", lambda n: "Ethernet%d" % (8 * (n - 1))),
]


def node_count():
    raw = os.environ.get("AIFABRIC_LAB_NODES", "4")
    try:
        count = int(raw)
    except ValueError:
        sys.exit("AIFABRIC_LAB_NODES must be an integer, got %r" % raw)
    if not 1 <= count <= MAX_NODES:
        sys.exit("AIFABRIC_LAB_NODES must be 1-%d, got %d" % (MAX_NODES, count))
    return count


def control_plane_count():
    raw = os.environ.get("AIFABRIC_LAB_CONTROL_PLANES", "1")
    if raw not in ("1", "3"):
        sys.exit("AIFABRIC_LAB_CONTROL_PLANES must be 1 or 3 (an odd count of kubeadm control planes the lab "
                 "builds), got %r" % raw)
    return int(raw)


def bare_count():
    raw = os.environ.get("AIFABRIC_LAB_BARE_NODES", "0")
    try:
        count = int(raw)
    except ValueError:
        sys.exit("AIFABRIC_LAB_BARE_NODES must be an integer, got %r" % raw)
    if not 0 <= count <= MAX_BARE_NODES:
        sys.exit("AIFABRIC_LAB_BARE_NODES must be 0-%d, got %d" % (MAX_BARE_NODES, count))
    return count


def bare_oses():
    oses = os.environ.get("AIFABRIC_LAB_BARE_OS", BARE_NODE_OS).split()
    for name in oses:
        if name not in BARE_NODE_OSES:
            sys.exit("AIFABRIC_LAB_BARE_OS: the lab installs %s, got %r" % (" or ".join(BARE_NODE_OSES), name))
    return oses or [BARE_NODE_OS]


def bmc_firmware():
    """AIFABRIC_LAB_BMC_FIRMWARE: space-separated NODE:ID=VERSION -> {node: [ID=VERSION, ...]}."""
    out = {}
    for item in os.environ.get("AIFABRIC_LAB_BMC_FIRMWARE", "").split():
        node, sep, override = item.partition(":")
        if not sep or "=" not in override:
            sys.exit("AIFABRIC_LAB_BMC_FIRMWARE: want NODE:ID=VERSION items, got %r" % item)
        out.setdefault(node, []).append(override)
    return out


def mac(kind, index):
    # locally administered, lab-only OUI-like prefix: 0a:af:<kind>:00:00:<index>
    return "0a:af:%02x:00:%02x:%02x" % (kind, index // 256, index % 256)


def build():
    count = node_count()
    bare = bare_count()
    firmware = bmc_firmware()
    oses = bare_oses()
    width = max(2, len(str(count + bare)))
    mgmt = ["mgmt-%02d" % n for n in range(1, control_plane_count() + 1)]
    hostvars = {
        name: {
            "node_hw_profile": "mgmt-generic",
            "node_mgmt_ip": MGMT_PREFIX + str(9 + n),
            "node_mgmt_mac": mac(1, 9 + n),
            "node_bmc_ip": BMC_PREFIX + str(9 + n),
            "node_bmc_mac": mac(3, 9 + n),
        } for n, name in enumerate(mgmt, start=1)
    }
    gpu_nodes = []
    profiles = [os.environ["AIFABRIC_LAB_PROFILE"]] if os.environ.get("AIFABRIC_LAB_PROFILE") else DEFAULT_PROFILES
    for i in range(1, count + bare + 1):
        name = "gpu-%0*d" % (width, i)
        gpu_nodes.append(name)
        hostvars[name] = {
            "node_hw_profile": profiles[(i - 1) % len(profiles)],
            "node_mgmt_ip": MGMT_PREFIX + str(100 + i),
            "node_mgmt_mac": mac(1, 100 + i),
            "node_fabric_ip": FABRIC_PREFIX + str(100 + i),
            "node_fabric_mac": mac(2, 100 + i),
            "node_bmc_ip": BMC_PREFIX + str(100 + i),
            "node_bmc_mac": mac(3, 100 + i),
        }
        if os.environ.get("AIFABRIC_LAB_BMCS") == "1" and i <= count:
            hostvars[name].update({
                "bmc_address": "127.0.0.1",
                "bmc_port": BMC_PORT_BASE + i,
                "lab_bmc": True,
                "lab_bmc_firmware": firmware.get(name, []),
            })
        if i > count:
            hostvars[name].update({
                "node_os": oses[(i - count - 1) % len(oses)],
                "bmc_address": "127.0.0.1",
                "bmc_port": BMC_PORT_BASE + i,
                "lab_bare_node": True,
            })
    leaves = []
    for n, (name, platform, port) in enumerate(LEAF_SWITCHES, start=1):
        leaves.append(name)
        nodes = gpu_nodes[n - 1::len(LEAF_SWITCHES)]
        hostvars[name] = {
            "node_mgmt_ip": MGMT_PREFIX + str(20 + n),
            "node_mgmt_mac": mac(1, 20 + n),
            "switch_platform": platform,
            "switch_fabric_interfaces": [{"name": port(i + 1), "peer": peer} for i, peer in enumerate(nodes)],
        }
    return {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["cluster", "switches"]},
        "pxe_servers": {"hosts": ["mgmt-01"]},
        "cluster": {"children": ["mgmt_nodes", "gpu_nodes", "storage_nodes"]},
        "mgmt_nodes": {"hosts": mgmt},
        "gpu_nodes": {"hosts": gpu_nodes},
        "storage_nodes": {"hosts": []},
        "switches": {"children": ["leaf_switches", "spine_switches"]},
        "leaf_switches": {"hosts": leaves},
        "spine_switches": {"hosts": []},
        # Kubernetes (group_vars/all/kubernetes.yml): the management nodes the control planes, the GPU
        # nodes their workers
        "kube_control_plane": {"hosts": mgmt},
        "kube_nodes": {"children": ["gpu_nodes"]},
    }


def main(argv):
    if len(argv) > 1 and argv[1] == "--host":
        print(json.dumps({}))
        return
    print(json.dumps(build(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
