# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nxos_config_blocks, nxos_running_sections, nxos_block_changes and nxos_change_diff, documented
in plugins/filter/<name>.yml; the logic is in module_utils/nxos_qos_config.py, beside the
running-config parser that fabric_validate uses, except the comparison of a block with the
running configuration, which is ansible.netcommon's NetworkConfig, as nxos_config's is."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

try:  # a dependency of the collection (galaxy.yml); the other filters of this file do without it
    from ansible_collections.ansible.netcommon.plugins.module_utils.network.common.config import NetworkConfig, dumps
except ImportError:  # pragma: no cover
    NetworkConfig = dumps = None

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


def nxos_block_changes(blocks, running):
    """The blocks that differ from running, each as ``{'item': block, 'commands': [...]}``: what
    cisco.nxos.nxos_config (parents, lines, running_config, match line, replace line) would push for
    it, computed as its cliconf computes it (NetworkConfig.difference), in one pass on the controller
    instead of one module call per block."""
    if NetworkConfig is None:
        raise AnsibleFilterError('nxos_block_changes needs the collection ansible.netcommon (a dependency of aifabric.cluster)')
    running = _text(to_plain(running), 'nxos_block_changes running')
    running_obj = NetworkConfig(indent=2, contents=running) if running else None
    out = []
    for block in to_plain(blocks) or []:
        if not isinstance(block, dict) or not isinstance(block.get('lines'), list):
            raise AnsibleFilterError('nxos_block_changes input must be the blocks of nxos_config_blocks, not %r' % (block,))
        parents = list(block.get('parents') or [])
        built = NetworkConfig(indent=2)
        built.add(block['lines'], parents=parents)
        candidate = NetworkConfig(indent=2)
        candidate.load(dumps(built, 'raw'))
        objs = candidate.difference(running_obj, path=parents, match='line', replace='line') if running_obj else candidate.items
        commands = dumps(objs, 'commands') if objs else ''
        if commands:
            out.append({'item': block, 'commands': commands.split('\n')})
    return out


def nxos_change_diff(current, changes):
    return change_diff(_text(to_plain(current), 'nxos_change_diff input'), to_plain(changes) or [])


class FilterModule(object):
    def filters(self):
        return {
            'nxos_config_blocks': nxos_config_blocks,
            'nxos_running_sections': nxos_running_sections,
            'nxos_block_changes': nxos_block_changes,
            'nxos_change_diff': nxos_change_diff,
        }
