# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the modules' main() with their commands answered from fixtures."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.modules import nvidia_smi_info, nvidia_gpu_health
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main, warning_texts

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nvidia_smi')
SMI = '/usr/bin/nvidia-smi'


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


class Commands(object):
    """Answers run_command from a table keyed by the command's arguments after the binary."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def __call__(self, module, args, **kwargs):
        self.calls.append(list(args))
        key = ' '.join(args[1:])
        for prefix, answer in self.table.items():
            if key.startswith(prefix):
                return answer
        raise AssertionError('unexpected command %r' % (args,))


def run(monkeypatch, capsys, module, args, table, bins=('nvidia-smi', 'journalctl', 'dmesg')):
    commands = Commands(table)
    result = run_main(monkeypatch, capsys, module, args, commands, bins)
    result['_calls'] = commands.calls
    return result


# ---------------------------------------------------------------------------
# nvidia_smi_info

def test_info_v12(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {'-q -x': (0, fixture('v12-h100x8-healthy.xml'), '')})
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['driver_version'] == '535.183.01'
    assert result['cuda_version'] == '12.2'
    assert result['schema'] == 'v12'
    assert result['gpu_count'] == 8
    assert result['attached_gpus'] == 8
    assert result['gpus'][4]['pci_bus_id'] == '00000000:9B:00.0'
    assert result['gpus'][0]['nvlinks'] is None
    assert result['_calls'] == [[SMI, '-q', '-x']]  # once, and no nvlink without include_nvlink


@pytest.mark.parametrize('name, schema, count', [
    ('v11-v100x2-healthy.xml', 'v11', 2), ('v13-h100x2-healthy.xml', 'v13', 2)])
def test_info_other_schemas(monkeypatch, capsys, name, schema, count):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {'-q -x': (0, fixture(name), '')})
    assert (result['schema'], result['gpu_count']) == (schema, count)


def test_info_include_nvlink_and_path(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info,
                 {'include_nvlink': True, 'nvidia_smi_path': '/opt/nvidia/bin/nvidia-smi'},
                 {'-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
                  'nvlink -s': (0, fixture('nvlink-h100x8-link-down.txt'), '')}, bins=())
    assert result['_rc'] == 0
    assert result['_calls'] == [['/opt/nvidia/bin/nvidia-smi', '-q', '-x'],
                                ['/opt/nvidia/bin/nvidia-smi', 'nvlink', '-s']]
    assert len(result['gpus'][0]['nvlinks']) == 18
    assert [link['link'] for link in result['gpus'][4]['nvlinks'] if not link['up']] == [3, 7]


def test_info_nvlink_failure_warns(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {'include_nvlink': True},
                 {'-q -x': (0, fixture('v12-h100x2-hot.xml'), ''), 'nvlink -s': (3, '', 'Not Supported')})
    assert result['_rc'] == 0
    assert result['gpus'][0]['nvlinks'] is None
    assert warning_texts(result) == ['/usr/bin/nvidia-smi nvlink -s failed (rc 3): Not Supported; nvlinks left null']


def test_info_nvml_mismatch(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {'-q -x': (18, fixture('nvml-mismatch.txt'), '')})
    assert result['_rc'] == 1
    assert result['failed'] is True
    assert result['nvml_mismatch'] is True
    assert result['msg'].startswith('Failed to initialize NVML: Driver/library version mismatch')


def test_info_other_failure(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {'-q -x': (6, 'No devices were found\n', '')})
    assert result['failed'] is True
    assert result['rc'] == 6
    assert result['stdout'] == 'No devices were found\n'
    assert 'No devices were found' in result['msg']
    assert 'nvml_mismatch' not in result


@pytest.mark.parametrize('name', ['malformed.xml', 'truncated.xml'])
def test_info_bad_xml(monkeypatch, capsys, name):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {'-q -x': (0, fixture(name), '')})
    assert result['failed'] is True
    assert result['msg'].startswith('nvidia-smi -q -x output is not valid XML: ')


def test_info_missing_binary(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {}, {}, bins=())
    assert result['failed'] is True
    assert 'nvidia-smi' in result['msg']
    assert result['_calls'] == []


def test_info_check_mode(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_smi_info, {'_ansible_check_mode': True},
                 {'-q -x': (0, fixture('v12-h100x2-hot.xml'), '')})
    assert result['_rc'] == 0 and result['changed'] is False and result['gpu_count'] == 2


# ---------------------------------------------------------------------------
# nvidia_gpu_health

H100_ARGS = {'expected_gpu_count': 8, 'expected_product': 'H100 80GB HBM3', 'expected_driver_version': '535.183.01',
             'expected_nvlinks': 18}


def test_health_healthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, H100_ARGS, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
        'nvlink -s': (0, fixture('nvlink-h100x8-healthy.txt'), ''),
        '-t kernel': (0, '-- No entries --\n', ''),
    })
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['healthy'] is True, result
    assert result['node_reasons'] == []
    assert result['xids'] == [] and result['xid_source'] == 'journalctl'
    assert result['gpu_count'] == 8 and result['driver_version'] == '535.183.01'
    assert len(result['gpus'][0]['nvlinks']) == 18
    assert ['/usr/bin/journalctl', '-t', 'kernel', '--since', '-1h', '-o', 'short-iso', '--no-pager'] in result['_calls']


def test_health_nvlink_only_when_asked(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'xid_since': '-24h'}, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
        '-t kernel': (0, '', ''),
    })
    assert result['healthy'] is True
    assert [SMI, 'nvlink', '-s'] not in result['_calls']
    assert ['/usr/bin/journalctl', '-t', 'kernel', '--since', '-24h', '-o', 'short-iso', '--no-pager'] in result['_calls']
    assert result['gpus'][0]['nvlinks'] is None


def test_health_nvlink_down_and_xids(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, H100_ARGS, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
        'nvlink -s': (0, fixture('nvlink-h100x8-link-down.txt'), ''),
        '-t kernel': (0, fixture('xid-journal.txt'), ''),
    })
    assert result['_rc'] == 0
    assert result['healthy'] is False
    assert [gpu['index'] for gpu in result['gpus'] if not gpu['healthy']] == [2, 3, 4, 5]
    assert any('16 of 18 NVLinks up' in reason for reason in result['gpus'][4]['reasons'])
    assert [x['xid'] for x in result['xids']] == [13, 31, 48, 63, 74, 119, 119, 45, 79]
    assert result['xids'][-1]['category'] == 'reboot'


def test_health_fail_on_unhealthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'fail_on_unhealthy': True}, {
        '-q -x': (0, fixture('v12-h100x2-remap-pending.xml'), ''),
        '-t kernel': (0, '', ''),
    })
    assert result['_rc'] == 1
    assert result['failed'] is True
    assert result['healthy'] is False
    assert result['msg'].startswith('GPUs unhealthy: GPU 1 (00000000:9B:00.0): row remapping pending')


def test_health_fallen_off_bus(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'expected_gpu_count': 2}, {
        '-q -x': (15, fixture('v12-h100x2-fallen-off-bus.xml'), fixture('fallen-off-bus.stderr')),
        '-t kernel': (0, fixture('xid-journal.txt'), ''),
    })
    assert result['_rc'] == 0
    assert result['healthy'] is False
    assert result['device_errors'][0]['pci_bus_id'] == '00000000:9B:00.0'
    assert result['node_reasons'][0].startswith('GPU at 00000000:9B:00.0 is unreachable')
    assert 'missing 00000000:9B:00.0' in result['node_reasons'][1]


def test_health_fallen_off_bus_without_xml(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'expected_gpu_count': 8}, {
        '-q -x': (15, '', fixture('fallen-off-bus.stderr')),
        '-t kernel': (0, '', ''),
    })
    assert result['_rc'] == 0
    assert result['healthy'] is False and result['gpu_count'] == 0
    assert result['node_reasons'][0].startswith('GPU at 00000000:9B:00.0 is unreachable')


def test_health_nvml_mismatch_is_unhealthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (18, fixture('nvml-mismatch.txt'), ''),
        '-t kernel': (0, '', ''),
    })
    assert result['_rc'] == 0
    assert result['healthy'] is False and result['nvml_mismatch'] is True
    assert result['node_reasons'][0].startswith('Failed to initialize NVML: Driver/library version mismatch')


def test_health_no_devices(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (6, 'No devices were found\n', ''),
        '-t kernel': (0, '', ''),
    })
    assert result['healthy'] is False
    assert result['node_reasons'][0].startswith('nvidia-smi found no GPU')


def test_health_other_failure(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {'-q -x': (2, '', 'Segmentation fault')})
    assert result['failed'] is True and result['rc'] == 2 and result['stderr'] == 'Segmentation fault'


def test_health_bad_xml(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {'-q -x': (0, fixture('truncated.xml'), '')})
    assert result['failed'] is True
    assert result['msg'].startswith('nvidia-smi -q -x output is not valid XML')


def test_health_dmesg_fallback(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
        '-t kernel': (1, '', 'No journal files were found.'),
        '': (0, fixture('xid-dmesg.txt'), ''),
    })
    assert result['xid_source'] == 'dmesg'
    assert [x['xid'] for x in result['xids']] == [94, 95]
    assert result['healthy'] is False
    assert warning_texts(result) == ['journalctl failed (rc 1): No journal files were found.; reading Xids from dmesg']


def test_health_no_log_tools(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
    }, bins=('nvidia-smi',))
    assert result['xid_source'] == 'none' and result['healthy'] is True
    assert warning_texts(result) == ['neither journalctl nor dmesg found; Xids not checked']


def test_health_negative_nvlinks(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'expected_nvlinks': -1}, {})
    assert result['failed'] is True and 'expected_nvlinks' in result['msg']


# ---------------------------------------------------------------------------
# nvidia_gpu_health: faults, findings and the hardware profile

HGX_H100 = {'gpu_count': 8, 'gpu_product': 'H100 80GB HBM3', 'nvlinks_per_gpu': 18, 'gpu_pcie_gen': 5,
            'gpu_pcie_width': 16, 'gpu_ecc_mode': True, 'gpu_persistence_mode': True, 'gpu_mig_mode': False}


def test_health_t4_in_service_is_healthy_with_findings(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (0, fixture('v11-t4-x8-p0.xml'), ''),
        '-t kernel': (0, '', ''),
    })
    assert result['_rc'] == 0
    assert result['healthy'] is True
    assert result['node_reasons'] == [] and result['gpus'][0]['reasons'] == []
    assert [(f['check'], f['severity'], f['promoted']) for f in result['findings']] == [
        ('persistence_mode', 'info', False), ('pcie_width', 'warning', False)]
    assert result['gpus'][0]['findings'] == result['findings']
    assert result['findings'][1]['value'] == 8 and result['findings'][1]['expected'] == 16


def test_health_t4_with_a_profile_expecting_x16(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health,
                 {'hw_profile': {'gpu_count': 1, 'gpu_pcie_width': 16}, 'hw_profile_name': 'pcie-t4'}, {
                     '-q -x': (0, fixture('v11-t4-x8-p0.xml'), ''),
                     '-t kernel': (0, '', ''),
                 })
    assert result['healthy'] is False
    assert result['gpus'][0]['reasons'] == [
        "GPU 0 (00000000:00:1E.0): PCIe link trained narrower than expected [pci/pci_gpu_link_info/link_widths/"
        "current_link_width = x8; expected x16 (hardware profile 'pcie-t4', gpu_pcie_width)]: reseat the GPU or riser, "
        "check the slot and cable, and reboot to retrain the link"]
    assert result['gpus'][0]['faults'][0]['source'] == "hardware profile 'pcie-t4', gpu_pcie_width"


def test_health_profile_drives_nvlink_and_options_override_it(monkeypatch, capsys):
    table = {'-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''),
             'nvlink -s': (0, fixture('nvlink-h100x8-link-down.txt'), ''),
             '-t kernel': (0, '', '')}
    result = run(monkeypatch, capsys, nvidia_gpu_health,
                 {'hw_profile': dict(HGX_H100, gpu_pcie_gen=5), 'hw_profile_name': 'hgx-h100-8gpu'}, table)
    assert [SMI, 'nvlink', '-s'] in result['_calls']
    assert [gpu['index'] for gpu in result['gpus'] if not gpu['healthy']] == [4]
    assert "(hardware profile 'hgx-h100-8gpu', nvlinks_per_gpu)" in result['gpus'][4]['reasons'][0]
    assert result['findings'] == []
    result = run(monkeypatch, capsys, nvidia_gpu_health,
                 {'hw_profile': HGX_H100, 'hw_profile_name': 'hgx-h100-8gpu', 'expected_nvlinks': 0}, table)
    assert [SMI, 'nvlink', '-s'] not in result['_calls']
    assert result['healthy'] is True


def test_health_findings_promoted_by_fail_on(monkeypatch, capsys):
    table = {'-q -x': (0, fixture('v12-h100x2-persistence-off.xml'), ''), '-t kernel': (0, '', '')}
    args = {'hw_profile': {'gpu_persistence_mode': True}, 'hw_profile_name': 'hgx-h100-8gpu'}
    result = run(monkeypatch, capsys, nvidia_gpu_health, args, table)
    assert result['healthy'] is True
    assert [(f['gpu'], f['check'], f['severity']) for f in result['findings']] == [(1, 'persistence_mode', 'warning')]
    result = run(monkeypatch, capsys, nvidia_gpu_health, dict(args, fail_on='warning', fail_on_unhealthy=True), table)
    assert result['_rc'] == 1 and result['healthy'] is False
    assert result['findings'][0]['promoted'] is True
    assert result['msg'].startswith('GPUs unhealthy: GPU 1 (00000000:9B:00.0): persistence mode is off, expected on')


def test_health_driver_version_is_a_finding(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'expected_driver_version': '580.95.05'}, {
        '-q -x': (0, fixture('v12-h100x8-healthy.xml'), ''), '-t kernel': (0, '', '')})
    assert result['healthy'] is True
    assert result['node_findings'][0]['source'] == 'option expected_driver_version'
    assert result['findings'] == result['node_findings']


def test_health_nvml_mismatch_names_its_evidence(monkeypatch, capsys):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {}, {
        '-q -x': (18, fixture('nvml-mismatch.txt'), ''), '-t kernel': (0, '', '')})
    assert result['node_faults'][0]['check'] == 'nvml_mismatch'
    assert '[nvidia-smi -q -x = rc 18; expected NVML answering (default)]' in result['node_reasons'][0]


@pytest.mark.parametrize('profile, words', [
    ({'gpu_pcie_width': 12}, 'gpu_pcie_width'),
    ({'gpu_pcie_gen': 7}, 'gpu_pcie_gen'),
    ({'gpu_compute_mode': 'Exclusive_Thread'}, 'gpu_compute_mode'),
    ({'gpu_pcie_widht': 16}, 'gpu_pcie_widht'),
    ({'nvlinks_per_gpu': -1}, "hw_profile.nvlinks_per_gpu '-1' is negative"),
])
def test_health_bad_profile(monkeypatch, capsys, profile, words):
    result = run(monkeypatch, capsys, nvidia_gpu_health, {'hw_profile': profile}, {})
    assert result['failed'] is True and words in result['msg'], result['msg']
    assert result['_calls'] == []
