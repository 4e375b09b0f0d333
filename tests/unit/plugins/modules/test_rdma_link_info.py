# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs rdma_link_info's main() on fixture sysfs trees, with its commands answered from fixtures."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.aifabric.cluster.plugins.modules import rdma_link_info
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main, warning_texts

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'rdma')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def roots(name):
    return {'sysfs_root': os.path.join(FIXTURES, name, 'infiniband'),
            'netdev_sysfs_root': os.path.join(FIXTURES, name, 'net')}


def run(monkeypatch, capsys, args, table, bins=('rdma', 'ibv_devinfo')):
    """main() with run_command answered from ``table`` (keyed by the binary's name) and only ``bins`` on PATH."""
    calls = []

    def run_command(module, cmd, **kwargs):
        calls.append(list(cmd))
        name = os.path.basename(cmd[0])
        if name not in table:
            raise AssertionError('unexpected command %r' % (cmd,))
        return table[name]
    result = run_main(monkeypatch, capsys, rdma_link_info, args, run_command, bins)
    result['_calls'] = calls
    return result


def test_ib_ndr_with_tools(monkeypatch, capsys):
    args = dict(roots('ib-ndr'), expected_port_count=2, expected_link_layer='InfiniBand', min_rate_gbps=400,
                expected_fw_version='28.39.1002', max_counters={'symbol_error': 0, 'link_downed': 0})
    result = run(monkeypatch, capsys, args, {
        'rdma': (0, fixture('rdma-link-ib-old.json'), ''),
        'ibv_devinfo': (0, fixture('ibv_devinfo-ib-ndr.txt'), ''),
    })
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['healthy'] is True, result
    assert result['node_reasons'] == []
    assert result['sources'] == ['sysfs', 'rdma', 'ibv_devinfo']
    assert (result['device_count'], result['port_count']) == (2, 2)
    assert result['_calls'] == [['/usr/bin/rdma', '-j', 'link', 'show'], ['/usr/bin/ibv_devinfo']]
    device = result['devices'][0]
    assert (device['name'], device['fw_ver'], device['board_id'], device['hca_type']) == (
        'mlx5_0', '28.39.1002', 'MT_0000000838', 'MT4129')
    port = device['ports'][0]
    assert (port['state'], port['state_code'], port['phys_state'], port['phys_state_code']) == (
        'ACTIVE', 4, 'LinkUp', 5)
    assert (port['netdev'], port['netdev_source'], port['active_mtu'], port['active_mtu_source']) == (
        'ibp24s0', 'rdma', 4096, 'ibv_devinfo')
    assert result['roce_gid'] is None


def test_roce_gate(monkeypatch, capsys):
    args = dict(roots('roce'), devices=['mlx5_0'], expected_link_layer='Ethernet', min_rate_gbps=400,
                expected_active_mtu=4096, expected_roce_ipv4='10.10.1.11', expected_netdev='ens1f0np0',
                max_counters={'roce_adp_retrans': 1000, 'local_ack_timeout_err': 0, 'rp_cnp_ignored': 0})
    result = run(monkeypatch, capsys, args, {'rdma': (0, fixture('rdma-link-roce.json'), '')}, bins=('rdma',))
    assert result['_rc'] == 0
    assert result['healthy'] is True, result
    assert result['sources'] == ['sysfs', 'rdma']
    assert result['device_count'] == 1
    assert result['roce_gid']['index'] == 3 and result['roce_gid']['ipv4'] == '10.10.1.11'
    port = result['devices'][0]['ports'][0]
    assert (port['active_mtu'], port['active_mtu_source'], port['netdev_source']) == (4096, 'netdev_mtu', 'rdma')
    assert port['counters']['rp_cnp_ignored'] == 0  # extra counter named in max_counters


def test_roce_unhealthy_reports(monkeypatch, capsys):
    args = dict(roots('roce'), expected_active_mtu=4096, expected_roce_ipv4='10.10.1.12', use_tools=False)
    result = run(monkeypatch, capsys, args, {})
    assert result['_rc'] == 0
    assert result['_calls'] == []
    assert result['sources'] == ['sysfs']
    assert result['healthy'] is False
    assert result['node_reasons'][0].startswith('no RoCE v2 GID for 10.10.1.12: ')
    assert result['devices'][1]['healthy'] is False
    assert 'active MTU 1024 (netdev MTU 1500)' in result['devices'][1]['ports'][0]['reasons'][0]


def test_fail_on_unhealthy(monkeypatch, capsys):
    args = dict(roots('degraded'), devices=['mlx5_0'], fail_on_unhealthy=True, use_tools=False)
    result = run(monkeypatch, capsys, args, {})
    assert result['_rc'] == 1
    assert result['failed'] is True
    assert result['healthy'] is False
    assert result['msg'].startswith('RDMA links unhealthy: mlx5_0 port 1 (ibp24s0): state "1: DOWN", physical state '
                                    '"3: Disabled", expected ACTIVE/LinkUp')
    assert result['devices'][0]['ports'][0]['healthy'] is False


def test_missing_tools_do_not_fail(monkeypatch, capsys):
    result = run(monkeypatch, capsys, roots('degraded'), {}, bins=())
    assert result['_rc'] == 0
    assert result['sources'] == ['sysfs'] and result['_calls'] == []
    assert result['device_count'] == 4
    counters = result['devices'][1]['ports'][0]['counters']
    assert counters['symbol_error'] is None and counters['out_of_buffer'] is None and counters['link_downed'] == 3


def test_failing_tools_warn(monkeypatch, capsys):
    result = run(monkeypatch, capsys, roots('roce'), {
        'rdma': (0, 'link mlx5_0/1 state ACTIVE physical_state LINK_UP netdev ens1f0np0\n', ''),
        'ibv_devinfo': (255, '', 'Failed to get IB devices list: Function not implemented'),
    })
    assert result['_rc'] == 0
    assert result['sources'] == ['sysfs']
    texts = warning_texts(result)
    assert len(texts) == 2
    assert texts[0].startswith('rdma -j link show output is not valid JSON')
    assert texts[1] == ('/usr/bin/ibv_devinfo failed (rc 255): Failed to get IB devices list: Function not '
                        'implemented; active MTU derived from the netdev MTU')
    assert result['devices'][0]['ports'][0]['netdev_source'] == 'gid_attrs'


def test_rdma_failure_warns(monkeypatch, capsys):
    result = run(monkeypatch, capsys, dict(roots('roce'), rdma_path='/opt/iproute2/rdma'), {
        'rdma': (1, '', 'Failed to connect to netlink'),
    }, bins=())
    assert result['_calls'] == [['/opt/iproute2/rdma', '-j', 'link', 'show']]
    assert warning_texts(result) == ['/opt/iproute2/rdma -j link show failed (rc 1): Failed to connect to netlink; '
                                     'netdevs from sysfs']


def test_absent_sysfs_root(monkeypatch, capsys, tmp_path):
    result = run(monkeypatch, capsys, {'sysfs_root': str(tmp_path / 'infiniband'), 'use_tools': False}, {})
    assert result['_rc'] == 0
    assert result['healthy'] is False
    assert result['devices'] == [] and result['device_count'] == 0
    assert result['node_reasons'][0].startswith('no RDMA device found')


def test_sysfs_root_not_a_directory(monkeypatch, capsys, tmp_path):
    path = tmp_path / 'infiniband'
    path.write_text('')
    result = run(monkeypatch, capsys, {'sysfs_root': str(path), 'use_tools': False}, {})
    assert result['failed'] is True
    assert result['msg'] == 'cannot read the RDMA devices: %s is not a directory' % path


@pytest.mark.parametrize('args, message', [
    ({'expected_port_count': -1}, 'expected_port_count must be 0 or more'),
    ({'max_counters': {'symbol_error': 'many'}}, 'max_counters: the limit of symbol_error must be an integer'),
    ({'max_counters': {'../state': 0}}, "max_counters: '../state' is not a counter name"),
    ({'expected_roce_ipv4': '10.10.1'}, 'expected_roce_ipv4 must be an IPv4 address'),
    ({'expected_roce_ipv4': '10.10.1.300'}, 'expected_roce_ipv4 must be an IPv4 address'),
])
def test_bad_options(monkeypatch, capsys, args, message):
    result = run(monkeypatch, capsys, dict(roots('roce'), use_tools=False, **args), {})
    assert result['failed'] is True
    assert message in result['msg']


def test_check_mode(monkeypatch, capsys):
    result = run(monkeypatch, capsys, dict(roots('ib-ndr'), _ansible_check_mode=True), {
        'rdma': (0, fixture('rdma-link-ib-old.json'), ''),
        'ibv_devinfo': (0, fixture('ibv_devinfo-ib-ndr.txt'), ''),
    })
    assert result['_rc'] == 0 and result['changed'] is False and result['healthy'] is True
