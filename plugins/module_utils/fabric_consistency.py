# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Consistency rules of a lossless RoCEv2 fabric: GPU node NICs and switches against the intent.

``fabric_violations(intent, hosts, switches)`` returns a list of violations, one per problem,
empty when the fabric is consistent. Pure Python, no I/O (docs/fabric-validate.md).

Inputs
------
intent (dict): ``cluster_fabric_qos`` plus the host MTU::

    {'roce_dscp': 26, 'cnp_dscp': 48, 'lossless_priority': 3, 'cnp_priority': 6, 'switch_mtu': 9216,
     'ecn': {'min_threshold_kbytes': 950, 'max_threshold_kbytes': 3000, 'drop_probability': 7},
     'pfc_watchdog': {'enabled': True, 'interval_ms': 200, 'restore_ms': 400},
     'host_mtu': 9000,                 # cluster_networks.fabric.mtu
     'nxos_cnp_qos_group': 7,          # optional: NX-OS qos-group/queue of CNPs (fabric_switch_nxos_cnp_qos_group)
     'l2_overhead': 22}                # optional: bytes a switch MTU needs above the host MTU

hosts (dict): GPU node name -> ::

    {'error': 'text',                                     # optional: no readings (unreachable); nothing else checked
     'nic_error': 'text',                                 # optional: why 'nic' is missing (roce_qos failed)
     'nic': <the actual state read by aifabric.cluster.roce_qos>,   # trust, pfc_priorities, dscp2prio {'26': 3, '48': 6},
                                                          # ecn_np_priorities, ecn_rp_priorities, cnp_dscp,
                                                          # cnp_priority, roce_mode, roce_tos, global_pause {rx, tx}
     'mtu': 9000,                                          # MTU of the fabric netdev
     'netdev': 'ens1f0np0',                                # optional: the fabric netdev (finds its RDMA port)
     'rdma': <aifabric.cluster.rdma_link_info result>,     # optional: devices[].ports[] with netdev, active_mtu
     'path_mtu': {'peer': 'gpu-02', 'address': '10.232.0.102', 'mtu': 9000,   # optional: DF-bit pings
                  'fit_rc': 0, 'fit_msg': '...', 'over_rc': 1, 'over_msg': '...'}}

switches (dict): switch name -> one of::

    # any platform: 'error': 'text' when nothing could be read (unreachable); nothing else is checked
    {'platform': 'nxos', 'running_config': '<show running-config text>',
     'fabric_interfaces': <switch_fabric_interfaces: list of {name, ...} or of names>,
     'cnp_qos_group': 7}               # optional: this switch's CNP qos-group, else the intent's nxos_cnp_qos_group
    {'platform': 'sonic', 'fabric_interfaces': [...],
     # the dellemc.enterprise_sonic sonic_facts resources (ansible_network_resources), by resource name:
     'qos_maps': {...}, 'qos_pfc': {...}, 'qos_interfaces': [...], 'qos_wred': [...], 'qos_scheduler': [...],
     'interfaces': [{name, mtu, ...}, ...],    # optional; a port without mtu has SONiC's default 9100
     'gathered': ['qos_maps', ...]}            # optional: ansible_net_gather_network_resources; a resource
                                               # gathered but absent (sonic_facts drops empty ones) is empty
    # a missing qos_* resource is reported (rule input) and the rules that need it are skipped

Only the ports in ``fabric_interfaces`` (switch_fabric_interfaces) are checked.

Output
------
Each violation: ``{'rule', 'setting', 'host' or 'switch', 'port' (when about ports; several ports are joined with
', '), 'expected', 'found', 'message'}``; the message is one line naming the host or switch, the port and both
values. Rules: see RULES.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible_collections.aifabric.cluster.plugins.module_utils.nxos_qos_config import (
    NQ_CLASS, NxosParseError, QUEUE_CLASS, QUEUE_DEFAULT, classify_dscp, effective_port_qos, network_qos, normalize_interface,
    nq_mtu, parse_running_config, queue_of, queuing_classes,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.rdma_link import iboe_mtu

# rule ids, in report order, with what each checks
RULES = (
    ('input', 'the data the rules need is there (NIC state, running-config, fabric ports, SONiC facts)'),
    ('trust', 'NICs trust DSCP'),
    ('dscp_map', 'RoCE DSCP -> lossless priority and CNP DSCP -> CNP priority on NICs; switches classify them the same'),
    ('pfc', 'PFC on exactly the lossless priority on NICs and switches; global pause off; PFC mode on on fabric ports'),
    ('ecn', 'ECN marking (WRED ... ecn) on the lossless queue of switches, min < max, intent thresholds; roce_np/roce_rp on NICs'),
    ('cnp', 'NICs send CNPs with the intent DSCP/priority; switches queue them strict priority'),
    ('rdma_cm', 'rdma_cm defaults: RoCE v2 and ToS = RoCE DSCP << 2 | ECT(0)'),
    ('mtu', 'host MTU as intended; switch port MTU = switch_mtu >= host MTU + 22; lossless network-qos MTU >= port MTU'),
    ('pfc_watchdog', 'PFC watchdog on every fabric (lossless) port'),
    ('switch_consistency', 'the same QoS on every switch of a platform'),
    ('path_mtu', 'a DF-bit ping of host MTU passes to the next GPU node, one byte more does not'),
)
RULE_ORDER = dict((rule, index) for index, (rule, _text) in enumerate(RULES))

DEFAULT_L2_OVERHEAD = 22
DEFAULT_NXOS_CNP_QOS_GROUP = 7
SONIC_DEFAULT_MTU = 9100
# sonic-buildimage qos_config.j2 DSCP_TO_TC_MAP "AZURE" (in effect without a DSCP map on the port):
# 3->3, 4->4, 5->2, 8->0, 46->5, 48->6, every other DSCP -> TC1 (lossy), DSCP 26 included
SONIC_COMMUNITY_DSCP_TO_TC = {3: 3, 4: 4, 5: 2, 8: 0, 46: 5, 48: 6}
SONIC_COMMUNITY_DSCP_DEFAULT_TC = 1
SONIC_SUBSETS = ('qos_maps', 'qos_pfc', 'qos_interfaces', 'qos_wred', 'qos_scheduler')


class IntentError(ValueError):
    """The intent lacks a value the rules need."""


def _int(value, what):
    result = None
    if not isinstance(value, bool):
        try:
            result = int(value)
        except (TypeError, ValueError):
            result = None
    if result is None:
        raise IntentError('%s must be an integer, got %r' % (what, value))
    return result


def normalize_intent(intent):
    """Check and normalize the intent (ints, defaults); raises IntentError."""
    if not isinstance(intent, dict):
        raise IntentError('the intent must be a dict (cluster_fabric_qos plus host_mtu)')
    out = {}
    for key in ('roce_dscp', 'cnp_dscp', 'lossless_priority', 'cnp_priority', 'switch_mtu', 'host_mtu'):
        if intent.get(key) is None:
            raise IntentError('the intent has no %s' % key)
        out[key] = _int(intent[key], key)
    ecn = intent.get('ecn') or {}
    out['ecn'] = {}
    for key in ('min_threshold_kbytes', 'max_threshold_kbytes', 'drop_probability'):
        out['ecn'][key] = _int(ecn[key], 'ecn.' + key) if ecn.get(key) is not None else None
    watchdog = intent.get('pfc_watchdog') or {}
    enabled = watchdog.get('enabled', True)
    out['pfc_watchdog'] = {
        'enabled': enabled if isinstance(enabled, bool) else str(enabled).lower() in ('1', 'true', 'yes', 'on'),
        'interval_ms': _int(watchdog['interval_ms'], 'pfc_watchdog.interval_ms') if watchdog.get('interval_ms') is not None else None,
        'restore_ms': _int(watchdog['restore_ms'], 'pfc_watchdog.restore_ms') if watchdog.get('restore_ms') is not None else None,
    }
    out['nxos_cnp_qos_group'] = _int(intent.get('nxos_cnp_qos_group', DEFAULT_NXOS_CNP_QOS_GROUP), 'nxos_cnp_qos_group')
    out['l2_overhead'] = _int(intent.get('l2_overhead', DEFAULT_L2_OVERHEAD), 'l2_overhead')
    return out


def _fmt(value):
    if value is None:
        return 'none'
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _violation(rule, setting, kind, name, expected, found, message, port=None, total=None):
    """One violation; ``port`` is a port or a list of them, ``total`` the number of fabric ports of the switch."""
    item = {'rule': rule, 'setting': setting, kind: name}
    if port is not None:
        item['port'] = port if isinstance(port, str) else ', '.join(port)
    item['expected'] = expected
    item['found'] = found
    if port is not None and not isinstance(port, str) and total and len(port) == total > 1:
        where = '%s (all %d fabric ports)' % (name, total)
    else:
        where = '%s %s' % (name, item['port']) if port is not None else name
    item['message'] = '%s: %s' % (where, message)
    return item


# --------------------------------------------------------------------------- hosts

def _prio_list(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple, set)):
        out = set()
        for item in value:
            try:
                out.add(int(item))
            except (TypeError, ValueError):
                return None
        return sorted(out)
    return None


def _dscp_entry(dscp2prio, dscp):
    if not isinstance(dscp2prio, dict):
        return None
    for key in (str(dscp), dscp):
        if key in dscp2prio:
            value = dscp2prio[key]
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return value
    return None


def _pause_on(pause):
    """(on, text) of the NIC's global pause ({rx, tx} or 'unsupported')."""
    if pause == 'unsupported':
        return False, 'unsupported (off)'
    if not isinstance(pause, dict):
        return None, _fmt(pause)
    rx, tx = bool(pause.get('rx')), bool(pause.get('tx'))
    return rx or tx, 'rx %s tx %s' % ('on' if rx else 'off', 'on' if tx else 'off')


def _rdma_port(rdma, netdev):
    if not isinstance(rdma, dict) or not netdev:
        return None
    for device in rdma.get('devices') or []:
        for port in device.get('ports') or []:
            if port.get('netdev') == netdev:
                return dict(port, device=device.get('name'))
    return None


def check_host(name, host, intent):
    """Violations of one GPU node (rules trust, dscp_map, pfc, ecn, cnp, rdma_cm, mtu, path_mtu)."""
    out = []
    p = intent['lossless_priority']
    host = host if isinstance(host, dict) else {}
    nic = host.get('nic')

    def add(rule, setting, expected, found, message):
        out.append(_violation(rule, setting, 'host', name, expected, found, message))

    if host.get('error'):
        add('input', 'host', 'readings', None, 'no readings from this node (%s): it was not checked' % host['error'])
        return out
    if not isinstance(nic, dict) or not nic:
        add('input', 'nic', 'roce_qos state', None,
            'no NIC QoS state (%s): the NIC rules were not checked'
            % (host.get('nic_error') or 'aifabric.cluster.roce_qos did not return one'))
    else:
        trust_dscp = nic.get('trust') == 'dscp'
        if not trust_dscp:
            add('trust', 'trust', 'dscp', nic.get('trust'),
                'NIC priority trust is %s, expected dscp: the NIC ignores the DSCP the switches classify on '
                '(mlnx_qos --trust dscp; its DSCP map is not checked until then)' % _fmt(nic.get('trust')))
        for dscp, want, what in ((intent['roce_dscp'], p, 'RoCE'), (intent['cnp_dscp'], intent['cnp_priority'], 'CNP')):
            if not trust_dscp:
                break
            got = _dscp_entry(nic.get('dscp2prio'), dscp)
            if got != want:
                add('dscp_map', 'dscp2prio.%d' % dscp, want, got,
                    'NIC maps %s DSCP %d to priority %s, the intent to %d (%s priority)'
                    % (what, dscp, _fmt(got), want, 'lossless' if what == 'RoCE' else 'CNP'))
        pfc = _prio_list(nic.get('pfc_priorities'))
        if pfc != [p]:
            add('pfc', 'pfc_priorities', [p], pfc,
                'NIC PFC is enabled on priorities %s, the intent on exactly [%d] (lossless_priority)' % (_fmt(pfc), p))
        on, text = _pause_on(nic.get('global_pause'))
        if on is not False:
            add('pfc', 'global_pause', 'rx off tx off', text,
                'NIC global (802.3x) pause is %s, expected rx off tx off: it pauses every priority (ethtool -A <netdev> rx off tx off)'
                % text)
        for key, knob in (('ecn_np_priorities', 'roce_np'), ('ecn_rp_priorities', 'roce_rp')):
            prios = _prio_list(nic.get(key))
            if prios is None or p not in prios:
                add('ecn', key, 'includes %d' % p, prios,
                    'NIC ECN %s is enabled on priorities %s, not on the lossless priority %d (DCQCN %s)'
                    % (knob, _fmt(prios), p, 'does not send CNPs' if knob == 'roce_np' else 'does not slow down on CNPs'))
        for key, want in (('cnp_dscp', intent['cnp_dscp']), ('cnp_priority', intent['cnp_priority'])):
            got = nic.get(key)
            if got is None or _intish(got) != want:
                add('cnp', key, want, got, 'NIC sends CNPs with %s %s, the intent %d' % (key.replace('cnp_', ''), _fmt(got), want))
        if 'roce_mode' in nic and nic.get('roce_mode') != 'RoCE v2':
            add('rdma_cm', 'roce_mode', 'RoCE v2', nic.get('roce_mode'),
                'rdma_cm default RoCE mode is %s, expected RoCE v2 (routed fabric)' % _fmt_cm(nic.get('roce_mode')))
        tos = intent['roce_dscp'] * 4 + 2
        if 'roce_tos' in nic and _intish(nic.get('roce_tos')) != tos:
            add('rdma_cm', 'roce_tos', tos, nic.get('roce_tos'),
                'rdma_cm default ToS is %s, expected %d (DSCP %d << 2 | ECT(0)): rdma_cm traffic misses the lossless class'
                % (_fmt_cm(nic.get('roce_tos')), tos, intent['roce_dscp']))

    mtu = host.get('mtu')
    want_active = iboe_mtu(intent['host_mtu'])
    port = _rdma_port(host.get('rdma'), host.get('netdev'))
    active = port.get('active_mtu') if port else None
    if mtu is None:
        add('input', 'host_mtu', intent['host_mtu'], None, 'the fabric netdev MTU was not read: the MTU rules were not checked')
    elif _intish(mtu) != intent['host_mtu']:
        extra = ' (RDMA active MTU %s)' % active if active is not None else ''
        add('mtu', 'host_mtu', intent['host_mtu'], _intish(mtu),
            'fabric netdev %sMTU is %s%s, the intent %d (cluster_networks.fabric.mtu)'
            % (host.get('netdev') + ' ' if host.get('netdev') else '', mtu, extra, intent['host_mtu']))
    elif active is not None and want_active is not None and _intish(active) < want_active:
        add('mtu', 'rdma_active_mtu', want_active, active,
            'RDMA port %s/%s active MTU is %s at netdev MTU %s, expected %d'
            % (port.get('device'), port.get('port'), active, mtu, want_active))

    path = host.get('path_mtu')
    if isinstance(path, dict) and path:
        out.extend(_check_path_mtu(name, path, intent))
    return out


def _fmt_cm(value):
    return 'not set (no rdma_cm configfs group for the device)' if value is None else _fmt(value)


def _intish(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _check_path_mtu(name, path, intent):
    out = []
    mtu = _intish(path.get('mtu')) or intent['host_mtu']
    peer = '%s (%s)' % (path.get('peer'), path.get('address')) if path.get('peer') else str(path.get('address'))
    if path.get('fit_rc') not in (0, '0'):
        out.append(_violation(
            'path_mtu', 'path_mtu_fits', 'host', name, 'ping -M do -s %d passes' % (mtu - 28),
            'fails: %s' % (path.get('fit_msg') or 'rc %s' % path.get('fit_rc')),
            'a DF-bit ping of %d bytes (payload %d) to %s fails, expected to pass: a link on the path has a smaller MTU '
            '(%s)' % (mtu, mtu - 28, peer, path.get('fit_msg') or 'rc %s' % path.get('fit_rc'))))
    if path.get('over_rc') in (0, '0'):
        out.append(_violation(
            'path_mtu', 'path_mtu_limit', 'host', name, 'ping -M do -s %d fails' % (mtu - 27), 'passes',
            'a DF-bit ping of %d bytes (payload %d) to %s passes, expected to fail: the netdev MTU is above the intent %d'
            % (mtu + 1, mtu - 27, peer, mtu)))
    return out


# --------------------------------------------------------------------------- switches: helpers

def port_names(interfaces):
    """switch_fabric_interfaces (list of {name} or of names) -> list of names, in order, once each."""
    out = []
    for item in interfaces or []:
        name = item.get('name') if isinstance(item, dict) else item
        if name and str(name) not in out:
            out.append(str(name))
    return out


def _groups(values):
    """{port: value} -> [(value, [ports])] in first-seen order (values compared as JSON)."""
    seen = []
    for port, value in values.items():
        for entry in seen:
            if _same(entry[0], value):
                entry[1].append(port)
                break
        else:
            seen.append((value, [port]))
    return seen


def _same(a, b):
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _distinct(values):
    out = []
    for value in values:
        if not any(_same(value, seen) for seen in out):
            out.append(value)
    return out if len(out) != 1 else out[0]


# --------------------------------------------------------------------------- switches

class _Switch(object):
    """One switch under check: its name, the intent, its fabric ports ({port: settings}), and what the rules found
    (violations in ``out``, the normalized settings compared across switches in ``summary``)."""

    def __init__(self, name, intent):
        self.name = name
        self.intent = intent
        self.ports = {}
        self.out = []
        self.summary = {}

    def add(self, rule, setting, expected, found, message, port=None):
        self.out.append(_violation(rule, setting, 'switch', self.name, expected, found, message, port,
                                   len(self.ports) if isinstance(port, list) else None))


# --------------------------------------------------------------------------- NX-OS

def _nxos_dscp_map(sw, config, cnp_group):
    """Rule dscp_map: the classification of the RoCE and CNP DSCPs, per qos policy in use."""
    intent, p = sw.intent, sw.intent['lossless_priority']
    by_policy = _groups(dict((port, eff['qos_policy']) for port, eff in sw.ports.items()))
    seen_groups = {intent['roce_dscp']: [], intent['cnp_dscp']: []}
    for policy, group_ports in by_policy:
        if policy is None or policy not in config['qos_policies']:
            found = None if policy is None else '%s (not defined)' % policy
            sw.add('dscp_map', 'qos_policy', 'DSCP %d -> qos-group %d, DSCP %d -> qos-group %d'
                   % (intent['roce_dscp'], p, intent['cnp_dscp'], cnp_group), found,
                   'no service-policy type qos input applies (interface or system qos): every DSCP goes to qos-group 0 (lossy)'
                   if policy is None else 'service-policy type qos input %s names an undefined policy-map: every DSCP goes to '
                   'qos-group 0 (lossy)' % policy, port=group_ports)
            for dscp in seen_groups:
                seen_groups[dscp].append(0)
            continue
        for dscp, want, what in ((intent['roce_dscp'], p, 'the lossless qos-group'), (intent['cnp_dscp'], cnp_group, 'the CNP qos-group')):
            group, cls = classify_dscp(config, policy, dscp)
            seen_groups[dscp].append(group)
            if group != want:
                sw.add('dscp_map', 'dscp_tc.%d' % dscp, want, group,
                       'policy-map type qos %s puts DSCP %d in qos-group %s (class %s), expected %d (%s)'
                       % (policy, dscp, group, cls, want, what), port=group_ports)
    for dscp, groups in seen_groups.items():
        sw.summary['dscp_tc.%d' % dscp] = _distinct(groups) if groups else None


def _nxos_pfc(sw, config, cnp_group):
    """Rule pfc: the no-drop class and PFC CoS set of the system network-qos policy; the interface PFC mode."""
    p = sw.intent['lossless_priority']
    nq = network_qos(config)
    sw.summary['pfc_priorities'] = nq['pfc_cos']
    if nq['pfc_cos'] != [p]:
        where = ('system qos network-qos policy %s' % nq['policy']) if nq['defined'] else (
            'no system qos network-qos policy (NX-OS default: no PFC)' if nq['policy'] is None
            else 'system qos network-qos policy %s is not defined (no PFC)' % nq['policy'])
        sw.add('pfc', 'pfc_priorities', [p], nq['pfc_cos'],
               'PFC (pause pfc-cos) is on CoS %s, the intent on exactly [%d] (%s)' % (_fmt(nq['pfc_cos']), p, where))
    else:
        no_drop = sorted(nq['no_drop'], key=str)
        sw.summary['pfc_class'] = no_drop
        if no_drop != [p]:
            sw.add('pfc', 'pfc_class', NQ_CLASS % p, [NQ_CLASS % k if isinstance(k, int) else k for k in no_drop],
                   'pause pfc-cos %d is configured under %s in network-qos policy %s, expected under %s (the lossless qos-group)'
                   % (p, ', '.join(NQ_CLASS % k if isinstance(k, int) else str(k) for k in no_drop), nq['policy'], NQ_CLASS % p))
    modes = {}
    for port, eff in sw.ports.items():
        modes[port] = eff['pfc_mode']
        if eff['pfc_mode'] != 'on':
            sw.add('pfc', 'pfc_port_mode', 'on', eff['pfc_mode'],
                   'priority-flow-control mode is %s, expected on: the port does not honour or send PFC' % eff['pfc_mode'], port=port)
    sw.summary['pfc_port_mode'] = _distinct(list(modes.values()))


def _nxos_ecn(sw, config, cnp_group):
    """Rule ecn: WRED with ECN, at the intent's thresholds, on the lossless queue of each queuing policy in use."""
    p = sw.intent['lossless_priority']
    qname = QUEUE_CLASS % p
    ecn_seen, thr_seen = [], []
    for policy, group_ports in _groups(dict((port, eff['queuing_policy']) for port, eff in sw.ports.items())):
        label = 'queuing policy %s' % policy if policy else 'the default queuing policy (no service-policy type queuing output)'
        if queuing_classes(config, policy) is None:
            sw.add('ecn', 'queuing_policy', 'defined', '%s (not defined)' % policy,
                   'service-policy type queuing output %s names an undefined policy-map: no ECN, no strict CNP queue' % policy,
                   port=group_ports)
            continue
        queue = queue_of(config, policy, p)
        wred = queue.get('wred') if queue else None
        ecn_seen.append(bool(wred and wred['ecn']))
        if not wred or not wred['ecn']:
            found = wred['line'] if wred else ('no random-detect' if queue else 'no class %s' % qname)
            sw.add('ecn', 'ecn', 'random-detect ... ecn', found,
                   '%s: class %s has %s, expected WRED with ecn: the lossless queue does not mark ECN (no DCQCN)'
                   % (label, qname, found), port=group_ports)
            continue
        ecn = sw.intent['ecn']
        got = {'min_threshold_kbytes': _num(wred['min_kbytes']), 'max_threshold_kbytes': _num(wred['max_kbytes']),
               'drop_probability': wred['drop_probability']}
        thr_seen.append(dict(got, weight=wred['weight']))
        want = dict((k, v) for k, v in ecn.items() if v is not None)
        if wred['min_kbytes'] is not None and wred['max_kbytes'] is not None and wred['min_kbytes'] >= wred['max_kbytes']:
            sw.add('ecn', 'ecn_thresholds', want, got, '%s: class %s WRED minimum %s kbytes is not below the maximum %s kbytes'
                   % (label, qname, _fmt(got['min_threshold_kbytes']), _fmt(got['max_threshold_kbytes'])), port=group_ports)
        elif any(got[k] != v for k, v in want.items()):
            sw.add('ecn', 'ecn_thresholds', want, got,
                   '%s: class %s WRED/ECN is min %s kbytes, max %s kbytes, drop-probability %s; the intent min %s, max %s, %s'
                   % (label, qname, _fmt(got['min_threshold_kbytes']), _fmt(got['max_threshold_kbytes']),
                      _fmt(got['drop_probability']), _fmt(ecn['min_threshold_kbytes']), _fmt(ecn['max_threshold_kbytes']),
                      _fmt(ecn['drop_probability'])), port=group_ports)
    sw.summary['ecn'] = _distinct(ecn_seen) if ecn_seen else None
    sw.summary['ecn_thresholds'] = _distinct(thr_seen) if thr_seen else None


def _nxos_cnp(sw, config, cnp_group):
    """Rule cnp: the CNP queue at priority level 1 in each (defined) queuing policy in use; the others' scheduling."""
    cnp_seen, bw_seen = [], []
    for policy, group_ports in _groups(dict((port, eff['queuing_policy']) for port, eff in sw.ports.items())):
        label = 'queuing policy %s' % policy if policy else 'the default queuing policy (no service-policy type queuing output)'
        classes = queuing_classes(config, policy)
        if classes is None:  # named by rule ecn
            continue
        cnp_queue = queue_of(config, policy, cnp_group)
        level = cnp_queue.get('priority_level') if cnp_queue else None
        cnp_seen.append(level)
        if level != 1:
            found = ('priority level %s' % level) if level else (
                _queue_text(cnp_queue) if cnp_queue else 'no class %s' % (QUEUE_CLASS % cnp_group))
            sw.add('cnp', 'cnp_queue', 'priority level 1', found,
                   '%s: class %s (CNP, qos-group %d) has %s, expected priority level 1: CNPs wait behind data'
                   % (label, QUEUE_CLASS % cnp_group, cnp_group, found), port=group_ports)
        bw_seen.append(_bandwidth_text(classes, QUEUE_CLASS % cnp_group))
    sw.summary['cnp_queue'] = _distinct(cnp_seen) if cnp_seen else None
    sw.summary['queue_bandwidth'] = _distinct(bw_seen) if bw_seen else None


def _nxos_mtu(sw, config, cnp_group):
    """Rule mtu: the interface MTU against the intent and the host MTU; the lossless network-qos MTU >= interface MTU."""
    intent, p = sw.intent, sw.intent['lossless_priority']
    sw.out.extend(_check_port_mtus(sw.name, dict((port, eff['mtu']) for port, eff in sw.ports.items()), intent, sw.summary))
    nq = network_qos(config)
    lossless_mtu = nq_mtu(config, p)
    sw.summary['lossless_mtu'] = lossless_mtu
    need = max([intent['switch_mtu']] + [eff['mtu'] for eff in sw.ports.values()])
    if lossless_mtu < need:
        sw.add('mtu', 'lossless_mtu', need, lossless_mtu,
               'network-qos MTU of %s is %d (%s), below the interface MTU %d: jumbo RoCE frames are dropped'
               % (NQ_CLASS % p, lossless_mtu, ('policy %s' % nq['policy']) if nq['defined'] else 'NX-OS default', need))


def _nxos_pfc_watchdog(sw, config, cnp_group):
    """Rule pfc_watchdog: the PFC watchdog on every fabric port, when the intent enables it."""
    dogs = {}
    for port, eff in sw.ports.items():
        dogs[port] = eff['pfc_watchdog']
        if sw.intent['pfc_watchdog']['enabled'] and eff['pfc_watchdog'] != 'on':
            sw.add('pfc_watchdog', 'pfc_watchdog', 'on', eff['pfc_watchdog'],
                   'PFC watchdog is %s (priority-flow-control watch-dog-interval), expected on: a PFC storm would stall the '
                   'lossless queue' % eff['pfc_watchdog'], port=port)
    sw.summary['pfc_watchdog'] = _distinct(list(dogs.values()))


# the NX-OS rules, each called with (switch, parsed running-config, CNP qos-group)
NXOS_RULES = (_nxos_dscp_map, _nxos_pfc, _nxos_ecn, _nxos_cnp, _nxos_mtu, _nxos_pfc_watchdog)


def check_nxos(name, switch, intent):
    """(violations, summary) of an NX-OS switch; summary holds the normalized settings compared across switches."""
    sw = _Switch(name, intent)
    if switch.get('error') or switch.get('running_config') is None:
        sw.add('input', 'running_config', 'show running-config', None, 'no running configuration was read (%s): the switch '
               'was not checked' % (switch.get('error') or 'show running-config returned nothing'))
        return sw.out, None
    try:
        config = parse_running_config(switch.get('running_config'))
    except NxosParseError as exc:
        sw.add('input', 'running_config', 'show running-config', None, 'cannot read the running configuration: %s' % exc)
        return sw.out, None

    cnp_group = _int(switch.get('cnp_qos_group', intent['nxos_cnp_qos_group']), 'cnp_qos_group')
    wanted = port_names(switch.get('fabric_interfaces'))
    for port in wanted:
        eff = effective_port_qos(config, port)
        if eff is None:
            sw.add('input', 'interface', 'in running-config', None,
                   'fabric interface not in the running configuration (switch_fabric_interfaces names a port the switch does not have)',
                   port=normalize_interface(port))
        else:
            sw.ports[eff['port']] = eff
    if not wanted:
        sw.add('input', 'interfaces', 'switch_fabric_interfaces', [], 'no fabric interfaces listed: the port rules were not checked')
    for rule in NXOS_RULES:
        rule(sw, config, cnp_group)
    return sw.out, sw.summary


def _num(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(value, 3)


def _queue_text(entry):
    parts = []
    if entry.get('priority_level'):
        parts.append('priority level %s' % entry['priority_level'])
    if entry.get('bandwidth_remaining_percent') is not None:
        parts.append('bandwidth remaining percent %s' % entry['bandwidth_remaining_percent'])
    if entry.get('bandwidth_percent') is not None:
        parts.append('bandwidth percent %s' % entry['bandwidth_percent'])
    if entry.get('wred'):
        parts.append(entry['wred']['line'])
    return '; '.join(parts) or 'nothing configured'


def _bandwidth_text(classes, skip):
    """Scheduling of the queues but the CNP one, compactly: 'q1 0%, ..., q3 50%, default 50%' (bandwidth remaining)."""
    parts = []
    for cname in sorted(classes, key=lambda c: (c == QUEUE_DEFAULT, c)):
        if cname == skip:
            continue
        entry = classes[cname]
        label = 'default' if cname == QUEUE_DEFAULT else cname.replace('c-out-8q-', '')
        if entry.get('priority_level'):
            parts.append('%s priority level %s' % (label, entry['priority_level']))
        elif entry.get('bandwidth_remaining_percent') is not None:
            parts.append('%s %s%%' % (label, entry['bandwidth_remaining_percent']))
        elif entry.get('bandwidth_percent') is not None:
            parts.append('%s bandwidth %s%%' % (label, entry['bandwidth_percent']))
    return ', '.join(parts)


def _check_port_mtus(name, mtus, intent, summary):
    out = []
    floor = intent['host_mtu'] + intent['l2_overhead']
    for port, mtu in mtus.items():
        if mtu is None:
            continue
        if mtu < floor:
            out.append(_violation('mtu', 'port_mtu', 'switch', name, intent['switch_mtu'], mtu,
                                  'interface MTU is %d, below host MTU %d + %d: jumbo RoCE frames from the hosts are dropped '
                                  '(intent switch_mtu %d)' % (mtu, intent['host_mtu'], intent['l2_overhead'], intent['switch_mtu']),
                                  port=port))
        elif mtu != intent['switch_mtu']:
            out.append(_violation('mtu', 'port_mtu', 'switch', name, intent['switch_mtu'], mtu,
                                  'interface MTU is %d, the intent switch_mtu %d' % (mtu, intent['switch_mtu']),
                                  port=port))
    summary['port_mtu'] = _distinct(list(mtus.values())) if mtus else None
    return out


# --------------------------------------------------------------------------- SONiC

def _by_name(items):
    out = {}
    for item in items or []:
        if isinstance(item, dict) and item.get('name') is not None:
            out[str(item['name'])] = item
    return out


def _sonic_dscp_tc(maps, map_name, dscp):
    """(tc, how) of a DSCP on a port using DSCP map map_name (None: the community default map)."""
    if map_name is None:
        tc = SONIC_COMMUNITY_DSCP_TO_TC.get(dscp, SONIC_COMMUNITY_DSCP_DEFAULT_TC)
        return tc, 'no DSCP map on the port, the community default map'
    dscp_maps = _by_name((maps or {}).get('dscp_maps'))
    if map_name not in dscp_maps:
        return None, 'DSCP map %s is not defined' % map_name
    for entry in dscp_maps[map_name].get('entries') or []:
        if _intish(entry.get('dscp')) == dscp:
            return _intish(entry.get('fwd_group')), 'DSCP map %s' % map_name
    return 0, 'DSCP map %s has no entry for it (TC 0)' % map_name


def _sonic_dscp_map(sw, facts):
    """Rule dscp_map: the TC of the RoCE and CNP DSCPs, per DSCP map in use (none: the community default map)."""
    intent = sw.intent
    maps = facts.get('qos_maps') or {}
    by_map = _groups(dict((port, (entry.get('qos_maps') or {}).get('dscp_fwd_group')) for port, entry in sw.ports.items()))
    seen = {intent['roce_dscp']: [], intent['cnp_dscp']: []}
    for map_name, group_ports in by_map:
        for dscp, want, what in ((intent['roce_dscp'], intent['lossless_priority'], 'the lossless TC'),
                                 (intent['cnp_dscp'], intent['cnp_priority'], 'the CNP TC')):
            tc, how = _sonic_dscp_tc(maps, map_name, dscp)
            seen[dscp].append(tc)
            if tc != want:
                sw.add('dscp_map', 'dscp_tc.%d' % dscp, want, tc, 'DSCP %d goes to TC %s (%s), expected TC %d (%s)'
                       % (dscp, _fmt(tc), how, want, what), port=group_ports)
    for dscp, tcs in seen.items():
        sw.summary['dscp_tc.%d' % dscp] = _distinct(tcs) if tcs else None


def _sonic_pfc(sw, facts):
    """Rule pfc: PFC on exactly the lossless priority of every fabric port."""
    p = sw.intent['lossless_priority']
    pfcs = {}
    for port, entry in sw.ports.items():
        pfc = entry.get('pfc') or {}
        prios = sorted(set(_intish(item.get('dot1p')) for item in pfc.get('priorities') or [] if item.get('enable')))
        pfcs[port] = prios
        if prios != [p]:
            sw.add('pfc', 'pfc_priorities', [p], prios,
                   'PFC is enabled on priorities %s, the intent on exactly [%d] (lossless_priority)' % (_fmt(prios), p), port=port)
    sw.summary['pfc_priorities'] = _distinct(list(pfcs.values())) if pfcs else None


def _sonic_pfc_watchdog(sw, facts):
    """Rule pfc_watchdog: the watchdog's detect and restore times and drop action per port; its counter polling."""
    wd = sw.intent['pfc_watchdog']
    dogs = {}
    for port, entry in sw.ports.items():
        pfc = entry.get('pfc') or {}
        dog = {'detect_ms': pfc.get('watchdog_detect_time'), 'restore_ms': pfc.get('watchdog_restore_time'),
               'action': pfc.get('watchdog_action') if pfc.get('watchdog_detect_time') is not None else None}
        dogs[port] = dog
        if not wd['enabled']:
            continue
        want = {'detect_ms': wd['interval_ms'], 'restore_ms': wd['restore_ms'], 'action': 'drop'}
        if dog['detect_ms'] is None:
            sw.add('pfc_watchdog', 'pfc_watchdog', want, 'off',
                   'PFC watchdog is off (no watchdog detect time), expected on: a PFC storm would stall the lossless queue',
                   port=port)
        elif any(want[k] is not None and _intish(dog[k]) != want[k] for k in want):
            sw.add('pfc_watchdog', 'pfc_watchdog', want, dog,
                   'PFC watchdog is detect %s ms, restore %s ms, action %s; the intent %s ms, %s ms, drop'
                   % (_fmt(dog['detect_ms']), _fmt(dog['restore_ms']), _fmt(dog['action']),
                      _fmt(wd['interval_ms']), _fmt(wd['restore_ms'])), port=port)
    sw.summary['pfc_watchdog'] = _distinct(list(dogs.values())) if dogs else None
    qos_pfc = facts.get('qos_pfc')
    if wd['enabled'] and isinstance(qos_pfc, dict) and qos_pfc.get('counter_poll') is False:
        sw.add('pfc_watchdog', 'counter_poll', True, False,
               'PFC watchdog counter polling is off (sonic_qos_pfc counter_poll), expected on: the watchdog does not run')


def _sonic_ecn(sw, facts):
    """Rule ecn: a WRED profile with ECN on green, at the intent's thresholds, on the lossless queue of every port."""
    p = sw.intent['lossless_priority']
    wreds = _by_name(facts.get('qos_wred'))
    profiles = {}
    for port, entry in sw.ports.items():
        profile = None
        for queue in entry.get('queues') or []:
            if _intish(queue.get('id')) == p:
                profile = queue.get('wred_profile')
        profiles[port] = profile
    ecn_seen, thr_seen = [], []
    for profile, group_ports in _groups(profiles):
        wred = wreds.get(profile) if profile else None
        green = (wred or {}).get('green') or {}
        ok = bool(wred) and wred.get('ecn') == 'green' and green.get('enable') is not False
        ecn_seen.append(ok)
        if not ok:
            found = 'no WRED profile on queue %d' % p if profile is None else (
                'WRED profile %s is not defined' % profile if wred is None else
                'WRED profile %s with ecn %s, green %s' % (profile, _fmt(wred.get('ecn')), _fmt(green.get('enable'))))
            sw.add('ecn', 'ecn', 'WRED profile with ecn green on queue %d' % p, found,
                   '%s, expected ECN marking on the lossless queue %d (no DCQCN)' % (found, p), port=group_ports)
            continue
        ecn = sw.intent['ecn']
        got = {'min_threshold_kbytes': _num(green['min_threshold'] / 1024.0) if green.get('min_threshold') is not None else None,
               'max_threshold_kbytes': _num(green['max_threshold'] / 1024.0) if green.get('max_threshold') is not None else None,
               'drop_probability': green.get('drop_probability')}
        thr_seen.append(got)
        want = dict((k, v) for k, v in ecn.items() if v is not None)
        if got['min_threshold_kbytes'] is not None and got['max_threshold_kbytes'] is not None and \
                got['min_threshold_kbytes'] >= got['max_threshold_kbytes']:
            sw.add('ecn', 'ecn_thresholds', want, got, 'WRED profile %s minimum %s kbytes is not below the maximum %s kbytes'
                   % (profile, _fmt(got['min_threshold_kbytes']), _fmt(got['max_threshold_kbytes'])), port=group_ports)
        elif any(got[k] != v for k, v in want.items()):
            sw.add('ecn', 'ecn_thresholds', want, got,
                   'WRED profile %s is min %s kbytes, max %s kbytes, drop probability %s; the intent min %s, max %s, %s'
                   % (profile, _fmt(got['min_threshold_kbytes']), _fmt(got['max_threshold_kbytes']), _fmt(got['drop_probability']),
                      _fmt(ecn['min_threshold_kbytes']), _fmt(ecn['max_threshold_kbytes']), _fmt(ecn['drop_probability'])),
                   port=group_ports)
    sw.summary['ecn'] = _distinct(ecn_seen) if ecn_seen else None
    sw.summary['ecn_thresholds'] = _distinct(thr_seen) if thr_seen else None


def _sonic_cnp(sw, facts):
    """Rule cnp: strict priority for the queue the CNP TC maps to, per scheduler policy in use; the others' weights."""
    cnp = sw.intent['cnp_priority']
    scheds = _by_name(facts.get('qos_scheduler'))
    queue_maps = _by_name(((facts.get('qos_maps') or {}).get('fwd_group_queue_maps')))
    keyed = {}
    for port, entry in sw.ports.items():
        qmap = (entry.get('qos_maps') or {}).get('fwd_group_queue')
        queue = cnp
        for item in (queue_maps.get(qmap) or {}).get('entries') or []:
            if str(item.get('fwd_group')) == str(cnp) and item.get('queue_index') is not None:
                queue = _intish(item['queue_index'])
        keyed[port] = (entry.get('scheduler_policy'), queue)
    cnp_seen, bw_seen = [], []
    for (policy, queue), group_ports in _groups(keyed):
        sched = scheds.get(policy) if policy else None
        by_seq = dict((_intish(s.get('sequence')), s) for s in (sched or {}).get('schedulers') or [])
        kind = (by_seq.get(queue) or {}).get('scheduler_type')
        cnp_seen.append(kind)
        bw_seen.append(', '.join('q%s %s' % (seq, 'strict' if s.get('scheduler_type') == 'strict' else '%s %s' % (
            s.get('scheduler_type'), _fmt(s.get('weight')))) for seq, s in sorted(by_seq.items(), key=lambda i: str(i[0]))
            if seq != queue))
        if kind != 'strict':
            found = 'no scheduler policy (DWRR)' if policy is None else (
                'scheduler policy %s is not defined' % policy if sched is None else
                'scheduler policy %s queue %s is %s' % (policy, queue, _fmt(kind)))
            sw.add('cnp', 'cnp_queue', 'strict', found,
                   '%s, expected strict priority for the CNP queue %s (TC %d): CNPs wait behind data' % (found, queue, cnp),
                   port=group_ports)
    sw.summary['cnp_queue'] = _distinct(cnp_seen) if cnp_seen else None
    sw.summary['queue_bandwidth'] = _distinct(bw_seen) if bw_seen else None


def _sonic_mtu(sw, facts):
    """Rule mtu: the interface MTU (SONiC's default where none is set) against the intent and the host MTU."""
    by_if = _by_name(facts.get('interfaces'))
    mtus = dict((port, _intish((by_if.get(port) or {}).get('mtu') or SONIC_DEFAULT_MTU)) for port in sw.ports)
    sw.out.extend(_check_port_mtus(sw.name, mtus, sw.intent, sw.summary))


# the SONiC rules: (the sonic_facts resources a rule needs, the rule, called with (switch, facts)); a rule whose
# resources were not read is not checked (an input violation names the resource)
SONIC_RULES = (
    (('qos_maps', 'qos_interfaces'), _sonic_dscp_map),
    (('qos_interfaces',), _sonic_pfc),
    (('qos_interfaces',), _sonic_pfc_watchdog),
    (('qos_interfaces', 'qos_wred'), _sonic_ecn),
    (('qos_interfaces', 'qos_scheduler'), _sonic_cnp),
    (('interfaces',), _sonic_mtu),
)


def check_sonic(name, switch, intent):
    """(violations, summary) of a SONiC switch from its sonic_facts resources (partial, see docs/fabric-validate.md)."""
    sw = _Switch(name, intent)
    if switch.get('error'):
        sw.add('input', 'sonic_facts', 'sonic_facts', None, 'no facts were read (%s): the switch was not checked' % switch['error'])
        return sw.out, None
    facts = dict(switch)
    if isinstance(switch.get('ansible_network_resources'), dict):
        facts.update(switch['ansible_network_resources'])
    # sonic_facts leaves out a resource that has no configuration at all: a resource it gathered
    # (ansible_net_gather_network_resources, passed as 'gathered') but did not return is empty
    for subset in list(SONIC_SUBSETS) + ['interfaces']:
        if facts.get(subset) is None and subset in (switch.get('gathered') or ()):
            facts[subset] = {} if subset in ('qos_maps', 'qos_pfc') else []
    missing = [subset for subset in SONIC_SUBSETS if facts.get(subset) is None]
    for subset in missing:
        sw.add('input', subset, 'sonic_facts %s' % subset, None,
               'no %s facts (dellemc.enterprise_sonic sonic_facts): the rules that need them were not checked' % subset)

    wanted = port_names(switch.get('fabric_interfaces'))
    if not wanted:
        sw.add('input', 'interfaces', 'switch_fabric_interfaces', [], 'no fabric interfaces listed: the port rules were not checked')
    qos_ifaces = _by_name(facts.get('qos_interfaces'))
    sw.ports = dict((port, qos_ifaces.get(port) or {}) for port in wanted)
    for needs, rule in SONIC_RULES:
        if all(facts.get(subset) is not None for subset in needs):
            rule(sw, facts)
    return sw.out, sw.summary


# --------------------------------------------------------------------------- across switches

# an intent violation of a setting (key) also covers these compared settings on that switch
_COVERS = {
    'running_config': ('*',),
    'qos_policy': ('dscp_tc.',),
    'queuing_policy': ('ecn', 'ecn_thresholds', 'cnp_queue', 'queue_bandwidth'),
    'ecn': ('ecn_thresholds',),
    'pfc_priorities': ('pfc_class',),
    'qos_maps': ('dscp_tc.',),
    'qos_interfaces': ('*',),
    'qos_wred': ('ecn', 'ecn_thresholds'),
    'qos_scheduler': ('cnp_queue', 'queue_bandwidth'),
}


def _covered(key, flagged):
    for setting in flagged:
        if setting == key:
            return True
        for prefix in _COVERS.get(setting, ()):
            if prefix == '*' or key == prefix or (prefix.endswith('.') and key.startswith(prefix)):
                return True
    return False


def check_consistency(summaries, flagged):
    """Rule switch_consistency: the same normalized QoS on every switch of one platform.

    summaries: {switch: (platform, {setting: value})}; flagged: {switch: set of settings with an intent violation}.
    A setting is compared among the switches that have no intent violation for it: the reference is the value most of
    them have (ties: the first switch by name); a switch with an intent violation for a setting is not reported
    again for it.
    """
    out = []
    platforms = {}
    for switch, (platform, summary) in summaries.items():
        if summary is not None:
            platforms.setdefault(platform, []).append(switch)
    for platform, names in sorted(platforms.items()):
        names = sorted(names)
        if len(names) < 2:
            continue
        keys = sorted(set(k for n in names for k in summaries[n][1]))
        for key in keys:
            clean = [n for n in names if key in summaries[n][1] and not _covered(key, flagged.get(n, ()))]
            if len(clean) < 2:
                continue
            counts = []
            for switch in clean:
                value = summaries[switch][1][key]
                for entry in counts:
                    if _same(entry[0], value):
                        entry[1].append(switch)
                        break
                else:
                    counts.append((value, [switch]))
            if len(counts) < 2:
                continue
            reference, holders = max(counts, key=lambda entry: (len(entry[1]), -names.index(entry[1][0])))
            for value, odd in counts:
                if value is reference:
                    continue
                for switch in odd:
                    out.append(_violation(
                        'switch_consistency', key, 'switch', switch, reference, value,
                        '%s is %s; %s %s %s: every %s switch of the fabric must have the same QoS'
                        % (key, _fmt(value), ', '.join(holders), 'has' if len(holders) == 1 else 'have', _fmt(reference),
                           'NX-OS' if platform == 'nxos' else 'SONiC' if platform == 'sonic' else platform)))
    return out


def fabric_violations(intent, hosts, switches):
    """All violations of the fabric (see the module docstring), sorted by rule, host/switch and port."""
    intent = normalize_intent(intent)
    out = []
    for name in sorted(hosts or {}):
        out.extend(check_host(str(name), hosts[name], intent))
    summaries = {}
    flagged = {}
    for name in sorted(switches or {}):
        switch = switches[name] if isinstance(switches[name], dict) else {}
        platform = switch.get('platform')
        if platform == 'nxos':
            found, summary = check_nxos(str(name), switch, intent)
        elif platform == 'sonic':
            found, summary = check_sonic(str(name), switch, intent)
        else:
            found, summary = [_violation('input', 'platform', 'switch', str(name), 'nxos or sonic', platform,
                                         'switch_platform is %s, expected nxos or sonic: the switch was not checked'
                                         % _fmt(platform))], None
        out.extend(found)
        summaries[str(name)] = (platform, summary)
        flagged[str(name)] = set(v['setting'] for v in found)
    out.extend(check_consistency(summaries, flagged))
    out.sort(key=lambda v: (RULE_ORDER.get(v['rule'], len(RULES)), 0 if 'host' in v else 1, v.get('host') or v.get('switch'),
                            v.get('port') or '', v['setting']))
    return out


# --------------------------------------------------------------------------- the report

def _shown(value):
    """An intent or a finding as the reports show it: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _cell(value):
    return _shown(value).replace('|', '\\|')


def report_markdown(generated, intent, hosts, switches, violations):
    """report.md: what was checked against which intent, the number of violations, then a table
    (rule, where, port, intent, found) and each violation's message."""
    i = intent or {}
    out = ['# Fabric validation (%s)' % generated, '',
           'Checked %d GPU nodes and %d switches' % (hosts, switches),
           'against cluster_fabric_qos (RoCE DSCP %s, CNP DSCP %s, lossless priority %s,'
           % (i.get('roce_dscp'), i.get('cnp_dscp'), i.get('lossless_priority')),
           'CNP priority %s, switch MTU %s, host MTU %s):' % (i.get('cnp_priority'), i.get('switch_mtu'), i.get('host_mtu')),
           '**%d violation(s)**.' % len(violations or []), '']
    if violations:
        out += ['| rule | where | port | intent | found |', '| --- | --- | --- | --- | --- |']
        for v in violations:
            cells = (v['rule'], v.get('host') or v.get('switch'), _cell(v.get('port') or ''), _cell(v.get('expected')),
                     _cell(v.get('found')))
            out.append('| %s | %s | %s | %s | %s |' % cells)
        out.append('')
        out += ['- %s' % v['message'] for v in violations]
    return '\n'.join(out) + '\n'


def report_lines(violations, report_dir):
    """The violations for a person: a table (rule, where, port, intent, found) and each message; or that the
    fabric is consistent. report_dir is named where the report went."""
    if not violations:
        return ['fabric consistent: no violation (%s/report.md)' % report_dir]
    row = '%-18s %-14s %-24s %-20s %s'
    out = ['%d violation(s), report in %s' % (len(violations), report_dir), row % ('rule', 'where', 'port', 'intent', 'found')]
    for v in violations:
        out.append(row % (v['rule'], v.get('host') or v.get('switch'), v.get('port') or '-', _shown(v.get('expected')),
                          _shown(v.get('found'))))
    out += ['- %s' % v['message'] for v in violations]
    return out


__all__ = ['RULES', 'IntentError', 'fabric_violations', 'report_markdown', 'report_lines', 'normalize_intent', 'check_host', 'check_nxos', 'check_sonic',
           'check_consistency', 'port_names', 'NQ_CLASS', 'QUEUE_CLASS', 'QUEUE_DEFAULT']
