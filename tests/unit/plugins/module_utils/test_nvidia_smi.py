# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import nvidia_smi as ns

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nvidia_smi')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


@pytest.fixture(scope='module')
def v12():
    return ns.parse_nvidia_smi_xml(fixture('v12-h100x8-healthy.xml'))


def test_v12_top_level(v12):
    assert v12['schema'] == 'v12'
    assert v12['driver_version'] == '535.183.01'
    assert v12['cuda_version'] == '12.2'
    assert v12['attached_gpus'] == 8
    assert [gpu['index'] for gpu in v12['gpus']] == list(range(8))
    assert v12['gpus'][4]['pci_bus_id'] == '00000000:9B:00.0'


def test_v12_gpu_record(v12):
    gpu = v12['gpus'][0]
    assert gpu['product_name'] == 'NVIDIA H100 80GB HBM3'
    assert gpu['uuid'] == 'GPU-4a1c2f3e-0b6d-4e55-9a1e-7c0d3b2a1f00'
    assert gpu['serial'] == '1654123000000'
    assert gpu['minor_number'] == 0
    assert gpu['vbios_version'] == '96.00.99.00.01'
    assert gpu['persistence_mode'] is True
    assert gpu['mig_mode_current'] is False
    assert gpu['ecc_mode_current'] is True
    assert gpu['ecc_errors']['volatile'] == {
        'sram_correctable': 0, 'sram_uncorrectable': 0, 'dram_correctable': 0, 'dram_uncorrectable': 0,
        'sram_threshold_exceeded': None}
    assert gpu['ecc_errors']['aggregate']['dram_correctable'] == 3
    assert gpu['remapped_rows'] == {'correctable': 0, 'uncorrectable': 0, 'pending': False, 'failure': False}
    assert gpu['retired_pages'] is None  # every value N/A
    assert gpu['temperature_c'] == 34
    assert gpu['temperature_slowdown_c'] == 87
    assert gpu['temperature_shutdown_c'] == 92
    assert gpu['memory_temp_c'] == 41
    assert gpu['power_draw_w'] == 71.52
    assert gpu['power_limit_w'] == 700.0
    assert gpu['clocks'] == {'graphics_mhz': 345, 'sm_mhz': 345, 'mem_mhz': 2619}
    assert gpu['throttle_reasons'] == ['gpu_idle']
    assert gpu['pcie'] == {'gen_current': 5, 'gen_max': 5, 'width_current': 16, 'width_max': 16,
                           'replay_counter': 0}
    assert gpu['fb_memory_mib'] == {'total': 81559, 'used': 0, 'free': 81004, 'reserved': 554}
    assert gpu['reset_required'] is False
    assert gpu['fabric'] == {'state': 'Completed', 'status': 'Success', 'clique_id': None, 'cluster_uuid': None,
                             'health_summary': None, 'health_bandwidth': None}
    assert gpu['nvlinks'] is None
    assert gpu['performance_state'] == 'P0'
    assert gpu['compute_mode'] == 'Default'
    assert gpu['mig_mode_pending'] is False
    assert gpu['mig_devices'] == 0
    assert gpu['utilization'] == {'gpu_pct': None, 'memory_pct': None}  # not in this capture


def test_v11_power_throttle_and_single_bit_ecc():
    info = ns.parse_nvidia_smi_xml(fixture('v11-v100x2-healthy.xml'))
    assert info['schema'] == 'v11'
    assert info['driver_version'] == '515.105.01'
    gpu = info['gpus'][0]
    assert gpu['product_name'] == 'Tesla V100-SXM2-32GB'
    assert gpu['power_draw_w'] == 43.18
    assert gpu['power_limit_w'] == 300.0
    assert gpu['throttle_reasons'] == ['gpu_idle']
    assert gpu['mig_mode_current'] is None
    # single_bit/double_bit: device_memory -> dram_*, total - device_memory -> sram_*
    assert gpu['ecc_errors']['volatile']['dram_correctable'] == 2
    assert gpu['ecc_errors']['volatile']['sram_correctable'] == 1
    assert gpu['ecc_errors']['volatile']['dram_uncorrectable'] == 0
    assert gpu['ecc_errors']['aggregate']['dram_uncorrectable'] == 1
    assert gpu['ecc_errors']['aggregate']['sram_uncorrectable'] == 0
    assert gpu['remapped_rows'] is None
    assert gpu['retired_pages'] == {'sbe': 0, 'dbe': 1, 'pending': False}
    assert gpu['pcie']['gen_max'] == 3
    assert gpu['fabric'] == {'state': None, 'status': None, 'clique_id': None, 'cluster_uuid': None, 'health_summary': None, 'health_bandwidth': None}


def test_v13_renamed_elements():
    info = ns.parse_nvidia_smi_xml(fixture('v13-h100x2-healthy.xml'))
    assert info['schema'] == 'v13'
    assert info['driver_version'] == '590.44.01'
    assert info['cuda_version'] == '13.1'
    gpu = info['gpus'][1]
    assert gpu['power_draw_w'] == 71.52  # instant_power_draw
    assert gpu['power_limit_w'] == 700.0
    # sram_uncorrectable_parity + sram_uncorrectable_secded
    assert gpu['ecc_errors']['volatile']['sram_uncorrectable'] == 0
    assert gpu['ecc_errors']['aggregate']['sram_threshold_exceeded'] is False
    # only T.Limit-relative thresholds in v13
    assert gpu['temperature_slowdown_c'] is None
    assert gpu['temperature_shutdown_c'] is None
    assert gpu['temperature_c'] == 34
    assert gpu['throttle_reasons'] == ['gpu_idle']


def test_schema_fallback_from_element_names():
    text = fixture('v11-v100x2-healthy.xml').replace('<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v11.dtd">\n', '')
    assert ns.parse_nvidia_smi_xml(text)['schema'] == 'v11'
    text = fixture('v13-h100x2-healthy.xml').replace('nvsmi_device_v13.dtd', 'other.dtd')
    assert ns.parse_nvidia_smi_xml(text)['schema'] == 'v13'
    text = fixture('v12-h100x2-hot.xml').replace('nvsmi_device_v12.dtd', 'other.dtd')
    assert ns.parse_nvidia_smi_xml(text)['schema'] == 'v12'


@pytest.mark.parametrize('name, check', [
    ('v12-h100x2-uncorrectable-ecc.xml', lambda g: g['ecc_errors']['volatile']['dram_uncorrectable'] == 2),
    ('v12-h100x2-remap-pending.xml', lambda g: g['remapped_rows']['pending'] is True),
    ('v12-h100x2-remap-failure.xml', lambda g: g['remapped_rows'] == {
        'correctable': 0, 'uncorrectable': 8, 'pending': False, 'failure': True}),
    ('v12-h100x2-pcie-x8.xml', lambda g: g['pcie']['width_current'] == 8),
    ('v12-h100x2-hot.xml', lambda g: g['temperature_c'] == 91 and g['throttle_reasons'] == ['hw_thermal_slowdown']),
    ('v12-h100x2-persistence-off.xml', lambda g: g['persistence_mode'] is False),
    ('v12-h100x2-ecc-off.xml', lambda g: g['ecc_mode_current'] is False and g['ecc_mode_pending'] is False),
])
def test_fault_fixtures(name, check):
    info = ns.parse_nvidia_smi_xml(fixture(name))
    assert len(info['gpus']) == 2
    assert check(info['gpus'][1])


def test_fallen_off_bus_fixture():
    info = ns.parse_nvidia_smi_xml(fixture('v12-h100x2-fallen-off-bus.xml'))
    assert info['attached_gpus'] == 2
    assert len(info['gpus']) == 1


@pytest.mark.parametrize('name, where', [
    ('malformed.xml', 'mismatched tag'),
    ('truncated.xml', 'no element found'),
])
def test_bad_xml_raises(name, where):
    with pytest.raises(ns.NvidiaSmiParseError) as exc:
        ns.parse_nvidia_smi_xml(fixture(name))
    assert str(exc.value).startswith('nvidia-smi -q -x output is not valid XML: ')
    assert where in str(exc.value)


@pytest.mark.parametrize('text', ['', '   \n', 'No devices were found\n', fixture('nvml-mismatch.txt')])
def test_not_xml_raises(text):
    with pytest.raises(ns.NvidiaSmiParseError):
        ns.parse_nvidia_smi_xml(text)


def test_wrong_root_raises():
    with pytest.raises(ns.NvidiaSmiParseError, match='root element is <other>'):
        ns.parse_nvidia_smi_xml('<?xml version="1.0" ?><other/>')


def test_error_lines_around_the_document_are_skipped():
    text = ('Unable to determine the device handle for GPU0000:9B:00.0: Unknown Error\n'
            + fixture('v12-h100x2-fallen-off-bus.xml') + 'trailing garbage\n')
    info = ns.parse_nvidia_smi_xml(text)
    assert len(info['gpus']) == 1


def test_bytes_input():
    info = ns.parse_nvidia_smi_xml(fixture('v12-h100x2-hot.xml').encode('utf-8'))
    assert info['gpus'][1]['temperature_c'] == 91


@pytest.mark.parametrize('value, expected', [
    ('81559 MiB', 81559), ('67.03 W', 67.03), ('27 C', 27), ('16x', 16), ('-2 C', -2),
    ('1593 MHz', 1593), ('N/A', None), ('[N/A]', None), ('Not Active', None),
    ('Requested functionality has been deprecated', None), ('Unknown Error', None), (None, None),
    ('GPU-abc', None), ('', None),
])
def test_to_number(value, expected):
    assert ns.to_number(value) == expected


@pytest.mark.parametrize('value, expected', [
    ('Enabled', True), ('Yes', True), ('Active', True), ('Disabled', False), ('No', False),
    ('Not Active', False), ('N/A', None), (None, None),
])
def test_to_bool(value, expected):
    assert ns.to_bool(value) is expected


@pytest.mark.parametrize('value, expected', [
    ('0000:9b:00', '00000000:9B:00.0'), ('PCI:0000:9b:00', '00000000:9B:00.0'),
    ('00000000:9B:00.0', '00000000:9B:00.0'), ('9b:00.0', '00000000:9B:00.0'), ('nonsense', None), (None, None),
])
def test_normalize_pci(value, expected):
    assert ns.normalize_pci(value) == expected


def test_pci_key_ignores_format():
    assert ns.pci_key('0000:9b:00') == ns.pci_key('00000000:9B:00.0')


def test_device_errors():
    errors = ns.parse_device_errors(fixture('fallen-off-bus.stderr'))
    assert errors == [{'index': None, 'pci_bus_id': '00000000:9B:00.0',
                       'message': 'Unable to determine the device handle for GPU0000:9B:00.0: Unknown Error'}]
    errors = ns.parse_device_errors('Unable to determine the device handle for GPU1: 0000:34:00.0: Unknown Error')
    assert errors[0]['index'] == 1 and errors[0]['pci_bus_id'] == '00000000:34:00.0'
    errors = ns.parse_device_errors('Unable to determine the device handle for GPU 0: Unknown Error')
    assert errors[0]['index'] == 0 and errors[0]['pci_bus_id'] is None
    assert ns.parse_device_errors('all good') == []


def test_nvml_mismatch():
    assert ns.is_nvml_mismatch('', fixture('nvml-mismatch.txt'))
    assert not ns.is_nvml_mismatch('fine', None)


def test_nvlink_status_healthy():
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-healthy.txt'))
    assert sorted(links) == list(range(8))
    assert len(links[0]) == 18
    assert links[0][0] == {'link': 0, 'up': True, 'speed_gbps': 26.562, 'state': 'up'}
    assert all(link['up'] for gpu in links.values() for link in gpu)


def test_nvlink_status_down():
    links = ns.parse_nvlink_status(fixture('nvlink-h100x8-link-down.txt'))
    down = [(gpu, link['link']) for gpu, gpu_links in links.items() for link in gpu_links if not link['up']]
    assert down == [(4, 3), (4, 7)]
    assert links[4][3] == {'link': 3, 'up': False, 'speed_gbps': None, 'state': 'inactive'}


def test_nvlink_unknown_state_is_down_and_no_links():
    text = ('GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-a)\n         Link 0: 25 GB/s\n         Link 1: some new state\n'
            'GPU 1: NVIDIA L4 (UUID: GPU-b)\n\tNVML: Unable to retrieve NVLink information as all links are inActive\n')
    links = ns.parse_nvlink_status(text)
    assert links[0][0]['up'] is True and links[0][0]['speed_gbps'] == 25.0
    assert links[0][1]['up'] is False
    assert links[1] == []


def test_merge_nvlinks_by_uuid(v12):
    import copy
    info = copy.deepcopy(v12)
    ns.merge_nvlinks(info, fixture('nvlink-h100x8-link-down.txt'))
    assert len(info['gpus'][4]['nvlinks']) == 18
    assert info['gpus'][4]['nvlinks'][3]['up'] is False
    # a GPU missing from the XML does not shift the others: matched by UUID
    info = copy.deepcopy(v12)
    del info['gpus'][2]
    ns.merge_nvlinks(info, fixture('nvlink-h100x8-link-down.txt'))
    assert [link['up'] for link in info['gpus'][3]['nvlinks']].count(False) == 2


# ---------------------------------------------------------------------------
# real captures of GPUs in normal service (see fixtures/nvidia_smi/README.md)

def test_t4_wired_x8_at_p0():
    gpu = ns.parse_nvidia_smi_xml(fixture('v11-t4-x8-p0.xml'))['gpus'][0]
    assert gpu['product_name'] == 'Tesla T4'
    assert gpu['pcie'] == {'gen_current': 3, 'gen_max': 3, 'width_current': 8, 'width_max': 16, 'replay_counter': 0}
    assert gpu['performance_state'] == 'P0'
    assert gpu['utilization'] == {'gpu_pct': 0, 'memory_pct': 0}
    assert gpu['persistence_mode'] is False and gpu['ecc_mode_current'] is True


def test_a100_with_mig_enabled():
    info = ns.parse_nvidia_smi_xml(fixture('v12-a100-mig.xml'))
    gpu = info['gpus'][0]
    assert gpu['mig_mode_current'] is True and gpu['mig_mode_pending'] is True
    assert gpu['mig_devices'] == 4
    assert gpu['remapped_rows'] is None  # N/A while MIG is on
    assert gpu['utilization'] == {'gpu_pct': None, 'memory_pct': None}  # N/A while MIG is on


@pytest.mark.parametrize('name, ecc', [('v12-rtx3090-no-ecc.xml', None), ('v13-rtx4000ada-ecc-off.xml', False)])
def test_workstation_and_consumer_ecc(name, ecc):
    gpu = ns.parse_nvidia_smi_xml(fixture(name))['gpus'][0]
    assert gpu['ecc_mode_current'] is ecc
    assert gpu['ecc_errors']['volatile']['dram_uncorrectable'] is None
    assert gpu['performance_state'] == 'P8' and gpu['pcie']['gen_current'] == 1


def test_busy_gpu():
    gpu = ns.parse_nvidia_smi_xml(fixture('v13-rtx3080-busy.xml'))['gpus'][0]
    assert gpu['performance_state'] == 'P2'
    assert gpu['utilization'] == {'gpu_pct': 65, 'memory_pct': 9}
    assert gpu['c2c_mode'] is None
    assert gpu['fabric'] == {'state': None, 'status': None, 'clique_id': None, 'cluster_uuid': None, 'health_summary': None, 'health_bandwidth': None}


@pytest.mark.parametrize('name, product', [('v13-gb200x4-nvl72.xml', 'NVIDIA GB200'),
                                           ('v13-gb300x4-nvl72.xml', 'NVIDIA GB300')])
def test_grace_blackwell_fabric_fields(name, product):
    info = ns.parse_nvidia_smi_xml(fixture(name))
    assert info['schema'] == 'v13' and info['attached_gpus'] == 4
    assert [gpu['pci_bus_id'] for gpu in info['gpus']] == [
        '00000008:01:00.0', '00000009:01:00.0', '00000018:01:00.0', '00000019:01:00.0']
    gpu = info['gpus'][2]
    assert gpu['product_name'] == product and gpu['product_architecture'] == 'Blackwell'
    assert gpu['c2c_mode'] is True
    assert gpu['fabric']['state'] == 'Completed' and gpu['fabric']['status'] == 'Success'
    assert gpu['fabric']['clique_id'] == '32766'
    assert gpu['fabric']['health_summary'] == 'Healthy' and gpu['fabric']['health_bandwidth'] == 'Full'
    assert gpu['platform'] == {'chassis_serial_number': '1821325190015', 'slot_number': '10', 'tray_index': '3',
                               'module_id': 3}
    assert gpu['ecc_errors']['volatile']['sram_uncorrectable'] == 0  # parity + secded
