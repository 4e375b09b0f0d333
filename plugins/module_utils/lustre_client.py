# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for the Lustre 2.12 to 2.16 client tools, and the health rules of a Lustre client.

Pure functions on strings: nothing here runs a command. The formats, as the lustre-release
sources print them:

=====================================  ===========================================================
command                                output
=====================================  ===========================================================
``lnetctl net show -v 3``              YAML ``net: - net type / local NI(s): - nid, status up|down,
                                       interfaces {0: ib0}, statistics, health stats {health value}``.
                                       ``health stats`` only from verbosity 2 (a bare ``-v`` is 1);
                                       2.12 has no ``fatal_error``, 2.15 adds ``ping_count`` and
                                       ``next_ping``. LNet down: ``show: - net: errno: -100, descr:
                                       "cannot get networks: Network is down"`` (on stderr).
``lnetctl ping NID``                   ``ping: - primary nid, Multi-Rail: True|False, peer ni: - nid``
                                       (2.16 netlink: ``peer_ni``, libyaml indentation). Failure:
                                       ``manage: - ping: errno: -1, descr: failed to ping NID: <strerror>``
                                       (2.12-2.15, unquoted, so not valid YAML) or the kernel errno
                                       (-110, -113) with a quoted descr (2.16).
``lctl get_param osc.*.state ...``     ``osc.<fs>-OST0000-osc-<instance>.state=`` then ``current_state:
                                       FULL`` and ``state_history: - [ <epoch>, <STATE> ]``.
``lctl get_param health_check``        ``health_check=healthy``, ``NOT HEALTHY`` or ``LBUG`` (older
                                       releases: ``device <obd> reported unhealthy`` lines first).
``lfs df [-h]``                        per filesystem a ``UUID 1K-blocks|bytes Used Available Use%
                                       Mounted on`` header, rows ``<fs>-OST0001_UUID ... /mnt[OST:1]``
                                       and state flags (``D`` degraded, ``R`` read-only, ``N`` no
                                       precreate, ``S`` out of space, ``I`` out of inodes),
                                       ``OST0002 : inactive device`` or ``<uuid> : <strerror>`` rows,
                                       ``filesystem_summary:`` (``filesystem summary:`` in old releases).
``lfs check servers``                  ``<obd> active.`` / ``<obd> inactive.`` on stdout; failures on
                                       stderr: ``lfs check: error: check '<obd>': <strerror> (<errno>)``.
=====================================  ===========================================================

``evaluate`` turns the parsed pieces into one verdict whose reasons name the NI, NID, target
or mount point and say what to do.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import time

HEALTHY_IMPORT_STATES = frozenset(['FULL', 'IDLE'])
LNET_HEALTH_MAX = 1000
# the failure counters of an NI's "health stats" (2.12 has no fatal_error; 2.15 adds ping_count and next_ping)
HEALTH_FAILURE_COUNTERS = ('fatal_error', 'interrupts', 'dropped', 'aborted', 'no_route', 'timeouts', 'error')
ENETDOWN = 100

_KEY_RE = re.compile(r'^(.*?):(?:\s+(.*))?$')
_INT_RE = re.compile(r'^-?\d+$')
_PARAM_RE = re.compile(r'^(?P<name>[A-Za-z0-9_][A-Za-z0-9_.@:*\-]*)=(?P<value>.*)$')
_HISTORY_RE = re.compile(r'^\s*-\s*\[\s*(\d+)\s*,\s*([A-Z_<>]+)\s*\]\s*$')
_DEVICE_RE = re.compile(r'^(?P<fsname>.+?)-(?P<kind>OST|MDT)(?P<index>[0-9a-fA-F]{4,8})(?:-(?P<type>osc|mdc)(?:-(?P<instance>.+))?)?$')
_TARGET_RE = re.compile(r'(?:^|-)(?P<kind>OST|MDT)(?P<index>[0-9a-fA-F]{4,8})(?:_UUID)?$')
_READ_ERROR_RE = re.compile(r"/(?P<type>osc|mdc)/(?P<device>[^/']+)/state")
_DF_HEADER_RE = re.compile(r'^UUID\s+(?P<unit>1K-blocks|bytes|Inodes)\s+\S+\s+\S+\s+\S+\s+Mounted on\s*$')
_DF_ROW_RE = re.compile(r'^(?P<uuid>\S+)\s+(?P<total>\S+)\s+(?P<used>\S+)\s+(?P<avail>\S+)\s+(?P<pct>\d+%|-)\s+'
                        r'(?P<mount>\S.*?)(?:\[(?P<kind>MDT|OST):(?P<index>\d+)\](?:\s+(?P<flags>[A-Za-z?]+))?)?\s*$')
_DF_SUMMARY_RE = re.compile(r'^filesystem[_ ]summary:\s+(?P<total>\S+)\s+(?P<used>\S+)\s+(?P<avail>\S+)\s+'
                            r'(?P<pct>\d+%|-)\s+(?P<mount>\S.*?)\s*$')
_DF_ERROR_ROW_RE = re.compile(r'^(?P<uuid>[^\s:]+)\s*:\s+(?P<error>\S.*?)\s*$')
_SIZE_RE = re.compile(r'^(\d+(?:\.\d+)?)([KMGTPEZYk]?)$')
_CHECK_OK_RE = re.compile(r'^(?P<device>\S+)\s+(?P<status>active|inactive)\.\s*$')
_CHECK_ERROR_RE = re.compile(r"^(?:\S+\s+)?(?:check:\s+)?error:\s+check\s+'(?P<device>[^']+)':\s*(?P<error>.*?)\s*$")
_ERRNO_SUFFIX_RE = re.compile(r'^(?P<text>.*?)\s*\((?P<errno>\d+)\)$')


class LustreParseError(ValueError):
    """Tool output that cannot be parsed at all."""


# ---------------------------------------------------------------------------
# the YAML subset lnetctl prints

def _scalar(text):
    """A YAML scalar as lnetctl prints it: quoted strings, integers, True/False, or plain text."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in ('"', "'"):
        inner = text[1:-1]
        if text[0] == '"':
            return inner.replace('\\"', '"').replace('\\\\', '\\')
        return inner.replace("''", "'")
    if _INT_RE.match(text):
        return int(text)
    if text in ('True', 'true'):
        return True
    if text in ('False', 'false'):
        return False
    if text in ('', '~', 'null', 'NULL'):
        return None
    return text


def _tokens(text):
    """[indent, text] per meaningful line; a block sequence item becomes a '-' token and its content."""
    tokens = []
    for raw in (text or '').splitlines():
        line = raw.rstrip()
        stripped = line.lstrip(' ')
        if not stripped or stripped in ('---', '...') or stripped.startswith('#'):
            continue
        indent = len(line) - len(stripped)
        while stripped == '-' or stripped.startswith('- '):
            tokens.append([indent, '-'])
            rest = stripped[1:]
            stripped = rest.lstrip(' ')
            indent += 1 + len(rest) - len(stripped)
            if not stripped:
                break
        if stripped:
            tokens.append([indent, stripped])
    return tokens


def _split_key(text):
    match = _KEY_RE.match(text)
    if not match or not match.group(1) or match.group(1).startswith(('"', "'", '[', '{')):
        return None
    return match.group(1).strip(), (match.group(2) or '').strip()


def _parse_block(tokens, i, indent):
    """(node, next index) of the block starting at tokens[i], which is at ``indent``."""
    if tokens[i][1] == '-':
        return _parse_sequence(tokens, i, indent)
    if _split_key(tokens[i][1]) is None:
        # a plain scalar, possibly continued on deeper lines
        parts = [tokens[i][1]]
        i += 1
        while i < len(tokens) and tokens[i][0] > indent:
            parts.append(tokens[i][1])
            i += 1
        return _scalar(' '.join(parts)), i
    return _parse_mapping(tokens, i, indent)


def _parse_sequence(tokens, i, indent):
    items = []
    while i < len(tokens) and tokens[i][0] == indent and tokens[i][1] == '-':
        i += 1
        if i < len(tokens) and tokens[i][0] > indent:
            item, i = _parse_block(tokens, i, tokens[i][0])
        else:
            item = None
        items.append(item)
    return items, i


def _parse_mapping(tokens, i, indent):
    mapping = {}
    while i < len(tokens):
        if tokens[i][0] < indent or (tokens[i][0] == indent and tokens[i][1] == '-'):
            break
        split = _split_key(tokens[i][1]) if tokens[i][0] == indent else None
        i += 1
        if split is None:
            continue  # a stray line (no key, or deeper than a finished value): skipped, never fatal
        key, rest = split
        if rest:
            value = rest
            # a plain scalar continued on deeper lines (cYAML prints a newline inside a value that way)
            while i < len(tokens) and tokens[i][0] > indent:
                value += ' ' + tokens[i][1]
                i += 1
            value = _scalar(value)
        elif i < len(tokens) and tokens[i][0] > indent:
            value, i = _parse_block(tokens, i, tokens[i][0])
        elif i < len(tokens) and tokens[i][0] == indent and tokens[i][1] == '-':
            # libyaml style: a block sequence at the indentation of its key
            value, i = _parse_sequence(tokens, i, indent)
        else:
            value = None
        if isinstance(mapping.get(key), list) and isinstance(value, list):
            mapping[key].extend(value)  # the same section printed twice
        else:
            mapping[key] = value
    return mapping, i


def parse_lnetctl_yaml(text):
    """The document lnetctl printed, as dicts, lists and scalars.

    A tolerant parser for the block-style YAML subset lnetctl prints (cYAML in 2.12-2.15, libyaml
    in 2.16), not a general YAML parser: keys end at the first ': ', so the unquoted
    ``descr: failed to ping 10.0.0.1@o2ib: Input/output error`` of 2.12-2.15 (which PyYAML rejects)
    parses. Several top-level documents (stdout and stderr joined) merge into one mapping.
    Raises LustreParseError when the text has content but no mapping at its top.
    """
    tokens = _tokens(text)
    if not tokens:
        return {}
    result = {}
    i = 0
    while i < len(tokens):
        indent = tokens[i][0]
        node, i = _parse_block(tokens, i, indent)
        if not isinstance(node, dict):
            raise LustreParseError('lnetctl output is not a YAML mapping: %r' % (text.strip()[:200],))
        for key, value in node.items():
            if key in result and isinstance(result[key], list) and isinstance(value, list):
                result[key].extend(value)
            else:
                result[key] = value
    return result


def lnetctl_errors(doc):
    """[{section, entity, errno, descr}] of the ``<section>: - <entity>: {errno, descr}`` error blocks."""
    errors = []
    for section, items in (doc or {}).items():
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, dict):
                continue
            for entity, body in item.items():
                if isinstance(body, dict) and 'errno' in body:
                    descr = body.get('descr')
                    errors.append({
                        'section': section,
                        'entity': entity,
                        'errno': _int_or_none(body.get('errno')),
                        'descr': str(descr).strip() if descr is not None else None,
                    })
    return errors


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_streams(stdout, stderr):
    """(merged document, parse problems) of lnetctl's stdout and stderr, each parsed on its own."""
    doc, problems = {}, []
    for text in (stdout, stderr):
        if not (text or '').strip():
            continue
        try:
            part = parse_lnetctl_yaml(text)
        except LustreParseError as exc:
            problems.append(str(exc))
            continue
        for key, value in part.items():
            if key in doc and isinstance(doc[key], list) and isinstance(value, list):
                doc[key].extend(value)
            else:
                doc[key] = value
    return doc, problems


def normalize_net(net):
    """LNet net name as libcfs prints it: o2ib0 -> o2ib, tcp0 -> tcp, tcp1 stays."""
    net = (net or '').strip().lower()
    if net.endswith('0') and len(net) > 1 and not net[-2].isdigit():
        return net[:-1]
    return net


def nid_net(nid):
    """Net of a NID: 10.0.0.1@o2ib1 -> o2ib1; None without '@'."""
    if not nid or '@' not in nid:
        return None
    return normalize_net(nid.rsplit('@', 1)[1])


# ---------------------------------------------------------------------------
# lnetctl

def _snake(key):
    return str(key).strip().replace(' ', '_')


def parse_net_show(stdout, stderr=''):
    """{nis: [...], errors: [...], lnet_down: bool, problems: [...]} from ``lnetctl net show [-v N]``.

    Each NI: {net, nid, status, interfaces: [names], health_value (None without ``health stats``),
    health_stats: {snake_case: int}, statistics: {send_count, recv_count, drop_count} or None}.
    ``lo`` NIs are listed too (net ``lo``); the rules ignore them.
    """
    doc, problems = _parse_streams(stdout, stderr)
    nis = []
    nets = doc.get('net')
    if nets is not None and not isinstance(nets, list):
        problems.append('lnetctl net show: "net" is not a list')
        nets = []
    for net in nets or []:
        if not isinstance(net, dict):
            continue
        name = net.get('net type')
        if isinstance(net.get('errno'), int):
            continue  # the error form, reported by lnetctl_errors
        for ni in net.get('local NI(s)') or []:
            if not isinstance(ni, dict):
                continue
            interfaces = ni.get('interfaces')
            if isinstance(interfaces, dict):
                interfaces = [str(interfaces[key]) for key in sorted(interfaces, key=lambda k: (_int_or_none(k) is None, _int_or_none(k), str(k)))]
            elif isinstance(interfaces, list):
                interfaces = [str(item) for item in interfaces if item is not None]
            else:
                interfaces = []
            health = ni.get('health stats')
            health_stats = dict((_snake(k), v) for k, v in health.items()) if isinstance(health, dict) else {}
            statistics = ni.get('statistics') if isinstance(ni.get('statistics'), dict) else None
            status = ni.get('status')
            nis.append({
                'net': str(name) if name is not None else nid_net(ni.get('nid')),
                'nid': str(ni.get('nid')) if ni.get('nid') is not None else None,
                'status': str(status).lower() if status is not None else None,
                'interfaces': interfaces,
                'health_value': health_stats.get('health_value') if isinstance(health_stats.get('health_value'), int) else None,
                'health_stats': health_stats,
                'statistics': statistics,
            })
    errors = lnetctl_errors(doc)
    if doc and 'net' not in doc and not errors:
        problems.append('no "net" section in %r' % (' '.join(((stdout or '') + ' ' + (stderr or '')).split())[:200],))
    lnet_down = any(error['errno'] == -ENETDOWN or 'network is down' in (error['descr'] or '').lower() for error in errors)
    return {'nis': nis, 'errors': errors, 'lnet_down': lnet_down, 'problems': problems}


def parse_ping(stdout, stderr='', nid=None):
    """One ``lnetctl ping <nid>`` result.

    {nid, reachable, primary_nid, multi_rail, peer_nis: [nids], errno, error}; ``error`` is the
    lnetctl ``descr`` (or why the output could not be read) when the NID did not answer.
    """
    doc, problems = _parse_streams(stdout, stderr)
    result = {'nid': nid, 'reachable': False, 'primary_nid': None, 'multi_rail': None, 'peer_nis': [],
              'errno': None, 'error': None}
    for item in doc.get('ping') or []:
        if not isinstance(item, dict) or 'primary nid' not in item:
            continue
        peers = item.get('peer ni', item.get('peer_ni')) or []
        multi_rail = item.get('Multi-Rail')
        if isinstance(multi_rail, str):
            multi_rail = multi_rail.lower() == 'true'
        result.update({
            'reachable': True,
            'primary_nid': str(item.get('primary nid')),
            # 2.16 sends Multi-Rail as a netlink flag: absent means False
            'multi_rail': bool(multi_rail),
            'peer_nis': [str(peer.get('nid')) for peer in peers if isinstance(peer, dict) and peer.get('nid')],
        })
        break
    if not result['reachable']:
        errors = [error for error in lnetctl_errors(doc) if error['entity'] in ('ping', 'startup')] or lnetctl_errors(doc)
        if errors:
            result['errno'] = errors[0]['errno']
            result['error'] = errors[0]['descr'] or 'errno %s' % errors[0]['errno']
        elif problems:
            result['error'] = problems[0]
        else:
            text = ' '.join(((stdout or '') + ' ' + (stderr or '')).split())
            result['error'] = text[:300] if text else 'no output'
    return result


# ---------------------------------------------------------------------------
# lctl get_param

def parse_get_param(text):
    """[(name, value)] of ``lctl get_param`` output; a multi-line value follows ``name=`` on its own lines."""
    params = []
    name, lines = None, []
    for raw in (text or '').splitlines():
        match = _PARAM_RE.match(raw)
        if match:
            if name is not None:
                params.append((name, '\n'.join(lines).strip('\n')))
            name = match.group('name')
            lines = [match.group('value')] if match.group('value') else []
        elif name is not None:
            lines.append(raw)
    if name is not None:
        params.append((name, '\n'.join(lines).strip('\n')))
    return params


def _error_lines(text):
    return [line.strip() for line in (text or '').splitlines() if line.strip().lower().startswith('error')]


def _epoch_utc(value):
    try:
        return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(value)))
    except (TypeError, ValueError, OverflowError):
        return None


def split_device(device):
    """{fsname, target, kind, index} of an OSC/MDC device such as fs-OST000a-osc-ffff8a..; None parts when not one."""
    match = _DEVICE_RE.match(device or '')
    if not match:
        return {'fsname': None, 'target': None, 'kind': None, 'index': None}
    return {
        'fsname': match.group('fsname'),
        'target': '%s-%s%s' % (match.group('fsname'), match.group('kind'), match.group('index')),
        'kind': match.group('kind'),
        'index': int(match.group('index'), 16),
    }


def parse_import_state(value):
    """{state, history: [[epoch, STATE]], since} of one ``state`` parameter value."""
    state, history = None, []
    for line in (value or '').splitlines():
        stripped = line.strip()
        if stripped.startswith('current_state:'):
            state = stripped.split(':', 1)[1].strip() or None
            continue
        match = _HISTORY_RE.match(line)
        if match:
            history.append([int(match.group(1)), match.group(2)])
    since = None
    if state and history and history[-1][1] == state:
        # the start of the last unbroken run of the current state
        since = history[-1][0]
        for epoch, past in reversed(history):
            if past != state:
                break
            since = epoch
    return {'state': state, 'history': history, 'since': since}


def parse_import_states(stdout, stderr=''):
    """{targets: [...], errors: [...]} from ``lctl get_param osc.*.state mdc.*.state``.

    Each target: {device, type (osc|mdc), fsname, target (fs-OST0000), kind (OST|MDT), index,
    state, since (epoch of the current run), since_utc, history, healthy, error}. A device whose
    state could not be read has state None and the read error.
    """
    targets = []
    for name, value in parse_get_param(stdout):
        parts = name.split('.')
        if len(parts) < 3 or parts[-1] != 'state' or parts[0] not in ('osc', 'mdc'):
            continue
        device = '.'.join(parts[1:-1])
        record = {'device': device, 'type': parts[0]}
        record.update(split_device(device))
        record.update(parse_import_state(value))
        record['since_utc'] = _epoch_utc(record['since']) if record['since'] is not None else None
        record['healthy'] = record['state'] in HEALTHY_IMPORT_STATES
        record['error'] = None
        targets.append(record)
    errors = []
    seen = set(target['device'] for target in targets)
    for line in _error_lines(stderr) + _error_lines(stdout):
        match = _READ_ERROR_RE.search(line)
        if match and match.group('device') not in seen:
            device = match.group('device')
            seen.add(device)
            record = {'device': device, 'type': match.group('type'), 'state': None, 'history': [], 'since': None,
                      'since_utc': None, 'healthy': False, 'error': line.split(':')[-1].strip()}
            record.update(split_device(device))
            targets.append(record)
        else:
            errors.append(line)
    return {'targets': targets, 'errors': errors}


def parse_health_check(text):
    """{status, healthy, unhealthy_devices, raw} of ``lctl get_param [-n] health_check``; None for no output.

    status is ``healthy``, ``NOT HEALTHY``, ``LBUG`` or the text printed when it is none of those.
    """
    lines = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if line.startswith('health_check='):
            line = line[len('health_check='):].strip()
        if line:
            lines.append(line)
    if not lines:
        return None
    devices = []
    for line in lines:
        match = re.match(r'^device\s+(\S+)\s+reported unhealthy', line)
        if match:
            devices.append(match.group(1))
    if any(line == 'LBUG' for line in lines):
        status = 'LBUG'
    elif any(line.upper() == 'NOT HEALTHY' for line in lines) or devices:
        status = 'NOT HEALTHY'
    elif all(line == 'healthy' for line in lines):
        status = 'healthy'
    else:
        status = ' '.join(lines)
    return {'status': status, 'healthy': status == 'healthy', 'unhealthy_devices': devices, 'raw': '\n'.join(lines)}


# ---------------------------------------------------------------------------
# lfs

def parse_size(text, unit='1K-blocks'):
    """Bytes of one ``lfs df`` size: 1K-blocks counts, ``-h`` values (``976.9G``, ``1.5T``, plain bytes).

    For ``Inodes`` output, the count. None when not a number.
    """
    text = (text or '').strip()
    if unit == '1K-blocks':
        return int(text) * 1024 if text.isdigit() else None
    match = _SIZE_RE.match(text)
    if not match:
        return None
    number, suffix = float(match.group(1)), match.group(2)
    if not suffix:
        return int(number)
    base = 1000 if suffix == 'k' else 1024
    power = 'KMGTPEZY'.index(suffix.upper()) + 1
    return int(round(number * base ** power))


def _target_of(uuid, fsname=None):
    """(target, kind, index) of an lfs UUID: fs-OST0001_UUID -> fs-OST0001; OST0002 -> <fsname>-OST0002."""
    name = uuid[:-5] if uuid.endswith('_UUID') else uuid
    match = _TARGET_RE.search(name)
    if not match:
        return name, None, None
    if fsname and '-' not in name:
        name = '%s-%s' % (fsname, name)
    return name, match.group('kind'), int(match.group('index'), 16)


def parse_lfs_df(stdout, stderr=''):
    """{filesystems: [...], errors: [...]} from ``lfs df`` or ``lfs df -h`` (several filesystems).

    Each filesystem: {mount, fsname, unit (1K-blocks|bytes|Inodes), human, summary, targets}; summary
    and each target have total, used, available (bytes; counts for Inodes; approximate for -h) and
    use_percent. A target also has uuid, target, kind, index, flags, status (ok|inactive|error) and
    error. ``errors``: lines that belong to no row, such as ``lfs df: cannot open ...``.
    """
    filesystems, errors = [], []
    current = None

    def start(unit):
        record = {'mount': None, 'fsname': None, 'unit': unit, 'human': unit != '1K-blocks' and unit != 'Inodes',
                  'summary': None, 'targets': []}
        filesystems.append(record)
        return record

    def numbers(match, unit):
        pct = match.group('pct')
        return {
            'total': parse_size(match.group('total'), unit),
            'used': parse_size(match.group('used'), unit),
            'available': parse_size(match.group('avail'), unit),
            'use_percent': int(pct[:-1]) if pct.endswith('%') else None,
        }

    for raw in (stdout or '').splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        header = _DF_HEADER_RE.match(line)
        if header:
            current = start(header.group('unit'))
            continue
        summary = _DF_SUMMARY_RE.match(line)
        if summary:
            if current is None or current['summary'] is not None:
                current = start('1K-blocks' if summary.group('total').isdigit() else 'bytes')
            current['summary'] = numbers(summary, current['unit'])
            current['mount'] = summary.group('mount')
            for target in current['targets']:
                if target['mount'] is None:
                    target['mount'] = current['mount']
            current = None
            continue
        row = _DF_ROW_RE.match(line)
        if row and row.group('pct') and (row.group('kind') or row.group('uuid').endswith('_UUID')):
            if current is None:
                current = start('1K-blocks' if row.group('total').isdigit() else 'bytes')
            uuid = row.group('uuid')
            target, kind, index = _target_of(uuid)
            if current['fsname'] is None and kind:
                current['fsname'] = target.rsplit('-', 1)[0] if '-' in target else None
            record = {'uuid': uuid, 'target': target, 'kind': row.group('kind') or kind,
                      'index': int(row.group('index')) if row.group('index') else index,
                      'mount': row.group('mount'),
                      'flags': row.group('flags') or '', 'status': 'ok', 'error': None}
            record.update(numbers(row, current['unit']))
            current['targets'].append(record)
            continue
        failed = _DF_ERROR_ROW_RE.match(line)
        if failed and _TARGET_RE.search(failed.group('uuid')):
            if current is None:
                current = start('1K-blocks')
            target, kind, index = _target_of(failed.group('uuid'), current['fsname'])
            error = failed.group('error')
            current['targets'].append({
                'uuid': failed.group('uuid'), 'target': target, 'kind': kind, 'index': index, 'mount': None,
                'flags': '', 'status': 'inactive' if error == 'inactive device' else 'error',
                'error': error, 'total': None, 'used': None, 'available': None, 'use_percent': None,
            })
            continue
        errors.append(line.strip())
    for record in filesystems:
        if record['mount'] is None:
            mounts = [t['mount'] for t in record['targets'] if t['mount']]
            record['mount'] = mounts[0] if mounts else None
        if record['fsname'] is None:
            names = [t['target'].rsplit('-', 1)[0] for t in record['targets'] if t['target'] and '-' in t['target']]
            record['fsname'] = names[0] if names else None
        for target in record['targets']:
            if target['target'] and '-' not in target['target'] and record['fsname'] and target['kind']:
                target['target'] = '%s-%s' % (record['fsname'], target['target'])
            if target['mount'] is None:
                target['mount'] = record['mount']
    errors.extend(line.strip() for line in (stderr or '').splitlines() if line.strip())
    return {'filesystems': filesystems, 'errors': errors}


def parse_check_servers(stdout, stderr=''):
    """{servers: [...], errors: [...]} from ``lfs check servers`` (stdout and stderr).

    Each server: {device, fsname, target (fs-OST0000, or the MGC name), kind (OST|MDT|MGS), active,
    status (active|inactive|error), error, errno}.
    """
    servers, errors = [], []
    lines = [line.rstrip() for line in ((stdout or '') + '\n' + (stderr or '')).splitlines()]
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        match = _CHECK_OK_RE.match(line)
        if match:
            servers.append(_server(match.group('device'), match.group('status'), None))
            continue
        match = _CHECK_ERROR_RE.match(line)
        if match:
            error = match.group('error')
            if not error and i < len(lines):
                # the message wrapped onto the next line
                error = lines[i].strip()
                i += 1
            servers.append(_server(match.group('device'), 'error', error))
            continue
        errors.append(line)
    return {'servers': servers, 'errors': errors}


def _server(device, status, error):
    parts = split_device(device)
    kind = parts['kind']
    target = parts['target']
    if device.startswith('MGC'):
        kind, target = 'MGS', device
    errno = None
    if error:
        match = _ERRNO_SUFFIX_RE.match(error)
        if match:
            errno = -int(match.group('errno'))
    return {'device': device, 'fsname': parts['fsname'], 'target': target or device, 'kind': kind,
            'active': status == 'active', 'status': status, 'error': error, 'errno': errno}


# ---------------------------------------------------------------------------
# rules

def _norm_mount(path):
    path = (path or '').strip()
    return (path.rstrip('/') or '/') if path else path


def command_reason(failure):
    """Reason for a command that timed out or failed without output an operator can read.

    failure: {command, timed_out, timeout, rc, msg}.
    """
    command = failure.get('command')
    if failure.get('timed_out'):
        return ('`%s` did not finish within %s s and was killed: a Lustre client call is hung, usually because a '
                'server or the network path to it is down: check dmesg for LustreError and "Connection lost", '
                'lnetctl ping the server NIDs and lctl get_param osc.*.import' % (command, failure.get('timeout')))
    return '`%s` failed (rc %s): %s' % (command, failure.get('rc'), failure.get('msg') or 'no output')


_STATE_ACTIONS = {
    'EVICTED': ('the server evicted this client (it reconnects on its own): if it stays EVICTED, look for the eviction '
                'in the server log and dmesg here, and remount if it does not recover'),
    'CLOSED': 'the import is closed: remount the filesystem if it should be in use',
    'NEW': 'the import never connected: check the server NIDs of the target (lctl get_param {type}.{device}.import)',
}
_RECONNECT_ACTION = ('the client lost its connection to the {kind} and is reconnecting: check that the server of '
                     '{target} is up, that its NIDs answer lnetctl ping (lctl get_param {type}.{device}.import lists '
                     'current_connection and failover_nids), and dmesg for LustreError')


def _target_reason(target, check_error=None):
    state = target.get('state')
    kind = target.get('kind') or ('OST' if target.get('type') == 'osc' else 'MDT')
    name = target.get('target') or target['device']
    fmt = dict(kind=kind, target=name, type=target.get('type') or 'osc', device=target['device'])
    if state is None:
        text = '%s (%s %s): import state unreadable (%s): ' % (name, fmt['type'], target['device'], target.get('error'))
        action = 'the device is being set up or torn down: run lctl dl and retry'
    else:
        since = ' since %s' % target['since_utc'] if target.get('since_utc') else ''
        text = '%s (%s %s): import state %s%s, expected FULL or IDLE: ' % (name, fmt['type'], target['device'], state, since)
        action = _STATE_ACTIONS.get(state, _RECONNECT_ACTION).format(**fmt)
    if check_error:
        action += '; lfs check servers: %s' % check_error
    return text + action


def evaluate(net=None, pings=None, states=None, health=None, df=None, servers=None, mgs_nids=(), expected_mounts=(),
             command_failures=()):
    """{healthy, reasons, lnet_up} of a Lustre client.

    net: parse_net_show(); pings: [parse_ping()] (a ping that timed out: {nid, reachable False,
    timed_out True, error}); states: parse_import_states(); health: parse_health_check();
    df: parse_lfs_df(); servers: parse_check_servers(). None for a piece that was not read (its
    command failure goes in command_failures, see command_reason). One reason per problem, naming
    the NI, NID, target or mount point.
    """
    reasons = [command_reason(failure) for failure in command_failures or ()]
    lnet_up = None
    local_nets = set()
    if net is not None:
        lnet_up = not net['lnet_down']
        if net['lnet_down']:
            error = [e for e in net['errors'] if e['errno'] == -ENETDOWN or 'network is down' in (e['descr'] or '').lower()][0]
            reasons.append('LNet is down (lnetctl: errno %s, %s): start it (systemctl start lnet, or modprobe lnet; lnetctl '
                           'lnet configure; lnetctl import /etc/lnet.conf), check that the fabric interface was up before '
                           'lnet.service ran (journalctl -u lnet); no MGS NID can be pinged until it is up'
                           % (error['errno'], error['descr']))
        else:
            for error in net['errors']:
                reasons.append('lnetctl net show failed (errno %s, %s): check that the lnet module is loaded (lsmod | grep '
                               'lnet) and configured (systemctl status lnet)' % (error['errno'], error['descr']))
            if net['errors']:
                lnet_up = None
            real = [ni for ni in net['nis'] if ni['net'] != 'lo']
            if not net['errors'] and not real and net['problems']:
                reasons.append('lnetctl net show printed output that could not be read (%s): run it by hand and check the '
                               'lnet module and lnetctl versions match' % net['problems'][0])
            elif not net['errors'] and not real:
                reasons.append('LNet has no network besides lo: configure the fabric NI (lnetctl net add --net o2ib --if ib0, '
                               'or in /etc/lnet.conf imported by lnet.service) and look for import errors in journalctl -u lnet')
            for ni in real:
                local_nets.add(normalize_net(ni['net']))
                label = 'LNet NI %s (%s, net %s)' % (ni['nid'], ', '.join(ni['interfaces']) or 'no interface', ni['net'])
                if ni['status'] != 'up':
                    reasons.append('%s: status %s: check the interface (ip link show %s) and, for o2ib, that its RDMA port '
                                   'is ACTIVE (ibstat, rdma link); dmesg shows the LNet/LND errors; LNet marks the NI up '
                                   'again when the link recovers' % (label, ni['status'], (ni['interfaces'] or ['<if>'])[0]))
                elif ni['health_value'] is not None and ni['health_value'] < LNET_HEALTH_MAX:
                    counters = ', '.join('%s %s' % (key, ni['health_stats'][key]) for key in HEALTH_FAILURE_COUNTERS
                                         if isinstance(ni['health_stats'].get(key), int) and ni['health_stats'][key])
                    reasons.append('%s: health value %d, expected %d: LNet saw send failures on this NI%s: check the link '
                                   'and its error counters; the value recovers as sends succeed (lnetctl net show -v 3)'
                                   % (label, ni['health_value'], LNET_HEALTH_MAX, ' (%s)' % counters if counters else ''))

    by_nid = dict((ping.get('nid'), ping) for ping in pings or [])
    for nid in mgs_nids or ():
        ping = by_nid.get(nid)
        if ping is None or ping.get('reachable') or lnet_up is False:
            continue
        if ping.get('timed_out'):
            reasons.append('MGS NID %s: `lnetctl ping %s` was killed (%s): check that the MGS is up and the fabric path '
                           'to it, and dmesg for LNet errors' % (nid, nid, ping.get('error') or 'timed out'))
            continue
        net_name = nid_net(nid)
        hint = ''
        if net_name and local_nets and net_name not in local_nets:
            hint = (' this node has no NI on net %s (its nets: %s): add one or an LNet route to it (lnetctl route show);'
                    % (net_name, ', '.join(sorted(local_nets))))
        detail = ping.get('error') or 'no answer'
        if ping.get('errno') is not None:
            detail = 'errno %s, %s' % (ping['errno'], detail)
        reasons.append('MGS NID %s does not answer lnetctl ping (%s):%s check that the MGS is up, the fabric path to it '
                       '(ping its address, ibstat) and that the MGS NID is right' % (nid, detail, hint))

    if health is not None and not health['healthy']:
        if health['status'] == 'LBUG':
            reasons.append('lctl get_param health_check reports LBUG: the Lustre kernel modules hit an assertion: reboot '
                           'the node; keep dmesg, the crash dump and lctl dk output for the bug report')
        else:
            devices = ' (%s)' % ', '.join('device %s reported unhealthy' % d for d in health['unhealthy_devices']) \
                if health['unhealthy_devices'] else ''
            reasons.append('lctl get_param health_check reports %s%s: a Lustre device on this node failed its health '
                           'check: look for LustreError in dmesg and at the import states of its targets'
                           % (health['status'], devices))

    if expected_mounts:
        mounted = set(_norm_mount(fs['mount']) for fs in (df or {}).get('filesystems', []) if fs.get('mount'))
        for mount in expected_mounts:
            if df is not None and _norm_mount(mount) not in mounted:
                reasons.append('expected Lustre mount %s is not in lfs df: mount it (mount %s; check its fstab line, '
                               '_netdev and that the MGS NIDs answer lnetctl ping)' % (mount, mount))

    check_errors = dict((server['device'], server['error'] or server['status'])
                        for server in (servers or {}).get('servers', []) if not server['active'])
    reported_devices, reported_targets = set(), set()
    for target in (states or {}).get('targets', []):
        if target['healthy']:
            continue
        reasons.append(_target_reason(target, check_errors.get(target['device'])))
        reported_devices.add(target['device'])
        reported_targets.add(target.get('target') or target['device'])

    for server in (servers or {}).get('servers', []):
        if server['active'] or server['device'] in reported_devices:
            continue
        reported_targets.add(server['target'])
        what = server['error'] or 'inactive'
        if server['kind'] == 'MGS':
            action = ('the client lost its MGS connection (configuration changes do not reach it): check that the MGS '
                      'is up and answers lnetctl ping %s' % server['device'][3:])
        else:
            action = ('check that the server of %s is up and reachable (lnetctl ping its NIDs, lctl get_param '
                      '*.%s.import)' % (server['target'], server['device']))
        label = server['device'] if server['target'] == server['device'] else '%s (%s)' % (server['target'], server['device'])
        reasons.append('%s: not active in lfs check servers: %s: %s' % (label, what, action))
    for line in (servers or {}).get('errors', []):
        if 'cannot find mounted Lustre filesystem' in line:
            continue  # nothing mounted: the expected mounts rule says whether that is a problem
        reasons.append('lfs check servers: %s' % line)

    for fs in (df or {}).get('filesystems', []):
        for target in fs['targets']:
            if target['status'] == 'ok' or target['target'] in reported_targets:
                continue
            where = '%s[%s:%s]' % (fs['mount'], target['kind'], target['index']) if target['kind'] else fs['mount']
            if target['status'] == 'inactive':
                reasons.append('%s (%s): inactive device in lfs df: the target is temporarily inactive or offline: check '
                               'its server and the import state (lctl get_param osc.*.state)' % (target['target'], where))
            else:
                reasons.append('%s (%s): lfs df: %s: check its server and the import state'
                               % (target['target'], where, target['error']))
    return {'healthy': not reasons, 'reasons': reasons, 'lnet_up': lnet_up}
