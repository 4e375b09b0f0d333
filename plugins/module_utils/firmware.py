# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firmware compliance: version comparison, component names, collectors and the report.

Pure functions on plain data: nothing here runs a command or talks to a BMC.

Version comparison (:func:`compare_versions`, :func:`parse_version`)
    * dotted numbers, each field compared as a number: ``2.9 < 2.10``, ``28.39.1002 < 28.43.1014``;
      trailing zero fields do not count (``1.2 == 1.2.0``); ``.`` and ``_`` both separate fields;
    * NVIDIA VBIOS style hexadecimal fields: when at least one release field of either side holds a
      letter ``A-F`` and every release field of both sides is hexadecimal (and both have two fields or
      more), every field is read as hexadecimal (``96.00.5E.00.01 < 96.00.99.00.01 < 96.00.A1.00.01``);
    * dates: ``2024.03.1``, ``20240315``, ``2024-03-15`` and ``03/15/2024`` (month/day/year);
    * vendor decorations: a ``v``/``version`` prefix, a leading word with a dash or underscore
      (``HGX-22.10``), text in parentheses and other words are dropped
      (``U46 v2.80 (03/2023)`` -> ``2.80``, ``2.72 Sep 04 2022`` -> ``2.72``); Dell style letter and
      number (``A06 < A07 < B01``);
    * a suffix after ``-`` or ``~`` that starts with a letter is a pre-release and sorts before the
      release (``1.2.3-rc1 < 1.2.3``; ``alpha < beta < rc``); one that starts with a digit is a
      post-release (``1.2.3 < 1.2.3-1``); ``+build`` metadata is ignored.

    None, an empty string or a string without a digit raise :class:`FirmwareVersionError`.

Report schema (``schema_version`` 1) -- this is THE schema of the JSON report
    Node report, from :func:`compare_node`::

        {"node": str, "profile": str, "compliant": bool,
         "components": [{"component": str, "instance": str, "name": str|None, "source": str|None,
                         "current": str|None, "expected": str|None, "status": str,
                         "image_url": str|None, "message": str}],
         "counts": {"compliant": int, "drift": int, "ahead": int, "missing": int,
                    "unknown": int, "unparsable": int}}

    ``status`` of a component record:
        * ``compliant``: the version equals the baseline;
        * ``drift``: older than the baseline (``image_url`` is the update image);
        * ``ahead``: newer than the baseline; reported, but the node stays compliant;
        * ``missing``: in the baseline of the profile, but not collected from the node (one record
          with ``instance`` "", ``current`` null);
        * ``unknown``: collected, but not in the baseline (``expected`` null); not a drift;
        * ``unparsable``: the collected or the baseline version cannot be compared (``message`` says why).

    ``compliant`` is true when no record is ``drift``, ``missing`` or ``unparsable``. Records are sorted by
    component, instance (numbers in natural order) and source. ``counts`` holds every status, zeros included.

    Cluster summary, from :func:`cluster_report`::

        {"schema_version": 1, "generated": str (ISO 8601, passed in), "nodes": int, "compliant_nodes": int,
         "drift": [{"node": str, "component": str, "instance": str, "current": str, "expected": str}],
         "by_component": {component: {"compliant": int, "drift": int, "ahead": int, "missing": int,
                                      "unknown": int, "unparsable": int}}}

    The report directory holds the summary and the node reports (see the firmware role) and
    :func:`render_markdown` renders both as Markdown tables.

Baseline of a hardware profile (inventory)::

    {component: {"version": str, "image_url": str, "checksum": str, "method": "redfish"|"mlxfwmanager"|"none"}}

Components are the canonical ids of :func:`normalize_component` (``bmc``, ``bios``, ``cpld``, ``gpu_vbios``,
``nvswitch``, ``nic``, ``psu``) or ``other:<Redfish Id>`` for the members it does not know.

Collected records (:func:`collect_redfish`, :func:`collect_mlxfwmanager`, :func:`collect_nvidia_smi`)::

    {"component": str, "instance": str, "name": str|None, "version": str|None,
     "source": "redfish"|"mlxfwmanager"|"nvidia_smi", "updateable": bool|None}
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from collections.abc import Mapping

SCHEMA_VERSION = 1

STATUSES = ('compliant', 'drift', 'ahead', 'missing', 'unknown', 'unparsable')
NONCOMPLIANT = frozenset(['drift', 'missing', 'unparsable'])
COMPONENTS = ('bmc', 'bios', 'cpld', 'gpu_vbios', 'nvswitch', 'nic', 'psu')
METHODS = ('redfish', 'mlxfwmanager', 'none')


class FirmwareVersionError(ValueError):
    """A version string that cannot be compared (empty, None, no digit)."""


class FirmwareParseError(ValueError):
    """Tool output that cannot be parsed (mlxfwmanager: malformed, truncated)."""


class FirmwareInputError(ValueError):
    """Input of the comparison or the report with the wrong shape."""


# ---------------------------------------------------------------------------
# versions

_PRE_WORDS = frozenset(['a', 'alpha', 'b', 'beta', 'c', 'rc', 'pre', 'preview', 'dev', 'snapshot', 'test'])
_PARENS_RE = re.compile(r'\([^)]*\)|\[[^\]]*\]')
_V_PREFIX_RE = re.compile(r'(?:^|[\s:=])(?:v|ver\.?|version)\s*:?\s*(\d[0-9A-Za-z.\-_+~]*)', re.IGNORECASE)
_DELL_RE = re.compile(r'^([A-Za-z])(\d+)$')
_ISO_DATE_RE = re.compile(r'^(\d{4})-(\d{1,2})-(\d{1,2})$')
_US_DATE_RE = re.compile(r'^(\d{1,2})/(\d{1,2})/(\d{4})$')
_WORD_PREFIX_RE = re.compile(r'^[A-Za-z][A-Za-z]*[-_](?=\d)')
_CORE_RE = re.compile(r'^(?P<release>[0-9A-Za-z]+(?:[._][0-9A-Za-z]+)*)[._]?(?:[-~](?P<suffix>[0-9A-Za-z.\-_~]*))?$')
_RUN_RE = re.compile(r'\d+|[A-Za-z]+')
_HEX_RE = re.compile(r'^[0-9A-Fa-f]+$')
_HEX_LETTER_RE = re.compile(r'[A-Fa-f]')


def _core(text):
    """(release fields, suffix, dell) of a version string; see the module docstring."""
    if text is None:
        raise FirmwareVersionError('firmware version is empty (None)')
    if not isinstance(text, str):
        text = str(text)
    raw = text
    text = ' '.join(text.split())
    if not text:
        raise FirmwareVersionError('firmware version is empty')
    if not re.search(r'\d', text):
        raise FirmwareVersionError('firmware version %r has no digit' % raw)

    match = _US_DATE_RE.match(text)
    if match:
        return [match.group(3), match.group(1), match.group(2)], '', False
    match = _V_PREFIX_RE.search(text)
    if match:
        candidate = match.group(1)
    else:
        stripped = _PARENS_RE.sub(' ', text)
        tokens = [token for token in stripped.split() if re.search(r'\d', token)]
        if not tokens:  # the only digits were in parentheses
            tokens = [token for token in text.split() if re.search(r'\d', token)]
        dotted = [token for token in tokens if re.search(r'[0-9A-Za-z][._][0-9A-Za-z]', token)]
        candidate = (dotted or tokens)[0]
    candidate = candidate.strip('()[],;:')
    candidate = _WORD_PREFIX_RE.sub('', candidate)
    candidate = candidate.split('+', 1)[0]  # build metadata
    if candidate[:1] in ('v', 'V') and candidate[1:2].isdigit():
        candidate = candidate[1:]

    match = _ISO_DATE_RE.match(candidate)
    if match:
        return list(match.groups()), '', False
    match = _DELL_RE.match(candidate)
    if match:
        return [match.group(1), match.group(2)], '', True
    match = _CORE_RE.match(candidate)
    if not match:
        # keep what can be compared: the alphanumeric runs
        runs = _RUN_RE.findall(candidate)
        if not runs:
            raise FirmwareVersionError('firmware version %r cannot be parsed' % raw)
        return runs, '', False
    release = re.split(r'[._]', match.group('release'))
    return release, match.group('suffix') or '', False


def _runs(text):
    """Comparable runs of a field: numbers as (1, n, ''), words as (0, 0, word)."""
    key = []
    for run in _RUN_RE.findall(text):
        if run.isdigit():
            key.append((1, int(run), ''))
        else:
            key.append((0, 0, run.lower()))
    return tuple(key)


def _is_hex(fields, dell):
    return not dell and len(fields) > 1 and all(_HEX_RE.match(field) for field in fields)


def _has_hex_letter(fields):
    return any(_HEX_LETTER_RE.search(field) for field in fields)


def _key(fields, suffix, dell, hexadecimal):
    if hexadecimal:
        release = [((1, int(field, 16), ''),) for field in fields]
    elif dell:
        release = [((0, 0, fields[0].lower()),), ((1, int(fields[1]), ''),)]
    else:
        release = [_runs(field) for field in fields]
    zero = ((1, 0, ''),)
    while release and release[-1] in (zero, ()):
        release.pop()
    if not suffix:
        stage = (1, ())
    else:
        runs = _runs(suffix)
        if runs and runs[0][0] == 0:
            stage = (0, runs)  # pre-release: before the release
        else:
            stage = (2, runs)  # post-release: after it
    return (tuple(release), stage)


def parse_version(text, hexadecimal=None):
    """Sort key of a firmware version string (see the module docstring).

    ``hexadecimal``: read the dotted fields as hexadecimal; None decides from this version alone (a letter
    A-F in a field and every field hexadecimal). :func:`compare_versions` decides from both versions.
    Raises FirmwareVersionError.
    """
    fields, suffix, dell = _core(text)
    if hexadecimal is None:
        hexadecimal = _is_hex(fields, dell) and _has_hex_letter(fields)
    elif hexadecimal and not _is_hex(fields, dell):
        raise FirmwareVersionError('firmware version %r is not hexadecimal' % text)
    return _key(fields, suffix, dell, hexadecimal)


def compare_versions(a, b):
    """-1, 0 or 1 as firmware version ``a`` is older than, equal to or newer than ``b``.

    Raises FirmwareVersionError when either cannot be compared.
    """
    fields_a, suffix_a, dell_a = _core(a)
    fields_b, suffix_b, dell_b = _core(b)
    hexadecimal = (_is_hex(fields_a, dell_a) and _is_hex(fields_b, dell_b)
                   and (_has_hex_letter(fields_a) or _has_hex_letter(fields_b)))
    key_a = _key(fields_a, suffix_a, dell_a, hexadecimal)
    key_b = _key(fields_b, suffix_b, dell_b, hexadecimal)
    return (key_a > key_b) - (key_a < key_b)


# ---------------------------------------------------------------------------
# component names

# (component, pattern) in order: the first match wins; the patterns run on the lower-case text
_NOT_FIRMWARE_OF_A_COMPONENT = re.compile(r'erot|inforom|redundant|backup|previous|pending')
_COMPONENT_PATTERNS = (
    ('gpu_vbios', re.compile(r'gpu.*(?:sxm|vbios)|vbios|(?<![a-z])gpu_?\d+(?![a-z])')),
    ('nvswitch', re.compile(r'nvswitch')),
    ('cpld', re.compile(r'cpld')),
    ('bmc', re.compile(r'bmc|idrac|remote access controller|(?<![a-z])ilo(?![a-z])|xclarity controller'
                       r'|(?<![a-z])xcc(?![a-z])')),
    ('bios', re.compile(r'bios|uefi|system rom')),
    ('nic', re.compile(r'connectx|mellanox|bluefield|netxtreme|network adapter|ethernet adapter'
                       r'|(?<![a-z])nic(?![a-z])')),
    ('psu', re.compile(r'(?<![a-z])psu|power ?supply')),
)


def _classify(text):
    text = ' '.join((text or '').replace('-', ' ').lower().split()) if text else ''
    if not text:
        return None, False
    if _NOT_FIRMWARE_OF_A_COMPONENT.search(text):
        return None, True
    for component, pattern in _COMPONENT_PATTERNS:
        if pattern.search(text):
            return component, True
    return None, False


def normalize_component(name, item_id=''):
    """Canonical component of a Redfish FirmwareInventory member, from its Id, else its Name.

    Returns one of ``bmc``, ``bios``, ``cpld``, ``gpu_vbios``, ``nvswitch``, ``nic``, ``psu``, or None
    (unknown; also for ERoT, InfoROM and redundant/backup images, which are not the running firmware of
    a component). The caller keeps unknown members as ``other:<Id>``.
    """
    for text in (item_id, name):
        if not text:
            continue
        if not isinstance(text, str):
            text = str(text)
        # Dell ids name the device after a double underscore: Installed-25227-7.00.00.171__iDRAC.Embedded.1-1
        fqdd = text.split('__', 1)[1] if '__' in text else text
        component, decided = _classify(fqdd)
        if decided:
            return component
    return None


_INSTANCE_PATTERNS = (
    re.compile(r'_(\d+)$'),  # HGX_FW_GPU_SXM_3, HGX_FW_NVSwitch_0, CPLD_0
    re.compile(r'^(?:gpu|psu|nvswitch|cpld|bmc)(\d+)(?![0-9])', re.IGNORECASE),  # GPU0 VBIOS, PSU1
    re.compile(r'(?:^|__)((?:NIC|PSU)\.[A-Za-z]+\.[0-9][0-9A-Za-z.\-]*)$'),  # Dell FQDD NIC.Slot.1-1-1
)


def component_instance(item_id):
    """Instance of a multi-instance component from a Redfish member Id ("HGX_FW_GPU_SXM_3" -> "3"), else ""."""
    if not item_id:
        return ''
    text = str(item_id).strip()
    for pattern in _INSTANCE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1)
    return ''


# ---------------------------------------------------------------------------
# collectors

def _text(value):
    if value is None:
        return None
    value = ' '.join(str(value).split())
    return value or None


def collect_redfish(entries):
    """Records from community.general.redfish_info GetFirmwareInventory.

    ``entries``: the ``entries`` list, or the whole ``redfish_facts.firmware`` dict (``{ret, entries}``).
    Members whose Id starts with ``Previous`` or ``Available`` (Dell rollback and staged images) are not
    running firmware and are skipped.
    """
    if isinstance(entries, Mapping):
        if entries.get('ret') is False:
            raise FirmwareInputError('the Redfish firmware inventory failed: %s' % entries.get('msg', 'no message'))
        entries = entries.get('entries')
    if entries is None:
        raise FirmwareInputError('the Redfish firmware inventory has no entries')
    if not isinstance(entries, (list, tuple)):
        raise FirmwareInputError('the Redfish firmware inventory entries must be a list, not %s' % type(entries).__name__)
    records = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise FirmwareInputError('Redfish firmware inventory entry %d is not a dict' % position)
        item_id = _text(entry.get('Id')) or ''
        name = _text(entry.get('Name'))
        if re.match(r'(?i)(previous|available)[-_]', item_id):
            continue
        component = normalize_component(name, item_id) or 'other:%s' % (item_id or name or position)
        updateable = entry.get('Updateable')
        records.append({
            'component': component,
            'instance': '' if component.startswith('other:') else component_instance(item_id) or component_instance(name),
            'name': name,
            'version': _text(entry.get('Version')),
            'source': 'redfish',
            'updateable': updateable if isinstance(updateable, bool) else None,
        })
    return records


def collect_mlxfwmanager(devices):
    """Records (component ``nic``, instance the PCI device name) from :func:`parse_mlxfwmanager_query`
    devices, a connectx_firmware_info result (``devices``), or the raw ``mlxfwmanager --query`` text."""
    if isinstance(devices, str):
        devices = parse_mlxfwmanager_query(devices)
    elif isinstance(devices, Mapping):
        devices = devices.get('devices')
    if not isinstance(devices, (list, tuple)):
        raise FirmwareInputError('mlxfwmanager devices must be a list, the module result or the query text')
    records = []
    for position, device in enumerate(devices):
        if not isinstance(device, Mapping):
            raise FirmwareInputError('mlxfwmanager device %d is not a dict' % position)
        versions = device.get('versions') or {}
        fw_version = (versions.get('fw') or {}).get('current')
        name = ' '.join(part for part in (device.get('device_type'), device.get('part_number')) if part) or None
        records.append({
            'component': 'nic',
            'instance': device.get('pci') or str(position),
            'name': name,
            'version': fw_version,
            'source': 'mlxfwmanager',
            'updateable': True,
        })
    return records


def collect_nvidia_smi(gpus):
    """Records (component ``gpu_vbios``, instance the nvidia-smi index) from the ``gpus`` of
    aifabric.cluster.nvidia_smi_info (each with ``index`` and ``vbios_version``), or its whole result."""
    if isinstance(gpus, Mapping):
        gpus = gpus.get('gpus')
    if not isinstance(gpus, (list, tuple)):
        raise FirmwareInputError('nvidia-smi gpus must be a list (the gpus of nvidia_smi_info)')
    records = []
    for position, gpu in enumerate(gpus):
        if not isinstance(gpu, Mapping):
            raise FirmwareInputError('nvidia-smi gpu %d is not a dict' % position)
        index = gpu.get('index')
        records.append({
            'component': 'gpu_vbios',
            'instance': str(index if index is not None else position),
            'name': _text(gpu.get('product_name')) or 'GPU %s' % (index if index is not None else position),
            'version': _text(gpu.get('vbios_version')),
            'source': 'nvidia_smi',
            'updateable': None,
        })
    return records


# ---------------------------------------------------------------------------
# mlxfwmanager --query (same layout as mlxup --query)

_MLX_BANNER = 'Querying Mellanox devices firmware'
_MLX_DEVICE_RE = re.compile(r'^Device\s+#(\d+):\s*$')
_MLX_FIELD_RE = re.compile(r'^\s{1,}([A-Za-z][A-Za-z0-9 /]*?):\s*(.*?)\s*$')
_MLX_VERSION_ROW_RE = re.compile(r'^\s+([A-Za-z][A-Za-z0-9_]*)\s+(\S+)(?:\s+(\S+))?\s*$')
_MLX_KEYS = {
    'device type': 'device_type',
    'part number': 'part_number',
    'description': 'description',
    'psid': 'psid',
    'pci device name': 'pci',
    'base guid': 'base_guid',
    'base mac': 'base_mac',
    'status': 'status',
}
_MLX_NULL = frozenset(['n/a', '', 'na', '-'])


def _mlx_value(value):
    value = _text(value)
    if value is None or value.lower() in _MLX_NULL:
        return None
    return value


def _new_device(number):
    device = dict((key, None) for key in _MLX_KEYS.values())
    device.update({'number': number, 'versions': {}, 'port_macs': {}})
    return device


def _finish_device(device):
    if device['device_type'] is None and device['psid'] is None and device['pci'] is None:
        raise FirmwareParseError('mlxfwmanager output is truncated: device #%d has no Device Type, PSID '
                                 'or PCI Device Name' % device['number'])
    if not device['versions']:
        raise FirmwareParseError('mlxfwmanager output is truncated: device #%d has no Versions table'
                                 % device['number'])
    if 'status' not in device['_seen']:
        raise FirmwareParseError('mlxfwmanager output is truncated: device #%d has no Status line'
                                 % device['number'])
    del device['_seen']
    return device


def parse_mlxfwmanager_query(text):
    """Devices of ``mlxfwmanager --query`` (or ``mlxup --query``) text output.

    Each device: ``number`` (int, the ``Device #N``), ``device_type``, ``part_number``, ``description``,
    ``psid``, ``pci`` (PCI Device Name: ``/dev/mst/...`` or a PCI address), ``base_guid``, ``base_mac``,
    ``port_macs`` (``{"1": mac}`` from ``PortN MAC`` lines of older adapters), ``versions``
    (``{"fw": {"current", "available"}, "pxe": ..., "uefi": ..., "nvme": ...}``, lower-case row names) and
    ``status`` (e.g. ``Up to date``, ``Update required``, ``No matching image found``). ``N/A`` is None.

    Output with the banner and no device is an empty list. Raises FirmwareParseError for empty text,
    text that is not this output, and devices without identity, Versions table or Status line (truncated).
    """
    if text is None or not str(text).strip():
        raise FirmwareParseError('mlxfwmanager output is empty')
    lines = str(text).replace('\r\n', '\n').replace('\r', '\n').split('\n')
    banner = any(_MLX_BANNER in line for line in lines)
    devices = []
    device = None
    in_versions = False
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        header = _MLX_DEVICE_RE.match(stripped)
        if header:
            if device is not None:
                devices.append(_finish_device(device))
            device = _new_device(int(header.group(1)))
            device['_seen'] = set()
            in_versions = False
            continue
        if device is None or not stripped or set(stripped) == set('-'):
            if stripped and set(stripped) == set('-') and device is not None:
                in_versions = False
            continue
        if stripped.lower().startswith('versions:'):
            columns = stripped.split(':', 1)[1].split()
            if [column.lower() for column in columns[:1]] != ['current']:
                raise FirmwareParseError('mlxfwmanager output line %d: unexpected Versions header %r'
                                         % (number, stripped))
            in_versions = True
            continue
        if in_versions:
            row = _MLX_VERSION_ROW_RE.match(line)
            if row and ':' not in stripped:
                device['versions'][row.group(1).lower()] = {
                    'current': _mlx_value(row.group(2)), 'available': _mlx_value(row.group(3))}
                continue
            in_versions = False
        field = _MLX_FIELD_RE.match(line)
        if field:
            label = ' '.join(field.group(1).lower().split())
            value = _mlx_value(field.group(2))
            port_mac = re.match(r'^port\s*(\d+)\s+mac$', label)
            if port_mac:
                device['port_macs'][port_mac.group(1)] = value
            elif label == 'base guid/base mac' or label == 'base mac/base guid':
                device['base_mac'] = value
            elif label in _MLX_KEYS:
                device[_MLX_KEYS[label]] = value
                device['_seen'].add(_MLX_KEYS[label])
            continue
        if re.match(r'^(-[EW]-|Found \d+ device)', stripped):
            continue
        raise FirmwareParseError('mlxfwmanager output line %d cannot be parsed: %r' % (number, stripped))
    if device is not None:
        devices.append(_finish_device(device))
    if not devices and not banner:
        raise FirmwareParseError('not mlxfwmanager --query output (no "%s" banner and no "Device #N:" block): %r'
                                 % (_MLX_BANNER, ' '.join(lines[0].split())[:120]))
    return devices


# ---------------------------------------------------------------------------
# comparison and report

def _natural(text):
    return tuple((0, int(run), '') if run.isdigit() else (1, 0, run.lower()) for run in re.findall(r'\d+|\D+', text or ''))


def _profile_baseline(profile, baseline):
    if baseline is None:
        return {}
    if not isinstance(baseline, Mapping):
        raise FirmwareInputError('the firmware baseline must be a dict, not %s' % type(baseline).__name__)
    selected = baseline.get(profile) if profile is not None else None
    if isinstance(selected, Mapping) and 'version' not in selected:
        baseline = selected  # the whole inventory baseline, keyed by hardware profile
    specs = {}
    for component, spec in baseline.items():
        if isinstance(spec, str):
            spec = {'version': spec}
        if not isinstance(spec, Mapping):
            raise FirmwareInputError('baseline of component %s (profile %s) must be a dict with "version"'
                                     % (component, profile))
        specs[str(component)] = spec
    return specs


def _row(record, spec, status, message):
    return {
        'component': record.get('component'),
        'instance': record.get('instance') or '',
        'name': record.get('name'),
        'source': record.get('source'),
        'current': record.get('version'),
        'expected': _text(spec.get('version')) if spec is not None else None,
        'status': status,
        'image_url': spec.get('image_url') if spec is not None else None,
        'message': message,
    }


def _label(record):
    instance = record.get('instance')
    return '%s%s' % (record.get('component'), ' %s' % instance if instance else '')


def compare_node(node, profile, baseline, records):
    """Node report (see the module docstring) of the ``records`` of ``node`` against the baseline.

    ``baseline``: the component map of the profile, or the whole inventory baseline keyed by profile.
    """
    if not isinstance(records, (list, tuple)):
        raise FirmwareInputError('firmware records of %s must be a list' % node)
    specs = _profile_baseline(profile, baseline)
    rows = []
    seen = set()
    for position, record in enumerate(records):
        if not isinstance(record, Mapping) or not record.get('component'):
            raise FirmwareInputError('firmware record %d of %s has no component' % (position, node))
        component = str(record['component'])
        spec = specs.get(component)
        label = _label(record)
        if spec is None:
            rows.append(_row(record, None, 'unknown', '%s %s: not in the baseline of profile %s'
                             % (label, record.get('version') or '(no version)', profile)))
            continue
        seen.add(component)
        current, expected = record.get('version'), _text(spec.get('version'))
        if not _text(current):
            rows.append(_row(record, spec, 'unparsable', '%s: no version reported' % label))
            continue
        if not expected:
            rows.append(_row(record, spec, 'unparsable', '%s: the baseline of profile %s has no version'
                             % (label, profile)))
            continue
        try:
            order = compare_versions(current, expected)
        except FirmwareVersionError as exc:
            rows.append(_row(record, spec, 'unparsable', '%s: %s' % (label, exc)))
            continue
        if order < 0:
            url = spec.get('image_url')
            rows.append(_row(record, spec, 'drift', '%s %s is older than the baseline %s%s'
                             % (label, current, expected, ' (image %s)' % url if url else '')))
        elif order > 0:
            rows.append(_row(record, spec, 'ahead', '%s %s is newer than the baseline %s' % (label, current, expected)))
        else:
            rows.append(_row(record, spec, 'compliant', '%s %s matches the baseline' % (label, current)))
    for component, spec in specs.items():
        if component not in seen:
            rows.append(_row({'component': component, 'instance': '', 'name': None, 'source': None, 'version': None},
                             spec, 'missing', '%s: in the baseline of profile %s (%s) but not found on the node'
                             % (component, profile, _text(spec.get('version')))))
    rows.sort(key=lambda row: (row['component'], _natural(row['instance']), row['source'] or ''))
    counts = dict((status, 0) for status in STATUSES)
    for row in rows:
        counts[row['status']] += 1
    return {
        'node': str(node),
        'profile': str(profile) if profile is not None else '',
        'compliant': not any(counts[status] for status in NONCOMPLIANT),
        'components': rows,
        'counts': counts,
    }


def _check_reports(node_reports):
    if not isinstance(node_reports, (list, tuple)):
        raise FirmwareInputError('node reports must be a list')
    for position, report in enumerate(node_reports):
        if not isinstance(report, Mapping) or not isinstance(report.get('components'), (list, tuple)) \
                or 'node' not in report:
            raise FirmwareInputError('node report %d is not a compare_node report (node, components)' % position)


def cluster_report(node_reports, generated):
    """Cluster summary (see the module docstring); ``generated`` is the ISO 8601 time of the run."""
    if not isinstance(generated, str) or not generated.strip():
        raise FirmwareInputError('generated must be an ISO 8601 date string')
    _check_reports(node_reports)
    drift = []
    by_component = {}
    for report in node_reports:
        for row in report['components']:
            counts = by_component.setdefault(row['component'], dict((status, 0) for status in STATUSES))
            if row['status'] in counts:
                counts[row['status']] += 1
            if row['status'] == 'drift':
                drift.append({'node': report['node'], 'component': row['component'], 'instance': row['instance'],
                              'current': row['current'], 'expected': row['expected']})
    drift.sort(key=lambda item: (item['node'], item['component'], _natural(item['instance'])))
    return {
        'schema_version': SCHEMA_VERSION,
        'generated': generated.strip(),
        'nodes': len(node_reports),
        'compliant_nodes': sum(1 for report in node_reports if report.get('compliant')),
        'drift': drift,
        'by_component': dict(sorted(by_component.items())),
    }


def _cell(value):
    if value is None or value == '':
        return '-'
    return str(value).replace('|', '\\|').replace('\n', ' ')


def _table(header, rows):
    lines = ['| %s |' % ' | '.join(header), '|%s|' % '|'.join(['---'] * len(header))]
    lines.extend('| %s |' % ' | '.join(_cell(value) for value in row) for row in rows)
    return lines


def render_markdown(node_reports, summary):
    """Markdown report: the cluster summary, a table per component, the drift, then a table per node."""
    _check_reports(node_reports)
    if not isinstance(summary, Mapping):
        raise FirmwareInputError('summary must be a cluster_report dict')
    nodes = summary.get('nodes', len(node_reports))
    compliant = summary.get('compliant_nodes', 0)
    lines = ['# Firmware compliance', '', 'Generated: %s' % _cell(summary.get('generated')), '']
    lines.extend(_table(['nodes', 'compliant', 'not compliant', 'drifted components'],
                        [[nodes, compliant, nodes - compliant, len(summary.get('drift') or [])]]))
    lines.extend(['', '## By component', ''])
    lines.extend(_table(['component'] + list(STATUSES),
                        [[component] + [counts.get(status, 0) for status in STATUSES]
                         for component, counts in sorted((summary.get('by_component') or {}).items())]))
    if summary.get('drift'):
        lines.extend(['', '## Drift', ''])
        lines.extend(_table(['node', 'component', 'instance', 'current', 'expected'],
                            [[item.get('node'), item.get('component'), item.get('instance'), item.get('current'),
                              item.get('expected')] for item in summary['drift']]))
    for report in sorted(node_reports, key=lambda item: str(item['node'])):
        lines.extend(['', '## %s (%s): %s' % (_cell(report['node']), _cell(report.get('profile')),
                                              'compliant' if report.get('compliant') else 'NOT COMPLIANT'), ''])
        lines.extend(_table(['component', 'instance', 'current', 'expected', 'status'],
                            [[row.get('component'), row.get('instance'), row.get('current'), row.get('expected'),
                              row.get('status')] for row in report['components']]))
    return '\n'.join(lines) + '\n'
