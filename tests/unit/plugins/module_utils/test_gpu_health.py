# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import gpu_health as gh
from ansible_collections.aifabric.cluster.plugins.module_utils import nvidia_smi as ns

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nvidia_smi')
H100 = {'gpu_count': 8, 'product_name': 'H100 80GB HBM3', 'driver_version': '535.183.01'}


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def parsed(name):
    return ns.parse_nvidia_smi_xml(fixture(name))


def all_reasons(verdict):
    return verdict['node_reasons'] + [reason for gpu in verdict['gpus'] for reason in gpu['reasons']]


@pytest.mark.parametrize('code, category', [
    (46, 'reset_gpu'), (62, 'reset_gpu'), (64, 'reset_gpu'), (95, 'reset_gpu'), (109, 'reset_gpu'),
    (110, 'reset_gpu'), (119, 'reset_gpu'), (120, 'reset_gpu'), (136, 'reset_gpu'), (140, 'reset_gpu'),
    (143, 'reset_gpu'), (155, 'reset_gpu'), (156, 'reset_gpu'), (158, 'reset_gpu'),
    (79, 'reboot'),
    (74, 'nvlink'), (144, 'nvlink'), (147, 'nvlink'), (150, 'nvlink'),
    (48, 'dbe'),
    (13, 'ignore'), (31, 'ignore'), (43, 'ignore'), (63, 'ignore'), (92, 'ignore'), (94, 'ignore'),
    (45, 'unknown'), (151, 'unknown'), ('79', 'reboot'), ('x', 'unknown'), (None, 'unknown'),
])
def test_classify_xid(code, category):
    assert gh.classify_xid(code) == category


def test_parse_xid_journal():
    xids = gh.parse_xid_lines(fixture('xid-journal.txt'))
    assert [x['xid'] for x in xids] == [13, 31, 48, 63, 74, 119, 119, 45, 79]
    fallen = xids[-1]
    assert fallen['pci'] == '00000000:9B:00.0'
    assert fallen['pci_raw'] == '0000:9b:00'
    assert fallen['category'] == 'reboot'
    assert fallen['time'] == '2026-01-05T09:58:58+0000'
    assert fallen['pid'] == '<unknown>'
    assert fallen['name'] == '<unknown>'
    assert fallen['text'] == 'GPU has fallen off the bus.'
    assert xids[0]['pid'] == '40211' and xids[0]['name'] == 'python3'
    assert xids[0]['text'].startswith('Graphics SM Warp Exception')


def test_parse_xid_dmesg():
    xids = gh.parse_xid_lines(fixture('xid-dmesg.txt'))
    assert [(x['xid'], x['category'], x['time']) for x in xids] == [
        (94, 'ignore', '4012.339201'), (95, 'reset_gpu', '4020.118040')]


def test_parse_xid_line_without_pid():
    record = gh.parse_xid_line('NVRM: Xid (PCI:0000:3b:00): 13, Graphics Exception: ESR 0x50')
    assert record['xid'] == 13 and record['pid'] is None and record['text'] == 'Graphics Exception: ESR 0x50'
    assert gh.parse_xid_line('NVRM: loading NVIDIA UNIX x86_64 Kernel Module') is None


def test_healthy_v12_node():
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-healthy.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), links, [], dict(H100, expected_nvlinks=18))
    assert verdict['healthy'] is True, all_reasons(verdict)
    assert verdict['node_reasons'] == []
    assert len(verdict['gpus']) == 8
    assert verdict['gpus'][4] == {
        'index': 4, 'uuid': 'GPU-4a1c2f3e-0b6d-4e55-9a1e-7c0d3b2a1f04', 'pci_bus_id': '00000000:9B:00.0',
        'product_name': 'NVIDIA H100 80GB HBM3', 'healthy': True, 'reasons': [], 'warnings': []}


@pytest.mark.parametrize('name', ['v11-v100x2-healthy.xml', 'v13-h100x2-healthy.xml'])
def test_healthy_other_schemas(name):
    verdict = gh.evaluate(parsed(name), None, [], {'gpu_count': 2})
    assert verdict['healthy'] is True, all_reasons(verdict)


@pytest.mark.parametrize('name, words', [
    ('v12-h100x2-uncorrectable-ecc.xml', ['2 uncorrectable ECC errors', 'DRAM 2', 'reset it', 'RMA']),
    ('v12-h100x2-remap-pending.xml', ['row remapping pending', 'nvidia-smi -r -i 1']),
    ('v12-h100x2-remap-failure.xml', ['row remapping failed', 'RMA']),
    ('v12-h100x2-pcie-x8.xml', ['PCIe link degraded to x8 (capable of x16)', 'reseat']),
    ('v12-h100x2-hot.xml', ['temperature 91 C is above 85 C', 'airflow']),
    ('v12-h100x2-persistence-off.xml', ['persistence mode is off', 'nvidia-persistenced']),
    ('v12-h100x2-ecc-off.xml', ['ECC is disabled', 'nvidia-smi -e 1 -i 1']),
])
def test_fault_makes_gpu_1_unhealthy(name, words):
    verdict = gh.evaluate(parsed(name), None, [], {'gpu_count': 2})
    assert verdict['healthy'] is False
    assert verdict['gpus'][0]['healthy'] is True
    gpu = verdict['gpus'][1]
    assert gpu['healthy'] is False
    text = ' | '.join(gpu['reasons'])
    assert all(reason.startswith('GPU 1 (00000000:9B:00.0): ') for reason in gpu['reasons'])
    for word in words:
        assert word in text


def test_hot_gpu_reports_thermal_throttle():
    verdict = gh.evaluate(parsed('v12-h100x2-hot.xml'), None, [], {})
    assert any('HW thermal slowdown' in reason for reason in verdict['gpus'][1]['reasons'])


def test_temperature_limit_is_configurable():
    info = parsed('v12-h100x2-hot.xml')
    verdict = gh.evaluate(info, None, [], {'max_temperature_c': 95, 'check_throttle': False})
    assert verdict['healthy'] is True


def test_uncorrectable_ecc_allowance():
    verdict = gh.evaluate(parsed('v12-h100x2-uncorrectable-ecc.xml'), None, [], {'allow_uncorrectable_ecc': 2})
    assert verdict['healthy'] is True


def test_persistence_not_required():
    verdict = gh.evaluate(parsed('v12-h100x2-persistence-off.xml'), None, [], {'persistence_mode': False})
    assert verdict['gpus'][1]['healthy'] is True
    assert verdict['gpus'][0]['reasons'] == [
        'GPU 0 (00000000:18:00.0): persistence mode is on, expected off: stop nvidia-persistenced (or nvidia-smi -pm 0)']


def test_ecc_pending_enable():
    info = parsed('v12-h100x2-ecc-off.xml')
    info['gpus'][1]['ecc_mode_pending'] = True
    verdict = gh.evaluate(info, None, [], {})
    assert 'enabled pending a reset' in verdict['gpus'][1]['reasons'][0]


def test_pcie_gen_only_when_asked():
    info = parsed('v12-h100x8-healthy.xml')
    info['gpus'][2]['pcie']['gen_current'] = 1
    assert gh.evaluate(info, None, [], {})['healthy'] is True
    verdict = gh.evaluate(info, None, [], {'check_pcie_gen': True})
    assert verdict['gpus'][2]['reasons'] == [
        'GPU 2 (00000000:3A:00.0): PCIe link at Gen1 (capable of Gen5): an idle GPU downtrains, so re-check under '
        'load; if it stays low, check the BIOS PCIe settings, reseat the GPU and reboot']


def test_fallen_off_bus():
    info = parsed('v12-h100x2-fallen-off-bus.xml')
    errors = ns.parse_device_errors(fixture('fallen-off-bus.stderr'))
    xids = gh.parse_xid_lines(fixture('xid-journal.txt'))
    verdict = gh.evaluate(info, None, xids, {'gpu_count': 2}, device_errors=errors)
    assert verdict['healthy'] is False
    reasons = verdict['node_reasons']
    assert reasons[0].startswith('GPU at 00000000:9B:00.0 is unreachable (Unable to determine the device handle')
    assert 'reboot the node' in reasons[0]
    assert reasons[1].startswith('nvidia-smi lists 1 GPUs, expected 2 (missing 00000000:9B:00.0)')
    assert any(reason.startswith('GPU at 00000000:9B:00.0 (not listed by nvidia-smi): Xid 79 (GPU has fallen off '
                                 'the bus) at 2026-01-05T09:58:58+0000: reboot the node') for reason in reasons)
    # Xids of buses this node's nvidia-smi does not list are node reasons; application-level ones are left out
    assert not any('Xid 13' in reason or 'Xid 31' in reason for reason in reasons)


def test_attached_more_than_listed_without_stderr():
    verdict = gh.evaluate(parsed('v12-h100x2-fallen-off-bus.xml'), None, [], {})
    assert verdict['node_reasons'] == [
        'nvidia-smi counts 2 attached GPUs but could query only 1: a GPU has fallen off the bus: check dmesg for '
        'Xid 79 and reboot the node']


def test_no_output_at_all():
    verdict = gh.evaluate(None, None, [], {'gpu_count': 8})
    assert verdict['healthy'] is False
    assert verdict['node_reasons'][0].startswith('nvidia-smi lists 0 GPUs, expected 8')


def test_nvlink_down():
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-link-down.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), links, [], dict(H100, expected_nvlinks=18))
    assert verdict['healthy'] is False
    bad = [gpu for gpu in verdict['gpus'] if not gpu['healthy']]
    assert [gpu['index'] for gpu in bad] == [4]
    assert bad[0]['reasons'] == [
        'GPU 4 (00000000:9B:00.0): 16 of 18 NVLinks up, expected 18 (down: 3, 7): check nvidia-fabricmanager, '
        'reset the GPU or reboot the node; if links stay down, replace the GPU or NVSwitch baseboard']


def test_nvlink_not_checked_by_default_and_merged_links():
    info = parsed('v12-h100x8-healthy.xml')
    ns.merge_nvlinks(info, fixture('nvlink-h100x8-link-down.txt'))
    assert gh.evaluate(info, None, [], {})['healthy'] is True
    assert gh.evaluate(info, None, [], {'expected_nvlinks': 18})['healthy'] is False


def test_nvlink_missing_status():
    expect = {'expected_nvlinks': 18, 'max_temperature_c': 99, 'check_throttle': False}
    verdict = gh.evaluate(parsed('v12-h100x2-hot.xml'), None, [], expect)
    assert 'no NVLink status for this GPU' in verdict['gpus'][0]['reasons'][0]


def test_xids_mapped_to_gpus():
    xids = gh.parse_xid_lines(fixture('xid-journal.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), None, xids, H100)
    by_index = dict((gpu['index'], gpu) for gpu in verdict['gpus'])
    # 13 and 31: application-level, warnings only
    assert by_index[0]['healthy'] is True and 'Xid 13 (graphics engine exception)' in by_index[0]['warnings'][0]
    assert by_index[1]['healthy'] is True and 'Xid 31' in by_index[1]['warnings'][0]
    # 48: DBE workflow, 63 alongside it a warning
    assert by_index[2]['healthy'] is False
    assert by_index[2]['reasons'] == [
        'GPU 2 (00000000:3A:00.0): Xid 48 (double-bit ECC error) at 2026-01-05T09:30:15+0000: ' + gh.XID_ACTIONS['dbe']]
    assert 'Xid 63' in by_index[2]['warnings'][0]
    # 74: NVLink workflow
    assert 'Xid 74 (NVLink error)' in by_index[3]['reasons'][0] and 'NVLink workflow' in by_index[3]['reasons'][0]
    # 79 on GPU 4, listed by nvidia-smi here
    assert by_index[4]['reasons'] == [
        'GPU 4 (00000000:9B:00.0): Xid 79 (GPU has fallen off the bus) at 2026-01-05T09:58:58+0000: reboot the node; '
        'if the GPU does not come back or the Xid recurs, reseat it or open an RMA']
    # 119 twice: one reason with the count and the last time
    assert by_index[5]['reasons'][0].startswith(
        'GPU 5 (00000000:AB:00.0): Xid 119 (GSP RPC timeout) x2 at 2026-01-05T09:47:15+0000: drain the GPU and reset it')
    # 45: unknown to the catalog, a warning
    assert by_index[6]['healthy'] is True and 'NVIDIA Xid catalog' in by_index[6]['warnings'][0]
    assert by_index[7]['healthy'] is True
    assert verdict['node_reasons'] == []


def test_xid_reset_class_from_dmesg():
    xids = gh.parse_xid_lines(fixture('xid-dmesg.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), None, xids, {})
    gpu = verdict['gpus'][7]
    assert gpu['healthy'] is False
    assert gpu['reasons'][0].startswith('GPU 7 (00000000:DB:00.0): Xid 95 (uncontained ECC error) at 4020.118040: ')
    assert 'Xid 94' in gpu['warnings'][0]


def test_expectations():
    info = parsed('v12-h100x8-healthy.xml')
    verdict = gh.evaluate(info, None, [], {'gpu_count': 4, 'product_name': 'A100', 'driver_version': '550.54.15'})
    assert verdict['node_reasons'][0] == (
        "driver version is '535.183.01', expected '550.54.15': install the expected driver and reboot the node")
    assert verdict['node_reasons'][1].startswith('nvidia-smi lists 8 GPUs, expected 4')
    assert "product is 'NVIDIA H100 80GB HBM3', expected 'A100'" in verdict['gpus'][0]['reasons'][0]


def test_reset_required_and_fabric():
    info = parsed('v12-h100x8-healthy.xml')
    info['gpus'][1]['reset_required'] = True
    info['gpus'][2]['fabric'] = {'state': 'In Progress', 'status': None}
    info['gpus'][3]['fabric'] = {'state': 'Completed', 'status': 'Failure'}
    verdict = gh.evaluate(info, None, [], {})
    assert 'GPU reset is required' in verdict['gpus'][1]['reasons'][0]
    assert "fabric registration is 'In Progress'" in verdict['gpus'][2]['reasons'][0]
    assert "status is 'Failure'" in verdict['gpus'][3]['reasons'][0]


def test_evaluate_does_not_modify_input():
    info = parsed('v12-h100x8-healthy.xml')
    before = copy.deepcopy(info)
    gh.evaluate(info, None, gh.parse_xid_lines(fixture('xid-journal.txt')), H100)
    assert info == before
