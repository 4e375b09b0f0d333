# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""connectx_qos parsers and planning against real-format mlnx_qos / ethtool outputs."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils.connectx_qos import (
    ParseError, default_dscp2prio, ecn_enabled, ethtool_unsupported, parse_ethtool_pause, parse_mlnx_qos,
    pfc_list, plan_ecn, plan_mlnx_qos,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'connectx')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def test_cx7_dscp_pfc_ets():
    q = parse_mlnx_qos(fixture('mlnx_qos-cx7-dscp-pfc5-ets.txt'))
    assert q['dcbx'] == 'os' and q['trust'] == 'dscp'
    assert len(q['dscp2prio']) == 64
    assert q['dscp2prio'][26] == 3 and q['dscp2prio'][40] == 5 and q['dscp2prio'][48] == 6 and q['dscp2prio'][0] == 0
    assert q['buffer_size'] == [19872, 220896, 0, 0, 0, 0, 0, 0] and q['max_buffer_size'] == 4151520
    assert q['cable_len'] == 30
    assert q['pfc_enabled'] == [0, 0, 0, 0, 0, 1, 0, 0] and q['pfc_priorities'] == [5]
    assert q['pfc_buffer'] == [0, 0, 0, 0, 0, 1, 0, 0]
    assert q['tcs'][0] == {'ratelimit': 'unlimited', 'tsa': 'ets', 'bw': 9, 'priorities': [0]}
    assert q['tcs'][4] == {'ratelimit': 'unlimited', 'tsa': 'strict', 'bw': None, 'priorities': [4]}
    assert q['warnings'] == []


@pytest.mark.parametrize('name, pfc, first_tc', [
    ('mlnx_qos-pcp-default.txt', [], (0, [1])),
    ('mlnx_qos-pcp-pfc3-unsorted.txt', [3], (1, [0])),
])
def test_pcp_reports(name, pfc, first_tc):
    q = parse_mlnx_qos(fixture(name))
    assert q['trust'] == 'pcp' and q['dscp2prio'] == {}
    assert q['pfc_priorities'] == pfc
    assert q['max_buffer_size'] is None and len(q['buffer_size']) == 8
    tc, prios = first_tc
    assert q['tcs'][tc]['priorities'] == prios and q['tcs'][tc]['tsa'] == 'vendor'
    assert sorted(q['tcs']) == list(range(8))


def test_wrapped_priority_and_default_priority():
    q = parse_mlnx_qos(fixture('mlnx_qos-dscp-wrapped.txt'))
    assert q['dcbx'] == 'fw'
    assert q['dscp2prio'][26] == 5 and q['dscp2prio'][41] == 5 and q['dscp2prio'][25] == 3
    assert len(q['dscp2prio']) == 64
    assert q['default_priority'] == [2]


def test_not_supported_output_is_refused():
    with pytest.raises(ParseError):
        parse_mlnx_qos(fixture('mlnx_qos-not-supported.txt'))
    with pytest.raises(ParseError):
        parse_mlnx_qos('')


def test_bad_tc_line():
    text = fixture('mlnx_qos-pcp-default.txt').replace('tc: 3 ratelimit: unlimited, tsa: vendor', 'tc: x broken')
    with pytest.raises(ParseError):
        parse_mlnx_qos(text)


def test_ethtool_pause():
    assert parse_ethtool_pause(fixture('ethtool-a-on.txt')) == {'autoneg': False, 'rx': True, 'tx': True}
    assert parse_ethtool_pause(fixture('ethtool-a-off.txt')) == {'autoneg': False, 'rx': False, 'tx': False}
    assert parse_ethtool_pause(fixture('ethtool-a-autoneg.txt')) == {
        'autoneg': True, 'rx': True, 'tx': False, 'rx_negotiated': True, 'tx_negotiated': False}
    with pytest.raises(ParseError):
        parse_ethtool_pause('')
    assert ethtool_unsupported(fixture('ethtool-a-veth.stderr'))
    assert not ethtool_unsupported(fixture('ethtool-a-nodev.stderr'))


def test_pfc_list_and_defaults():
    assert pfc_list([3]) == '0,0,0,1,0,0,0,0'
    assert pfc_list([]) == '0,0,0,0,0,0,0,0'
    assert pfc_list([7, 0, 3, 3]) == '1,0,0,1,0,0,0,1'
    assert default_dscp2prio()[26] == 3 and default_dscp2prio()[48] == 6 and len(default_dscp2prio()) == 64


def test_plan_from_default_pcp():
    q = parse_mlnx_qos(fixture('mlnx_qos-pcp-default.txt'))
    steps, after = plan_mlnx_qos(q, 'dscp', [3], {26: 3, 48: 6})
    # the firmware map already has 26->3 and 48->6: only trust and PFC change
    assert steps == [['--trust', 'dscp'], ['--pfc', '0,0,0,1,0,0,0,0']]
    assert after['trust'] == 'dscp' and after['pfc_priorities'] == [3] and after['dscp2prio'][26] == 3


def test_plan_only_managed_dscps_and_nothing_when_in_place():
    q = parse_mlnx_qos(fixture('mlnx_qos-cx7-dscp-pfc5-ets.txt'))
    steps, after = plan_mlnx_qos(q, 'dscp', [3], {26: 3, 40: 3, 48: 6})
    assert steps == [['--dscp2prio', 'set,40,3'], ['--pfc', '0,0,0,1,0,0,0,0']]
    assert after['dscp2prio'][40] == 3 and after['dscp2prio'][41] == 5  # 41 is not managed
    steps, after = plan_mlnx_qos(q, 'dscp', [5], {40: 5, 48: 6})
    assert steps == []
    steps, after = plan_mlnx_qos(q, None, None, None)
    assert steps == [] and after['trust'] == 'dscp'


def test_plan_to_pcp_drops_the_map():
    q = parse_mlnx_qos(fixture('mlnx_qos-cx7-dscp-pfc5-ets.txt'))
    steps, after = plan_mlnx_qos(q, 'pcp', [], None)
    assert steps == [['--trust', 'pcp'], ['--pfc', '0,0,0,0,0,0,0,0']]
    assert after['dscp2prio'] == {} and after['trust'] == 'pcp'


def test_ecn_helpers():
    assert ecn_enabled({0: '1', 1: '0', 2: '1\n', 3: '0'}) == [0, 2]
    assert plan_ecn({0: True, 3: False}, {0: False, 3: True, 5: False}) == [(0, '0'), (3, '1')]
