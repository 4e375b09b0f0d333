# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What fabric_switch's SONiC QoS maps delete before a merge, and what its rollback deletes and
merges back, on maps in the shape dellemc.enterprise_sonic's sonic_facts reads them."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils.sonic_qos_maps import (
    MAP_KEYS, added_entries, maps_as_read, stale_entries)

# the role's maps for the default intent (RoCE on DSCP 26 in group 3, CNP on 48 in group 6)
WANT = {
    'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 26, 'fwd_group': '3'}, {'dscp': 48, 'fwd_group': '6'}]}],
    'fwd_group_queue_maps': [{'name': 'AIFABRIC', 'entries': [{'fwd_group': str(tc), 'queue_index': tc} for tc in range(8)]}],
    'pfc_priority_queue_maps': [{'name': 'AIFABRIC', 'entries': [{'dot1p': 3, 'queue_index': 3}]}],
}
# as sonic_facts reads a switch the role converged with DSCP 24 before, with the operator's own map beside
HAVE = {
    'dscp_maps': [{'name': 'AIFABRIC',
                   'entries': [{'dscp': 24, 'fwd_group': '3'}, {'dscp': 26, 'fwd_group': '3'}, {'dscp': 48, 'fwd_group': '6'}]},
                  {'name': 'OPERATOR', 'entries': [{'dscp': 10, 'fwd_group': '1'}]}],
    'fwd_group_queue_maps': [{'name': 'AIFABRIC', 'entries': [{'fwd_group': str(tc), 'queue_index': tc} for tc in range(8)]}],
}


def test_every_kind_of_the_module_has_its_key():
    assert MAP_KEYS['dscp_maps'] == 'dscp' and MAP_KEYS['dot1p_maps'] == 'dot1p'
    assert MAP_KEYS['pfc_priority_pg_maps'] == 'dot1p'
    assert sorted(k for k, v in MAP_KEYS.items() if v == 'fwd_group') == [
        'fwd_group_dot1p_maps', 'fwd_group_dscp_maps', 'fwd_group_pg_maps', 'fwd_group_queue_maps']


def test_stale_entries_are_those_of_our_maps_the_intent_dropped():
    assert stale_entries(WANT, HAVE) == {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 24}]}]}


def test_nothing_is_stale_on_a_converged_or_a_new_switch():
    assert stale_entries(WANT, WANT) == {}
    assert stale_entries(WANT, {}) == {}
    assert stale_entries(WANT, {'dscp_maps': [{'name': 'AIFABRIC'}]}) == {}  # a map read without entries


def test_another_map_is_never_touched():
    have = {'dscp_maps': [{'name': 'OPERATOR', 'entries': [{'dscp': 26, 'fwd_group': '0'}]}]}
    assert stale_entries(WANT, have) == {}
    assert maps_as_read(WANT, have) == {}


def test_added_entries_are_new_maps_whole_and_new_keys_of_existing_maps():
    was = {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 24, 'fwd_group': '3'},
                                                          {'dscp': 48, 'fwd_group': '6'}]}]}
    assert added_entries(WANT, was) == {
        'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 26}]}],
        'fwd_group_queue_maps': [{'name': 'AIFABRIC'}],
        'pfc_priority_queue_maps': [{'name': 'AIFABRIC'}],
    }
    assert added_entries(WANT, WANT) == {}


def test_a_changed_value_under_a_kept_key_is_not_added_but_merged_back():
    was = {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 26, 'fwd_group': '0'}, {'dscp': 48, 'fwd_group': '6'}]}]}
    assert 'dscp_maps' not in added_entries(WANT, was)
    assert maps_as_read(WANT, was) == was


def test_maps_as_read_are_whole_and_only_ours():
    assert maps_as_read(WANT, HAVE) == {'dscp_maps': [HAVE['dscp_maps'][0]],
                                        'fwd_group_queue_maps': HAVE['fwd_group_queue_maps']}
    assert maps_as_read(WANT, {}) == {}


def test_an_unknown_kind_is_refused_by_name():
    for function in (stale_entries, added_entries, maps_as_read):
        with pytest.raises(ValueError, match="unknown SONiC QoS map kind 'tc_maps'"):
            function({'tc_maps': [{'name': 'AIFABRIC', 'entries': []}]}, {})
