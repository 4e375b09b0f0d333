# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils.ip_link import IpLinkError, parse_addr_show, plan

# iproute2 6.1 (Debian 12), `ip -j addr show dev eth1` of a ConnectX port at MTU 1500 (drifted)
SAMPLE = ('[{"ifindex":3,"link_index":4,"ifname":"eth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],'
          '"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether",'
          '"address":"0a:af:02:00:00:65","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":['
          '{"family":"inet","local":"10.232.0.101","prefixlen":24,"broadcast":"10.232.0.255","scope":"global",'
          '"label":"eth1","valid_life_time":4294967295,"preferred_life_time":4294967295},'
          '{"family":"inet6","local":"fe80::8af:2ff:fe00:65","prefixlen":64,"scope":"link",'
          '"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]')
# iproute2 4.18 (EL 8) prints the same keys; a link without addresses has an empty addr_info
BARE = '[{"ifindex":5,"ifname":"ens1f0np0","flags":["BROADCAST","MULTICAST"],"mtu":9000,"operstate":"DOWN","address":"b8:3f:d2:aa:bb:cc","addr_info":[]}]'


def test_parse():
    state = parse_addr_show(SAMPLE, 'eth1')
    assert state == {'netdev': 'eth1', 'mtu': 1500, 'operstate': 'UP', 'mac': '0a:af:02:00:00:65',
                     'ipv4': ['10.232.0.101/24'], 'ipv6': ['fe80::8af:2ff:fe00:65/64']}
    assert parse_addr_show(BARE, 'ens1f0np0')['ipv4'] == []


@pytest.mark.parametrize('text', ['not json', '[]', '{"ifname": "eth1"}'])
def test_parse_errors(text):
    with pytest.raises(IpLinkError, match='eth1'):
        parse_addr_show(text, 'eth1')


def test_plan_restores_mtu_and_missing_address_only():
    state = parse_addr_show(SAMPLE, 'eth1')
    steps, after = plan(state, 9000, ['10.232.0.101/24'])
    assert steps == [('mtu 1500 -> 9000', ['link', 'set', 'dev', 'eth1', 'mtu', '9000'])]
    assert after['mtu'] == 9000 and state['mtu'] == 1500
    steps, after = plan(parse_addr_show(BARE, 'ens1f0np0'), 9000, ['10.0.0.5/24', 'fd00::5/64'])
    assert [s[0] for s in steps] == ['address 10.0.0.5/24 added', 'address fd00::5/64 added']
    assert after['ipv6'] == ['fd00::5/64']
    assert plan(state, None, [])[0] == []
