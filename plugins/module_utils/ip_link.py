# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live state of a netdev from iproute2's JSON output (``ip -j addr show dev X``).

iproute2 has printed JSON since 4.14 (Debian 10, EL 8): a list with one object per link,
``ifname``, ``mtu``, ``operstate``, ``address`` (the MAC) and ``addr_info`` (``family``
inet/inet6, ``local``, ``prefixlen``). Pure functions: nothing here runs a command.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json


class IpLinkError(Exception):
    pass


def parse_addr_show(text, netdev):
    """``ip -j addr show dev NETDEV`` -> {netdev, mtu, operstate, mac, ipv4: [cidr], ipv6: [cidr]}."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise IpLinkError("ip -j addr show dev %s: not JSON (%s)" % (netdev, exc))
    links = [link for link in data if isinstance(link, dict) and link.get('ifname') == netdev] if isinstance(data, list) else []
    if not links:
        raise IpLinkError("ip -j addr show dev %s: no such link in the output" % netdev)
    link = links[0]
    state = {'netdev': netdev, 'mtu': link.get('mtu'), 'operstate': link.get('operstate'),
             'mac': link.get('address'), 'ipv4': [], 'ipv6': []}
    for addr in link.get('addr_info') or []:
        family = {'inet': 'ipv4', 'inet6': 'ipv6'}.get(addr.get('family'))
        if family and addr.get('local') is not None:
            state[family].append('%s/%s' % (addr['local'], addr.get('prefixlen')))
    return state


def plan(state, mtu=None, addresses=None):
    """What to change so the live link has ``mtu`` and every address of ``addresses``
    (IPv4 or IPv6 CIDRs): a list of (what, iproute2 argv tail) and the state after."""
    after = dict(state, ipv4=list(state['ipv4']), ipv6=list(state['ipv6']))
    steps = []
    if mtu is not None and state.get('mtu') != mtu:
        steps.append(('mtu %s -> %d' % (state.get('mtu'), mtu), ['link', 'set', 'dev', state['netdev'], 'mtu', str(mtu)]))
        after['mtu'] = mtu
    for cidr in addresses or []:
        family = 'ipv6' if ':' in cidr else 'ipv4'
        if cidr not in state[family]:
            steps.append(('address %s added' % cidr, ['addr', 'add', cidr, 'dev', state['netdev']]))
            after[family].append(cidr)
    return steps, after
