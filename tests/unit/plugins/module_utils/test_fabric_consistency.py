# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fabric_consistency rules and the fabric_violations filter.

A consistent fabric (four GPU nodes, three NX-OS spines from fixtures/nxos/consistent.txt, two SONiC
leaves shaped like dellemc.enterprise_sonic sonic_facts after the fabric_switch role) has no violation;
every break-one case gives exactly the one expected violation.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json
import os
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils.fabric_consistency import (
    RULES, IntentError, fabric_violations, normalize_intent,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nxos')

INTENT = {
    'roce_dscp': 26, 'cnp_dscp': 48, 'lossless_priority': 3, 'cnp_priority': 6, 'switch_mtu': 9216,
    'ecn': {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7},
    'pfc_watchdog': {'enabled': True, 'interval_ms': 200, 'restore_ms': 400},
    'host_mtu': 9000,
}

# what aifabric.cluster.roce_qos reads from a NIC the roce_host role configured
NIC = {'trust': 'dscp', 'pfc_priorities': [3], 'dscp2prio': {'26': 3, '48': 6}, 'ecn_np_priorities': [3],
       'ecn_rp_priorities': [3], 'cnp_dscp': 48, 'cnp_priority': 6, 'roce_mode': 'RoCE v2', 'roce_tos': 106,
       'global_pause': {'rx': False, 'tx': False}}

SPINE_PORTS = [{'name': 'Ethernet1/%d' % n, 'peer': 'leaf-%02d' % n, 'address': '10.20.4.%d/31' % (2 * n - 2)} for n in range(1, 5)]
LEAF_PORTS = [{'name': 'Ethernet%d' % (8 * n), 'peer': 'gpu-%02d' % (n + 1)} for n in range(4)] + [
    {'name': 'Ethernet224', 'peer': 'spine-01', 'address': '10.20.4.1/31'}]


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def rdma(netdev, active_mtu):
    return {'healthy': True, 'devices': [{'name': 'mlx5_0', 'ports': [
        {'port': 1, 'netdev': netdev, 'link_layer': 'Ethernet', 'active_mtu': active_mtu}]}]}


def host(n, **changes):
    entry = {'nic': copy.deepcopy(NIC), 'mtu': 9000, 'netdev': 'ens1f0np0', 'rdma': rdma('ens1f0np0', 4096),
             'path_mtu': {'peer': 'gpu-%02d' % (n % 4 + 1), 'address': '10.232.0.%d' % (100 + n % 4 + 1), 'mtu': 9000,
                          'fit_rc': 0, 'fit_msg': '2 packets transmitted, 2 received, 0% packet loss, time 1001ms',
                          'over_rc': 1, 'over_msg': 'ping: local error: message too long, mtu=9000'}}
    entry.update(changes)
    return entry


def sonic_leaf(ports=None):
    """sonic_facts resources of a leaf as the fabric_switch role leaves them (sonic-qos.yml.j2)."""
    names = [p['name'] for p in (ports or LEAF_PORTS)]
    return {
        'platform': 'sonic',
        'fabric_interfaces': ports or LEAF_PORTS,
        'qos_maps': {
            'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 26, 'fwd_group': '3'}, {'dscp': 48, 'fwd_group': '6'}]}],
            'fwd_group_queue_maps': [{'name': 'AIFABRIC', 'entries': [{'fwd_group': str(tc), 'queue_index': tc} for tc in range(8)]}],
            'fwd_group_pg_maps': [{'name': 'AIFABRIC', 'entries': [{'fwd_group': str(tc), 'pg_index': 3 if tc == 3 else 0}
                                                                   for tc in range(8)]}],
            'pfc_priority_queue_maps': [{'name': 'AIFABRIC', 'entries': [{'dot1p': 3, 'queue_index': 3}]}],
            'pfc_priority_pg_maps': [{'name': 'AIFABRIC', 'entries': [{'dot1p': 3, 'pg_index': 3}]}],
        },
        'qos_wred': [{'name': 'AIFABRIC-ROCE', 'ecn': 'green',
                      'green': {'enable': True, 'min_threshold': 950 * 1024, 'max_threshold': 3000 * 1024, 'drop_probability': 7}}],
        'qos_scheduler': [{'name': 'AIFABRIC', 'schedulers': [
            {'sequence': q, 'scheduler_type': 'strict'} if q == 6 else
            {'sequence': q, 'scheduler_type': 'dwrr', 'weight': 50 if q in (0, 3) else 1} for q in range(8)]}],
        'qos_pfc': {'counter_poll': True, 'poll_interval': 100},
        'qos_interfaces': [{
            'name': name, 'cable_length': '40m',
            'qos_maps': {'dscp_fwd_group': 'AIFABRIC', 'fwd_group_queue': 'AIFABRIC', 'fwd_group_pg': 'AIFABRIC',
                         'pfc_priority_queue': 'AIFABRIC', 'pfc_priority_pg': 'AIFABRIC'},
            'pfc': {'asymmetric': False, 'priorities': [{'dot1p': 3, 'enable': True}], 'watchdog_action': 'drop',
                    'watchdog_detect_time': 200, 'watchdog_restore_time': 400},
            'queues': [{'id': 3, 'wred_profile': 'AIFABRIC-ROCE'}],
            'scheduler_policy': 'AIFABRIC',
        } for name in names],
        'interfaces': [{'name': name, 'mtu': 9216, 'enabled': True} for name in names] + [{'name': 'Ethernet100', 'mtu': 9100}],
    }


def nxos(text='consistent.txt', ports=None):
    return {'platform': 'nxos', 'running_config': fixture(text), 'fabric_interfaces': ports or SPINE_PORTS}


def fabric():
    hosts = dict(('gpu-%02d' % n, host(n)) for n in range(1, 5))
    switches = {'spine-01': nxos(), 'spine-02': nxos(), 'spine-03': nxos(), 'leaf-01': sonic_leaf(), 'leaf-02': sonic_leaf()}
    return hosts, switches


def only(violations):
    assert len(violations) == 1, [v['message'] for v in violations]
    return violations[0]


def test_consistent_fabric_has_no_violation():
    hosts, switches = fabric()
    assert fabric_violations(INTENT, hosts, switches) == []


def test_rules_are_documented():
    assert [rule for rule, _text in RULES] == [
        'input', 'trust', 'dscp_map', 'pfc', 'ecn', 'cnp', 'rdma_cm', 'mtu', 'pfc_watchdog', 'switch_consistency', 'path_mtu']


# ------------------------------------------------------------------ the four break-one cases of the brief

def test_host_with_pfc_on_the_wrong_priority():
    hosts, switches = fabric()
    hosts['gpu-02']['nic']['pfc_priorities'] = [4]
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['host'], v['expected'], v['found']) == ('pfc', 'pfc_priorities', 'gpu-02', [3], [4])
    assert 'port' not in v and 'switch' not in v
    assert v['message'].startswith('gpu-02: ') and '[4]' in v['message'] and '[3]' in v['message']


def test_switch_port_without_pfc():
    hosts, switches = fabric()
    switches['spine-02'] = nxos('port-without-pfc.txt')
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['switch'], v['port'], v['expected'], v['found']) == (
        'pfc', 'pfc_port_mode', 'spine-02', 'Ethernet1/2', 'on', 'auto')
    assert v['message'].startswith('spine-02 Ethernet1/2: priority-flow-control mode is auto, expected on')


def test_switch_mapping_dscp26_to_a_lossy_class():
    hosts, switches = fabric()
    switches['spine-03'] = nxos('dscp26-lossy.txt')
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['switch'], v['expected'], v['found']) == ('dscp_map', 'dscp_tc.26', 'spine-03', 3, 1)
    assert v['port'] == 'Ethernet1/1, Ethernet1/2, Ethernet1/3, Ethernet1/4'
    assert v['message'] == ('spine-03 (all 4 fabric ports): policy-map type qos AIFABRIC-QOS puts DSCP 26 in qos-group 1 '
                            '(class AIFABRIC-ROCE), expected 3 (the lossless qos-group)')


def test_host_mtu_1500():
    hosts, switches = fabric()
    hosts['gpu-03'].update(mtu=1500, rdma=rdma('ens1f0np0', 1024))
    del hosts['gpu-03']['path_mtu']
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['host'], v['expected'], v['found']) == ('mtu', 'host_mtu', 'gpu-03', 9000, 1500)
    assert v['message'] == ('gpu-03: fabric netdev ens1f0np0 MTU is 1500 (RDMA active MTU 1024), the intent 9000 '
                            '(cluster_networks.fabric.mtu)')


# ------------------------------------------------------------------ NX-OS break-one fixtures

@pytest.mark.parametrize('text, rule, setting, port, expected, found', [
    ('dscp24-only.txt', 'dscp_map', 'dscp_tc.26', 'Ethernet1/1, Ethernet1/2, Ethernet1/3, Ethernet1/4', 3, 0),
    ('no-qos-policy-on-port.txt', 'dscp_map', 'qos_policy', 'Ethernet1/1',
     'DSCP 26 -> qos-group 3, DSCP 48 -> qos-group 7', None),
    ('pfc-cos-3-4.txt', 'pfc', 'pfc_priorities', None, [3], [3, 4]),
    ('no-ecn.txt', 'ecn', 'ecn', 'Ethernet1/1, Ethernet1/2, Ethernet1/3, Ethernet1/4', 'random-detect ... ecn',
     'random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes drop-probability 7 weight 0'),
    ('cnp-not-strict.txt', 'cnp', 'cnp_queue', 'Ethernet1/1, Ethernet1/2, Ethernet1/3, Ethernet1/4', 'priority level 1',
     'bandwidth remaining percent 0'),
    ('port-mtu-9000.txt', 'mtu', 'port_mtu', 'Ethernet1/3', 9216, 9000),
    ('nq-mtu-9000.txt', 'mtu', 'lossless_mtu', None, 9216, 9000),
    ('port-without-watchdog.txt', 'pfc_watchdog', 'pfc_watchdog', 'Ethernet1/4', 'on', 'off'),
    ('bandwidth-60.txt', 'switch_consistency', 'queue_bandwidth', None,
     'q1 0%, q2 0%, q3 50%, q4 0%, q5 0%, q6 0%, default 50%', 'q1 0%, q2 0%, q3 60%, q4 0%, q5 0%, q6 0%, default 40%'),
])
def test_nxos_break_one(text, rule, setting, port, expected, found):
    hosts, switches = fabric()
    switches['spine-02'] = nxos(text)
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['switch'], v.get('port'), v['expected'], v['found']) == (
        rule, setting, 'spine-02', port, expected, found)
    where = ' (all 4 fabric ports)' if port and port.count(',') == 3 else (' ' + port if port else '')
    assert v['message'].startswith('spine-02' + where + ': ')


def test_consistency_names_the_odd_switch_and_the_others():
    hosts, switches = fabric()
    switches['spine-02'] = nxos('bandwidth-60.txt')
    v = only(fabric_violations(INTENT, hosts, switches))
    assert v['message'] == ('spine-02: queue_bandwidth is q1 0%, q2 0%, q3 60%, q4 0%, q5 0%, q6 0%, default 40%; '
                            'spine-01, spine-03 have q1 0%, q2 0%, q3 50%, q4 0%, q5 0%, q6 0%, default 50%: '
                            'every NX-OS switch of the fabric must have the same QoS')


def test_consistency_two_switches_first_is_the_reference():
    switches = {'spine-b': nxos('bandwidth-60.txt'), 'spine-a': nxos()}
    v = only(fabric_violations(INTENT, {}, switches))
    assert (v['rule'], v['switch']) == ('switch_consistency', 'spine-b')


def test_consistency_majority_wins_over_the_first_switch():
    switches = {'spine-01': nxos('bandwidth-60.txt'), 'spine-02': nxos(), 'spine-03': nxos()}
    v = only(fabric_violations(INTENT, {}, switches))
    assert (v['rule'], v['switch']) == ('switch_consistency', 'spine-01')


def test_consistency_reference_is_a_switch_without_intent_violation():
    # two switches share the same intent violation; the correct one is not called inconsistent
    switches = {'spine-01': nxos('dscp26-lossy.txt'), 'spine-02': nxos('dscp26-lossy.txt'), 'spine-03': nxos()}
    violations = fabric_violations(INTENT, {}, switches)
    assert [(v['rule'], v['switch']) for v in violations] == [('dscp_map', 'spine-01'), ('dscp_map', 'spine-02')]


def test_consistency_compares_within_a_platform_only():
    # NX-OS spines (CNP qos-group 7, kbytes) and SONiC leaves (CNP TC 6) are never compared with each other
    hosts, switches = fabric()
    del switches['spine-02'], switches['spine-03'], switches['leaf-02']
    assert fabric_violations(INTENT, hosts, switches) == []


def test_factory_default_nxos():
    switches = {'spine-01': nxos('factory-default.txt')}
    violations = fabric_violations(INTENT, {}, switches)
    got = sorted(set((v['rule'], v['setting']) for v in violations))
    assert got == [('dscp_map', 'qos_policy'), ('ecn', 'ecn'), ('mtu', 'lossless_mtu'), ('mtu', 'port_mtu'),
                   ('pfc', 'pfc_port_mode'), ('pfc', 'pfc_priorities'), ('pfc_watchdog', 'pfc_watchdog')]
    # per-port settings once per port, policy-level ones once for the switch
    assert len([v for v in violations if v['setting'] == 'pfc_port_mode']) == 4
    assert len([v for v in violations if v['setting'] == 'qos_policy']) == 1
    # the default queuing policy keeps q7 strict: no CNP violation
    assert not [v for v in violations if v['rule'] == 'cnp']


def test_nxos_port_not_in_config_and_interface_names():
    ports = [{'name': 'eth1/1'}, 'Ethernet1/2', {'name': 'Ethernet1/77'}]
    v = only(fabric_violations(INTENT, {}, {'spine-01': nxos(ports=ports)}))
    assert (v['rule'], v['setting'], v['port'], v['found']) == ('input', 'interface', 'Ethernet1/77', None)


def test_nxos_only_fabric_ports_are_checked():
    # Ethernet1/5 has nothing configured but is not a fabric port
    assert fabric_violations(INTENT, {}, {'spine-01': nxos(ports=['Ethernet1/1'])}) == []
    violations = fabric_violations(INTENT, {}, {'spine-01': nxos(ports=['Ethernet1/1', 'Ethernet1/5'])})
    assert set(v.get('port') for v in violations) == {'Ethernet1/5'}


def test_nxos_cnp_qos_group_follows_the_switch_or_intent():
    # the intent says qos-group 6: the switch classifies CNPs into 7, and its queue q6 is not strict
    violations = fabric_violations(dict(INTENT, nxos_cnp_qos_group=6), {}, {'spine-01': nxos()})
    assert [(v['rule'], v['setting'], v['expected'], v['found']) for v in violations] == [
        ('dscp_map', 'dscp_tc.48', 6, 7), ('cnp', 'cnp_queue', 'priority level 1', 'bandwidth remaining percent 0')]
    switch = dict(nxos(), cnp_qos_group=7)
    assert fabric_violations(dict(INTENT, nxos_cnp_qos_group=6), {}, {'spine-01': switch}) == []


def test_nxos_intent_thresholds_and_watchdog_off():
    intent = copy.deepcopy(INTENT)
    intent['ecn']['min_threshold_kbytes'] = 150
    v = only(fabric_violations(intent, {}, {'spine-01': nxos()}))
    assert (v['rule'], v['setting']) == ('ecn', 'ecn_thresholds')
    assert v['expected'] == {'min_threshold_kbytes': 150, 'max_threshold_kbytes': 3000, 'drop_probability': 7}
    assert v['found'] == {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7}
    intent = copy.deepcopy(INTENT)
    intent['pfc_watchdog']['enabled'] = False
    assert fabric_violations(intent, {}, {'spine-01': nxos('port-without-watchdog.txt')}) == []


def test_nxos_not_read():
    v = only(fabric_violations(INTENT, {}, {'spine-01': {'platform': 'nxos', 'error': 'unreachable'}}))
    assert (v['rule'], v['setting']) == ('input', 'running_config') and 'unreachable' in v['message']
    v = only(fabric_violations(INTENT, {}, {'spine-01': {'platform': 'nxos', 'running_config': '', 'fabric_interfaces': ['Ethernet1/1']}}))
    assert (v['rule'], v['setting']) == ('input', 'running_config') and 'cannot read' in v['message']


def test_unknown_platform_and_no_ports():
    violations = fabric_violations(INTENT, {}, {'sw-01': {'platform': 'eos'}, 'spine-01': dict(nxos(), fabric_interfaces=[])})
    assert [(v['rule'], v['switch'], v['setting']) for v in violations] == [
        ('input', 'spine-01', 'interfaces'), ('input', 'sw-01', 'platform')]


# ------------------------------------------------------------------ SONiC

def sonic_case(change):
    hosts, switches = fabric()
    leaf = switches['leaf-02']
    change(leaf)
    return fabric_violations(INTENT, hosts, switches)


def _port(leaf, name='Ethernet8'):
    return [p for p in leaf['qos_interfaces'] if p['name'] == name][0]


def test_sonic_community_default_dscp_map():
    # no DSCP map on the port: the community DSCP_TO_TC_MAP sends DSCP 26 to TC1
    v = only(sonic_case(lambda leaf: _port(leaf)['qos_maps'].pop('dscp_fwd_group')))
    assert (v['rule'], v['setting'], v['switch'], v['port'], v['expected'], v['found']) == (
        'dscp_map', 'dscp_tc.26', 'leaf-02', 'Ethernet8', 3, 1)
    assert 'community default map' in v['message']


def test_sonic_map_sending_26_to_tc1():
    def change(leaf):
        leaf['qos_maps']['dscp_maps'][0]['entries'][0]['fwd_group'] = '1'
    v = only(sonic_case(change))
    assert (v['setting'], v['found'], v['port']) == ('dscp_tc.26', 1, 'Ethernet0, Ethernet8, Ethernet16, Ethernet24, Ethernet224')


def test_sonic_pfc_on_two_priorities():
    v = only(sonic_case(lambda leaf: _port(leaf, 'Ethernet16')['pfc']['priorities'].append({'dot1p': 4, 'enable': True})))
    assert (v['rule'], v['setting'], v['port'], v['found']) == ('pfc', 'pfc_priorities', 'Ethernet16', [3, 4])


def test_sonic_watchdog():
    def off(leaf):
        for key in ('watchdog_detect_time', 'watchdog_restore_time', 'watchdog_action'):
            _port(leaf, 'Ethernet24')['pfc'].pop(key)
    v = only(sonic_case(off))
    assert (v['rule'], v['port'], v['found']) == ('pfc_watchdog', 'Ethernet24', 'off')
    v = only(sonic_case(lambda leaf: _port(leaf)['pfc'].update(watchdog_detect_time=400)))
    assert v['found'] == {'detect_ms': 400, 'restore_ms': 400, 'action': 'drop'}
    v = only(sonic_case(lambda leaf: leaf['qos_pfc'].update(counter_poll=False)))
    assert (v['rule'], v['setting'], v['switch']) == ('pfc_watchdog', 'counter_poll', 'leaf-02')


def test_sonic_ecn():
    v = only(sonic_case(lambda leaf: leaf['qos_wred'][0].pop('ecn')))
    assert (v['rule'], v['setting']) == ('ecn', 'ecn') and 'WRED profile AIFABRIC-ROCE with ecn none' in v['message']
    v = only(sonic_case(lambda leaf: _port(leaf)['queues'].clear()))
    assert (v['rule'], v['port'], v['found']) == ('ecn', 'Ethernet8', 'no WRED profile on queue 3')
    v = only(sonic_case(lambda leaf: leaf['qos_wred'][0]['green'].update(min_threshold=4000 * 1024)))
    assert v['setting'] == 'ecn_thresholds' and 'not below the maximum' in v['message']


def test_sonic_cnp_queue_not_strict():
    def change(leaf):
        leaf['qos_scheduler'][0]['schedulers'][6] = {'sequence': 6, 'scheduler_type': 'dwrr', 'weight': 1}
    v = only(sonic_case(change))
    assert (v['rule'], v['setting'], v['found']) == ('cnp', 'cnp_queue', 'scheduler policy AIFABRIC queue 6 is dwrr')


def test_sonic_mtu_default_9100():
    v = only(sonic_case(lambda leaf: leaf['interfaces'][1].pop('mtu')))
    assert (v['rule'], v['setting'], v['port'], v['found']) == ('mtu', 'port_mtu', 'Ethernet8', 9100)


def test_sonic_weights_compared_across_leaves():
    def change(leaf):
        leaf['qos_scheduler'][0]['schedulers'][3]['weight'] = 60
    v = only(sonic_case(change))
    assert (v['rule'], v['setting'], v['switch']) == ('switch_consistency', 'queue_bandwidth', 'leaf-02')
    assert 'q3 dwrr 60' in v['found'] and 'q3 dwrr 50' in v['expected']


def test_sonic_missing_subset_and_wrapped_facts():
    v = only(sonic_case(lambda leaf: leaf.pop('qos_wred')))
    assert (v['rule'], v['setting'], v['switch']) == ('input', 'qos_wred', 'leaf-02')
    # sonic_facts gathered qos_pfc but returned nothing (no configuration): watchdog polling is not off
    leaf = sonic_leaf()
    leaf.pop('qos_pfc')
    leaf['gathered'] = ['qos_maps', 'qos_pfc', 'qos_interfaces', 'qos_wred', 'qos_scheduler', 'interfaces']
    assert fabric_violations(INTENT, {}, {'leaf-01': leaf}) == []
    # gathered but empty qos_wred: no profile on the lossless queue
    leaf['qos_wred'] = None
    v = only(fabric_violations(INTENT, {}, {'leaf-01': leaf}))
    assert (v['rule'], v['setting'], v['found']) == ('ecn', 'ecn', 'WRED profile AIFABRIC-ROCE is not defined')
    leaf = sonic_leaf()
    wrapped = {'platform': 'sonic', 'fabric_interfaces': leaf.pop('fabric_interfaces'),
               'ansible_network_resources': dict((k, v) for k, v in leaf.items() if k != 'platform')}
    assert fabric_violations(INTENT, {}, {'leaf-01': wrapped}) == []
    v = only(fabric_violations(INTENT, {}, {'leaf-01': {'platform': 'sonic', 'error': 'unreachable'}}))
    assert (v['rule'], v['setting']) == ('input', 'sonic_facts')


# ------------------------------------------------------------------ hosts

@pytest.mark.parametrize('change, rule, setting, expected, found', [
    ({'trust': 'pcp'}, 'trust', 'trust', 'dscp', 'pcp'),
    ({'dscp2prio': {'26': 0, '48': 6}}, 'dscp_map', 'dscp2prio.26', 3, 0),
    ({'dscp2prio': {'26': 3, '48': None}}, 'dscp_map', 'dscp2prio.48', 6, None),
    ({'pfc_priorities': []}, 'pfc', 'pfc_priorities', [3], []),
    ({'pfc_priorities': [3, 4]}, 'pfc', 'pfc_priorities', [3], [3, 4]),
    ({'global_pause': {'rx': True, 'tx': False}}, 'pfc', 'global_pause', 'rx off tx off', 'rx on tx off'),
    ({'ecn_np_priorities': []}, 'ecn', 'ecn_np_priorities', 'includes 3', []),
    ({'ecn_rp_priorities': [0]}, 'ecn', 'ecn_rp_priorities', 'includes 3', [0]),
    ({'cnp_dscp': 46}, 'cnp', 'cnp_dscp', 48, 46),
    ({'cnp_priority': 7}, 'cnp', 'cnp_priority', 6, 7),
    ({'roce_mode': 'IB/RoCE v1'}, 'rdma_cm', 'roce_mode', 'RoCE v2', 'IB/RoCE v1'),
    ({'roce_tos': None}, 'rdma_cm', 'roce_tos', 106, None),
])
def test_host_break_one(change, rule, setting, expected, found):
    hosts, switches = fabric()
    hosts['gpu-04']['nic'].update(change)
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['host'], v['expected'], v['found']) == (rule, setting, 'gpu-04', expected, found)
    assert v['message'].startswith('gpu-04: ')


def test_host_accepted_variants():
    hosts, switches = fabric()
    # int DSCP keys, pause unsupported by the device, ECN on more priorities, roce_mode/roce_tos not managed
    hosts['gpu-01']['nic'].update(dscp2prio={26: 3, 48: 6}, global_pause='unsupported', ecn_np_priorities=[3, 4])
    del hosts['gpu-01']['nic']['roce_mode'], hosts['gpu-01']['nic']['roce_tos']
    assert fabric_violations(INTENT, hosts, switches) == []


def test_host_rdma_active_mtu_below_expected():
    hosts, switches = fabric()
    hosts['gpu-01']['rdma'] = rdma('ens1f0np0', 2048)
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['expected'], v['found']) == ('mtu', 'rdma_active_mtu', 4096, 2048)
    # an RDMA port of another netdev is not the fabric port
    hosts['gpu-01']['rdma'] = rdma('ens2f0np0', 1024)
    assert fabric_violations(INTENT, hosts, switches) == []


def test_host_path_mtu():
    hosts, switches = fabric()
    hosts['gpu-01']['path_mtu'].update(fit_rc=1, fit_msg='2 packets transmitted, 0 received, 100% packet loss, time 1002ms')
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['rule'], v['setting'], v['host'], v['expected']) == ('path_mtu', 'path_mtu_fits', 'gpu-01', 'ping -M do -s 8972 passes')
    assert 'gpu-02 (10.232.0.102)' in v['message'] and '100% packet loss' in v['found']
    hosts, switches = fabric()
    hosts['gpu-02']['path_mtu'].update(over_rc=0, over_msg='')
    v = only(fabric_violations(INTENT, hosts, switches))
    assert (v['setting'], v['expected'], v['found']) == ('path_mtu_limit', 'ping -M do -s 8973 fails', 'passes')


def test_host_not_read():
    hosts, switches = fabric()
    hosts['gpu-01'] = {'error': 'no netdev has node_fabric_mac 0a:af:02:00:00:65'}
    hosts['gpu-02'] = dict(hosts['gpu-02'], nic=None, nic_error='mlnx_qos not found')
    violations = fabric_violations(INTENT, hosts, switches)
    assert [(v['rule'], v['host'], v['setting']) for v in violations] == [('input', 'gpu-01', 'host'), ('input', 'gpu-02', 'nic')]
    assert 'mlnx_qos not found' in violations[1]['message']
    v = only(fabric_violations(INTENT, {'gpu-01': {'nic': NIC}}, {}))
    assert (v['rule'], v['setting']) == ('input', 'host_mtu')


def test_order_hosts_then_switches_by_rule():
    hosts, switches = fabric()
    hosts['gpu-02']['nic']['pfc_priorities'] = [4]
    hosts['gpu-01']['nic']['trust'] = 'pcp'
    switches['spine-02'] = nxos('port-without-pfc.txt')
    violations = fabric_violations(INTENT, hosts, switches)
    assert [(v['rule'], v.get('host') or v.get('switch')) for v in violations] == [
        ('trust', 'gpu-01'), ('pfc', 'gpu-02'), ('pfc', 'spine-02')]


# ------------------------------------------------------------------ intent and filter

def test_intent_normalized_and_checked():
    got = normalize_intent(dict(INTENT, roce_dscp='26', host_mtu='9000', pfc_watchdog={'enabled': 'true'}))
    assert got['roce_dscp'] == 26 and got['host_mtu'] == 9000 and got['pfc_watchdog']['enabled'] is True
    assert got['nxos_cnp_qos_group'] == 7 and got['l2_overhead'] == 22
    with pytest.raises(IntentError, match='host_mtu'):
        normalize_intent(dict((k, v) for k, v in INTENT.items() if k != 'host_mtu'))
    with pytest.raises(IntentError, match='roce_dscp'):
        normalize_intent(dict(INTENT, roce_dscp='x'))
    with pytest.raises(IntentError):
        normalize_intent(None)


# The filter imports ansible.errors (controller code). Importing controller code into the pytest process
# changes how later module tests in the same process see their warnings, so the filter runs in a child.
FILTER_CHECK = textwrap.dedent("""
    import copy, json, sys
    from ansible.errors import AnsibleFilterError
    from ansible_collections.aifabric.cluster.plugins.filter.fabric_violations import FilterModule, fabric_violations as f
    intent, hosts, switches = json.loads(sys.stdin.read())
    out = {'registered': FilterModule().filters()['fabric_violations'] is f,
           'consistent': f(intent, hosts, switches), 'empty': f(intent)}
    broken = copy.deepcopy(hosts)
    broken['gpu-02']['nic']['pfc_priorities'] = [4]
    out['broken'] = f(intent, broken, switches)
    errors = []
    for args in ((dict((k, v) for k, v in intent.items() if k != 'host_mtu'), {}, {}), (intent, {}, ['spine-01'])):
        try:
            f(*args)
        except AnsibleFilterError as exc:
            errors.append(str(exc))
    out['errors'] = errors
    print(json.dumps(out))
""")


def test_filter():
    hosts, switches = fabric()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, '-c', FILTER_CHECK], input=json.dumps([INTENT, hosts, switches]),
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out['registered'] is True
    assert out['consistent'] == [] and out['empty'] == []
    v = only(out['broken'])
    assert (v['rule'], v['host'], v['found']) == ('pfc', 'gpu-02', [4])
    assert len(out['errors']) == 2
    assert out['errors'][0].startswith('fabric_violations: the intent has no host_mtu')
    assert out['errors'][1] == 'fabric_violations: switches must be a dict'
