# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubernetes_intent: one message per problem of cluster_kubernetes / kubernetes_kubelet_version."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils import inventory_check as ic
from ansible_collections.aifabric.cluster.plugins.module_utils import kubernetes_intent as ki

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

NETWORKS = {'mgmt': '10.231.0.0/24', 'fabric': '10.232.0.0/24', 'bmc': '10.233.0.0/24'}
CLUSTER_NETWORKS = {
    'mgmt': {'cidr': '10.231.0.0/24', 'gateway': '10.231.0.1', 'mtu': 1500},
    'fabric': {'cidr': '10.232.0.0/24', 'mtu': 9000},
    'bmc': {'cidr': '10.233.0.0/24', 'gateway': '10.233.0.1', 'mtu': 1500},
}
HW_PROFILES = {'hgx-h100-8gpu': {'gpu_count': 8}, 'mgmt-generic': {'gpu_count': 0}, 'a100-mig': {'gpu_mig_mode': True}}
RULE_PROFILES = ['hgx-h100-8gpu', 'pcie-l40s-4gpu', 'mgmt-generic']
KNOWN = 'a100-mig, hgx-h100-8gpu, mgmt-generic, pcie-l40s-4gpu'
TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
INTENT = {
    'version': '1.34.2',
    'control_plane_endpoint': {'host': 'k8s-api.lab.aifabric.internal', 'port': 8443},
    'vip': '10.231.0.50',
    'ha_mode': 'keepalived',
    'pod_cidr': '10.244.0.0/16',
    'service_cidr': '10.96.0.0/12',
    'cni': 'calico',
    'cni_manifest_url': 'http://10.231.0.3/cni/calico-v3.30.3.yaml',
    'cgroup_driver': 'systemd',
    'gpu_taints': {'hgx-h100-8gpu': [TAINT]},
    'node_labels': {'hgx-h100-8gpu': {'aifabric.io/hw-profile': 'hgx-h100-8gpu'}, 'mgmt-generic': {'aifabric.io/role': ''}},
}
SKEW = '1.31.x-1.34.x (a kubelet is never newer than the API server and at most 3 minors older)'
LABEL_KEY = ("an optional DNS-subdomain prefix and '/', then a name of at most 63 characters: letters, digits, '-', '_', "
             "'.', starting and ending with a letter or digit")
LABEL_VALUE = ("a string of at most 63 characters: letters, digits, '-', '_', '.', starting and ending with a letter "
               "or digit (or empty); quote numbers and booleans")


def inventory(planes=3, gpus=4):
    """(hosts, groups): mgmt-01..03 (control planes) and gpu-01..N (nodes), lab addressing."""
    hosts = {}
    for i in range(1, 4):
        hosts['mgmt-%02d' % i] = {'node_mgmt_ip': '10.231.0.%d' % (10 + i), 'node_bmc_ip': '10.233.0.%d' % (10 + i)}
    for i in range(1, gpus + 1):
        hosts['gpu-%02d' % i] = {'node_mgmt_ip': '10.231.0.%d' % (100 + i), 'node_fabric_ip': '10.232.0.%d' % (100 + i),
                                 'node_bmc_ip': '10.233.0.%d' % (100 + i)}
    groups = {'mgmt_nodes': sorted(h for h in hosts if h.startswith('mgmt')),
              'gpu_nodes': sorted(h for h in hosts if h.startswith('gpu')),
              'kube_control_plane': ['mgmt-%02d' % i for i in range(1, planes + 1)]}
    groups['kube_nodes'] = list(groups['gpu_nodes'])
    groups['cluster'] = sorted(hosts)
    return hosts, groups


def check(intent=None, hosts=None, groups=None, networks=None, profiles=None, **changes):
    """The messages of check_kubernetes; changes: intent keys to set (DELETE removes one)."""
    if hosts is None:
        hosts, default_groups = inventory()
        groups = default_groups if groups is None else groups
    intent = copy.deepcopy(INTENT if intent is None else intent)
    for key, value in changes.items():
        if value is DELETE:
            intent.pop(key, None)
        else:
            intent[key] = value
    for host_vars in hosts.values():
        host_vars.update(cluster_kubernetes=intent, cluster_networks=CLUSTER_NETWORKS, cluster_hw_profiles=HW_PROFILES)
    report = ic._Report()  # pylint: disable=protected-access
    ki.check_kubernetes(hosts, groups, report, set(groups.get('cluster', hosts)),
                        networks=NETWORKS if networks is None else networks,
                        profiles=RULE_PROFILES if profiles is None else profiles)
    return report.messages


DELETE = object()


def one(messages):
    assert len(messages) == 1, messages
    return messages[0]


# --- valid -------------------------------------------------------------------------------

def test_the_intended_kubernetes_is_valid():
    assert check() == []


def test_no_kubernetes_intent_checks_nothing():
    hosts, groups = inventory()
    del groups['kube_control_plane'], groups['kube_nodes']
    report = ic._Report()  # pylint: disable=protected-access
    ki.check_kubernetes(hosts, groups, report, set(hosts), networks=NETWORKS)
    assert report.messages == []


def test_minimal_intent_with_one_control_plane():
    hosts, groups = inventory(planes=1)
    minimal = dict((key, INTENT[key]) for key in ki.REQUIRED)
    minimal['ha_mode'] = 'none'
    minimal['control_plane_endpoint'] = {'host': '10.231.0.11'}
    assert check(minimal, hosts, groups) == []


@pytest.mark.parametrize('version', ['1.30.0', '1.35.11'])
def test_supported_edges(version):
    assert check(version=version) == []


@pytest.mark.parametrize('kubelet', ['1.31.0', '1.34.0', '1.34.9'])
def test_kubelets_within_the_skew_policy(kubelet):
    hosts, groups = inventory()
    hosts['gpu-02']['kubernetes_kubelet_version'] = kubelet
    assert check(hosts=hosts, groups=groups) == []


def test_control_planes_may_also_be_nodes():
    hosts, groups = inventory()
    groups['kube_nodes'] += groups['kube_control_plane']
    assert check(hosts=hosts, groups=groups) == []


# --- the intent itself --------------------------------------------------------------------

def test_not_a_mapping():
    assert one(check(intent=['1.34.2'])) == (
        "all: cluster_kubernetes '['1.34.2']' is not a mapping; allowed: {version, control_plane_endpoint, pod_cidr, "
        "service_cidr, cni, cni_manifest_url, optional vip, ha_mode, cgroup_driver, gpu_taints, node_labels, gpu_operator, network_operator}")


def test_unknown_key():
    assert one(check(colour='blue')) == (
        "all: cluster_kubernetes.colour is not a known key; allowed: version, control_plane_endpoint, vip, ha_mode, "
        "pod_cidr, service_cidr, cni, cni_manifest_url, cgroup_driver, gpu_taints, node_labels, gpu_operator, network_operator")


def test_a_misspelt_key_is_one_problem():
    intent = copy.deepcopy(INTENT)
    intent['verison'] = intent.pop('version')
    assert one(check(intent)).startswith(
        'all: cluster_kubernetes.verison is not a known key (did you mean version?); allowed: version, ')


def test_missing_required_keys():
    assert one(check(version=DELETE, cni=None, cni_manifest_url='')) == (
        'all: cluster_kubernetes is missing version, cni, cni_manifest_url; required: {version, control_plane_endpoint, pod_cidr, '
        'service_cidr, cni, cni_manifest_url, optional vip, ha_mode, cgroup_driver, gpu_taints, node_labels, gpu_operator, network_operator}')


@pytest.mark.parametrize('version', ['1.34', 1.34, 'v1.34.2', '1.34.2-rc.1', '1.34.x', 134])
def test_version_format(version):
    assert one(check(version=version)) == (
        "all: cluster_kubernetes.version '%s' is not a version X.Y.Z; allowed: a quoted X.Y.Z such as \"1.34.2\", "
        "minor 1.30-1.35" % version)


@pytest.mark.parametrize('version, minor', [('1.29.4', '1.29'), ('1.36.0', '1.36'), ('2.0.0', '2.0')])
def test_version_supported(version, minor):
    assert one(check(version=version)) == (
        "all: cluster_kubernetes.version '%s' is not a supported release (minor %s); allowed: 1.30-1.35 (kubeadm, "
        "kubelet and kubectl of one X.Y.Z)" % (version, minor))


def test_supported_range_constant():
    assert ki.SUPPORTED == (30, 35)


# --- version skew -------------------------------------------------------------------------

def kubelet(host, value, **changes):
    hosts, groups = inventory()
    hosts[host]['kubernetes_kubelet_version'] = value
    return check(hosts=hosts, groups=groups, **changes)


def test_kubelet_newer_than_the_api_server():
    assert one(kubelet('gpu-02', '1.35.0')) == (
        "gpu-02: kubernetes_kubelet_version '1.35.0' is newer than the API server (cluster_kubernetes.version "
        "'1.34.2'); allowed: " + SKEW)


def test_kubelet_too_old():
    assert one(kubelet('mgmt-02', '1.30.5')) == (
        "mgmt-02: kubernetes_kubelet_version '1.30.5' is 4 minors older than the API server (cluster_kubernetes.version "
        "'1.34.2'); allowed: " + SKEW)


def test_kubelet_not_a_version():
    assert one(kubelet('gpu-01', '1.33')) == (
        "gpu-01: kubernetes_kubelet_version '1.33' is not a version X.Y.Z; allowed: unset (cluster_kubernetes.version "
        "'1.34.2' applies), or " + SKEW)


def test_kubelet_of_a_host_outside_kubernetes_is_not_checked():
    hosts, groups = inventory()
    groups['kube_nodes'].remove('gpu-04')
    hosts['gpu-04']['kubernetes_kubelet_version'] = '1.20.0'
    assert check(hosts=hosts, groups=groups) == []


def test_kubelet_skew_waits_for_a_valid_version():
    assert one(kubelet('gpu-01', '1.35.0', version='1.34')).startswith("all: cluster_kubernetes.version '1.34'")


# --- CIDRs --------------------------------------------------------------------------------

@pytest.mark.parametrize('value', ['10.244.0.0', '10.244.0/16', '10.244.0.0/33', 'fd00::/129', 10, '10.0.0.0/8/1'])
def test_pod_cidr_not_a_cidr(value):
    assert one(check(pod_cidr=value)) == (
        "all: cluster_kubernetes.pod_cidr '%s' is not a CIDR; allowed: a network address with prefix length, such as "
        "10.244.0.0/16" % value)


def test_service_cidr_host_bits():
    assert one(check(service_cidr='10.96.0.1/12')) == (
        "all: cluster_kubernetes.service_cidr '10.96.0.1/12' has host bits set; allowed: the network address, 10.96.0.0/12")


def test_pod_and_service_ranges_overlap():
    assert one(check(service_cidr='10.244.128.0/20')) == (
        "all: cluster_kubernetes.service_cidr '10.244.128.0/20' overlaps cluster_kubernetes.pod_cidr '10.244.0.0/16'; "
        "allowed: pod and service ranges that do not overlap")


def test_pod_range_overlaps_a_cluster_network():
    assert one(check(pod_cidr='10.232.0.0/16')) == (
        "all: cluster_kubernetes.pod_cidr '10.232.0.0/16' overlaps cluster_networks.fabric '10.232.0.0/24'; allowed: a "
        "range outside every cluster network (pod and service addresses are routed inside the cluster only)")


def test_a_range_over_several_networks_names_each():
    messages = check(service_cidr='10.224.0.0/11', pod_cidr='172.16.0.0/16')
    assert [m.split(' overlaps ')[1].split(';')[0] for m in messages] == [
        "cluster_networks.bmc '10.233.0.0/24'", "cluster_networks.fabric '10.232.0.0/24'",
        "cluster_networks.mgmt '10.231.0.0/24'"]


def test_networks_given_as_names_only_are_not_overlap_checked():
    assert check(pod_cidr='10.232.0.0/16', networks=['mgmt', 'fabric', 'bmc']) == []


# --- endpoint, HA and VIP ------------------------------------------------------------------

@pytest.mark.parametrize('endpoint, message', [
    ('k8s-api:6443', "all: cluster_kubernetes.control_plane_endpoint 'k8s-api:6443' is not a mapping; allowed: {host: a "
                     "DNS name or IP address, port: an integer 1-65535 (default 6443)}"),
    ({'host': 'K8s_API.example', 'port': 6443},
     "all: cluster_kubernetes.control_plane_endpoint.host 'K8s_API.example' is not a DNS name or IP address; allowed: a "
     "lowercase DNS name such as k8s-api.example.internal, or an IP address"),
    ({'host': '10.231.0', 'port': 6443},
     "all: cluster_kubernetes.control_plane_endpoint.host '10.231.0' is not a DNS name or IP address; allowed: a "
     "lowercase DNS name such as k8s-api.example.internal, or an IP address"),
    ({'port': 6443}, "all: cluster_kubernetes.control_plane_endpoint.host is not defined; required: a DNS name or IP "
                     "address of the API server"),
    ({'host': 'k8s-api.example.internal', 'port': 0},
     "all: cluster_kubernetes.control_plane_endpoint.port '0' is not a port; allowed: an integer 1-65535, unquoted "
     "(default 6443)"),
    ({'host': 'k8s-api.example.internal', 'port': '6443'},
     "all: cluster_kubernetes.control_plane_endpoint.port '6443' is not a port; allowed: an integer 1-65535, unquoted "
     "(default 6443)"),
    ({'host': 'k8s-api.example.internal', 'prot': 6443},
     "all: cluster_kubernetes.control_plane_endpoint.prot is not a known key (did you mean port?); allowed: host, port"),
])
def test_endpoint(endpoint, message):
    assert one(check(control_plane_endpoint=endpoint)) == message


def test_endpoint_ip_must_be_the_vip_with_keepalived():
    assert one(check(control_plane_endpoint={'host': '10.231.0.51', 'port': 8443})) == (
        "all: cluster_kubernetes.control_plane_endpoint.host '10.231.0.51' is not the vip '10.231.0.50'; allowed: the "
        "vip, or a DNS name that resolves to it (with ha_mode keepalived the API server is reached at the VIP)")
    assert check(control_plane_endpoint={'host': '10.231.0.50', 'port': 8443}) == []


@pytest.mark.parametrize('endpoint', [{'host': '10.231.0.50', 'port': 6443}, {'host': '10.231.0.50'}])
def test_keepalived_endpoint_is_not_the_api_servers_port(endpoint):
    assert one(check(control_plane_endpoint=endpoint)) == (
        "all: cluster_kubernetes.control_plane_endpoint.port 6443 is the API servers' own port on the control planes, "
        "where haproxy listens with ha_mode 'keepalived'; allowed: another port (8443 in the kubeadm HA guide)")
    # an external load balancer or one API server may well be reached at 6443
    assert check(control_plane_endpoint=endpoint, ha_mode='external', vip=DELETE) == []


def test_ha_mode_unknown():
    assert one(check(ha_mode='kube-vip')) == (
        "all: cluster_kubernetes.ha_mode 'kube-vip' is not supported; allowed: keepalived, external, none")


def test_ha_mode_none_with_three_control_planes():
    assert one(check(ha_mode='none', vip=DELETE)) == (
        "all: cluster_kubernetes.ha_mode 'none' leaves 3 control planes (mgmt-01, mgmt-02, mgmt-03) without a load "
        "balancer; allowed: keepalived or external, or one host in kube_control_plane")


def test_ha_mode_external_needs_no_vip():
    assert check(ha_mode='external', vip=DELETE) == []
    assert one(check(ha_mode='external')) == (
        "all: cluster_kubernetes.vip '10.231.0.50' is set while ha_mode is 'external'; allowed: unset, or ha_mode "
        "keepalived (the VIP keepalived holds)")


def test_keepalived_is_the_default_and_needs_a_vip():
    assert one(check(ha_mode=DELETE, vip=DELETE)) == (
        "all: cluster_kubernetes.vip is not defined; required with ha_mode 'keepalived': a free address in "
        "cluster_networks.mgmt (10.231.0.0/24)")


@pytest.mark.parametrize('vip, problem', [
    ('10.231.0.500', "is not an IP address"),
    ('10.231.1.50', "is outside cluster_networks.mgmt 10.231.0.0/24"),
    ('10.231.0.255', "is not a host address of cluster_networks.mgmt 10.231.0.0/24"),
])
def test_vip_placement(vip, problem):
    message = one(check(vip=vip))
    assert message.startswith("all: cluster_kubernetes.vip '%s' %s; allowed: a free address in cluster_networks.mgmt "
                              "(10.231.0.0/24)" % (vip, problem)), message


def test_vip_is_a_host_address():
    assert one(check(vip='10.231.0.12')) == (
        "all: cluster_kubernetes.vip '10.231.0.12' is also the address of mgmt-02 (node_mgmt_ip); allowed: a free "
        "address in cluster_networks.mgmt (10.231.0.0/24) that no host has")


def test_vip_is_the_gateway():
    assert one(check(vip='10.231.0.1')) == (
        "all: cluster_kubernetes.vip '10.231.0.1' is the gateway of cluster_networks.mgmt; allowed: a free address in "
        "cluster_networks.mgmt (10.231.0.0/24) that is no gateway")


# --- CNI and cgroup driver -----------------------------------------------------------------

def test_cni_and_cgroup_driver():
    assert one(check(cni='flannel')) == "all: cluster_kubernetes.cni 'flannel' is not supported; allowed: calico, cilium"
    assert one(check(cgroup_driver='cgroupsfs')) == (
        "all: cluster_kubernetes.cgroup_driver 'cgroupsfs' is not supported; allowed: systemd, cgroupfs")
    assert check(cni='cilium', cgroup_driver='cgroupfs') == []


@pytest.mark.parametrize('url', ['calico.yaml', 'ftp://mirror/cni/calico.yaml', ['http://mirror/calico.yaml'], 'http:// x'])
def test_cni_manifest_url(url):
    assert one(check(cni_manifest_url=url)) == (
        "all: cluster_kubernetes.cni_manifest_url '%s' is not an http(s) URL; allowed: the URL of the CNI's manifest on the "
        "site mirror, such as http://mirror.example/cni/calico-v3.30.3.yaml" % (url,))
    assert check(cni_manifest_url='https://mirror.example.internal:8443/cni/calico.yaml') == []


# --- taints and labels per hardware profile -------------------------------------------------

def test_taints_of_an_unknown_profile():
    assert one(check(gpu_taints={'hgx-h100-8gpus': [TAINT]})) == (
        "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpus is not a known hardware profile; allowed: " + KNOWN)


def test_labels_of_an_unknown_profile():
    assert one(check(node_labels={'dgx': {'a': 'b'}})) == (
        "all: cluster_kubernetes.node_labels.dgx is not a known hardware profile; allowed: " + KNOWN)


def test_profiles_of_cluster_hw_profiles_or_the_rules():
    assert check(gpu_taints={'a100-mig': [TAINT], 'pcie-l40s-4gpu': [TAINT]}) == []


@pytest.mark.parametrize('taint, message', [
    (dict(TAINT, effect='NoExec'), "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].effect 'NoExec' is not a taint "
                                   "effect; allowed: NoSchedule, PreferNoSchedule, NoExecute"),
    ({'key': 'nvidia.com/gpu'}, "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].effect is not defined; required: "
                                "one of NoSchedule, PreferNoSchedule, NoExecute"),
    (dict(TAINT, key='nvidia.com/gpu!'), "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].key 'nvidia.com/gpu!' "
                                         "has a name 'gpu!' that is not a label name; allowed: " + LABEL_KEY),
    (dict(TAINT, key='NVIDIA.com/gpu'), "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].key 'NVIDIA.com/gpu' has "
                                        "a prefix 'NVIDIA.com' that is not a DNS subdomain; allowed: " + LABEL_KEY),
    (dict(TAINT, value=True), "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].value 'true' is not a taint value; "
                              "allowed: " + LABEL_VALUE),
    (dict(TAINT, operator='Exists'), "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0].operator is not a known key; "
                                     "allowed: key, value, effect"),
    ('nvidia.com/gpu=present:NoSchedule', "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0] "
                                          "'nvidia.com/gpu=present:NoSchedule' is not a mapping; allowed: {key, value "
                                          "(optional), effect}"),
])
def test_taint(taint, message):
    assert one(check(gpu_taints={'hgx-h100-8gpu': [taint]})) == message


def test_key_only_taint():
    assert check(gpu_taints={'hgx-h100-8gpu': [{'key': 'nvidia.com/gpu', 'effect': 'NoSchedule'}]}) == []


def test_duplicate_taint():
    assert one(check(gpu_taints={'hgx-h100-8gpu': [TAINT, dict(TAINT, value='yes')]})) == (
        "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu[1] 'nvidia.com/gpu:NoSchedule' repeats "
        "cluster_kubernetes.gpu_taints.hgx-h100-8gpu[0]; allowed: one taint per key and effect (the API server refuses "
        "duplicates)")
    assert check(gpu_taints={'hgx-h100-8gpu': [TAINT, dict(TAINT, effect='NoExecute')]}) == []


def test_taints_not_a_list():
    assert one(check(gpu_taints={'hgx-h100-8gpu': TAINT})).startswith(
        "all: cluster_kubernetes.gpu_taints.hgx-h100-8gpu '")


@pytest.mark.parametrize('key, why', [
    ('nvidia.com/gpu.product', 'is owned by GPU Feature Discovery, which sets it from the hardware'),
    ('nvidia.com/cuda.driver.major', 'is owned by GPU Feature Discovery, which sets it from the driver'),
    ('node-role.kubernetes.io/worker', 'is set by the roles from kube_control_plane and kube_nodes'),
])
def test_refused_labels(key, why):
    assert one(check(node_labels={'hgx-h100-8gpu': {key: 'x'}})) == (
        "all: cluster_kubernetes.node_labels.hgx-h100-8gpu key '%s' is refused: the label %s; allowed: a label of your "
        "own prefix, such as aifabric.io/rack" % (key, why))


def test_label_key_and_value_syntax():
    assert one(check(node_labels={'hgx-h100-8gpu': {'rack row': 'r1'}})) == (
        "all: cluster_kubernetes.node_labels.hgx-h100-8gpu key 'rack row' has a name 'rack row' that is not a label "
        "name; allowed: " + LABEL_KEY)
    assert one(check(node_labels={'hgx-h100-8gpu': {'aifabric.io/rack': 12}})) == (
        "all: cluster_kubernetes.node_labels.hgx-h100-8gpu.aifabric.io/rack '12' is not a label value; allowed: "
        + LABEL_VALUE)
    assert one(check(node_labels={'hgx-h100-8gpu': {'aifabric.io/rack': 'r' * 64}})).endswith(LABEL_VALUE)
    assert check(node_labels={'hgx-h100-8gpu': {'aifabric.io/rack': 'r12', 'nvidia.com/gpu': 'x', 'zone': 'a.b_c-1'}}) == []


# --- the groups --------------------------------------------------------------------------

def test_control_plane_group_missing():
    hosts, groups = inventory()
    del groups['kube_control_plane']
    assert one(check(hosts=hosts, groups=groups)) == (
        'all: kube_control_plane is not defined or has no hosts; required when cluster_kubernetes is set: a group of '
        'the control-plane hosts (1, 3 or 5; stacked etcd)')


def test_node_group_empty():
    hosts, groups = inventory()
    groups['kube_nodes'] = []
    assert one(check(hosts=hosts, groups=groups)) == (
        'all: kube_nodes is not defined or has no hosts; required when cluster_kubernetes is set: a group of the hosts '
        'that join as Kubernetes nodes, such as gpu_nodes')


def test_even_control_plane_count():
    hosts, groups = inventory(planes=2)
    assert one(check(hosts=hosts, groups=groups)) == (
        "all: kube_control_plane 'mgmt-01, mgmt-02' has 2 hosts; allowed: an odd number, 1 or 3 or more (stacked etcd "
        "keeps quorum with a majority: an even count adds a failure point, not tolerance)")


def test_members_outside_the_cluster():
    hosts, groups = inventory()
    groups['kube_nodes'].append('ext-01')
    assert one(check(hosts=hosts, groups=groups)) == (
        "all: kube_nodes 'ext-01' is not a host of the cluster group; allowed: hosts of the cluster group and its node "
        "groups (the hosts the roles manage)")


# --- through check_inventory and the filter's variables --------------------------------------

GROUP = {
    'cluster_name': 'aifabric-lab', 'cluster_domain': 'lab.aifabric.internal', 'cluster_os': 'debian-12',
    'cluster_networks': CLUSTER_NETWORKS, 'cluster_ntp_servers': ['10.231.0.10'],
    'cluster_apt_repositories': [{'name': 'lab', 'uris': 'http://10.231.0.3/debian', 'suites': 'bookworm',
                                  'components': 'main', 'key_url': 'http://10.231.0.3/lab.asc'}],
    'cluster_bmc_username': 'admin', 'cluster_bmc_password': 'x',
    'cluster_fabric_qos': {
        'roce_dscp': 26, 'cnp_dscp': 48, 'lossless_priority': 3, 'cnp_priority': 6, 'switch_mtu': 9216,
        'ecn': {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7},
        'pfc_watchdog': {'enabled': True, 'interval_ms': 200, 'restore_ms': 400}},
}


def full_inventory(intent=True):
    hosts, groups = inventory()
    for name, host_vars in hosts.items():
        index = int(host_vars['node_mgmt_ip'].rsplit('.', 1)[1])
        host_vars.update(GROUP, node_hw_profile='mgmt-generic' if name.startswith('mgmt') else 'hgx-h100-8gpu',
                         node_mgmt_mac='0a:af:01:00:00:%02x' % index)
        if 'node_fabric_ip' in host_vars:
            host_vars['node_fabric_mac'] = '0a:af:02:00:00:%02x' % index
        if intent:
            host_vars['cluster_kubernetes'] = copy.deepcopy(INTENT)
    groups.update(storage_nodes=[], switches=[], leaf_switches=[], spine_switches=[])
    return hosts, groups


def test_check_inventory_runs_the_kubernetes_checks():
    hosts, groups = full_inventory()
    assert ic.check_inventory(hosts, groups) == []
    hosts['gpu-03']['kubernetes_kubelet_version'] = '1.35.1'
    for host_vars in hosts.values():
        host_vars['cluster_kubernetes'] = dict(INTENT, cni='weave')
    assert ic.check_inventory(hosts, groups) == [
        "gpu-03: kubernetes_kubelet_version '1.35.1' is newer than the API server (cluster_kubernetes.version "
        "'1.34.2'); allowed: " + SKEW,
        "all: cluster_kubernetes.cni 'weave' is not supported; allowed: calico, cilium"]


def test_check_inventory_without_the_intent_ignores_the_groups():
    hosts, groups = full_inventory(intent=False)
    del groups['kube_control_plane']
    assert ic.check_inventory(hosts, groups) == []


def test_check_inventory_overlap_with_the_inventory_networks():
    hosts, groups = full_inventory()
    for host_vars in hosts.values():
        host_vars['cluster_kubernetes'] = dict(INTENT, service_cidr='10.233.0.0/16')
    assert ic.check_inventory(hosts, groups) == [
        "all: cluster_kubernetes.service_cidr '10.233.0.0/16' overlaps cluster_networks.bmc '10.233.0.0/24'; allowed: a "
        "range outside every cluster network (pod and service addresses are routed inside the cluster only)"]


def test_check_inventory_profiles_of_the_rules():
    hosts, groups = full_inventory()
    for host_vars in hosts.values():
        host_vars['cluster_kubernetes'] = dict(INTENT, gpu_taints={'dgx-h100': [TAINT], 'dgx-b200': [TAINT]})
    message = one(ic.check_inventory(hosts, groups))
    assert message.startswith('all: cluster_kubernetes.gpu_taints.dgx-b200 is not a known hardware profile; allowed: ')
    assert 'dgx-h100' in message


def test_template_errors():
    hosts, groups = full_inventory()
    errors = {'gpu-01': {'cluster_kubernetes': "'k8s_version' is undefined"},
              'gpu-02': {'cluster_kubernetes': "'k8s_version' is undefined", 'kubernetes_kubelet_version': "'v' is undefined"}}
    for host in errors:
        del hosts[host]['cluster_kubernetes']
    assert ic.check_inventory(hosts, groups, errors=errors) == [
        "all: cluster_kubernetes cannot be templated: 'k8s_version' is undefined; allowed: a value whose variables are "
        "all defined",
        "gpu-02: kubernetes_kubelet_version cannot be templated: 'v' is undefined; allowed: a value whose variables are "
        "all defined"]


def test_checked_vars_include_the_kubernetes_intent():
    assert 'cluster_kubernetes' in ic.CHECKED_VARS and 'kubernetes_kubelet_version' in ic.CHECKED_VARS


# --- the lab and example inventories ----------------------------------------------------------

def _load_yaml(path):
    class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        pass
    Loader.add_constructor('!vault', lambda loader, node: 'vaulted')
    with open(path) as handle:
        return yaml.load(handle, Loader=Loader) or {}  # nosec - a SafeLoader


def _group_vars(inventory_dir, group):
    out = {}
    for path in sorted(glob.glob(os.path.join(inventory_dir, 'group_vars', group + '.yml'))
                       + glob.glob(os.path.join(inventory_dir, 'group_vars', group, '*.yml'))):
        out.update(_load_yaml(path))
    return out


def _checked(host_vars):
    return dict((var, value) for var, value in host_vars.items() if var in ic.CHECKED_VARS)


def _flatten(data):
    """{group: [hosts]} of an ansible-inventory --list JSON (children included)."""
    def hosts_of(name, seen=()):
        group = data.get(name) or {}
        found = list(group.get('hosts') or [])
        for child in group.get('children') or []:
            if child not in seen:
                found += hosts_of(child, seen + (name,))
        return sorted(set(found))
    return dict((name, hosts_of(name)) for name in data if name != '_meta')


def lab_inventory(nodes, control_planes=1):
    script = os.path.join(ROOT, 'lab', 'inventory.py')
    out = subprocess.run([sys.executable, script, '--list'],
                         env=dict(os.environ, AIFABRIC_LAB_NODES=str(nodes), AIFABRIC_LAB_CONTROL_PLANES=str(control_planes)),
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    groups = _flatten(data)
    inventory_dir = os.path.join(ROOT, 'inventories', 'lab')
    hosts = {}
    for host, own in data['_meta']['hostvars'].items():
        host_vars = _group_vars(inventory_dir, 'all')
        for group in sorted(g for g, members in groups.items() if host in members and g != 'all'):
            host_vars.update(_group_vars(inventory_dir, group))
        host_vars.update(own)
        hosts[host] = _checked(host_vars)
    return hosts, groups


@pytest.mark.parametrize('nodes', [1, 4, 9])
def test_the_lab_inventory_is_valid(nodes):
    hosts, groups = lab_inventory(nodes)
    assert groups['kube_control_plane'] == ['mgmt-01'] and groups['kube_nodes'] == groups['gpu_nodes']
    # one control plane behind the VIP that keepalived holds on it (haproxy at 8443, the API server at 6443)
    intent = hosts['mgmt-01']['cluster_kubernetes']
    assert intent['ha_mode'] == 'keepalived' and intent['control_plane_endpoint'] == {'host': intent['vip'], 'port': 8443}
    assert ic.check_inventory(hosts, groups) == []


@pytest.mark.parametrize('nodes', [1, 4])
def test_the_lab_with_three_control_planes_is_valid(nodes):
    """AIFABRIC_LAB_CONTROL_PLANES=3: mgmt-01 to mgmt-03 the control planes (as the example's), each its own
    management and BMC address, none of them the VIP; mgmt-01 still the PXE server."""
    hosts, groups = lab_inventory(nodes, 3)
    assert groups['kube_control_plane'] == groups['mgmt_nodes'] == ['mgmt-01', 'mgmt-02', 'mgmt-03']
    assert groups['pxe_servers'] == ['mgmt-01'] and groups['kube_nodes'] == groups['gpu_nodes']
    addresses = [hosts[h][var] for h in hosts for var in ('node_mgmt_ip', 'node_bmc_ip') if var in hosts[h]]
    assert len(addresses) == len(set(addresses)) and hosts['mgmt-01']['cluster_kubernetes']['vip'] not in addresses
    assert ic.check_inventory(hosts, groups) == []


@pytest.mark.parametrize('count', ['2', '5', 'three'])
def test_the_lab_refuses_a_control_plane_count_it_does_not_build(count):
    script = os.path.join(ROOT, 'lab', 'inventory.py')
    proc = subprocess.run([sys.executable, script, '--list'], env=dict(os.environ, AIFABRIC_LAB_CONTROL_PLANES=count),
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and proc.stderr.strip() == (
        "AIFABRIC_LAB_CONTROL_PLANES must be 1 or 3 (an odd count of kubeadm control planes the lab builds), got %r" % count)


def test_the_example_inventory_is_valid():
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    inventory_dir = os.path.join(ROOT, 'inventories', 'example')
    manager = InventoryManager(loader=DataLoader(), sources=[os.path.join(inventory_dir, 'hosts.yml')])
    groups = dict((name, sorted(h.name for h in group.get_hosts())) for name, group in manager.groups.items())
    hosts = {}
    for host in manager.get_hosts():
        host_vars = _group_vars(inventory_dir, 'all')
        for group in sorted(g.name for g in host.get_groups() if g.name != 'all'):
            host_vars.update(_group_vars(inventory_dir, group))
        path = os.path.join(inventory_dir, 'host_vars', host.name + '.yml')
        if os.path.exists(path):
            host_vars.update(_load_yaml(path))
        hosts[host.name] = _checked(host_vars)
    assert groups['kube_control_plane'] == ['mgmt-01', 'mgmt-02', 'mgmt-03']
    assert groups['kube_nodes'] == groups['gpu_nodes'] and len(groups['kube_nodes']) == 64
    assert hosts['mgmt-01']['cluster_kubernetes']['ha_mode'] == 'keepalived'
    assert ic.check_inventory(hosts, groups) == []
    # the same variable names in both inventories
    lab = _load_yaml(os.path.join(ROOT, 'inventories', 'lab', 'group_vars', 'all', 'kubernetes.yml'))
    example = _load_yaml(os.path.join(inventory_dir, 'group_vars', 'all', 'kubernetes.yml'))
    assert sorted(lab) == sorted(example) == ['cluster_helm_binary', 'cluster_kubernetes', 'kubernetes_control_plane_fetch_kubeconfig',
                                              'kubernetes_control_plane_kubeconfig_dest']
    assert set(lab['cluster_kubernetes']) <= set(example['cluster_kubernetes'])


# the live check a converge makes before it installs a kubelet (kubernetes_version_problems)
@pytest.mark.parametrize('installed, server, in_cluster', [
    (None, None, False),                       # a new node, no cluster yet
    ('', 'v1.34.2', False),                    # a new node joining a cluster at the version
    ('1.34.2-1.1', 'v1.34.2', True),           # converged: nothing moves
    ('1.34.2-1.1-0aifabric1', 'v1.35.0', True),  # a worker behind a control plane already upgraded
    ('1.33.1-1.1', 'v1.34.2', False),          # installed, not joined: apt may move it
])
def test_live_version_allowed(installed, server, in_cluster):
    assert not ki.live_version_problems('gpu-node-01', '1.34.2', installed, server, in_cluster)


def test_a_converge_does_not_upgrade_a_node_in_the_cluster():
    problems = ki.live_version_problems('gpu-node-01', '1.35.0', '1.34.2-1.1', 'v1.35.0', True)
    assert len(problems) == 1
    assert problems[0].startswith("gpu-node-01: kubelet 1.34.2 runs here and cluster_kubernetes.version asks 1.35.0")
    assert 'playbooks/kubernetes_upgrade.yml' in problems[0]


def test_a_downgrade_is_refused():
    (problem,) = ki.live_version_problems('cp-01', '1.34.2', '1.35.0-1.1', 'v1.35.0', True, 'kubernetes_kubelet_version')
    assert 'kubelet 1.35.0 runs here and kubernetes_kubelet_version asks 1.34.2: downgrades are not supported' in problem


@pytest.mark.parametrize('target', ['1.35.0', '1.34.3'])
def test_a_kubelet_newer_than_the_api_server(target):
    problems = ki.live_version_problems('gpu-node-02', target, None, 'v1.34.2', False)
    assert problems == ["gpu-node-02: cluster_kubernetes.version '%s' is newer than the API server (v1.34.2): a kubelet is "
                        "never newer than the API server; allowed: 1.34.2 or older (at most 3 minors); upgrade the control "
                        "plane first with playbooks/kubernetes_upgrade.yml" % target]


def test_both_problems_of_an_upgraded_intent_on_a_joined_node():
    problems = ki.live_version_problems('gpu-node-01', '1.35.0', '1.34.2-1.1', 'v1.34.2', True)
    assert len(problems) == 2


def test_a_kubelet_too_old_for_the_api_server():
    (problem,) = ki.live_version_problems('n1', '1.30.4', None, 'v1.34.2')
    assert "'1.30.4' is 4 minors older than the API server (v1.34.2); allowed: 1.31.x-1.34.2" in problem


@pytest.mark.parametrize('value, expected', [('v1.34.2', (1, 34, 2)), ('1.35.0-1.1', (1, 35, 0)),
                                             ('v1.34.2+k3s1', (1, 34, 2)), ('', None), (None, None), ('x', None)])
def test_running_version(value, expected):
    assert ki.running_version(value) == expected


def test_an_invalid_target_is_preflights_to_report():
    assert ki.live_version_problems('n1', '1.34', '1.34.2-1.1', 'v1.34.2', True) == []


# the container runtime's inputs that would stop a kubelet
def test_a_cgroup_driver_mismatch_names_the_host():
    hosts, groups = inventory()
    hosts['gpu-03']['container_runtime_cgroup_driver'] = 'cgroupfs'
    hosts['gpu-04']['container_runtime_cgroup_driver'] = 'systemd'  # the intent's: fine
    assert one(check(hosts=hosts, groups=groups)) == (
        "gpu-03: container_runtime_cgroup_driver 'cgroupfs' differs from cluster_kubernetes.cgroup_driver 'systemd', "
        "the kubelet's: the kubelet refuses to start on a cgroup-driver mismatch with containerd; allowed: 'systemd', "
        "or unset (it follows the intent)")


def test_a_cgroupfs_intent_takes_a_cgroupfs_runtime():
    hosts, groups = inventory()
    hosts['gpu-03']['container_runtime_cgroup_driver'] = 'cgroupfs'
    assert check(hosts=hosts, groups=groups, cgroup_driver='cgroupfs') == []


@pytest.mark.parametrize('value, shown', [(False, 'false'), ('no', 'no')])
def test_swap_kept_on_names_the_host(value, shown):
    hosts, groups = inventory()
    hosts['mgmt-02']['container_runtime_disable_swap'] = value
    hosts['gpu-01']['container_runtime_disable_swap'] = True
    assert one(check(hosts=hosts, groups=groups)) == (
        "mgmt-02: container_runtime_disable_swap '%s' keeps swap on, and the kubelet refuses to start with swap on; "
        "allowed: true (swap off, and kept out of /etc/fstab), or unset" % shown)


def test_hosts_outside_kubernetes_may_keep_swap():
    hosts, groups = inventory()
    groups['kube_nodes'].remove('gpu-04')
    hosts['gpu-04']['container_runtime_disable_swap'] = False
    assert check(hosts=hosts, groups=groups) == []


@pytest.mark.parametrize('target, server, message', [
    ('1.35.0', 'v1.34.2', None),
    ('1.34.3', 'v1.34.2', None),
    ('1.34.2', 'v1.34.2', None),   # at the version already: nothing to do, no problem
    ('1.34.1', 'v1.34.2', 'mgmt-01: cluster_kubernetes.version 1.34.1 is older than the running 1.34.2: downgrades are not '
                          'supported; allowed: 1.34.2 or the next minor'),
    ('1.36.0', 'v1.34.2', 'mgmt-01: cluster_kubernetes.version 1.36.0 skips a minor: the cluster runs 1.34.2 and kubeadm '
                          'upgrades one minor at a time; allowed: up to 1.35.x'),
    ('1.35.0', None, 'mgmt-01: no API server answers at the control-plane endpoint: there is no cluster to upgrade '
                     '(playbooks/kubernetes.yml sets one up)'),
    ('1.35', 'v1.34.2', "mgmt-01: cluster_kubernetes.version '1.35' is not a version X.Y.Z"),
])
def test_upgrade_target_problems(target, server, message):
    problems = ki.upgrade_target_problems('mgmt-01', target, server)
    if message is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(message), problems
