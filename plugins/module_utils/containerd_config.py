# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what containerd will really run with: ``containerd config dump`` and ``containerd --version``.

``config dump`` prints the merged configuration (the file, its ``imports`` and every default)
as TOML: config version 2 (containerd 1.6 and 1.7, CRI plugin ``io.containerd.grpc.v1.cri``)
or version 3 (containerd 2.x, CRI split into ``io.containerd.cri.v1.runtime`` and
``io.containerd.cri.v1.images``). 1.x writes double-quoted strings, 2.x single-quoted ones.

The cgroup driver that counts is ``SystemdCgroup`` under each runtime's ``options``; the
legacy top-level ``systemd_cgroup`` of the CRI plugin stays ``false`` and proves nothing.

The TOML is read with the standard library's ``tomllib`` where it exists (Python 3.11+) and
otherwise with ``parse_toml`` below, which reads the subset ``config dump`` writes (tables,
``key = value`` with strings, numbers, booleans and arrays).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

try:
    import tomllib
except ImportError:  # Python < 3.11: the subset reader below
    tomllib = None

CRI_V2 = 'io.containerd.grpc.v1.cri'
CRI_V3_RUNTIME = 'io.containerd.cri.v1.runtime'
CRI_V3_IMAGES = 'io.containerd.cri.v1.images'

_VERSION_RE = re.compile(r'^containerd\s+\S+\s+v?(\d+)\.(\d+)\.(\d+)(\S*)')


class ConfigError(ValueError):
    """Text that is not a containerd config dump."""


def parse_version(text):
    """``containerd --version`` -> ``{'version': '1.6.20', 'major': 1, 'minor': 6, 'patch': 20}``.

    Debian: ``containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3``;
    containerd.io: ``containerd containerd.io 1.7.25 bcc810d6...``;
    2.x: ``containerd github.com/containerd/containerd/v2 v2.0.2 c507a025...``.
    """
    for line in (text or '').splitlines():
        found = _VERSION_RE.match(line.strip())
        if found:
            major, minor, patch = (int(part) for part in found.groups()[:3])
            return {'version': '%d.%d.%d' % (major, minor, patch), 'major': major, 'minor': minor, 'patch': patch}
    raise ConfigError('not the output of containerd --version: %r' % (text or '')[:200])


# --- the TOML subset of config dump (used where tomllib is missing) ----------------------

_BARE_KEY = re.compile(r'[A-Za-z0-9_-]+')


def _split_key(text, lineno):
    """``plugins."io.containerd.grpc.v1.cri".containerd`` -> ['plugins', 'io.containerd.grpc.v1.cri', 'containerd']."""
    parts, pos, text = [], 0, text.strip()
    while pos < len(text):
        char = text[pos]
        if char in '"\'':
            end = text.find(char, pos + 1)
            if end < 0:
                raise ConfigError('line %d: unclosed quote in key %r' % (lineno, text))
            parts.append(text[pos + 1:end])
            pos = end + 1
        else:
            found = _BARE_KEY.match(text, pos)
            if not found:
                raise ConfigError('line %d: bad key %r' % (lineno, text))
            parts.append(found.group(0))
            pos = found.end()
        while pos < len(text) and text[pos] in ' \t':
            pos += 1
        if pos < len(text):
            if text[pos] != '.':
                raise ConfigError('line %d: bad key %r' % (lineno, text))
            pos += 1
            while pos < len(text) and text[pos] in ' \t':
                pos += 1
    return parts


def _string(text, pos, lineno):
    """A basic ("...", with escapes) or literal ('...') string at text[pos]; returns (value, end)."""
    quote = text[pos]
    out, pos = [], pos + 1
    escapes = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\', 'b': '\b', 'f': '\f'}
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return ''.join(out), pos + 1
        if char == '\\' and quote == '"':
            nxt = text[pos + 1:pos + 2]
            if nxt in escapes:
                out.append(escapes[nxt])
                pos += 2
                continue
            if nxt in ('u', 'U'):
                width = 4 if nxt == 'u' else 8
                out.append(chr(int(text[pos + 2:pos + 2 + width], 16)))
                pos += 2 + width
                continue
        out.append(char)
        pos += 1
    raise ConfigError('line %d: unclosed string' % lineno)


def _value(text, pos, lineno):
    """One TOML value at text[pos]; returns (value, end)."""
    while pos < len(text) and text[pos] in ' \t\r\n':
        pos += 1
    char = text[pos:pos + 1]
    if char in ('"', "'"):
        return _string(text, pos, lineno)
    if char == '[':
        items, pos = [], pos + 1
        while True:
            while pos < len(text) and (text[pos] in ' \t\r\n,' or text[pos] == '#'):
                if text[pos] == '#':
                    pos = text.find('\n', pos) if '\n' in text[pos:] else len(text)
                    continue
                pos += 1
            if pos >= len(text):
                raise ConfigError('line %d: unclosed array' % lineno)
            if text[pos] == ']':
                return items, pos + 1
            item, pos = _value(text, pos, lineno)
            items.append(item)
    if char == '{':
        table, pos = {}, pos + 1
        while True:
            while pos < len(text) and text[pos] in ' \t,':
                pos += 1
            if text[pos:pos + 1] == '}':
                return table, pos + 1
            equals = text.find('=', pos)
            if equals < 0:
                raise ConfigError('line %d: bad inline table' % lineno)
            key = _split_key(text[pos:equals], lineno)
            item, pos = _value(text, equals + 1, lineno)
            _put(table, key, item, lineno)
    found = re.compile(r'[^\s,\]}#]+').match(text, pos)
    if not found:
        raise ConfigError('line %d: missing value' % lineno)
    word = found.group(0)
    if word in ('true', 'false'):
        return word == 'true', found.end()
    try:
        return int(word.replace('_', ''), 0) if not re.match(r'^[+-]?0\d', word) else int(word), found.end()
    except ValueError:
        pass
    try:
        return float(word.replace('_', '')), found.end()
    except ValueError:
        raise ConfigError('line %d: bad value %r' % (lineno, word))


def _put(table, key, value, lineno):
    for part in key[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError('line %d: %s is not a table' % (lineno, '.'.join(key)))
    table[key[-1]] = value


def _table(root, key, lineno):
    for part in key:
        root = root.setdefault(part, {})
        if isinstance(root, list):
            root = root[-1]
        if not isinstance(root, dict):
            raise ConfigError('line %d: %s is not a table' % (lineno, '.'.join(key)))
    return root


def parse_toml(text):
    """The TOML that ``containerd config dump`` writes, as nested dicts."""
    root = {}
    current = root
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        lineno = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith('#'):
            continue
        if line.startswith('[') and ']' not in line:
            raise ConfigError('line %d: unclosed table header %r' % (lineno, line[:120]))
        if line.startswith('[['):
            key = _split_key(line[2:line.rindex(']]')], lineno)
            parent = _table(root, key[:-1], lineno)
            current = {}
            parent.setdefault(key[-1], []).append(current)
            continue
        if line.startswith('['):
            current = _table(root, _split_key(line[1:line.rindex(']')], lineno), lineno)
            continue
        if '=' not in line:
            raise ConfigError('line %d: expected key = value: %r' % (lineno, line[:120]))
        # the key ends at the first = outside quotes
        pos, quote = 0, None
        while pos < len(line):
            if quote:
                quote = None if line[pos] == quote else quote
            elif line[pos] in '"\'':
                quote = line[pos]
            elif line[pos] == '=':
                break
            pos += 1
        key = _split_key(line[:pos], lineno)
        rest = line[pos + 1:]
        # arrays and inline tables may span lines: read on until the value parses
        while True:
            try:
                value, _end = _value(rest, 0, lineno)
                break
            except (ConfigError, IndexError):
                if index >= len(lines) or not rest.lstrip().startswith(('[', '{')):
                    raise
                rest += '\n' + lines[index]
                index += 1
        _put(current, key, value, lineno)
    return root


def load(text):
    """The dump as nested dicts (tomllib where available)."""
    if not (text or '').strip():
        raise ConfigError('containerd config dump printed nothing')
    if tomllib is not None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError('not TOML: %s' % exc)
    return parse_toml(text)


# --- what the dump says -------------------------------------------------------------------


def summarize(config):
    """The keys that decide how Kubernetes pods run, from a loaded dump.

    Returns {config_version, cri_plugin, default_runtime, runtimes: {name: {runtime_type,
    binary_name, systemd_cgroup}}, sandbox_image, enable_cdi (None where the version has no CDI
    switch), cdi_spec_dirs, legacy_systemd_cgroup, imports}.
    """
    version = config.get('version', 1)
    plugins = config.get('plugins', {}) or {}
    if version >= 3:
        runtime_plugin = plugins.get(CRI_V3_RUNTIME, {}) or {}
        images = plugins.get(CRI_V3_IMAGES, {}) or {}
        sandbox_image = (images.get('pinned_images', {}) or {}).get('sandbox', '')
        cri_plugin = CRI_V3_RUNTIME
    else:
        runtime_plugin = plugins.get(CRI_V2, {}) or {}
        sandbox_image = runtime_plugin.get('sandbox_image', '')
        cri_plugin = CRI_V2
    containerd = runtime_plugin.get('containerd', {}) or {}
    runtimes = {}
    for name, runtime in sorted((containerd.get('runtimes', {}) or {}).items()):
        if not isinstance(runtime, dict):
            continue
        options = runtime.get('options', {}) or {}
        runtimes[name] = {
            'runtime_type': runtime.get('runtime_type', ''),
            'binary_name': options.get('BinaryName', ''),
            'systemd_cgroup': bool(options.get('SystemdCgroup', False)),
        }
    return {
        'config_version': version,
        'cri_plugin': cri_plugin if runtime_plugin else '',
        'default_runtime': containerd.get('default_runtime_name', ''),
        'runtimes': runtimes,
        'sandbox_image': sandbox_image,
        'enable_cdi': runtime_plugin.get('enable_cdi') if 'enable_cdi' in runtime_plugin else None,
        'cdi_spec_dirs': list(runtime_plugin.get('cdi_spec_dirs', []) or []),
        'legacy_systemd_cgroup': bool(runtime_plugin.get('systemd_cgroup', False)),
        'imports': list(config.get('imports', []) or []),
    }


def problems(summary, expect):
    """One message per way the running config differs from what is expected.

    expect: {systemd_cgroup: bool or None, runtimes: [names that must exist],
             default_runtime: str or '', sandbox_image: str or '', cdi: bool or None,
             binary_names: {runtime: path}}
    """
    found = []
    if not summary['cri_plugin']:
        found.append('the CRI plugin is not configured (no %s section): kubelet cannot use this containerd'
                     % (CRI_V3_RUNTIME if summary['config_version'] >= 3 else CRI_V2))
    for name in expect.get('runtimes') or []:
        if name not in summary['runtimes']:
            found.append("runtime '%s' is missing; configured: %s" % (name, ', '.join(sorted(summary['runtimes'])) or 'none'))
    for name, path in sorted((expect.get('binary_names') or {}).items()):
        runtime = summary['runtimes'].get(name)
        if runtime is not None and runtime['binary_name'] != path:
            found.append("runtime '%s' runs BinaryName '%s', expected '%s'" % (name, runtime['binary_name'], path))
    want_systemd = expect.get('systemd_cgroup')
    if want_systemd is not None:
        for name, runtime in sorted(summary['runtimes'].items()):
            if runtime['systemd_cgroup'] != want_systemd:
                found.append("runtime '%s' has SystemdCgroup = %s, expected %s (the kubelet's cgroupDriver is %s)"
                             % (name, str(runtime['systemd_cgroup']).lower(), str(want_systemd).lower(),
                                'systemd' if want_systemd else 'cgroupfs'))
    if expect.get('default_runtime') and summary['default_runtime'] != expect['default_runtime']:
        found.append("default_runtime_name is '%s', expected '%s'" % (summary['default_runtime'], expect['default_runtime']))
    if expect.get('default_runtime') and summary['default_runtime'] and summary['default_runtime'] not in summary['runtimes']:
        found.append("default_runtime_name '%s' names no configured runtime" % summary['default_runtime'])
    if expect.get('sandbox_image') and summary['sandbox_image'] != expect['sandbox_image']:
        found.append("sandbox image is '%s', expected '%s' (the pause image of the Kubernetes version)"
                     % (summary['sandbox_image'], expect['sandbox_image']))
    if expect.get('cdi') is not None and summary['enable_cdi'] is not None and bool(summary['enable_cdi']) != expect['cdi']:
        found.append('enable_cdi is %s, expected %s' % (str(bool(summary['enable_cdi'])).lower(), str(expect['cdi']).lower()))
    return found
