# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NFS client mounts from ``/proc/self/mountstats``, the rules that compare them with expectations,
and a probe that finds hung mounts without hanging itself.

The kernel writes one entry per mount (fs/proc_namespace.c ``show_vfsstat``); NFS adds its
statistics (fs/nfs/super.c ``nfs_show_stats``, net/sunrpc/stats.c ``rpc_clnt_show_stats``)::

    device 10.0.0.1:/export mounted on /mnt with fstype nfs4 statvers=1.1
    \topts:\trw,vers=4.2,rsize=1048576,wsize=1048576,...,hard,proto=tcp,nconnect=16,timeo=600,...
    \tage:\t3542
    \tcaps:\t... / nfsv4: ... / sec: ... / events: ... / bytes: ...
    \tRPC iostats version: 1.1  p/v: 100003/4 (nfs)
    \txprt:\ttcp 871 1 1 0 3 9140 9140 0 11293 0 40 3310 7983     (one line per transport: nconnect=16 gives 16)
    \tper-op statistics
    \t        READ: 1 1 0 188 100 0 0 0 0

Other file systems only have the ``device ... with fstype ext4`` line and are skipped. The
``opts:`` line is the negotiated state (``nfs_show_mount_options`` with defaults shown), not
what the mount command asked for; ``addr=`` is not part of it, the server comes from the device.

``xprt:`` fields by transport (older kernels write fewer trailing fields, so only the fields
present are read): see TCP_FIELDS, UDP_FIELDS, RDMA_FIELDS, LOCAL_FIELDS. Per-op lines are
ops, transmissions, major timeouts, bytes sent, bytes received, queue ms, RTT ms, execute ms
and, with ``RPC iostats version: 1.1`` (2019 kernels), errors. Counters count since the mount was made.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath
import re
import subprocess
import sys
import time

NFS_FSTYPES = ('nfs', 'nfs4')
NFS_PORT = 2049
NFS_RDMA_PORT = 20049

# net/sunrpc/xprtsock.c xs_tcp_print_stats; old kernels write only the first 10 (no max_slots, sending_u, pending_u)
TCP_FIELDS = ('srcport', 'bind_count', 'connect_count', 'connect_time', 'idle_time', 'sends', 'recvs',
              'bad_xids', 'req_u', 'bklog_u', 'max_slots', 'sending_u', 'pending_u')
# xs_udp_print_stats; old kernels write only the first 7
UDP_FIELDS = ('srcport', 'bind_count', 'sends', 'recvs', 'bad_xids', 'req_u', 'bklog_u', 'max_slots',
              'sending_u', 'pending_u')
# xs_local_print_stats (AF_LOCAL, no source port)
LOCAL_FIELDS = ('bind_count', 'connect_count', 'connect_time', 'idle_time', 'sends', 'recvs', 'bad_xids',
                'req_u', 'bklog_u', 'max_slots', 'sending_u', 'pending_u')
# net/sunrpc/xprtrdma/transport.c xprt_rdma_print_stats: 10 generic fields (source port always 0), then the
# rpcrdma counters; old kernels stop after bad_reply (20 fields) and the later ones were added a few at a time
# (some first under other names, such as mrs_recovered): they are named by position
RDMA_FIELDS = ('srcport', 'bind_count', 'connect_count', 'connect_time', 'idle_time', 'sends', 'recvs',
               'bad_xids', 'req_u', 'bklog_u', 'read_chunks', 'write_chunks', 'reply_chunks', 'total_rdma_req',
               'total_rdma_rep', 'pullup', 'fixup', 'hardway', 'failed_marshal', 'bad_reply', 'nomsg_calls',
               'mrs_recycled', 'mrs_orphaned', 'mrs_allocated', 'local_inv_needed', 'empty_sendctx_q',
               'reply_waits_for_send')
XPRT_FIELDS = {'tcp': TCP_FIELDS, 'udp': UDP_FIELDS, 'rdma': RDMA_FIELDS, 'local': LOCAL_FIELDS}
# per-connection values that are not summed over the xprt lines: the source ports are listed, the largest
# max_slots is kept, idle_time is dropped
XPRT_NOT_SUMMED = frozenset(['srcport', 'idle_time', 'max_slots'])

# net/sunrpc/stats.c _print_rpc_iostats; "errors" (om_error_status) came in 2019 with "RPC iostats version: 1.1",
# version 1.0 writes the first 8
OP_FIELDS = ('ops', 'transmissions', 'timeouts', 'bytes_sent', 'bytes_recv', 'queue_ms', 'rtt_ms', 'execute_ms',
             'errors')

# include/linux/nfs_iostat.h, in the order of the bytes: line (names as nfs-utils' mountstats uses them)
BYTE_FIELDS = ('normalreadbytes', 'normalwritebytes', 'directreadbytes', 'directwritebytes', 'serverreadbytes',
               'serverwritebytes', 'readpages', 'writepages')

EXPECT_KEYS = ('mount_point', 'source', 'vers', 'proto', 'nconnect', 'hard', 'rsize_max', 'wsize_max', 'port')

_DEVICE_RE = re.compile(r'^(?:device\s+(?P<device>\S+)|no device)\s+mounted on\s+(?P<mount_point>\S+)\s+'
                        r'with fstype\s+(?P<fstype>\S+)(?:\s+statvers=(?P<statvers>\S+))?\s*$')
_RPC_RE = re.compile(r'^RPC iostats version:\s*(?P<version>\S+)\s+p/v:\s*(?P<program>\d+)/(?P<version_num>\d+)'
                     r'(?:\s+\((?P<name>[^)]*)\))?')
_OP_RE = re.compile(r'^(?P<name>[^\s:]+):\s*(?P<values>-?\d+(?:\s+-?\d+)*)\s*$')
_KEY_RE = re.compile(r'^(?P<key>[A-Za-z0-9_]+):(?P<rest>.*)$')
_ESCAPE_RE = re.compile(r'\\([0-7]{3})')
_VERS_RE = re.compile(r'^(\d+)(?:\.(\d+))?$')

PROBE_CODE = 'import os, sys\npath = sys.argv[1]\nos.stat(path)\nos.statvfs(path)\n'


class MountstatsError(Exception):
    """The mountstats file cannot be read."""


# ---------------------------------------------------------------------------
# parsing

def unescape(text):
    """Undo the kernel's octal escapes of blanks and backslashes (``/mnt/my\\040share`` -> ``/mnt/my share``)."""
    return _ESCAPE_RE.sub(lambda match: chr(int(match.group(1), 8)), text or '')


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ints(tokens):
    values = []
    for token in tokens:
        value = _int(token)
        if value is None:
            return None
        values.append(value)
    return values


def split_device(device):
    """``server:/export`` -> (server, export); ``[fd00::1]:/export`` -> (``fd00::1``, ``/export``)."""
    if not device:
        return None, None
    if device.startswith('['):
        end = device.find(']')
        if end > 0 and device[end + 1:end + 2] == ':':
            return device[1:end], device[end + 2:]
    server, sep, export = device.partition(':')
    if not sep:
        return None, device
    return server, export


def parse_options(text):
    """``rw,vers=4.2,hard,proto=tcp`` -> {'rw': True, 'vers': '4.2', 'hard': True, 'proto': 'tcp'}."""
    options = {}
    for item in (text or '').split(','):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition('=')
        options[key] = value if sep else True
    return options


def negotiated_vers(options, fstype):
    """The NFS version as a string: ``"4.2"``, ``"4.1"``, ``"3"``; kernels before 3.x wrote ``vers=4`` and
    ``minorversion=N`` separately. None when unknown."""
    vers = options.get('vers')
    if vers is True:
        vers = None
    if vers is None and fstype == 'nfs4':
        vers = '4'
    if vers == '4' and _int(options.get('minorversion')) is not None:
        vers = '4.%d' % _int(options.get('minorversion'))
    return vers


def effective_port(options, vers):
    """The server port: port= when set and not 0; NFSv4 leaves out (or, in old kernels, writes 0 for) the
    default 2049; None for NFSv2/v3 without port= (the port came from rpcbind)."""
    port = _int(options.get('port'))
    if port:
        return port
    if vers and vers.split('.')[0] == '4':
        return NFS_PORT
    return None


def parse_xprt(tokens):
    """``['tcp', '871', '1', ...]`` -> (transport, {field: int}); fields beyond the known names are dropped."""
    transport = tokens[0] if tokens else None
    values = _ints(tokens[1:])
    if transport is None or values is None:
        return transport, None
    names = XPRT_FIELDS.get(transport, ())
    return transport, dict(zip(names, values))


def sum_xprts(lines):
    """Sums over every xprt line of a mount: {transport, xprt_count, srcports, max_slots, <summed fields>}.

    With nconnect=N there are N lines, one per connection; summing is what the kernel's per-client per-op
    counts already are (nfs-utils' mountstats kept only the last line until a 2026 patch)."""
    result = {'transport': None, 'transports': [], 'xprt_count': len(lines), 'srcports': []}
    for transport, fields in lines:
        if result['transport'] is None:
            result['transport'] = transport
        if transport not in result['transports']:
            result['transports'].append(transport)
        for name, value in (fields or {}).items():
            if name == 'srcport':
                result['srcports'].append(value)
            elif name == 'max_slots':
                result['max_slots'] = max(result.get('max_slots', value), value)
            elif name not in XPRT_NOT_SUMMED:
                result[name] = result.get(name, 0) + value
    for name in ('sends', 'recvs', 'bad_xids', 'connect_count'):
        result.setdefault(name, None if not lines else 0)
    return result


def parse_op(values):
    """Per-op values -> {ops, transmissions, timeouts, bytes_sent, bytes_recv, queue_ms, rtt_ms, execute_ms,
    errors}; errors is None on kernels that do not write it."""
    record = dict((name, None) for name in OP_FIELDS)
    record.update(zip(OP_FIELDS, values))
    return record


def op_totals(ops):
    """{ops, transmissions, retransmissions, timeouts, errors} over all operations; retransmissions is
    sum(transmissions - ops) (never below 0 per op); errors is None when no line has the column."""
    totals = {'ops': 0, 'transmissions': 0, 'retransmissions': 0, 'timeouts': 0, 'errors': None}
    for record in ops.values():
        count, trans = record.get('ops') or 0, record.get('transmissions') or 0
        totals['ops'] += count
        totals['transmissions'] += trans
        totals['retransmissions'] += max(trans - count, 0)
        totals['timeouts'] += record.get('timeouts') or 0
        if record.get('errors') is not None:
            totals['errors'] = (totals['errors'] or 0) + record['errors']
    return totals


def _new_mount(match):
    device = unescape(match.group('device')) if match.group('device') else None
    server, export = split_device(device)
    return {
        'device': device,
        'server': server,
        'export': export,
        'mount_point': unescape(match.group('mount_point')),
        'fstype': match.group('fstype'),
        'statvers': match.group('statvers'),
        'age': None,
        'opts': '',
        'bytes': {},
        'rpc_iostats_version': None,
        'rpc_program_version': None,
        '_xprt_lines': [],
        'ops': {},
        'warnings': [],
    }


def _finish_mount(mount):
    options = parse_options(mount.pop('opts'))
    fstype = mount['fstype']
    vers = negotiated_vers(options, fstype)
    soft = bool(options.get('soft') or options.get('softerr'))
    mount.update({
        'vers': vers,
        'proto': options.get('proto') if options.get('proto') is not True else None,
        'port': effective_port(options, vers),
        'nconnect': _int(options.get('nconnect')) or 1,
        'rsize': _int(options.get('rsize')),
        'wsize': _int(options.get('wsize')),
        'hard': not soft,
        'timeo': _int(options.get('timeo')),
        'retrans': _int(options.get('retrans')),
        'sec': options.get('sec') if options.get('sec') is not True else None,
        'clientaddr': options.get('clientaddr') if options.get('clientaddr') is not True else None,
        'mountaddr': options.get('mountaddr') if options.get('mountaddr') is not True else None,
        'options': options,
        'xprt': sum_xprts(mount.pop('_xprt_lines')),
        'totals': op_totals(mount['ops']),
    })
    return mount


def _parse_stat_line(mount, line, state):
    """One indented line of an NFS entry; ``state`` tracks the per-op section and opts continuation."""
    text = line.strip()
    if not text:
        return
    if state['ops']:
        match = _OP_RE.match(text)
        if match:
            mount['ops'][match.group('name')] = parse_op([int(value) for value in match.group('values').split()])
        else:
            mount['warnings'].append('unparsed per-op line: %s' % text)
        return
    if text == 'per-op statistics':
        state['ops'] = True
        return
    match = _RPC_RE.match(text)
    if match:
        mount['rpc_iostats_version'] = match.group('version')
        mount['rpc_program_version'] = int(match.group('version_num'))
        return
    match = _KEY_RE.match(text)
    if not match:
        # hand-wrapped opts: lines (seen in pasted captures) continue after a trailing comma
        if state['key'] == 'opts' and mount['opts'].endswith(','):
            mount['opts'] += text.replace(' ', '')
        return
    key, rest = match.group('key'), (match.group('rest') or '').strip()
    state['key'] = key
    if key == 'opts':
        mount['opts'] = rest.replace(' ', '')
    elif key == 'age':
        mount['age'] = _int(rest)
    elif key == 'bytes':
        values = _ints(rest.split())
        if values is None:
            mount['warnings'].append('unparsed bytes line: %s' % text)
        else:
            mount['bytes'] = dict(zip(BYTE_FIELDS, values))
    elif key == 'xprt':
        transport, fields = parse_xprt(rest.split())
        if fields is None:
            mount['warnings'].append('unparsed xprt line: %s' % text)
        mount['_xprt_lines'].append((transport, fields))


def parse_mountstats(text):
    """Every NFS mount of a mountstats text, in file order: [mount record]; other file systems are skipped.

    A record has device, server, export, mount_point, fstype, statvers, age, the negotiated vers, proto,
    port, nconnect, rsize, wsize, hard, timeo, retrans, sec, clientaddr, mountaddr, the raw ``options``
    dict, ``bytes``, ``xprt`` (sums over all xprt lines), ``ops`` (per operation), ``totals`` and
    ``warnings`` (lines that could not be read).
    """
    mounts = []
    mount = None
    state = {}
    for line in (text or '').splitlines():
        stripped = line.strip()
        match = _DEVICE_RE.match(stripped) if stripped.startswith(('device ', 'no device ')) else None
        if match:
            if mount is not None:
                mounts.append(_finish_mount(mount))
            mount = None
            if match.group('fstype') in NFS_FSTYPES:
                mount = _new_mount(match)
                state = {'ops': False, 'key': None}
            continue
        if mount is not None:
            _parse_stat_line(mount, line, state)
    if mount is not None:
        mounts.append(_finish_mount(mount))
    return mounts


def other_mounts(text):
    """{mount_point: {device, fstype}} of the entries that are not NFS (the last one per mount point)."""
    result = {}
    for line in (text or '').splitlines():
        stripped = line.strip()
        if not stripped.startswith(('device ', 'no device ')):
            continue
        match = _DEVICE_RE.match(stripped)
        if match and match.group('fstype') not in NFS_FSTYPES:
            result[unescape(match.group('mount_point'))] = {
                'device': unescape(match.group('device')) if match.group('device') else None,
                'fstype': match.group('fstype'),
            }
    return result


def read_mountstats(path):
    """Text of the mountstats file; MountstatsError when it cannot be read."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise MountstatsError('cannot read %s: %s' % (path, exc)) from exc
    return data.decode('utf-8', 'replace')


# ---------------------------------------------------------------------------
# rules

def normalize_path(path):
    """Mount point without trailing slashes or dot segments (``/mnt/data/`` -> ``/mnt/data``)."""
    if not path:
        return path
    return posixpath.normpath(path)


def normalize_source(source):
    """(server in lower case, export without trailing slash) of ``server:/export``."""
    server, export = split_device(source)
    if export and len(export) > 1:
        export = export.rstrip('/') or '/'
    return (server or '').lower(), export


def normalize_vers(value):
    """4.2 (float), 4, "4.2", "v4.2", "4.0" -> "4.2", "4", "4.2", "4.2", "4.0"; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('vers must be a version like "4.2" or "3", got %r' % value)
    text = str(value).strip().lower()
    if text.startswith('v'):
        text = text[1:]
    if not _VERS_RE.match(text):
        raise ValueError('vers must be a version like "4.2" or "3", got %r' % value)
    return text


def vers_matches(negotiated, expected):
    """True when the negotiated version is the expected one; "4" accepts any NFSv4 minor version and "4.0"
    also matches the ``vers=4`` that old kernels write for NFSv4.0."""
    if expected is None:
        return True
    match_n, match_e = _VERS_RE.match(negotiated or ''), _VERS_RE.match(expected)
    if not match_n or not match_e:
        return False
    if match_n.group(1) != match_e.group(1):
        return False
    if match_e.group(2) is None:
        return True
    return int(match_n.group(2) or 0) == int(match_e.group(2))


def proto_matches(negotiated, expected):
    """tcp matches tcp and tcp6 (the netid of an IPv6 mount); tcp6 only matches tcp6."""
    if expected is None:
        return True
    if negotiated == expected:
        return True
    return not expected.endswith('6') and negotiated == expected + '6'


def normalize_expected(entries):
    """Expectations as dicts with every key of EXPECT_KEYS; ValueError for a bad entry."""
    result = []
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            raise ValueError('expected_mounts[%d] must be a dict, got %r' % (index, entry))
        unknown = sorted(set(entry) - set(EXPECT_KEYS))
        if unknown:
            raise ValueError('expected_mounts[%d]: unknown keys %s' % (index, ', '.join(unknown)))
        if not entry.get('mount_point'):
            raise ValueError('expected_mounts[%d]: mount_point is required' % index)
        record = dict((key, entry.get(key)) for key in EXPECT_KEYS)
        record['mount_point'] = normalize_path(str(entry['mount_point']))
        try:
            record['vers'] = normalize_vers(entry.get('vers'))
        except ValueError as exc:
            raise ValueError('expected_mounts[%d]: %s' % (index, exc)) from exc
        for key in ('nconnect', 'rsize_max', 'wsize_max', 'port'):
            value = entry.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or _int(value) is None or _int(value) < 1:
                raise ValueError('expected_mounts[%d]: %s must be a positive integer, got %r' % (index, key, value))
            record[key] = _int(value)
        if record['proto'] is not None:
            record['proto'] = str(record['proto']).lower()
        result.append(record)
    return result


def _size_reason(kind, got, want):
    option = kind.lower()
    if got is None:
        return ('%s unknown (no %s= in the mount options), expected %d: check the mount with nfsstat -m'
                % (kind, option, want))
    if got < want:
        return ('%s %d negotiated, expected %d: the server capped the transfer size or the mount asked for less: '
                'mount with %s=%d and raise the server\'s limit (Linux nfsd: /proc/fs/nfsd/max_block_size, '
                'written before nfsd starts); a remount cannot change it: unmount and mount again'
                % (kind, got, want, option, want))
    return ('%s %d negotiated, expected %d: the mount did not ask for %s=%d: mount with %s=%d; a remount '
            'cannot change it: unmount and mount again' % (kind, got, want, option, want, option, want))


def compare_mount(mount, expect):
    """Reasons (strings, without the mount point) for every negotiated option that differs."""
    reasons = []
    if expect.get('source'):
        want = normalize_source(expect['source'])
        if normalize_source(mount.get('device')) != want:
            reasons.append('mounted from %s, expected %s: another export is mounted here: unmount it and mount %s'
                           % (mount.get('device'), expect['source'], expect['source']))
    vers = expect.get('vers')
    if vers is not None and not vers_matches(mount.get('vers'), vers):
        reasons.append('NFS version %s negotiated, expected %s: the client and server agreed on another version: '
                       'mount with vers=%s and check that the server offers it (Linux nfsd: '
                       'cat /proc/fs/nfsd/versions); a remount cannot change it: unmount and mount again'
                       % (mount.get('vers'), vers, vers))
    proto = expect.get('proto')
    if proto is not None and not proto_matches(mount.get('proto'), proto):
        if proto.startswith('rdma'):
            action = ('mount with proto=rdma,port=%d; check that the client can use RDMA (modprobe rpcrdma, an '
                      'ACTIVE RDMA port) and that the server listens on RDMA (rdma %d in /proc/fs/nfsd/portlist)'
                      % (expect.get('port') or NFS_RDMA_PORT, expect.get('port') or NFS_RDMA_PORT))
        else:
            action = 'mount with proto=%s' % proto
        reasons.append('transport %s negotiated, expected %s: %s; unmount and mount again'
                       % (mount.get('proto'), proto, action))
    nconnect = expect.get('nconnect')
    if nconnect is not None and mount.get('nconnect') != nconnect:
        reasons.append('nconnect=%s negotiated (%d transport connection%s in mountstats), expected %d: mount with '
                       'nconnect=%d (Linux 5.3 or later); all mounts of one server share the connections of the first '
                       'one, so unmount every mount of %s and mount them again with nconnect=%d'
                       % (mount.get('nconnect'), mount['xprt']['xprt_count'],
                          '' if mount['xprt']['xprt_count'] == 1 else 's', nconnect, nconnect,
                          mount.get('server') or 'that server', nconnect))
    hard = expect.get('hard')
    if hard is not None and bool(mount.get('hard')) != bool(hard):
        if hard:
            soft = 'softerr' if mount.get('options', {}).get('softerr') else 'soft'
            reasons.append('%s mount, expected hard: a soft mount returns I/O errors to applications when the '
                           'server is slow and can lose written data: mount with hard instead of %s; unmount and '
                           'mount again' % (soft, soft))
        else:
            reasons.append('hard mount, expected soft: processes hang while the server does not answer: mount with '
                           'soft (or softerr) and suitable timeo and retrans; unmount and mount again')
    for kind, key in (('rsize', 'rsize_max'), ('wsize', 'wsize_max')):
        want = expect.get(key)
        if want is not None and mount.get(kind) != want:
            reasons.append(_size_reason(kind, mount.get(kind), want))
    port = expect.get('port')
    if port is not None and mount.get('port') != port:
        got = 'port %s negotiated' % mount['port'] if mount.get('port') else 'port chosen by rpcbind (no port= option)'
        reasons.append('server %s, expected %d: mount with port=%d%s; unmount and mount again'
                       % (got, port, port, ' (the NFS over RDMA port)' if port == NFS_RDMA_PORT else ''))
    return reasons


def _missing_reason(expect, other):
    where = expect.get('source') or 'the export'
    if other:
        return ('%s: expected an NFS mount%s, found %s (device %s) instead: the NFS export is not mounted there: '
                'mount it (mount %s) and check its fstab or automount entry and that %s is reachable'
                % (expect['mount_point'], ' of %s' % expect['source'] if expect.get('source') else '',
                   other.get('fstype'), other.get('device'), expect['mount_point'], where))
    return ('%s: not mounted (no NFS entry in mountstats): mount it (mount %s) and check its fstab or automount '
            'entry and that %s is reachable' % (expect['mount_point'], expect['mount_point'], where))


def _probe_reason(mount_point, probe, mount):
    server = (mount or {}).get('server') or 'the server'
    if probe.get('status') == 'hung':
        return ('%s: hung: stat() and statfs() did not return within %s s: %s does not answer and processes that '
                'touch the mount block (a hard mount waits for ever): check the server and the network path '
                '(ping, rpcinfo -p %s), and dmesg for "nfs: server ... not responding"; umount -f -l %s as a '
                'last resort' % (mount_point, probe.get('timeout'), server, server, mount_point))
    error = probe.get('error') or 'unknown error'
    if 'stale' in error.lower():
        action = 'the export was removed or replaced on the server: unmount (umount -l) and mount again'
    else:
        action = 'check the mount, the export on the server and dmesg'
    return '%s: stat failed: %s: %s' % (mount_point, error, action)


def evaluate(mounts, expected, others=None, probes=None):
    """{healthy, reasons, mounts, missing}: every expected mount must be present (the last NFS entry of a mount
    point is the one in use) with the expected negotiated options; each difference, each hung mount point and
    each failed probe of a mounted path is one reason naming the mount point and the action to take.

    mounts: parse_mountstats() records; expected: normalize_expected() entries (normalized here too);
    others: other_mounts(); probes: {mount_point: probe record} from probe_paths().
    """
    expected = normalize_expected(expected)
    others = others or {}
    probes = probes or {}
    by_point = {}
    for mount in mounts:
        by_point[normalize_path(mount['mount_point'])] = mount
    records = []
    for mount in mounts:
        record = dict(mount)
        record['expected'] = False
        record['reasons'] = []
        records.append(record)
    record_by_point = dict((normalize_path(record['mount_point']), record) for record in records)
    reasons, missing = [], []
    for expect in expected:
        point = expect['mount_point']
        mount = by_point.get(point)
        own = []
        if mount is None:
            missing.append(point)
            reasons.append(_missing_reason(expect, others.get(point)))
        else:
            own.extend('%s: %s' % (point, reason) for reason in compare_mount(mount, expect))
        probe = probes.get(point)
        if probe and probe.get('status') == 'hung':
            own.append(_probe_reason(point, probe, mount))
        elif probe and probe.get('status') == 'error' and mount is not None:
            own.append(_probe_reason(point, probe, mount))
        if mount is not None:
            record = record_by_point[point]
            record['expected'] = True
            record['reasons'].extend(own)
        reasons.extend(own)
    return {'healthy': not reasons, 'reasons': reasons, 'mounts': records, 'missing': missing}


# ---------------------------------------------------------------------------
# probe

def _kill(proc):
    try:
        proc.kill()
    except OSError:
        pass
    try:
        # NFS waits are killable; a child stuck in an uninterruptible wait is left behind (it holds only
        # its own pipes, never the module's stdout, so it cannot hold the task open)
        proc.communicate(timeout=1)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass


def probe_paths(paths, timeout, python=None, code=None):
    """stat() and statvfs() of each path in a child process, all at once, with one deadline:
    {path: {path, status ('ok', 'hung' or 'error'), seconds, timeout, error}}.

    A hard NFS mount whose server does not answer blocks stat() for ever, and statfs always asks the
    server; only the children block, and they are killed at the deadline. Never raises.
    """
    python = python or sys.executable
    code = code if code is not None else PROBE_CODE
    started = time.time()
    deadline = started + timeout
    running = []
    results = {}
    for path in paths:
        if path in results or any(item[0] == path for item in running):
            continue
        try:
            proc = subprocess.Popen([python, '-I', '-S', '-c', code, path], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True, cwd='/')
        except (OSError, ValueError) as exc:
            results[path] = {'path': path, 'status': 'error', 'seconds': 0.0, 'timeout': timeout,
                             'error': 'cannot start the probe: %s' % exc}
            continue
        running.append((path, proc))
    for path, proc in running:
        remaining = max(deadline - time.time(), 0.01)
        try:
            _out, err = proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            _kill(proc)
            results[path] = {'path': path, 'status': 'hung', 'seconds': round(time.time() - started, 3),
                             'timeout': timeout, 'error': None}
            continue
        seconds = round(time.time() - started, 3)
        if proc.returncode == 0:
            results[path] = {'path': path, 'status': 'ok', 'seconds': seconds, 'timeout': timeout, 'error': None}
        else:
            lines = [line for line in err.decode('utf-8', 'replace').splitlines() if line.strip()]
            message = lines[-1].strip() if lines else 'the probe exited with %s' % proc.returncode
            results[path] = {'path': path, 'status': 'error', 'seconds': seconds, 'timeout': timeout,
                             'error': _strip_exception_name(message)}
    return results


def _strip_exception_name(message):
    """``FileNotFoundError: [Errno 2] No such file ...`` -> ``[Errno 2] No such file ...``."""
    name, sep, rest = message.partition(': ')
    if sep and name.replace('.', '').isalnum() and (name.endswith('Error') or name.endswith('Exception')):
        return rest
    return message
