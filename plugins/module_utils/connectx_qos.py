# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers and planning for the QoS state of an NVIDIA ConnectX port (``roce_qos``).

Pure functions on strings and dicts: nothing here runs a command or touches a file.

``mlnx_qos -i <netdev>`` (mlnx-tools, DOCA-OFED/MLNX_OFED) prints, in this order::

    DCBX mode: OS controlled
    Priority trust state: dscp
    dscp2prio mapping:
            prio:0 dscp:07,06,05,04,03,02,01,00,
            ...                                   (8 DSCPs per line, a priority may wrap)
    default priority:
    Receive buffer size (bytes): 130944,130944,0,0,0,0,0,0,max_buffer_size=4151520
    Cable len: 7
    PFC configuration:
            priority    0   1   2   3   4   5   6   7
            enabled     0   0   0   1   0   0   0   0
            buffer      0   0   0   1   0   0   0   0
    tc: 0 ratelimit: unlimited, tsa: vendor
             priority:  1

With trust ``pcp`` there is no ``dscp2prio mapping:`` block. On a netdev without DCB
support mlnx_qos prints "... is not supported on your system" lines and exits 1.

``ethtool -a <netdev>`` prints ``Pause parameters for X:``, ``Autonegotiate:``, ``RX:``,
``TX:`` (``on``/``off``) and, with autonegotiation, ``RX negotiated:``/``TX negotiated:``.
A device without pause support (veth, loopback) fails with ``netlink error: Operation
not supported`` (rc 1 for ``-a``, rc 76 for ``-A``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

ROCE_MODES = ('RoCE v2', 'IB/RoCE v1')


class ParseError(ValueError):
    """The text is not the output the parser expects."""


def _ints(text):
    return [int(x) for x in re.findall(r'\d+', text)]


def parse_mlnx_qos(text):
    """Parse the report of ``mlnx_qos -i <netdev>``.

    Returns a dict: ``dcbx`` ('os'/'fw'/None), ``trust`` ('dscp'/'pcp'/'none'),
    ``dscp2prio`` ({dscp: prio} of the DSCP app table; empty with trust pcp),
    ``default_priority`` (list), ``buffer_size`` (list of 8 or None), ``max_buffer_size``,
    ``cable_len``, ``pfc_enabled`` (list of the 8 flags), ``pfc_priorities`` (enabled ones),
    ``pfc_buffer`` (list of 8 or None), ``tcs`` ({tc: {ratelimit, tsa, bw, priorities}}),
    ``warnings`` (lines such as "... is not supported on your system").
    Raises ParseError when the text has no PFC configuration table.
    """
    res = {'dcbx': None, 'trust': None, 'dscp2prio': {}, 'default_priority': [], 'buffer_size': None,
           'max_buffer_size': None, 'cable_len': None, 'pfc_enabled': None, 'pfc_priorities': None,
           'pfc_buffer': None, 'tcs': {}, 'warnings': []}
    section = None
    tc = None
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith('DCBX mode:'):
            mode = line.split(':', 1)[1].strip()
            res['dcbx'] = 'os' if mode.startswith('OS') else 'fw' if mode.startswith('Firmware') else mode
            section = None
        elif line.startswith('Priority trust state:'):
            res['trust'] = line.split(':', 1)[1].strip()
            section = None
        elif line == 'dscp2prio mapping:':
            section = 'dscp2prio'
        elif line == 'default priority:':
            section = 'default'
        elif line.startswith('Receive buffer size (bytes):'):
            section = None
            value = line.split(':', 1)[1]
            sizes = []
            for item in value.split(','):
                item = item.strip()
                if item.startswith(('max_buffer_size=', 'total_size=')):
                    res['max_buffer_size'] = int(item.split('=', 1)[1])
                elif item.isdigit():
                    sizes.append(int(item))
            res['buffer_size'] = sizes
        elif line.startswith('Cable len:'):
            section = None
            res['cable_len'] = int(line.split(':', 1)[1])
        elif line == 'PFC configuration:':
            section = 'pfc'
        elif section == 'pfc' and line.startswith('priority') and not line.startswith('priority:'):
            continue
        elif section == 'pfc' and line.startswith('enabled'):
            res['pfc_enabled'] = _ints(line)
        elif section == 'pfc' and line.startswith('buffer'):
            res['pfc_buffer'] = _ints(line)
        elif line.startswith('tc:'):
            section = 'tc'
            m = re.match(r'tc:\s*(\d+)\s+ratelimit:\s*([^,]+),\s*tsa:\s*(\w+)(?:,\s*bw:\s*(\d+)%)?', line)
            if not m:
                raise ParseError('unexpected TC line: %r' % line)
            tc = int(m.group(1))
            res['tcs'][tc] = {'ratelimit': m.group(2).strip(), 'tsa': m.group(3),
                              'bw': int(m.group(4)) if m.group(4) else None, 'priorities': []}
        elif section == 'tc' and line.startswith('priority:') and tc is not None:
            res['tcs'][tc]['priorities'].extend(_ints(line))
        elif section == 'dscp2prio' and line.startswith('prio:'):
            m = re.match(r'prio:(\d+)\s+dscp:([\d,]*)', line)
            if not m:
                raise ParseError('unexpected dscp2prio line: %r' % line)
            prio = int(m.group(1))
            for dscp in _ints(m.group(2)):
                res['dscp2prio'][dscp] = prio
        elif section == 'default' and line.startswith('prio:'):
            res['default_priority'].extend(_ints(line))
        elif 'not supported on your system' in line or line.startswith('*'):
            res['warnings'].append(line)
    if res['pfc_enabled'] is None or len(res['pfc_enabled']) != 8:
        raise ParseError('no PFC configuration table in the mlnx_qos output')
    res['pfc_priorities'] = [p for p, on in enumerate(res['pfc_enabled']) if on]
    return res


def parse_ethtool_pause(text):
    """Parse ``ethtool -a``: {'autoneg': bool, 'rx': bool, 'tx': bool} (plus the negotiated
    values when ethtool prints them). Raises ParseError without RX/TX lines."""
    res = {}
    keys = {'autonegotiate': 'autoneg', 'rx': 'rx', 'tx': 'tx', 'rx negotiated': 'rx_negotiated',
            'tx negotiated': 'tx_negotiated'}
    for line in (text or '').splitlines():
        if ':' not in line or line.startswith('Pause parameters'):
            continue
        key, value = line.split(':', 1)
        key = keys.get(key.strip().lower())
        value = value.strip().lower()
        if key and value in ('on', 'off'):
            res[key] = value == 'on'
    if 'rx' not in res or 'tx' not in res:
        raise ParseError('no RX/TX pause lines in the ethtool output')
    return res


def ethtool_unsupported(stderr):
    """True when ethtool failed because the device has no pause parameters (veth, lo...)."""
    return 'not supported' in (stderr or '').lower()


def pfc_list(priorities):
    """[3] -> '0,0,0,1,0,0,0,0' (the --pfc argument)."""
    prios = set(priorities)
    return ','.join('1' if p in prios else '0' for p in range(8))


def default_dscp2prio():
    """The firmware DSCP map a switch to trust dscp installs (mlnx_qos: dscp >> 3)."""
    return dict((d, d >> 3) for d in range(64))


def plan_mlnx_qos(current, trust, pfc_priorities, dscp2prio):
    """What mlnx_qos must run to reach the wanted state.

    ``current`` is parse_mlnx_qos() output; ``pfc_priorities`` and ``dscp2prio`` may be
    None (not managed). Only the DSCPs in ``dscp2prio`` are managed. Returns
    (list of argument lists after ``-i <netdev>``, predicted state after those commands).
    ``--trust`` and ``--dscp2prio`` cannot share one call (mlnx_qos refuses), so they are
    separate steps, trust first: switching to dscp reinstalls the firmware map.
    """
    steps = []
    after_trust = current['trust']
    after_map = dict(current['dscp2prio'])
    if trust is not None and current['trust'] != trust:
        steps.append(['--trust', trust])
        after_trust = trust
        after_map = default_dscp2prio() if trust == 'dscp' else {}
    if dscp2prio:
        sets = []
        for dscp in sorted(dscp2prio):
            if after_map.get(dscp) != dscp2prio[dscp]:
                sets += ['--dscp2prio', 'set,%d,%d' % (dscp, dscp2prio[dscp])]
                after_map[dscp] = dscp2prio[dscp]
        if sets:
            steps.append(sets)
            after_trust = 'dscp'  # the first DSCP entry switches the port to trust dscp
    after_pfc = list(current['pfc_priorities'])
    if pfc_priorities is not None and sorted(set(pfc_priorities)) != after_pfc:
        steps.append(['--pfc', pfc_list(pfc_priorities)])
        after_pfc = sorted(set(pfc_priorities))
    return steps, {'trust': after_trust, 'dscp2prio': after_map, 'pfc_priorities': after_pfc}


def ecn_enabled(values):
    """{prio: '0'/'1' text} -> sorted list of enabled priorities."""
    return sorted(p for p, v in values.items() if str(v).strip() == '1')


def plan_ecn(current, wanted):
    """current/wanted: {prio: bool}; returns [(prio, '1'/'0')] to write."""
    return [(p, '1' if wanted[p] else '0') for p in sorted(wanted) if bool(current.get(p)) != wanted[p]]
