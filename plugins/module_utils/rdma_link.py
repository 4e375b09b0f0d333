# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDMA devices and ports from sysfs, ``rdma -j link show`` and ``ibv_devinfo``, and link health rules.

Reads the ib_core sysfs tree (``/sys/class/infiniband/<dev>/...``, or any copy of it),
so the parser is unit-tested against fixture trees shaped exactly like real sysfs::

    <root>/mlx5_0/{fw_ver, board_id, hca_type, node_guid}
    <root>/mlx5_0/ports/1/{state "4: ACTIVE", phys_state "5: LinkUp", rate "400 Gb/sec (4X NDR)",
                           link_layer, gids/<i>, gid_attrs/types/<i>, gid_attrs/ndevs/<i>,
                           counters/<name>, hw_counters/<name>}
    <root>/mlx5_0/device/net/<netdev>/          (the PCI function's netdevs)

Unreadable or absent files become None, never an exception (the kernel answers EINVAL
when reading the type or netdev of an unused GID). ``evaluate`` turns the records and a
dict of expectations into verdicts whose reasons say what is wrong and what to do.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import fnmatch
import json
import os
import re

# counters/ (IB PMA port counters, also present on RoCE ports)
PORT_COUNTERS = (
    'symbol_error',
    'link_error_recovery',
    'link_downed',
    'port_rcv_errors',
    'port_xmit_discards',
    'local_link_integrity_errors',
    'excessive_buffer_overrun_errors',
)

# hw_counters/ (mlx5 Q counters, congestion and extended counters; names as the mlx5_ib driver exposes them)
HW_COUNTERS = (
    'out_of_buffer',
    'out_of_sequence',
    'packet_seq_err',
    'local_ack_timeout_err',
    'rnr_nak_retry_err',
    'implied_nak_seq_err',
    'duplicate_request',
    'roce_adp_retrans',
    'roce_adp_retrans_to',
    'roce_slow_restart',
    'rx_icrc_encapsulated',
    'np_cnp_sent',
    'np_ecn_marked_roce_packets',
    'rp_cnp_handled',
)

# RoCE-only hw_counters: absent on InfiniBand ports, which is not worth a warning
ROCE_ONLY_COUNTERS = frozenset(['roce_adp_retrans', 'roce_adp_retrans_to', 'roce_slow_restart', 'rx_icrc_encapsulated',
                                'np_cnp_sent', 'np_ecn_marked_roce_packets', 'rp_cnp_handled'])

LINK_LAYERS = ('InfiniBand', 'Ethernet')
IB_MTUS = (256, 512, 1024, 2048, 4096)

# include/rdma/ib_pack.h: GRH 40 + UDP 8 + BTH 12 + XRC ext 4 + AtomicETH 28 + ICRC 4
IBOE_MTU_OVERHEAD = 40 + 8 + 12 + 4 + 28 + 4

_PHYSICAL_ERROR_ACTION = ('physical-layer errors: reseat or replace the cable or transceiver (clean the fibre), '
                          'check the switch port\'s own error counters and the link with mlxlink, then watch '
                          'whether the counter still grows')
_ROCE_RETRANS_ACTION = ('RoCE packets were lost and retransmitted: check that PFC is on for the RoCE priority on '
                        'the NIC and every switch, ECN on that queue, global pause off and the switch drop counters '
                        '(docs/rdma-link-info.md)')

COUNTER_ACTIONS = {
    'symbol_error': _PHYSICAL_ERROR_ACTION,
    'link_error_recovery': _PHYSICAL_ERROR_ACTION,
    'local_link_integrity_errors': _PHYSICAL_ERROR_ACTION,
    'port_rcv_errors': _PHYSICAL_ERROR_ACTION,
    'link_downed': ('the link went down and retrained: check the cable and transceiver and the switch log for '
                    'flaps of this port'),
    'port_xmit_discards': ('packets were dropped on transmit (congestion, or the link or peer went down): '
                           'check the fabric for congestion and down links'),
    'excessive_buffer_overrun_errors': ('the receive buffer overran: check flow control (credits on InfiniBand, '
                                        'PFC on RoCE)'),
    'out_of_buffer': ('packets were dropped because no receive WQE was posted (receiver not ready, not a fabric '
                      'fault): check the application\'s receive queue depth'),
    'rx_icrc_encapsulated': ('RoCE packets arrived with a bad ICRC (corrupted on the way): check the cables and '
                             'switches of the path'),
    'rnr_nak_retry_err': 'the peer was not ready (RNR NAK retries exhausted): check the application on the peer',
}
for _name in ('out_of_sequence', 'packet_seq_err', 'local_ack_timeout_err', 'implied_nak_seq_err',
              'duplicate_request', 'roce_adp_retrans', 'roce_adp_retrans_to', 'roce_slow_restart'):
    COUNTER_ACTIONS[_name] = _ROCE_RETRANS_ACTION
for _name in ('np_cnp_sent', 'np_ecn_marked_roce_packets', 'rp_cnp_handled'):
    COUNTER_ACTIONS[_name] = ('congestion control is acting (ECN marks and CNPs): check the fabric for congestion '
                              'and the ECN thresholds of the switches')
DEFAULT_COUNTER_ACTION = 'look the counter up in the driver documentation and check the link and the fabric'

_STATE_RE = re.compile(r'^\s*(\d+)\s*:\s*(\S.*?)\s*$')
_RATE_RE = re.compile(r'^\s*([0-9]+(?:\.[0-9]+)?)\s*Gb/sec')
_IBV_HCA_RE = re.compile(r'^hca_id:\s*(\S+)')
_IBV_PORT_RE = re.compile(r'^\s+port:\s*(\d+)\s*$')
_IBV_MTU_RE = re.compile(r'^\s+(active_mtu|max_mtu):\s*(\d+)')

DEFAULT_EXPECT = {
    'port_count': None,
    'require_active': True,
    'min_rate_gbps': None,
    'link_layer': None,
    'active_mtu': None,
    'fw_version': None,
    'max_counters': None,
    'roce_ipv4': None,
    'netdev': None,
}


class RdmaParseError(Exception):
    """Tool output that cannot be parsed."""


class SysfsError(Exception):
    """The sysfs root exists but cannot be listed."""


# ---------------------------------------------------------------------------
# small parsers

def read_text(path):
    """Stripped content of a file; None when it is absent or unreadable (EINVAL on unused GID attributes)."""
    try:
        with open(path, 'rb') as fh:
            data = fh.read()
    except (IOError, OSError):
        return None
    return data.decode('utf-8', 'replace').strip()


def read_int(path):
    """Integer content of a counter file; None when absent, unreadable or not a number."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text, 0) if text.lower().startswith('0x') else int(text)
    except ValueError:
        return None


def parse_state(text):
    """``"4: ACTIVE"`` -> (4, ``"ACTIVE"``); ``"5: LinkUp"`` -> (5, ``"LinkUp"``); (None, text) when unnumbered."""
    if text is None:
        return None, None
    match = _STATE_RE.match(text)
    if not match:
        return None, text.strip() or None
    return int(match.group(1)), match.group(2)


def parse_rate(text):
    """``"400 Gb/sec (4X NDR)"`` -> 400.0; None when the text has no Gb/sec value."""
    if not text:
        return None
    match = _RATE_RE.match(text)
    if not match:
        return None
    return float(match.group(1))


def gid_groups(gid):
    """The eight 16-bit groups of a sysfs GID (``fe80:0000:...``) as ints; None when malformed."""
    if not gid:
        return None
    parts = gid.strip().split(':')
    if len(parts) != 8:
        return None
    try:
        groups = [int(part, 16) for part in parts]
    except ValueError:
        return None
    if any(group < 0 or group > 0xffff for group in groups):
        return None
    return groups


def gid_is_zero(gid):
    groups = gid_groups(gid)
    return groups is not None and not any(groups)


def gid_ipv4(gid):
    """IPv4 address of an IPv4-mapped GID (``::ffff:a.b.c.d``); None for any other GID."""
    groups = gid_groups(gid)
    if groups is None or any(groups[:5]) or groups[5] != 0xffff:
        return None
    return '%d.%d.%d.%d' % (groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff)


def iboe_mtu(netdev_mtu):
    """Active MTU of a RoCE port for a netdev MTU, as the kernel's iboe_get_mtu: 9000 -> 4096, 1500 -> 1024."""
    if netdev_mtu is None:
        return None
    usable = netdev_mtu - IBOE_MTU_OVERHEAD
    for mtu in reversed(IB_MTUS):
        if usable >= mtu:
            return mtu
    return None


def parse_rdma_link_json(text):
    """``rdma -j link show`` -> {(device, port): {state, physical_state, netdev, netdev_index}}.

    iproute2 writes ``ifname`` either as the device (``"mlx5_0"``, with ``port``) or, in
    older releases, as ``"mlx5_0/1"``; both are accepted. Raises RdmaParseError.
    """
    try:
        data = json.loads(text or '')
    except ValueError as exc:
        raise RdmaParseError('rdma -j link show output is not valid JSON: %s' % exc)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise RdmaParseError('rdma -j link show output is not a JSON list')
    links = {}
    for entry in data:
        if not isinstance(entry, dict) or not entry.get('ifname'):
            continue
        name = str(entry['ifname'])
        port = entry.get('port')
        if '/' in name:
            name, _sep, tail = name.partition('/')
            if port is None:
                port = tail
        try:
            port = int(port)
        except (TypeError, ValueError):
            continue
        links[(name, port)] = {
            'state': entry.get('state'),
            'physical_state': entry.get('physical_state'),
            'netdev': entry.get('netdev'),
            'netdev_index': entry.get('netdev_index'),
        }
    return links


def parse_ibv_devinfo(text):
    """``ibv_devinfo`` text -> {(device, port): {active_mtu, max_mtu}} (ints, from ``active_mtu: 4096 (5)``)."""
    result = {}
    device = port = None
    for line in (text or '').splitlines():
        match = _IBV_HCA_RE.match(line)
        if match:
            device, port = match.group(1), None
            continue
        match = _IBV_PORT_RE.match(line)
        if match and device:
            port = int(match.group(1))
            result[(device, port)] = {'active_mtu': None, 'max_mtu': None}
            continue
        match = _IBV_MTU_RE.match(line)
        if match and device and port is not None:
            result[(device, port)][match.group(1)] = int(match.group(2))
    return result


# ---------------------------------------------------------------------------
# sysfs

def _sorted_entries(path):
    try:
        names = os.listdir(path)
    except (IOError, OSError):
        return []
    return sorted(names, key=lambda name: (0, int(name), name) if name.isdigit() else (1, 0, name))


def device_netdevs(device_dir):
    """{dev_port: netdev} of the PCI function (``device/net/*/dev_port``; dev_port 0 when unreadable)."""
    result = {}
    net_dir = os.path.join(device_dir, 'device', 'net')
    for name in _sorted_entries(net_dir):
        dev_port = read_int(os.path.join(net_dir, name, 'dev_port'))
        result.setdefault(dev_port if dev_port is not None else 0, name)
    return result


def read_gids(port_dir):
    """Non-zero GIDs of a port: [{index, gid, type, netdev, ipv4}]."""
    gids = []
    gid_dir = os.path.join(port_dir, 'gids')
    for name in _sorted_entries(gid_dir):
        if not name.isdigit():
            continue
        gid = read_text(os.path.join(gid_dir, name))
        if gid is None or gid_is_zero(gid):
            continue
        gids.append({
            'index': int(name),
            'gid': gid,
            'type': read_text(os.path.join(port_dir, 'gid_attrs', 'types', name)),
            'netdev': read_text(os.path.join(port_dir, 'gid_attrs', 'ndevs', name)) or None,
            'ipv4': gid_ipv4(gid),
        })
    return gids


def read_counters(port_dir, extra=()):
    """The known error counters plus ``extra`` names: {name: int or None}; counters/ first, then hw_counters/."""
    counters = {}
    for name in PORT_COUNTERS:
        counters[name] = read_int(os.path.join(port_dir, 'counters', name))
    for name in HW_COUNTERS:
        counters[name] = read_int(os.path.join(port_dir, 'hw_counters', name))
    for name in extra:
        if name in counters or '/' in name or name.startswith('.'):
            continue
        value = read_int(os.path.join(port_dir, 'counters', name))
        if value is None:
            value = read_int(os.path.join(port_dir, 'hw_counters', name))
        counters[name] = value
    return counters


def read_port(device_dir, port_name, netdev_root, netdevs_by_dev_port, rdma_links=None, devinfo=None,
              extra_counters=()):
    device = os.path.basename(device_dir.rstrip(os.sep))
    port_dir = os.path.join(device_dir, 'ports', port_name)
    port = int(port_name)
    state_code, state = parse_state(read_text(os.path.join(port_dir, 'state')))
    phys_code, phys_state = parse_state(read_text(os.path.join(port_dir, 'phys_state')))
    rate = read_text(os.path.join(port_dir, 'rate'))
    link_layer = read_text(os.path.join(port_dir, 'link_layer'))
    gids = read_gids(port_dir)
    tool = (rdma_links or {}).get((device, port)) or {}
    if state is None and tool.get('state'):
        state = tool['state']
    netdev, netdev_source = None, None
    if tool.get('netdev'):
        netdev, netdev_source = tool['netdev'], 'rdma'
    else:
        for gid in gids:
            if gid['netdev']:
                netdev, netdev_source = gid['netdev'], 'gid_attrs'
                break
        else:
            if port - 1 in netdevs_by_dev_port:
                netdev, netdev_source = netdevs_by_dev_port[port - 1], 'device'
            elif len(netdevs_by_dev_port) == 1:
                netdev, netdev_source = list(netdevs_by_dev_port.values())[0], 'device'
    netdev_mtu = read_int(os.path.join(netdev_root, netdev, 'mtu')) if netdev and netdev_root else None
    mtus = (devinfo or {}).get((device, port)) or {}
    active_mtu, active_mtu_source = mtus.get('active_mtu'), None
    if active_mtu is not None:
        active_mtu_source = 'ibv_devinfo'
    elif link_layer == 'Ethernet' and netdev_mtu is not None:
        active_mtu, active_mtu_source = iboe_mtu(netdev_mtu), 'netdev_mtu'
    return {
        'port': port,
        'state': state,
        'state_code': state_code,
        'phys_state': phys_state,
        'phys_state_code': phys_code,
        'rdma_state': tool.get('state'),
        'rdma_physical_state': tool.get('physical_state'),
        'rate': rate,
        'rate_gbps': parse_rate(rate),
        'link_layer': link_layer,
        'netdev': netdev,
        'netdev_source': netdev_source,
        'netdev_mtu': netdev_mtu,
        'active_mtu': active_mtu,
        'active_mtu_source': active_mtu_source,
        'max_mtu': mtus.get('max_mtu'),
        'gids': gids,
        'counters': read_counters(port_dir, extra_counters),
    }


def select_devices(names, patterns):
    """Device names matching any glob pattern (all when ``patterns`` is empty), and patterns that matched nothing."""
    if not patterns:
        return list(names), []
    selected = [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]
    unmatched = [pattern for pattern in patterns if not any(fnmatch.fnmatchcase(name, pattern) for name in names)]
    return selected, unmatched


def list_devices(sysfs_root):
    """Device names under the sysfs root; [] when it does not exist; SysfsError when it cannot be listed."""
    if not os.path.exists(sysfs_root):
        return []
    if not os.path.isdir(sysfs_root):
        raise SysfsError('%s is not a directory' % sysfs_root)
    try:
        names = os.listdir(sysfs_root)
    except (IOError, OSError) as exc:
        raise SysfsError('cannot list %s: %s' % (sysfs_root, exc))
    return sorted(name for name in names if not name.startswith('.'))


def read_device(sysfs_root, name, netdev_root=None, rdma_links=None, devinfo=None, extra_counters=()):
    device_dir = os.path.join(sysfs_root, name)
    netdevs = device_netdevs(device_dir)
    ports = [read_port(device_dir, port, netdev_root, netdevs, rdma_links, devinfo, extra_counters)
             for port in _sorted_entries(os.path.join(device_dir, 'ports')) if port.isdigit()]
    return {
        'name': name,
        'fw_ver': read_text(os.path.join(device_dir, 'fw_ver')),
        'board_id': read_text(os.path.join(device_dir, 'board_id')),
        'hca_type': read_text(os.path.join(device_dir, 'hca_type')),
        'node_guid': read_text(os.path.join(device_dir, 'node_guid')),
        'ports': ports,
    }


def read_devices(sysfs_root, netdev_root=None, rdma_links=None, devinfo=None, patterns=None, extra_counters=()):
    """({'devices': [...], 'unmatched': [patterns]}); raises SysfsError for an unreadable root."""
    names, unmatched = select_devices(list_devices(sysfs_root), patterns)
    devices = [read_device(sysfs_root, name, netdev_root, rdma_links, devinfo, extra_counters) for name in names]
    return {'devices': devices, 'unmatched': unmatched}


# ---------------------------------------------------------------------------
# rules

def _port_label(device, port):
    label = '%s port %s' % (device['name'], port['port'])
    if port.get('netdev'):
        label += ' (%s)' % port['netdev']
    return label


def _fmt_rate(value):
    return ('%g' % value) if value is not None else 'unknown'


def _check_state(port, reasons):
    state, phys = port.get('state'), port.get('phys_state')
    if state == 'ACTIVE' and phys == 'LinkUp':
        return
    shown = 'state %s, physical state %s' % (
        '"%s: %s"' % (port.get('state_code'), state) if port.get('state_code') is not None else state,
        '"%s: %s"' % (port.get('phys_state_code'), phys) if port.get('phys_state_code') is not None else phys)
    phys_lower = (phys or '').lower()
    ethernet = port.get('link_layer') == 'Ethernet'
    if phys_lower == 'disabled':
        if ethernet:
            action = ('the port is disabled: bring the netdev up (ip link set %s up) and check that the switch '
                      'port is not shut down' % (port.get('netdev') or '<netdev>'))
        else:
            action = ('the port is disabled: enable it (ibportstate <lid> %s enable) and check that the switch '
                      'port is not disabled' % port['port'])
    elif phys_lower == 'polling':
        action = ('no link partner: check that the cable is seated at both ends, the transceiver is supported, '
                  'and the switch port is up and set to a matching speed')
    elif phys_lower == 'linkerrorrecovery':
        action = 'the link is in error recovery: reseat or replace the cable and transceiver'
    elif phys_lower == 'linkup' and state in ('INIT', 'ARMED'):
        action = ('the physical link is up but no subnet manager has activated the port: check that OpenSM or '
                  'UFM runs on the fabric and sees this port (sminfo, ibstat)')
    elif state is None and phys is None:
        action = 'sysfs has no state for the port: check the driver (dmesg, lsmod | grep mlx5_ib)'
    else:
        action = 'check the cable, the transceiver and the switch port, and dmesg for mlx5 link messages'
    reasons.append('%s, expected ACTIVE/LinkUp: %s' % (shown, action))


def _check_mtu(port, expected, reasons):
    mtu = port.get('active_mtu')
    if mtu is None or mtu >= expected:
        return
    if port.get('link_layer') == 'Ethernet':
        need = expected + IBOE_MTU_OVERHEAD
        where = ' (netdev MTU %s)' % port['netdev_mtu'] if port.get('netdev_mtu') is not None else ''
        action = ('raise the MTU of %s to 9000 (a RoCE active MTU of %d needs a netdev MTU of at least %d) and '
                  'the switch port MTU above it (9216)' % (port.get('netdev') or 'the netdev', expected, need))
    else:
        where = ''
        action = 'raise the MTU of the partition in the subnet manager (OpenSM partitions.conf mtu=5 for 4096)'
    reasons.append('active MTU %d%s, expected %d: %s' % (mtu, where, expected, action))


def _check_counters(port, limits, reasons, warnings):
    for name in sorted(limits):
        limit = limits[name]
        value = (port.get('counters') or {}).get(name)
        if value is None:
            if not (name in ROCE_ONLY_COUNTERS and port.get('link_layer') == 'InfiniBand'):
                warnings.append('counter %s not found under counters/ or hw_counters/: not checked' % name)
            continue
        if value > limit:
            reasons.append('counter %s is %d (at most %d allowed; counted since the driver loaded): %s'
                           % (name, value, limit, COUNTER_ACTIONS.get(name, DEFAULT_COUNTER_ACTION)))


def evaluate_port(device, port, expect):
    """{healthy, reasons, warnings} of one port against the expectations."""
    reasons, warnings = [], []
    if expect.get('require_active', True):
        _check_state(port, reasons)
    # the rate and MTU of a port that is not up say nothing; its state is the problem
    up = port.get('state') == 'ACTIVE'
    minimum = expect.get('min_rate_gbps')
    if minimum is not None and up:
        rate = port.get('rate_gbps')
        if rate is None:
            reasons.append('rate unknown (%r), expected at least %s Gb/s: check the link (ibstat, ethtool)'
                           % (port.get('rate'), _fmt_rate(minimum)))
        elif rate < minimum:
            reasons.append('link runs at %s, expected at least %s Gb/s: the link trained at a lower speed or '
                           'width: check the cable and transceiver type, reseat them, check the switch port speed '
                           'and the link with mlxlink' % (port.get('rate'), _fmt_rate(minimum)))
    layer = expect.get('link_layer')
    if layer and port.get('link_layer') != layer:
        reasons.append('link layer %s, expected %s: set the port protocol with mlxconfig (LINK_TYPE_P%s: 1 for '
                       'InfiniBand, 2 for Ethernet) and reset the firmware or reboot'
                       % (port.get('link_layer'), layer, port['port']))
    mtu = expect.get('active_mtu')
    if mtu and up:
        if port.get('active_mtu') is None:
            if port.get('link_layer') == 'Ethernet':
                warnings.append('active MTU unknown (no ibv_devinfo and no netdev MTU): not checked')
            else:
                warnings.append('active MTU unknown (ibv_devinfo did not run or did not list the port): not checked')
        else:
            _check_mtu(port, mtu, reasons)
    _check_counters(port, expect.get('max_counters') or {}, reasons, warnings)
    label = _port_label(device, port)
    return {
        'healthy': not reasons,
        'reasons': ['%s: %s' % (label, reason) for reason in reasons],
        'warnings': ['%s: %s' % (label, warning) for warning in warnings],
    }


def find_roce_gid(devices, ipv4=None, netdev=None):
    """(match, candidates) for the RoCE v2 IPv4-mapped GID rule.

    match: {device, port, index, gid, netdev, ipv4} of the first RoCE v2 IPv4-mapped GID with
    that address (any when None) on that netdev (any when None); candidates: every IPv4-mapped
    GID seen, to explain a miss.
    """
    candidates = []
    for device in devices:
        for port in device['ports']:
            for gid in port['gids']:
                if not gid.get('ipv4'):
                    continue
                record = {'device': device['name'], 'port': port['port'], 'index': gid['index'], 'gid': gid['gid'],
                          'type': gid.get('type'), 'netdev': gid.get('netdev') or port.get('netdev'),
                          'ipv4': gid['ipv4']}
                candidates.append(record)
    for record in candidates:
        if record['type'] != 'RoCE v2':
            continue
        if ipv4 and record['ipv4'] != ipv4:
            continue
        if netdev and record['netdev'] != netdev:
            continue
        return record, candidates
    return None, candidates


def _roce_reason(ipv4, netdev, candidates):
    want = 'RoCE v2 GID for %s' % ipv4 if ipv4 else 'RoCE v2 IPv4-mapped GID'
    if netdev:
        want += ' on %s' % netdev
    same_ip = [c for c in candidates if ipv4 and c['ipv4'] == ipv4]
    if same_ip and all(c['type'] != 'RoCE v2' for c in same_ip):
        found = ', '.join('%s port %s index %s (%s)' % (c['device'], c['port'], c['index'], c['type'])
                          for c in same_ip)
        return ('no %s: the address only has RoCE v1 GIDs (%s): RoCE v2 needs ConnectX-4 or later with a '
                'current mlx5 driver and firmware; use a RoCE v2 capable NIC or update the driver' % (want, found))
    if same_ip:
        found = ', '.join('%s port %s index %s on %s' % (c['device'], c['port'], c['index'], c['netdev'])
                          for c in same_ip if c['type'] == 'RoCE v2')
        return ('no %s: the address is bound to another netdev (%s): move the address to %s, or fix '
                'expected_netdev' % (want, found, netdev))
    if netdev and any(c['netdev'] == netdev and c['type'] == 'RoCE v2' for c in candidates) and ipv4:
        have = sorted(set(c['ipv4'] for c in candidates if c['netdev'] == netdev and c['type'] == 'RoCE v2'))
        return ('no %s: %s has RoCE v2 GIDs for %s only: assign %s to %s (ip addr add %s/<prefix> dev %s) or fix '
                'expected_roce_ipv4' % (want, netdev, ', '.join(have), ipv4, netdev, ipv4, netdev))
    target = netdev or 'the fabric netdev'
    return ('no %s: the kernel creates RoCE GIDs from the IP addresses of the netdev: check that %s is up and '
            'has the address (ip -br addr show %s) and that its RDMA port is ACTIVE' % (want, target, target))


def evaluate(devices, expect, unmatched=()):
    """Verdicts: {healthy, node_reasons, roce_gid, devices: [device with healthy/reasons and port verdicts]}."""
    full = dict(DEFAULT_EXPECT)
    full.update(dict((key, value) for key, value in (expect or {}).items() if value is not None))
    expect = full
    node_reasons = []
    for pattern in unmatched:
        node_reasons.append('no RDMA device matches %r: check that the HCA is present (lspci -d 15b3:) and its '
                            'driver is loaded (lsmod | grep mlx5_ib), or fix the devices option' % pattern)
    if not devices and not unmatched:
        node_reasons.append('no RDMA device found: check that the HCA is present (lspci -d 15b3:), load the driver '
                            '(modprobe mlx5_ib) and look at dmesg')
    ports_total = sum(len(device['ports']) for device in devices)
    if expect['port_count'] is not None and ports_total != expect['port_count']:
        node_reasons.append('%d RDMA ports found, expected %s: check that every HCA is seen (lspci -d 15b3:), '
                            'its firmware and driver loaded (dmesg), and the port protocol (mlxconfig LINK_TYPE)'
                            % (ports_total, expect['port_count']))
    result_devices = []
    for device in devices:
        reasons = []
        if expect['fw_version'] and device.get('fw_ver') != expect['fw_version']:
            reasons.append('%s: firmware %s, expected %s: update the firmware (mlxfwmanager or mstflint) and reset '
                           'the device or reboot' % (device['name'], device.get('fw_ver'), expect['fw_version']))
        ports = []
        for port in device['ports']:
            verdict = evaluate_port(device, port, expect)
            record = dict(port)
            record.update(verdict)
            ports.append(record)
        record = dict(device)
        record['ports'] = ports
        record['reasons'] = reasons
        record['healthy'] = not reasons and all(port['healthy'] for port in ports)
        result_devices.append(record)
    roce_gid = None
    if expect['roce_ipv4'] or expect['netdev']:
        roce_gid, candidates = find_roce_gid(devices, expect['roce_ipv4'], expect['netdev'])
        if roce_gid is None:
            node_reasons.append(_roce_reason(expect['roce_ipv4'], expect['netdev'], candidates))
    else:
        roce_gid, _candidates = find_roce_gid(devices)
    healthy = not node_reasons and all(device['healthy'] for device in result_devices)
    return {
        'healthy': healthy,
        'node_reasons': node_reasons,
        'roce_gid': roce_gid,
        'devices': result_devices,
        'port_count': ports_total,
    }
