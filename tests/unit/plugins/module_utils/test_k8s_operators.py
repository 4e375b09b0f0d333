# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operators' Helm values and custom resources, their intent's validation, and the kubeconfig and netdev filters."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter.k8s_operators import FilterModule as OperatorFilters
from ansible_collections.aifabric.cluster.plugins.filter.kubeconfig import FilterModule as KubeconfigFilters
from ansible_collections.aifabric.cluster.plugins.filter.netdev import FilterModule as NetdevFilters
from ansible_collections.aifabric.cluster.plugins.module_utils import inventory_check as ic
from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_operators as ko
from ansible_collections.aifabric.cluster.plugins.module_utils import kubernetes_operators_intent as koi

H100 = {'gpu_count': 8, 'gpu_product': 'H100 80GB HBM3', 'gpu_mig_mode': False}
A100_MIG = {'gpu_count': 8, 'gpu_product': 'A100-SXM4-80GB', 'gpu_mig_mode': True}
IMAGES = dict((name, {'repository': 'registry.example/mellanox', 'image': name, 'version': 'v1'})
              for name in ('rdma_shared_device_plugin', 'multus', 'cni_plugins', 'whereabouts'))
NETWORK = {'chart_repo_url': 'http://mirror/charts', 'chart_version': '25.7.0', 'rdma_resource': 'rdma_a',
           'rdma_hca_max': 63, 'rdma_vendors': ['15b3'],
           'secondary_network': {'name': 'roce', 'namespace': 'ml', 'ip_range': '10.232.0.10-10.232.0.99'}}


@pytest.mark.parametrize('runtimes, expected', [
    (['containerd://1.6.20'], False),
    (['containerd://1.7.16', 'containerd://2.1.4'], True),
    (['containerd://1.7.27', 'containerd://1.7.15'], False),    # every GPU node must have it
    (['cri-o://1.30.0'], False),
    ([], False),
])
def test_cdi_follows_the_oldest_containerd(runtimes, expected):
    assert ko.cdi_supported(runtimes) is expected
    assert ko.gpu_operator_values({}, [H100], runtimes)['cdi']['enabled'] is expected


def test_gpu_operator_values_leave_driver_and_toolkit_to_the_host():
    values = ko.gpu_operator_values({}, [H100], ['containerd://1.6.20'], tolerations=[{'key': 'nvidia.com/gpu'}])
    assert values['driver'] == {'enabled': False} and values['toolkit'] == {'enabled': False}
    assert values['dcgm'] == {'enabled': False}
    assert values['dcgmExporter']['env'] == [{'name': 'DCGM_REMOTE_HOSTENGINE_INFO', 'value': 'localhost:5555'}]
    assert values['mig'] == {'strategy': 'single'} and values['migManager'] == {'enabled': False}
    assert values['daemonsets'] == {'tolerations': [{'key': 'nvidia.com/gpu'}]}
    own = ko.gpu_operator_values({}, [H100], [], host_dcgm=False)
    assert own['dcgm'] == {'enabled': True} and 'env' not in own['dcgmExporter']


def test_mig_strategy_from_the_profiles_and_the_intent_values_merged_last():
    assert ko.gpu_operator_values({}, [H100, A100_MIG], [])['mig'] == {'strategy': 'mixed'}
    assert ko.gpu_operator_values({}, [H100], [], mig='none')['mig'] == {'strategy': 'none'}
    values = ko.gpu_operator_values({'values': {'mig': {'strategy': 'single'}, 'dcgmExporter': {'serviceMonitor': {'enabled': True}}}},
                                    [A100_MIG], [])
    assert values['mig'] == {'strategy': 'single'}
    assert values['dcgmExporter']['enabled'] is True and values['dcgmExporter']['serviceMonitor'] == {'enabled': True}
    with pytest.raises(ValueError):
        ko.mig_strategy([H100], 'sometimes')


def test_filter_cdi_override_and_error():
    filters = OperatorFilters().filters()
    assert filters['gpu_operator_values']({}, [H100], ['containerd://1.6.20'], cdi='true')['cdi']['enabled'] is True
    with pytest.raises(AnsibleFilterError, match='mig strategy'):
        filters['gpu_operator_values']({}, [H100], [], mig='sometimes')


def test_nic_cluster_policy_and_macvlan_network():
    policy, network = OperatorFilters().filters()['network_operator_resources'](
        NETWORK, {'gpu-01': 'ens1f0np0', 'gpu-02': 'ens1f0np0'}, IMAGES, '10.232.0.0/24', 9000)
    assert policy['kind'] == 'NicClusterPolicy' and policy['metadata'] == {'name': 'nic-cluster-policy'}
    assert 'ofedDriver' not in policy['spec']
    config = json.loads(policy['spec']['rdmaSharedDevicePlugin']['config'])
    assert config == {'configList': [{'resourceName': 'rdma_a', 'rdmaHcaMax': 63,
                                      'selectors': {'ifNames': ['ens1f0np0'], 'vendors': ['15b3']}}]}
    assert set(policy['spec']['secondaryNetwork']) == {'cniPlugins', 'multus', 'ipamPlugin'}
    assert network['kind'] == 'MacvlanNetwork' and network['metadata'] == {'name': 'roce'}
    assert network['spec']['master'] == 'ens1f0np0' and network['spec']['mtu'] == 9000
    assert network['spec']['networkNamespace'] == 'ml'
    assert json.loads(network['spec']['ipam']) == {'type': 'whereabouts', 'range': '10.232.0.0/24',
                                                   'range_start': '10.232.0.10', 'range_end': '10.232.0.99'}


def test_without_secondary_network_only_the_policy():
    intent = dict(NETWORK)
    del intent['secondary_network']
    out = OperatorFilters().filters()['network_operator_resources'](intent, {'gpu-01': 'eth1'}, IMAGES, '10.232.0.0/24', 9000)
    assert [r['kind'] for r in out] == ['NicClusterPolicy'] and 'secondaryNetwork' not in out[0]['spec']


def test_fabric_netdev_names_must_agree():
    with pytest.raises(AnsibleFilterError, match='eth1 on gpu-01; ib0 on gpu-02, gpu-03'):
        OperatorFilters().filters()['network_operator_resources'](
            NETWORK, {'gpu-01': 'eth1', 'gpu-02': 'ib0', 'gpu-03': 'ib0'}, IMAGES, '10.232.0.0/24', 9000)
    with pytest.raises(ValueError, match='no fabric netdev found on gpu-02'):
        ko.fabric_netdev({'gpu-01': 'eth1', 'gpu-02': ''})


def _check(intent, hosts=None):
    report = ic._Report()  # pylint: disable=protected-access
    hosts = hosts or {'gpu-01': {'node_fabric_ip': '10.232.0.101'}, 'gpu-02': {'node_fabric_ip': '10.232.0.102'}}
    koi.check_operators(intent, hosts, sorted(hosts), {'fabric': '10.232.0.0/24'}, report)
    return report.messages


def test_valid_operator_intent():
    assert _check({'gpu_operator': {'chart_repo_url': 'http://mirror/charts', 'chart_version': 'v25.10.0'},
                   'network_operator': NETWORK}) == []
    assert _check({'gpu_operator': {'chart_path': '/srv/charts/gpu-operator-v25.10.0.tgz'}}) == []
    assert _check({}) == []


@pytest.mark.parametrize('section, message', [
    ({}, "has neither chart_repo_url nor chart_path"),
    ({'chart_repo_url': 'http://m/c', 'chart_path': '/c.tgz', 'chart_version': '1'}, 'has both chart_repo_url and chart_path'),
    ({'chart_repo_url': 'ftp://m/c', 'chart_version': '1'}, "chart_repo_url 'ftp://m/c' is not an http(s) URL"),
    ({'chart_path': 'charts/x.tgz'}, "chart_path 'charts/x.tgz' is not an absolute path"),
    ({'chart_repo_url': 'http://m/c'}, "chart_version 'None' is not a chart version"),
    ({'chart_path': '/c.tgz', 'namespace': 'GPU_Operator'}, "namespace 'GPU_Operator' is not a namespace name"),
    ({'chart_path': '/c.tgz', 'values': 'driver.enabled=false'}, "values 'driver.enabled=false' is not a mapping"),
    ({'chart_path': '/c.tgz', 'valeus': {}}, 'gpu_operator.valeus is not a known key'),
])
def test_gpu_operator_problems(section, message):
    messages = _check({'gpu_operator': section})
    assert len(messages) == 1 and message in messages[0] and messages[0].startswith('all: cluster_kubernetes.gpu_operator')


@pytest.mark.parametrize('change, message', [
    ({'rdma_resource': 'rdma/a'}, "rdma_resource 'rdma/a' is not a resource name"),
    ({'rdma_hca_max': 0}, "rdma_hca_max '0' is not a pod count"),
    ({'rdma_hca_max': True}, "rdma_hca_max 'True' is not a pod count"),
    ({'rdma_vendors': ['15B3']}, "is not a list of PCI vendor ids"),
    ({'secondary_network': {'name': 'roce', 'ip_range': '10.232.0.99-10.232.0.10'}}, "is not an address range"),
    ({'secondary_network': {'name': 'roce', 'ip_range': '10.232.1.10-10.232.1.20'}}, "is outside cluster_networks.fabric"),
    ({'secondary_network': {'name': 'Roce', 'ip_range': '10.232.0.10-10.232.0.20'}}, "name 'Roce' is not a network name"),
    ({'secondary_network': 'roce'}, "secondary_network 'roce' is not a mapping"),
])
def test_network_operator_problems(change, message):
    intent = dict(NETWORK, **change)
    messages = _check({'network_operator': intent})
    assert len(messages) == 1 and message in messages[0], messages


def test_a_pod_range_over_a_node_address_names_the_node():
    intent = dict(NETWORK, secondary_network={'name': 'roce', 'ip_range': '10.232.0.100-10.232.0.150'})
    messages = _check({'network_operator': intent})
    assert messages == [
        "gpu-01: node_fabric_ip '10.232.0.101' is inside cluster_kubernetes.network_operator.secondary_network.ip_range "
        "'10.232.0.100-10.232.0.150'; allowed: a pod address range that takes no node's fabric address",
        "gpu-02: node_fabric_ip '10.232.0.102' is inside cluster_kubernetes.network_operator.secondary_network.ip_range "
        "'10.232.0.100-10.232.0.150'; allowed: a pod address range that takes no node's fabric address"]


ADMIN_CONF = """
apiVersion: v1
kind: Config
clusters:
- name: kubernetes
  cluster: {server: 'https://10.231.0.10:6443', certificate-authority-data: Q0E=}
- name: other
  cluster: {server: 'https://other:6443'}
contexts:
- name: kubernetes-admin@kubernetes
  context: {cluster: kubernetes, user: kubernetes-admin}
current-context: kubernetes-admin@kubernetes
users:
- name: kubernetes-admin
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
"""


def test_kubeconfig_reduced_keeps_the_current_context_under_our_names():
    reduced = KubeconfigFilters().filters()['kubeconfig_reduced'](ADMIN_CONF)
    assert reduced == {
        'clusters': [{'name': 'aifabric-cluster', 'cluster': {'server': 'https://10.231.0.10:6443', 'certificate-authority-data': 'Q0E='}}],
        'users': [{'name': 'aifabric-admin', 'user': {'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ'}}],
        'contexts': [{'name': 'aifabric-admin@aifabric-cluster', 'context': {'cluster': 'aifabric-cluster', 'user': 'aifabric-admin'}}],
        'current-context': 'aifabric-admin@aifabric-cluster'}
    # none of the strings that would mask API results ("v1", "Config", "kubernetes")
    assert 'kubernetes' not in json.dumps(reduced) and '"v1"' not in json.dumps(reduced)


def test_kubeconfig_reduced_errors_name_no_secret():
    with pytest.raises(AnsibleFilterError, match="no context named 'missing'") as err:
        KubeconfigFilters().filters()['kubeconfig_reduced'](ADMIN_CONF.replace('current-context: kubernetes-admin@kubernetes',
                                                                               'current-context: missing'))
    assert 'S0VZ' not in str(err.value)
    with pytest.raises(AnsibleFilterError, match='not a mapping'):
        KubeconfigFilters().filters()['kubeconfig_reduced']('- a list')


def test_netdev_by_mac():
    facts = {'interfaces': ['lo', 'eth0', 'ens1f0np0', 'br-ex'],
             'eth0': {'device': 'eth0', 'macaddress': '0a:af:01:00:00:65'},
             'ens1f0np0': {'device': 'ens1f0np0', 'macaddress': '0a:af:02:00:00:65'},
             'br_ex': {'device': 'br-ex', 'macaddress': '0a:af:09:00:00:01'},
             'lo': {'device': 'lo'}}
    netdev_by_mac = NetdevFilters().filters()['netdev_by_mac']
    assert netdev_by_mac(facts, '0A-AF-02-00-00-65') == 'ens1f0np0'
    assert netdev_by_mac(facts, '0a:af:09:00:00:01') == 'br-ex'
    assert netdev_by_mac(facts, '0a:af:02:00:00:99') == ''
    assert netdev_by_mac(facts, '') == ''
