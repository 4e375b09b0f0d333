# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for ``nvidia-smi -q -x`` (XML) and ``nvidia-smi nvlink -s`` (text).

Pure functions on strings: nothing here runs a command. The XML parser keys on the
element names it finds, not on one schema version, because fields moved between the
``nvsmi_device_vNN.dtd`` generations:

=====================  ==============================  ===============================
record key             v11 (driver 515 era)            v12 (525-580) / v13 (590+)
=====================  ==============================  ===============================
power_draw_w           power_readings/power_draw       gpu_power_readings/power_draw,
                                                       or instant_power_draw, then
                                                       average_power_draw (v13)
power_limit_w          power_readings/power_limit      gpu_power_readings/
                       (or enforced_power_limit)       current_power_limit
throttle_reasons       clocks_throttle_reasons/        clocks_event_reasons/
                       clocks_throttle_reason_*        clocks_event_reason_*
temperature_slowdown_c temperature/gpu_temp_slow_      same in v12; v13 only reports
temperature_shutdown_c threshold, gpu_temp_max_        thresholds relative to T.Limit
                       threshold                       (``*_tlimit_threshold``), which
                                                       are not absolute: None
ecc_errors.*           sram_/dram_ (un)correctable;    sram_/dram_ (un)correctable;
                       the older single_bit/double_bit Hopper and v13 split
                       form: dram_* = device_memory,   sram_uncorrectable into
                       sram_* = total - device_memory  _parity + _secded (summed)
=====================  ==============================  ===============================

Values "N/A", "[N/A]", "Not Active", "Requested functionality has been deprecated",
"Unknown Error" and missing elements become None; values with units become numbers
("81559 MiB" -> 81559, "67.03 W" -> 67.03, "27 C" -> 27, "16x" -> 16).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import xml.etree.ElementTree as ET


class NvidiaSmiParseError(ValueError):
    """Output of nvidia-smi that cannot be parsed (malformed, truncated, not XML)."""


NULL_VALUES = frozenset([
    'n/a', '[n/a]', 'not active', 'requested functionality has been deprecated',
    'unknown error', '[unknown error]', 'not supported', '[not supported]',
    'insufficient permissions', '[insufficient permissions]', 'none', '',
])

TRUE_VALUES = frozenset(['enabled', 'yes', 'true', 'active', 'on'])
FALSE_VALUES = frozenset(['disabled', 'no', 'false', 'not active', 'off'])

NVML_MISMATCH = 'Failed to initialize NVML: Driver/library version mismatch'

_DTD_RE = re.compile(r'nvsmi_device_(v\d+)\.dtd')
_NUMBER_RE = re.compile(r'^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z%/()]*)\s*$')
_PCI_RE = re.compile(r'^(?:PCI:)?(?:([0-9A-Fa-f]{1,8}):)?([0-9A-Fa-f]{1,2}):([0-9A-Fa-f]{1,2})(?:\.([0-7]))?$')
_HANDLE_RE = re.compile(
    r'Unable to determine the device handle for GPU\s*(?:(\d{1,3}):\s*)?'
    r'((?:[0-9A-Fa-f]{4,8}:)?[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])?:?\s*([^\r\n]*)')
_NVLINK_GPU_RE = re.compile(r'^GPU\s+(\d+):\s*(.*?)\s*(?:\(UUID:\s*([^)]+)\))?\s*$')
_NVLINK_LINK_RE = re.compile(r'^\s*Link\s+(\d+):\s*(.*?)\s*$')
_SPEED_RE = re.compile(r'^(\d+(?:\.\d+)?)\s*GB/s', re.IGNORECASE)

# ECC counter keys of every record, volatile and aggregate alike
ECC_KEYS = ('sram_correctable', 'sram_uncorrectable', 'dram_correctable', 'dram_uncorrectable')


# ---------------------------------------------------------------------------
# value helpers

def clean(value):
    """Stripped text, or None for the "not available" markers of nvidia-smi."""
    if value is None:
        return None
    value = ' '.join(value.split())
    if value.lower() in NULL_VALUES:
        return None
    return value


def to_number(value):
    """'81559 MiB' -> 81559, '67.03 W' -> 67.03, '16x' -> 16; None when not a number."""
    value = clean(value)
    if value is None:
        return None
    match = _NUMBER_RE.match(value)
    if not match:
        return None
    text = match.group(1)
    if '.' in text:
        return float(text)
    return int(text)


def to_int(value):
    number = to_number(value)
    if number is None:
        return None
    return int(number)


def to_bool(value):
    """Enabled/Yes/Active -> True, Disabled/No/Not Active -> False, else None."""
    if value is None:
        return None
    value = ' '.join(value.split()).lower()
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    return None


def normalize_pci(value):
    """Canonical PCI bus id in nvidia-smi's form, '00000000:9B:00.0'.

    Accepts '0000:9b:00' (kernel Xid lines), 'PCI:0000:9b:00', '9b:00.0' and
    '00000000:9B:00.0'. A missing function is taken as 0. None when not a bus id.
    """
    if value is None:
        return None
    match = _PCI_RE.match(value.strip())
    if not match:
        return None
    domain, bus, device, function = match.groups()
    return '%08X:%02X:%02X.%X' % (int(domain or '0', 16), int(bus, 16), int(device, 16),
                                  int(function or '0'))


def pci_key(value):
    """(domain, bus, device) of a bus id, ignoring the function; None when not a bus id."""
    canonical = normalize_pci(value)
    if canonical is None:
        return None
    return canonical[:-2]


# ---------------------------------------------------------------------------
# element helpers

def _find(elem, path):
    if elem is None:
        return None
    return elem.find(path)


def _raw(elem, path):
    found = _find(elem, path)
    if found is None:
        return None
    return found.text if found.text is not None else ''


def _text(elem, path):
    return clean(_raw(elem, path))


def _num(elem, *paths):
    for path in paths:
        value = to_number(_raw(elem, path))
        if value is not None:
            return value
    return None


def _int(elem, *paths):
    value = _num(elem, *paths)
    return None if value is None else int(value)


def _bool(elem, path):
    return to_bool(_raw(elem, path))


def _has_children(elem):
    return elem is not None and len(elem) > 0


# ---------------------------------------------------------------------------
# nvidia-smi -q -x

def detect_schema(text, root=None):
    """'v11', 'v12', 'v13' from the DOCTYPE, else guessed from the element names."""
    match = _DTD_RE.search(text[:2048])
    if match:
        return match.group(1)
    if root is None:
        return None
    names = set(elem.tag for elem in root.iter())
    if (names & set(['gpu_temp_slow_tlimit_threshold', 'instant_power_draw',
                     'sram_uncorrectable_parity', 'gpu_memory_power_readings'])):
        return 'v13'
    if names & set(['gpu_power_readings', 'clocks_event_reasons', 'module_power_readings']):
        return 'v12'
    if names & set(['power_readings', 'clocks_throttle_reasons']):
        return 'v11'
    return None


def _xml_document(text):
    """The XML document inside nvidia-smi's output (which may carry error lines around it)."""
    start = text.find('<?xml')
    if start < 0:
        start = text.find('<nvidia_smi_log')
    if start < 0:
        raise NvidiaSmiParseError('nvidia-smi -q -x output is not valid XML: no <nvidia_smi_log> document found')
    end = text.rfind('</nvidia_smi_log>')
    if end < 0:
        # truncated: let the XML parser say where
        return text[start:]
    return text[start:end + len('</nvidia_smi_log>')]


def _ecc_counts(elem):
    """ECC counters of one ecc_errors/volatile or ecc_errors/aggregate element."""
    counts = dict((key, None) for key in ECC_KEYS)
    counts['sram_threshold_exceeded'] = None
    if not _has_children(elem):
        return counts
    if elem.find('single_bit') is not None or elem.find('double_bit') is not None:
        # pre-Ampere form: device_memory is DRAM, the rest of total is on-chip SRAM
        for kind, prefix in (('correctable', 'single_bit'), ('uncorrectable', 'double_bit')):
            dram = _int(elem, prefix + '/device_memory')
            total = _int(elem, prefix + '/total')
            counts['dram_' + kind] = dram
            if total is not None:
                counts['sram_' + kind] = total - (dram or 0)
        return counts
    counts['sram_correctable'] = _int(elem, 'sram_correctable')
    counts['dram_correctable'] = _int(elem, 'dram_correctable')
    counts['dram_uncorrectable'] = _int(elem, 'dram_uncorrectable')
    sram_unc = _int(elem, 'sram_uncorrectable')
    if sram_unc is None:
        parity = _int(elem, 'sram_uncorrectable_parity')
        secded = _int(elem, 'sram_uncorrectable_secded')
        if parity is not None or secded is not None:
            sram_unc = (parity or 0) + (secded or 0)
    counts['sram_uncorrectable'] = sram_unc
    counts['sram_threshold_exceeded'] = _bool(elem, 'sram_threshold_exceeded')
    return counts


def _remapped_rows(gpu):
    elem = gpu.find('remapped_rows')
    if not _has_children(elem):
        return None  # missing, or the literal N/A (no remapper, or MIG enabled)
    record = {
        'correctable': _int(elem, 'remapped_row_corr'),
        'uncorrectable': _int(elem, 'remapped_row_unc'),
        'pending': _bool(elem, 'remapped_row_pending'),
        'failure': _bool(elem, 'remapped_row_failure'),
    }
    if all(value is None for value in record.values()):
        return None
    return record


def _retired_pages(gpu):
    elem = gpu.find('retired_pages')
    if not _has_children(elem):
        return None
    pending = _bool(elem, 'pending_retirement')
    if pending is None:
        pending = _bool(elem, 'pending_blacklist')
    record = {
        'sbe': _int(elem, 'multiple_single_bit_retirement/retired_count'),
        'dbe': _int(elem, 'double_bit_retirement/retired_count'),
        'pending': pending,
    }
    if all(value is None for value in record.values()):
        return None
    return record


def _throttle_reasons(gpu):
    elem = gpu.find('clocks_event_reasons')
    prefix = 'clocks_event_reason_'
    if elem is None:
        elem = gpu.find('clocks_throttle_reasons')
        prefix = 'clocks_throttle_reason_'
    if elem is None:
        return None
    active = []
    for child in elem:
        if to_bool(child.text) is True:
            name = child.tag
            if name.startswith(prefix):
                name = name[len(prefix):]
            active.append(name)
    return active


def _power(gpu):
    draw = limit = None
    for section in ('gpu_power_readings', 'power_readings'):
        elem = gpu.find(section)
        if elem is None:
            continue
        if draw is None:
            draw = _num(elem, 'power_draw', 'instant_power_draw', 'average_power_draw')
        if limit is None:
            limit = _num(elem, 'current_power_limit', 'power_limit', 'enforced_power_limit')
    return draw, limit


def _nvlinks_from_xml(gpu):
    """NVLink records if the XML carries any ``nvlink`` elements (current drivers do not)."""
    links = gpu.findall('.//nvlink')
    if not links:
        return None
    result = []
    for position, elem in enumerate(links):
        link = _int(elem, 'link_id', 'link', 'id')
        if link is None:
            link = to_int(elem.get('id'))
        state = _text(elem, 'state') or _text(elem, 'status')
        speed = _num(elem, 'speed', 'bandwidth')
        up = to_bool(state) if state is not None else (speed is not None and speed > 0)
        result.append({'link': position if link is None else link, 'state': state,
                       'up': bool(up), 'speed_gbps': speed})
    return result


def _mig_devices(gpu):
    """Number of MIG devices (``mig_devices/mig_device``); None when the element is missing."""
    elem = gpu.find('mig_devices')
    if elem is None:
        return None
    return len(elem.findall('mig_device'))


def _performance_state(gpu):
    """'P0'..'P15' as reported, else None."""
    state = _text(gpu, 'performance_state')
    if state is None or not re.match(r'^P\d{1,2}$', state):
        return None
    return state


def _gpu_record(index, gpu):
    pci = gpu.find('pci')
    link = _find(pci, 'pci_gpu_link_info')
    draw, limit = _power(gpu)
    ecc = gpu.find('ecc_errors')
    bus_id = _text(pci, 'pci_bus_id') or clean(gpu.get('id'))
    record = {
        'index': index,
        'minor_number': _int(gpu, 'minor_number'),
        'product_name': _text(gpu, 'product_name'),
        'product_architecture': _text(gpu, 'product_architecture'),
        'uuid': _text(gpu, 'uuid'),
        'serial': _text(gpu, 'serial'),
        'pci_bus_id': normalize_pci(bus_id) or bus_id,
        'vbios_version': _text(gpu, 'vbios_version'),
        'persistence_mode': _bool(gpu, 'persistence_mode'),
        'mig_mode_current': _bool(gpu, 'mig_mode/current_mig'),
        'mig_mode_pending': _bool(gpu, 'mig_mode/pending_mig'),
        'mig_devices': _mig_devices(gpu),
        'compute_mode': _text(gpu, 'compute_mode'),
        'c2c_mode': _bool(gpu, 'c2c_mode'),
        'performance_state': _performance_state(gpu),
        'utilization': {
            'gpu_pct': _int(gpu, 'utilization/gpu_util'),
            'memory_pct': _int(gpu, 'utilization/memory_util'),
        },
        'ecc_mode_current': _bool(gpu, 'ecc_mode/current_ecc'),
        'ecc_mode_pending': _bool(gpu, 'ecc_mode/pending_ecc'),
        'ecc_errors': {
            'volatile': _ecc_counts(_find(ecc, 'volatile')),
            'aggregate': _ecc_counts(_find(ecc, 'aggregate')),
        },
        'remapped_rows': _remapped_rows(gpu),
        'retired_pages': _retired_pages(gpu),
        'temperature_c': _num(gpu, 'temperature/gpu_temp'),
        'temperature_slowdown_c': _num(gpu, 'temperature/gpu_temp_slow_threshold'),
        'temperature_shutdown_c': _num(gpu, 'temperature/gpu_temp_max_threshold'),
        'memory_temp_c': _num(gpu, 'temperature/memory_temp'),
        'power_draw_w': draw,
        'power_limit_w': limit,
        'clocks': {
            'graphics_mhz': _int(gpu, 'clocks/graphics_clock'),
            'sm_mhz': _int(gpu, 'clocks/sm_clock'),
            'mem_mhz': _int(gpu, 'clocks/mem_clock'),
        },
        'throttle_reasons': _throttle_reasons(gpu),
        'pcie': {
            'gen_current': _int(link, 'pcie_gen/current_link_gen'),
            'gen_max': _int(link, 'pcie_gen/max_link_gen'),
            'width_current': _int(link, 'link_widths/current_link_width'),
            'width_max': _int(link, 'link_widths/max_link_width'),
            'replay_counter': _int(pci, 'replay_counter'),
        },
        'fb_memory_mib': {
            'total': _int(gpu, 'fb_memory_usage/total'),
            'used': _int(gpu, 'fb_memory_usage/used'),
            'free': _int(gpu, 'fb_memory_usage/free'),
            'reserved': _int(gpu, 'fb_memory_usage/reserved'),
        },
        'reset_required': _bool(gpu, 'gpu_reset_status/reset_required'),
        'drain_and_reset_recommended': _bool(gpu, 'gpu_reset_status/drain_and_reset_recommended'),
        'fabric': {
            'state': _text(gpu, 'fabric/state'),
            'status': _text(gpu, 'fabric/status'),
            'clique_id': _text(gpu, 'fabric/cliqueId'),
            'cluster_uuid': _text(gpu, 'fabric/clusterUuid'),
            'health_summary': _text(gpu, 'fabric/health/summary'),
            'health_bandwidth': _text(gpu, 'fabric/health/bandwidth'),
        },
        'platform': {
            'chassis_serial_number': _text(gpu, 'platformInfo/chassis_serial_number'),
            'slot_number': _text(gpu, 'platformInfo/slot_number'),
            'tray_index': _text(gpu, 'platformInfo/tray_index'),
            'module_id': _int(gpu, 'platformInfo/module_id', 'gpu_module_id'),
        },
        'nvlinks': _nvlinks_from_xml(gpu),
    }
    return record


def parse_nvidia_smi_xml(text):
    """Parse the output of ``nvidia-smi -q -x`` into a plain dict.

    Raises NvidiaSmiParseError on malformed or truncated XML, or XML that is not an
    nvidia_smi_log document.
    """
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    if text is None or not text.strip():
        raise NvidiaSmiParseError('nvidia-smi -q -x output is not valid XML: the output is empty')
    document = _xml_document(text)
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise NvidiaSmiParseError('nvidia-smi -q -x output is not valid XML: %s' % exc)
    if root.tag != 'nvidia_smi_log':
        raise NvidiaSmiParseError('nvidia-smi -q -x output is not valid XML: root element is <%s>, '
                                  'expected <nvidia_smi_log>' % root.tag)
    gpus = [_gpu_record(index, gpu) for index, gpu in enumerate(root.findall('gpu'))]
    return {
        'timestamp': _text(root, 'timestamp'),
        'driver_version': _text(root, 'driver_version'),
        'cuda_version': _text(root, 'cuda_version'),
        'schema': detect_schema(document, root),
        'attached_gpus': _int(root, 'attached_gpus'),
        'gpus': gpus,
    }


# ---------------------------------------------------------------------------
# errors printed by nvidia-smi

def is_nvml_mismatch(*texts):
    return any(text and 'driver/library version mismatch' in text.lower() for text in texts)


def parse_device_errors(text):
    """'Unable to determine the device handle for GPU...' lines: GPUs NVML cannot reach.

    Returns a list of {index, pci_bus_id, message}; index and pci_bus_id are None when
    the line does not carry them.
    """
    errors = []
    if not text:
        return errors
    for line in text.splitlines():
        match = _HANDLE_RE.search(line)
        if not match:
            continue
        index, bus, _rest = match.groups()
        errors.append({
            'index': int(index) if index is not None else None,
            'pci_bus_id': normalize_pci(bus) if bus else None,
            'message': line.strip(),
        })
    return errors


# ---------------------------------------------------------------------------
# nvidia-smi nvlink -s

def parse_nvlink_blocks(text):
    """Per GPU of ``nvidia-smi nvlink -s``: list of {index, name, uuid, links}."""
    blocks = []
    current = None
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        header = _NVLINK_GPU_RE.match(line.strip())
        if header and not line[:1].isspace():
            current = {'index': int(header.group(1)), 'name': header.group(2) or None,
                       'uuid': header.group(3), 'links': []}
            blocks.append(current)
            continue
        match = _NVLINK_LINK_RE.match(line)
        if match and current is not None:
            state = match.group(2)
            speed = _SPEED_RE.match(state)
            speed_gbps = float(speed.group(1)) if speed else None
            current['links'].append({
                'link': int(match.group(1)),
                # a link is up only with a bandwidth figure; <inactive> or anything else is down
                'up': speed_gbps is not None,
                'speed_gbps': speed_gbps,
                'state': 'up' if speed_gbps is not None else state.strip('<>') or None,
            })
    return blocks


def parse_nvlink_status(text):
    """``nvidia-smi nvlink -s`` -> {gpu_index: [{link, up, speed_gbps, state}]}."""
    return dict((block['index'], block['links']) for block in parse_nvlink_blocks(text))


def merge_nvlinks(info, text):
    """Set each GPU's ``nvlinks`` from ``nvidia-smi nvlink -s`` output (matched by UUID, else index)."""
    blocks = parse_nvlink_blocks(text)
    by_uuid = dict((block['uuid'], block) for block in blocks if block['uuid'])
    by_index = dict((block['index'], block) for block in blocks)
    for gpu in info.get('gpus', []):
        block = by_uuid.get(gpu.get('uuid')) if gpu.get('uuid') else None
        if block is None and not by_uuid:
            block = by_index.get(gpu['index'])
        if block is not None:
            gpu['nvlinks'] = block['links']
    return info
