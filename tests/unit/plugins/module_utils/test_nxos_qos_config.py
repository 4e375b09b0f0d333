# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nxos_qos_config: NX-OS running-config QoS parsing and the NX-OS semantics the fabric validator relies on.

The fixtures under fixtures/nxos/ are `show running-config` outputs of the lab's NX-OS test double
(lab/simulators/nxos/) after the fabric_switch role's nxos-qos.j2 configuration for the default
intent (consistent.txt), each broken variant changing one thing, and a factory-default switch.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils.nxos_qos_config import (
    DEFAULT_QUEUING_CLASSES, NxosParseError, classify_dscp, effective_port_qos, network_qos, normalize_interface, nq_mtu,
    parse_int_list, parse_running_config, queue_of, queuing_classes,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nxos')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


@pytest.fixture(scope='module')
def consistent():
    return parse_running_config(fixture('consistent.txt'))


def test_consistent_blocks(consistent):
    c = consistent
    assert c['hostname'] == 'spine-01'
    assert c['class_maps']['AIFABRIC-ROCE'] == {'type': 'qos', 'match': 'match-any', 'dscp': [26], 'other_matches': []}
    assert c['class_maps']['AIFABRIC-CNP']['dscp'] == [48]
    assert c['qos_policies']['AIFABRIC-QOS'] == [
        {'class': 'AIFABRIC-ROCE', 'qos_group': 3, 'set_dscp': None},
        {'class': 'AIFABRIC-CNP', 'qos_group': 7, 'set_dscp': None},
        {'class': 'class-default', 'qos_group': 0, 'set_dscp': None},
    ]
    assert c['network_qos_policies']['AIFABRIC-NQ'] == {
        'c-8q-nq3': {'mtu': 9216, 'pause_pfc_cos': [3]}, 'c-8q-nq-default': {'mtu': 9216, 'pause_pfc_cos': None}}
    queuing = c['queuing_policies']['AIFABRIC-QUEUING']
    assert sorted(queuing) == sorted(['c-out-8q-q%d' % n for n in range(1, 8)] + ['c-out-8q-q-default'])
    assert queuing['c-out-8q-q7']['priority_level'] == 1
    assert queuing['c-out-8q-q3']['bandwidth_remaining_percent'] == 50
    wred = queuing['c-out-8q-q3']['wred']
    assert (wred['min'], wred['min_unit'], wred['max'], wred['max_unit']) == (950, 'kbytes', 3000, 'kbytes')
    assert (wred['min_kbytes'], wred['max_kbytes'], wred['drop_probability'], wred['weight'], wred['ecn']) == (950, 3000, 7, 0, True)
    assert queuing['c-out-8q-q-default']['bandwidth_remaining_percent'] == 50
    assert queuing['c-out-8q-q4'] == {'bandwidth_remaining_percent': 0, 'bandwidth_percent': None, 'priority_level': None,
                                      'wred': None}
    assert c['system_qos'] == {'network_qos': 'AIFABRIC-NQ', 'queuing_output': 'AIFABRIC-QUEUING', 'queuing_input': None,
                               'qos_input': None}
    assert c['pfc_watchdog_global'] is None


def test_consistent_interfaces(consistent):
    ifaces = consistent['interfaces']
    assert len(ifaces) == 65 and 'mgmt0' in ifaces  # Ethernet1/1-64 and mgmt0
    assert ifaces['Ethernet1/1'] == {'mtu': 9216, 'pfc_mode': 'on', 'pfc_watchdog': 'on', 'qos_input': 'AIFABRIC-QOS',
                                     'queuing_output': None, 'switchport': False, 'shutdown': None,
                                     'ip_address': '10.20.4.0/31'}
    # an interface with nothing configured has the NX-OS defaults
    assert ifaces['Ethernet1/5'] == {'mtu': 1500, 'pfc_mode': 'auto', 'pfc_watchdog': None, 'qos_input': None,
                                     'queuing_output': None, 'switchport': True, 'shutdown': None, 'ip_address': None}


def test_consistent_semantics(consistent):
    assert classify_dscp(consistent, 'AIFABRIC-QOS', 26) == (3, 'AIFABRIC-ROCE')
    assert classify_dscp(consistent, 'AIFABRIC-QOS', 48) == (7, 'AIFABRIC-CNP')
    assert classify_dscp(consistent, 'AIFABRIC-QOS', 0) == (0, 'class-default')
    assert classify_dscp(consistent, None, 26) == (0, None)
    assert classify_dscp(consistent, 'NOPE', 26) == (None, None)
    nq = network_qos(consistent)
    assert nq['policy'] == 'AIFABRIC-NQ' and nq['defined']
    assert nq['pfc_cos'] == [3] and nq['no_drop'] == {3: [3]} and nq['mtu'] == {3: 9216, 'default': 9216}
    assert nq_mtu(consistent, 3) == 9216
    assert nq_mtu(consistent, 5) == 1500  # no c-8q-nq5 class: NX-OS default
    assert queue_of(consistent, 'AIFABRIC-QUEUING', 3)['wred']['ecn'] is True
    assert queue_of(consistent, 'AIFABRIC-QUEUING', 0)['bandwidth_remaining_percent'] == 50
    assert queue_of(consistent, 'NOPE', 3) is None
    eff = effective_port_qos(consistent, 'eth1/2')
    assert eff == {'port': 'Ethernet1/2', 'mtu': 9216, 'pfc_mode': 'on', 'pfc_watchdog': 'on', 'qos_policy': 'AIFABRIC-QOS',
                   'queuing_policy': 'AIFABRIC-QUEUING'}
    assert effective_port_qos(consistent, 'Ethernet1/99') is None


@pytest.mark.parametrize('name, check', [
    ('port-without-pfc.txt', lambda c: c['interfaces']['Ethernet1/2']['pfc_mode'] == 'auto'),
    ('dscp26-lossy.txt', lambda c: classify_dscp(c, 'AIFABRIC-QOS', 26) == (1, 'AIFABRIC-ROCE')),
    ('dscp24-only.txt', lambda c: classify_dscp(c, 'AIFABRIC-QOS', 26) == (0, 'class-default')
     and classify_dscp(c, 'AIFABRIC-QOS', 24) == (3, 'AIFABRIC-ROCE')),
    ('pfc-cos-3-4.txt', lambda c: network_qos(c)['pfc_cos'] == [3, 4]),
    ('no-ecn.txt', lambda c: queue_of(c, 'AIFABRIC-QUEUING', 3)['wred']['ecn'] is False),
    ('cnp-not-strict.txt', lambda c: queue_of(c, 'AIFABRIC-QUEUING', 7) == {
        'bandwidth_remaining_percent': 0, 'bandwidth_percent': None, 'priority_level': None, 'wred': None}),
    ('port-mtu-9000.txt', lambda c: c['interfaces']['Ethernet1/3']['mtu'] == 9000),
    ('nq-mtu-9000.txt', lambda c: nq_mtu(c, 3) == 9000),
    ('port-without-watchdog.txt', lambda c: effective_port_qos(c, 'Ethernet1/4')['pfc_watchdog'] == 'off'),
    ('bandwidth-60.txt', lambda c: queue_of(c, 'AIFABRIC-QUEUING', 3)['bandwidth_remaining_percent'] == 60),
    ('no-qos-policy-on-port.txt', lambda c: effective_port_qos(c, 'Ethernet1/1')['qos_policy'] is None),
])
def test_broken_variants(name, check):
    assert check(parse_running_config(fixture(name)))


def test_factory_default():
    c = parse_running_config(fixture('factory-default.txt'))
    assert c['class_maps'] == {} and c['qos_policies'] == {} and c['queuing_policies'] == {}
    assert c['system_qos']['network_qos'] is None
    nq = network_qos(c)
    assert nq == {'policy': None, 'defined': False, 'no_drop': {}, 'pfc_cos': [], 'mtu': {}}
    assert nq_mtu(c, 3) == 1500
    eff = effective_port_qos(c, 'Ethernet1/1')
    assert eff['qos_policy'] is None and eff['queuing_policy'] is None and eff['pfc_watchdog'] == 'off'
    # no queuing policy: NX-OS default-8q-out-policy (q7 strict, no WRED)
    assert queuing_classes(c, None) is DEFAULT_QUEUING_CLASSES
    assert queue_of(c, None, 7)['priority_level'] == 1
    assert queue_of(c, None, 3)['wred'] is None


# Real NX-OS forms the simulator does not print: CRLF, '!' comments, 'class type qos' under a qos
# policy, a DSCP range and list, the older 'pause buffer-size ... pfc-cos' form, plain 'priority',
# bytes/mbytes thresholds, the global watchdog, the system qos input policy, 'Eth' names.
VARIANT = '\r\n'.join([
    '!Command: show running-config',
    'version 9.3(9) Bios:version 05.45',
    'switchname leaf-07',
    'priority-flow-control watch-dog-interval on',
    'class-map type qos match-any ROCE',
    '  match dscp 24-31',
    'class-map type qos match-all CNP',
    '  match dscp 46,48',
    'class-map type qos match-all COS3',
    '  match dscp 26',
    '  match cos 3',
    'policy-map type qos QOS',
    '  class type qos COS3',
    '    set qos-group 5',
    '  class type qos ROCE',
    '    set qos-group 3',
    '  class type qos CNP',
    '    set qos-group 7',
    'policy-map type network-qos NQ',
    '  class type network-qos c-8q-nq3',
    '    pause buffer-size 12000 pause-threshold 3000 resume-threshold 1500 pfc-cos 3',
    '    mtu 9216',
    'policy-map type queuing Q',
    '  class type queuing c-out-8q-q7',
    '    priority',
    '  class type queuing c-out-8q-q3',
    '    bandwidth percent 40',
    '    random-detect minimum-threshold 153600 bytes maximum-threshold 3 mbytes drop-probability 7 weight 0 ecn',
    '  class type queuing c-out-8q-q2',
    '    random-detect threshold burst-optimized ecn',
    'system qos',
    '  service-policy type qos input QOS',
    '  service-policy type network-qos NQ',
    '  service-policy type queuing output Q',
    '!',
    'interface Eth1/1',
    '  priority-flow-control mode on',
    '  priority-flow-control watch-dog-interval off',
    '  mtu 9216',
    '  no shutdown',
    'interface Ethernet1/2',
    '  mtu 9216',
    '  service-policy type queuing output Q2',
    '  shutdown',
    '',
])


def test_real_nxos_forms():
    c = parse_running_config(VARIANT)
    assert c['hostname'] == 'leaf-07' and c['pfc_watchdog_global'] == 'on'
    assert c['class_maps']['ROCE']['dscp'] == list(range(24, 32))
    assert c['class_maps']['CNP'] == {'type': 'qos', 'match': 'match-all', 'dscp': [46, 48], 'other_matches': []}
    assert c['class_maps']['COS3']['other_matches'] == ['match cos 3']
    # match-all with a CoS match is not a pure DSCP classifier; ROCE (24-31) takes DSCP 26
    assert classify_dscp(c, 'QOS', 26) == (3, 'ROCE')
    assert classify_dscp(c, 'QOS', 48) == (7, 'CNP')
    # no class-default in the policy: qos-group 0
    assert classify_dscp(c, 'QOS', 10) == (0, 'class-default')
    assert network_qos(c)['pfc_cos'] == [3]
    assert c['queuing_policies']['Q']['c-out-8q-q7']['priority_level'] == 1
    q3 = c['queuing_policies']['Q']['c-out-8q-q3']
    assert q3['bandwidth_percent'] == 40 and q3['bandwidth_remaining_percent'] is None
    assert (q3['wred']['min_kbytes'], q3['wred']['max_kbytes'], q3['wred']['ecn']) == (150, 3072, True)
    q2 = c['queuing_policies']['Q']['c-out-8q-q2']['wred']
    assert q2['ecn'] is True and q2['min'] is None
    assert c['interfaces']['Ethernet1/1']['shutdown'] is False
    # the interface line wins over the global watchdog; without one the global applies
    assert effective_port_qos(c, 'Ethernet1/1')['pfc_watchdog'] == 'off'
    eff2 = effective_port_qos(c, 'ethernet1/2')
    assert eff2['pfc_watchdog'] == 'on' and eff2['qos_policy'] == 'QOS' and eff2['queuing_policy'] == 'Q2'
    assert c['interfaces']['Ethernet1/2']['shutdown'] is True


@pytest.mark.parametrize('name, want', [
    ('Ethernet1/1', 'Ethernet1/1'), ('eth1/1', 'Ethernet1/1'), ('Eth1/49', 'Ethernet1/49'), ('E1/2', 'Ethernet1/2'),
    ('ethernet1/1/3', 'Ethernet1/1/3'), ('Po10', 'port-channel10'), ('port-channel 5', 'port-channel5'),
    ('loopback0', 'loopback0'),
])
def test_normalize_interface(name, want):
    assert normalize_interface(name) == want


@pytest.mark.parametrize('text, want', [
    ('26', [26]), ('24-31', list(range(24, 32))), ('24-31,48', list(range(24, 32)) + [48]), ('3 4', [3, 4]), ('4,3,3', [3, 4]),
])
def test_parse_int_list(text, want):
    assert parse_int_list(text) == want


@pytest.mark.parametrize('text', ['a', '5-3', '1-'])
def test_parse_int_list_malformed(text):
    with pytest.raises(ValueError):
        parse_int_list(text)


@pytest.mark.parametrize('text', [None, 42, '', '\n\n', '! only a comment\n', '  indented only\n'])
def test_not_a_running_config(text):
    with pytest.raises(NxosParseError):
        parse_running_config(text)
