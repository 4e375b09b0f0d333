#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nvidia_gpu_health
short_description: Judge the health of the NVIDIA GPUs of a host against its hardware profile
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Runs C(nvidia-smi -q -x), C(nvidia-smi nvlink -s) (when NVLinks are expected or O(check_nvlink=true))
    and reads the NVIDIA Xid events of the kernel log since O(xid_since)
    (C(journalctl -t kernel --since <xid_since> -o short-iso --no-pager), filtered for C(NVRM: Xid) in Python;
    without journalctl or a journal, C(dmesg), which covers the current boot)."
  - "Returns two kinds of result. B(Faults) mean the hardware is faulty and make the GPU and the node unhealthy:
    Xids of the fatal classes, uncorrectable ECC errors, row remapping pending or failed, page retirement pending,
    a GPU fallen off the bus or missing against the expected count, NVLinks down where NVLinks are expected,
    thermal or power-brake slowdown, a reset the driver asks for, a PCIe link narrower than the profile expects,
    a PCIe generation below the profile's while the GPU is busy."
  - "B(Findings) are reported with a severity (C(warning) or C(info)) and advice and do not change the verdict:
    configuration (persistence mode, ECC mode, compute mode, MIG mode and layout against the profile; persistence
    or ECC off without an expectation), and anything judged only against the GPU's own maximum (a PCIe link
    narrower than the GPU can do, a lower generation while busy, some NVLinks down without an expectation).
    O(fail_on) promotes findings to failures."
  - "Expectations come from the node's hardware profile (O(hw_profile), an entry of C(cluster_hw_profiles));
    the C(expected_*) options override it. Every fault and finding names its evidence: the field and value read,
    the expectation and where it came from (the profile and its key, an option, the GPU's maximum, the default)."
  - By default the module only reports (RV(healthy)); with O(fail_on_unhealthy=true) it fails on an unhealthy node.
  - Never changes anything on the host. See C(docs/gpu-health.md) for every check and the operator action.
options:
  hw_profile:
    description:
      - The node's hardware profile, C(cluster_hw_profiles[node_hw_profile]). Every key is optional; a key that is
        not set is not an expectation.
    type: dict
    default: {}
    suboptions:
      gpu_count:
        description: Number of GPUs; fewer is a fault, more a finding.
        type: int
      gpu_product:
        description: Text the product name of every GPU must contain (case-insensitive); a finding otherwise.
        type: str
      nvlinks_per_gpu:
        description: NVLinks that must be up on every GPU (18 on HGX H100 and GB200, 12 on HGX A100); V(0) does not check.
        type: int
      gpu_pcie_gen:
        description:
          - PCIe generation every GPU's link must reach while the GPU is busy (P0-P2 and at least 10% utilization).
          - Idle GPUs train their link down on purpose and are not judged.
        type: int
        choices: [1, 2, 3, 4, 5, 6]
      gpu_pcie_width:
        description:
          - PCIe link width every GPU must run at (V(16) on HGX; what the platform wires elsewhere, for example V(8)).
          - A narrower link is a fault naming the profile.
        type: int
        choices: [1, 2, 4, 8, 16]
      gpu_ecc_mode:
        description: Whether ECC must be on (V(true)) or off (V(false)); a finding otherwise.
        type: bool
      gpu_persistence_mode:
        description: Whether persistence mode must be on or off; a finding otherwise.
        type: bool
      gpu_mig_mode:
        description: Whether MIG mode must be on or off; a finding otherwise.
        type: bool
      gpu_mig_devices:
        description: Number of MIG devices every GPU must have while MIG is on; a finding otherwise.
        type: int
      gpu_compute_mode:
        description: Compute mode of every GPU; a finding otherwise.
        type: str
        choices: [Default, Exclusive_Process, Prohibited]
  hw_profile_name:
    description: Name of the hardware profile (C(node_hw_profile)), quoted in the evidence of every result.
    type: str
  expected_gpu_count:
    description: Number of GPUs the node must have; overrides O(hw_profile.gpu_count).
    type: int
  expected_product:
    description: Text the product name of every GPU must contain, for example V(H100 80GB HBM3); overrides O(hw_profile.gpu_product).
    type: str
  expected_driver_version:
    description: Exact driver version the node should run, for example V(535.183.01); a finding otherwise; not checked when omitted.
    type: str
  expected_nvlinks:
    description:
      - Number of NVLinks that must be up on every GPU; overrides O(hw_profile.nvlinks_per_gpu).
      - V(0), or neither set, does not check NVLinks.
    type: int
  check_nvlink:
    description:
      - Run C(nvidia-smi nvlink -s) and return the link states in RV(gpus[].nvlinks) even when no NVLinks are expected.
    type: bool
    default: false
  max_temperature_c:
    description: GPU temperature above which a C(warning) finding is reported (a thermal slowdown is a fault on its own).
    type: int
    default: 85
  check_pcie_gen:
    description:
      - Judge the PCIe generation of idle GPUs too. By default it is judged only while a GPU is busy, because
        idle GPUs train their link generation down to save power; the link width is always judged.
    type: bool
    default: false
  fail_on:
    description:
      - Lowest severity that makes a GPU or the node unhealthy.
      - V(critical) (faults only), V(warning) (also findings of severity warning), V(info) (every finding).
    type: str
    choices: [critical, warning, info]
    default: critical
  xid_since:
    description: Start of the kernel log window searched for Xids, in the C(journalctl --since) syntax.
    type: str
    default: -1h
  fail_on_unhealthy:
    description: Fail the task when the node is unhealthy, instead of only returning RV(healthy=false).
    type: bool
    default: false
  nvidia_smi_path:
    description:
      - Path of the C(nvidia-smi) binary.
      - By default C(nvidia-smi) is looked up in E(PATH) and the usual system directories; the module fails when it is not found.
    type: path
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - A driver/library version mismatch (C(Failed to initialize NVML)) makes the node unhealthy with RV(nvml_mismatch=true)
    rather than failing the task, unless O(fail_on_unhealthy=true).
  - Any other nvidia-smi failure without usable output fails the task with its rc, stdout and stderr.
seealso:
  - module: aifabric.cluster.nvidia_smi_info
'''

EXAMPLES = r'''
- name: Check a node against its hardware profile
  aifabric.cluster.nvidia_gpu_health:
    hw_profile: "{{ cluster_hw_profiles[node_hw_profile] }}"
    hw_profile_name: "{{ node_hw_profile }}"
    expected_driver_version: 535.183.01
  register: gpu_health

- name: Show the faults, then the findings
  ansible.builtin.debug:
    msg: "{{ gpu_health.node_reasons + (gpu_health.gpus | map(attribute='reasons') | flatten)
             + (gpu_health.findings | map(attribute='message')) }}"

- name: Check an HGX H100 node without an inventory profile
  aifabric.cluster.nvidia_gpu_health:
    hw_profile:
      gpu_count: 8
      gpu_product: H100 80GB HBM3
      nvlinks_per_gpu: 18
      gpu_pcie_width: 16
      gpu_pcie_gen: 5
      gpu_ecc_mode: true
      gpu_persistence_mode: true
    hw_profile_name: hgx-h100-8gpu

- name: Gate a job on healthy GPUs, also failing on configuration findings, looking at the Xids of the last day
  aifabric.cluster.nvidia_gpu_health:
    expected_gpu_count: 8
    xid_since: -24h
    fail_on: warning
    fail_on_unhealthy: true
'''

RETURN = r'''
healthy:
  description: V(true) when no fault (and no finding at or above O(fail_on)) was found on the node or any GPU.
  returned: always
  type: bool
  sample: false
node_reasons:
  description:
    - Faults of the node as a whole (GPU count, unreachable GPUs, Xids of GPUs nvidia-smi no longer lists, NVML
      mismatch), each with its evidence and the action to take; and node findings promoted by O(fail_on).
  returned: always
  type: list
  elements: str
  sample:
    - "nvidia-smi lists 7 GPUs, expected 8 (missing 00000000:9B:00.0): a GPU is missing or has fallen off the bus
      [gpu (count) = 7; expected 8 (hardware profile 'hgx-h100-8gpu', gpu_count)]: check 'lspci -d 10de:' ..."
node_faults:
  description: The faults of the node as records, with the keys of RV(findings) except C(promoted).
  returned: always
  type: list
  elements: dict
node_findings:
  description: The findings of the node as a whole (driver version, more GPUs than expected), as in RV(findings).
  returned: always
  type: list
  elements: dict
findings:
  description: Every finding of the node and its GPUs. Findings do not make the node unhealthy unless C(promoted).
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The rule, for example C(persistence_mode), C(ecc_mode), C(pcie_width), C(pcie_gen), C(xid).
      type: str
      sample: pcie_width
    severity:
      description: C(warning) or C(info) (faults are C(critical)).
      type: str
      sample: warning
    gpu:
      description: Index of the GPU, V(null) for the node.
      type: int
      sample: 0
    pci_bus_id:
      description: PCI bus id of the GPU, V(null) for the node.
      type: str
      sample: 00000000:00:1E.0
    field:
      description: What was read (the nvidia-smi XML element, relative to C(<gpu>), or the command).
      type: str
      sample: pci/pci_gpu_link_info/link_widths/current_link_width
    value:
      description: The value read.
      type: raw
      sample: 8
    expected:
      description: The expectation compared against, V(null) when there is none.
      type: raw
      sample: 16
    source:
      description: Where the expectation came from (the hardware profile and its key, an option, the GPU's maximum, the default).
      type: str
      sample: the GPU maximum, pci/pci_gpu_link_info/link_widths/max_link_width; gpu_pcie_width not set in the hardware profile
    message:
      description: The finding with its evidence and advice, prefixed with the GPU.
      type: str
    advice:
      description: What an operator should do.
      type: str
    promoted:
      description: V(true) when O(fail_on) makes this finding a failure.
      type: bool
      sample: false
gpus:
  description: Verdict per GPU.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: Position of the GPU in the output of nvidia-smi.
      type: int
      sample: 3
    uuid:
      description: GPU UUID.
      type: str
      sample: GPU-4a1c2f3e-0b6d-4e55-9a1e-7c0d3b2a1f03
    pci_bus_id:
      description: PCI bus id.
      type: str
      sample: 00000000:9B:00.0
    product_name:
      description: Product name.
      type: str
      sample: NVIDIA H100 80GB HBM3
    healthy:
      description: V(true) when the GPU has no fault (and no finding at or above O(fail_on)).
      type: bool
      sample: false
    reasons:
      description: The faults of the GPU (and promoted findings), each with its evidence and what to do.
      type: list
      elements: str
      sample:
        - "GPU 3 (00000000:9B:00.0): row remapping pending [remapped_rows/remapped_row_pending = Yes; expected No
          (default)]: drain the GPU and reset it (nvidia-smi -r -i 3) or reboot the node to apply the remap"
    faults:
      description: The faults of the GPU as records, with the keys of RV(findings) except C(promoted).
      type: list
      elements: dict
    findings:
      description: The findings of the GPU, as in RV(findings).
      type: list
      elements: dict
    warnings:
      description: Xids that do not make the GPU unhealthy (application-level or unknown), as text; also in RV(findings).
      type: list
      elements: str
      sample: ["GPU 0 (00000000:18:00.0): Xid 13 (graphics engine exception) at 2026-01-05T10:00:00+0000: application-level event: ..."]
    nvlinks:
      description: NVLink states (C(link), C(up), C(speed_gbps), C(state)) when C(nvidia-smi nvlink -s) ran, else V(null).
      type: list
      elements: dict
      sample: [{link: 0, up: true, speed_gbps: 26.562, state: up}]
xids:
  description: Xid events of the kernel log since O(xid_since), classified by NVIDIA's resolution catalog.
  returned: always
  type: list
  elements: dict
  contains:
    pci:
      description: PCI bus id of the GPU, normalized to the form of nvidia-smi.
      type: str
      sample: 00000000:9B:00.0
    pci_raw:
      description: PCI bus id as the kernel logged it.
      type: str
      sample: 0000:9b:00
    xid:
      description: Xid number.
      type: int
      sample: 79
    category:
      description: Resolution class, one of C(reset_gpu), C(reboot), C(nvlink), C(dbe), C(ignore), C(unknown).
      type: str
      sample: reboot
    description:
      description: Short name of the Xid where known, else V(null).
      type: str
      sample: GPU has fallen off the bus
    action:
      description: What an operator should do.
      type: str
      sample: "reboot the node; if the GPU does not come back or the Xid recurs, reseat it or open an RMA"
    pid:
      description: Process id in the log line, if any.
      type: str
      sample: "1234"
    name:
      description: Process name in the log line, if any.
      type: str
      sample: python3
    text:
      description: Rest of the log line.
      type: str
      sample: GPU has fallen off the bus.
    time:
      description: Time stamp of the log line (ISO 8601 from journalctl, seconds since boot from dmesg).
      type: str
      sample: 2026-01-05T10:00:00+0000
xid_source:
  description: Where the Xids were read, C(journalctl), C(dmesg) or C(none).
  returned: always
  type: str
  sample: journalctl
driver_version:
  description: NVIDIA driver version, V(null) when nvidia-smi gave no usable output.
  returned: always
  type: str
  sample: 535.183.01
gpu_count:
  description: Number of GPUs nvidia-smi listed.
  returned: always
  type: int
  sample: 8
device_errors:
  description: GPUs nvidia-smi could not reach (C(Unable to determine the device handle)), each with C(index), C(pci_bus_id) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{index: null, pci_bus_id: "00000000:9B:00.0", message: "Unable to determine the device handle for GPU0000:9B:00.0: Unknown Error"}]
nvml_mismatch:
  description: V(true) when nvidia-smi failed with C(Driver/library version mismatch).
  returned: always
  type: bool
  sample: false
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.nvidia_smi import (
    NVML_MISMATCH, NvidiaSmiParseError, is_nvml_mismatch, merge_nvlinks, parse_device_errors,
    parse_nvidia_smi_xml,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.gpu_health import (
    COMPUTE_MODES, PCIE_GEN_MAX, PCIE_WIDTHS, evaluate, expectations_from_profile, node_fault, parse_xid_lines,
)

ENV = dict(LANG='C', LC_ALL='C')


def read_xids(module, since):
    """Kernel Xid lines since ``since``: journalctl first, dmesg without a journal."""
    journalctl = module.get_bin_path('journalctl')
    if journalctl:
        rc, out, err = module.run_command(
            [journalctl, '-t', 'kernel', '--since', since, '-o', 'short-iso', '--no-pager'],
            environ_update=ENV)
        if rc == 0:
            return parse_xid_lines(out), 'journalctl'
        module.warn('journalctl failed (rc %d): %s; reading Xids from dmesg' % (rc, (err or out).strip()))
    dmesg = module.get_bin_path('dmesg')
    if dmesg:
        rc, out, err = module.run_command([dmesg], environ_update=ENV)
        if rc == 0:
            return parse_xid_lines(out), 'dmesg'
        module.warn('dmesg failed (rc %d): %s; Xids not checked' % (rc, (err or out).strip()))
    else:
        module.warn('neither journalctl nor dmesg found; Xids not checked')
    return [], 'none'


HW_PROFILE_SPEC = dict(
    gpu_count=dict(type='int'),
    gpu_product=dict(type='str'),
    nvlinks_per_gpu=dict(type='int'),
    gpu_pcie_gen=dict(type='int', choices=list(range(1, PCIE_GEN_MAX + 1))),
    gpu_pcie_width=dict(type='int', choices=list(PCIE_WIDTHS)),
    gpu_ecc_mode=dict(type='bool'),
    gpu_persistence_mode=dict(type='bool'),
    gpu_mig_mode=dict(type='bool'),
    gpu_mig_devices=dict(type='int'),
    gpu_compute_mode=dict(type='str', choices=list(COMPUTE_MODES)),
)

# module option -> expectation key of gpu_health.evaluate
OPTION_EXPECTATIONS = (
    ('expected_gpu_count', 'gpu_count'),
    ('expected_product', 'product_name'),
    ('expected_driver_version', 'driver_version'),
    ('expected_nvlinks', 'expected_nvlinks'),
    ('max_temperature_c', 'max_temperature_c'),
    ('check_pcie_gen', 'check_pcie_gen'),
    ('fail_on', 'fail_on'),
)


def expectations(module):
    """Expectations and their sources: the hardware profile, then the options that override it."""
    params = module.params
    profile = params['hw_profile'] or {}
    for key in ('gpu_count', 'nvlinks_per_gpu', 'gpu_mig_devices'):
        if profile.get(key) is not None and profile[key] < 0:
            module.fail_json(msg="hw_profile.%s '%s' is negative; allowed: 0 or more" % (key, profile[key]))
    expect, sources = expectations_from_profile(profile, params['hw_profile_name'])
    for option, key in OPTION_EXPECTATIONS:
        if params[option] is not None:
            expect[key] = params[option]
            sources[key] = 'option %s' % option
    return expect, sources


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hw_profile=dict(type='dict', default={}, options=HW_PROFILE_SPEC),
            hw_profile_name=dict(type='str'),
            expected_gpu_count=dict(type='int'),
            expected_product=dict(type='str'),
            expected_driver_version=dict(type='str'),
            expected_nvlinks=dict(type='int'),
            check_nvlink=dict(type='bool', default=False),
            max_temperature_c=dict(type='int', default=85),
            check_pcie_gen=dict(type='bool', default=False),
            fail_on=dict(type='str', default='critical', choices=['critical', 'warning', 'info']),
            xid_since=dict(type='str', default='-1h'),
            fail_on_unhealthy=dict(type='bool', default=False),
            nvidia_smi_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['expected_nvlinks'] is not None and params['expected_nvlinks'] < 0:
        module.fail_json(msg='expected_nvlinks must be 0 or more, got %d' % params['expected_nvlinks'])
    expect, sources = expectations(module)
    want_nvlinks = expect.get('expected_nvlinks') or 0
    smi = params['nvidia_smi_path'] or module.get_bin_path('nvidia-smi', required=True)

    rc, out, err = module.run_command([smi, '-q', '-x'], environ_update=ENV)
    nvml_mismatch = is_nvml_mismatch(out, err)
    device_errors = parse_device_errors('%s\n%s' % (out or '', err or ''))
    info = None
    extra_faults = []
    if nvml_mismatch:
        extra_faults.append(node_fault(
            'nvml_mismatch', NVML_MISMATCH + ': the loaded kernel module and the installed driver differ',
            'nvidia-smi -q -x', 'rc %d' % rc, 'NVML answering', 'reboot the node (or reload the nvidia kernel modules)'))
    elif '<nvidia_smi_log' in (out or ''):
        try:
            info = parse_nvidia_smi_xml(out)
        except NvidiaSmiParseError as exc:
            if not device_errors:
                module.fail_json(msg=str(exc), rc=rc, stdout=out, stderr=err)
    elif rc != 0 or not device_errors:
        if 'no devices were found' in ('%s %s' % (out, err)).lower():
            extra_faults.append(node_fault(
                'no_devices', 'nvidia-smi found no GPU', 'nvidia-smi -q -x', 'No devices were found',
                'the GPUs of the node', "check that the driver is loaded (lsmod | grep nvidia), 'lspci -d 10de:' "
                'and dmesg; reboot the node'))
        elif not device_errors:
            module.fail_json(msg='%s -q -x failed (rc %d): %s' % (smi, rc, (err or out).strip()),
                             rc=rc, stdout=out, stderr=err)

    if info is not None and (want_nvlinks > 0 or params['check_nvlink']):
        nrc, nout, nerr = module.run_command([smi, 'nvlink', '-s'], environ_update=ENV)
        if nrc == 0:
            merge_nvlinks(info, nout)
        else:
            module.warn('%s nvlink -s failed (rc %d): %s' % (smi, nrc, (nerr or nout).strip()))

    xids, xid_source = read_xids(module, params['xid_since'])

    verdict = evaluate(info, None, xids, expect, device_errors=device_errors, sources=sources)
    node_reasons = [fault['message'] for fault in extra_faults] + verdict['node_reasons']
    gpus_by_index = dict((gpu['index'], gpu) for gpu in (info or {}).get('gpus', []))
    for gpu in verdict['gpus']:
        gpu['nvlinks'] = gpus_by_index.get(gpu['index'], {}).get('nvlinks')
    healthy = verdict['healthy'] and not extra_faults

    result = dict(
        changed=False,
        healthy=healthy,
        node_reasons=node_reasons,
        node_faults=extra_faults + verdict['node_faults'],
        node_findings=verdict['node_findings'],
        findings=verdict['findings'],
        gpus=verdict['gpus'],
        xids=xids,
        xid_source=xid_source,
        driver_version=(info or {}).get('driver_version'),
        gpu_count=len((info or {}).get('gpus', [])),
        device_errors=device_errors,
        nvml_mismatch=nvml_mismatch,
    )
    if not healthy and params['fail_on_unhealthy']:
        reasons = node_reasons + [reason for gpu in verdict['gpus'] for reason in gpu['reasons']]
        module.fail_json(msg='GPUs unhealthy: %s' % '; '.join(reasons), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
