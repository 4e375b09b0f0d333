# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""storage_intent: one message per problem of cluster_filesystems / cluster_lnet_networks."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import storage_intent
from ansible_collections.aifabric.cluster.plugins.module_utils.inventory_check import _Report

NFS = {'name': 'datasets', 'type': 'nfs', 'mount_point': '/mnt/datasets', 'source': '10.234.0.10:/datasets',
       'options': {'vers': '4.2', 'nconnect': 8, 'proto': 'rdma', 'port': 20049, 'rsize': 1048576, 'wsize': 1048576},
       'hosts': ['gpu_nodes']}
LUSTRE = {'name': 'scratch', 'type': 'lustre', 'mount_point': '/lustre/scratch',
          'source': '10.232.0.20@o2ib:10.232.0.21@o2ib:/scratch', 'options': {'flock': 'flock', 'noatime': True},
          'hosts': ['gpu_nodes']}
LNET = {'gpu_nodes': [{'net': 'o2ib0', 'interfaces': ['fabric']}]}
GROUPS = {'gpu_nodes': ['gpu-01', 'gpu-02'], 'mgmt_nodes': ['mgmt-01']}


def node(fabric=True):
    hv = {'node_mgmt_mac': '0a:af:01:00:00:01'}
    if fabric:
        hv.update(node_fabric_ip='10.232.0.101', node_fabric_mac='0a:af:02:00:00:01')
    return hv


def check(filesystems=None, lnet=None, hosts=None):
    hosts = hosts or {'gpu-01': node(), 'gpu-02': node(), 'mgmt-01': node(fabric=False)}
    for hv in hosts.values():
        hv['cluster_filesystems'] = [NFS, LUSTRE] if filesystems is None else filesystems
        hv['cluster_lnet_networks'] = LNET if lnet is None else lnet
    report = _Report()
    storage_intent.check_storage(hosts, GROUPS, report, set(hosts), networks=['mgmt', 'fabric', 'bmc'])
    return report.messages


def with_changes(fs, **changes):
    out = copy.deepcopy(fs)
    for key, value in changes.items():
        if key.startswith('opt_'):
            out['options'][key[4:]] = value
        else:
            out[key] = value
    return out


def test_the_intended_storage_is_valid():
    assert check() == []


def test_no_storage_intent_is_valid():
    assert check([], {}) == []


@pytest.mark.parametrize('nid, valid', [
    ('10.0.0.1@o2ib', True), ('10.0.0.1@o2ib1', True), ('10.0.0.1@tcp0', True),
    ('10.0.0.1', False), ('10.0.0.1@ib0', False), ('10.0.0.256@tcp', False), ('host@tcp', False), ('1@2@tcp', False)])
def test_nids(nid, valid):
    assert (storage_intent.parse_nid(nid) is not None) == valid


def test_an_invalid_nid():
    msgs = check([with_changes(LUSTRE, source='10.232.0.20@o2ib:10.232.0.300@o2ib:/scratch')])
    assert msgs == ["all: cluster_filesystems[0].source '10.232.0.20@o2ib:10.232.0.300@o2ib:/scratch' has an invalid NID "
                    "'10.232.0.300@o2ib'; a NID is IPv4@net, net one of tcp, o2ib, ... with an optional number; allowed: "
                    "MGS NIDs:/fsname, e.g. 10.0.0.1@o2ib:10.0.0.2@o2ib:/scratch"]


def test_two_filesystems_on_one_mount_point():
    msgs = check([NFS, with_changes(LUSTRE, mount_point='/mnt/datasets')])
    assert msgs == ["all: cluster_filesystems[1].mount_point '/mnt/datasets' is also the mount point of cluster_filesystems[0] "
                    "(datasets) on gpu-01, gpu-02; allowed: one filesystem per mount point"]


def test_nested_mount_points_only_where_one_host_mounts_both():
    msgs = check([NFS, with_changes(LUSTRE, mount_point='/mnt/datasets/scratch')])
    assert len(msgs) == 1 and 'is nested with' in msgs[0] and 'gpu-01, gpu-02' in msgs[0], msgs
    # the same mount point on disjoint hosts is fine
    assert check([NFS, with_changes(LUSTRE, mount_point='/mnt/datasets', hosts=['mgmt_nodes'])],
                 {'mgmt_nodes': [{'net': 'o2ib0', 'interfaces': ['mgmt']}]}) == []
    # /mnt/data is not nested in /mnt/datasets
    assert check([NFS, with_changes(LUSTRE, mount_point='/mnt/data')]) == []


def test_lnet_on_an_interface_the_node_does_not_have():
    msgs = check([LUSTRE], {'gpu_nodes': [{'net': 'o2ib0', 'interfaces': ['fabric']}],
                            'mgmt_nodes': [{'net': 'o2ib0', 'interfaces': ['fabric']}]},
                 hosts={'gpu-01': node(), 'gpu-02': node(), 'mgmt-01': node(fabric=False)})
    assert msgs == ["mgmt-01: cluster_lnet_networks.mgmt_nodes[0].interfaces 'fabric' is not an interface of this host "
                    "(node_fabric_mac is not set); allowed: a network the host has in the inventory"]


def test_lnet_on_a_network_the_cluster_does_not_have():
    msgs = check([LUSTRE], {'gpu_nodes': [{'net': 'o2ib0', 'interfaces': ['ib0']}]})
    assert msgs[0] == ("all: cluster_lnet_networks.gpu_nodes[0].interfaces 'ib0' is not a network of cluster_networks; "
                       "allowed: bmc, fabric, mgmt")


def test_rdma_without_a_fabric():
    msgs = check([with_changes(NFS, hosts=['gpu_nodes', 'mgmt-01'])], {})
    assert msgs == ["mgmt-01: cluster_filesystems[0].options.proto 'rdma' (datasets) needs the fabric, but "
                    "node_fabric_ip/node_fabric_mac are not set; allowed: proto tcp, or a host with a fabric port"]


@pytest.mark.parametrize('value', [0, 17, '8', True])
def test_nconnect_out_of_range(value):
    msgs = check([with_changes(NFS, opt_nconnect=value)], {})
    assert len(msgs) == 1 and msgs[0].startswith("all: cluster_filesystems[0].options.nconnect '%s' is out of range" % value)


def test_soft_needs_the_override():
    msgs = check([with_changes(NFS, opt_soft=True)], {})
    assert len(msgs) == 1 and 'soft mount requested without cluster_filesystems[0].allow_soft: true' in msgs[0]
    assert check([with_changes(NFS, opt_hard=False)], {}) == msgs
    assert check([with_changes(NFS, opt_soft=True, allow_soft=True)], {}) == []


def test_io_sizes_above_one_mib():
    msgs = check([with_changes(NFS, opt_rsize=2097152, opt_wsize=1000)], {})
    assert [m.split("'")[0] for m in msgs] == ['all: cluster_filesystems[0].options.rsize ', 'all: cluster_filesystems[0].options.wsize ']


def test_lustre_host_without_an_lnet_net_of_the_mgs():
    msgs = check([LUSTRE], {'gpu_nodes': [{'net': 'tcp0', 'interfaces': ['mgmt']}]})
    assert msgs == ["gpu-01: cluster_filesystems[0].source '10.232.0.20@o2ib:10.232.0.21@o2ib:/scratch' (scratch): no LNet "
                    "network of this host reaches the MGS (o2ib0; host: tcp0); allowed: a cluster_lnet_networks entry for the "
                    "host with one of the MGS NIDs' nets",
                    "gpu-02: cluster_filesystems[0].source '10.232.0.20@o2ib:10.232.0.21@o2ib:/scratch' (scratch): no LNet "
                    "network of this host reaches the MGS (o2ib0; host: tcp0); allowed: a cluster_lnet_networks entry for the "
                    "host with one of the MGS NIDs' nets"]


def test_structure_problems_each_have_their_own_message():
    bad = [{'name': 'x', 'type': 'cifs', 'mount_point': '/mnt/x', 'source': 's:/x', 'hosts': ['gpu_nodes']},
           {'name': 'x', 'type': 'nfs', 'mount_point': 'relative', 'source': 's:/y', 'hosts': ['gpu_nodes']},
           {'name': 'y', 'type': 'nfs', 'mount_point': '/mnt/y', 'source': 'no-export', 'hosts': ['nowhere'], 'colour': 1},
           {'name': 'z', 'type': 'lustre', 'mount_point': '/mnt/z/', 'source': 'x', 'hosts': ['gpu_nodes']},
           'string', {'name': 'w'}]
    msgs = check(bad, {})
    assert msgs == [
        "all: cluster_filesystems[0].type 'cifs' is not supported; allowed: lustre, nfs",
        "all: cluster_filesystems[1].name 'x' is also the name of cluster_filesystems[0]; allowed: a unique name",
        "all: cluster_filesystems[1].mount_point 'relative' is not a normalized absolute path; allowed: e.g. /mnt/datasets "
        "(not /, no trailing '/', no '..')",
        "all: cluster_filesystems[2].colour is not a known key; allowed: name, type, mount_point, source, options, hosts, allow_soft",
        "all: cluster_filesystems[2].source 'no-export' is not 'server:/export'; allowed: a host name or IP address, ':', an "
        "absolute export path",
        "all: cluster_filesystems[2].hosts 'nowhere' is not a group or host of the inventory; allowed: a group or host",
        "all: cluster_filesystems[3].mount_point '/mnt/z/' is not a normalized absolute path; allowed: e.g. /mnt/datasets "
        "(not /, no trailing '/', no '..')",
        "all: cluster_filesystems[4] 'string' is not a mapping; allowed: {name, type: lustre|nfs, mount_point, source, options, hosts}",
        "all: cluster_filesystems[5] is missing type, mount_point, source, hosts; allowed: {name, type: lustre|nfs, mount_point, "
        "source, options, hosts}",
    ]


# --- from the intent to the client's mounts -----------------------------------------------

MOUNTS_INTENT = [
    {'name': 'datasets', 'type': 'nfs', 'mount_point': '/mnt/datasets', 'source': '10.0.3.200:/datasets',
     'options': {'vers': '4.2', 'proto': 'rdma', 'nconnect': 8}, 'hosts': ['gpu_nodes']},
    {'name': 'home', 'type': 'nfs', 'mount_point': '/home/shared', 'source': 'filer:/home',
     'options': {'vers': '4.1', 'proto': 'tcp', 'soft': True, 'timeo': 100, 'extra': ['nosuid']},
     'allow_soft': True, 'hosts': ['mgmt-01']},
    {'name': 'scratch', 'type': 'lustre', 'mount_point': '/lustre/scratch',
     'source': '10.0.3.10@o2ib,10.0.4.10@o2ib1:10.0.3.11@o2ib:/scratch', 'options': {'flock': 'localflock'},
     'hosts': ['gpu_nodes']},
]


def test_storage_mounts_nfs_defaults_and_expectations():
    mounts = storage_intent.storage_mounts(MOUNTS_INTENT, 'nfs', 'gpu-01', ['cluster', 'gpu_nodes'], mount_timeout=30)
    assert [m['name'] for m in mounts] == ['datasets']
    m = mounts[0]
    assert m['fstype'] == 'nfs' and m['rdma'] is True
    assert m['opts'] == ('vers=4.2,proto=rdma,port=20049,nconnect=8,rsize=1048576,wsize=1048576,hard,'
                         '_netdev,x-systemd.automount,x-systemd.mount-timeout=30')
    assert m['expected'] == {'mount_point': '/mnt/datasets', 'source': '10.0.3.200:/datasets', 'vers': '4.2',
                             'proto': 'rdma', 'nconnect': 8, 'hard': True, 'rsize_max': 1048576,
                             'wsize_max': 1048576, 'port': 20049}


def test_storage_mounts_by_host_name_soft_and_extra():
    mounts = storage_intent.storage_mounts(MOUNTS_INTENT, 'nfs', 'mgmt-01', ['cluster', 'mgmt_nodes'])
    assert [m['name'] for m in mounts] == ['home']
    assert mounts[0]['opts'].startswith('vers=4.1,proto=tcp,rsize=1048576,wsize=1048576,timeo=100,soft,nosuid,_netdev')
    assert mounts[0]['expected']['hard'] is False and mounts[0]['expected']['nconnect'] == 1
    assert 'port' not in mounts[0]['expected']


def test_storage_mounts_lustre():
    mounts = storage_intent.storage_mounts(MOUNTS_INTENT, 'lustre', 'gpu-01', ['gpu_nodes'])
    assert len(mounts) == 1
    m = mounts[0]
    assert m['fsname'] == 'scratch'
    assert m['mgs_nids'] == ['10.0.3.10@o2ib0', '10.0.3.11@o2ib0']
    assert m['opts'] == ('localflock,noatime,x-systemd.requires=lnet.service,_netdev,x-systemd.automount,'
                         'x-systemd.mount-timeout=60')
    assert storage_intent.storage_mounts(MOUNTS_INTENT, 'lustre', 'mgmt-01', ['mgmt_nodes']) == []


def test_mount_conflicts_last_mount_wins_and_trailing_slash():
    mounts = storage_intent.storage_mounts(MOUNTS_INTENT, 'nfs', 'gpu-01', ['gpu_nodes'])
    rows = {'filesystems': [
        {'target': '/', 'source': 'overlay', 'fstype': 'overlay'},
        {'target': '/mnt/datasets', 'source': 'other:/x', 'fstype': 'nfs4'},
        {'target': '/mnt/datasets', 'source': '10.0.3.200:/datasets/', 'fstype': 'nfs4'},
    ]}
    assert storage_intent.mount_conflicts(mounts, rows) == []
    rows['filesystems'].append({'target': '/mnt/datasets', 'source': '/dev/sdb1', 'fstype': 'ext4'})
    found = storage_intent.mount_conflicts(mounts, rows)
    assert [(c['mount_point'], c['found_source'], c['found_fstype']) for c in found] == [
        ('/mnt/datasets', '/dev/sdb1', 'ext4')]
    assert storage_intent.mount_conflicts(mounts, {'filesystems': []}) == []


def test_lnet_nets_resolves_by_mac_and_names_what_is_missing():
    lnet = {'gpu_nodes': [{'net': 'o2ib0', 'interfaces': ['fabric', 'fabric2']}],
            'mgmt_nodes': [{'net': 'tcp0', 'interfaces': ['mgmt']}]}
    nets = storage_intent.lnet_nets(lnet, 'gpu-01', ['gpu_nodes'], {'fabric': '0A:AF:02:00:00:65', 'fabric2': None},
                                    {'0a:af:02:00:00:65': 'ens1f0np0'})
    assert nets == [{'net': 'o2ib0', 'interfaces': ['fabric', 'fabric2'], 'netdevs': ['ens1f0np0'],
                     'missing': ['fabric2: node_fabric2_mac is not set'], 'multi_rail': False}]
    nets = storage_intent.lnet_nets(lnet, 'gpu-01', ['gpu_nodes'], {'fabric': '0a:af:02:00:00:99', 'fabric2': '0a:af:02:00:01:99'},
                                    {'0a:af:02:00:00:99': 'eth1', '0a:af:02:00:01:99': 'eth2'})
    assert nets[0]['netdevs'] == ['eth1', 'eth2'] and nets[0]['missing'] == [] and nets[0]['multi_rail'] is True
    missing = storage_intent.lnet_nets(lnet, 'gpu-01', ['gpu_nodes'], {'fabric': '0a:af:02:00:00:99'}, {})
    assert missing[0]['missing'][0] == "fabric: no netdev has node_fabric_mac '0a:af:02:00:00:99'"
    assert storage_intent.lnet_nets(lnet, 'stor-01', ['storage_nodes'], {}, {}) == []


def test_autofs_automount_points_are_neither_mounted_nor_conflicts():
    """After a boot, systemd holds an x-systemd.automount line's mount point with autofs
    (source systemd-1) until the first access; then the filesystem is mounted over it."""
    mounts = storage_intent.storage_mounts(MOUNTS_INTENT, 'nfs', 'gpu-01', ['gpu_nodes'])
    booted = {'filesystems': [{'target': '/', 'source': 'overlay', 'fstype': 'overlay'},
                              {'target': '/mnt/datasets', 'source': 'systemd-1', 'fstype': 'autofs'}]}
    assert storage_intent.mount_conflicts(mounts, booted) == []
    assert sorted(storage_intent.live_mounts(booted)) == ['/']
    booted['filesystems'].append({'target': '/mnt/datasets', 'source': '10.0.3.200:/datasets', 'fstype': 'nfs4'})
    assert storage_intent.mount_conflicts(mounts, booted) == []
    assert sorted(storage_intent.live_mounts(booted)) == ['/', '/mnt/datasets']
