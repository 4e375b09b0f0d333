# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU health rules on parsed nvidia-smi data and kernel Xid lines.

Pure functions: input is what ``nvidia_smi.parse_nvidia_smi_xml`` returns, the NVLink
states of ``nvidia_smi.parse_nvlink_status``, the Xids of ``parse_xid_lines`` and a
dict of expectations; output is a verdict whose reasons each say what is wrong and
what an operator should do about it, e.g.
``GPU 3 (00000000:9B:00.0): Xid 79 (GPU has fallen off the bus) at 2026-01-01T10:00:00+0000: reboot the node``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.aifabric.cluster.plugins.module_utils.nvidia_smi import (
    normalize_pci, pci_key,
)

# Resolution column of NVIDIA's Xid catalog
XID_RESET_GPU = frozenset([46, 62, 64, 95, 109, 110, 119, 120, 136, 140, 143, 155, 156, 158])
XID_REBOOT = frozenset([79])
XID_NVLINK = frozenset([74, 144, 145, 146, 147, 148, 149, 150])
XID_DBE = frozenset([48])
XID_IGNORE = frozenset([13, 31, 43, 63, 92, 94])

XID_DESCRIPTIONS = {
    13: 'graphics engine exception',
    31: 'GPU memory page fault',
    43: 'GPU stopped processing',
    45: 'preemptive cleanup, due to previous errors',
    48: 'double-bit ECC error',
    62: 'internal micro-controller halt',
    63: 'ECC page retirement or row remapping recording event',
    64: 'ECC page retirement or row remapper recording failure',
    74: 'NVLink error',
    79: 'GPU has fallen off the bus',
    92: 'high single-bit ECC error rate',
    94: 'contained ECC error',
    95: 'uncontained ECC error',
    109: 'context switch timeout',
    119: 'GSP RPC timeout',
    120: 'GSP error',
    140: 'unrecovered ECC error',
}

XID_ACTIONS = {
    'reset_gpu': 'drain the GPU and reset it (nvidia-smi -r -i <index>) or reboot the node; '
                 'if the Xid recurs after the reset, open an RMA',
    'reboot': 'reboot the node; if the GPU does not come back or the Xid recurs, reseat it or open an RMA',
    'nvlink': 'follow the NVLink workflow: check nvidia-smi nvlink -s and nvidia-fabricmanager, '
              'reset the GPU (or reboot the node), and replace the GPU or NVSwitch baseboard if links stay down',
    'dbe': 'follow the double-bit ECC workflow: drain the GPU, reset it to retire/remap the page, '
           'check remapped_rows and retired_pages, and open an RMA if the remap failed or DBEs recur',
    'ignore': 'application-level event: restart the application; no node action needed unless it recurs',
    'unknown': 'not in the known resolution list: look the Xid up in the NVIDIA Xid catalog',
}

UNHEALTHY_XID_CATEGORIES = frozenset(['reset_gpu', 'reboot', 'nvlink', 'dbe'])

# throttle reasons that mean a hardware or cooling problem, not load
BAD_THROTTLE_REASONS = {
    'hw_slowdown': 'HW slowdown (power brake or thermal): check PSUs, power cabling and cooling',
    'hw_thermal_slowdown': 'HW thermal slowdown: check airflow, fans and inlet temperature',
    'hw_power_brake_slowdown': 'HW power brake slowdown: check PSUs and the chassis power budget',
    'sw_thermal_slowdown': 'SW thermal slowdown: check airflow, fans and inlet temperature',
}

DEFAULT_EXPECT = {
    'gpu_count': None,
    'product_name': None,
    'driver_version': None,
    'persistence_mode': True,
    'ecc_enabled': True,
    'max_temperature_c': 85,
    'allow_uncorrectable_ecc': 0,
    'check_pcie_gen': False,
    'expected_nvlinks': 0,
    'check_throttle': True,
}

_XID_RE = re.compile(r'NVRM: Xid \((?:PCI:)?([0-9A-Fa-f]{1,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}(?:\.[0-7])?)\):\s*(\d+),?\s*(.*)$')
_ISO_TIME_RE = re.compile(r'^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[+-]\d{2}:?\d{2}|Z)?)')
_DMESG_TIME_RE = re.compile(r'^\[\s*([0-9.]+)\]')
_PID_RE = re.compile(r'^pid=([^,]*),\s*')
_NAME_RE = re.compile(r'^name=([^,]*),\s*')


def classify_xid(code):
    """Category of an Xid: reset_gpu, reboot, nvlink, dbe, ignore or unknown."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        return 'unknown'
    if code in XID_REBOOT:
        return 'reboot'
    if code in XID_RESET_GPU:
        return 'reset_gpu'
    if code in XID_NVLINK:
        return 'nvlink'
    if code in XID_DBE:
        return 'dbe'
    if code in XID_IGNORE:
        return 'ignore'
    return 'unknown'


def parse_xid_line(line):
    """One kernel log line -> {pci, pci_raw, xid, pid, name, text, time, category, action}; None if not an Xid."""
    match = _XID_RE.search(line)
    if not match:
        return None
    pci_raw, code, rest = match.groups()
    pid = name = None
    found = _PID_RE.match(rest)
    if found:
        pid = found.group(1).strip("'") or None
        rest = rest[found.end():]
    found = _NAME_RE.match(rest)
    if found:
        name = found.group(1) or None
        rest = rest[found.end():]
    prefix = line[:match.start()].strip()
    time = None
    found = _ISO_TIME_RE.match(prefix)
    if found:
        time = found.group(1)
    else:
        found = _DMESG_TIME_RE.match(prefix)
        if found:
            time = found.group(1)
    code = int(code)
    category = classify_xid(code)
    return {
        'pci': normalize_pci(pci_raw),
        'pci_raw': pci_raw,
        'xid': code,
        'pid': pid,
        'name': name,
        'text': rest.strip(),
        'time': time,
        'category': category,
        'description': XID_DESCRIPTIONS.get(code),
        'action': XID_ACTIONS[category],
    }


def parse_xid_lines(text):
    """All Xid records of a kernel log (journalctl or dmesg output); other lines are skipped."""
    if isinstance(text, (list, tuple)):
        lines = text
    else:
        lines = (text or '').splitlines()
    result = []
    for line in lines:
        record = parse_xid_line(line)
        if record is not None:
            result.append(record)
    return result


def _label(gpu):
    return 'GPU %s (%s)' % (gpu.get('index'), gpu.get('pci_bus_id') or 'unknown bus id')


def _xid_summary(code, records):
    last = records[-1]
    what = XID_DESCRIPTIONS.get(code) or last.get('text') or 'no description'
    count = '' if len(records) == 1 else ' x%d' % len(records)
    when = ' at %s' % last['time'] if last.get('time') else ''
    return 'Xid %d (%s)%s%s' % (code, what, count, when)


def _group_xids(records):
    groups = {}
    order = []
    for record in records:
        if record['xid'] not in groups:
            groups[record['xid']] = []
            order.append(record['xid'])
        groups[record['xid']].append(record)
    return [(code, groups[code]) for code in order]


def _check_ecc(gpu, expect, reasons):
    volatile = (gpu.get('ecc_errors') or {}).get('volatile') or {}
    aggregate = (gpu.get('ecc_errors') or {}).get('aggregate') or {}
    dram = volatile.get('dram_uncorrectable') or 0
    sram = volatile.get('sram_uncorrectable') or 0
    allowed = expect.get('allow_uncorrectable_ecc') or 0
    if dram + sram > allowed:
        reasons.append('%d uncorrectable ECC errors since the driver loaded (DRAM %d, SRAM %d; %d allowed): '
                       'drain the GPU and reset it so the row remapper or page retirement can act; '
                       'if uncorrectable errors recur, open an RMA' % (dram + sram, dram, sram, allowed))
    if aggregate.get('sram_threshold_exceeded') is True:
        reasons.append('lifetime uncorrectable SRAM errors exceeded the threshold: replace the GPU (RMA)')


def _check_memory_repair(gpu, reasons):
    rows = gpu.get('remapped_rows')
    if rows:
        if rows.get('failure') is True:
            reasons.append('row remapping failed (%s uncorrectable rows remapped): the GPU has no spare rows left '
                           'for a failing bank: drain it and open an RMA' % rows.get('uncorrectable'))
        if rows.get('pending') is True:
            reasons.append('row remapping pending: drain the GPU and reset it (nvidia-smi -r -i %s) or reboot '
                           'the node to apply the remap' % gpu.get('index'))
    pages = gpu.get('retired_pages')
    if pages and pages.get('pending') is True:
        reasons.append('page retirement pending (%s DBE, %s SBE pages retired): reset the GPU or reboot the node '
                       'to retire the pages' % (pages.get('dbe'), pages.get('sbe')))


def _check_pcie(gpu, expect, reasons):
    pcie = gpu.get('pcie') or {}
    width, width_max = pcie.get('width_current'), pcie.get('width_max')
    if width is not None and width_max is not None and width < width_max:
        reasons.append('PCIe link degraded to x%d (capable of x%d): reseat the GPU or riser, check the slot and '
                       'cable, and reboot to retrain the link' % (width, width_max))
    if expect.get('check_pcie_gen'):
        gen, gen_max = pcie.get('gen_current'), pcie.get('gen_max')
        if gen is not None and gen_max is not None and gen < gen_max:
            reasons.append('PCIe link at Gen%d (capable of Gen%d): an idle GPU downtrains, so re-check under load; '
                           'if it stays low, check the BIOS PCIe settings, reseat the GPU and reboot' % (gen, gen_max))


def _check_nvlinks(gpu, links, expected, reasons):
    if not expected:
        return
    if links is None:
        reasons.append('no NVLink status for this GPU (expected %d links up): run nvidia-smi nvlink -s and '
                       'check the driver and nvidia-fabricmanager' % expected)
        return
    up = [link for link in links if link.get('up')]
    if len(up) < expected:
        down = [str(link['link']) for link in links if not link.get('up')]
        reasons.append('%d of %d NVLinks up, expected %d (down: %s): check nvidia-fabricmanager, reset the GPU or '
                       'reboot the node; if links stay down, replace the GPU or NVSwitch baseboard'
                       % (len(up), len(links), expected, ', '.join(down) or 'none listed'))


def _check_gpu(gpu, links, xids, expect):
    reasons = []
    warnings = []
    product = expect.get('product_name')
    if product and (gpu.get('product_name') is None
                    or product.lower() not in gpu['product_name'].lower()):
        reasons.append("product is '%s', expected '%s': check the node's hardware profile in the inventory "
                       'or the installed GPU' % (gpu.get('product_name'), product))
    want_pm = expect.get('persistence_mode')
    if want_pm is not None and gpu.get('persistence_mode') is not None and gpu['persistence_mode'] != want_pm:
        if want_pm:
            reasons.append('persistence mode is off: enable and start nvidia-persistenced '
                           '(or nvidia-smi -pm 1)')
        else:
            reasons.append('persistence mode is on, expected off: stop nvidia-persistenced (or nvidia-smi -pm 0)')
    if expect.get('ecc_enabled') and gpu.get('ecc_mode_current') is False:
        if gpu.get('ecc_mode_pending') is True:
            reasons.append('ECC is disabled, enabled pending a reset: reset the GPU or reboot the node')
        else:
            reasons.append('ECC is disabled: enable it (nvidia-smi -e 1 -i %s) and reset the GPU or reboot the node'
                           % gpu.get('index'))
    _check_ecc(gpu, expect, reasons)
    _check_memory_repair(gpu, reasons)
    limit = expect.get('max_temperature_c')
    temp = gpu.get('temperature_c')
    if limit is not None and temp is not None and temp > limit:
        reasons.append('temperature %s C is above %s C: check airflow, fans and inlet temperature; drain the node '
                       'if it stays hot' % (temp, limit))
    if expect.get('check_throttle', True):
        for reason in gpu.get('throttle_reasons') or []:
            if reason in BAD_THROTTLE_REASONS:
                reasons.append('clocks throttled by %s' % BAD_THROTTLE_REASONS[reason])
    _check_pcie(gpu, expect, reasons)
    _check_nvlinks(gpu, links, expect.get('expected_nvlinks') or 0, reasons)
    if gpu.get('reset_required') is True:
        reasons.append('the driver reports a GPU reset is required: drain the GPU and reset it '
                       '(nvidia-smi -r -i %s) or reboot the node' % gpu.get('index'))
    elif gpu.get('drain_and_reset_recommended') is True:
        reasons.append('the driver recommends drain and reset: drain the GPU and reset it')
    fabric = gpu.get('fabric') or {}
    if fabric.get('state') is not None and fabric['state'].lower() != 'completed':
        reasons.append("NVLink fabric registration is '%s' (status %s): start nvidia-fabricmanager (same version "
                       'as the driver) and wait for it to complete' % (fabric['state'], fabric.get('status')))
    elif fabric.get('status') is not None and fabric['status'].lower() != 'success':
        reasons.append("NVLink fabric registration status is '%s': check the nvidia-fabricmanager log, restart it, "
                       'and reboot the node if it does not recover' % fabric['status'])
    for code, records in _group_xids(xids):
        category = records[-1]['category']
        text = '%s: %s' % (_xid_summary(code, records), XID_ACTIONS[category])
        if category in UNHEALTHY_XID_CATEGORIES:
            reasons.append(text)
        else:
            warnings.append(text)
    label = _label(gpu)
    return {
        'index': gpu.get('index'),
        'uuid': gpu.get('uuid'),
        'pci_bus_id': gpu.get('pci_bus_id'),
        'product_name': gpu.get('product_name'),
        'healthy': not reasons,
        'reasons': ['%s: %s' % (label, reason) for reason in reasons],
        'warnings': ['%s: %s' % (label, warning) for warning in warnings],
    }


def evaluate(info, nvlinks=None, xids=None, expect=None, device_errors=None):
    """Health verdict of one node.

    ``info``: parsed ``nvidia-smi -q -x`` (None when nvidia-smi gave no usable output);
    ``nvlinks``: {gpu_index: [links]} or None (then each GPU's own ``nvlinks`` is used);
    ``xids``: Xid records; ``expect``: expectations (see DEFAULT_EXPECT);
    ``device_errors``: GPUs nvidia-smi could not reach (``parse_device_errors``).
    Returns {healthy, node_reasons, gpus: [{index, uuid, pci_bus_id, healthy, reasons, warnings}]}.
    """
    merged = dict(DEFAULT_EXPECT)
    merged.update(dict((key, value) for key, value in (expect or {}).items() if value is not None
                       or key in ('gpu_count', 'product_name', 'driver_version')))
    expect = merged
    xids = list(xids or [])
    device_errors = list(device_errors or [])
    gpus = list((info or {}).get('gpus') or [])
    node_reasons = []

    driver = (info or {}).get('driver_version')
    if expect.get('driver_version') and info is not None and driver != expect['driver_version']:
        node_reasons.append("driver version is '%s', expected '%s': install the expected driver and reboot the node"
                            % (driver, expect['driver_version']))

    known = set(pci_key(gpu.get('pci_bus_id')) for gpu in gpus)
    unreachable = []
    for error in device_errors:
        bus = error.get('pci_bus_id')
        if bus and pci_key(bus) in known:
            continue
        unreachable.append(bus)
        where = 'GPU at %s' % bus if bus else (
            'GPU %s' % error['index'] if error.get('index') is not None else 'a GPU')
        node_reasons.append('%s is unreachable (%s): it has fallen off the bus: reboot the node; if it does not '
                            'come back, reseat it or open an RMA' % (where, error.get('message')))

    attached = (info or {}).get('attached_gpus')
    if attached is not None and attached > len(gpus) and not unreachable:
        node_reasons.append('nvidia-smi counts %d attached GPUs but could query only %d: a GPU has fallen off the '
                            'bus: check dmesg for Xid 79 and reboot the node' % (attached, len(gpus)))

    want = expect.get('gpu_count')
    if want is not None and len(gpus) != want:
        missing = [bus for bus in unreachable if bus]
        node_reasons.append('nvidia-smi lists %d GPUs, expected %d%s: a GPU is missing or has fallen off the bus: '
                            "check 'lspci -d 10de:' and dmesg, reboot the node, reseat or RMA the GPU if it stays "
                            'missing' % (len(gpus), want,
                                         ' (missing %s)' % ', '.join(missing) if missing else ''))

    by_pci = {}
    for record in xids:
        by_pci.setdefault(pci_key(record.get('pci') or record.get('pci_raw')), []).append(record)

    results = []
    for gpu in gpus:
        if nvlinks is not None:
            links = nvlinks.get(gpu.get('index'))
            if links is None:
                links = nvlinks.get(str(gpu.get('index')))
        else:
            links = gpu.get('nvlinks')
        gpu_xids = by_pci.pop(pci_key(gpu.get('pci_bus_id')), [])
        results.append(_check_gpu(gpu, links, gpu_xids, expect))

    # Xids of GPUs nvidia-smi no longer lists (e.g. fallen off the bus)
    for key in sorted(by_pci, key=lambda value: value or ''):
        records = by_pci[key]
        for code, group in _group_xids(records):
            category = group[-1]['category']
            if category not in UNHEALTHY_XID_CATEGORIES:
                continue
            node_reasons.append('GPU at %s (not listed by nvidia-smi): %s: %s'
                                % (group[-1].get('pci') or group[-1].get('pci_raw'),
                                   _xid_summary(code, group), XID_ACTIONS[category]))

    healthy = not node_reasons and all(result['healthy'] for result in results)
    return {'healthy': healthy, 'node_reasons': node_reasons, 'gpus': results}
