# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the fabric_switch role's SONiC QoS maps change on a switch, in the shape of
dellemc.enterprise_sonic.sonic_qos_maps' config: ``{kind: [{name, entries: [{key: value}]}]}``
for the kinds the module knows (dscp_maps, dot1p_maps, fwd_group_*_maps, pfc_priority_*_maps).

The role merges its maps (``state: merged``): the module's replaced/overridden would delete a
whole map first, which the switch refuses while a port uses it. So it deletes, before the
merge, the entries of its maps that the intent no longer has (stale_entries); and its
rollback deletes what the push added (added_entries), then merges the maps as they were read
(maps_as_read). Maps the role does not own (other names) are never touched.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

# the key of the entries of each kind of map (sonic_qos_maps' argument spec)
MAP_KEYS = {
    'dscp_maps': 'dscp',
    'dot1p_maps': 'dot1p',
    'fwd_group_queue_maps': 'fwd_group',
    'fwd_group_dscp_maps': 'fwd_group',
    'fwd_group_dot1p_maps': 'fwd_group',
    'fwd_group_pg_maps': 'fwd_group',
    'pfc_priority_queue_maps': 'dot1p',
    'pfc_priority_pg_maps': 'dot1p',
}


def _key(kind):
    try:
        return MAP_KEYS[kind]
    except KeyError:
        raise ValueError('unknown SONiC QoS map kind %r (known: %s)' % (kind, ', '.join(sorted(MAP_KEYS))))


def _maps(config, kind):
    return (config or {}).get(kind) or []


def _named(maps, name):
    for item in maps:
        if item.get('name') == name:
            return item
    return None


def _keys(entries, key):
    return [entry.get(key) for entry in entries or []]


def stale_entries(want, have):
    """Per kind, the entries that a map of want has on the switch (have, as sonic_facts reads
    it) under a key that want's map does not: ``[{name, entries: [{key: value}]}]``."""
    out = {}
    for kind, maps in (want or {}).items():
        key, stale = _key(kind), []
        for item in maps or []:
            had = _named(_maps(have, kind), item.get('name'))
            if had is None:
                continue
            keep = _keys(item.get('entries'), key)
            gone = [{key: value} for value in _keys(had.get('entries'), key) if value not in keep]
            if gone:
                stale.append({'name': item['name'], 'entries': gone})
        if stale:
            out[kind] = stale
    return out


def added_entries(want, was):
    """Per kind, what pushing want adds to the switch as it was read (was): a map it did not
    have by name (``{name}``, the whole map), or the entries under keys its map did not have."""
    out = {}
    for kind, maps in (want or {}).items():
        key, added = _key(kind), []
        for item in maps or []:
            had = _named(_maps(was, kind), item.get('name'))
            if had is None:
                added.append({'name': item['name']})
                continue
            old = _keys(had.get('entries'), key)
            new = [{key: value} for value in _keys(item.get('entries'), key) if value not in old]
            if new:
                added.append({'name': item['name'], 'entries': new})
        if added:
            out[kind] = added
    return out


def maps_as_read(want, was):
    """Per kind, the maps of was (as read before the push) that want also names, whole."""
    out = {}
    for kind, maps in (want or {}).items():
        _key(kind)
        names = [item.get('name') for item in maps or []]
        had = [item for item in _maps(was, kind) if item.get('name') in names]
        if had:
            out[kind] = had
    return out
