# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import fabric_report as filters
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FILTERS = filters.FilterModule().filters()
INTENT = {'roce_dscp': 26, 'cnp_dscp': 48, 'lossless_priority': 3, 'cnp_priority': 6, 'switch_mtu': 9216, 'host_mtu': 9000}
VIOLATIONS = [
    {'rule': 'mtu', 'setting': 'mtu', 'host': 'gpu-03', 'expected': 9000, 'found': 1500,
     'message': 'gpu-03: netdev MTU is 1500, the intent 9000'},
    {'rule': 'pfc', 'setting': 'pfc_priorities', 'switch': 'leaf-01', 'port': 'Ethernet1/1|2', 'expected': [3], 'found': [4],
     'message': 'leaf-01 Ethernet1/1|2: PFC is on CoS [4]'},
]


@pytest.mark.parametrize('name', ['fabric_report_markdown', 'fabric_report_lines'])
def test_registered_with_its_doc(name):
    assert name in FILTERS
    with open(os.path.join(os.path.dirname(os.path.abspath(filters.__file__)), name + '.yml')) as f:
        assert yaml.safe_load(f)['DOCUMENTATION']['name'] == name


def test_the_markdown_report_names_the_intent_counts_and_each_violation():
    text = FILTERS['fabric_report_markdown'](VIOLATIONS, '2026-12-06T10:00:00Z', INTENT, 4, 2)
    lines = text.splitlines()
    assert lines[0] == '# Fabric validation (2026-12-06T10:00:00Z)'
    assert 'Checked 4 GPU nodes and 2 switches' in text and 'RoCE DSCP 26, CNP DSCP 48, lossless priority 3,' in text
    assert '**2 violation(s)**.' in lines
    assert '| mtu | gpu-03 |  | 9000 | 1500 |' in lines
    assert '| pfc | leaf-01 | Ethernet1/1\\|2 | [3] | [4] |' in lines  # a | in a cell is escaped
    assert lines[-1] == '- leaf-01 Ethernet1/1|2: PFC is on CoS [4]'
    clean = FILTERS['fabric_report_markdown']([], 'now', INTENT)
    assert '**0 violation(s)**.' in clean and '| rule |' not in clean


def test_the_lines_for_a_person():
    assert FILTERS['fabric_report_lines']([], '/r') == ['fabric consistent: no violation (/r/report.md)']
    lines = FILTERS['fabric_report_lines'](VIOLATIONS, '/r')
    assert lines[0] == '2 violation(s), report in /r'
    assert lines[2].split() == ['mtu', 'gpu-03', '-', '9000', '1500']
    assert lines[-2:] == [v['message'] and '- ' + v['message'] for v in VIOLATIONS]


def test_anything_but_violations_is_refused():
    with pytest.raises(AnsibleFilterError, match='fabric_report_lines: the input must be the violations'):
        FILTERS['fabric_report_lines']({'violations': []}, '/r')
