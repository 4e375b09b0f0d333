# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roce_qos main() with mlnx_qos/ethtool answered from fixtures and a sysfs/configfs tree in tmp_path."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.aifabric.cluster.plugins.modules import roce_qos
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'connectx')


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


class Host(object):
    """mlnx_qos answers from a list of reports (one per -i call), ethtool from a table."""

    def __init__(self, reports, ethtool_a):
        self.reports = list(reports)
        self.ethtool_a = ethtool_a
        self.calls = []

    def __call__(self, module, args, **kwargs):
        self.calls.append(list(args))
        name = os.path.basename(args[0])
        if name == 'mlnx_qos':
            if len(args) == 3:
                return (0, self.reports.pop(0), '') if self.reports else (1, '', 'no more reports')
            return 0, 'report', ''
        if name == 'ethtool' and args[1] == '-a':
            return self.ethtool_a
        if name == 'ethtool' and args[1] == '-A':
            return 0, '', ''
        raise AssertionError('unexpected command %r' % (args,))


def tree(tmp_path, netdev='ens1f0np0', ecn='1', group=True):
    sysfs = tmp_path / 'sys'
    port = sysfs / 'class/infiniband/mlx5_0/ports/1'
    (port / 'gid_attrs/ndevs').mkdir(parents=True)
    (port / 'gid_attrs/ndevs/0').write_text(netdev + '\n')
    for kind in ('roce_np', 'roce_rp'):
        (sysfs / 'class/net' / netdev / 'ecn' / kind / 'enable').mkdir(parents=True)
        for p in range(8):
            (sysfs / 'class/net' / netdev / 'ecn' / kind / 'enable' / str(p)).write_text(ecn + '\n')
    (sysfs / 'class/net' / netdev / 'ecn/roce_np/cnp_dscp').write_text('48\n')
    (sysfs / 'class/net' / netdev / 'ecn/roce_np/cnp_802p_prio').write_text('6\n')
    cfg = tmp_path / 'configfs'
    (cfg / 'rdma_cm').mkdir(parents=True)
    if group:
        pdir = cfg / 'rdma_cm/mlx5_0/ports/1'
        pdir.mkdir(parents=True)
        (pdir / 'default_roce_mode').write_text('IB/RoCE v1\n')
        (pdir / 'default_roce_tos').write_text('0\n')
    return sysfs, cfg


def run(monkeypatch, capsys, args, host, check=False):
    monkeypatch.setattr(roce_qos, 'CONFIGFS_WAIT_S', 0.1)
    return run_main(monkeypatch, capsys, roce_qos, dict(args, _ansible_check_mode=check, _ansible_diff=True), host)


ARGS = {'netdev': 'ens1f0np0', 'pfc_priorities': [3], 'dscp2prio': {'26': 3, '48': 6}, 'ecn_priorities': [3],
        'cnp_dscp': 48, 'cnp_priority': 6, 'roce_tos': 106}


def applied_report():
    text = fixture('mlnx_qos-cx7-dscp-pfc5-ets.txt')
    text = text.replace('\tprio:5 dscp:40,47,46,45,44,43,42,41,\n', '\tprio:5 dscp:47,46,45,44,43,42,41,40,\n')
    return text.replace('enabled     0   0   0   0   0   1', 'enabled     0   0   0   1   0   0')


def test_from_defaults_changes_everything(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path)
    host = Host([fixture('mlnx_qos-pcp-default.txt'), applied_report()], (0, fixture('ethtool-a-on.txt'), ''))
    r = run(monkeypatch, capsys, dict(ARGS, sysfs_root=str(sysfs), configfs_root=str(cfg)), host)
    assert r['_rc'] == 0 and r['changed'] is True, r
    assert ['/usr/bin/mlnx_qos', '-i', 'ens1f0np0', '--trust', 'dscp'] in host.calls
    assert ['/usr/bin/mlnx_qos', '-i', 'ens1f0np0', '--pfc', '0,0,0,1,0,0,0,0'] in host.calls
    assert ['/usr/bin/ethtool', '-A', 'ens1f0np0', 'rx', 'off', 'tx', 'off'] in host.calls
    assert not any('--dscp2prio' in c for c in host.calls)  # 26->3, 48->6 is the firmware map
    ecn = sysfs / 'class/net/ens1f0np0/ecn'
    assert [(ecn / 'roce_rp/enable' / str(p)).read_text() for p in range(8)] == \
        ['1\n' if p == 3 else '0\n' for p in range(8)]
    pdir = cfg / 'rdma_cm/mlx5_0/ports/1'
    assert (pdir / 'default_roce_mode').read_text() == 'RoCE v2\n'
    assert (pdir / 'default_roce_tos').read_text() == '106\n'
    assert r['diff']['before']['global_pause'] == {'rx': True, 'tx': True}
    assert r['diff']['after']['global_pause'] == {'rx': False, 'tx': False}
    assert r['diff']['before']['roce_tos'] == 0 and r['diff']['after']['roce_tos'] == 106
    assert r['rdma_device'] == 'mlx5_0' and r['rdma_port'] == 1


def test_in_place_is_unchanged(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path, ecn='0')
    (sysfs / 'class/net/ens1f0np0/ecn/roce_np/enable/3').write_text('1\n')
    (sysfs / 'class/net/ens1f0np0/ecn/roce_rp/enable/3').write_text('1\n')
    (cfg / 'rdma_cm/mlx5_0/ports/1/default_roce_mode').write_text('RoCE v2\n')
    (cfg / 'rdma_cm/mlx5_0/ports/1/default_roce_tos').write_text('106\n')
    host = Host([applied_report()], (1, '', fixture('ethtool-a-veth.stderr')))
    r = run(monkeypatch, capsys, dict(ARGS, sysfs_root=str(sysfs), configfs_root=str(cfg)), host)
    assert r['_rc'] == 0 and r['changed'] is False and r['commands'] == [], r
    assert r['state']['global_pause'] == 'unsupported'
    assert len(host.calls) == 2  # mlnx_qos -i, ethtool -a


def test_check_mode_changes_nothing(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path, group=False)
    host = Host([fixture('mlnx_qos-pcp-default.txt')], (0, fixture('ethtool-a-on.txt'), ''))
    r = run(monkeypatch, capsys, dict(ARGS, sysfs_root=str(sysfs), configfs_root=str(cfg)), host, check=True)
    assert r['_rc'] == 0 and r['changed'] is True
    assert [c for c in host.calls if len(c) > 3 and os.path.basename(c[0]) == 'mlnx_qos'] == []
    assert ['/usr/bin/ethtool', '-A', 'ens1f0np0', 'rx', 'off', 'tx', 'off'] not in host.calls
    assert (sysfs / 'class/net/ens1f0np0/ecn/roce_np/enable/0').read_text() == '1\n'
    assert not (cfg / 'rdma_cm/mlx5_0').exists()
    assert r['diff']['before']['roce_mode'] is None and r['diff']['after']['roce_mode'] == 'RoCE v2'
    assert 'mkdir %s' % (cfg / 'rdma_cm/mlx5_0') in r['commands']


def test_global_pause_true_on_a_device_without_pause_fails(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path)
    host = Host([applied_report()], (1, '', fixture('ethtool-a-veth.stderr')))
    r = run(monkeypatch, capsys, {'netdev': 'ens1f0np0', 'global_pause': True, 'sysfs_root': str(sysfs),
                                  'configfs_root': str(cfg)}, host)
    assert r['_rc'] == 1 and 'no pause parameters' in r['msg']


def test_failures(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path)
    host = Host([], (0, fixture('ethtool-a-off.txt'), ''))
    host.reports = None
    r = run(monkeypatch, capsys, dict(ARGS, trust='pcp', sysfs_root=str(sysfs), configfs_root=str(cfg)), host)
    assert r['_rc'] == 1 and 'dscp2prio needs trust=dscp' in r['msg']
    r = run(monkeypatch, capsys, dict(ARGS, pfc_priorities=[8], sysfs_root=str(sysfs)), host)
    assert r['_rc'] == 1 and 'priorities are 0-7' in r['msg']
    r = run(monkeypatch, capsys, dict(ARGS, dscp2prio={'64': 1}, sysfs_root=str(sysfs)), host)
    assert r['_rc'] == 1 and 'DSCP must be 0-63' in r['msg']

    class NoDcb(Host):
        def __call__(self, module, args, **kwargs):
            return 1, fixture('mlnx_qos-not-supported.txt'), ''
    r = run(monkeypatch, capsys, dict(ARGS, sysfs_root=str(sysfs), configfs_root=str(cfg)), NoDcb([], None))
    assert r['_rc'] == 1 and 'ETS features are not supported' in r['msg']


def test_readback_mismatch_fails(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path)
    default = fixture('mlnx_qos-pcp-default.txt')
    host = Host([default, default], (0, fixture('ethtool-a-off.txt'), ''))
    r = run(monkeypatch, capsys, dict(ARGS, sysfs_root=str(sysfs), configfs_root=str(cfg)), host)
    assert r['_rc'] == 1 and 'after the change' in r['msg']


def test_rdma_device_from_ibdev2netdev_and_missing_port(monkeypatch, capsys, tmp_path):
    sysfs, cfg = tree(tmp_path, group=False)
    (sysfs / 'class/infiniband/mlx5_0/ports/1/gid_attrs/ndevs/0').write_text('other\n')

    class WithIbdev(Host):
        def __call__(self, module, args, **kwargs):
            if os.path.basename(args[0]) == 'ibdev2netdev':
                return 0, 'mlx5_3 port 1 ==> ens1f0np0 (Up)\n', ''
            return Host.__call__(self, module, args, **kwargs)
    host = WithIbdev([applied_report()], (0, fixture('ethtool-a-off.txt'), ''))
    r = run(monkeypatch, capsys, {'netdev': 'ens1f0np0', 'sysfs_root': str(sysfs), 'configfs_root': str(cfg)}, host)
    # mkdir made an empty group (no kernel here): its port never appears
    assert r['_rc'] == 1 and 'Device mlx5_3 port 1 does not exist' in r['msg'], r
