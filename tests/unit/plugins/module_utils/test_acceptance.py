# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.module_utils import _internal as module_utils_internal

_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import acceptance as acceptance_filters
from ansible_collections.aifabric.cluster.plugins.module_utils import acceptance
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

GROUPS = {'gpu_nodes': ['gpu-01', 'gpu-02', 'gpu-03'], 'switches': ['leaf-01'], 'cluster': ['mgmt-01', 'gpu-01', 'gpu-02', 'gpu-03']}
HEALTHY_GPU = {'healthy': True, 'node_reasons': [], 'gpus': [{'index': 0, 'healthy': True, 'reasons': []}]}
RDMA_OK = {'netdev': 'eth1', 'error': None, 'rdma': {'healthy': True, 'node_reasons': [], 'devices': [], 'roce_gid': '::ffff:10.0.0.1'}}
FW_OK = {'report': {'profile': 'hgx-h100-8gpu', 'components': [
    {'component': 'gpu_vbios', 'status': 'compliant', 'message': 'ok'},
    {'component': 'bios', 'status': 'missing', 'message': 'bios: not found'},
    {'component': 'nic', 'status': 'compliant', 'message': 'ok'}]},
    'error': None, 'notes': [], 'sources': {'redfish': False, 'nic': True, 'gpu': True}}
NFS_OK = {'mounts': ['/mnt/datasets'], 'result': {'healthy': True, 'reasons': []}}
NONE = {'mounts': [], 'result': None}


def good():
    return {'active': True, 'gpu_health': HEALTHY_GPU, 'fabric': RDMA_OK, 'firmware': FW_OK, 'nfs': NFS_OK, 'lustre': NONE}


def run(**kw):
    base = {'groups': GROUPS, 'fabric': True, 'fabric_violations': [], 'firmware_hosts': ['gpu-01', 'gpu-02', 'gpu-03'],
            'generated': '2026-01-01T00:00:00Z'}
    base.update(kw)
    return base


def test_a_healthy_cluster_passes_with_na_where_a_node_has_no_such_thing():
    report = acceptance.build_report({'gpu-01': good(), 'mgmt-01': {'active': True, 'nfs': NONE, 'lustre': NONE},
                                      'leaf-01': {'active': True}}, run())
    assert report['verdict'] == 'pass' and report['failed_nodes'] == []
    gpu = report['nodes']['gpu-01']['checks']
    assert dict((c, v['verdict']) for c, v in gpu.items()) == {
        'gpu_health': 'pass', 'rdma': 'pass', 'fabric': 'pass', 'firmware': 'pass', 'storage_nfs': 'pass', 'storage_lustre': 'n-a'}
    # bios is read from the BMC only, which this run did not read: not checked, not a failure
    assert any('bios not checked' in r for r in gpu['firmware']['reasons'])
    mgmt = report['nodes']['mgmt-01']
    assert mgmt['verdict'] == 'n-a' and mgmt['checks']['gpu_health']['reasons'] == ['no GPUs: not in gpu_nodes']
    assert report['nodes']['leaf-01']['checks']['fabric']['verdict'] == 'pass'
    assert report['summary']['gpu_health'] == {'pass': 1, 'fail': 0, 'n-a': 2}


def test_each_failure_is_named_on_its_node_and_check_only():
    bad_gpu = dict(good(), gpu_health={'healthy': False, 'node_reasons': [], 'gpus': [
        {'index': 2, 'healthy': False, 'reasons': ['2 uncorrectable ECC errors']}]})
    bad_fw = dict(good(), firmware=dict(FW_OK, report={'profile': 'p', 'components': [
        {'component': 'nic', 'status': 'drift', 'message': 'nic 28.1 is older than the baseline 28.39'}]}))
    violations = [{'rule': 'pfc', 'switch': 'leaf-01', 'port': 'Ethernet1/2', 'message': 'leaf-01 Ethernet1/2: no PFC'}]
    report = acceptance.build_report({'gpu-01': bad_gpu, 'gpu-02': bad_fw, 'gpu-03': {'active': False},
                                      'leaf-01': {'active': True}, 'mgmt-01': {'active': True}},
                                     run(fabric_violations=violations))
    assert report['failed_nodes'] == ['gpu-01', 'gpu-02', 'gpu-03', 'leaf-01']
    n = report['nodes']
    assert n['gpu-01']['checks']['gpu_health'] == {'verdict': 'fail', 'reasons': ['GPU 2: 2 uncorrectable ECC errors']}
    assert [c for c, v in n['gpu-01']['checks'].items() if v['verdict'] == 'fail'] == ['gpu_health']
    assert [c for c, v in n['gpu-02']['checks'].items() if v['verdict'] == 'fail'] == ['firmware']
    assert n['leaf-01']['checks']['fabric']['reasons'] == ['leaf-01 Ethernet1/2: no PFC']
    # unreachable: every check that applies fails, the others are n-a
    assert n['gpu-03']['checks']['firmware']['verdict'] == 'fail'
    assert n['gpu-03']['checks']['gpu_health']['reasons'][0].startswith('not checked: the node was unreachable')
    stats = acceptance.stats(report)
    assert stats['nodes']['gpu-01']['gpu_health'] == 'fail' and 'reasons' not in str(stats)


def test_checks_that_did_not_run_are_na_and_say_so():
    report = acceptance.build_report({'gpu-01': {'active': True}}, run(fabric=False, firmware_hosts=None))
    for check in acceptance.CHECKS:
        assert report['nodes']['gpu-01']['checks'][check] == {'verdict': 'n-a', 'reasons': [acceptance.NOT_RUN]}
    assert report['verdict'] == 'pass'


@pytest.mark.parametrize('key, value, text', [
    ('gpu_health', {'failed': True, 'msg': 'nvidia-smi not found'}, 'nvidia_gpu_health failed: nvidia-smi not found'),
    ('fabric', {'error': 'no netdev has node_fabric_mac'}, 'no netdev has node_fabric_mac'),
    ('fabric', {'netdev': 'eth1', 'rdma': None}, 'was not read'),
    ('fabric', {'netdev': 'eth1', 'rdma': {'healthy': False, 'node_reasons': ['mlx5_0 port 1 DOWN'], 'devices': []}}, 'DOWN'),
    ('firmware', dict(FW_OK, error='cannot read the BMC'), 'cannot read the BMC'),
    ('nfs', {'mounts': ['/m'], 'result': {'failed': False, 'msg': 'cannot read mountstats'}}, 'cannot read mountstats'),
    ('lustre', {'mounts': ['/l'], 'result': {'healthy': False, 'reasons': ['MGS NID down']}}, 'MGS NID down'),
])
def test_failures_carry_their_reasons(key, value, text):
    node = dict(good(), **{key: value})
    checks = acceptance.build_report({'gpu-01': node}, run())['nodes']['gpu-01']['checks']
    failed = [v for v in checks.values() if v['verdict'] == 'fail']
    assert len(failed) == 1 and text in ' '.join(failed[0]['reasons']), checks


def test_lines_and_markdown():
    report = acceptance.build_report({'gpu-01': dict(good(), lustre={'mounts': ['/l'], 'result': {'healthy': False, 'reasons': ['a', 'b']}})}, run())
    lines = acceptance.lines(report)
    assert len(lines) == len(acceptance.CHECKS) + 1
    assert lines[0].split()[:3] == ['gpu-01', 'gpu_health', 'PASS']
    assert lines[5].split()[:4] == ['gpu-01', 'storage_lustre', 'FAIL', 'a'] and lines[5].endswith('(+1 more)')
    assert lines[-1] == 'acceptance: FAIL (1 node(s), 1 failed: gpu-01)'
    md = acceptance.render_markdown(report)
    assert '| gpu-01 | fail | pass | pass | pass | pass | pass | fail |' in md and '## Failures' in md


def test_filters():
    f = acceptance_filters.FilterModule().filters()
    assert sorted(f) == ['acceptance_lines', 'acceptance_markdown', 'acceptance_report', 'acceptance_stats']
    report = f['acceptance_report']({'gpu-01': good()}, run())
    assert f['acceptance_stats'](report)['verdict'] == 'pass'
    assert f['acceptance_lines'](report)[-1].startswith('acceptance: PASS')
    with pytest.raises(AnsibleFilterError, match='acceptance_report: nodes must be a dict'):
        f['acceptance_report'](['gpu-01'])
    with pytest.raises(AnsibleFilterError, match='acceptance_markdown: not the input'):
        f['acceptance_markdown']({'nodes': {}})
