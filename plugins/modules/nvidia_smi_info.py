#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nvidia_smi_info
short_description: Read the state of the NVIDIA GPUs of a host from nvidia-smi
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - Runs C(nvidia-smi -q -x) once and returns the driver and CUDA versions and one record per GPU
    (identity, PCI link, persistence, MIG and ECC modes, ECC counters, remapped rows, retired pages,
    temperatures, power, clocks, throttle reasons, framebuffer memory).
  - Parses every C(nvsmi_device) schema generation (v11, v12, v13) by element name; values that
    nvidia-smi reports as C(N/A), C([N/A]), C(Not Active) or C(Requested functionality has been deprecated)
    are returned as V(null), and values with units as numbers.
  - With O(include_nvlink=true) also runs C(nvidia-smi nvlink -s) and returns the state of every NVLink of each GPU.
  - Never changes anything on the host.
  - See C(docs/gpu-health.md) for the returned fields and how the schema versions map onto them.
options:
  nvidia_smi_path:
    description:
      - Path of the C(nvidia-smi) binary.
      - By default C(nvidia-smi) is looked up in E(PATH) and the usual system directories; the module fails when it is not found.
    type: path
  include_nvlink:
    description:
      - Also run C(nvidia-smi nvlink -s) and set RV(gpus[].nvlinks) of every GPU from it.
      - When V(false), RV(gpus[].nvlinks) is V(null) (C(nvidia-smi -q -x) does not report NVLink states).
    type: bool
    default: false
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - "When nvidia-smi fails with C(Failed to initialize NVML: Driver/library version mismatch) (the loaded
    kernel module and the installed user-space driver differ), the module fails with that message and
    RV(nvml_mismatch=true); reboot the node or reload the nvidia kernel modules."
seealso:
  - module: aifabric.cluster.nvidia_gpu_health
'''

EXAMPLES = r'''
- name: Read the GPUs
  aifabric.cluster.nvidia_smi_info:
  register: smi

- name: Show the driver and the GPU models
  ansible.builtin.debug:
    msg: "{{ smi.driver_version }}: {{ smi.gpus | map(attribute='product_name') | list }}"

- name: Read the GPUs and their NVLinks with a specific nvidia-smi
  aifabric.cluster.nvidia_smi_info:
    nvidia_smi_path: /usr/bin/nvidia-smi
    include_nvlink: true
  register: smi

- name: Require 8 GPUs with every NVLink up
  ansible.builtin.assert:
    that:
      - smi.gpu_count == 8
      - smi.gpus | map(attribute='nvlinks') | flatten | rejectattr('up') | list | length == 0
'''

RETURN = r'''
driver_version:
  description: NVIDIA driver version.
  returned: success
  type: str
  sample: 535.183.01
cuda_version:
  description: Highest CUDA version the driver supports.
  returned: success
  type: str
  sample: '12.2'
schema:
  description: Schema generation of the XML, from its DOCTYPE (C(nvsmi_device_v12.dtd)), else guessed from the element names.
  returned: success
  type: str
  sample: v12
attached_gpus:
  description: Number of GPUs nvidia-smi counts; more than RV(gpu_count) when a GPU could not be queried.
  returned: success
  type: int
  sample: 8
gpu_count:
  description: Number of GPU records in RV(gpus).
  returned: success
  type: int
  sample: 8
gpus:
  description: One record per GPU, in the order of nvidia-smi (by PCI bus id). Unavailable values are V(null).
  returned: success
  type: list
  elements: dict
  contains:
    index:
      description: Position of the GPU in the output of nvidia-smi (the nvidia-smi index).
      type: int
      sample: 0
    minor_number:
      description: Minor number of the device node (C(/dev/nvidia<minor_number>)).
      type: int
      sample: 0
    product_name:
      description: Product name.
      type: str
      sample: NVIDIA H100 80GB HBM3
    product_architecture:
      description: GPU architecture (not reported by every schema).
      type: str
      sample: Hopper
    uuid:
      description: GPU UUID.
      type: str
      sample: GPU-4a1c2f3e-0b6d-4e55-9a1e-7c0d3b2a1f00
    serial:
      description: Board serial number.
      type: str
      sample: '1654123000001'
    pci_bus_id:
      description: PCI bus id in the form of nvidia-smi, 8-digit domain, upper case.
      type: str
      sample: 00000000:18:00.0
    vbios_version:
      description: VBIOS version.
      type: str
      sample: 96.00.99.00.01
    persistence_mode:
      description: Whether persistence mode is on.
      type: bool
    mig_mode_current:
      description: Whether MIG mode is on; V(null) on GPUs without MIG.
      type: bool
    mig_mode_pending:
      description: MIG mode after the next GPU reset; V(null) on GPUs without MIG.
      type: bool
    mig_devices:
      description: Number of MIG devices (C(mig_devices/mig_device)); V(0) without MIG devices.
      type: int
      sample: 0
    compute_mode:
      description: Compute mode, C(Default), C(Exclusive_Process) or C(Prohibited).
      type: str
      sample: Default
    c2c_mode:
      description: Whether the NVLink-C2C link to a Grace CPU is on (GB200, GB300, GH200); V(null) elsewhere.
      type: bool
    performance_state:
      description: Performance state, C(P0) (highest) to C(P15).
      type: str
      sample: P0
    utilization:
      description: Utilization in percent, C(gpu_pct) and C(memory_pct); V(null) values where not reported (MIG on).
      type: dict
      sample: {gpu_pct: 0, memory_pct: 0}
    ecc_mode_current:
      description: Whether ECC is on.
      type: bool
    ecc_mode_pending:
      description: ECC mode after the next GPU reset.
      type: bool
    ecc_errors:
      description:
        - ECC error counters, C(volatile) (since the driver loaded) and C(aggregate) (lifetime), each with
          C(sram_correctable), C(sram_uncorrectable), C(dram_correctable), C(dram_uncorrectable) and
          C(sram_threshold_exceeded).
        - Older schemas (C(single_bit)/C(double_bit)) map C(device_memory) to C(dram_*) and C(total) minus
          C(device_memory) to C(sram_*); Hopper and v13 C(sram_uncorrectable_parity) and C(sram_uncorrectable_secded)
          are summed into C(sram_uncorrectable).
      type: dict
      sample:
        volatile: {sram_correctable: 0, sram_uncorrectable: 0, dram_correctable: 0, dram_uncorrectable: 0,
                   sram_threshold_exceeded: null}
        aggregate: {sram_correctable: 0, sram_uncorrectable: 0, dram_correctable: 0, dram_uncorrectable: 0,
                    sram_threshold_exceeded: false}
    remapped_rows:
      description:
        - Row remapper state (Ampere and later), C(correctable) and C(uncorrectable) (int), C(pending) and C(failure) (bool).
        - V(null) where nvidia-smi reports C(N/A) (no row remapper, or MIG enabled).
      type: dict
      sample: {correctable: 0, uncorrectable: 0, pending: false, failure: false}
    retired_pages:
      description: Page retirement (pre-Ampere), C(sbe) and C(dbe) (int), C(pending) (bool); V(null) where not reported.
      type: dict
      sample: {sbe: 0, dbe: 0, pending: false}
    temperature_c:
      description: GPU temperature in degrees Celsius.
      type: int
      sample: 34
    temperature_slowdown_c:
      description: Slowdown threshold; V(null) with schema v13, which reports thresholds relative to T.Limit only.
      type: int
      sample: 87
    temperature_shutdown_c:
      description: Shutdown threshold; V(null) with schema v13.
      type: int
      sample: 92
    memory_temp_c:
      description: HBM temperature, where reported.
      type: int
      sample: 41
    power_draw_w:
      description: Power draw in watts (C(power_draw), else C(instant_power_draw), else C(average_power_draw)).
      type: float
      sample: 71.52
    power_limit_w:
      description: Enforced power limit in watts (C(current_power_limit) or C(power_limit)).
      type: float
      sample: 700.0
    clocks:
      description: Current clocks in MHz, C(graphics_mhz), C(sm_mhz), C(mem_mhz).
      type: dict
      sample: {graphics_mhz: 345, sm_mhz: 345, mem_mhz: 2619}
    throttle_reasons:
      description: Active clock event (throttle) reasons, names without their prefix; V(null) when not reported.
      type: list
      elements: str
      sample: [gpu_idle]
    pcie:
      description: PCIe link, C(gen_current), C(gen_max), C(width_current), C(width_max) and C(replay_counter) (int).
      type: dict
      sample: {gen_current: 5, gen_max: 5, width_current: 16, width_max: 16, replay_counter: 0}
    fb_memory_mib:
      description: Framebuffer memory in MiB, C(total), C(used), C(free), C(reserved).
      type: dict
      sample: {total: 81559, used: 0, free: 81004, reserved: 554}
    reset_required:
      description: Whether the driver reports that the GPU needs a reset.
      type: bool
    drain_and_reset_recommended:
      description: Whether the driver recommends to drain and reset the GPU.
      type: bool
    fabric:
      description:
        - NVLink fabric (NVSwitch) registration, C(state) and C(status); on multi-node NVLink systems (GB200 NVL72)
          also C(clique_id), C(cluster_uuid), C(health_summary) and C(health_bandwidth). V(null) values on GPUs
          without a fabric, or where the driver does not report them.
      type: dict
      sample: {state: Completed, status: Success, clique_id: '32766', cluster_uuid: 4f6c1f0e-95d2-4e3b-8a41-2d7e6b9c0a15,
               health_summary: Healthy, health_bandwidth: Full}
    platform:
      description:
        - Where the GPU sits (C(platformInfo), rack-scale systems such as GB200 NVL72), C(chassis_serial_number),
          C(slot_number), C(tray_index) (str) and C(module_id) (int, also from C(gpu_module_id)).
      type: dict
      sample: {chassis_serial_number: '1821325190015', slot_number: '10', tray_index: '3', module_id: 1}
    nvlinks:
      description:
        - NVLinks of the GPU from C(nvidia-smi nvlink -s), each with C(link) (int), C(up) (bool),
          C(speed_gbps) (float, V(null) when down) and C(state).
        - V(null) unless O(include_nvlink=true).
      type: list
      elements: dict
      sample: [{link: 0, up: true, speed_gbps: 26.562, state: up}, {link: 1, up: false, speed_gbps: null, state: inactive}]
nvml_mismatch:
  description: V(true) when nvidia-smi failed with C(Driver/library version mismatch).
  returned: failure
  type: bool
  sample: true
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.nvidia_smi import (
    NVML_MISMATCH, NvidiaSmiParseError, is_nvml_mismatch, merge_nvlinks, parse_nvidia_smi_xml,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nvidia_smi_path=dict(type='path'),
            include_nvlink=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    smi = module.params['nvidia_smi_path'] or module.get_bin_path('nvidia-smi', required=True)
    env = dict(LANG='C', LC_ALL='C')

    rc, out, err = module.run_command([smi, '-q', '-x'], environ_update=env)
    if is_nvml_mismatch(out, err):
        module.fail_json(msg=NVML_MISMATCH + ': reboot the node or reload the nvidia kernel modules',
                         nvml_mismatch=True, rc=rc, stdout=out, stderr=err)
    if rc != 0:
        module.fail_json(msg='%s -q -x failed (rc %d): %s' % (smi, rc, (err or out).strip()),
                         rc=rc, stdout=out, stderr=err)
    try:
        info = parse_nvidia_smi_xml(out)
    except NvidiaSmiParseError as exc:
        module.fail_json(msg=str(exc), rc=rc, stdout=out, stderr=err)

    if module.params['include_nvlink']:
        nrc, nout, nerr = module.run_command([smi, 'nvlink', '-s'], environ_update=env)
        if nrc == 0:
            merge_nvlinks(info, nout)
        else:
            module.warn('%s nvlink -s failed (rc %d): %s; nvlinks left null' % (smi, nrc, (nerr or nout).strip()))

    module.exit_json(
        changed=False,
        driver_version=info['driver_version'],
        cuda_version=info['cuda_version'],
        schema=info['schema'],
        attached_gpus=info['attached_gpus'],
        gpu_count=len(info['gpus']),
        gpus=info['gpus'],
    )


if __name__ == '__main__':
    main()
