# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the GPU and Network Operators are given: Helm values and custom resources.

Built from the intent (``cluster_kubernetes.gpu_operator`` / ``network_operator``,
validated by preflight) and from live state (the GPU nodes' container runtime versions,
the fabric netdev each node has), so that the roles hold no Jinja programs
(docs/kubernetes-gpu.md gives the reasons for each value).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re

# the first containerd with the CDI support the toolkit's CDI spec (v0.7.0) needs
CDI_MIN_CONTAINERD = (1, 7, 16)
MIG_STRATEGIES = ('none', 'single', 'mixed')
_RUNTIME_RE = re.compile(r'^containerd://v?(\d+)\.(\d+)\.(\d+)')


def merge(base, extra):
    """base with extra merged over it, recursively for mappings (Helm's own values merge)."""
    out = dict(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def cdi_supported(runtime_versions):
    """True when every runtime (a Node's status.nodeInfo.containerRuntimeVersion) is a containerd with CDI."""
    versions = []
    for text in runtime_versions:
        match = _RUNTIME_RE.match(str(text or ''))
        if not match:
            return False
        versions.append(tuple(int(part) for part in match.groups()))
    return bool(versions) and min(versions) >= CDI_MIN_CONTAINERD


def mig_strategy(profiles, asked='auto'):
    """The MIG strategy: asked, or from the hardware profiles (mixed when one has MIG mode on, else single)."""
    if asked != 'auto':
        if asked not in MIG_STRATEGIES:
            raise ValueError("mig strategy '%s' is not one of auto, %s" % (asked, ', '.join(MIG_STRATEGIES)))
        return asked
    return 'mixed' if any((p or {}).get('gpu_mig_mode') for p in profiles) else 'single'


def gpu_operator_values(intent, profiles, runtime_versions, cdi='auto', mig='auto', host_dcgm=True, tolerations=None):
    """Helm values of the GPU Operator on the host's driver and toolkit."""
    if cdi == 'auto':
        cdi = cdi_supported(runtime_versions)
    exporter = {'enabled': True}
    if host_dcgm:
        # DCGM exporter talks to the nv-hostengine the dcgm role runs on every GPU node
        exporter['env'] = [{'name': 'DCGM_REMOTE_HOSTENGINE_INFO', 'value': 'localhost:5555'}]
    values = {
        'driver': {'enabled': False},       # the nvidia_driver role owns the driver
        'toolkit': {'enabled': False},      # nvidia_container_toolkit owns the toolkit and the runtime
        'operator': {'defaultRuntime': 'containerd'},
        'cdi': {'enabled': bool(cdi), 'default': False},
        'dcgm': {'enabled': not host_dcgm},
        'dcgmExporter': exporter,
        'devicePlugin': {'enabled': True},
        'gfd': {'enabled': True},
        'nfd': {'enabled': True},
        'mig': {'strategy': mig_strategy(profiles, mig)},
        'migManager': {'enabled': any((p or {}).get('gpu_mig_mode') for p in profiles)},
        'daemonsets': {'tolerations': list(tolerations or [])},
    }
    return merge(values, (intent or {}).get('values'))


def fabric_netdev(netdevs):
    """The one fabric netdev name of the nodes ({node: name}), or raise ValueError naming the nodes of each name."""
    names = {}
    for node, name in sorted(netdevs.items()):
        names.setdefault(name or '', []).append(node)
    if '' in names:
        raise ValueError('no fabric netdev found on %s (node_fabric_mac matches no interface)' % ', '.join(names['']))
    if len(names) != 1:
        raise ValueError('the fabric netdev has different names on the nodes (%s); the secondary network needs one name: '
                         'rename the port with a systemd .link file or udev rule'
                         % '; '.join('%s on %s' % (name, ', '.join(nodes)) for name, nodes in sorted(names.items())))
    return list(names)[0]


def nic_cluster_policy(intent, netdev, images):
    """The NicClusterPolicy: no OFED driver (the host's DOCA-OFED), the RDMA shared device plugin, Multus and IPAM."""
    intent = intent or {}
    selectors = {'ifNames': [netdev]}
    if intent.get('rdma_vendors'):
        selectors['vendors'] = list(intent['rdma_vendors'])
    config = {'configList': [{'resourceName': intent.get('rdma_resource', 'rdma_shared_device_a'),
                              'rdmaHcaMax': int(intent.get('rdma_hca_max', 63)), 'selectors': selectors}]}
    spec = {'rdmaSharedDevicePlugin': dict(images['rdma_shared_device_plugin'],
                                           config=json.dumps(config, sort_keys=True, separators=(',', ':')))}
    if intent.get('secondary_network'):
        spec['secondaryNetwork'] = {'cniPlugins': dict(images['cni_plugins']), 'multus': dict(images['multus']),
                                    'ipamPlugin': dict(images['whereabouts'])}
    return {'apiVersion': 'mellanox.com/v1alpha1', 'kind': 'NicClusterPolicy',
            'metadata': {'name': 'nic-cluster-policy'}, 'spec': spec}


def macvlan_network(intent, netdev, fabric_cidr, mtu):
    """The MacvlanNetwork on the fabric port, whereabouts IPAM from the intent's range, the fabric MTU."""
    network = (intent or {}).get('secondary_network') or {}
    first, last = [part.strip() for part in network['ip_range'].split('-')]
    ipam = {'type': 'whereabouts', 'range': str(fabric_cidr), 'range_start': first, 'range_end': last}
    return {'apiVersion': 'mellanox.com/v1alpha1', 'kind': 'MacvlanNetwork',
            'metadata': {'name': network['name']},
            'spec': {'networkNamespace': network.get('namespace', 'default'), 'master': netdev, 'mode': 'bridge',
                     'mtu': int(mtu), 'ipam': json.dumps(ipam, sort_keys=True, separators=(',', ':'))}}
