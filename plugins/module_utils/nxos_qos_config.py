# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse the QoS of a Cisco NX-OS (Nexus 9000) ``show running-config`` text.

``parse_running_config(text)`` reads the blocks the lossless RoCE design uses and returns
plain data (no NX-OS semantics applied)::

    {
      'class_maps': {name: {'type': 'qos', 'match': 'match-any'|'match-all',
                            'dscp': [26, ...] or None (no 'match dscp'), 'other_matches': ['match cos 3', ...]}},
      'qos_policies': {name: [{'class': name, 'qos_group': int or None, 'set_dscp': int or None}, ...]},
                                                 # in configuration order, class-default included when shown
      'network_qos_policies': {name: {class: {'mtu': int or None, 'pause_pfc_cos': [int, ...] or None}}},
      'queuing_policies': {name: {class: {'bandwidth_remaining_percent': int or None, 'bandwidth_percent': int or None,
                                          'priority_level': int or None (plain 'priority' gives 1),
                                          'wred': None or {'min': int, 'min_unit': str, 'max': int, 'max_unit': str,
                                                           'min_kbytes': float or None, 'max_kbytes': float or None,
                                                           'drop_probability': int or None, 'weight': int or None,
                                                           'ecn': bool}}}},
      'system_qos': {'network_qos': name or None, 'queuing_output': name or None, 'queuing_input': name or None,
                     'qos_input': name or None},
      'pfc_watchdog_global': 'on'|'off'|None,    # 'priority-flow-control watch-dog-interval on|off' at top level
      'interfaces': {'Ethernet1/1': {'mtu': int (1500 when not shown), 'pfc_mode': 'on'|'off'|'auto' (auto when
                                      not shown), 'pfc_watchdog': 'on'|'off'|None, 'qos_input': name or None,
                                      'queuing_output': name or None, 'switchport': bool, 'shutdown': bool or None,
                                      'ip_address': str or None}},
    }

``effective_port_qos(config, port)`` then applies the NX-OS rules (which policy a port uses,
first matching class wins, the 8-queue model) and gives what the fabric validator compares.
Interface names are normalized to ``Ethernet1/1`` (``Eth1/1``, ``ethernet1/1`` accepted).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

NXOS_DEFAULT_MTU = 1500
# NX-OS 8-queue model: qos-group N is queued in c-out-8q-qN and paused/MTU'd as c-8q-nqN
NQ_CLASS = 'c-8q-nq%d'
NQ_DEFAULT = 'c-8q-nq-default'
QUEUE_CLASS = 'c-out-8q-q%d'
QUEUE_DEFAULT = 'c-out-8q-q-default'


def _queue(bandwidth=None, level=None):
    return {'bandwidth_remaining_percent': bandwidth, 'bandwidth_percent': None, 'priority_level': level, 'wred': None}


# NX-OS default-8q-out-policy (in effect without 'service-policy type queuing output'):
# q7 strict priority, the default queue all the remaining bandwidth, no WRED/ECN anywhere
DEFAULT_QUEUING_CLASSES = dict([(QUEUE_CLASS % 7, _queue(level=1))]
                               + [(QUEUE_CLASS % n, _queue(0)) for n in range(6, 0, -1)]
                               + [(QUEUE_DEFAULT, _queue(100))])
_UNIT_KBYTES = {'bytes': 1.0 / 1024, 'kbytes': 1.0, 'mbytes': 1024.0}
_WRED = re.compile(
    r'^random-detect\s+minimum-threshold\s+(\d+)\s+(packets|bytes|kbytes|mbytes)\s+'
    r'maximum-threshold\s+(\d+)\s+(packets|bytes|kbytes|mbytes)'
    r'(?:\s+drop-probability\s+(\d+))?(?:\s+weight\s+(\d+))?(\s+ecn)?\s*$')


class NxosParseError(ValueError):
    """The text is not an NX-OS running configuration."""


def normalize_interface(name):
    """'eth1/1', 'Eth1/1', 'ethernet1/1' -> 'Ethernet1/1'; other names (port-channel, loopback) as given."""
    text = str(name).strip()
    match = re.match(r'^(?i:e|et|eth|ethe|ether|ethernet)\s*(\d+/\d+(?:/\d+)?)$', text)
    if match:
        return 'Ethernet' + match.group(1)
    match = re.match(r'^(?i:po|port-channel)\s*(\d+)$', text)
    if match:
        return 'port-channel' + match.group(1)
    return text


def parse_int_list(text):
    """'26' / '24-31' / '24-31,48' / '3 4' -> sorted list of ints; ValueError when malformed."""
    values = set()
    for part in re.split(r'[,\s]+', str(text).strip()):
        if not part:
            continue
        if '-' in part:
            low, high = part.split('-', 1)
            low, high = int(low), int(high)
            if low > high:
                raise ValueError('range %s' % part)
            values.update(range(low, high + 1))
        else:
            values.add(int(part))
    return sorted(values)


def _blocks(text):
    """Top-level blocks: (header, [(depth, line), ...]) with depth 1 for a line indented under the header."""
    blocks = []
    current = None
    indents = []
    for raw in text.replace('\r\n', '\n').replace('\r', '\n').split('\n'):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith('!'):
            continue
        indent = len(line) - len(line.lstrip(' '))
        if indent == 0:
            current = (stripped, [])
            blocks.append(current)
            indents = [0]
            continue
        if current is None:
            continue
        while indents and indent <= indents[-1]:
            indents.pop()
        indents.append(indent)
        current[1].append((len(indents) - 1, stripped))
    return blocks


def _children(lines):
    """[(depth, line)] at depth 1 with their depth-2 lines: [(line, [subline, ...])]."""
    out = []
    for depth, line in lines:
        if depth == 1:
            out.append((line, []))
        elif out:
            out[-1][1].append(line)
    return out


def _parse_class_map(words, lines, config):
    # class-map type qos [match-any|match-all] NAME
    if len(words) < 4 or words[1] != 'type':
        return
    ctype = words[2]
    if len(words) >= 5 and words[3] in ('match-any', 'match-all'):
        match, name = words[3], words[4]
    else:
        match, name = 'match-all', words[3]
    entry = {'type': ctype, 'match': match, 'dscp': None, 'other_matches': []}
    for _depth, line in lines:
        parts = line.split()
        if parts[:2] == ['match', 'dscp'] and len(parts) >= 3:
            try:
                values = parse_int_list(' '.join(parts[2:]))
            except ValueError:
                entry['other_matches'].append(line)
                continue
            entry['dscp'] = sorted(set(entry['dscp'] or []) | set(values))
        elif parts and parts[0] == 'match':
            entry['other_matches'].append(line)
    if ctype == 'qos':
        config['class_maps'][name] = entry


def _int_after(parts, key):
    try:
        return int(parts[parts.index(key) + 1])
    except (ValueError, IndexError):
        return None


def _parse_policy_map(words, lines, config):
    # policy-map type qos|network-qos|queuing NAME
    if len(words) < 4 or words[1] != 'type':
        return
    ptype, name = words[2], words[3]
    if ptype == 'qos':
        classes = []
        for line, sub in _children(lines):
            parts = line.split()
            if parts[0] != 'class':
                continue
            cname = parts[3] if len(parts) >= 4 and parts[1] == 'type' else parts[-1]
            entry = {'class': cname, 'qos_group': None, 'set_dscp': None}
            for subline in sub:
                sp = subline.split()
                if sp[:2] == ['set', 'qos-group']:
                    entry['qos_group'] = _int_after(sp, 'qos-group')
                elif sp[:2] == ['set', 'dscp']:
                    entry['set_dscp'] = _int_after(sp, 'dscp')
            classes.append(entry)
        config['qos_policies'][name] = classes
    elif ptype == 'network-qos':
        classes = {}
        for line, sub in _children(lines):
            parts = line.split()
            if parts[0] != 'class':
                continue
            entry = {'mtu': None, 'pause_pfc_cos': None}
            for subline in sub:
                sp = subline.split()
                if sp[0] == 'mtu' and len(sp) == 2 and sp[1].isdigit():
                    entry['mtu'] = int(sp[1])
                elif sp[0] == 'pause' and 'pfc-cos' in sp:
                    try:
                        entry['pause_pfc_cos'] = parse_int_list(' '.join(sp[sp.index('pfc-cos') + 1:]))
                    except ValueError:
                        entry['pause_pfc_cos'] = []
            classes[parts[-1]] = entry
        config['network_qos_policies'][name] = classes
    elif ptype == 'queuing':
        classes = {}
        for line, sub in _children(lines):
            parts = line.split()
            if parts[0] != 'class':
                continue
            entry = {'bandwidth_remaining_percent': None, 'bandwidth_percent': None, 'priority_level': None, 'wred': None}
            for subline in sub:
                sp = subline.split()
                if sp[:3] == ['bandwidth', 'remaining', 'percent']:
                    entry['bandwidth_remaining_percent'] = _int_after(sp, 'percent')
                elif sp[:2] == ['bandwidth', 'percent']:
                    entry['bandwidth_percent'] = _int_after(sp, 'percent')
                elif sp[0] == 'priority':
                    entry['priority_level'] = _int_after(sp, 'level') if 'level' in sp else 1
                elif sp[0] == 'random-detect':
                    entry['wred'] = _parse_wred(subline)
            classes[parts[-1]] = entry
        config['queuing_policies'][name] = classes


def _parse_wred(line):
    match = _WRED.match(line)
    if not match:
        # 'random-detect threshold burst-optimized ecn' and other forms: ECN known, thresholds not
        return {'min': None, 'min_unit': None, 'max': None, 'max_unit': None, 'min_kbytes': None, 'max_kbytes': None,
                'drop_probability': None, 'weight': None, 'ecn': line.split()[-1] == 'ecn', 'line': line}
    low, low_unit, high, high_unit, prob, weight, ecn = match.groups()

    def kbytes(value, unit):
        return int(value) * _UNIT_KBYTES[unit] if unit in _UNIT_KBYTES else None

    return {'min': int(low), 'min_unit': low_unit, 'max': int(high), 'max_unit': high_unit,
            'min_kbytes': kbytes(low, low_unit), 'max_kbytes': kbytes(high, high_unit),
            'drop_probability': int(prob) if prob is not None else None,
            'weight': int(weight) if weight is not None else None, 'ecn': bool(ecn), 'line': line}


def _parse_system_qos(lines, config):
    for _depth, line in lines:
        parts = line.split()
        if parts[:3] == ['service-policy', 'type', 'network-qos'] and len(parts) >= 4:
            config['system_qos']['network_qos'] = parts[3]
        elif parts[:3] == ['service-policy', 'type', 'queuing'] and len(parts) >= 5:
            config['system_qos']['queuing_' + parts[3]] = parts[4]
        elif parts[:4] == ['service-policy', 'type', 'qos', 'input'] and len(parts) >= 5:
            config['system_qos']['qos_input'] = parts[4]


def _parse_interface(name, lines, config):
    entry = {'mtu': NXOS_DEFAULT_MTU, 'pfc_mode': 'auto', 'pfc_watchdog': None, 'qos_input': None,
             'queuing_output': None, 'switchport': True, 'shutdown': None, 'ip_address': None}
    for depth, line in lines:
        if depth != 1:
            continue
        parts = line.split()
        if parts[0] == 'mtu' and len(parts) == 2 and parts[1].isdigit():
            entry['mtu'] = int(parts[1])
        elif parts[:2] == ['priority-flow-control', 'mode'] and len(parts) == 3:
            entry['pfc_mode'] = parts[2]
        elif parts[:2] == ['no', 'priority-flow-control'] and 'mode' in parts:
            entry['pfc_mode'] = 'auto'
        elif parts[:2] == ['priority-flow-control', 'watch-dog-interval'] and len(parts) == 3:
            entry['pfc_watchdog'] = parts[2]
        elif parts[:4] == ['service-policy', 'type', 'qos', 'input'] and len(parts) >= 5:
            entry['qos_input'] = parts[4]
        elif parts[:4] == ['service-policy', 'type', 'queuing', 'output'] and len(parts) >= 5:
            entry['queuing_output'] = parts[4]
        elif parts == ['no', 'switchport']:
            entry['switchport'] = False
        elif parts == ['switchport']:
            entry['switchport'] = True
        elif parts == ['shutdown']:
            entry['shutdown'] = True
        elif parts == ['no', 'shutdown']:
            entry['shutdown'] = False
        elif parts[:2] == ['ip', 'address'] and len(parts) >= 3:
            entry['ip_address'] = parts[2]
    config['interfaces'][normalize_interface(name)] = entry


def parse_running_config(text):
    """Parse ``show running-config`` (see the module docstring for the result)."""
    if not isinstance(text, str):
        raise NxosParseError('the running configuration must be text, got %s' % type(text).__name__)
    config = {
        'class_maps': {}, 'qos_policies': {}, 'network_qos_policies': {}, 'queuing_policies': {},
        'system_qos': {'network_qos': None, 'queuing_output': None, 'queuing_input': None, 'qos_input': None},
        'pfc_watchdog_global': None, 'interfaces': {}, 'hostname': None,
    }
    blocks = _blocks(text)
    if not blocks:
        raise NxosParseError('the running configuration is empty')
    for header, lines in blocks:
        words = header.split()
        if words[0] == 'class-map':
            _parse_class_map(words, lines, config)
        elif words[0] == 'policy-map':
            _parse_policy_map(words, lines, config)
        elif words[:2] == ['system', 'qos']:
            _parse_system_qos(lines, config)
        elif words[0] == 'interface' and len(words) >= 2:
            _parse_interface(''.join(words[1:]), lines, config)
        elif words[:2] == ['priority-flow-control', 'watch-dog-interval'] and len(words) == 3:
            config['pfc_watchdog_global'] = words[2]
        elif words[0] in ('hostname', 'switchname') and len(words) == 2:
            config['hostname'] = words[1]
    if not config['interfaces'] and config['hostname'] is None:
        raise NxosParseError('no interface and no hostname found: not an NX-OS running configuration')
    return config


# --------------------------------------------------------------------------- NX-OS semantics

def _class_matches(cmap, dscp):
    if cmap is None or cmap['dscp'] is None:
        return False
    if cmap['match'] == 'match-all' and cmap['other_matches']:
        return False  # needs a CoS/precedence match too: not a pure DSCP classifier
    return dscp in cmap['dscp']


def classify_dscp(config, policy_name, dscp):
    """qos-group a DSCP gets from policy-map type qos ``policy_name``.

    Returns (qos_group, class name): the first class whose class-map matches the DSCP,
    else class-default; a class without ``set qos-group`` (and no policy at all) gives 0.
    (None, None) when the policy is not defined.
    """
    if policy_name is None:
        return 0, None
    classes = config['qos_policies'].get(policy_name)
    if classes is None:
        return None, None
    for entry in classes:
        if entry['class'] == 'class-default':
            continue
        if _class_matches(config['class_maps'].get(entry['class']), dscp):
            return (entry['qos_group'] if entry['qos_group'] is not None else 0), entry['class']
    for entry in classes:
        if entry['class'] == 'class-default':
            return (entry['qos_group'] if entry['qos_group'] is not None else 0), 'class-default'
    return 0, 'class-default'


def network_qos(config):
    """The system network-qos policy: {'policy', 'defined', 'no_drop' {qos_group: [cos]}, 'pfc_cos', 'mtu' {qos_group|'default': mtu}}."""
    name = config['system_qos']['network_qos']
    classes = config['network_qos_policies'].get(name) if name else None
    result = {'policy': name, 'defined': classes is not None, 'no_drop': {}, 'pfc_cos': [], 'mtu': {}}
    cos = set()
    for cname, entry in (classes or {}).items():
        match = re.match(r'^c-8q-nq(\d)$', cname)
        key = int(match.group(1)) if match else ('default' if cname == NQ_DEFAULT else cname)
        if entry['mtu'] is not None:
            result['mtu'][key] = entry['mtu']
        if entry['pause_pfc_cos']:
            result['no_drop'][key] = entry['pause_pfc_cos']
            cos.update(entry['pause_pfc_cos'])
    result['pfc_cos'] = sorted(cos)
    return result


def nq_mtu(config, qos_group):
    """Network-qos MTU of a qos-group: its c-8q-nqN class, else NX-OS's default of 1500."""
    mtu = network_qos(config)['mtu'].get(qos_group)
    return mtu if mtu is not None else NXOS_DEFAULT_MTU


def queuing_classes(config, policy_name):
    """Classes of a queuing policy; NX-OS's default-8q-out-policy when ``policy_name`` is None; None when undefined."""
    if policy_name is None:
        return DEFAULT_QUEUING_CLASSES
    return config['queuing_policies'].get(policy_name)


def queue_of(config, policy_name, qos_group):
    """The queuing class entry of a qos-group (c-out-8q-qN, c-out-8q-q-default for 0) in a policy; None if absent."""
    classes = queuing_classes(config, policy_name)
    if classes is None:
        return None
    cname = QUEUE_DEFAULT if qos_group == 0 else QUEUE_CLASS % qos_group
    return classes.get(cname)


def effective_port_qos(config, port):
    """What a port does, as NX-OS applies it; None when the interface is not in the configuration.

    {'port', 'mtu', 'pfc_mode', 'pfc_watchdog' ('on'|'off', the interface line or the global one, 'off' when neither),
     'qos_policy' (interface input policy, else the system one, None = no classification: all qos-group 0),
     'queuing_policy' (interface output policy, else the system one)}
    """
    iface = config['interfaces'].get(normalize_interface(port))
    if iface is None:
        return None
    watchdog = iface['pfc_watchdog'] or config['pfc_watchdog_global'] or 'off'
    return {
        'port': normalize_interface(port),
        'mtu': iface['mtu'],
        'pfc_mode': iface['pfc_mode'],
        'pfc_watchdog': watchdog,
        'qos_policy': iface['qos_input'] or config['system_qos']['qos_input'],
        'queuing_policy': iface['queuing_output'] or config['system_qos']['queuing_output'],
    }


# ------------------------------------------------------------------ the role's side
# The fabric_switch role pushes its rendered configuration (templates/nxos-qos.j2) with
# cisco.nxos.nxos_config, block by block, against one read of running-config. These are its
# three steps on the text, with the same indentation model as the parser above (two spaces a
# level; '!' lines are comments); the filters nxos_config_blocks, nxos_running_sections and
# nxos_change_diff expose them.

def config_blocks(text):
    """The rendered configuration as nxos_config blocks: ``[{'parents': [...], 'lines': [...]}]``,
    one per run of leaf lines under the same parents, in the rendered order (class-maps before
    the policies that use them, policies before system qos and the interfaces)."""
    rows = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if line and not line.startswith('!'):
            rows.append(((len(raw) - len(raw.lstrip())) // 2, line))
    blocks, stack = [], []
    for index, (depth, line) in enumerate(rows):
        stack = stack[:depth] + [line]
        if index == len(rows) - 1 or rows[index + 1][0] <= depth:  # a leaf line
            parents = stack[:depth]
            if blocks and blocks[-1]['parents'] == parents:
                blocks[-1]['lines'].append(line)
            else:
                blocks.append({'parents': parents, 'lines': [line]})
    return blocks


def running_sections(running, blocks):
    """The sections of running-config the blocks compare against: each top-level line that is
    the first parent of a block (or a top-level line of the role) with its indented lines.
    Nothing else of running-config (user hashes, keys, communities) is kept."""
    tops = set()
    for block in blocks or []:
        tops.update(block['parents'][:1] if block.get('parents') else block.get('lines') or [])
    kept, keep = [], False
    for line in (running or '').splitlines():
        if line and not line.startswith(' '):
            keep = line.rstrip() in tops
        if keep and line.strip():
            kept.append(line.rstrip())
    return '\n'.join(kept)


def _section(running, top):
    """The indented lines under the top-level line top ('\\n'-wrapped) of running ('\\n'-wrapped)."""
    lines = []
    for line in running.split(top, 1)[1].splitlines():
        if not line.startswith(' '):
            break
        lines.append(line)
    return '\n' + '\n'.join(lines) if lines else ''


def change_diff(current, changes):
    """The --diff view of a push, indented as in running-config: ``{'before': [...], 'after': [...]}``.

    changes are the nxos_config (check mode) results of the blocks that differ, each with its
    ``item`` (the block) and ``commands``. Each shows its parents, as context in before where the
    running sections (current) have them and in after always, then in after the block's lines
    that the push adds or changes."""
    running = '\n' + (current or '') + '\n'
    before, after, last = [], [], []
    for change in changes or []:
        parents = list(change['item'].get('parents') or [])
        commands = change.get('commands') or []
        top = '\n' + parents[0] + '\n' if parents else ''
        section = _section(running, top) if parents and top in running else ''
        for index, parent in enumerate(parents):
            shown = '  ' * index + parent
            exists = (top in running) if index == 0 else ('\n' + shown + '\n') in (section + '\n')
            if last[:index + 1] != parents[:index + 1]:
                if exists:
                    before.append(shown)
                after.append(shown)
        after.extend('  ' * len(parents) + line for line in change['item'].get('lines') or [] if line in commands)
        last = parents
    return {'before': before, 'after': after}
