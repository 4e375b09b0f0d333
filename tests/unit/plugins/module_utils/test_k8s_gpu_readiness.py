# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU node readiness (plugins/module_utils/k8s_gpu_readiness.py) on Node objects shaped as the API returns them."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_gpu_readiness as kr

HW_PROFILES = {
    'hgx-h100-8gpu': {'gpu_count': 8, 'gpu_product': 'H100 80GB HBM3', 'gpu_memory_mib': 81559},
    'hgx-a100-8gpu': {'gpu_count': 8, 'gpu_product': 'A100-SXM4-80GB'},
    'pcie-l40s-4gpu': {'gpu_count': 4, 'gpu_product': 'L40S'},
    'pcie-t4-1gpu': {'gpu_count': 1, 'gpu_product': 'Tesla T4'},
    'mgmt-generic': {'gpu_count': 0},
}
GPU_TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
RDMA = 'rdma/rdma_shared_device_a'


def deploy_labels():
    return dict(('nvidia.com/gpu.deploy.%s' % operand, 'true') for operand in (
        'container-toolkit', 'dcgm', 'dcgm-exporter', 'device-plugin', 'driver', 'gpu-feature-discovery',
        'node-status-exporter', 'operator-validator'))


def base_labels(name):
    return {
        'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux',
        'feature.node.kubernetes.io/cpu-model.vendor_id': 'Intel',
        'feature.node.kubernetes.io/kernel-version.full': '6.8.0-60-generic',
        'feature.node.kubernetes.io/system-os_release.ID': 'ubuntu',
        'feature.node.kubernetes.io/system-os_release.VERSION_ID': '24.04',
    }


def gfd_labels(product, count, memory, family, compute, machine, driver=('580', '95', '05'), newer=True,
               mig_capable='false', runtime=('13', '0')):
    labels = {
        'feature.node.kubernetes.io/pci-10de.present': 'true',
        'nvidia.com/gpu.present': 'true',
        'nvidia.com/gpu.product': product,
        'nvidia.com/gpu.count': str(count),
        'nvidia.com/gpu.memory': str(memory),
        'nvidia.com/gpu.family': family,
        'nvidia.com/gpu.compute.major': compute[0],
        'nvidia.com/gpu.compute.minor': compute[1],
        'nvidia.com/gpu.machine': machine,
        'nvidia.com/gpu.replicas': '1',
        'nvidia.com/gpu.sharing-strategy': 'none',
        'nvidia.com/gpu-driver-upgrade-state': 'upgrade-done',
        'nvidia.com/gfd.timestamp': '1767225600',
        'nvidia.com/mig.capable': mig_capable,
        'nvidia.com/mps.capable': 'false',
        'nvidia.com/cuda.driver.major': driver[0],
        'nvidia.com/cuda.driver.minor': driver[1],
        'nvidia.com/cuda.driver.rev': driver[2],
        'nvidia.com/cuda.runtime.major': runtime[0],
        'nvidia.com/cuda.runtime.minor': runtime[1],
    }
    if newer:
        labels.update({
            'nvidia.com/cuda.driver-version.major': driver[0],
            'nvidia.com/cuda.driver-version.minor': driver[1],
            'nvidia.com/cuda.driver-version.revision': driver[2],
            'nvidia.com/cuda.driver-version.full': '.'.join(driver),
            'nvidia.com/cuda.runtime-version.major': runtime[0],
            'nvidia.com/cuda.runtime-version.minor': runtime[1],
            'nvidia.com/cuda.runtime-version.full': '.'.join(runtime),
        })
    labels.update(deploy_labels())
    return labels


def node(name, labels, gpus, extra_resources=None, taints=(GPU_TAINT,), ready=True, unschedulable=None):
    resources = {'cpu': '224', 'ephemeral-storage': '1844161700Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
                 'memory': '2113442476Ki', 'pods': '110'}
    if gpus is not None:
        resources['nvidia.com/gpu'] = str(gpus)
    resources.update(extra_resources or {})
    allocatable = dict(resources, cpu='223500m', memory='2113340076Ki')
    spec = {'podCIDR': '10.244.3.0/24', 'podCIDRs': ['10.244.3.0/24']}
    if taints:
        spec['taints'] = [dict(t) for t in taints]
    if unschedulable is not None:
        spec['unschedulable'] = unschedulable
    conditions = [
        {'type': 'MemoryPressure', 'status': 'False', 'reason': 'KubeletHasSufficientMemory',
         'message': 'kubelet has sufficient memory available', 'lastHeartbeatTime': '2026-01-02T10:00:00Z',
         'lastTransitionTime': '2026-01-01T08:00:00Z'},
        {'type': 'DiskPressure', 'status': 'False', 'reason': 'KubeletHasNoDiskPressure',
         'message': 'kubelet has no disk pressure', 'lastHeartbeatTime': '2026-01-02T10:00:00Z',
         'lastTransitionTime': '2026-01-01T08:00:00Z'},
        {'type': 'PIDPressure', 'status': 'False', 'reason': 'KubeletHasSufficientPID',
         'message': 'kubelet has sufficient PID available', 'lastHeartbeatTime': '2026-01-02T10:00:00Z',
         'lastTransitionTime': '2026-01-01T08:00:00Z'},
        {'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status',
         'lastHeartbeatTime': '2026-01-02T10:00:00Z', 'lastTransitionTime': '2026-01-01T08:05:00Z'}
        if ready else
        {'type': 'Ready', 'status': 'Unknown', 'reason': 'NodeStatusUnknown', 'message': 'Kubelet stopped posting node status.',
         'lastHeartbeatTime': '2026-01-02T09:00:00Z', 'lastTransitionTime': '2026-01-02T09:00:40Z'},
    ]
    return {
        'apiVersion': 'v1', 'kind': 'Node',
        'metadata': {'name': name, 'uid': '3f0c6a52-0000-4000-8000-%012d' % len(name), 'resourceVersion': '123456',
                     'creationTimestamp': '2026-01-01T08:00:00Z', 'labels': dict(base_labels(name), **labels),
                     'annotations': {'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///run/containerd/containerd.sock',
                                     'node.alpha.kubernetes.io/ttl': '0',
                                     'nfd.node.kubernetes.io/feature-labels': 'pci-10de.present',
                                     'volumes.kubernetes.io/controller-managed-attach-detach': 'true'}},
        'spec': spec,
        'status': {'capacity': resources, 'allocatable': allocatable, 'conditions': conditions,
                   'addresses': [{'type': 'InternalIP', 'address': '10.231.0.%d' % (100 + len(name))},
                                 {'type': 'Hostname', 'address': name}],
                   'daemonEndpoints': {'kubeletEndpoint': {'Port': 10250}},
                   'nodeInfo': {'architecture': 'amd64', 'containerRuntimeVersion': 'containerd://2.1.4',
                                'kernelVersion': '6.8.0-60-generic', 'kubeletVersion': 'v1.34.2',
                                'operatingSystem': 'linux', 'osImage': 'Ubuntu 24.04.3 LTS'}},
    }


def h100(name='gpu-01', gpus=8, rdma='63', **keys):
    labels = gfd_labels('NVIDIA-H100-80GB-HBM3', 8, 81559, 'hopper', ('9', '0'), 'PowerEdge-XE9680',
                        mig_capable='true')
    labels['aifabric.io/hw-profile'] = 'hgx-h100-8gpu'
    extra = {RDMA: rdma} if rdma is not None else None
    return node(name, labels, gpus, extra, **keys)


def a100(name='gpu-02'):
    # an older GPU Feature Discovery: only the cuda.driver.* labels
    labels = gfd_labels('NVIDIA-A100-SXM4-80GB', 8, 81920, 'ampere', ('8', '0'), 'DGX-A100', newer=False,
                        mig_capable='true', runtime=('12', '4'))
    return node(name, labels, 8)


def l40s(name='gpu-03'):
    return node(name, gfd_labels('NVIDIA-L40S', 4, 46068, 'ada-lovelace', ('8', '9'), 'ProLiant-DL380a-Gen11'), 4)


def t4(name='gpu-04'):
    return node(name, gfd_labels('Tesla-T4', 1, 15360, 'turing', ('7', '5'), 'PowerEdge-R750'), 1)


def mgmt(name='mgmt-01'):
    return node(name, {'node-role.kubernetes.io/control-plane': ''}, None,
                taints=({'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'},))


def want(profile, rdma=False, taints=(GPU_TAINT,)):
    return {'profile': profile, 'rdma': rdma, 'taints': [dict(t) for t in taints]}


EXPECTED = {'gpu-01': want('hgx-h100-8gpu', rdma=True), 'gpu-02': want('hgx-a100-8gpu'),
            'gpu-03': want('pcie-l40s-4gpu'), 'gpu-04': want('pcie-t4-1gpu')}


def cluster():
    return [h100(), a100(), l40s(), t4(), mgmt()]


def judge(nodes, expected=None, driver_version='580.95.05', rdma_resource=RDMA):
    return kr.node_readiness(nodes, HW_PROFILES, EXPECTED if expected is None else expected, driver_version, rdma_resource)


def only(nodes, name, **keys):
    return [v for v in judge(nodes, **keys) if v['node'] == name][0]


def codes(verdict):
    return [r['code'] for r in verdict['reasons']]


def test_healthy_cluster():
    verdicts = judge(cluster())
    assert [v['node'] for v in verdicts] == ['gpu-01', 'gpu-02', 'gpu-03', 'gpu-04']  # mgmt-01 is not expected
    assert all(v['healthy'] and v['reasons'] == [] for v in verdicts), verdicts
    first = verdicts[0]
    assert first == {'node': 'gpu-01', 'profile': 'hgx-h100-8gpu', 'healthy': True, 'reasons': [], 'gpu_expected': 8,
                     'gpu_allocatable': 8, 'gpu_capacity': 8, 'gpu_count_label': 8,
                     'gpu_product_label': 'NVIDIA-H100-80GB-HBM3', 'driver_label': '580.95.05', 'rdma_allocatable': 63,
                     'cordoned': False}
    assert verdicts[1]['driver_label'] == '580.95.05'  # from the older cuda.driver.* labels
    assert [v['gpu_allocatable'] for v in verdicts] == [8, 8, 4, 1]


def test_driver_branch_and_unchecked():
    assert all(v['healthy'] for v in judge(cluster(), driver_version='580'))
    assert all(v['healthy'] for v in judge(cluster(), driver_version='580.95'))
    assert all(v['healthy'] for v in judge(cluster(), driver_version=None, rdma_resource=None))


def test_management_node_skips_gpu_checks():
    expected = {'mgmt-01': want('mgmt-generic', taints=({'key': 'node-role.kubernetes.io/control-plane',
                                                         'effect': 'NoSchedule'},))}
    verdict = judge(cluster(), expected)[0]
    assert verdict['healthy'] and verdict['gpu_expected'] == 0 and verdict['gpu_allocatable'] == 0
    verdict = judge([mgmt(), dict(mgmt('mgmt-02'), spec={'unschedulable': True})],
                    {'mgmt-02': want('mgmt-generic', taints=())})[0]
    assert codes(verdict) == ['cordoned']


def test_gpu_lost():
    verdict = only([h100(gpus=7)], 'gpu-01', expected={'gpu-01': EXPECTED['gpu-01']})
    assert codes(verdict) == ['gpu_allocatable']
    assert verdict['gpu_allocatable'] == 7 and not verdict['healthy']
    message = verdict['reasons'][0]['message']
    assert message.startswith('gpu-01: allocatable nvidia.com/gpu is 7')
    assert 'the profile hgx-h100-8gpu expects 8' in message and 'nvidia-smi and Xid' in message


def test_device_plugin_reports_none():
    nodes = [h100(gpus=None)]
    verdict = judge(nodes, {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['gpu_allocatable']
    assert verdict['gpu_allocatable'] == 0 and verdict['gpu_capacity'] == 0
    assert 'device plugin reports none' in verdict['reasons'][0]['message']


def test_rdma_zero_and_absent():
    for value, shown in (('0', 'is 0'), (None, 'is absent')):
        verdict = judge([h100(rdma=value)], {'gpu-01': EXPECTED['gpu-01']})[0]
        assert codes(verdict) == ['rdma_allocatable'], value
        assert 'gpu-01: allocatable rdma/rdma_shared_device_a %s' % shown in verdict['reasons'][0]['message']
    # a node not expected to have RDMA is not checked
    assert judge([h100(rdma='0')], {'gpu-01': want('hgx-h100-8gpu')})[0]['healthy']


def test_wrong_product_for_the_profile():
    verdict = judge([l40s('gpu-01')], {'gpu-01': want('hgx-h100-8gpu')})[0]
    assert codes(verdict) == ['gpu_allocatable', 'gpu_count_label', 'gpu_product']
    assert "label nvidia.com/gpu.product is 'NVIDIA-L40S', the profile hgx-h100-8gpu expects 'H100 80GB HBM3'" in \
        verdict['reasons'][2]['message']
    # the same count: only the product
    verdict = judge([a100('gpu-01')], {'gpu-01': want('hgx-h100-8gpu')})[0]
    assert codes(verdict) == ['gpu_product']


def test_driver_mismatch():
    verdict = judge(cluster(), driver_version='570.172.08')[0]
    assert codes(verdict) == ['driver_version']
    assert verdict['reasons'][0]['message'].startswith('gpu-01: the driver labelled is 580.95.05, expected 570.172.08')
    assert not any(v['healthy'] for v in judge(cluster(), driver_version='580.82'))
    assert not any(v['healthy'] for v in judge(cluster(), driver_version='575'))


def test_a_node_own_installed_driver_overrides_the_cluster_one():
    expected = {'gpu-01': dict(EXPECTED['gpu-01'], driver_version='570.172.08')}
    verdict = judge([h100()], expected, driver_version='580.95.05')[0]
    assert codes(verdict) == ['driver_version']
    assert 'expected 570.172.08' in verdict['reasons'][0]['message']
    assert judge([h100()], {'gpu-01': dict(EXPECTED['gpu-01'], driver_version='580.95.05')}, driver_version='570')[0]['healthy']


def test_missing_gfd_labels():
    bare = h100()
    bare['metadata']['labels'] = dict((k, v) for k, v in bare['metadata']['labels'].items()
                                      if not k.startswith('nvidia.com/g') and not k.startswith('nvidia.com/cuda'))
    verdict = judge([bare], {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['gpu_count_label', 'gpu_product', 'driver_version']
    assert all('GPU Feature Discovery has not labelled the node' in r['message'] for r in verdict['reasons'])
    assert verdict['gpu_count_label'] is None and verdict['gpu_product_label'] is None and verdict['driver_label'] is None


def test_count_label_differs():
    node_ = a100('gpu-02')
    node_['metadata']['labels']['nvidia.com/gpu.count'] = '7'
    verdict = judge([node_], {'gpu-02': EXPECTED['gpu-02']})[0]
    assert codes(verdict) == ['gpu_count_label'] and verdict['gpu_count_label'] == 7
    assert 'label nvidia.com/gpu.count is 7, the profile hgx-a100-8gpu expects 8' in verdict['reasons'][0]['message']


def test_not_ready():
    verdict = judge([h100(ready=False)], {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['not_ready']
    assert 'condition Ready is Unknown (reason NodeStatusUnknown' in verdict['reasons'][0]['message']
    no_conditions = h100()
    del no_conditions['status']['conditions']
    assert codes(judge([no_conditions], {'gpu-01': EXPECTED['gpu-01']})[0]) == ['not_ready']


def test_cordoned():
    verdict = judge([h100(unschedulable=True)], {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['cordoned'] and verdict['cordoned'] is True
    assert 'kubectl uncordon gpu-01' in verdict['reasons'][0]['message']


def test_missing_taint():
    verdict = judge([h100(taints=())], {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['taint_missing']
    assert verdict['reasons'][0]['message'].startswith('gpu-01: taint nvidia.com/gpu=present:NoSchedule is missing '
                                                       '(taints: none)')
    # another value or effect under the key is not the taint
    other = dict(GPU_TAINT, effect='PreferNoSchedule')
    verdict = judge([h100(taints=(other,))], {'gpu-01': EXPECTED['gpu-01']})[0]
    assert codes(verdict) == ['taint_missing'] and 'it has nvidia.com/gpu=present:PreferNoSchedule' in \
        verdict['reasons'][0]['message']
    assert codes(judge([h100(taints=(dict(GPU_TAINT, value='true'),))], {'gpu-01': EXPECTED['gpu-01']})[0]) == \
        ['taint_missing']
    # an expected taint without a value matches any value
    assert judge([h100()], {'gpu-01': want('hgx-h100-8gpu', taints=({'key': 'nvidia.com/gpu', 'effect': 'NoSchedule'},))})[0]['healthy']


def test_not_registered():
    verdicts = judge(cluster(), dict(EXPECTED, **{'gpu-09': want('hgx-h100-8gpu')}))
    assert [v['node'] for v in verdicts if not v['healthy']] == ['gpu-09']
    verdict = verdicts[-1]
    assert codes(verdict) == ['not_registered'] and verdict['gpu_allocatable'] is None and verdict['cordoned'] is None


def test_unknown_profile():
    verdict = judge([h100()], {'gpu-01': want('hgx-b200-8gpu')})[0]
    assert codes(verdict) == ['unknown_profile'] and verdict['gpu_expected'] is None
    assert 'hardware profile hgx-b200-8gpu is not one of hw_profiles' in verdict['reasons'][0]['message']
    # not registered either: both
    verdict = judge([], {'gpu-01': want('hgx-b200-8gpu')})[0]
    assert codes(verdict) == ['not_registered', 'unknown_profile']


@pytest.mark.parametrize('label', ['NVIDIA-H100-80GB-HBM3-SHARED', 'NVIDIA-H100-80GB-HBM3-MIG-1g.10gb',
                                   'NVIDIA-H100-80GB-HBM3-MIG-3g.40gb-SHARED', 'nvidia-h100-80gb-hbm3'])
def test_shared_and_mig_suffixes_accepted(label):
    node_ = h100()
    node_['metadata']['labels']['nvidia.com/gpu.product'] = label
    assert judge([node_], {'gpu-01': EXPECTED['gpu-01']})[0]['healthy']


@pytest.mark.parametrize('label, profile, same', [
    ('Tesla-T4', 'Tesla T4', True), ('NVIDIA-A100-SXM4-80GB', 'A100-SXM4-80GB', True),
    ('NVIDIA-H100-80GB-HBM3', 'NVIDIA H100 80GB HBM3', True), ('NVIDIA-L40S', 'L40', False),
    ('NVIDIA-H100-NVL', 'H100 80GB HBM3', False), ('NVIDIA-A100-SXM4-40GB-MIG-1g.5gb', 'A100-SXM4-80GB', False),
])
def test_product_normalisation(label, profile, same):
    assert (kr.label_product(label) == kr.normalize_product(profile)) is same


@pytest.mark.parametrize('observed, wanted, same', [
    ('580.95.05', '580.95.05', True), ('580.95.05', '580', True), ('580.95.5', '580.95.05', True),
    ('580.95', '580.95.05', False), ('580.95.05', '580.95.06', False), ('', '580', False),
])
def test_driver_matches(observed, wanted, same):
    assert kr.driver_matches(observed, wanted) is same


def test_inputs_not_changed_and_bad_inputs():
    nodes = cluster()
    before = copy.deepcopy(nodes)
    judge(nodes)
    assert nodes == before
    with pytest.raises(kr.ReadinessInputError, match='nodes must be a list'):
        kr.node_readiness({'items': nodes}, HW_PROFILES, EXPECTED)
    with pytest.raises(kr.ReadinessInputError, match='expected must be a mapping'):
        kr.node_readiness(nodes, HW_PROFILES, ['gpu-01'])


# ClusterPolicy and NicClusterPolicy as the operators write their status

def cluster_policy(state='ready', reason='Reconciled', message='All resources have been successfully reconciled',
                   name='cluster-policy'):
    ready = 'True' if state == 'ready' else 'False'
    conditions = [{'type': 'Ready', 'status': ready, 'reason': reason, 'message': message,
                   'lastTransitionTime': '2026-01-02T10:00:00Z'},
                  {'type': 'Error', 'status': 'False' if state == 'ready' else 'True',
                   'reason': 'Ready' if state == 'ready' else reason, 'message': '' if state == 'ready' else message,
                   'lastTransitionTime': '2026-01-02T10:00:00Z'}]
    return {'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy',
            'metadata': {'name': name, 'generation': 1, 'resourceVersion': '4242'},
            'spec': {'operator': {'defaultRuntime': 'containerd'}, 'driver': {'enabled': True, 'version': '580.95.05'},
                     'devicePlugin': {'enabled': True}, 'gfd': {'enabled': True}},
            'status': {'state': state, 'namespace': 'gpu-operator', 'conditions': conditions}}


def nic_cluster_policy(state='ready'):
    applied = [{'name': 'state-OFED', 'state': state if state != 'ready' else 'ready',
                'message': 'waiting for pod to be ready' if state != 'ready' else ''},
               {'name': 'state-RDMA-device-plugin', 'state': 'ready'},
               {'name': 'state-multus-cni', 'state': 'ignore'}]
    return {'apiVersion': 'mellanox.com/v1alpha1', 'kind': 'NicClusterPolicy', 'metadata': {'name': 'nic-cluster-policy'},
            'spec': {'ofedDriver': {'image': 'doca-driver', 'version': '25.04-0.6.1.0-2'},
                     'rdmaSharedDevicePlugin': {'image': 'k8s-rdma-shared-dev-plugin'}},
            'status': {'state': state, 'appliedStates': applied}}


def policy_codes(*args, **keys):
    return [p['code'] for p in kr.policy_problems(*args, **keys)]


def test_policies_reconciled():
    assert kr.policy_problems([cluster_policy()]) == []
    assert kr.policy_problems([cluster_policy()], [nic_cluster_policy()], rdma_expected=True) == []
    # without RDMA the NicClusterPolicy is not judged
    assert kr.policy_problems([cluster_policy()], [], rdma_expected=False) == []


def test_cluster_policy_no_gpu_nodes_although_ready():
    policy = cluster_policy(reason='NoGPUNodes', message='No GPU node found, watching for new nodes to join the cluster.')
    problems = kr.policy_problems([policy])
    assert [p['code'] for p in problems] == ['cluster_policy_no_gpu_nodes']
    assert 'feature.node.kubernetes.io/pci-10de.present' in problems[0]['message']


def test_cluster_policy_not_ready():
    policy = cluster_policy(state='notReady', reason='OperandNotReady',
                            message='ClusterPolicy is not ready, states not ready: [state-driver]')
    problems = kr.policy_problems([policy])
    assert [p['code'] for p in problems] == ['cluster_policy_not_ready']
    assert 'status.state is notReady' in problems[0]['message']
    assert 'states not ready: [state-driver]' in problems[0]['message']
    assert policy_codes([{'metadata': {'name': 'cluster-policy'}}]) == ['cluster_policy_not_ready']


def test_cluster_policy_missing():
    assert policy_codes([]) == ['cluster_policy_missing']
    assert policy_codes(None) == ['cluster_policy_missing']


def test_nic_cluster_policy_missing_and_not_ready():
    assert policy_codes([cluster_policy()], [], rdma_expected=True) == ['nic_cluster_policy_missing']
    assert policy_codes([cluster_policy()], None, rdma_expected=True) == ['nic_cluster_policy_missing']
    problems = kr.policy_problems([cluster_policy()], [nic_cluster_policy('notReady')], rdma_expected=True)
    assert [p['code'] for p in problems] == ['nic_cluster_policy_not_ready']
    assert 'status.state is notReady' in problems[0]['message']
    assert 'state-OFED notReady: waiting for pod to be ready' in problems[0]['message']
    assert 'state-multus-cni' not in problems[0]['message']  # an operand not deployed is not a problem


def test_markdown():
    nodes = [h100(gpus=7), a100(), l40s(), t4(), mgmt()]
    nodes[2]['spec']['unschedulable'] = True
    verdicts = judge(nodes, dict(EXPECTED, **{'gpu-09': want('hgx-h100-8gpu'),
                                              'mgmt-01': want('mgmt-generic', taints=())}))
    problems = kr.policy_problems([], [nic_cluster_policy('notReady')], rdma_expected=True)
    text = kr.readiness_markdown(verdicts, problems)
    assert '**2 of 5 GPU nodes ready**, 1 of 1 other nodes ready; 2 cluster problems.' in text
    assert '| gpu-01 | hgx-h100-8gpu | 7/8 | NVIDIA-H100-80GB-HBM3 | 580.95.05 | 63 | NOT READY (gpu_allocatable) |' in text
    assert '| gpu-09 | hgx-h100-8gpu | -/8 | - | - | - | NOT READY (not_registered) |' in text
    assert '| gpu-04 | pcie-t4-1gpu | 1/1 | Tesla-T4 | 580.95.05 | - | ready |' in text
    for reason in problems + [r for v in verdicts for r in v['reasons']]:
        assert '- `%s` %s' % (reason['code'], reason['message']) in text
    reasons = text[text.index('## Reasons'):]
    assert reasons.index('`cluster_policy_missing`') < reasons.index('`gpu_allocatable`')
    healthy = kr.readiness_markdown(judge(cluster()), [])
    assert '**4 of 4 GPU nodes ready**; no cluster problem.' in healthy and 'None.' in healthy
