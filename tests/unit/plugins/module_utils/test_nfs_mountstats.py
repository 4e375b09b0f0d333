# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import time

import pytest

from ansible_collections.aifabric.cluster.plugins.module_utils import nfs_mountstats as nm

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'nfs')


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as fh:
        return fh.read()


def parse(name):
    return nm.parse_mountstats(fixture(name))


def one(name):
    mounts = parse(name)
    assert len(mounts) == 1, [mount['mount_point'] for mount in mounts]
    return mounts[0]


def xprt_columns(name, index):
    """Column ``index`` (0 = source port) of every xprt: line, read without the parser."""
    values = []
    for line in fixture(name).splitlines():
        words = line.split()
        if words and words[0] == 'xprt:':
            values.append(int(words[2 + index]))
    return values


# ---------------------------------------------------------------------------
# parsing

def test_nfs42_tcp_nconnect16_options():
    mount = one('nfs42-tcp-nconnect16.txt')
    assert (mount['device'], mount['server'], mount['export'], mount['mount_point'], mount['fstype']) == (
        '192.168.0.105:/datasets', '192.168.0.105', '/datasets', '/mnt/datasets', 'nfs4')
    assert (mount['statvers'], mount['age'], mount['rpc_iostats_version'], mount['rpc_program_version']) == (
        '1.1', 412877, '1.1', 4)
    assert (mount['vers'], mount['proto'], mount['port'], mount['nconnect']) == ('4.2', 'tcp', 2049, 16)
    assert (mount['rsize'], mount['wsize'], mount['hard'], mount['timeo'], mount['retrans']) == (
        1048576, 1048576, True, 600, 2)
    assert (mount['sec'], mount['clientaddr'], mount['mountaddr']) == ('sys', '192.168.0.106', None)
    assert mount['options']['fatal_neterrors'] == 'none' and mount['options']['rw'] is True
    assert mount['bytes']['serverreadbytes'] == 2317966036992
    assert mount['warnings'] == []


def test_sums_over_16_xprt_lines():
    name = 'nfs42-tcp-nconnect16.txt'
    xprt = one(name)['xprt']
    assert xprt['transport'] == 'tcp' and xprt['transports'] == ['tcp']
    assert xprt['xprt_count'] == 16
    sends = xprt_columns(name, 5)
    assert len(sends) == 16
    assert xprt['sends'] == sum(sends)
    assert xprt['sends'] != sends[-1]  # the sum, not the last connection as older mountstats tools show
    assert xprt['recvs'] == sum(xprt_columns(name, 6))
    assert xprt['bad_xids'] == sum(xprt_columns(name, 7)) == 0
    assert xprt['connect_count'] == sum(xprt_columns(name, 2)) == 17
    assert xprt['pending_u'] == sum(xprt_columns(name, 12))
    assert xprt['srcports'] == xprt_columns(name, 0)
    assert xprt['max_slots'] == max(xprt_columns(name, 10))
    assert 'srcport' not in xprt and 'idle_time' not in xprt


def test_per_op_counts_and_totals():
    mount = one('nfs42-tcp-nconnect16.txt')
    write = mount['ops']['WRITE']
    assert write == {'ops': 1731128, 'transmissions': 1731131, 'timeouts': 0, 'bytes_sent': 1815318163456,
                     'bytes_recv': 277005520, 'queue_ms': 1833412, 'rtt_ms': 14123765, 'execute_ms': 16093321,
                     'errors': 0}
    assert mount['ops']['LOOKUP']['errors'] == 2297
    assert len(mount['ops']) == 69 and 'READ_PLUS' in mount['ops']
    totals = mount['totals']
    assert totals['retransmissions'] == 3
    assert totals['timeouts'] == 0
    assert totals['errors'] == 17 + 2297
    # every RPC went out on one of the 16 connections
    assert totals['transmissions'] == mount['xprt']['sends']


def test_nfs3_tcp_with_mount_daemon_options():
    mount = one('nfs3-tcp.txt')
    assert (mount['fstype'], mount['vers'], mount['proto'], mount['port'], mount['nconnect']) == (
        'nfs', '3', 'tcp', None, 1)
    assert (mount['mountaddr'], mount['clientaddr']) == ('192.168.178.26', None)
    assert mount['options']['mountproto'] == 'tcp' and mount['options']['mountport'] == '57040'
    assert (mount['rsize'], mount['wsize']) == (65536, 65536)
    assert mount['rpc_program_version'] == 3
    assert mount['ops']['READ']['timeouts'] == 2
    assert mount['totals']['retransmissions'] == 29 + 2
    assert mount['totals']['timeouts'] == 2
    assert mount['xprt']['bind_count'] == 1 and mount['xprt']['xprt_count'] == 1


def test_nfs41_rdma_port_20049():
    mount = one('nfs41-rdma.txt')
    assert (mount['vers'], mount['proto'], mount['port'], mount['nconnect']) == ('4.1', 'rdma', 20049, 1)
    xprt = mount['xprt']
    assert xprt['transport'] == 'rdma' and xprt['xprt_count'] == 1
    assert xprt['srcports'] == [0]
    assert xprt['write_chunks'] == 441230 and xprt['mrs_recycled'] == 1402117 and xprt['mrs_allocated'] == 64
    assert xprt['reply_waits_for_send'] == 0
    assert len([key for key in nm.RDMA_FIELDS if key in xprt]) == len(nm.RDMA_FIELDS) - 2


def test_real_rdma_nconnect16_capture_is_summed():
    """The 16 xprt: rdma lines of a real NFSv3-over-RDMA capture (prometheus/procfs test data)."""
    mount = one('nfs3-rdma-nconnect16-procfs.txt')
    assert (mount['vers'], mount['proto'], mount['port'], mount['nconnect'], mount['hard']) == (
        '3', 'rdma', 20049, 16, True)
    xprt = mount['xprt']
    assert xprt['xprt_count'] == 16
    # sums worked out from the capture with a separate script
    assert (xprt['sends'], xprt['recvs'], xprt['bad_xids'], xprt['connect_count']) == (
        7729061226, 7729060532, 694, 175008)
    assert xprt['reply_waits_for_send'] == 1386
    assert xprt['local_inv_needed'] == 20909672682
    assert mount['totals']['ops'] == 2655298355 and mount['totals']['errors'] == 346


def test_soft_mount():
    mount = one('nfs42-soft.txt')
    assert mount['hard'] is False and mount['options']['soft'] is True
    assert (mount['timeo'], mount['retrans']) == (100, 2)
    assert mount['totals']['timeouts'] == 5
    assert mount['totals']['retransmissions'] == 4 + 41 + 7
    assert mount['ops']['WRITE']['errors'] == 3


def test_softerr_is_not_hard():
    text = ('device srv:/e mounted on /m with fstype nfs4 statvers=1.1\n'
            '\topts:\trw,vers=4.2,rsize=4096,wsize=4096,namlen=255,softerr,proto=tcp,timeo=50,retrans=3,sec=sys\n')
    mount = nm.parse_mountstats(text)[0]
    assert mount['hard'] is False
    assert nm.compare_mount(mount, {'hard': True})[0].startswith('softerr mount, expected hard')


def test_old_kernel_statvers_10_short_xprt_lines():
    mounts = parse('old-kernel-statvers10.txt')
    assert [mount['mount_point'] for mount in mounts] == ['/ifs', '/u/joe']
    tcp, udp = mounts
    assert (tcp['statvers'], tcp['rpc_iostats_version']) == ('1.0', '1.0')
    assert tcp['xprt']['transport'] == 'tcp' and tcp['xprt']['xprt_count'] == 1
    assert (tcp['xprt']['sends'], tcp['xprt']['recvs'], tcp['xprt']['bad_xids'], tcp['xprt']['connect_count']) == (
        172670997, 172670964, 33, 1)
    assert tcp['xprt']['bklog_u'] == 293843845166
    assert 'max_slots' not in tcp['xprt'] and 'sending_u' not in tcp['xprt'] and 'pending_u' not in tcp['xprt']
    # eight per-op columns: no errors column, so errors stay unknown
    assert tcp['ops']['WRITE']['errors'] is None and tcp['ops']['WRITE']['execute_ms'] == 212850213433
    assert tcp['totals']['errors'] is None
    assert tcp['totals']['retransmissions'] == 1356
    assert (udp['proto'], udp['vers'], udp['hard']) == ('udp', '3', True)
    assert udp['xprt']['transport'] == 'udp'
    assert (udp['xprt']['sends'], udp['xprt']['recvs'], udp['xprt']['req_u'], udp['xprt']['bklog_u']) == (
        74, 74, 74, 0)
    assert udp['xprt']['srcports'] == [1023]
    assert udp['xprt']['connect_count'] == 0
    assert udp['totals']['ops'] == 74


def test_mixed_file_skips_other_file_systems():
    mounts = parse('mixed-ext4-proc-nfs.txt')
    assert [mount['mount_point'] for mount in mounts] == ['/home', '/mnt/my share', '/mnt/ckpt']
    home, share, ckpt = mounts
    assert home['fstype'] == 'nfs4' and home['xprt']['xprt_count'] == 1
    assert (share['device'], share['export'], share['options']['ro']) == ('10.0.0.2:/vol/my share', '/vol/my share', True)
    assert (ckpt['server'], ckpt['export'], ckpt['proto'], ckpt['nconnect']) == ('fd00:10::5', '/vol/ckpt', 'tcp6', 4)
    assert ckpt['clientaddr'] == 'fd00:10::21'
    assert ckpt['xprt']['sends'] == 16 and ckpt['totals']['ops'] == 20
    others = nm.other_mounts(fixture('mixed-ext4-proc-nfs.txt'))
    assert others['/data'] == {'device': '/dev/nvme1n1', 'fstype': 'ext4'}
    assert others['/home'] == {'device': 'systemd-1', 'fstype': 'autofs'}
    assert 'nfsd' not in [mount['fstype'] for mount in mounts]


def test_empty_file():
    assert parse('empty.txt') == []
    assert nm.other_mounts('') == {}


def test_hand_wrapped_opts_and_odd_lines():
    text = ('no device mounted on /x with fstype tmpfs\n'
            'device 2.2.2.2:/nfsdata/ mounted on /mnt with fstype nfs4 statvers=1.1\n'
            '    opts:    rw,vers=4,rsize=1048576,wsize=1048576,namlen=255,acregmin=3,acregmax=60,\n'
            '            acdirmin=30,acdirmax=60,hard,proto=tcp,port=0,timeo=600,retrans=2,sec=sys,\n'
            '            clientaddr=3.3.3.3,minorversion=0,local_lock=none\n'
            '    xprt:    tcp 737 0 1 0 0 69698 69697 0 81817 0 2 1082 12119\n'
            '    xprt:    sctp 1 2 3\n'
            '    xprt:    tcp 738 x 1\n'
            '    per-op statistics\n'
            '            NULL: 0 0 0 0 0 0 0 0\n'
            '    LAYOUTCOMMIT: 0 0 0 0 0 0 0 -9999999999999999999999999\n'
            '    garbage here\n')
    mount = nm.parse_mountstats(text)[0]
    assert (mount['vers'], mount['port'], mount['clientaddr'], mount['timeo']) == ('4.0', 2049, '3.3.3.3', 600)
    assert mount['xprt']['xprt_count'] == 3
    assert mount['xprt']['transports'] == ['tcp', 'sctp']
    assert mount['xprt']['sends'] == 69698
    assert mount['ops']['LAYOUTCOMMIT']['execute_ms'] == -9999999999999999999999999
    assert mount['warnings'] == ['unparsed xprt line: xprt:    tcp 738 x 1', 'unparsed per-op line: garbage here']
    assert nm.other_mounts(text) == {'/x': {'device': None, 'fstype': 'tmpfs'}}


def test_mount_without_xprt_lines():
    mount = nm.parse_mountstats('device s:/e mounted on /m with fstype nfs statvers=1.1\n\topts:\trw,vers=3\n')[0]
    assert mount['xprt']['xprt_count'] == 0
    assert mount['xprt']['sends'] is None and mount['xprt']['transport'] is None
    assert mount['totals'] == {'ops': 0, 'transmissions': 0, 'retransmissions': 0, 'timeouts': 0, 'errors': None}


@pytest.mark.parametrize('text, expected', [
    ('/mnt/my\\040share', '/mnt/my share'),
    ('/a\\011b\\012c\\134d', '/a\tb\nc\\d'),
    ('/plain', '/plain'),
])
def test_unescape(text, expected):
    assert nm.unescape(text) == expected


@pytest.mark.parametrize('device, expected', [
    ('10.0.0.1:/export', ('10.0.0.1', '/export')),
    ('[fd00::1]:/export/a', ('fd00::1', '/export/a')),
    ('server:/', ('server', '/')),
    ('nodevice', (None, 'nodevice')),
    (None, (None, None)),
])
def test_split_device(device, expected):
    assert nm.split_device(device) == expected


@pytest.mark.parametrize('value, expected', [
    (4.2, '4.2'), ('4.2', '4.2'), (3, '3'), ('v4.1', '4.1'), ('4', '4'), (None, None),
])
def test_normalize_vers(value, expected):
    assert nm.normalize_vers(value) == expected


@pytest.mark.parametrize('value', ['four', '4.x', True, ''])
def test_normalize_vers_rejects(value):
    with pytest.raises(ValueError):
        nm.normalize_vers(value)


@pytest.mark.parametrize('negotiated, expected, matches', [
    ('4.2', '4.2', True), ('4.1', '4.2', False), ('4.1', '4', True), ('4', '4.0', True), ('3', '4', False),
    ('3', '3', True), (None, '3', False), ('4.2', None, True),
])
def test_vers_matches(negotiated, expected, matches):
    assert nm.vers_matches(negotiated, expected) is matches


@pytest.mark.parametrize('negotiated, expected, matches', [
    ('tcp', 'tcp', True), ('tcp6', 'tcp', True), ('tcp', 'tcp6', False), ('rdma6', 'rdma', True),
    ('tcp', 'rdma', False),
])
def test_proto_matches(negotiated, expected, matches):
    assert nm.proto_matches(negotiated, expected) is matches


@pytest.mark.parametrize('entry, message', [
    ({'source': 'x:/y'}, 'mount_point is required'),
    ({'mount_point': '/m', 'nconnect': 0}, 'nconnect must be a positive integer'),
    ({'mount_point': '/m', 'rsize_max': 'big'}, 'rsize_max must be a positive integer'),
    ({'mount_point': '/m', 'vers': 'four'}, 'vers must be a version'),
    ({'mount_point': '/m', 'colour': 'red'}, 'unknown keys colour'),
    ('/m', 'must be a dict'),
])
def test_normalize_expected_rejects(entry, message):
    with pytest.raises(ValueError) as exc:
        nm.normalize_expected([entry])
    assert message in str(exc.value)


# ---------------------------------------------------------------------------
# rules

def test_expected_options_met():
    mounts = parse('nfs42-tcp-nconnect16.txt')
    verdict = nm.evaluate(mounts, [{'mount_point': '/mnt/datasets/', 'source': '192.168.0.105:/datasets/',
                                    'vers': 4.2, 'proto': 'tcp', 'nconnect': 16, 'hard': True,
                                    'rsize_max': 1048576, 'wsize_max': 1048576, 'port': 2049}])
    assert verdict['healthy'] is True, verdict['reasons']
    assert verdict['reasons'] == [] and verdict['missing'] == []
    assert verdict['mounts'][0]['expected'] is True and verdict['mounts'][0]['reasons'] == []


def test_each_mismatch_is_its_own_reason():
    mounts = parse('nfs3-tcp.txt')
    verdict = nm.evaluate(mounts, [{'mount_point': '/mnt/photos', 'source': 'nas:/data/Photos', 'vers': '4.2',
                                    'proto': 'rdma', 'nconnect': 16, 'hard': False, 'rsize_max': 1048576,
                                    'wsize_max': 1048576, 'port': 20049}])
    reasons = verdict['reasons']
    assert verdict['healthy'] is False
    assert len(reasons) == 8, reasons
    assert all(reason.startswith('/mnt/photos: ') for reason in reasons)
    source, vers, proto, nconnect, hard, rsize, wsize, port = reasons
    assert 'mounted from 192.168.178.26:/data/Photos, expected nas:/data/Photos' in source
    assert 'NFS version 3 negotiated, expected 4.2' in vers and 'vers=4.2' in vers
    assert 'transport tcp negotiated, expected rdma' in proto and 'proto=rdma,port=20049' in proto
    assert 'nconnect=1 negotiated (1 transport connection in mountstats), expected 16' in nconnect
    assert 'unmount every mount of 192.168.178.26' in nconnect
    assert 'hard mount, expected soft' in hard
    assert 'rsize 65536 negotiated, expected 1048576' in rsize and 'rsize=1048576' in rsize
    assert 'wsize 65536 negotiated, expected 1048576' in wsize
    assert 'server port chosen by rpcbind (no port= option), expected 20049: mount with port=20049' in port
    assert verdict['mounts'][0]['reasons'] == reasons


def test_soft_mount_expected_hard():
    verdict = nm.evaluate(parse('nfs42-soft.txt'), [{'mount_point': '/scratch', 'hard': True}])
    assert verdict['reasons'] == [
        '/scratch: soft mount, expected hard: a soft mount returns I/O errors to applications when the server is '
        'slow and can lose written data: mount with hard instead of soft; unmount and mount again']


def test_larger_size_than_expected_and_wrong_port():
    mount = one('nfs41-rdma.txt')
    reasons = nm.compare_mount(mount, {'rsize_max': 262144, 'port': 2049, 'nconnect': 4, 'vers': '4.2'})
    assert reasons[0].startswith('NFS version 4.1 negotiated, expected 4.2')
    assert reasons[1].startswith('nconnect=1 negotiated')
    assert reasons[2].startswith('rsize 1048576 negotiated, expected 262144: the mount did not ask for rsize=262144')
    assert reasons[3].startswith('server port 20049 negotiated, expected 2049: mount with port=2049')


def test_ipv6_transport_and_source():
    mounts = parse('mixed-ext4-proc-nfs.txt')
    verdict = nm.evaluate(mounts, [{'mount_point': '/mnt/ckpt', 'source': '[FD00:10::5]:/vol/ckpt', 'proto': 'tcp',
                                    'nconnect': 4, 'vers': '4'}])
    assert verdict['healthy'] is True, verdict['reasons']


def test_missing_expected_mount():
    verdict = nm.evaluate(parse('nfs42-tcp-nconnect16.txt'),
                          [{'mount_point': '/mnt/datasets'},
                           {'mount_point': '/mnt/checkpoints', 'source': '192.168.0.105:/ckpt'}])
    assert verdict['healthy'] is False
    assert verdict['missing'] == ['/mnt/checkpoints']
    assert verdict['reasons'] == [
        '/mnt/checkpoints: not mounted (no NFS entry in mountstats): mount it (mount /mnt/checkpoints) and check its '
        'fstab or automount entry and that 192.168.0.105:/ckpt is reachable']


def test_missing_nfs_but_other_file_system_there():
    text = fixture('mixed-ext4-proc-nfs.txt')
    verdict = nm.evaluate(nm.parse_mountstats(text), [{'mount_point': '/data', 'source': '10.0.0.1:/data'},
                                                      {'mount_point': '/home'}],
                          others=nm.other_mounts(text))
    assert verdict['missing'] == ['/data']
    assert len(verdict['reasons']) == 1
    assert verdict['reasons'][0].startswith('/data: expected an NFS mount of 10.0.0.1:/data, found ext4 (device '
                                            '/dev/nvme1n1) instead')


def test_stacked_mounts_last_entry_wins():
    first = ('device a:/old mounted on /m with fstype nfs statvers=1.1\n'
             '\topts:\trw,vers=3,rsize=65536,wsize=65536,hard,proto=tcp\n')
    second = ('device b:/new mounted on /m with fstype nfs4 statvers=1.1\n'
              '\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576,hard,proto=tcp\n')
    mounts = nm.parse_mountstats(first + second)
    verdict = nm.evaluate(mounts, [{'mount_point': '/m', 'source': 'b:/new', 'vers': '4.2'}])
    assert verdict['healthy'] is True, verdict['reasons']
    assert [mount['expected'] for mount in verdict['mounts']] == [False, True]


def test_probe_reasons():
    mounts = parse('nfs42-tcp-nconnect16.txt')
    probes = {
        '/mnt/datasets': {'path': '/mnt/datasets', 'status': 'hung', 'seconds': 1.0, 'timeout': 1, 'error': None},
        '/mnt/gone': {'path': '/mnt/gone', 'status': 'error', 'seconds': 0.1, 'timeout': 1,
                      'error': "[Errno 2] No such file or directory: '/mnt/gone'"},
    }
    verdict = nm.evaluate(mounts, [{'mount_point': '/mnt/datasets'}, {'mount_point': '/mnt/gone'}], probes=probes)
    assert len(verdict['reasons']) == 2
    assert verdict['reasons'][0].startswith('/mnt/datasets: hung: stat() and statfs() did not return within 1 s: '
                                            '192.168.0.105 does not answer')
    # a missing mount point's failed stat adds nothing to "not mounted"
    assert verdict['reasons'][1].startswith('/mnt/gone: not mounted')


def test_stale_handle_reason():
    mounts = parse('nfs42-tcp-nconnect16.txt')
    probes = {'/mnt/datasets': {'path': '/mnt/datasets', 'status': 'error', 'seconds': 0.1, 'timeout': 1,
                                'error': "[Errno 116] Stale file handle: '/mnt/datasets'"}}
    verdict = nm.evaluate(mounts, [{'mount_point': '/mnt/datasets'}], probes=probes)
    assert verdict['reasons'] == [
        "/mnt/datasets: stat failed: [Errno 116] Stale file handle: '/mnt/datasets': the export was removed or "
        "replaced on the server: unmount (umount -l) and mount again"]


# ---------------------------------------------------------------------------
# probe (real child processes, kept short)

def test_probe_ok_and_error(tmp_path):
    missing = str(tmp_path / 'absent')
    results = nm.probe_paths([str(tmp_path), missing, str(tmp_path)], 10)
    assert sorted(results) == sorted([str(tmp_path), missing])
    assert results[str(tmp_path)]['status'] == 'ok' and results[str(tmp_path)]['error'] is None
    assert results[missing]['status'] == 'error'
    assert results[missing]['error'].startswith('[Errno 2] No such file or directory')


def test_probe_hung_path_is_killed_at_the_deadline(tmp_path, monkeypatch):
    # a child that blocks like stat() on a hard mount whose server is gone
    monkeypatch.setattr(nm, 'PROBE_CODE', 'import time\ntime.sleep(60)\n')
    started = time.time()
    results = nm.probe_paths([str(tmp_path), '/second/path'], 1)
    elapsed = time.time() - started
    assert elapsed < 5
    assert results[str(tmp_path)]['status'] == 'hung' and results['/second/path']['status'] == 'hung'
    assert results[str(tmp_path)]['timeout'] == 1


def test_probe_fifo_open_blocks(tmp_path):
    # a FIFO without a writer blocks open() the way a hung NFS server blocks stat()
    fifo = str(tmp_path / 'fifo')
    os.mkfifo(fifo)
    code = 'import sys\nopen(sys.argv[1]).close()\n'
    started = time.time()
    results = nm.probe_paths([fifo], 1, code=code)
    assert time.time() - started < 5
    assert results[fifo]['status'] == 'hung'


def test_probe_cannot_start():
    results = nm.probe_paths(['/'], 1, python='/nonexistent/python3')
    assert results['/']['status'] == 'error' and results['/']['error'].startswith('cannot start the probe')


def test_read_mountstats(tmp_path):
    path = tmp_path / 'mountstats'
    path.write_text(fixture('nfs3-tcp.txt'))
    assert nm.parse_mountstats(nm.read_mountstats(str(path)))[0]['mount_point'] == '/mnt/photos'
    with pytest.raises(nm.MountstatsError) as exc:
        nm.read_mountstats(str(tmp_path / 'absent'))
    assert 'cannot read' in str(exc.value)
