# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firmware compliance module_utils. The mlxfwmanager fixtures and their sources: fixtures/mlxfwmanager/README.md
(layout from https://github.com/empovit/nvidia-tools/blob/main/README.md and public samples)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import firmware as fw

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'mlxfwmanager')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


# ---------------------------------------------------------------------------
# versions

@pytest.mark.parametrize('left, right, expected', [
    # dotted numeric, numbers not text
    ('1.14.3', '1.15.0', -1),
    ('28.39.1002', '28.43.1014', -1),
    ('2.10', '2.9', 1),
    ('2.9', '2.10', -1),
    ('1.2', '1.2.0', 0),
    ('1.2.0.0', '1.2', 0),
    ('1.2', '1.2.1', -1),
    ('3.6.0502', '3.7.0500', -1),
    ('14.35.0015', '14.36.0016', -1),
    ('7.00.00.171', '7.10.30.00', -1),
    ('01.01.10', '1.1.10', 0),
    # NVIDIA VBIOS, hexadecimal fields
    ('96.00.5E.00.01', '96.00.99.00.01', -1),
    ('96.00.A1.00.01', '96.00.99.00.01', 1),
    ('96.00.5e.00.01', '96.00.5E.00.01', 0),
    ('96.00.99.00.01', '96.00.99.00.01', 0),
    ('96.00.74.00.0F', '96.00.74.00.10', -1),
    # dates
    ('2024.03.1', '2023.11.0', 1),
    ('2023.11.0', '2023.11.1', -1),
    ('20240315', '20231201', 1),
    ('2024-03-15', '2024-04-01', -1),
    ('03/15/2024', '12/01/2023', 1),
    # vendor formats
    ('U46 v2.80 (03/2023)', '2.80', 0),
    ('U46 v2.80 (03/2023)', 'U46 v2.90 (01/2024)', -1),
    ('2.72 Sep 04 2022', '2.73', -1),
    ('iLO 5 v2.72', '2.72', 0),
    ('Version 1.2.3', '1.2.3', 0),
    ('v1.2.3', '1.2.3', 0),
    ('V1.2.4', 'v1.2.3', 1),
    ('A06', 'A07', -1),
    ('A09', 'A10', -1),
    ('B01', 'A99', 1),
    ('A06', 'A06', 0),
    ('HGX-22.10-1-rc80', 'HGX-22.10-1-rc79', 1),
    ('1.2.3+build5', '1.2.3', 0),
    # pre- and post-release suffixes
    ('1.2.3-rc1', '1.2.3', -1),
    ('1.2.3-rc1', '1.2.3-rc2', -1),
    ('1.2.3-alpha', '1.2.3-beta', -1),
    ('1.2.3-beta2', '1.2.3-rc1', -1),
    ('1.2.3-rc1', '1.2.2', 1),
    ('1.2.3', '1.2.3-1', -1),
    ('1.2.3-2', '1.2.3-10', -1),
    # whitespace
    ('  1.2.3\n', '1.2.3', 0),
    ('\t28.39.1002 ', '28.39.1002', 0),
])
def test_compare_versions(left, right, expected):
    assert fw.compare_versions(left, right) == expected
    assert fw.compare_versions(right, left) == -expected


@pytest.mark.parametrize('value, message', [
    (None, 'firmware version is empty (None)'),
    ('', 'firmware version is empty'),
    ('   ', 'firmware version is empty'),
    ('N/A', "firmware version 'N/A' has no digit"),
    ('unknown', "firmware version 'unknown' has no digit"),
])
def test_compare_versions_errors(value, message):
    with pytest.raises(fw.FirmwareVersionError) as exc:
        fw.compare_versions(value, '1.0')
    assert str(exc.value) == message
    with pytest.raises(fw.FirmwareVersionError):
        fw.compare_versions('1.0', value)
    with pytest.raises(fw.FirmwareVersionError):
        fw.parse_version(value)


def test_parse_version_keys():
    assert fw.parse_version('1.2.0') == fw.parse_version('1.2')
    assert fw.parse_version('1.2.3-rc1') < fw.parse_version('1.2.3') < fw.parse_version('1.2.3-1')
    assert fw.parse_version('96.00.A1.00.01') > fw.parse_version('96.00.9F.00.01')  # hex by itself
    assert fw.parse_version('96.00.10.00.01', hexadecimal=True) > fw.parse_version('96.00.0F.00.01')
    assert sorted(['2.10', '2.9', '2.9.1', '10.0', '2.9-rc1'], key=fw.parse_version) == [
        '2.9-rc1', '2.9', '2.9.1', '2.10', '10.0']
    with pytest.raises(fw.FirmwareVersionError):
        fw.parse_version('1.2g.3', hexadecimal=True)


def test_version_error_is_value_error():
    assert issubclass(fw.FirmwareVersionError, ValueError)
    assert issubclass(fw.FirmwareParseError, ValueError)


# ---------------------------------------------------------------------------
# component names

@pytest.mark.parametrize('name, item_id, component', [
    ('BMC', 'BMC', 'bmc'),
    ('BMC_Firmware', '', 'bmc'),
    ('Integrated Dell Remote Access Controller', 'Installed-25227-7.00.00.171__iDRAC.Embedded.1-1', 'bmc'),
    ('iLO 5', '1', 'bmc'),
    ('', 'HGX_FW_BMC_0', 'bmc'),
    ('Lenovo XClarity Controller', '', 'bmc'),
    ('BIOS', 'Bios', 'bios'),
    ('System BIOS', '', 'bios'),
    ('UEFI', '', 'bios'),
    ('System ROM', '', 'bios'),
    ('BIOS', 'Installed-159-2.19.1__BIOS.Setup.1-1', 'bios'),
    ('', 'HGX_FW_BIOS', 'bios'),
    ('CPLD', '', 'cpld'),
    ('', 'CPLD_0', 'cpld'),
    ('System CPLD', '', 'cpld'),
    ('', 'HGX_FW_CPLD_0', 'cpld'),
    ('', 'HGX_FW_GPU_SXM_1', 'gpu_vbios'),
    ('', 'HGX_FW_GPU_SXM_8', 'gpu_vbios'),
    ('GPU0 VBIOS', '', 'gpu_vbios'),
    ('', 'HGX_FW_NVSwitch_0', 'nvswitch'),
    ('', 'HGX_FW_NVSwitch_3', 'nvswitch'),
    ('Mellanox ConnectX-7', '', 'nic'),
    ('', 'NIC.Slot.1-1', 'nic'),
    ('Mellanox ConnectX-6 Dx - 08:C0:EB:A2:7B:C8', 'Installed-0-22.31.6.0__NIC.Slot.1-1-1', 'nic'),
    ('ConnectX', '', 'nic'),
    ('PSU0', '', 'psu'),
    ('Power Supply', '', 'psu'),
    ('PS1 Power Supply', 'Installed-0-00.1B.53__PSU.Slot.1', 'psu'),
    # not the running firmware of a known component: kept as other:<Id> by the caller
    ('', 'HGX_FW_ERoT_GPU_SXM_1', None),
    ('', 'HGX_FW_ERoT_NVSwitch_0', None),
    ('', 'HGX_InfoROM_GPU_SXM_1', None),
    ('Redundant System ROM', '', None),
    ('', 'HGX_FW_FPGA_0', None),
    ('', 'HGX_FW_PCIeSwitch_0', None),
    ('Lifecycle Controller', 'Installed-28897-7.00.00.171__LC.Embedded.1', None),
    ('', '', None),
])
def test_normalize_component(name, item_id, component):
    assert fw.normalize_component(name, item_id) == component


@pytest.mark.parametrize('item_id, instance', [
    ('HGX_FW_GPU_SXM_3', '3'),
    ('HGX_FW_NVSwitch_0', '0'),
    ('HGX_FW_CPLD_0', '0'),
    ('GPU0 VBIOS', '0'),
    ('PSU1', '1'),
    ('Installed-0-22.31.6.0__NIC.Slot.1-1-1', 'NIC.Slot.1-1-1'),
    ('BIOS', ''),
    ('Bios', ''),
    ('', ''),
    (None, ''),
])
def test_component_instance(item_id, instance):
    assert fw.component_instance(item_id) == instance


# ---------------------------------------------------------------------------
# mlxfwmanager

def test_mlx_one_device_up_to_date():
    devices = fw.parse_mlxfwmanager_query(fixture('cx7-up-to-date.txt'))
    assert devices == [{
        'number': 1,
        'device_type': 'ConnectX7',
        'part_number': 'MCX755106AS-HEA_Ax',
        'description': 'NVIDIA ConnectX-7 HHHL Adapter Card; 200GbE (default mode) / NDR200 IB; Dual-port QSFP112; '
                       'PCIe 5.0 x16 with x16 PCIe extension option; Crypto Disabled; Secure Boot Enabled',
        'psid': 'MT_0000000834',
        'pci': '/dev/mst/mt4129_pciconf0',
        'base_guid': 'a088c20300e4c1b0',
        'base_mac': 'a088c2e4c1b0',
        'port_macs': {},
        'versions': {'fw': {'current': '28.43.1014', 'available': '28.43.1014'},
                     'pxe': {'current': '3.7.0500', 'available': '3.7.0500'},
                     'uefi': {'current': '14.36.0016', 'available': '14.36.0016'}},
        'status': 'Up to date',
    }]


def test_mlx_real_sample_update_required():
    device, = fw.parse_mlxfwmanager_query(fixture('cx6lx-update-required.txt'))
    assert device['pci'] == '0002:01:00.0'
    assert device['psid'] == 'MT_0000000575'
    assert device['description'].endswith('Secure Boot; No Crypto;')
    assert device['versions']['fw'] == {'current': '26.33.1048', 'available': '26.43.1014'}
    assert device['status'] == 'Update required'


def test_mlx_two_devices_one_needs_update():
    devices = fw.parse_mlxfwmanager_query(fixture('cx7x2-one-update-required.txt'))
    assert [(d['number'], d['pci'], d['status']) for d in devices] == [
        (1, '/dev/mst/mt4129_pciconf1', 'Update required'), (2, '/dev/mst/mt4129_pciconf0', 'Up to date')]
    assert devices[0]['versions']['fw'] == {'current': '28.42.1000', 'available': '28.43.1014'}
    assert devices[0]['versions']['pxe'] == {'current': '3.7.0500', 'available': None}  # N/A, trailing blanks
    assert devices[1]['base_guid'] is None


def test_mlx_na_fields():
    device, = fw.parse_mlxfwmanager_query(fixture('cx5-oem-part-number-na.txt'))
    assert device['part_number'] is None
    assert device['description'] is None
    assert device['psid'] == 'HPE0000000009'
    assert all(version['available'] is None for version in device['versions'].values())
    assert device['status'] == 'No matching image found'
    device, = fw.parse_mlxfwmanager_query(fixture('cx4lx-no-matching-image.txt'))
    assert device['versions'] == {'fw': {'current': '14.20.1010', 'available': None},
                                  'pxe': {'current': '3.5.0210', 'available': None}}


def test_mlx_port_macs():
    device, = fw.parse_mlxfwmanager_query(fixture('cx3-port-macs.txt'))
    assert device['base_mac'] is None
    assert device['port_macs'] == {'1': '7cfe90bed011', '2': '7cfe90bed012'}


def test_mlx_crlf_and_base_guid_slash_mac():
    text = fixture('cx7-up-to-date.txt').replace('  Base GUID:        a088c20300e4c1b0\n', '').replace(
        '  Base MAC:   ', '  Base GUID/Base MAC:   ').replace('\n', '\r\n')
    device, = fw.parse_mlxfwmanager_query(text)
    assert device['base_mac'] == 'a088c2e4c1b0'
    assert device['status'] == 'Up to date'


def test_mlx_no_devices():
    assert fw.parse_mlxfwmanager_query(fixture('no-devices.txt')) == []


@pytest.mark.parametrize('text, message', [
    (fixture('truncated.txt'), 'mlxfwmanager output is truncated: device #1 has no Status line'),
    (fixture('cx7-up-to-date.txt').split('  Versions:')[0],
     'mlxfwmanager output is truncated: device #1 has no Versions table'),
    ('Querying Mellanox devices firmware ...\n\nDevice #1:\n----------\n',
     'mlxfwmanager output is truncated: device #1 has no Device Type, PSID or PCI Device Name'),
    (fixture('malformed.txt'), "mlxfwmanager output line 11 cannot be parsed: '### garbage ### 0x1f'"),
    ('', 'mlxfwmanager output is empty'),
    (None, 'mlxfwmanager output is empty'),
    (fixture('no-devices.stderr'),
     'not mlxfwmanager --query output (no "Querying Mellanox devices firmware" banner and no "Device #N:" block): '
     "\"-E- No devices found or specified, mst might be stopped, run 'mst start' to load MST modules\""),
    ('Querying Mellanox devices firmware ...\n\nDevice #1:\n  Device Type: ConnectX7\n  Versions: Installed\n',
     "mlxfwmanager output line 5: unexpected Versions header 'Versions: Installed'"),
])
def test_mlx_malformed(text, message):
    with pytest.raises(fw.FirmwareParseError) as exc:
        fw.parse_mlxfwmanager_query(text)
    assert str(exc.value) == message


# ---------------------------------------------------------------------------
# collectors

REDFISH = {'ret': True, 'entries': [
    {'Id': 'BMC_Firmware', 'Name': 'BMC Firmware', 'Version': '25.06-2', 'Updateable': True, 'SoftwareId': 'BMC'},
    {'Id': 'Bios', 'Name': 'BIOS', 'Version': '2.3.1', 'Updateable': True},
    {'Id': 'HGX_FW_GPU_SXM_1', 'Name': 'HGX_FW_GPU_SXM_1', 'Version': '96.00.99.00.01', 'Updateable': True},
    {'Id': 'HGX_FW_GPU_SXM_2', 'Name': 'HGX_FW_GPU_SXM_2', 'Version': '96.00.5E.00.01', 'Updateable': True},
    {'Id': 'HGX_FW_ERoT_GPU_SXM_1', 'Name': 'HGX_FW_ERoT_GPU_SXM_1', 'Version': '01.03.0183.0000_n04'},
    {'Id': 'Previous-25227-6.10.00.00__iDRAC.Embedded.1-1', 'Name': 'Integrated Dell Remote Access Controller',
     'Version': '6.10.00.00'},
    {'Id': 'CPLD_0', 'Name': 'CPLD', 'Version': 'N/A', 'Updateable': 'yes'},
]}


def test_collect_redfish():
    records = fw.collect_redfish(REDFISH)
    assert records == fw.collect_redfish(REDFISH['entries'])
    assert [(r['component'], r['instance'], r['version'], r['updateable']) for r in records] == [
        ('bmc', '', '25.06-2', True),
        ('bios', '', '2.3.1', True),
        ('gpu_vbios', '1', '96.00.99.00.01', True),
        ('gpu_vbios', '2', '96.00.5E.00.01', True),
        ('other:HGX_FW_ERoT_GPU_SXM_1', '', '01.03.0183.0000_n04', None),
        ('cpld', '0', 'N/A', None),
    ]
    assert set(records[0]) == {'component', 'instance', 'name', 'version', 'source', 'updateable'}
    assert {r['source'] for r in records} == {'redfish'}


@pytest.mark.parametrize('value, message', [
    ({'ret': False, 'msg': 'No FirmwareInventory resource found'},
     'the Redfish firmware inventory failed: No FirmwareInventory resource found'),
    ({'ret': True}, 'the Redfish firmware inventory has no entries'),
    ('text', 'the Redfish firmware inventory entries must be a list, not str'),
    (['x'], 'Redfish firmware inventory entry 0 is not a dict'),
])
def test_collect_redfish_errors(value, message):
    with pytest.raises(fw.FirmwareInputError) as exc:
        fw.collect_redfish(value)
    assert str(exc.value) == message


def test_collect_mlxfwmanager_text_devices_and_result():
    text = fixture('cx7x2-one-update-required.txt')
    devices = fw.parse_mlxfwmanager_query(text)
    records = fw.collect_mlxfwmanager(text)
    assert records == fw.collect_mlxfwmanager(devices) == fw.collect_mlxfwmanager({'devices': devices})
    assert records[0] == {'component': 'nic', 'instance': '/dev/mst/mt4129_pciconf1',
                          'name': 'ConnectX7 MCX715105AS-WEAT_Ax', 'version': '28.42.1000',
                          'source': 'mlxfwmanager', 'updateable': True}
    na, = fw.collect_mlxfwmanager(fixture('cx5-oem-part-number-na.txt'))
    assert na['name'] == 'ConnectX5'
    with pytest.raises(fw.FirmwareInputError):
        fw.collect_mlxfwmanager(42)


def test_collect_nvidia_smi():
    gpus = [{'index': 0, 'product_name': 'NVIDIA H100 80GB HBM3', 'vbios_version': '96.00.99.00.01'},
            {'index': 1, 'product_name': None, 'vbios_version': None}]
    records = fw.collect_nvidia_smi(gpus)
    assert records == fw.collect_nvidia_smi({'gpus': gpus})
    assert records == [
        {'component': 'gpu_vbios', 'instance': '0', 'name': 'NVIDIA H100 80GB HBM3', 'version': '96.00.99.00.01',
         'source': 'nvidia_smi', 'updateable': None},
        {'component': 'gpu_vbios', 'instance': '1', 'name': 'GPU 1', 'version': None,
         'source': 'nvidia_smi', 'updateable': None}]
    with pytest.raises(fw.FirmwareInputError):
        fw.collect_nvidia_smi('gpus')


# ---------------------------------------------------------------------------
# comparison and report

BASELINE = {
    'hgx-h100': {
        'bmc': {'version': '25.06-2', 'image_url': 'https://repo.example/bmc.fwpkg', 'checksum': 'sha256:aa',
                'method': 'redfish'},
        'bios': {'version': '2.4.0', 'image_url': 'https://repo.example/bios.bin', 'checksum': 'sha256:bb',
                 'method': 'redfish'},
        'gpu_vbios': {'version': '96.00.99.00.01', 'image_url': 'https://repo.example/gpu.fwpkg',
                      'checksum': 'sha256:cc', 'method': 'redfish'},
        'cpld': {'version': '0.2.1', 'image_url': 'https://repo.example/cpld.bin', 'checksum': 'sha256:dd',
                 'method': 'redfish'},
        'nvswitch': {'version': '96.10.6D.00.01', 'image_url': 'https://repo.example/nvsw.fwpkg',
                     'checksum': 'sha256:ee', 'method': 'redfish'},
        'nic': '28.39.1002',
    },
}


def node_report():
    records = fw.collect_redfish(REDFISH) + fw.collect_mlxfwmanager(fixture('cx7x2-one-update-required.txt'))
    return fw.compare_node('gpu-01', 'hgx-h100', BASELINE, records)


def test_compare_node():
    report = node_report()
    assert report['node'] == 'gpu-01'
    assert report['profile'] == 'hgx-h100'
    assert report['compliant'] is False
    rows = [(r['component'], r['instance'], r['current'], r['expected'], r['status']) for r in report['components']]
    assert rows == [
        ('bios', '', '2.3.1', '2.4.0', 'drift'),
        ('bmc', '', '25.06-2', '25.06-2', 'compliant'),
        ('cpld', '0', 'N/A', '0.2.1', 'unparsable'),
        ('gpu_vbios', '1', '96.00.99.00.01', '96.00.99.00.01', 'compliant'),
        ('gpu_vbios', '2', '96.00.5E.00.01', '96.00.99.00.01', 'drift'),
        ('nic', '/dev/mst/mt4129_pciconf0', '28.43.1014', '28.39.1002', 'ahead'),
        ('nic', '/dev/mst/mt4129_pciconf1', '28.42.1000', '28.39.1002', 'ahead'),
        ('nvswitch', '', None, '96.10.6D.00.01', 'missing'),
        ('other:HGX_FW_ERoT_GPU_SXM_1', '', '01.03.0183.0000_n04', None, 'unknown'),
    ]
    assert report['counts'] == {'compliant': 2, 'drift': 2, 'ahead': 2, 'missing': 1, 'unknown': 1, 'unparsable': 1}
    bios = report['components'][0]
    assert bios == {'component': 'bios', 'instance': '', 'name': 'BIOS', 'source': 'redfish', 'current': '2.3.1',
                    'expected': '2.4.0', 'status': 'drift', 'image_url': 'https://repo.example/bios.bin',
                    'message': 'bios 2.3.1 is older than the baseline 2.4.0 (image https://repo.example/bios.bin)'}
    assert report['components'][2]['message'] == "cpld 0: firmware version 'N/A' has no digit"
    assert report['components'][7]['message'] == \
        'nvswitch: in the baseline of profile hgx-h100 (96.10.6D.00.01) but not found on the node'
    assert report['components'][8]['image_url'] is None
    assert report['components'][5]['image_url'] is None  # the plain string baseline has no image


def test_compare_node_ahead_and_unknown_stay_compliant():
    records = [{'component': 'bios', 'instance': '', 'name': 'BIOS', 'version': '2.5.0', 'source': 'redfish'},
               {'component': 'other:HGX_FW_FPGA_0', 'version': '1.0', 'source': 'redfish'}]
    report = fw.compare_node('gpu-02', 'p', {'bios': {'version': '2.4.0'}}, records)
    assert report['compliant'] is True
    assert [r['status'] for r in report['components']] == ['ahead', 'unknown']


def test_compare_node_no_version_and_bad_baseline():
    records = [{'component': 'bios', 'version': None, 'source': 'redfish'},
               {'component': 'bmc', 'version': '1.0', 'source': 'redfish'}]
    report = fw.compare_node('n', 'p', {'bios': {'version': '1.0'}, 'bmc': {'image_url': 'x'}}, records)
    assert [(r['component'], r['status'], r['message']) for r in report['components']] == [
        ('bios', 'unparsable', 'bios: no version reported'),
        ('bmc', 'unparsable', 'bmc: the baseline of profile p has no version')]
    assert report['compliant'] is False


def test_compare_node_natural_instance_order():
    records = [{'component': 'gpu_vbios', 'instance': str(i), 'version': '1.0', 'source': 'nvidia_smi'}
               for i in (10, 2, 1)]
    report = fw.compare_node('n', 'p', {'gpu_vbios': '1.0'}, records)
    assert [r['instance'] for r in report['components']] == ['1', '2', '10']


@pytest.mark.parametrize('args, message', [
    (('n', 'p', {}, 'x'), 'firmware records of n must be a list'),
    (('n', 'p', {}, [{'version': '1'}]), 'firmware record 0 of n has no component'),
    (('n', 'p', ['x'], []), 'the firmware baseline must be a dict, not list'),
    (('n', 'p', {'bios': 3}, []), 'baseline of component bios (profile p) must be a dict with "version"'),
])
def test_compare_node_errors(args, message):
    with pytest.raises(fw.FirmwareInputError) as exc:
        fw.compare_node(*args)
    assert str(exc.value) == message


def test_cluster_report_and_markdown():
    good = fw.compare_node('gpu-02', 'hgx-h100', BASELINE['hgx-h100'], [
        {'component': c, 'instance': '', 'version': spec if isinstance(spec, str) else spec['version'],
         'source': 'redfish'} for c, spec in BASELINE['hgx-h100'].items()])
    assert good['compliant'] is True
    reports = [node_report(), good]
    summary = fw.cluster_report(reports, '2026-01-15T10:00:00+00:00')
    assert summary['schema_version'] == 1
    assert summary['generated'] == '2026-01-15T10:00:00+00:00'
    assert summary['nodes'] == 2
    assert summary['compliant_nodes'] == 1
    assert summary['drift'] == [
        {'node': 'gpu-01', 'component': 'bios', 'instance': '', 'current': '2.3.1', 'expected': '2.4.0'},
        {'node': 'gpu-01', 'component': 'gpu_vbios', 'instance': '2', 'current': '96.00.5E.00.01',
         'expected': '96.00.99.00.01'}]
    assert summary['by_component']['bios'] == {'compliant': 1, 'drift': 1, 'ahead': 0, 'missing': 0, 'unknown': 0,
                                               'unparsable': 0}
    assert summary['by_component']['nvswitch']['missing'] == 1
    assert list(summary['by_component']) == sorted(summary['by_component'])

    text = fw.render_markdown(reports, summary)
    assert text.startswith('# Firmware compliance\n\nGenerated: 2026-01-15T10:00:00+00:00\n\n')
    assert '| nodes | compliant | not compliant | drifted components |\n|---|---|---|---|\n| 2 | 1 | 1 | 2 |' in text
    assert '| component | compliant | drift | ahead | missing | unknown | unparsable |' in text
    assert '| bios | 1 | 1 | 0 | 0 | 0 | 0 |' in text
    assert '## Drift' in text
    assert '## gpu-01 (hgx-h100): NOT COMPLIANT' in text
    assert '## gpu-02 (hgx-h100): compliant' in text
    assert '| component | instance | current | expected | status |' in text
    assert '| bios | - | 2.3.1 | 2.4.0 | drift |' in text
    assert '| nvswitch | - | - | 96.10.6D.00.01 | missing |' in text
    assert text.index('## gpu-01') < text.index('## gpu-02')


def test_markdown_escapes_pipes():
    report = fw.compare_node('a|b', 'p', {}, [{'component': 'other:x|y', 'version': '1', 'source': 'redfish'}])
    text = fw.render_markdown([report], fw.cluster_report([report], '2026-01-01T00:00:00Z'))
    assert '| other:x\\|y | - | 1 | - | unknown |' in text
    assert '## a\\|b (p): compliant' in text


@pytest.mark.parametrize('args, message', [
    (([], ''), 'generated must be an ISO 8601 date string'),
    (([], None), 'generated must be an ISO 8601 date string'),
    (('x', '2026-01-01'), 'node reports must be a list'),
    (([{'node': 'a'}], '2026-01-01'), 'node report 0 is not a compare_node report (node, components)'),
])
def test_cluster_report_errors(args, message):
    with pytest.raises(fw.FirmwareInputError) as exc:
        fw.cluster_report(*args)
    assert str(exc.value) == message


def test_empty_cluster():
    summary = fw.cluster_report([], '2026-01-01T00:00:00Z')
    assert summary == {'schema_version': 1, 'generated': '2026-01-01T00:00:00Z', 'nodes': 0, 'compliant_nodes': 0,
                       'drift': [], 'by_component': {}}
    assert '| 0 | 0 | 0 | 0 |' in fw.render_markdown([], summary)
