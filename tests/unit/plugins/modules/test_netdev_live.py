# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netdev_live's main() against a simulated `ip`: drift restored, reported in check mode, diff shown."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible_collections.aifabric.cluster.plugins.modules import netdev_live
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main


class FakeIp(object):
    def __init__(self, mtu, addrs):
        self.mtu, self.addrs, self.calls = mtu, list(addrs), []

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(cmd[1:])
        if cmd[1:4] == ['-j', 'addr', 'show']:
            info = [{'family': 'inet', 'local': a.split('/')[0], 'prefixlen': int(a.split('/')[1])} for a in self.addrs]
            return 0, json.dumps([{'ifname': 'eth1', 'mtu': self.mtu, 'operstate': 'UP', 'address': '0a:af:02:00:00:65',
                                   'addr_info': info}]), ''
        if cmd[1:3] == ['link', 'set']:
            self.mtu = int(cmd[-1])
            return 0, '', ''
        if cmd[1:3] == ['addr', 'add']:
            self.addrs.append(cmd[3])
            return 0, '', ''
        raise AssertionError(cmd)


ARGS = {'netdev': 'eth1', 'mtu': 9000, 'addresses': ['10.232.0.101/24']}


def test_restores_drift_and_shows_the_diff(monkeypatch, capsys):
    ip = FakeIp(1500, [])
    result = run_main(monkeypatch, capsys, netdev_live, dict(ARGS, _ansible_diff=True), ip, bins=('ip',))
    assert result['changed'] is True and result['_rc'] == 0
    assert result['drift'] == ['eth1: mtu 1500 -> 9000', 'eth1: address 10.232.0.101/24 added']
    assert (ip.mtu, ip.addrs) == (9000, ['10.232.0.101/24'])
    assert result['diff']['before']['mtu'] == 1500 and result['diff']['after']['mtu'] == 9000


def test_check_mode_reports_and_changes_nothing(monkeypatch, capsys):
    ip = FakeIp(1500, ['10.232.0.101/24'])
    result = run_main(monkeypatch, capsys, netdev_live, dict(ARGS, _ansible_check_mode=True), ip, bins=('ip',))
    assert result['changed'] is True and result['drift'] == ['eth1: mtu 1500 -> 9000']
    assert ip.mtu == 1500 and result['state']['mtu'] == 9000
    assert [c for c in ip.calls if c[0] != '-j'] == []


def test_in_line_with_the_intent(monkeypatch, capsys):
    ip = FakeIp(9000, ['10.232.0.101/24', '10.9.9.9/32'])
    result = run_main(monkeypatch, capsys, netdev_live, ARGS, ip, bins=('ip',))
    assert result['changed'] is False and result['drift'] == []


def test_failures_name_the_netdev(monkeypatch, capsys):
    def broken(module, cmd, **kwargs):
        return 1, '', 'Device "eth1" does not exist.'
    result = run_main(monkeypatch, capsys, netdev_live, ARGS, broken, bins=('ip',))
    assert result['failed'] is True and result['msg'].startswith('eth1: ip -j addr show failed (rc 1): Device')
