# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sonic_qos_maps_stale, sonic_qos_maps_added and sonic_qos_maps_was, documented in
plugins/filter/<name>.yml; the logic is in module_utils/sonic_qos_maps.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aifabric.cluster.plugins.module_utils.sonic_qos_maps import (
    added_entries, maps_as_read, stale_entries)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _call(function, want, other):
    try:
        return function(to_plain(want) or {}, to_plain(other) or {})
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def sonic_qos_maps_stale(want, have):
    return _call(stale_entries, want, have)


def sonic_qos_maps_added(want, was):
    return _call(added_entries, want, was)


def sonic_qos_maps_was(want, was):
    return _call(maps_as_read, want, was)


class FilterModule(object):
    def filters(self):
        return {
            'sonic_qos_maps_stale': sonic_qos_maps_stale,
            'sonic_qos_maps_added': sonic_qos_maps_added,
            'sonic_qos_maps_was': sonic_qos_maps_was,
        }
