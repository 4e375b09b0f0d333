# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU smoke Jobs of the readiness check and their outcome."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter.k8s_gpu_readiness import FilterModule
from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_gpu_readiness as kr
from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_gpu_smoke as ks

TAINT = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
EXPECTED = {'gpu-02': {'profile': 'pcie-l40s-4gpu', 'rdma': False, 'taints': [TAINT]},
            'gpu-01': {'profile': 'hgx-h100-8gpu', 'rdma': True, 'taints': [{'key': 'nvidia.com/gpu', 'effect': 'NoSchedule'}]}}
FILTERS = FilterModule().filters()


def jobs():
    return FILTERS['k8s_gpu_smoke_jobs'](EXPECTED, 'default', 'registry.example/cuda:13.0.0-base', ['nvidia-smi', '-L'],
                                         rdma_resource='rdma/rdma_shared_device_a', network='default/roce', deadline=120)


def test_one_job_per_node_pinned_tolerating_and_requesting_what_the_node_offers():
    h100, l40s = jobs()
    assert h100['metadata'] == {'name': 'aifabric-gpu-smoke-gpu-01', 'namespace': 'default',
                                'labels': {'app.kubernetes.io/name': 'aifabric-gpu-smoke', 'aifabric.io/node': 'gpu-01'}}
    spec = h100['spec']
    assert spec['backoffLimit'] == 0 and spec['activeDeadlineSeconds'] == 120
    pod = spec['template']['spec']
    assert pod['nodeSelector'] == {'kubernetes.io/hostname': 'gpu-01'} and pod['restartPolicy'] == 'Never'
    assert pod['tolerations'] == [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]
    assert pod['containers'][0]['resources'] == {'limits': {'nvidia.com/gpu': 1, 'rdma/rdma_shared_device_a': 1}}
    assert spec['template']['metadata']['annotations'] == {'k8s.v1.cni.cncf.io/networks': 'default/roce'}
    # no fabric on this node: a GPU only, no network
    assert l40s['spec']['template']['spec']['containers'][0]['resources'] == {'limits': {'nvidia.com/gpu': 1}}
    assert 'annotations' not in l40s['spec']['template']['metadata']
    assert l40s['spec']['template']['spec']['tolerations'] == [dict(TAINT, operator='Equal')]


def job(node, condition=None):
    out = {'metadata': {'name': ks.job_name(node)}, 'status': {}}
    if condition:
        out['status']['conditions'] = [{'type': 'SuccessCriteriaMet', 'status': 'True'},
                                       dict({'status': 'True'}, **condition)]
    return out


def pod(node, status):
    return {'metadata': {'name': ks.job_name(node) + '-x1y2z', 'labels': {'job-name': ks.job_name(node)}}, 'status': status}


def verdict(node):
    return {'node': node, 'healthy': True, 'reasons': [], 'gpu_expected': 8, 'rdma_allocatable': 63}


def test_complete_failed_pending_and_missing():
    unschedulable = {'phase': 'Pending', 'conditions': [{'type': 'PodScheduled', 'status': 'False', 'reason': 'Unschedulable',
                                                         'message': '0/5 nodes are available: 1 Insufficient nvidia.com/gpu.'}]}
    terminated = {'reason': 'Error', 'exitCode': 1, 'message': 'no devices found'}
    failed = {'phase': 'Failed', 'containerStatuses': [{'state': {'terminated': terminated}}]}
    out = FILTERS['k8s_gpu_smoke_verdicts'](
        [verdict('gpu-01'), verdict('gpu-02'), verdict('gpu-03'), verdict('gpu-04')],
        [job('gpu-01', {'type': 'Complete'}), job('gpu-02', {'type': 'Failed', 'reason': 'BackoffLimitExceeded',
                                                             'message': 'Job has reached the specified backoff limit'}),
         job('gpu-03')],
        [pod('gpu-01', {'phase': 'Succeeded'}), pod('gpu-02', failed), pod('gpu-03', unschedulable)])
    assert [(v['node'], v['smoke'], v['healthy'], [r['code'] for r in v['reasons']]) for v in out] == [
        ('gpu-01', 'complete', True, []), ('gpu-02', 'failed', False, ['smoke_job_failed']),
        ('gpu-03', 'pending', False, ['smoke_job_pending']), ('gpu-04', 'missing', False, ['smoke_job_missing'])]
    assert 'BackoffLimitExceeded' in out[1]['reasons'][0]['message'] and 'terminated Error: no devices found' in out[1]['reasons'][0]['message']
    assert out[2]['reasons'][0]['message'].startswith('gpu-03: the smoke Job aifabric-gpu-smoke-gpu-03 did not complete in time '
                                                      '(not scheduled: 0/5 nodes are available: 1 Insufficient nvidia.com/gpu.)')
    report = kr.readiness_markdown(out, [])
    assert '| smoke job |' in report and '| gpu-03 |' in report and 'NOT READY (smoke_job_pending)' in report


def test_a_verdict_already_unhealthy_keeps_its_reasons():
    unhealthy = dict(verdict('gpu-01'), healthy=False, reasons=[{'code': 'cordoned', 'message': 'gpu-01: cordoned'}])
    out = ks.smoke_verdicts([unhealthy], [job('gpu-01')], [pod('gpu-01', {'phase': 'Pending'})])
    assert [r['code'] for r in out[0]['reasons']] == ['cordoned', 'smoke_job_pending'] and 'pod Pending' in out[0]['reasons'][1]['message']


def test_bad_input_types():
    with pytest.raises(AnsibleFilterError, match='k8s_gpu_smoke_jobs: expected'):
        FILTERS['k8s_gpu_smoke_jobs'](['gpu-01'], 'default', 'img', ['true'])
    with pytest.raises(AnsibleFilterError, match='k8s_gpu_smoke_verdicts: the Job objects must be a list'):
        FILTERS['k8s_gpu_smoke_verdicts']([], {}, [])
