# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NX-OS configuration filters of the fabric_switch role: registered, documented, and a
wrong input refused clearly. Their logic is tested on the role's own rendering in
tests/unit/roles/test_fabric_switch_render.py (module_utils/nxos_qos_config.py)."""

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
from ansible_collections.aifabric.cluster.plugins.filter import nxos_config
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FILTERS = nxos_config.FilterModule().filters()
HERE = os.path.dirname(os.path.abspath(nxos_config.__file__))
RENDERED = '\n'.join(['class-map type qos match-any AIFABRIC-ROCE', '  match dscp 26', '!', 'system qos',
                      '  service-policy type network-qos AIFABRIC-NQ'])
RUNNING = '\n'.join(['username admin password 5 $5$HASH role network-admin', 'class-map type qos match-any AIFABRIC-ROCE',
                     '  match dscp 24', 'system qos', '  service-policy type network-qos default-8q-nq-policy'])


@pytest.mark.parametrize('name', ['nxos_config_blocks', 'nxos_running_sections', 'nxos_block_changes', 'nxos_change_diff'])
def test_registered_with_its_doc(name):
    assert name in FILTERS
    with open(os.path.join(HERE, name + '.yml')) as f:
        assert yaml.safe_load(f)['DOCUMENTATION']['name'] == name


def test_the_three_steps_of_a_push():
    blocks = FILTERS['nxos_config_blocks'](RENDERED)
    assert blocks == [{'parents': ['class-map type qos match-any AIFABRIC-ROCE'], 'lines': ['match dscp 26']},
                      {'parents': ['system qos'], 'lines': ['service-policy type network-qos AIFABRIC-NQ']}]
    current = FILTERS['nxos_running_sections'](RUNNING, blocks)
    assert 'HASH' not in current and current.startswith('class-map type qos match-any AIFABRIC-ROCE')
    changes = FILTERS['nxos_block_changes'](blocks, current)
    assert changes == [{'item': blocks[0], 'commands': ['class-map type qos match-any AIFABRIC-ROCE', 'match dscp 26']},
                       {'item': blocks[1], 'commands': ['system qos', 'service-policy type network-qos AIFABRIC-NQ']}]
    changes = changes[:1]
    assert FILTERS['nxos_change_diff'](current, changes) == {
        'before': ['class-map type qos match-any AIFABRIC-ROCE'],
        'after': ['class-map type qos match-any AIFABRIC-ROCE', '  match dscp 26']}
    assert FILTERS['nxos_config_blocks'](None) == [] and FILTERS['nxos_change_diff'](current, []) == {'before': [], 'after': []}


def test_a_registered_result_instead_of_its_text_is_refused():
    with pytest.raises(AnsibleFilterError, match='nxos_running_sections input must be the configuration text, not dict'):
        FILTERS['nxos_running_sections']({'stdout': [RUNNING]}, [])


def test_block_changes_are_what_nxos_config_pushes():
    """nxos_config's line match: a block whose lines are all under its parents in running-config is
    unchanged; otherwise the commands are its parents then only its missing lines (a line present
    elsewhere, under other parents, is still missing here); an empty running configuration changes
    every block."""
    blocks = [{'parents': ['policy-map type qos AIFABRIC', 'class AIFABRIC-ROCE'], 'lines': ['set qos-group 3']},
              {'parents': ['interface Ethernet1/1'], 'lines': ['mtu 9216', 'priority-flow-control mode on']},
              {'parents': [], 'lines': ['system qos']}]
    running = '\n'.join(['policy-map type qos AIFABRIC', '  class AIFABRIC-ROCE', '    set qos-group 3',
                         'interface Ethernet1/1', '  mtu 9216', 'interface Ethernet1/2', '  priority-flow-control mode on'])
    assert FILTERS['nxos_block_changes'](blocks, running) == [
        {'item': blocks[1], 'commands': ['interface Ethernet1/1', 'priority-flow-control mode on']},
        {'item': blocks[2], 'commands': ['system qos']}]
    assert [c['commands'] for c in FILTERS['nxos_block_changes'](blocks, '')] == [
        ['policy-map type qos AIFABRIC', 'class AIFABRIC-ROCE', 'set qos-group 3'],
        ['interface Ethernet1/1', 'mtu 9216', 'priority-flow-control mode on'], ['system qos']]
    with pytest.raises(AnsibleFilterError, match='nxos_block_changes input must be the blocks'):
        FILTERS['nxos_block_changes'](['system qos'], running)
