#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nvidia_gpu_health
short_description: Judge the health of the NVIDIA GPUs of a host
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Runs C(nvidia-smi -q -x), C(nvidia-smi nvlink -s) (when O(expected_nvlinks) is above 0 or O(check_nvlink=true))
    and reads the NVIDIA Xid events of the kernel log since O(xid_since)
    (C(journalctl -t kernel --since <xid_since> -o short-iso --no-pager), filtered for C(NVRM: Xid) in Python;
    without journalctl or a journal, C(dmesg), which covers the current boot)."
  - 'Returns a verdict for the node and for every GPU; every reason says what is wrong and what to do, for example
    "GPU 3 (00000000:9B:00.0): Xid 79 (GPU has fallen off the bus) at 2026-01-05T10:00:00+0000: reboot the node".'
  - "Checks: GPU count, product, driver version, GPUs nvidia-smi cannot reach (fallen off the bus), driver/library
    mismatch, persistence mode, ECC mode, uncorrectable ECC errors, row remapping pending or failed, page retirement
    pending, temperature, thermal and power-brake throttling, PCIe link width (and generation with O(check_pcie_gen)),
    NVLinks up, GPU reset required, NVLink fabric registration, and Xids by NVIDIA's resolution catalog."
  - By default the module only reports (RV(healthy)); with O(fail_on_unhealthy=true) it fails on an unhealthy node.
  - Never changes anything on the host. See C(docs/gpu-health.md) for every check and the operator action.
options:
  expected_gpu_count:
    description: Number of GPUs the node must have; not checked when omitted.
    type: int
  expected_product:
    description: Text the product name of every GPU must contain (case-insensitive), for example V(H100 80GB HBM3); not checked when omitted.
    type: str
  expected_driver_version:
    description: Exact driver version the node must run, for example V(535.183.01); not checked when omitted.
    type: str
  expected_nvlinks:
    description:
      - Number of NVLinks that must be up on every GPU (18 on HGX H100, 12 on HGX A100).
      - V(0) does not check NVLinks.
    type: int
    default: 0
  check_nvlink:
    description:
      - Run C(nvidia-smi nvlink -s) and return the link states in RV(gpus[].nvlinks) even when O(expected_nvlinks=0).
    type: bool
    default: false
  max_temperature_c:
    description: Highest acceptable GPU temperature in degrees Celsius.
    type: int
    default: 85
  check_pcie_gen:
    description:
      - Also flag a PCIe link running below its maximum generation. Off by default because idle GPUs
        downtrain their link generation to save power; the link width is always checked.
    type: bool
    default: false
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
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - A driver/library version mismatch (C(Failed to initialize NVML)) makes the node unhealthy with RV(nvml_mismatch=true)
    rather than failing the task, unless O(fail_on_unhealthy=true).
  - Any other nvidia-smi failure without usable output fails the task with its rc, stdout and stderr.
seealso:
  - module: aifabric.cluster.nvidia_smi_info
'''

EXAMPLES = r'''
- name: Check an HGX H100 node
  aifabric.cluster.nvidia_gpu_health:
    expected_gpu_count: 8
    expected_product: H100 80GB HBM3
    expected_driver_version: 535.183.01
    expected_nvlinks: 18
  register: gpu_health

- name: Show what is wrong
  ansible.builtin.debug:
    msg: "{{ gpu_health.node_reasons + (gpu_health.gpus | map(attribute='reasons') | flatten) }}"
  when: not gpu_health.healthy

- name: Gate a job on healthy GPUs, looking at the Xids of the last day
  aifabric.cluster.nvidia_gpu_health:
    expected_gpu_count: 8
    xid_since: -24h
    check_pcie_gen: true
    fail_on_unhealthy: true
'''

RETURN = r'''
healthy:
  description: V(true) when no node reason and no GPU reason was found.
  returned: always
  type: bool
  sample: false
node_reasons:
  description: Problems of the node as a whole (GPU count, driver, unreachable GPUs, Xids of GPUs nvidia-smi no longer lists), each with the action to take.
  returned: always
  type: list
  elements: str
  sample:
    - "nvidia-smi lists 7 GPUs, expected 8 (missing 00000000:9B:00.0): a GPU is missing or has fallen off the bus: ..."
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
      description: V(true) when the GPU has no reason.
      type: bool
      sample: false
    reasons:
      description: What is wrong with the GPU and what to do, one string each.
      type: list
      elements: str
      sample: ["GPU 3 (00000000:9B:00.0): row remapping pending: drain the GPU and reset it (nvidia-smi -r -i 3) or reboot the node to apply the remap"]
    warnings:
      description: Events that do not make the GPU unhealthy (application-level or unknown Xids).
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
    evaluate, parse_xid_lines,
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            expected_gpu_count=dict(type='int'),
            expected_product=dict(type='str'),
            expected_driver_version=dict(type='str'),
            expected_nvlinks=dict(type='int', default=0),
            check_nvlink=dict(type='bool', default=False),
            max_temperature_c=dict(type='int', default=85),
            check_pcie_gen=dict(type='bool', default=False),
            xid_since=dict(type='str', default='-1h'),
            fail_on_unhealthy=dict(type='bool', default=False),
            nvidia_smi_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['expected_nvlinks'] < 0:
        module.fail_json(msg='expected_nvlinks must be 0 or more, got %d' % params['expected_nvlinks'])
    smi = params['nvidia_smi_path'] or module.get_bin_path('nvidia-smi', required=True)

    rc, out, err = module.run_command([smi, '-q', '-x'], environ_update=ENV)
    nvml_mismatch = is_nvml_mismatch(out, err)
    device_errors = parse_device_errors('%s\n%s' % (out or '', err or ''))
    info = None
    extra_reasons = []
    if nvml_mismatch:
        extra_reasons.append(NVML_MISMATCH + ': the loaded kernel module and the installed driver differ: '
                             'reboot the node (or reload the nvidia kernel modules)')
    elif '<nvidia_smi_log' in (out or ''):
        try:
            info = parse_nvidia_smi_xml(out)
        except NvidiaSmiParseError as exc:
            if not device_errors:
                module.fail_json(msg=str(exc), rc=rc, stdout=out, stderr=err)
    elif rc != 0 or not device_errors:
        if 'no devices were found' in ('%s %s' % (out, err)).lower():
            extra_reasons.append('nvidia-smi found no GPU: check that the driver is loaded (lsmod | grep nvidia), '
                                 "'lspci -d 10de:' and dmesg; reboot the node")
        elif not device_errors:
            module.fail_json(msg='%s -q -x failed (rc %d): %s' % (smi, rc, (err or out).strip()),
                             rc=rc, stdout=out, stderr=err)

    if info is not None and (params['expected_nvlinks'] > 0 or params['check_nvlink']):
        nrc, nout, nerr = module.run_command([smi, 'nvlink', '-s'], environ_update=ENV)
        if nrc == 0:
            merge_nvlinks(info, nout)
        else:
            module.warn('%s nvlink -s failed (rc %d): %s' % (smi, nrc, (nerr or nout).strip()))

    xids, xid_source = read_xids(module, params['xid_since'])

    verdict = evaluate(info, None, xids, {
        'gpu_count': params['expected_gpu_count'],
        'product_name': params['expected_product'],
        'driver_version': params['expected_driver_version'],
        'max_temperature_c': params['max_temperature_c'],
        'check_pcie_gen': params['check_pcie_gen'],
        'expected_nvlinks': params['expected_nvlinks'],
    }, device_errors=device_errors)
    node_reasons = extra_reasons + verdict['node_reasons']
    gpus_by_index = dict((gpu['index'], gpu) for gpu in (info or {}).get('gpus', []))
    for gpu in verdict['gpus']:
        gpu['nvlinks'] = gpus_by_index.get(gpu['index'], {}).get('nvlinks')
    healthy = verdict['healthy'] and not extra_reasons

    result = dict(
        changed=False,
        healthy=healthy,
        node_reasons=node_reasons,
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
