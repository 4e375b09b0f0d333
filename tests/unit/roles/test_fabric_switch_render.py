# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering of the fabric_switch role: the NX-OS configuration and its nxos_config blocks (the
Python of module_utils/nxos_qos_config.py that the role runs as filters),
the --diff view, and the SONiC resource module configurations validated against each
dellemc.enterprise_sonic module's argument spec.

The templates are rendered with plain Jinja2 set up as Ansible's template lookup does
(trim_blocks, no lstrip_blocks) plus the two Ansible filters they use (bool, to_json).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import importlib
import json
import os
import re

import jinja2
import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.aifabric.cluster.plugins.module_utils.nxos_qos_config import change_diff, config_blocks, running_sections

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'fabric_switch')

INTENT = {
    'roce_dscp': 26,
    'cnp_dscp': 48,
    'lossless_priority': 3,
    'cnp_priority': 6,
    'switch_mtu': 9216,
    'ecn': {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7},
    'pfc_watchdog': {'enabled': True, 'interval_ms': 200, 'restore_ms': 400},
}

INTERFACES = [
    {'name': 'Ethernet1/1', 'peer': 'leaf-su1-01', 'address': '10.20.0.0/31', 'peer_address': '10.20.0.1'},
    {'name': 'Ethernet1/2', 'peer': 'leaf-su1-02', 'address': '10.20.0.2/31'},
    {'name': 'Ethernet1/3', 'peer': 'leaf-su1-03'},
]

# a non-default intent: the RoCE range's low end, another lossless priority, no watchdog
OTHER_INTENT = {
    'roce_dscp': 24,
    'cnp_dscp': 46,
    'lossless_priority': 4,
    'cnp_priority': 5,
    'switch_mtu': 9000,
    'ecn': {'min_threshold_kbytes': 150, 'max_threshold_kbytes': 3000, 'drop_probability': 5},
    'pfc_watchdog': {'enabled': False, 'interval_ms': 200, 'restore_ms': 400},
}


def _defaults():
    with open(os.path.join(ROLE, 'defaults', 'main.yml')) as f:
        return yaml.safe_load(f)


def render(template, qos=None, interfaces=None, **overrides):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(ROLE, 'templates')),
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters['bool'] = boolean
    env.filters['to_json'] = json.dumps
    variables = _defaults()
    variables.update({
        'fabric_switch_qos': copy.deepcopy(INTENT if qos is None else qos),
        'fabric_switch_interfaces': copy.deepcopy(INTERFACES if interfaces is None else interfaces),
        'fabric_switch_platform': 'nxos',
    })
    variables.update(overrides)
    return env.get_template(template).render(**variables)


def sections(text):
    """{path: [leaf lines]} of an indented NX-OS configuration, path = tuple of parents."""
    out = {}
    stack = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        depth = (len(raw) - len(raw.lstrip())) // 2
        stack = stack[:depth] + [raw.strip()]
        out.setdefault(tuple(stack[:depth]), []).append(raw.strip())
    return out


def interface_blocks(text, interfaces):
    sect = sections(text)
    return dict((port['name'], sect[('interface %s' % port['name'],)]) for port in interfaces)


# ---------------------------------------------------------------------------- NX-OS


def test_nxos_default_intent_acceptance_strings():
    text = render('nxos-qos.j2')
    sect = sections(text)
    assert 'match dscp 26' in sect[('class-map type qos match-any AIFABRIC-ROCE',)]
    assert 'match dscp 48' in sect[('class-map type qos match-any AIFABRIC-CNP',)]
    assert sect[('policy-map type qos AIFABRIC-QOS', 'class AIFABRIC-ROCE')] == ['set qos-group 3']
    assert sect[('policy-map type qos AIFABRIC-QOS', 'class AIFABRIC-CNP')] == ['set qos-group 7']
    nq3 = sect[('policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq3')]
    assert nq3 == ['mtu 9216', 'pause pfc-cos 3']
    assert sect[('policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq-default')] == ['mtu 9216']
    queuing = 'policy-map type queuing AIFABRIC-QUEUING'
    q3 = sect[(queuing, 'class type queuing c-out-8q-q3')]
    assert 'bandwidth remaining percent 50' in q3
    assert ('random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes '
            'drop-probability 7 weight 0 ecn') in q3
    assert sect[(queuing, 'class type queuing c-out-8q-q7')] == ['priority level 1']
    assert sect[(queuing, 'class type queuing c-out-8q-q-default')] == ['bandwidth remaining percent 50']
    for queue in (1, 2, 4, 5, 6):
        assert sect[(queuing, 'class type queuing c-out-8q-q%d' % queue)] == ['bandwidth remaining percent 0']
    # ECN only on the lossless queue, PFC pause only on the lossless CoS
    assert len(re.findall(r'random-detect .* ecn$', text, re.M)) == 1
    assert re.findall(r'pause pfc-cos \d+', text) == ['pause pfc-cos 3']
    assert sect[('system qos',)] == ['service-policy type network-qos AIFABRIC-NQ',
                                     'service-policy type queuing output AIFABRIC-QUEUING']


def test_nxos_every_fabric_interface():
    ports = interface_blocks(render('nxos-qos.j2'), INTERFACES)
    for port in INTERFACES:
        lines = ports[port['name']]
        assert 'mtu 9216' in lines
        assert 'priority-flow-control mode on' in lines
        assert 'priority-flow-control watch-dog-interval on' in lines
        assert 'service-policy type qos input AIFABRIC-QOS' in lines
        if port.get('address'):
            assert lines[0] == 'no switchport'
            assert lines[-1] == 'ip address %s' % port['address']
        else:
            assert 'no switchport' not in lines
            assert not [line for line in lines if line.startswith('ip address')]


def test_nxos_non_default_intent():
    text = render('nxos-qos.j2', qos=OTHER_INTENT)
    sect = sections(text)
    assert sect[('class-map type qos match-any AIFABRIC-ROCE',)] == ['match dscp 24']
    assert sect[('class-map type qos match-any AIFABRIC-CNP',)] == ['match dscp 46']
    assert sect[('policy-map type qos AIFABRIC-QOS', 'class AIFABRIC-ROCE')] == ['set qos-group 4']
    assert sect[('policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq4')] == [
        'mtu 9000', 'pause pfc-cos 4']
    assert 'mtu 9216' not in text
    assert 'c-8q-nq3' not in text
    q4 = sect[('policy-map type queuing AIFABRIC-QUEUING', 'class type queuing c-out-8q-q4')]
    assert ('random-detect minimum-threshold 150 kbytes maximum-threshold 3000 kbytes '
            'drop-probability 5 weight 0 ecn') in q4
    assert sect[('policy-map type queuing AIFABRIC-QUEUING', 'class type queuing c-out-8q-q3')] == [
        'bandwidth remaining percent 0']
    for lines in interface_blocks(text, INTERFACES).values():
        assert 'mtu 9000' in lines
        assert 'priority-flow-control mode on' in lines
        assert 'priority-flow-control watch-dog-interval on' not in lines


def test_nxos_cnp_qos_group_can_follow_the_intent():
    sect = sections(render('nxos-qos.j2', fabric_switch_nxos_cnp_qos_group=6, fabric_switch_object_prefix='RDMA'))
    assert sect[('policy-map type qos RDMA-QOS', 'class RDMA-CNP')] == ['set qos-group 6']
    assert sect[('policy-map type queuing RDMA-QUEUING', 'class type queuing c-out-8q-q6')] == ['priority level 1']
    assert sect[('policy-map type queuing RDMA-QUEUING', 'class type queuing c-out-8q-q7')] == [
        'bandwidth remaining percent 0']


def test_nxos_uses_only_the_simulated_grammar():
    grammar = [
        r'class-map type qos match-any \S+', r'match dscp \d+',
        r'policy-map type (qos|network-qos|queuing) \S+', r'class \S+', r'set qos-group \d',
        r'class type network-qos c-8q-nq(\d|-default)', r'mtu \d+', r'pause pfc-cos \d',
        r'class type queuing c-out-8q-q(\d|-default)', r'bandwidth remaining percent \d+', r'priority level 1',
        r'random-detect minimum-threshold \d+ kbytes maximum-threshold \d+ kbytes drop-probability \d+ weight 0 ecn',
        r'system qos', r'service-policy type network-qos \S+', r'service-policy type queuing output \S+',
        r'interface Ethernet\d+/\d+', r'priority-flow-control mode on', r'priority-flow-control watch-dog-interval on',
        r'service-policy type qos input \S+', r'no switchport', r'ip address [\d.]+/\d+',
    ]
    for qos in (INTENT, OTHER_INTENT):
        for line in render('nxos-qos.j2', qos=qos).splitlines():
            assert any(re.match('^%s$' % rule, line.strip()) for rule in grammar), line


def test_nxos_blocks_cover_the_rendered_configuration():
    for qos in (INTENT, OTHER_INTENT):
        text = render('nxos-qos.j2', qos=qos)
        blocks = config_blocks(render('nxos-qos.j2', qos=qos))
        # every leaf line once, under its parents, in the rendered order
        expected = [(path, line) for path, lines in sections(text).items() for line in lines
                    if path + (line,) not in sections(text)]
        got = [(tuple(block['parents']), line) for block in blocks for line in block['lines']]
        assert sorted(got) == sorted(expected)
        order = [line.strip() for line in text.splitlines()]
        positions = [order.index(block['parents'][-1] if block['parents'] else block['lines'][0]) for block in blocks]
        assert positions == sorted(positions)
    blocks = config_blocks(render('nxos-qos.j2'))
    assert {'parents': ['policy-map type queuing AIFABRIC-QUEUING', 'class type queuing c-out-8q-q3'],
            'lines': ['bandwidth remaining percent 50',
                      'random-detect minimum-threshold 950 kbytes maximum-threshold 3000 kbytes '
                      'drop-probability 7 weight 0 ecn']} in blocks
    assert blocks[-1] == {'parents': ['interface Ethernet1/3'],
                          'lines': ['mtu 9216', 'priority-flow-control mode on',
                                    'priority-flow-control watch-dog-interval on',
                                    'service-policy type qos input AIFABRIC-QOS']}


def test_nxos_no_interfaces():
    text = render('nxos-qos.j2', interfaces=[])
    assert 'interface' not in text
    assert config_blocks(render('nxos-qos.j2', interfaces=[]))[-1]['parents'] == ['system qos']


def test_nxos_diff_view():
    running = '\n'.join([
        'policy-map type network-qos AIFABRIC-NQ',
        '  class type network-qos c-8q-nq3',
        '    mtu 9216',
        'interface Ethernet1/1',
        '  mtu 1500',
    ])
    changes = [
        {'item': {'parents': ['policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq3'],
                  'lines': ['mtu 9216', 'pause pfc-cos 3']},
         'commands': ['policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq3', 'pause pfc-cos 3']},
        {'item': {'parents': ['policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq-default'],
                  'lines': ['mtu 9216']},
         'commands': ['policy-map type network-qos AIFABRIC-NQ', 'class type network-qos c-8q-nq-default', 'mtu 9216']},
        {'item': {'parents': ['interface Ethernet1/1'], 'lines': ['mtu 9216', 'priority-flow-control mode on']},
         'commands': ['interface Ethernet1/1', 'mtu 9216', 'priority-flow-control mode on']},
    ]
    diff = change_diff(running, changes)
    assert diff['before'] == [
        'policy-map type network-qos AIFABRIC-NQ',
        '  class type network-qos c-8q-nq3',
        'interface Ethernet1/1',
    ]
    assert diff['after'] == [
        'policy-map type network-qos AIFABRIC-NQ',
        '  class type network-qos c-8q-nq3',
        '    pause pfc-cos 3',
        '  class type network-qos c-8q-nq-default',
        '    mtu 9216',
        'interface Ethernet1/1',
        '  mtu 9216',
        '  priority-flow-control mode on',
    ]


def test_nxos_sections_keep_only_the_blocks_sections():
    running = '\n'.join([
        '!Command: show running-config',
        'version 10.3(4a) Bios:version 05.47',
        'username admin password 5 $5$SECRETHASH  role network-admin',
        'snmp-server community PRIVATE group network-operator',
        'class-map type qos match-any AIFABRIC-ROCE',
        '  match dscp 26',
        'class-map type qos match-any OTHER',
        '  match dscp 10',
        'system qos',
        '  service-policy type network-qos default-8q-nq-policy',
        '',
        'interface Ethernet1/1',
        '  description to leaf',
        '  mtu 9216',
        '',
        'interface Ethernet1/9',
        '  shutdown',
    ])
    blocks = config_blocks(render('nxos-qos.j2'))
    kept = running_sections(running, blocks)
    assert kept.splitlines() == [
        'class-map type qos match-any AIFABRIC-ROCE',
        '  match dscp 26',
        'system qos',
        '  service-policy type network-qos default-8q-nq-policy',
        'interface Ethernet1/1',
        '  description to leaf',
        '  mtu 9216',
    ]
    assert 'SECRETHASH' not in kept and 'PRIVATE' not in kept


# ---------------------------------------------------------------------------- SONiC

ARGSPEC = 'ansible_collections.dellemc.enterprise_sonic.plugins.module_utils.network.sonic.argspec'
# rendered key -> (module, argspec class)
SONIC_MODULES = {
    'qos_maps': ('sonic_qos_maps', 'qos_maps.qos_maps', 'Qos_mapsArgs'),
    'qos_wred': ('sonic_qos_wred', 'qos_wred.qos_wred', 'Qos_wredArgs'),
    'qos_scheduler': ('sonic_qos_scheduler', 'qos_scheduler.qos_scheduler', 'Qos_schedulerArgs'),
    'qos_pfc': ('sonic_qos_pfc', 'qos_pfc.qos_pfc', 'Qos_pfcArgs'),
    'qos_interfaces': ('sonic_qos_interfaces', 'qos_interfaces.qos_interfaces', 'Qos_interfacesArgs'),
    'interfaces': ('sonic_interfaces', 'interfaces.interfaces', 'InterfacesArgs'),
    'l3_interfaces': ('sonic_l3_interfaces', 'l3_interfaces.l3_interfaces', 'L3_interfacesArgs'),
}


def argument_spec(key):
    pytest.importorskip('ansible_collections.dellemc.enterprise_sonic')
    module = importlib.import_module('%s.%s' % (ARGSPEC, SONIC_MODULES[key][1]))
    return getattr(module, SONIC_MODULES[key][2]).argument_spec


def sonic(qos=None, interfaces=None, **overrides):
    return yaml.safe_load(render('sonic-qos.yml.j2', qos=qos, interfaces=interfaces, **overrides))


def sonic_task_states():
    """{module: state} of the push tasks in tasks/sonic.yml, templated states resolved from defaults."""
    with open(os.path.join(ROLE, 'tasks', 'sonic.yml')) as f:
        tasks = yaml.safe_load(f)
    push = [task for task in tasks if 'block' in task][0]['block']
    defaults = _defaults()
    states = {}
    for task in push:
        for action, args in task.items():
            if action.startswith('dellemc.enterprise_sonic.'):
                state = re.sub(r'^\{\{\s*(\w+)\s*\}\}$', lambda m: defaults[m.group(1)], args['state'])
                states[action.split('.')[-1]] = (state, args['config'])
    return states


@pytest.mark.parametrize('qos,interfaces', [(INTENT, INTERFACES), (OTHER_INTENT, INTERFACES), (INTENT, [])])
def test_sonic_configs_validate_against_the_module_argspecs(qos, interfaces):
    rendered = sonic(qos, interfaces)
    assert sorted(rendered) == sorted(SONIC_MODULES)
    states = sonic_task_states()
    for key, (module, dummy, dummy2) in SONIC_MODULES.items():
        state, config = states[module]
        assert config == '{{ fabric_switch__sonic.%s }}' % key
        params = {'config': rendered[key], 'state': state}
        result = ArgumentSpecValidator(argument_spec(key)).validate(params)
        assert not result.error_messages, (key, result.error_messages)


def test_sonic_default_intent():
    cfg = sonic()
    dscp = cfg['qos_maps']['dscp_maps'][0]
    assert dscp['name'] == 'AIFABRIC'
    assert {'dscp': 26, 'fwd_group': '3'} in dscp['entries']
    assert {'dscp': 48, 'fwd_group': '6'} in dscp['entries']
    assert cfg['qos_maps']['pfc_priority_pg_maps'][0]['entries'] == [{'dot1p': 3, 'pg_index': 3}]
    pgs = dict((e['fwd_group'], e['pg_index']) for e in cfg['qos_maps']['fwd_group_pg_maps'][0]['entries'])
    assert pgs['3'] == 3 and set(v for k, v in pgs.items() if k != '3') == set([0])
    wred = cfg['qos_wred'][0]
    assert wred == {'name': 'AIFABRIC-ROCE', 'ecn': 'green',
                    'green': {'enable': True, 'min_threshold': 950 * 1024, 'max_threshold': 3000 * 1024,
                              'drop_probability': 7}}
    scheds = dict((s['sequence'], s) for s in cfg['qos_scheduler'][0]['schedulers'])
    assert scheds[6] == {'sequence': 6, 'scheduler_type': 'strict'}
    assert scheds[3]['scheduler_type'] == 'dwrr' and scheds[3]['weight'] == 50
    assert [s for s in scheds.values() if s['scheduler_type'] == 'strict'] == [scheds[6]]
    assert cfg['qos_pfc'] == {'counter_poll': True, 'poll_interval': 100}
    assert [port['name'] for port in cfg['qos_interfaces']] == [p['name'] for p in INTERFACES]
    for port in cfg['qos_interfaces']:
        assert port['pfc']['priorities'] == [{'dot1p': 3, 'enable': True}]
        assert port['pfc']['watchdog_action'] == 'drop'
        assert port['pfc']['watchdog_detect_time'] == 200
        assert port['pfc']['watchdog_restore_time'] == 400
        assert port['queues'] == [{'id': 3, 'wred_profile': 'AIFABRIC-ROCE'}]
        assert port['qos_maps']['dscp_fwd_group'] == 'AIFABRIC'
        assert port['scheduler_policy'] == 'AIFABRIC'
    assert cfg['interfaces'] == [{'name': p['name'], 'mtu': 9216} for p in INTERFACES]
    assert cfg['l3_interfaces'] == [
        {'name': 'Ethernet1/1', 'ipv4': {'addresses': [{'address': '10.20.0.0/31'}]}},
        {'name': 'Ethernet1/2', 'ipv4': {'addresses': [{'address': '10.20.0.2/31'}]}},
    ]


def test_sonic_non_default_intent():
    cfg = sonic(OTHER_INTENT)
    assert cfg['qos_maps']['dscp_maps'][0]['entries'] == [
        {'dscp': 24, 'fwd_group': '4'}, {'dscp': 46, 'fwd_group': '5'}]
    assert cfg['qos_maps']['pfc_priority_queue_maps'][0]['entries'] == [{'dot1p': 4, 'queue_index': 4}]
    assert cfg['qos_wred'][0]['green']['min_threshold'] == 150 * 1024
    scheds = dict((s['sequence'], s) for s in cfg['qos_scheduler'][0]['schedulers'])
    assert scheds[5]['scheduler_type'] == 'strict' and scheds[4]['weight'] == 50
    assert cfg['qos_pfc'] == {'counter_poll': False}
    for port in cfg['qos_interfaces']:
        assert port['pfc']['priorities'] == [{'dot1p': 4, 'enable': True}]
        assert 'watchdog_detect_time' not in port['pfc']
        assert port['queues'] == [{'id': 4, 'wred_profile': 'AIFABRIC-ROCE'}]
    assert set(port['mtu'] for port in cfg['interfaces']) == set([9000])


def test_sonic_no_interfaces():
    cfg = sonic(interfaces=[])
    assert cfg['qos_interfaces'] == [] and cfg['interfaces'] == [] and cfg['l3_interfaces'] == []


# ---------------------------------------------------------------------------- role


def test_role_defaults_match_the_argument_spec():
    with open(os.path.join(ROLE, 'meta', 'argument_specs.yml')) as f:
        options = yaml.safe_load(f)['argument_specs']['main']['options']
    defaults = _defaults()
    assert sorted(k for k in defaults) == sorted(options)
    for name, spec in options.items():
        assert name.startswith('fabric_switch_')
        if '{{' not in str(defaults[name]):
            assert 'default' in spec, name
            assert defaults[name] == spec['default'], name
    params = dict((k, v) for k, v in defaults.items() if '{{' not in str(v))
    params.update({'fabric_switch_qos': INTENT, 'fabric_switch_interfaces': INTERFACES,
                   'fabric_switch_platform': 'sonic'})
    result = ArgumentSpecValidator(options).validate(params)
    assert not result.error_messages
