# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs nfs_mount_info's main() on fixture mountstats files; the probe is either replaced or run for real
against local paths (never against the fixtures' mount points, which do not exist here)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import time

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import nfs_mountstats
from ansible_collections.aifabric.cluster.plugins.modules import nfs_mount_info
from ansible_collections.aifabric.cluster.tests.unit.plugins.modules.module_harness import run_main

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nfs')

DATASETS = {'mount_point': '/mnt/datasets', 'source': '192.168.0.105:/datasets', 'vers': '4.2', 'proto': 'tcp',
            'nconnect': 16, 'hard': True, 'rsize_max': 1048576, 'wsize_max': 1048576}


def path(name):
    return os.path.join(FIXTURES, name)


def no_command(module, cmd, **kwargs):
    raise AssertionError('nfs_mount_info runs no command, got %r' % (cmd,))


def run(monkeypatch, capsys, args, probes=None):
    """main() on ``args``; ``probes``: {mount_point: status} answered instead of running the probe."""
    calls = []
    if probes is not None:
        def fake_probe(paths, timeout, **_kwargs):
            calls.append((list(paths), timeout))
            return dict((item, {'path': item, 'status': probes.get(item, 'ok'), 'seconds': 0.01, 'timeout': timeout,
                                'error': None}) for item in paths)
        monkeypatch.setattr(nfs_mount_info, 'probe_paths', fake_probe)
    result = run_main(monkeypatch, capsys, nfs_mount_info, args, no_command, bins=())
    result['_probe_calls'] = calls
    return result


def test_nconnect16_healthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs42-tcp-nconnect16.txt'),
                                       'expected_mounts': [DATASETS]}, probes={})
    assert result['_rc'] == 0
    assert result['changed'] is False
    assert result['healthy'] is True, result['reasons']
    assert (result['reasons'], result['missing'], result['mount_count']) == ([], [], 1)
    assert result['_probe_calls'] == [(['/mnt/datasets'], 10)]
    assert [probe['status'] for probe in result['probes']] == ['ok']
    mount = result['mounts'][0]
    assert (mount['vers'], mount['proto'], mount['nconnect'], mount['port'], mount['expected']) == (
        '4.2', 'tcp', 16, 2049, True)
    assert mount['xprt']['xprt_count'] == 16
    assert mount['xprt']['sends'] == 4067087 and mount['xprt']['connect_count'] == 17
    assert mount['totals']['retransmissions'] == 3 and mount['totals']['timeouts'] == 0
    assert mount['ops']['WRITE']['transmissions'] == 1731131


def test_check_mode(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs42-tcp-nconnect16.txt'),
                                       'expected_mounts': [DATASETS], '_ansible_check_mode': True}, probes={})
    assert result['_rc'] == 0 and result['changed'] is False and result['healthy'] is True
    assert result['mounts'][0]['xprt']['xprt_count'] == 16
    assert len(result['_probe_calls']) == 1


def test_negotiated_option_mismatches(monkeypatch, capsys):
    expected = dict(DATASETS, mount_point='/mnt/photos', source='192.168.178.26:/data/Photos', vers='4.2',
                    nconnect=8, proto='tcp', port=2049)
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs3-tcp.txt'), 'expected_mounts': [expected],
                                       'probe': False})
    assert result['_rc'] == 0 and result['healthy'] is False
    assert result['_probe_calls'] == [] and result['probes'] == []
    reasons = result['reasons']
    assert len(reasons) == 5, reasons
    assert reasons[0].startswith('/mnt/photos: NFS version 3 negotiated, expected 4.2')
    assert reasons[1].startswith('/mnt/photos: nconnect=1 negotiated')
    assert reasons[2].startswith('/mnt/photos: rsize 65536 negotiated, expected 1048576')
    assert reasons[3].startswith('/mnt/photos: wsize 65536 negotiated, expected 1048576')
    assert reasons[4].startswith('/mnt/photos: server port chosen by rpcbind (no port= option), expected 2049')
    assert result['mounts'][0]['reasons'] == reasons


def test_rdma_expectations(monkeypatch, capsys):
    expected = {'mount_point': '/mnt/train', 'vers': 4.1, 'proto': 'rdma', 'port': 20049, 'hard': True}
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs41-rdma.txt'), 'expected_mounts': [expected]},
                 probes={})
    assert result['healthy'] is True, result['reasons']
    assert result['mounts'][0]['xprt']['transport'] == 'rdma'


def test_soft_mount_and_missing_mount(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs42-soft.txt'), 'expected_mounts': [
        {'mount_point': '/scratch', 'hard': True},
        {'mount_point': '/home', 'source': 'loginNode:/home'},
    ]}, probes={})
    assert result['healthy'] is False
    assert result['missing'] == ['/home']
    assert result['reasons'][0].startswith('/scratch: soft mount, expected hard')
    assert result['reasons'][1].startswith('/home: not mounted (no NFS entry in mountstats): mount it (mount /home)')
    assert len(result['reasons']) == 2


def test_ext4_where_nfs_is_expected(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('mixed-ext4-proc-nfs.txt'), 'expected_mounts': [
        {'mount_point': '/data'}, {'mount_point': '/home', 'vers': '4.2'}, {'mount_point': '/mnt/my share'}]},
        probes={})
    assert result['missing'] == ['/data']
    assert result['reasons'] == [
        '/data: expected an NFS mount, found ext4 (device /dev/nvme1n1) instead: the NFS export is not mounted '
        'there: mount it (mount /data) and check its fstab or automount entry and that the export is reachable']
    assert result['mount_count'] == 3


def test_empty_mountstats(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('empty.txt'),
                                       'expected_mounts': [{'mount_point': '/mnt/datasets'}]}, probes={})
    assert result['_rc'] == 0
    assert (result['healthy'], result['mount_count'], result['missing']) == (False, 0, ['/mnt/datasets'])


def test_no_expectations_is_healthy(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('old-kernel-statvers10.txt')}, probes={})
    assert result['healthy'] is True and result['mount_count'] == 2
    assert result['_probe_calls'] == [] and result['probes'] == []
    assert result['mounts'][0]['totals']['errors'] is None


def test_hung_mount_from_the_probe(monkeypatch, capsys):
    result = run(monkeypatch, capsys, {'mountstats_path': path('nfs42-tcp-nconnect16.txt'), 'probe_timeout': 1,
                                       'expected_mounts': [DATASETS]}, probes={'/mnt/datasets': 'hung'})
    assert result['_rc'] == 0 and result['healthy'] is False
    assert result['_probe_calls'] == [(['/mnt/datasets'], 1)]
    assert result['reasons'] == [
        '/mnt/datasets: hung: stat() and statfs() did not return within 1 s: 192.168.0.105 does not answer and '
        'processes that touch the mount block (a hard mount waits for ever): check the server and the network path '
        '(ping, rpcinfo -p 192.168.0.105), and dmesg for "nfs: server ... not responding"; umount -f -l '
        '/mnt/datasets as a last resort']


def test_real_probe_times_out_without_blocking(monkeypatch, capsys, tmp_path):
    # a mountstats copy whose NFS mount point is a local directory, probed by a child that never returns
    text = ('device 10.0.0.9:/stuck mounted on %s with fstype nfs4 statvers=1.1\n'
            '\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys\n'
            % tmp_path)
    stats = tmp_path / 'mountstats'
    stats.write_text(text)
    monkeypatch.setattr(nfs_mountstats, 'PROBE_CODE', 'import time\ntime.sleep(60)\n')
    started = time.time()
    result = run(monkeypatch, capsys, {'mountstats_path': str(stats), 'probe_timeout': 1,
                                       'expected_mounts': [{'mount_point': str(tmp_path), 'hard': True}]})
    assert time.time() - started < 5
    assert result['healthy'] is False
    assert result['probes'][0]['status'] == 'hung'
    assert result['reasons'][0].startswith('%s: hung: stat() and statfs() did not return within 1 s: 10.0.0.9' % tmp_path)


def test_real_probe_ok(monkeypatch, capsys, tmp_path):
    text = ('device 10.0.0.9:/fine mounted on %s with fstype nfs statvers=1.1\n'
            '\topts:\trw,vers=3,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2\n' % tmp_path)
    stats = tmp_path / 'mountstats'
    stats.write_text(text)
    result = run(monkeypatch, capsys, {'mountstats_path': str(stats), 'expected_mounts': [
        {'mount_point': str(tmp_path), 'vers': '3'}]})
    assert result['healthy'] is True, result['reasons']
    assert result['probes'][0]['status'] == 'ok'


@pytest.mark.parametrize('args, message', [
    ({'mountstats_path': '/nonexistent/mountstats'}, 'cannot read /nonexistent/mountstats'),
    ({'probe_timeout': 0}, 'probe_timeout must be 1 or more seconds'),
    ({'expected_mounts': [{'mount_point': '/m', 'vers': 'four'}]}, 'vers must be a version'),
    ({'expected_mounts': [{'mount_point': '/m', 'nconnect': 0}]}, 'nconnect must be a positive integer'),
    ({'expected_mounts': [{'mount_point': '/m', 'proto': 'sctp'}]}, 'proto'),
    ({'expected_mounts': [{'vers': '3'}]}, 'mount_point'),
])
def test_bad_options(monkeypatch, capsys, args, message):
    args = dict({'mountstats_path': path('nfs3-tcp.txt')}, **args)
    result = run(monkeypatch, capsys, args, probes={})
    assert result['failed'] is True
    assert message in result['msg']
