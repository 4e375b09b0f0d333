# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU node readiness filters (plugins/filter/k8s_gpu_readiness.py), thin wrappers of plugins/module_utils/k8s_gpu_readiness.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import inspect
import os

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.aifabric.cluster.plugins.filter import k8s_gpu_readiness as filters
from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_gpu_readiness as kr
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FILTERS = filters.FilterModule().filters()
NAMES = ['k8s_gpu_node_readiness', 'k8s_gpu_policy_problems', 'k8s_gpu_readiness_markdown', 'k8s_gpu_smoke_jobs',
         'k8s_gpu_smoke_verdicts']
POSITIONAL = {'k8s_gpu_node_readiness': 'hw_profiles, expected', 'k8s_gpu_policy_problems': 'nic_cluster_policies, rdma_expected',
              'k8s_gpu_readiness_markdown': 'problems', 'k8s_gpu_smoke_jobs': 'namespace, image, command',
              'k8s_gpu_smoke_verdicts': 'jobs, pods'}
HW_PROFILES = {'hgx-h100-8gpu': {'gpu_count': 8, 'gpu_product': 'H100 80GB HBM3'}, 'mgmt-generic': {'gpu_count': 0}}
TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
EXPECTED = {'gpu-01': {'profile': 'hgx-h100-8gpu', 'rdma': True, 'taints': [TAINT]}}
NODE = {
    'apiVersion': 'v1', 'kind': 'Node',
    'metadata': {'name': 'gpu-01', 'labels': {
        'kubernetes.io/hostname': 'gpu-01', 'feature.node.kubernetes.io/pci-10de.present': 'true',
        'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'nvidia.com/gpu.count': '8',
        'nvidia.com/gpu.memory': '81559', 'nvidia.com/gpu.family': 'hopper', 'nvidia.com/gpu.compute.major': '9',
        'nvidia.com/gpu.compute.minor': '0', 'nvidia.com/cuda.driver.major': '580', 'nvidia.com/cuda.driver.minor': '95',
        'nvidia.com/cuda.driver.rev': '05', 'nvidia.com/cuda.driver-version.full': '580.95.05'}},
    'spec': {'taints': [TAINT]},
    'status': {'capacity': {'nvidia.com/gpu': '8', 'rdma/rdma_shared_device_a': '63'},
               'allocatable': {'nvidia.com/gpu': '8', 'rdma/rdma_shared_device_a': '63'},
               'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady'}]},
}
POLICY = {'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': 'cluster-policy'},
          'status': {'state': 'ready', 'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'Reconciled'}]}}


def doc_of(name):
    with open(os.path.join(ROOT, 'plugins', 'filter', name + '.yml')) as handle:
        return yaml.safe_load(handle)


def test_filters_are_registered_with_a_doc_each():
    assert sorted(FILTERS) == NAMES
    for name, function in FILTERS.items():
        assert function is getattr(filters, name)
        doc = doc_of(name)
        assert doc['DOCUMENTATION']['name'] == name
        assert sorted(doc) == ['DOCUMENTATION', 'EXAMPLES', 'RETURN']
        arguments = list(inspect.signature(function).parameters)
        assert ['_input'] + arguments[1:] == list(doc['DOCUMENTATION']['options'])
        assert doc['DOCUMENTATION']['positional'] == POSITIONAL[name]
        assert name in doc['EXAMPLES']
        assert doc['RETURN']['_value']['type'] == ('str' if name.endswith('markdown') else 'list')


def test_filters_take_ansible_values():
    verdicts = FILTERS['k8s_gpu_node_readiness'](wrap_var([NODE]), wrap_var(HW_PROFILES), wrap_var(EXPECTED),
                                                 driver_version=wrap_var('580.95.05'),
                                                 rdma_resource=wrap_var('rdma/rdma_shared_device_a'))
    assert [(v['node'], v['healthy'], v['gpu_allocatable'], v['rdma_allocatable']) for v in verdicts] == \
        [('gpu-01', True, 8, 63)]
    assert verdicts[0]['node'].__class__ is str
    problems = FILTERS['k8s_gpu_policy_problems'](wrap_var([POLICY]), wrap_var([]), rdma_expected=True)
    assert [p['code'] for p in problems] == ['nic_cluster_policy_missing']
    text = FILTERS['k8s_gpu_readiness_markdown'](verdicts, problems)
    assert '**1 of 1 GPU nodes ready**; 1 cluster problem.' in text and 'nic_cluster_policy_missing' in text
    assert FILTERS['k8s_gpu_readiness_markdown'](verdicts) == kr.readiness_markdown(verdicts, [])


def test_driver_and_rdma_empty_are_not_checked():
    node = dict(NODE, status=dict(NODE['status'], allocatable={'nvidia.com/gpu': '8'}))
    assert FILTERS['k8s_gpu_node_readiness']([node], HW_PROFILES, EXPECTED, '', '')[0]['healthy']
    verdict = FILTERS['k8s_gpu_node_readiness']([node], HW_PROFILES, EXPECTED, '575', 'rdma/rdma_shared_device_a')[0]
    assert [r['code'] for r in verdict['reasons']] == ['driver_version', 'rdma_allocatable']


@pytest.mark.parametrize('args, text', [
    (({'items': [NODE]}, HW_PROFILES, EXPECTED), 'k8s_gpu_node_readiness: the nodes .* must be a list, got dict'),
    (('gpu-01', HW_PROFILES, EXPECTED), 'k8s_gpu_node_readiness: the nodes .* must be a list, got str'),
    (([NODE], HW_PROFILES, ['gpu-01']), r'k8s_gpu_node_readiness: expected \(node name: .*\) must be a dict, got list'),
    (([NODE], [], EXPECTED), 'k8s_gpu_node_readiness: hw_profiles must be a dict, got list'),
    ((['gpu-01'], HW_PROFILES, EXPECTED), 'k8s_gpu_node_readiness: a node must be a mapping, got str'),
    (([dict(NODE, status={'conditions': 'Ready'})], HW_PROFILES, EXPECTED),
     'k8s_gpu_node_readiness: status.conditions must be a list'),
])
def test_node_readiness_wrong_inputs(args, text):
    with pytest.raises(AnsibleFilterError, match=text):
        FILTERS['k8s_gpu_node_readiness'](*args)


def test_policy_and_markdown_wrong_inputs():
    with pytest.raises(AnsibleFilterError, match='k8s_gpu_policy_problems: the ClusterPolicy objects must be a list'):
        FILTERS['k8s_gpu_policy_problems'](POLICY)
    with pytest.raises(AnsibleFilterError, match='k8s_gpu_policy_problems: the NicClusterPolicy objects must be a list'):
        FILTERS['k8s_gpu_policy_problems']([POLICY], {'items': []}, True)
    with pytest.raises(AnsibleFilterError, match='k8s_gpu_readiness_markdown: the verdicts .* must be a list'):
        FILTERS['k8s_gpu_readiness_markdown']({'gpu-01': {}})
