# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible.module_utils import _internal as module_utils_internal

# importing Ansible's controller code (the filter plugin, ansible.errors) marks the process as the
# controller, which changes how in-process module tests collect warnings: keep the flag as it was
# for the other test files (as tests/unit/roles/test_pxe_server_render.py does)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import firmware as filters
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'mlxfwmanager')

NAMES = ['firmware_from_redfish', 'firmware_from_mlxfwmanager', 'firmware_from_nvidia_smi', 'firmware_compare',
         'firmware_cluster_report', 'firmware_markdown', 'firmware_version_compare']


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def test_registered_under_their_names():
    registered = filters.FilterModule().filters()
    assert sorted(registered) == sorted(NAMES)
    for name in NAMES:
        assert registered[name] is getattr(filters, name)


@pytest.mark.parametrize('name', NAMES)
def test_every_filter_has_a_doc_file(name):
    path = os.path.join(os.path.dirname(filters.__file__), name + '.yml')
    with open(path) as fh:
        assert 'name: %s\n' % name in fh.read()


def test_pipeline():
    redfish = {'ret': True, 'entries': [
        {'Id': 'Bios', 'Name': 'BIOS', 'Version': '2.3.1', 'Updateable': True},
        {'Id': 'HGX_FW_NVSwitch_0', 'Name': 'HGX_FW_NVSwitch_0', 'Version': '96.10.6D.00.01', 'Updateable': True}]}
    records = (filters.firmware_from_redfish(redfish)
               + filters.firmware_from_mlxfwmanager(fixture('cx6lx-update-required.txt'))
               + filters.firmware_from_nvidia_smi([{'index': 0, 'product_name': 'H100', 'vbios_version': '96.00.99.00.01'}]))
    assert [r['source'] for r in records] == ['redfish', 'redfish', 'mlxfwmanager', 'nvidia_smi']
    baseline = {'hgx': {'bios': {'version': '2.4.0', 'image_url': 'u', 'checksum': 'c', 'method': 'redfish'},
                        'nvswitch': {'version': '96.10.6D.00.01'}, 'nic': {'version': '26.43.1014'},
                        'gpu_vbios': {'version': '96.00.99.00.01'}}}
    report = filters.firmware_compare(records, 'gpu-01', 'hgx', baseline)
    assert report['counts'] == {'compliant': 2, 'drift': 2, 'ahead': 0, 'missing': 0, 'unknown': 0, 'unparsable': 0}
    summary = filters.firmware_cluster_report([report], '2026-01-15T10:00:00+00:00')
    assert summary['compliant_nodes'] == 0
    assert [d['component'] for d in summary['drift']] == ['bios', 'nic']
    assert '## gpu-01 (hgx): NOT COMPLIANT' in filters.firmware_markdown([report], summary)


def test_version_compare():
    assert filters.firmware_version_compare('2.3.1', '2.4.0') == -1
    assert filters.firmware_version_compare('96.00.A1.00.01', '96.00.99.00.01') == 1


@pytest.mark.parametrize('call, message', [
    (lambda: filters.firmware_version_compare('N/A', '1.0'),
     "firmware_version_compare: firmware version 'N/A' has no digit"),
    (lambda: filters.firmware_from_mlxfwmanager(fixture('truncated.txt')),
     'firmware_from_mlxfwmanager: mlxfwmanager output is truncated: device #1 has no Status line'),
    (lambda: filters.firmware_from_redfish({'ret': False, 'msg': 'boom'}),
     'firmware_from_redfish: the Redfish firmware inventory failed: boom'),
    (lambda: filters.firmware_from_nvidia_smi(None),
     'firmware_from_nvidia_smi: nvidia-smi gpus must be a list (the gpus of nvidia_smi_info)'),
    (lambda: filters.firmware_compare('x', 'n', 'p', {}), 'firmware_compare: firmware records of n must be a list'),
    (lambda: filters.firmware_cluster_report([], ''),
     'firmware_cluster_report: generated must be an ISO 8601 date string'),
    (lambda: filters.firmware_markdown([], None), 'firmware_markdown: summary must be a cluster_report dict'),
])
def test_errors_are_filter_errors(call, message):
    with pytest.raises(AnsibleFilterError) as exc:
        call()
    assert str(exc.value) == message
