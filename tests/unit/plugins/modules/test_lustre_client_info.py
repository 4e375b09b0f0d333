# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs lustre_client_info's main() with the Lustre tools answered from fixtures, or faked by scripts."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import stat
import time

import pytest

from ansible.module_utils import basic

from ansible_collections.aifabric.cluster.plugins.modules import lustre_client_info
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'lustre')
REAL_RUN_COMMAND = basic.AnsibleModule.run_command
MGS = ['10.0.0.1@o2ib', '10.0.0.2@o2ib']
MOUNTS = ['/mnt/lustre', '/mnt/scratch']

NET_SHOW = 'lnetctl net show -v 3'
STATES = 'lctl get_param osc.*.state mdc.*.state'
HEALTH = 'lctl get_param health_check'
DF = 'lfs df'
CHECK = 'lfs check servers'


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as fh:
        return fh.read()


def healthy_table():
    return {
        NET_SHOW: (0, fixture('net-show-v3-2.15-o2ib-mr.yaml'), ''),
        'lnetctl ping 10.0.0.1@o2ib': (0, fixture('ping-ok-mr-o2ib.yaml'), ''),
        'lnetctl ping 10.0.0.2@o2ib': (0, fixture('ping-ok-2.16-netlink.yaml'), ''),
        STATES: (0, fixture('import-states-healthy.txt'), ''),
        HEALTH: (0, fixture('health_check-healthy.txt'), ''),
        DF: (0, fixture('lfs-df-1k.txt'), ''),
        CHECK: (0, fixture('lfs-check-servers-ok.txt'), ''),
    }


def run(monkeypatch, capsys, args, table, bins=None):
    """main() with each tool answered from ``table``, keyed by the command line after ``timeout -k 2 <s>``."""
    calls = []

    def run_command(module, cmd, **kwargs):
        calls.append(list(cmd))
        assert cmd[:3] == ['/usr/bin/timeout', '-k', '2'], cmd
        key = ' '.join([os.path.basename(cmd[4])] + list(cmd[5:]))
        if key not in table:
            raise AssertionError('unexpected command %r' % (cmd,))
        return table[key]
    result = run_main(monkeypatch, capsys, lustre_client_info, args, run_command, bins)
    result['_calls'] = calls
    return result


def reason_with(result, text):
    found = [reason for reason in result['reasons'] if text in reason]
    assert len(found) == 1, (text, result['reasons'])
    return found[0]


def test_healthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mgs_nids': MGS, 'expected_mounts': MOUNTS}, healthy_table())
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['healthy'] is True, result['reasons']
    assert result['reasons'] == [] and result['lnet_up'] is True
    assert [call[3:] for call in result['_calls']] == [
        ['20', '/usr/bin/lnetctl', 'net', 'show', '-v', '3'],
        ['20', '/usr/bin/lnetctl', 'ping', '10.0.0.1@o2ib'],
        ['20', '/usr/bin/lnetctl', 'ping', '10.0.0.2@o2ib'],
        ['20', '/usr/bin/lctl', 'get_param', 'osc.*.state', 'mdc.*.state'],
        ['20', '/usr/bin/lctl', 'get_param', 'health_check'],
        ['20', '/usr/bin/lfs', 'df'],
        ['20', '/usr/bin/lfs', 'check', 'servers']]
    assert [c['command'] for c in result['commands']] == [NET_SHOW, 'lnetctl ping 10.0.0.1@o2ib', 'lnetctl ping 10.0.0.2@o2ib',
                                                          STATES, HEALTH, DF, CHECK]
    assert not any(c['timed_out'] for c in result['commands'])
    assert [(ni['nid'], ni['interfaces'], ni['health_value']) for ni in result['nis'] if ni['net'] != 'lo'] == [
        ('10.0.1.11@o2ib', ['ib0'], 1000), ('10.0.2.11@o2ib', ['ib1'], 1000)]
    assert [(p['nid'], p['reachable'], p['multi_rail'], p['timed_out']) for p in result['peers']] == [
        ('10.0.0.1@o2ib', True, True, False), ('10.0.0.2@o2ib', True, True, False)]
    assert len(result['targets']) == 8 and all(t['healthy'] for t in result['targets'])
    assert result['health_check']['status'] == 'healthy'
    assert [(fs['mount'], fs['fsname'], len(fs['targets'])) for fs in result['df']] == [
        ('/mnt/lustre', 'lustre', 5), ('/mnt/scratch', 'scratch', 3)]
    assert len(result['servers']) == 10 and all(s['active'] for s in result['servers'])


def test_faults_are_named(monkeypatch, capsys):
    table = healthy_table()
    table.update({
        NET_SHOW: (0, fixture('net-show-v3-2.15-o2ib-ni-down.yaml'), ''),
        'lnetctl ping 10.0.0.2@o2ib': (255, '', fixture('ping-fail-2.12.stderr')),
        STATES: (0, fixture('import-states-faults.txt'), ''),
        HEALTH: (0, fixture('health_check-not-healthy.txt'), ''),
        DF: (5, fixture('lfs-df-1k-inactive.txt'), ''),
        CHECK: (11, fixture('lfs-check-servers-errors.txt'), fixture('lfs-check-servers-errors.stderr')),
    })
    result = run(monkeypatch, capsys, {'mgs_nids': MGS, 'expected_mounts': MOUNTS + ['/mnt/projects']}, table)
    assert result['_rc'] == 0 and result['changed'] is False
    assert result['healthy'] is False
    assert len(result['reasons']) == 7, result['reasons']
    assert reason_with(result, '10.0.2.11@o2ib').startswith('LNet NI 10.0.2.11@o2ib (ib1, net o2ib): status down')
    assert reason_with(result, 'MGS NID 10.0.0.2@o2ib').startswith(
        'MGS NID 10.0.0.2@o2ib does not answer lnetctl ping (errno -1, failed to ping 10.0.0.2@o2ib: Input/output error)')
    assert reason_with(result, 'health_check').startswith('lctl get_param health_check reports NOT HEALTHY')
    assert reason_with(result, '/mnt/projects').startswith('expected Lustre mount /mnt/projects is not in lfs df')
    assert 'import state DISCONN since 2024-06-04T16:00:05Z' in reason_with(result, 'lustre-OST0002')
    assert 'import state CONNECTING' in reason_with(result, 'scratch-OST0001')
    assert reason_with(result, 'MGC10.0.0.2@o2ib').startswith('MGC10.0.0.2@o2ib: not active in lfs check servers')
    assert [p['reachable'] for p in result['peers']] == [True, False]
    assert result['peers'][1]['errno'] == -1
    bad = [(t['target'], t['state']) for t in result['targets'] if not t['healthy']]
    assert bad == [('lustre-OST0002', 'DISCONN'), ('scratch-OST0001', 'CONNECTING')]
    assert result['df'][0]['targets'][3]['status'] == 'inactive'


def test_lnet_down(monkeypatch, capsys):
    table = healthy_table()
    down = 'manage:\n    - ping:\n          errno: -1\n          descr: failed to ping %s: Network is down\n'
    table.update({
        NET_SHOW: (156, '', fixture('net-show-lnet-down.stderr')),
        'lnetctl ping 10.0.0.1@o2ib': (255, '', down % MGS[0]),
        'lnetctl ping 10.0.0.2@o2ib': (255, '', down % MGS[1]),
    })
    result = run(monkeypatch, capsys, {'mgs_nids': MGS}, table)
    assert result['healthy'] is False and result['lnet_up'] is False and result['nis'] == []
    assert len(result['reasons']) == 1
    assert result['reasons'][0].startswith('LNet is down (lnetctl: errno -100, cannot get networks: Network is down)')


def test_timed_out_ping_and_failed_commands(monkeypatch, capsys):
    table = healthy_table()
    table.update({
        'lnetctl ping 10.0.0.2@o2ib': (124, '', ''),
        HEALTH: (2, '', "error: get_param: param_path 'health_check': No such file or directory\n"),
        CHECK: (137, '', ''),
    })
    result = run(monkeypatch, capsys, {'mgs_nids': MGS, 'command_timeout': 7}, table)
    assert result['healthy'] is False
    assert len(result['reasons']) == 3, result['reasons']
    assert reason_with(result, 'health_check') == (
        "`lctl get_param health_check` failed (rc 2): error: get_param: param_path 'health_check': No such file or directory")
    assert reason_with(result, 'lfs check servers').startswith('`lfs check servers` did not finish within 7 s and was killed')
    assert reason_with(result, 'MGS NID 10.0.0.2@o2ib').startswith(
        'MGS NID 10.0.0.2@o2ib: `lnetctl ping 10.0.0.2@o2ib` was killed (no answer within 7 s)')
    assert result['peers'][1]['timed_out'] is True
    assert result['health_check'] is None and result['servers'] == []
    assert [c['timed_out'] for c in result['commands']] == [False, False, True, False, False, False, True]
    assert all(call[3] == '7' for call in result['_calls'])


def test_nothing_mounted(monkeypatch, capsys):
    table = healthy_table()
    table.update({
        STATES: (2, '', "error: get_param: param_path 'osc/*/state': No such file or directory\n"
                        "error: get_param: param_path 'mdc/*/state': No such file or directory\n"),
        DF: (0, '', ''),
        CHECK: (19, '', 'lfs check: cannot find mounted Lustre filesystem: No such device\n'),
    })
    result = run(monkeypatch, capsys, {}, table)
    assert result['healthy'] is True, result['reasons']
    assert result['targets'] == [] and result['df'] == [] and result['servers'] == []
    result = run(monkeypatch, capsys, {'expected_mounts': ['/mnt/lustre']}, table)
    assert result['reasons'] == [reason_with(result, 'expected Lustre mount /mnt/lustre is not in lfs df')]


def test_check_mode(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mgs_nids': MGS, '_ansible_check_mode': True}, healthy_table())
    assert result['_rc'] == 0 and result['changed'] is False and result['healthy'] is True
    assert len(result['_calls']) == 7  # read-only: the checks run in check mode too


@pytest.mark.parametrize('bins, message', [
    (('lctl', 'lfs', 'timeout'), 'lnetctl not found in PATH or the system directories'),
    (('lnetctl', 'lfs', 'timeout'), 'lctl not found in PATH'),
    (('lnetctl', 'lctl', 'timeout'), 'lfs not found in PATH'),
    (('lnetctl', 'lctl', 'lfs'), 'timeout (GNU coreutils) not found'),
])
def test_missing_tools_fail(monkeypatch, capsys, bins, message):
    result = run(monkeypatch, capsys, {}, {}, bins=bins)
    assert result['_rc'] == 1 and result['failed'] is True
    assert message in result['msg']
    assert result['_calls'] == []


def test_tool_path_not_executable(monkeypatch, capsys, tmp_path):
    path = tmp_path / 'lfs'
    path.write_text('#!/bin/sh\n')
    result = run(monkeypatch, capsys, {'lfs_path': str(path)}, {})
    assert result['failed'] is True and result['msg'] == 'lfs_path: %s is not an executable file' % path


@pytest.mark.parametrize('args, message', [
    ({'command_timeout': 0}, 'command_timeout must be 1 or more'),
    ({'mgs_nids': ['10.0.0.1']}, "mgs_nids: '10.0.0.1' is not an LNet NID"),
    ({'expected_mounts': ['mnt/lustre']}, "expected_mounts: 'mnt/lustre' is not an absolute mount point"),
])
def test_bad_options(monkeypatch, capsys, args, message):
    result = run(monkeypatch, capsys, args, {})
    assert result['failed'] is True and message in result['msg']


# ---------------------------------------------------------------------------
# the real timeout binary and fake tools

def script(tmp_path, name, body):
    path = tmp_path / name
    path.write_text('#!/bin/sh\n' + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_hung_command_is_killed(monkeypatch, capsys, tmp_path):
    """lfs df hangs (an unreachable OSS): the real ``timeout`` kills it after command_timeout seconds."""
    fix = FIXTURES
    lnetctl = script(tmp_path, 'lnetctl', 'case "$1" in\n  net) cat "%s/net-show-v3-2.15-o2ib-mr.yaml" ;;\n'
                     '  ping) cat "%s/ping-ok-mr-o2ib.yaml" ;;\nesac\n' % (fix, fix))
    lctl = script(tmp_path, 'lctl', 'case "$2" in\n  health_check) cat "%s/health_check-healthy.txt" ;;\n'
                  '  *) cat "%s/import-states-healthy.txt" ;;\nesac\n' % (fix, fix))
    lfs = script(tmp_path, 'lfs', 'case "$1" in\n  df) sleep 30 ;;\n  check) cat "%s/lfs-check-servers-ok.txt" ;;\nesac\n' % fix)

    def real(module, cmd, **kwargs):
        return REAL_RUN_COMMAND(module, cmd, **kwargs)
    args = {'mgs_nids': MGS[:1], 'expected_mounts': ['/mnt/lustre'], 'command_timeout': 1,
            'lnetctl_path': lnetctl, 'lctl_path': lctl, 'lfs_path': lfs}
    start = time.time()
    result = run_main(monkeypatch, capsys, lustre_client_info, args, real, bins=('timeout',))
    elapsed = time.time() - start
    assert elapsed < 10, elapsed
    assert result['_rc'] == 0 and result['healthy'] is False
    assert result['reasons'] == [
        '`lfs df` did not finish within 1 s and was killed: a Lustre client call is hung, usually because a server or '
        'the network path to it is down: check dmesg for LustreError and "Connection lost", lnetctl ping the server '
        'NIDs and lctl get_param osc.*.import']
    assert [(c['command'], c['timed_out']) for c in result['commands']] == [
        (NET_SHOW, False), ('lnetctl ping 10.0.0.1@o2ib', False), (STATES, False), (HEALTH, False), (DF, True),
        (CHECK, False)]
    assert result['df'] == [] and len(result['targets']) == 8 and result['peers'][0]['reachable'] is True
