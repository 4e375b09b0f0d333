# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nxos_config_blocks, nxos_running_sections and nxos_change_diff, documented in
plugins/filter/<name>.yml; the logic is in module_utils/nxos_qos_config.py, beside the
running-config parser that fabric_validate uses."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aifabric.cluster.plugins.module_utils.nxos_qos_config import (
    change_diff, config_blocks, running_sections)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _text(value, what):
    if value is None:
        return ''
    if not isinstance(value, str):
        raise AnsibleFilterError('%s must be the configuration text, not %s' % (what, type(value).__name__))
    return value


def nxos_config_blocks(text):
    return config_blocks(_text(to_plain(text), 'nxos_config_blocks input'))


def nxos_running_sections(running, blocks):
    return running_sections(_text(to_plain(running), 'nxos_running_sections input'), to_plain(blocks) or [])


def nxos_change_diff(current, changes):
    return change_diff(_text(to_plain(current), 'nxos_change_diff input'), to_plain(changes) or [])


class FilterModule(object):
    def filters(self):
        return {
            'nxos_config_blocks': nxos_config_blocks,
            'nxos_running_sections': nxos_running_sections,
            'nxos_change_diff': nxos_change_diff,
        }
