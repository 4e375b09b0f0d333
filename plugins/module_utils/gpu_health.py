# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU health rules on parsed nvidia-smi data and kernel Xid lines.

Pure functions: input is what ``nvidia_smi.parse_nvidia_smi_xml`` returns, the NVLink
states of ``nvidia_smi.parse_nvlink_status``, the Xids of ``parse_xid_lines`` and a
dict of expectations (from the node's hardware profile: ``expectations_from_profile``);
output is a verdict with two kinds of result:

* faults (severity ``critical``): evidence that the hardware is faulty (a fatal Xid,
  uncorrectable ECC, a pending or failed row remap, a GPU fallen off the bus or missing
  against the expected count, NVLinks down where the profile expects them, thermal or
  power-brake slowdown, a PCIe link narrower than the profile expects). Faults make the
  GPU and the node unhealthy.
* findings (severity ``warning`` or ``info``): configuration (persistence, ECC, compute
  and MIG mode against the profile) and anything judged only against the GPU's own
  maximum. They do not change the verdict unless ``fail_on`` promotes them.

Every result names its evidence: the field read and its value, the expectation and where
it came from (the hardware profile and its key, a module option, the GPU's own maximum,
or the default), e.g. ``GPU 7 (00000000:DB:00.0): PCIe link trained narrower than
expected [pci/pci_gpu_link_info/link_widths/current_link_width = x8; expected x16
(hardware profile 'hgx-h100-8gpu', gpu_pcie_width)]: reseat the GPU or riser, ...``.
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

# severities, lowest first; faults are always 'critical'
SEVERITIES = ('info', 'warning', 'critical')
SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))

# cluster_hw_profiles key -> expectation key of evaluate()
PROFILE_KEYS = (
    ('gpu_count', 'gpu_count'),
    ('gpu_product', 'product_name'),
    ('nvlinks_per_gpu', 'expected_nvlinks'),
    ('gpu_pcie_gen', 'pcie_gen'),
    ('gpu_pcie_width', 'pcie_width'),
    ('gpu_ecc_mode', 'ecc_mode'),
    ('gpu_persistence_mode', 'persistence_mode'),
    ('gpu_mig_mode', 'mig_mode'),
    ('gpu_mig_devices', 'mig_devices'),
    ('gpu_compute_mode', 'compute_mode'),
)
PCIE_WIDTHS = (1, 2, 4, 8, 16)
PCIE_GEN_MAX = 6
COMPUTE_MODES = ('Default', 'Exclusive_Process', 'Prohibited')

DEFAULT_EXPECT = {
    'gpu_count': None,
    'product_name': None,
    'driver_version': None,
    'persistence_mode': None,       # None: no expectation (off is an info finding)
    'ecc_mode': None,               # None: no expectation (off is an info finding)
    'compute_mode': None,
    'mig_mode': None,
    'mig_devices': None,
    'pcie_gen': None,               # judged only while the GPU is busy
    'pcie_width': None,             # below it: a fault; without it, below the GPU's maximum: a finding
    'max_temperature_c': 85,
    'allow_uncorrectable_ecc': 0,
    'check_pcie_gen': False,        # judge the generation on idle GPUs too
    'busy_utilization_pct': 10,     # busy: P0-P2 and at least this GPU utilization
    'expected_nvlinks': 0,
    'check_throttle': True,
    'fail_on': 'critical',          # lowest severity that makes a GPU or node unhealthy
}

# expectation keys that may be set to None on purpose (no expectation)
_NULLABLE = frozenset(['gpu_count', 'product_name', 'driver_version', 'persistence_mode', 'ecc_mode',
                       'compute_mode', 'mig_mode', 'mig_devices', 'pcie_gen', 'pcie_width'])

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


# ---------------------------------------------------------------------------
# expectations

def expectations_from_profile(profile, name=None):
    """Expectations of evaluate() from a hardware profile (a cluster_hw_profiles entry).

    Returns (expect, sources): the expectation keys the profile sets, and for each where it
    came from, e.g. ``hardware profile 'hgx-h100-8gpu', gpu_pcie_width``. Keys the profile
    does not set (or sets to null) are left out; unknown keys are ignored (the inventory
    preflight reports them).
    """
    expect = {}
    sources = {}
    where = "hardware profile '%s'" % name if name else 'hardware profile'
    for key, target in PROFILE_KEYS:
        value = (profile or {}).get(key)
        if value is None:
            continue
        expect[target] = value
        sources[target] = '%s, %s' % (where, key)
    return expect, sources


class _Context(object):
    """The merged expectations and where each came from."""

    def __init__(self, expect, sources):
        merged = dict(DEFAULT_EXPECT)
        given = set()
        for key, value in (expect or {}).items():
            if value is None and key not in _NULLABLE:
                continue
            merged[key] = value
            if value is not None:
                given.add(key)
        if merged['fail_on'] not in SEVERITY_RANK:
            raise ValueError("fail_on '%s' is not a severity; allowed: %s"
                             % (merged['fail_on'], ', '.join(reversed(SEVERITIES))))
        self.expect = merged
        self.sources = dict(sources or {})
        self.given = given

    def get(self, key):
        return self.expect.get(key)

    def source(self, key):
        if key in self.sources:
            return self.sources[key]
        if key in self.given:
            return 'expectation %s' % key
        return 'default %s' % key

    def promoted(self, severity):
        return SEVERITY_RANK[severity] >= SEVERITY_RANK[self.expect['fail_on']]


# ---------------------------------------------------------------------------
# results

def _label(gpu):
    return 'GPU %s (%s)' % (gpu.get('index'), gpu.get('pci_bus_id') or 'unknown bus id')


def _result(check, severity, summary, field, value, expected, source, advice, shown=None, wanted=None):
    """One fault or finding; ``shown``/``wanted`` are how value/expected read in the message."""
    return {
        'check': check,
        'severity': severity,
        'summary': summary,
        'field': field,
        'value': value,
        'expected': expected,
        'source': source,
        'advice': advice,
        'shown': value if shown is None else shown,
        'wanted': expected if wanted is None else wanted,
    }


def _text(value):
    if value is True:
        return 'Yes'
    if value is False:
        return 'No'
    if value is None:
        return 'N/A'
    return str(value)


def _finish(item, label, gpu_index, pci_bus_id, ctx):
    """The public form of a result: the message with its evidence, and promotion."""
    message = '%s [%s = %s; expected %s (%s)]: %s' % (
        item['summary'], item['field'], _text(item['shown']), _text(item['wanted']), item['source'],
        item['advice'])
    if label:
        message = '%s: %s' % (label, message)
    record = {
        'check': item['check'],
        'severity': item['severity'],
        'gpu': gpu_index,
        'pci_bus_id': pci_bus_id,
        'field': item['field'],
        'value': item['value'],
        'expected': item['expected'],
        'source': item['source'],
        'message': message,
        'advice': item['advice'],
    }
    if item['severity'] != 'critical':
        record['promoted'] = ctx.promoted(item['severity'])
    return record


def _split(items, label, gpu_index, pci_bus_id, ctx):
    """(faults, findings, reasons): reasons are the messages of faults and promoted findings."""
    faults = []
    findings = []
    reasons = []
    for item in items:
        record = _finish(item, label, gpu_index, pci_bus_id, ctx)
        if record['severity'] == 'critical':
            faults.append(record)
            reasons.append(record['message'])
        else:
            findings.append(record)
            if record['promoted']:
                reasons.append('%s (finding of severity %s, failing with fail_on=%s)'
                               % (record['message'], record['severity'], ctx.get('fail_on')))
    return faults, findings, reasons


def node_fault(check, summary, field, value, expected, advice, source='default'):
    """A fault of the node found outside evaluate() (nvidia-smi failing), as evaluate() reports it."""
    return _finish(_result(check, 'critical', summary, field, value, expected, source, advice), None, None, None,
                   None)


# ---------------------------------------------------------------------------
# Xids

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


def _xid_result(code, records):
    category = records[-1]['category']
    fatal = category in UNHEALTHY_XID_CATEGORIES
    return _result(
        'xid', 'critical' if fatal else 'info', _xid_summary(code, records), 'kernel log, NVRM: Xid',
        code, 'no Xid of a fatal class', 'NVIDIA Xid catalog, class %s' % category,
        XID_ACTIONS[category], shown='Xid %d' % code)


# ---------------------------------------------------------------------------
# GPU checks; each appends results to ``out``

F_WIDTH = 'pci/pci_gpu_link_info/link_widths/current_link_width'
F_WIDTH_MAX = 'pci/pci_gpu_link_info/link_widths/max_link_width'
F_GEN = 'pci/pci_gpu_link_info/pcie_gen/current_link_gen'
F_GEN_MAX = 'pci/pci_gpu_link_info/pcie_gen/max_link_gen'


def _check_product(gpu, ctx, out):
    product = ctx.get('product_name')
    name = gpu.get('product_name')
    if product and (name is None or product.lower() not in name.lower()):
        out.append(_result(
            'product', 'warning', 'product differs from the expected one', 'product_name', name,
            product, ctx.source('product_name'),
            "check the node's hardware profile in the inventory, or whether the right GPU is installed",
            wanted="a name containing '%s'" % product))


def _check_persistence(gpu, ctx, out):
    want = ctx.get('persistence_mode')
    have = gpu.get('persistence_mode')
    if have is None:
        return
    if want is None:
        if have is False:
            out.append(_result(
                'persistence_mode', 'info', 'persistence mode is off', 'persistence_mode', False, None,
                'gpu_persistence_mode not set in the hardware profile',
                'configuration, not a fault: the nvidia_driver role enables nvidia-persistenced; '
                'set gpu_persistence_mode in the profile to check it', shown='Disabled', wanted='none'))
        return
    if have != bool(want):
        if want:
            advice = 'enable and start nvidia-persistenced (or nvidia-smi -pm 1); the nvidia_driver role does this'
        else:
            advice = 'stop nvidia-persistenced (or nvidia-smi -pm 0)'
        out.append(_result(
            'persistence_mode', 'warning', 'persistence mode is %s, expected %s'
            % ('on' if have else 'off', 'on' if want else 'off'), 'persistence_mode', have, bool(want),
            ctx.source('persistence_mode'), advice,
            shown='Enabled' if have else 'Disabled', wanted='Enabled' if want else 'Disabled'))


def _check_ecc_mode(gpu, ctx, out):
    want = ctx.get('ecc_mode')
    have = gpu.get('ecc_mode_current')
    pending = gpu.get('ecc_mode_pending')
    index = gpu.get('index')
    if want is None:
        if have is False:
            out.append(_result(
                'ecc_mode', 'info', 'ECC is disabled', 'ecc_mode/current_ecc', False, None,
                'gpu_ecc_mode not set in the hardware profile',
                'configuration, not a fault: set gpu_ecc_mode in the profile where ECC matters '
                '(enable it with nvidia-smi -e 1 -i %s and a GPU reset)' % index,
                shown='Disabled', wanted='none'))
        return
    want = bool(want)
    if have is None:
        if want:
            out.append(_result(
                'ecc_mode', 'warning', 'the GPU reports no ECC mode', 'ecc_mode/current_ecc', None, True,
                ctx.source('ecc_mode'), 'this GPU has no ECC (N/A): set gpu_ecc_mode: false in its hardware profile, '
                'or check that the profile matches the installed GPU', wanted='Enabled'))
        return
    if have == want:
        return
    if want:
        if pending is True:
            advice = 'ECC is enabled pending a reset: reset the GPU (nvidia-smi -r -i %s) or reboot the node' % index
        else:
            advice = 'enable it (nvidia-smi -e 1 -i %s) and reset the GPU or reboot the node' % index
        out.append(_result('ecc_mode', 'warning', 'ECC is disabled, expected enabled', 'ecc_mode/current_ecc',
                           False, True, ctx.source('ecc_mode'), advice, shown='Disabled', wanted='Enabled'))
    else:
        out.append(_result('ecc_mode', 'warning', 'ECC is enabled, expected disabled', 'ecc_mode/current_ecc',
                           True, False, ctx.source('ecc_mode'),
                           'disable it (nvidia-smi -e 0 -i %s) and reset the GPU, or fix gpu_ecc_mode in the profile'
                           % index, shown='Enabled', wanted='Disabled'))


def _check_compute_mode(gpu, ctx, out):
    want = ctx.get('compute_mode')
    have = gpu.get('compute_mode')
    if want is None or have is None or have.lower() == str(want).lower():
        return
    out.append(_result(
        'compute_mode', 'warning', 'compute mode differs from the expected one', 'compute_mode', have, want,
        ctx.source('compute_mode'), 'set it with nvidia-smi -c %s -i %s (or fix gpu_compute_mode in the profile)'
        % (str(want).upper(), gpu.get('index'))))


def _check_mig(gpu, ctx, out):
    want = ctx.get('mig_mode')
    have = gpu.get('mig_mode_current')
    pending = gpu.get('mig_mode_pending')
    index = gpu.get('index')
    if want is not None:
        want = bool(want)
        if have is None and want:
            out.append(_result(
                'mig_mode', 'warning', 'the GPU reports no MIG mode', 'mig_mode/current_mig', None, True,
                ctx.source('mig_mode'), 'this GPU has no MIG: check that the hardware profile matches the GPU',
                wanted='Enabled'))
        elif have is not None and have != want:
            if pending is want:
                advice = 'MIG mode %s is pending: reset the GPU (nvidia-smi -r -i %s) or reboot the node' % (
                    'Enabled' if want else 'Disabled', index)
            else:
                advice = 'set it with nvidia-smi -mig %d -i %s and reset the GPU (or fix gpu_mig_mode in the profile)' \
                    % (1 if want else 0, index)
            out.append(_result(
                'mig_mode', 'warning', 'MIG mode is %s, expected %s' % ('on' if have else 'off', 'on' if want else 'off'),
                'mig_mode/current_mig', have, want, ctx.source('mig_mode'), advice,
                shown='Enabled' if have else 'Disabled', wanted='Enabled' if want else 'Disabled'))
    elif have is not None and pending is not None and pending != have:
        out.append(_result(
            'mig_mode', 'info', 'a MIG mode change is pending', 'mig_mode/pending_mig', pending, have,
            'the current MIG mode (mig_mode/current_mig)', 'reset the GPU or reboot the node to apply it',
            shown='Enabled' if pending else 'Disabled', wanted='Enabled' if have else 'Disabled'))
    devices = ctx.get('mig_devices')
    count = gpu.get('mig_devices')
    if devices is not None and have is True and count is not None and count != devices:
        out.append(_result(
            'mig_devices', 'warning', 'MIG layout differs from the expected one', 'mig_devices/mig_device (count)',
            count, devices, ctx.source('mig_devices'),
            'recreate the GPU and compute instances (nvidia-smi mig -cgi ... -C) as the profile describes, '
            'or fix gpu_mig_devices in the profile'))


def _check_ecc_errors(gpu, ctx, out):
    volatile = (gpu.get('ecc_errors') or {}).get('volatile') or {}
    aggregate = (gpu.get('ecc_errors') or {}).get('aggregate') or {}
    dram = volatile.get('dram_uncorrectable') or 0
    sram = volatile.get('sram_uncorrectable') or 0
    allowed = ctx.get('allow_uncorrectable_ecc') or 0
    if dram + sram > allowed:
        out.append(_result(
            'ecc_uncorrectable', 'critical',
            '%d uncorrectable ECC errors since the driver loaded (DRAM %d, SRAM %d)' % (dram + sram, dram, sram),
            'ecc_errors/volatile/dram_uncorrectable + sram_uncorrectable', dram + sram, allowed,
            ctx.source('allow_uncorrectable_ecc'),
            'drain the GPU and reset it so the row remapper or page retirement can act; '
            'if uncorrectable errors recur, open an RMA', wanted='at most %d' % allowed))
    if aggregate.get('sram_threshold_exceeded') is True:
        out.append(_result(
            'ecc_sram_threshold', 'critical', 'lifetime uncorrectable SRAM errors exceeded the threshold',
            'ecc_errors/aggregate/sram_threshold_exceeded', True, False, 'default', 'replace the GPU (RMA)'))


def _check_memory_repair(gpu, ctx, out):
    rows = gpu.get('remapped_rows')
    index = gpu.get('index')
    if rows:
        if rows.get('failure') is True:
            out.append(_result(
                'row_remap_failure', 'critical',
                'row remapping failed (%s uncorrectable rows remapped): no spare rows left for a failing bank'
                % rows.get('uncorrectable'), 'remapped_rows/remapped_row_failure', True, False, 'default',
                'drain the GPU and open an RMA'))
        if rows.get('pending') is True:
            out.append(_result(
                'row_remap_pending', 'critical', 'row remapping pending', 'remapped_rows/remapped_row_pending',
                True, False, 'default', 'drain the GPU and reset it (nvidia-smi -r -i %s) or reboot the node to '
                'apply the remap' % index))
    elif gpu.get('mig_mode_current') is True and gpu.get('ecc_mode_current') is True:
        out.append(_result(
            'row_remap_unknown', 'info', 'row remapping state not reported while MIG is enabled',
            'remapped_rows', None, 'a remapper state', 'default',
            'not judged: check remapped rows with MIG disabled, or with DCGM (DCGM_FI_DEV_ROW_REMAP_PENDING)'))
    pages = gpu.get('retired_pages')
    if pages and pages.get('pending') is True:
        out.append(_result(
            'page_retirement_pending', 'critical', 'page retirement pending (%s DBE, %s SBE pages retired)'
            % (pages.get('dbe'), pages.get('sbe')), 'retired_pages/pending_retirement', True, False, 'default',
            'reset the GPU or reboot the node to retire the pages'))


def _check_temperature(gpu, ctx, out):
    limit = ctx.get('max_temperature_c')
    temp = gpu.get('temperature_c')
    if limit is not None and temp is not None and temp > limit:
        out.append(_result(
            'temperature', 'warning', 'temperature %s C is above %s C' % (temp, limit), 'temperature/gpu_temp',
            temp, limit, ctx.source('max_temperature_c'),
            'check airflow, fans and inlet temperature; a thermal slowdown, when it starts, is a fault',
            shown='%s C' % temp, wanted='at most %s C' % limit))


def _check_throttle(gpu, ctx, out):
    if not ctx.get('check_throttle'):
        return
    for reason in gpu.get('throttle_reasons') or []:
        if reason in BAD_THROTTLE_REASONS:
            out.append(_result(
                'throttle', 'critical', 'clocks throttled by %s' % BAD_THROTTLE_REASONS[reason].split(':')[0],
                'clocks_event_reasons/clocks_event_reason_%s' % reason, 'Active', 'Not Active', 'default',
                BAD_THROTTLE_REASONS[reason].split(': ', 1)[1]))


def _busy(gpu, ctx):
    """(busy, how): a GPU is busy at P0-P2 with at least busy_utilization_pct GPU utilization."""
    util = (gpu.get('utilization') or {}).get('gpu_pct')
    state = gpu.get('performance_state')
    how = '%s, %s %% utilization' % (state or 'P-state N/A', 'N/A' if util is None else util)
    if ctx.get('check_pcie_gen'):
        return True, how + ', judged with check_pcie_gen'
    if util is None or util < (ctx.get('busy_utilization_pct') or 0):
        return False, how
    if state is not None and int(state[1:]) > 2:
        return False, how
    return True, how


def _check_pcie(gpu, ctx, out):
    pcie = gpu.get('pcie') or {}
    width, width_max = pcie.get('width_current'), pcie.get('width_max')
    want = ctx.get('pcie_width')
    if width is not None:
        if want is not None:
            if width < want:
                out.append(_result(
                    'pcie_width', 'critical', 'PCIe link trained narrower than expected', F_WIDTH, width, want,
                    ctx.source('pcie_width'), 'reseat the GPU or riser, check the slot and cable, and reboot to '
                    'retrain the link', shown='x%d' % width, wanted='x%d' % want))
        elif width_max is not None and width < width_max:
            out.append(_result(
                'pcie_width', 'warning', 'PCIe link narrower than the GPU can do', F_WIDTH, width, width_max,
                'the GPU maximum, %s; gpu_pcie_width not set in the hardware profile' % F_WIDTH_MAX,
                'if the slot is wired x%d, reseat the GPU or riser and reboot; if the platform wires x%d by design, '
                'set gpu_pcie_width: %d in the hardware profile' % (width_max, width, width),
                shown='x%d' % width, wanted='x%d' % width_max))
    gen, gen_max = pcie.get('gen_current'), pcie.get('gen_max')
    want = ctx.get('pcie_gen')
    if gen is None or (want is None and (gen_max is None or gen >= gen_max)) or (want is not None and gen >= want):
        return
    busy, how = _busy(gpu, ctx)
    if not busy:
        return  # idle GPUs train the link down on purpose: nothing to judge
    if want is not None:
        out.append(_result(
            'pcie_gen', 'critical', 'PCIe link below the expected generation while busy', F_GEN, gen, want,
            ctx.source('pcie_gen'), 'check the BIOS PCIe settings and the riser or retimer, reseat the GPU and reboot',
            shown='Gen%d (%s)' % (gen, how), wanted='Gen%d' % want))
    else:
        out.append(_result(
            'pcie_gen', 'warning', 'PCIe link below the generation the GPU can do while busy', F_GEN, gen, gen_max,
            'the GPU maximum, %s; gpu_pcie_gen not set in the hardware profile' % F_GEN_MAX,
            'if the platform supports Gen%d, check the BIOS PCIe settings, reseat the GPU and reboot; '
            'otherwise set gpu_pcie_gen: %d in the hardware profile' % (gen_max, gen),
            shown='Gen%d (%s)' % (gen, how), wanted='Gen%d' % gen_max))


def _check_nvlinks(gpu, links, ctx, out):
    expected = ctx.get('expected_nvlinks') or 0
    if not expected:
        if links:
            up = [link for link in links if link.get('up')]
            if up and len(up) < len(links):
                down = [str(link['link']) for link in links if not link.get('up')]
                out.append(_result(
                    'nvlink', 'warning', '%d of %d NVLinks up (down: %s)' % (len(up), len(links), ', '.join(down)),
                    'nvidia-smi nvlink -s', len(up), len(links),
                    'the links nvidia-smi lists; nvlinks_per_gpu not set in the hardware profile',
                    'set nvlinks_per_gpu in the hardware profile to judge NVLinks; check nvidia-fabricmanager '
                    'and nvidia-smi nvlink -s', shown='%d up' % len(up), wanted='%d up' % len(links)))
        return
    if links is None:
        out.append(_result(
            'nvlink', 'critical', 'no NVLink status for this GPU', 'nvidia-smi nvlink -s', None, expected,
            ctx.source('expected_nvlinks'), 'run nvidia-smi nvlink -s and check the driver and nvidia-fabricmanager',
            shown='no output', wanted='%d links up' % expected))
        return
    up = [link for link in links if link.get('up')]
    if len(up) < expected:
        down = [str(link['link']) for link in links if not link.get('up')]
        out.append(_result(
            'nvlink', 'critical', '%d of %d NVLinks up (down: %s)' % (len(up), len(links), ', '.join(down) or 'none listed'),
            'nvidia-smi nvlink -s', len(up), expected, ctx.source('expected_nvlinks'),
            'check nvidia-fabricmanager, reset the GPU or reboot the node; if links stay down, replace the GPU or '
            'NVSwitch baseboard', shown='%d up' % len(up), wanted='%d up' % expected))


def _check_reset(gpu, ctx, out):
    index = gpu.get('index')
    if gpu.get('reset_required') is True:
        out.append(_result(
            'reset_required', 'critical', 'the driver reports a GPU reset is required',
            'gpu_reset_status/reset_required', True, False, 'default',
            'drain the GPU and reset it (nvidia-smi -r -i %s) or reboot the node' % index))
    elif gpu.get('drain_and_reset_recommended') is True:
        out.append(_result(
            'reset_required', 'critical', 'the driver recommends drain and reset',
            'gpu_reset_status/drain_and_reset_recommended', True, False, 'default',
            'drain the GPU and reset it (nvidia-smi -r -i %s) or reboot the node' % index))


def _check_fabric(gpu, ctx, out):
    fabric = gpu.get('fabric') or {}
    links_expected = bool(ctx.get('expected_nvlinks'))
    severity = 'critical' if links_expected else 'warning'
    source = ctx.source('expected_nvlinks') if links_expected else 'default'
    state, status = fabric.get('state'), fabric.get('status')
    if state is not None and state.lower() != 'completed':
        out.append(_result(
            'fabric', severity, 'NVLink fabric registration not completed', 'fabric/state', state, 'Completed',
            source, 'start nvidia-fabricmanager (same version as the driver) and wait for it to complete; '
            'reboot the node if it does not'))
    elif status is not None and status.lower() != 'success':
        out.append(_result(
            'fabric', severity, 'NVLink fabric registration failed', 'fabric/status', status, 'Success', source,
            'check the nvidia-fabricmanager log, restart it, and reboot the node if it does not recover'))
    summary = fabric.get('health_summary')
    if summary is not None and summary.lower() != 'healthy':
        out.append(_result(
            'fabric_health', 'warning', 'NVLink fabric health is %s (bandwidth %s)'
            % (summary, fabric.get('health_bandwidth') or 'N/A'), 'fabric/health/summary', summary, 'Healthy',
            'default', 'check nvidia-smi nvlink -s and the NVLink fabric (NMX / nvidia-fabricmanager)'))


def _check_gpu(gpu, links, xids, ctx):
    items = []
    _check_product(gpu, ctx, items)
    _check_persistence(gpu, ctx, items)
    _check_ecc_mode(gpu, ctx, items)
    _check_compute_mode(gpu, ctx, items)
    _check_mig(gpu, ctx, items)
    _check_ecc_errors(gpu, ctx, items)
    _check_memory_repair(gpu, ctx, items)
    _check_temperature(gpu, ctx, items)
    _check_throttle(gpu, ctx, items)
    _check_pcie(gpu, ctx, items)
    _check_nvlinks(gpu, links, ctx, items)
    _check_reset(gpu, ctx, items)
    _check_fabric(gpu, ctx, items)
    label = _label(gpu)
    warnings = []
    for code, records in _group_xids(xids):
        item = _xid_result(code, records)
        items.append(item)
        if item['severity'] != 'critical':
            warnings.append('%s: %s: %s' % (label, item['summary'], item['advice']))
    faults, findings, reasons = _split(items, label, gpu.get('index'), gpu.get('pci_bus_id'), ctx)
    return {
        'index': gpu.get('index'),
        'uuid': gpu.get('uuid'),
        'pci_bus_id': gpu.get('pci_bus_id'),
        'product_name': gpu.get('product_name'),
        'healthy': not reasons,
        'reasons': reasons,
        'faults': faults,
        'findings': findings,
        'warnings': warnings,
    }


# ---------------------------------------------------------------------------
# node

def evaluate(info, nvlinks=None, xids=None, expect=None, device_errors=None, sources=None):
    """Health verdict of one node.

    ``info``: parsed ``nvidia-smi -q -x`` (None when nvidia-smi gave no usable output);
    ``nvlinks``: {gpu_index: [links]} or None (then each GPU's own ``nvlinks`` is used);
    ``xids``: Xid records; ``expect``: expectations (see DEFAULT_EXPECT and
    ``expectations_from_profile``); ``device_errors``: GPUs nvidia-smi could not reach
    (``parse_device_errors``); ``sources``: where each expectation came from, by key.

    Returns {healthy, node_reasons, node_faults, node_findings, findings, gpus}: ``gpus``
    is a list of {index, uuid, pci_bus_id, product_name, healthy, reasons, faults,
    findings, warnings}; ``findings`` lists every finding of the node and its GPUs.
    Raises ValueError for an unknown ``fail_on``.
    """
    ctx = _Context(expect, sources)
    xids = list(xids or [])
    device_errors = list(device_errors or [])
    gpus = list((info or {}).get('gpus') or [])
    items = []

    driver = (info or {}).get('driver_version')
    want = ctx.get('driver_version')
    if want and info is not None and driver != want:
        items.append(_result(
            'driver_version', 'warning', 'driver version differs from the expected one', 'driver_version', driver,
            want, ctx.source('driver_version'), 'install the expected driver and reboot the node'))

    known = set(pci_key(gpu.get('pci_bus_id')) for gpu in gpus)
    unreachable = []
    for error in device_errors:
        bus = error.get('pci_bus_id')
        if bus and pci_key(bus) in known:
            continue
        unreachable.append(bus)
        where = 'GPU at %s' % bus if bus else (
            'GPU %s' % error['index'] if error.get('index') is not None else 'a GPU')
        items.append(_result(
            'gpu_unreachable', 'critical', '%s is unreachable: it has fallen off the bus' % where,
            'nvidia-smi output', error.get('message'), 'a device handle for every GPU', 'default',
            'reboot the node; if it does not come back, reseat it or open an RMA'))

    attached = (info or {}).get('attached_gpus')
    if attached is not None and attached > len(gpus) and not unreachable:
        items.append(_result(
            'gpu_attached', 'critical', 'nvidia-smi counts %d attached GPUs but could query only %d: a GPU has '
            'fallen off the bus' % (attached, len(gpus)), 'attached_gpus', attached, len(gpus), 'default',
            'check dmesg for Xid 79 and reboot the node', wanted='%d (the GPUs listed)' % len(gpus)))

    want = ctx.get('gpu_count')
    if want is not None and len(gpus) != want:
        missing = [bus for bus in unreachable if bus]
        if len(gpus) < want:
            items.append(_result(
                'gpu_count', 'critical', 'nvidia-smi lists %d GPUs, expected %d%s: a GPU is missing or has fallen '
                'off the bus' % (len(gpus), want, ' (missing %s)' % ', '.join(missing) if missing else ''),
                'gpu (count)', len(gpus), want, ctx.source('gpu_count'),
                "check 'lspci -d 10de:' and dmesg, reboot the node, reseat or RMA the GPU if it stays missing"))
        else:
            items.append(_result(
                'gpu_count', 'warning', 'nvidia-smi lists %d GPUs, more than the %d expected' % (len(gpus), want),
                'gpu (count)', len(gpus), want, ctx.source('gpu_count'),
                "check the node's hardware profile (gpu_count) in the inventory"))

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
        results.append(_check_gpu(gpu, links, gpu_xids, ctx))

    # Xids of GPUs nvidia-smi no longer lists (e.g. fallen off the bus)
    for key in sorted(by_pci, key=lambda value: value or ''):
        for code, group in _group_xids(by_pci[key]):
            item = _xid_result(code, group)
            if item['severity'] != 'critical':
                continue
            item['summary'] = 'GPU at %s (not listed by nvidia-smi): %s' % (
                group[-1].get('pci') or group[-1].get('pci_raw'), item['summary'])
            items.append(item)

    node_faults, node_findings, node_reasons = [], [], []
    for item in items:
        faults, findings, reasons = _split([item], None, None, None, ctx)
        node_faults.extend(faults)
        node_findings.extend(findings)
        node_reasons.extend(reasons)
    findings = list(node_findings)
    for result in results:
        findings.extend(result['findings'])
    healthy = not node_reasons and all(result['healthy'] for result in results)
    return {'healthy': healthy, 'node_reasons': node_reasons, 'node_faults': node_faults,
            'node_findings': node_findings, 'findings': findings, 'gpus': results}


def summary_lines(results):
    """The cluster's GPU health for a person, from the nvidia_gpu_health results by node
    (``{node: result}``), nodes by name: ``node: healthy|UNHEALTHY[, N finding(s)]``, then the
    node's reasons and its unhealthy GPUs' reasons (``  - ``) and the findings that do not fail it
    (``  ~ severity: message``). A result without a verdict (a module error) is ``node: NOT
    CHECKED (message)``."""
    lines = []
    for node in sorted(results or {}):
        result = results[node] or {}
        if 'healthy' not in result:
            lines.append('%s: NOT CHECKED (%s)' % (node, result.get('msg') or 'no result'))
            continue
        findings = result.get('findings') or []
        lines.append('%s: %s%s' % (node, 'healthy' if result['healthy'] else 'UNHEALTHY',
                                   ', %d finding(s)' % len(findings) if findings else ''))
        lines.extend('  - %s' % reason for reason in result.get('node_reasons') or [])
        for gpu in result.get('gpus') or []:
            if not gpu.get('healthy', True):
                lines.extend('  - %s' % reason for reason in gpu.get('reasons') or [])
        lines.extend('  ~ %s: %s' % (f.get('severity'), f.get('message')) for f in findings if not f.get('promoted'))
    return lines
