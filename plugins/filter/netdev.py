# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netdev_by_mac, documented in plugins/filter/netdev_by_mac.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _netdev_by_mac(facts, mac):
    """The name of the interface in Ansible's network facts whose MAC is mac, or '' (names like eth1 are not stable)."""
    facts = to_plain(facts) or {}
    wanted = str(mac or '').lower().replace('-', ':')
    for name in facts.get('interfaces') or []:
        entry = facts.get(name.replace('-', '_').replace(':', '_'))
        if isinstance(entry, dict) and str(entry.get('macaddress', '')).lower() == wanted and wanted:
            return entry.get('device', name)
    return ''


class FilterModule(object):
    def filters(self):
        return {'netdev_by_mac': _netdev_by_mac}
