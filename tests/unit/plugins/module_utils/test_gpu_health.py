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


def checks(records):
    return [(record['check'], record['severity']) for record in records]


def profile(name, **keys):
    """evaluate()'s expectations and sources from a hardware profile."""
    expect, sources = gh.expectations_from_profile(keys, name)
    return {'expect': expect, 'sources': sources}


def judge(name, links=None, xids=None, errors=None, prof=None, **expect):
    merged = dict((prof or {}).get('expect') or {})
    merged.update(expect)
    return gh.evaluate(parsed(name) if isinstance(name, str) else name, links, xids or [], merged,
                       device_errors=errors, sources=(prof or {}).get('sources'))


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
    assert verdict['node_reasons'] == [] and verdict['node_faults'] == [] and verdict['findings'] == []
    assert len(verdict['gpus']) == 8
    assert verdict['gpus'][4] == {
        'index': 4, 'uuid': 'GPU-4a1c2f3e-0b6d-4e55-9a1e-7c0d3b2a1f04', 'pci_bus_id': '00000000:9B:00.0',
        'product_name': 'NVIDIA H100 80GB HBM3', 'healthy': True, 'reasons': [], 'faults': [], 'findings': [],
        'warnings': []}


@pytest.mark.parametrize('name', ['v11-v100x2-healthy.xml', 'v13-h100x2-healthy.xml'])
def test_healthy_other_schemas(name):
    verdict = gh.evaluate(parsed(name), None, [], {'gpu_count': 2})
    assert verdict['healthy'] is True, all_reasons(verdict)


# ---------------------------------------------------------------------------
# faults: the hardware is faulty

@pytest.mark.parametrize('name, check, words', [
    ('v12-h100x2-uncorrectable-ecc.xml', 'ecc_uncorrectable',
     ['2 uncorrectable ECC errors', 'DRAM 2', 'ecc_errors/volatile/dram_uncorrectable + sram_uncorrectable = 2',
      'expected at most 0 (default allow_uncorrectable_ecc)', 'reset it', 'RMA']),
    ('v12-h100x2-remap-pending.xml', 'row_remap_pending',
     ['row remapping pending [remapped_rows/remapped_row_pending = Yes; expected No (default)]', 'nvidia-smi -r -i 1']),
    ('v12-h100x2-remap-failure.xml', 'row_remap_failure',
     ['row remapping failed', 'remapped_rows/remapped_row_failure = Yes', 'RMA']),
    ('v12-h100x2-hot.xml', 'throttle',
     ['clocks throttled by HW thermal slowdown', 'clocks_event_reason_hw_thermal_slowdown = Active', 'airflow']),
])
def test_fault_makes_gpu_1_unhealthy(name, check, words):
    verdict = gh.evaluate(parsed(name), None, [], {'gpu_count': 2})
    assert verdict['healthy'] is False
    assert verdict['gpus'][0]['healthy'] is True
    gpu = verdict['gpus'][1]
    assert gpu['healthy'] is False
    assert check in [fault['check'] for fault in gpu['faults']]
    assert all(fault['severity'] == 'critical' for fault in gpu['faults'])
    assert [fault['message'] for fault in gpu['faults']] == gpu['reasons']
    text = ' | '.join(gpu['reasons'])
    assert all(reason.startswith('GPU 1 (00000000:9B:00.0): ') for reason in gpu['reasons'])
    for word in words:
        assert word in text


def test_fault_records_name_their_evidence():
    gpu = gh.evaluate(parsed('v12-h100x2-remap-pending.xml'), None, [], {})['gpus'][1]
    assert gpu['faults'] == [{
        'check': 'row_remap_pending', 'severity': 'critical', 'gpu': 1, 'pci_bus_id': '00000000:9B:00.0',
        'field': 'remapped_rows/remapped_row_pending', 'value': True, 'expected': False, 'source': 'default',
        'message': gpu['reasons'][0],
        'advice': 'drain the GPU and reset it (nvidia-smi -r -i 1) or reboot the node to apply the remap'}]


def test_hot_gpu_temperature_is_a_finding_the_slowdown_a_fault():
    verdict = gh.evaluate(parsed('v12-h100x2-hot.xml'), None, [], {})
    gpu = verdict['gpus'][1]
    assert checks(gpu['faults']) == [('throttle', 'critical')]
    assert checks(gpu['findings']) == [('temperature', 'warning')]
    assert 'temperature 91 C is above 85 C [temperature/gpu_temp = 91 C; expected at most 85 C' in \
        gpu['findings'][0]['message']


def test_temperature_limit_is_configurable():
    verdict = gh.evaluate(parsed('v12-h100x2-hot.xml'), None, [], {'max_temperature_c': 95, 'check_throttle': False})
    assert verdict['healthy'] is True and verdict['findings'] == []


def test_uncorrectable_ecc_allowance():
    verdict = gh.evaluate(parsed('v12-h100x2-uncorrectable-ecc.xml'), None, [], {'allow_uncorrectable_ecc': 2})
    assert verdict['healthy'] is True


def test_fallen_off_bus():
    info = parsed('v12-h100x2-fallen-off-bus.xml')
    errors = ns.parse_device_errors(fixture('fallen-off-bus.stderr'))
    xids = gh.parse_xid_lines(fixture('xid-journal.txt'))
    verdict = gh.evaluate(info, None, xids, {'gpu_count': 2}, device_errors=errors)
    assert verdict['healthy'] is False
    reasons = verdict['node_reasons']
    assert reasons[0].startswith('GPU at 00000000:9B:00.0 is unreachable: it has fallen off the bus [nvidia-smi '
                                 'output = Unable to determine the device handle')
    assert 'reboot the node' in reasons[0]
    assert reasons[1].startswith('nvidia-smi lists 1 GPUs, expected 2 (missing 00000000:9B:00.0)')
    assert '[gpu (count) = 1; expected 2 (expectation gpu_count)]' in reasons[1]
    assert any(reason.startswith('GPU at 00000000:9B:00.0 (not listed by nvidia-smi): Xid 79 (GPU has fallen off '
                                 'the bus) at 2026-01-05T09:58:58+0000 [') and 'reboot the node' in reason
               for reason in reasons)
    found = [fault['check'] for fault in verdict['node_faults']]
    assert found[:2] == ['gpu_unreachable', 'gpu_count'] and set(found[2:]) == set(['xid'])
    # Xids of buses this node's nvidia-smi does not list are node reasons; application-level ones are left out
    assert not any('Xid 13' in reason or 'Xid 31' in reason for reason in reasons)


def test_attached_more_than_listed_without_stderr():
    verdict = gh.evaluate(parsed('v12-h100x2-fallen-off-bus.xml'), None, [], {})
    assert verdict['node_reasons'] == [
        'nvidia-smi counts 2 attached GPUs but could query only 1: a GPU has fallen off the bus [attached_gpus = 2; '
        'expected 1 (the GPUs listed) (default)]: check dmesg for Xid 79 and reboot the node']


def test_no_output_at_all():
    verdict = gh.evaluate(None, None, [], {'gpu_count': 8})
    assert verdict['healthy'] is False
    assert verdict['node_reasons'][0].startswith('nvidia-smi lists 0 GPUs, expected 8')


def test_more_gpus_than_expected_is_a_finding():
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), None, [], {'gpu_count': 4})
    assert verdict['healthy'] is True
    assert checks(verdict['node_findings']) == [('gpu_count', 'warning')]
    assert verdict['findings'] == verdict['node_findings']


def test_nvlink_down():
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-link-down.txt'))
    prof = profile('hgx-h100-8gpu', nvlinks_per_gpu=18)
    verdict = judge('v12-h100x8-healthy.xml', links, prof=prof)
    assert verdict['healthy'] is False
    bad = [gpu for gpu in verdict['gpus'] if not gpu['healthy']]
    assert [gpu['index'] for gpu in bad] == [4]
    assert bad[0]['reasons'] == [
        "GPU 4 (00000000:9B:00.0): 16 of 18 NVLinks up (down: 3, 7) [nvidia-smi nvlink -s = 16 up; expected 18 up "
        "(hardware profile 'hgx-h100-8gpu', nvlinks_per_gpu)]: check nvidia-fabricmanager, reset the GPU or reboot "
        "the node; if links stay down, replace the GPU or NVSwitch baseboard"]


def test_nvlinks_down_without_expectation_are_a_finding():
    info = parsed('v12-h100x8-healthy.xml')
    ns.merge_nvlinks(info, fixture('nvlink-h100x8-link-down.txt'))
    verdict = gh.evaluate(info, None, [], {})
    assert verdict['healthy'] is True
    assert [(f['gpu'], f['check'], f['severity']) for f in verdict['findings']] == [(4, 'nvlink', 'warning')]
    assert gh.evaluate(info, None, [], {'expected_nvlinks': 18})['healthy'] is False


def test_nvlink_missing_status():
    expect = {'expected_nvlinks': 18, 'max_temperature_c': 99, 'check_throttle': False}
    verdict = gh.evaluate(parsed('v12-h100x2-hot.xml'), None, [], expect)
    assert 'no NVLink status for this GPU' in verdict['gpus'][0]['reasons'][0]


def test_xids_mapped_to_gpus():
    xids = gh.parse_xid_lines(fixture('xid-journal.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), None, xids, H100)
    by_index = dict((gpu['index'], gpu) for gpu in verdict['gpus'])
    # 13 and 31: application-level, warnings (info findings) only
    assert by_index[0]['healthy'] is True and 'Xid 13 (graphics engine exception)' in by_index[0]['warnings'][0]
    assert checks(by_index[0]['findings']) == [('xid', 'info')]
    assert by_index[1]['healthy'] is True and 'Xid 31' in by_index[1]['warnings'][0]
    # 48: DBE workflow, 63 alongside it a warning
    assert by_index[2]['healthy'] is False
    assert by_index[2]['reasons'] == [
        'GPU 2 (00000000:3A:00.0): Xid 48 (double-bit ECC error) at 2026-01-05T09:30:15+0000 [kernel log, NVRM: Xid = '
        'Xid 48; expected no Xid of a fatal class (NVIDIA Xid catalog, class dbe)]: ' + gh.XID_ACTIONS['dbe']]
    assert 'Xid 63' in by_index[2]['warnings'][0]
    # 74: NVLink workflow
    assert 'Xid 74 (NVLink error)' in by_index[3]['reasons'][0] and 'NVLink workflow' in by_index[3]['reasons'][0]
    # 79 on GPU 4, listed by nvidia-smi here
    assert by_index[4]['reasons'][0].startswith(
        'GPU 4 (00000000:9B:00.0): Xid 79 (GPU has fallen off the bus) at 2026-01-05T09:58:58+0000 [')
    assert by_index[4]['reasons'][0].endswith(
        ': reboot the node; if the GPU does not come back or the Xid recurs, reseat it or open an RMA')
    assert by_index[4]['faults'][0]['value'] == 79 and by_index[4]['faults'][0]['source'] == \
        'NVIDIA Xid catalog, class reboot'
    # 119 twice: one reason with the count and the last time
    assert by_index[5]['reasons'][0].startswith(
        'GPU 5 (00000000:AB:00.0): Xid 119 (GSP RPC timeout) x2 at 2026-01-05T09:47:15+0000 [')
    assert 'drain the GPU and reset it' in by_index[5]['reasons'][0]
    # 45: unknown to the catalog, a warning
    assert by_index[6]['healthy'] is True and 'NVIDIA Xid catalog' in by_index[6]['warnings'][0]
    assert by_index[7]['healthy'] is True
    assert verdict['node_reasons'] == []


def test_xid_reset_class_from_dmesg():
    xids = gh.parse_xid_lines(fixture('xid-dmesg.txt'))
    verdict = gh.evaluate(parsed('v12-h100x8-healthy.xml'), None, xids, {})
    gpu = verdict['gpus'][7]
    assert gpu['healthy'] is False
    assert gpu['reasons'][0].startswith('GPU 7 (00000000:DB:00.0): Xid 95 (uncontained ECC error) at 4020.118040 [')
    assert 'Xid 94' in gpu['warnings'][0]


def test_reset_required_and_fabric():
    info = parsed('v12-h100x8-healthy.xml')
    info['gpus'][1]['reset_required'] = True
    info['gpus'][2]['fabric'] = {'state': 'In Progress', 'status': None}
    info['gpus'][3]['fabric'] = {'state': 'Completed', 'status': 'Failure'}
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-healthy.txt'))
    verdict = gh.evaluate(info, links, [], {'expected_nvlinks': 18}, sources={'expected_nvlinks': 'option x'})
    assert 'GPU reset is required' in verdict['gpus'][1]['reasons'][0]
    assert "NVLink fabric registration not completed [fabric/state = In Progress; expected Completed (option x)]" \
        in ' '.join(verdict['gpus'][2]['reasons'])
    assert "[fabric/status = Failure; expected Success" in ' '.join(verdict['gpus'][3]['reasons'])
    # without NVLinks expected, a fabric that did not register is a finding
    verdict = gh.evaluate(info, None, [], {})
    assert verdict['gpus'][2]['healthy'] is True
    assert (2, 'fabric', 'warning') in [(f['gpu'], f['check'], f['severity']) for f in verdict['findings']]
    assert verdict['gpus'][1]['healthy'] is False


# ---------------------------------------------------------------------------
# findings: configuration and the GPU's own maximum

def test_configuration_findings_do_not_change_the_verdict():
    for name, check in (('v12-h100x2-persistence-off.xml', 'persistence_mode'), ('v12-h100x2-ecc-off.xml', 'ecc_mode'),
                        ('v12-h100x2-pcie-x8.xml', 'pcie_width')):
        verdict = gh.evaluate(parsed(name), None, [], {'gpu_count': 2})
        assert verdict['healthy'] is True, (name, all_reasons(verdict))
        assert [(f['gpu'], f['check']) for f in verdict['findings']] == [(1, check)], name
        assert verdict['gpus'][1]['reasons'] == []


def test_persistence_expectation_from_the_profile():
    prof = profile('hgx-h100-8gpu', gpu_persistence_mode=True)
    verdict = judge('v12-h100x2-persistence-off.xml', prof=prof)
    assert verdict['healthy'] is True
    finding = verdict['findings'][0]
    assert (finding['check'], finding['severity'], finding['gpu']) == ('persistence_mode', 'warning', 1)
    assert finding['message'] == (
        "GPU 1 (00000000:9B:00.0): persistence mode is off, expected on [persistence_mode = Disabled; expected Enabled "
        "(hardware profile 'hgx-h100-8gpu', gpu_persistence_mode)]: enable and start nvidia-persistenced (or "
        "nvidia-smi -pm 1); the nvidia_driver role does this")
    verdict = judge('v12-h100x2-persistence-off.xml', prof=profile('p', gpu_persistence_mode=False))
    assert [(f['gpu'], f['value']) for f in verdict['findings']] == [(0, True)]


def test_ecc_pending_enable():
    info = parsed('v12-h100x2-ecc-off.xml')
    info['gpus'][1]['ecc_mode_pending'] = True
    verdict = judge(info, prof=profile('hgx-h100-8gpu', gpu_ecc_mode=True))
    assert verdict['healthy'] is True
    assert 'ECC is enabled pending a reset' in verdict['findings'][0]['message']
    assert verdict['findings'][0]['severity'] == 'warning'


def test_fail_on_promotes_findings():
    verdict = judge('v12-h100x2-persistence-off.xml', prof=profile('hgx-h100-8gpu', gpu_persistence_mode=True),
                    fail_on='warning')
    assert verdict['healthy'] is False
    assert verdict['findings'][0]['promoted'] is True
    assert verdict['gpus'][1]['reasons'] == [
        verdict['findings'][0]['message'] + ' (finding of severity warning, failing with fail_on=warning)']
    assert verdict['gpus'][1]['faults'] == []
    # an info finding is promoted only by fail_on=info
    assert judge('v12-h100x2-persistence-off.xml', fail_on='warning')['healthy'] is True
    assert judge('v12-h100x2-persistence-off.xml', fail_on='info')['healthy'] is False
    with pytest.raises(ValueError):
        judge('v12-h100x2-persistence-off.xml', fail_on='major')


def test_expectations():
    info = parsed('v12-h100x8-healthy.xml')
    verdict = gh.evaluate(info, None, [], {'gpu_count': 4, 'product_name': 'A100', 'driver_version': '550.54.15'})
    assert verdict['healthy'] is True  # configuration: more GPUs, another product, another driver
    messages = [finding['message'] for finding in verdict['findings']]
    assert messages[0] == (
        "driver version differs from the expected one [driver_version = 535.183.01; expected 550.54.15 "
        "(expectation driver_version)]: install the expected driver and reboot the node")
    assert messages[1].startswith('nvidia-smi lists 8 GPUs, more than the 4 expected')
    assert "GPU 0 (00000000:18:00.0): product differs from the expected one [product_name = NVIDIA H100 80GB HBM3; " \
        "expected a name containing 'A100'" in messages[2]


def test_expectations_from_profile():
    expect, sources = gh.expectations_from_profile(
        {'gpu_count': 8, 'gpu_product': 'H100', 'nvlinks_per_gpu': 18, 'gpu_pcie_gen': 5, 'gpu_pcie_width': 16,
         'gpu_ecc_mode': True, 'gpu_persistence_mode': True, 'gpu_mig_mode': False, 'gpu_mig_devices': None,
         'gpu_compute_mode': 'Default', 'nics': 8}, 'hgx-h100-8gpu')
    assert expect == {'gpu_count': 8, 'product_name': 'H100', 'expected_nvlinks': 18, 'pcie_gen': 5, 'pcie_width': 16,
                      'ecc_mode': True, 'persistence_mode': True, 'mig_mode': False, 'compute_mode': 'Default'}
    assert sources['pcie_width'] == "hardware profile 'hgx-h100-8gpu', gpu_pcie_width"
    assert gh.expectations_from_profile(None) == ({}, {})
    assert gh.expectations_from_profile({'gpu_count': 2})[1] == {'gpu_count': 'hardware profile, gpu_count'}


# ---------------------------------------------------------------------------
# real captures of GPUs in normal service

def test_t4_x8_without_expectations_is_healthy_with_findings():
    verdict = judge('v11-t4-x8-p0.xml')
    assert verdict['healthy'] is True
    assert [(f['check'], f['severity']) for f in verdict['findings']] == [
        ('persistence_mode', 'info'), ('pcie_width', 'warning')]
    width = verdict['findings'][1]
    assert (width['field'], width['value'], width['expected']) == (
        'pci/pci_gpu_link_info/link_widths/current_link_width', 8, 16)
    assert width['source'].startswith('the GPU maximum, pci/pci_gpu_link_info/link_widths/max_link_width')
    assert width['promoted'] is False


def test_t4_x8_with_a_profile_expecting_x16_is_unhealthy_naming_the_profile():
    verdict = judge('v11-t4-x8-p0.xml', prof=profile('pcie-t4-x16', gpu_pcie_width=16))
    assert verdict['healthy'] is False
    assert verdict['gpus'][0]['reasons'] == [
        "GPU 0 (00000000:00:1E.0): PCIe link trained narrower than expected [pci/pci_gpu_link_info/link_widths/"
        "current_link_width = x8; expected x16 (hardware profile 'pcie-t4-x16', gpu_pcie_width)]: reseat the GPU or "
        "riser, check the slot and cable, and reboot to retrain the link"]
    assert checks(verdict['gpus'][0]['faults']) == [('pcie_width', 'critical')]


def test_gpu_wired_x8_by_design():
    # AWS g5: the A10G is wired x8; idle at Gen1 of Gen4
    verdict = judge('v11-a10g-x8-idle-gen1.xml', prof=profile('g5-a10g', gpu_pcie_width=8, gpu_pcie_gen=4))
    assert verdict['healthy'] is True
    assert checks(verdict['findings']) == [('persistence_mode', 'info')]


def test_idle_gpu_at_gen1_is_not_judged():
    for name in ('v11-a10g-x8-idle-gen1.xml', 'v12-rtx3090-no-ecc.xml', 'v13-rtx4000ada-ecc-off.xml'):
        verdict = judge(name, prof=profile('p', gpu_pcie_gen=4))
        assert 'pcie_gen' not in [f['check'] for f in verdict['findings']], name
        assert verdict['healthy'] is True, name
    # unless asked to judge idle GPUs too
    verdict = judge('v12-rtx3090-no-ecc.xml', prof=profile('p', gpu_pcie_gen=4), check_pcie_gen=True)
    assert verdict['healthy'] is False
    assert 'Gen1 (P8, 0 % utilization, judged with check_pcie_gen)' in verdict['gpus'][0]['reasons'][0]


def test_busy_gpu_at_a_lower_generation():
    assert judge('v13-rtx3080-busy.xml')['findings'][-1]['check'] == 'persistence_mode'  # at Gen4 of Gen4
    verdict = judge('v13-rtx3080-busy-gen3.xml')
    assert verdict['healthy'] is True
    gen = [f for f in verdict['findings'] if f['check'] == 'pcie_gen'][0]
    assert (gen['severity'], gen['value'], gen['expected']) == ('warning', 3, 4)
    assert 'current_link_gen = Gen3 (P2, 65 % utilization); expected Gen4 (the GPU maximum' in gen['message']
    verdict = judge('v13-rtx3080-busy-gen3.xml', prof=profile('ws-gen4', gpu_pcie_gen=4))
    assert verdict['healthy'] is False
    assert "expected Gen4 (hardware profile 'ws-gen4', gpu_pcie_gen)" in verdict['gpus'][0]['reasons'][0]
    # a platform that only does Gen3: no finding
    gen3 = judge('v13-rtx3080-busy-gen3.xml', prof=profile('gen3', gpu_pcie_gen=3))
    assert 'pcie_gen' not in [f['check'] for f in gen3['findings']]


def test_consumer_gpus_without_ecc():
    # GeForce: no ECC at all (N/A): nothing to report, even with persistence on
    verdict = judge('v12-rtx3090-no-ecc.xml')
    assert verdict['healthy'] is True and verdict['findings'] == []
    # a profile that expects ECC on such a GPU: a finding about the profile, not a fault
    verdict = judge('v12-rtx3090-no-ecc.xml', prof=profile('ws', gpu_ecc_mode=True))
    assert verdict['healthy'] is True
    assert checks(verdict['findings']) == [('ecc_mode', 'warning')]
    assert 'the GPU reports no ECC mode' in verdict['findings'][0]['message']


def test_ecc_off_is_a_finding_where_the_profile_expects_nothing():
    verdict = judge('v13-rtx4000ada-ecc-off.xml')
    assert verdict['healthy'] is True
    assert checks(verdict['findings']) == [('ecc_mode', 'info')]
    assert judge('v13-rtx4000ada-ecc-off.xml', prof=profile('ws', gpu_ecc_mode=False))['findings'] == []
    verdict = judge('v13-rtx4000ada-ecc-off.xml', prof=profile('ws', gpu_ecc_mode=True))
    assert checks(verdict['findings']) == [('ecc_mode', 'warning')] and verdict['healthy'] is True


def test_a100_with_mig():
    verdict = judge('v12-a100-mig.xml')
    assert verdict['healthy'] is True
    assert checks(verdict['findings']) == [('persistence_mode', 'info'), ('row_remap_unknown', 'info')]
    verdict = judge('v12-a100-mig.xml',
                    prof=profile('a100-mig', gpu_mig_mode=True, gpu_mig_devices=4, gpu_persistence_mode=False, gpu_ecc_mode=True))
    assert checks(verdict['findings']) == [('row_remap_unknown', 'info')]
    verdict = judge('v12-a100-mig.xml', prof=profile('a100-mig', gpu_mig_mode=True, gpu_mig_devices=7))
    assert ('mig_devices', 'warning') in checks(verdict['findings'])
    assert "[mig_devices/mig_device (count) = 4; expected 7 (hardware profile 'a100-mig', gpu_mig_devices)]" in \
        [f for f in verdict['findings'] if f['check'] == 'mig_devices'][0]['message']
    verdict = judge('v12-a100-mig.xml', prof=profile('hgx-a100-8gpu', gpu_mig_mode=False), fail_on='warning')
    assert verdict['healthy'] is False
    assert 'MIG mode is on, expected off' in verdict['gpus'][0]['reasons'][0]


def test_compute_mode_against_the_profile():
    verdict = judge('v11-t4-x8-p0.xml', prof=profile('t4', gpu_compute_mode='Exclusive_Process', gpu_pcie_width=8))
    assert verdict['healthy'] is True
    assert checks(verdict['findings']) == [('persistence_mode', 'info'), ('compute_mode', 'warning')]
    assert 'nvidia-smi -c EXCLUSIVE_PROCESS -i 0' in verdict['findings'][1]['advice']


GB_PROFILE = dict(gpu_count=4, nvlinks_per_gpu=18, gpu_ecc_mode=True, gpu_persistence_mode=True,
                  gpu_mig_mode=False)


@pytest.mark.parametrize('name, product', [('v13-gb200x4-nvl72.xml', 'GB200'), ('v13-gb300x4-nvl72.xml', 'GB300')])
def test_grace_blackwell_healthy(name, product):
    info = parsed(name)
    links = fixture('nvlink-gb200x4-healthy.txt').replace('GB200', product)
    links = links.replace('1a2b-', '1a2b-' if product == 'GB200' else '3c4d-')
    ns.merge_nvlinks(info, links)
    verdict = judge(info, prof=profile('gb-nvl72', gpu_product=product, **GB_PROFILE))
    assert verdict['healthy'] is True, all_reasons(verdict)
    assert verdict['findings'] == []


def test_grace_blackwell_fabric_faults_and_findings():
    info = parsed('v13-gb200x4-nvl72.xml')
    ns.merge_nvlinks(info, fixture('nvlink-gb200x4-healthy.txt'))
    info['gpus'][1]['fabric']['state'] = 'In Progress'
    info['gpus'][2]['fabric']['health_summary'] = 'Unhealthy'
    info['gpus'][2]['fabric']['health_bandwidth'] = 'Degraded'
    for link in info['gpus'][3]['nvlinks'][:2]:
        link['up'] = False
    verdict = judge(info, prof=profile('gb200-nvl72', **GB_PROFILE))
    assert [gpu['healthy'] for gpu in verdict['gpus']] == [True, False, True, False]
    assert "[fabric/state = In Progress; expected Completed (hardware profile 'gb200-nvl72', nvlinks_per_gpu)]" in \
        verdict['gpus'][1]['reasons'][0]
    assert "16 of 18 NVLinks up (down: 0, 1)" in verdict['gpus'][3]['reasons'][0]
    assert [(f['gpu'], f['check'], f['severity']) for f in verdict['findings']] == [(2, 'fabric_health', 'warning')]
    assert 'NVLink fabric health is Unhealthy (bandwidth Degraded)' in verdict['findings'][0]['message']


def test_evaluate_does_not_modify_input():
    info = parsed('v12-h100x8-healthy.xml')
    before = copy.deepcopy(info)
    gh.evaluate(info, None, gh.parse_xid_lines(fixture('xid-journal.txt')), H100)
    assert info == before
