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


def _entries_missing(source, target, key):
    """The entries of map source, as ``{key: value}``, whose key map target does not have."""
    present = _keys(target.get('entries'), key)
    return [{key: value} for value in _keys(source.get('entries'), key) if value not in present]


def _per_map(want, other, decide):
    """Per kind, what decide(want's map, other's map of that name or None, the kind's key)
    returns for each of want's maps, where it returns something."""
    out = {}
    for kind, maps in (want or {}).items():
        key = _key(kind)
        found = [decide(item, _named(_maps(other, kind), item.get('name')), key) for item in maps or []]
        found = [entry for entry in found if entry]
        if found:
            out[kind] = found
    return out


def stale_entries(want, have):
    """Per kind, the entries that a map of want has on the switch (have, as sonic_facts reads
    it) under a key that want's map does not: ``[{name, entries: [{key: value}]}]``."""
    def stale(item, had, key):
        gone = _entries_missing(had, item, key) if had is not None else []
        return {'name': item['name'], 'entries': gone} if gone else None
    return _per_map(want, have, stale)


def added_entries(want, was):
    """Per kind, what pushing want adds to the switch as it was read (was): a map it did not
    have by name (``{name}``, the whole map), or the entries under keys its map did not have."""
    def added(item, had, key):
        if had is None:
            return {'name': item['name']}
        new = _entries_missing(item, had, key)
        return {'name': item['name'], 'entries': new} if new else None
    return _per_map(want, was, added)


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
