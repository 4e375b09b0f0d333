#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: rdma_link_info
short_description: Read the RDMA (InfiniBand and RoCE) ports of a host and judge their links
version_added: 0.1.0
author: aifabric.cluster contributors (@aifabric)
description:
  - "Reads every RDMA device under O(sysfs_root) (C(/sys/class/infiniband)): firmware, board id, HCA type, node GUID
    and, per port, state and physical state, rate, link layer, netdev, the GID table, the active MTU and the error
    and RoCE retransmission counters."
  - "When found (and O(use_tools=true)), also runs C(rdma -j link show) (iproute2) for the netdev of each port and
    C(ibv_devinfo) for the active MTU; a missing or failing tool only leaves those values to sysfs."
  - "For an Ethernet (RoCE) port without C(ibv_devinfo), the active MTU is derived from the netdev MTU under
    O(netdev_sysfs_root) the way the kernel's C(iboe_get_mtu) does: netdev MTU minus 96 bytes of RoCE headers,
    rounded down to 256, 512, 1024, 2048 or 4096 (MTU 9000 gives 4096, 1500 gives 1024)."
  - 'Returns a verdict for the node, every device and every port; every reason says what is wrong and what to do, for
    example "mlx5_1 port 1 (ens2f0np0): state "1: DOWN", physical state "3: Disabled", expected ACTIVE/LinkUp: the
    port is disabled: bring the netdev up ...".'
  - By default the module only reports (RV(healthy)); with O(fail_on_unhealthy=true) it fails on an unhealthy node.
  - Never changes anything on the host. See C(docs/rdma-link-info.md) for every check and the operator action.
options:
  devices:
    description:
      - Shell-style patterns (C(fnmatch)) of the RDMA devices to read and judge, for example V(mlx5_[0-7]);
        all devices when empty.
      - A pattern that matches no device makes the node unhealthy.
    type: list
    elements: str
    default: []
  expected_port_count:
    description: Number of ports the selected devices must have together; not checked when omitted.
    type: int
  require_active:
    description: 'Every port must be C(4: ACTIVE) with physical state C(5: LinkUp).'
    type: bool
    default: true
  min_rate_gbps:
    description: Lowest acceptable port rate in Gb/s, for example V(400) for NDR or 400GbE; not checked when omitted.
    type: float
  expected_link_layer:
    description: Link layer every port must have; not checked when omitted.
    type: str
    choices: [InfiniBand, Ethernet]
  expected_active_mtu:
    description:
      - Lowest acceptable active MTU of every port (V(4096) for RoCE at a netdev MTU of 9000); not checked when omitted.
      - A port whose active MTU is unknown gets a warning, not a reason.
    type: int
    choices: [256, 512, 1024, 2048, 4096]
  expected_fw_version:
    description: Firmware version every selected device must run, for example V(28.39.1002); not checked when omitted.
    type: str
  max_counters:
    description:
      - 'Highest acceptable value per counter, for example C({symbol_error: 0, link_downed: 0}).'
      - Names are files of the port's C(counters/) or C(hw_counters/) directory; names outside RV(devices[].ports[].counters)
        are read too and added there.
      - The counters count since the driver loaded; a counter that is not there gives a warning, not a reason.
    type: dict
    default: {}
  expected_roce_ipv4:
    description:
      - IPv4 address that must have a C(RoCE v2) GID (IPv4-mapped, C(::ffff:a.b.c.d)) on one of the selected ports,
        on the netdev O(expected_netdev) when that is set. The matching GID is returned in RV(roce_gid).
    type: str
  expected_netdev:
    description:
      - Netdev the RoCE v2 IPv4-mapped GID must be bound to (the fabric interface, for example V(ens1f0np0)).
      - Without O(expected_roce_ipv4), any RoCE v2 IPv4-mapped GID on this netdev satisfies the check.
    type: str
  fail_on_unhealthy:
    description: Fail the task when the node is unhealthy, instead of only returning RV(healthy=false).
    type: bool
    default: false
  sysfs_root:
    description:
      - Directory of the RDMA devices, C(/sys/class/infiniband) or a copy of that tree.
      - When it does not exist the node has no device (and is unhealthy); when it exists but cannot be listed the task fails.
    type: path
    default: /sys/class/infiniband
  netdev_sysfs_root:
    description: Directory of the network interfaces, where C(<netdev>/mtu) is read.
    type: path
    default: /sys/class/net
  use_tools:
    description:
      - Run C(rdma -j link show) and C(ibv_devinfo) when they are found.
      - Set V(false) to read sysfs only, for example with O(sysfs_root) pointing at a copied tree.
    type: bool
    default: true
  rdma_path:
    description: Path of the iproute2 C(rdma) binary; by default looked up in E(PATH) and the usual system directories.
    type: path
  ibv_devinfo_path:
    description: Path of C(ibv_devinfo) (rdma-core); by default looked up in E(PATH) and the usual system directories.
    type: path
extends_documentation_fragment:
  - aifabric.cluster.attributes.info
notes:
  - Reads sysfs and runs read-only commands only; it needs no root privileges on the usual sysfs permissions.
  - Error counters are cumulative since the driver loaded; compare two runs, or reset them, to see a rate.
seealso:
  - module: aifabric.cluster.nvidia_gpu_health
'''

EXAMPLES = r'''
- name: Check the eight NDR InfiniBand ports of an HGX H100 node
  aifabric.cluster.rdma_link_info:
    devices: ['mlx5_[0-9]*']
    expected_port_count: 8
    expected_link_layer: InfiniBand
    min_rate_gbps: 400
    max_counters:
      symbol_error: 0
      link_downed: 0
      port_rcv_errors: 0
  register: ib

- name: Show what is wrong
  ansible.builtin.debug:
    msg: "{{ ib.node_reasons + (ib.devices | map(attribute='ports') | flatten | map(attribute='reasons') | flatten) }}"
  when: not ib.healthy

- name: Gate on the RoCE fabric port and its GID
  aifabric.cluster.rdma_link_info:
    expected_link_layer: Ethernet
    min_rate_gbps: 200
    expected_active_mtu: 4096
    expected_roce_ipv4: 10.10.1.11
    expected_netdev: ens1f0np0
    max_counters:
      roce_adp_retrans: 1000
      local_ack_timeout_err: 0
    fail_on_unhealthy: true
  register: roce

- name: Use the GID index for NCCL
  ansible.builtin.debug:
    msg: "NCCL_IB_GID_INDEX={{ roce.roce_gid.index }}"
'''

RETURN = r'''
healthy:
  description: V(true) when no node, device or port reason was found.
  returned: always
  type: bool
  sample: false
node_reasons:
  description: Problems of the node as a whole (no device, port count, RoCE GID), each with the action to take.
  returned: always
  type: list
  elements: str
  sample:
    - "7 RDMA ports found, expected 8: check that every HCA is seen (lspci -d 15b3:), ..."
roce_gid:
  description:
    - The RoCE v2 IPv4-mapped GID that satisfied O(expected_roce_ipv4) and O(expected_netdev); without those options the
      first RoCE v2 IPv4-mapped GID found. V(null) when none.
    - Its C(index) is the value for C(NCCL_IB_GID_INDEX).
  returned: always
  type: dict
  sample: {device: mlx5_0, port: 1, index: 3, gid: "0000:0000:0000:0000:0000:ffff:0a0a:010b", type: RoCE v2,
           netdev: ens1f0np0, ipv4: 10.10.1.11}
device_count:
  description: Number of RDMA devices read (after O(devices)).
  returned: always
  type: int
  sample: 8
port_count:
  description: Number of ports of those devices.
  returned: always
  type: int
  sample: 8
sources:
  description: What was read, C(sysfs) always and C(rdma), C(ibv_devinfo) when those tools ran and were parsed.
  returned: always
  type: list
  elements: str
  sample: [sysfs, rdma]
devices:
  description: One record per RDMA device, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Device name.
      type: str
      sample: mlx5_0
    fw_ver:
      description: Firmware version (C(fw_ver)), V(null) when unreadable.
      type: str
      sample: 28.39.1002
    board_id:
      description: Board id, the PSID (C(board_id)).
      type: str
      sample: MT_0000000838
    hca_type:
      description: HCA type (C(hca_type)); MT4129 is ConnectX-7.
      type: str
      sample: MT4129
    node_guid:
      description: Node GUID.
      type: str
      sample: a088:c203:00b4:1f20
    healthy:
      description: V(true) when the device and all its ports have no reason.
      type: bool
      sample: true
    reasons:
      description: Problems of the device itself (firmware version).
      type: list
      elements: str
      sample: []
    ports:
      description: One record per port.
      type: list
      elements: dict
      contains:
        port:
          description: Port number.
          type: int
          sample: 1
        state:
          description: Logical port state text (C(DOWN), C(INIT), C(ARMED), C(ACTIVE)).
          type: str
          sample: ACTIVE
        state_code:
          description: Logical port state number (1 to 5).
          type: int
          sample: 4
        phys_state:
          description: Physical port state text (C(Sleep), C(Polling), C(Disabled), C(LinkUp), C(LinkErrorRecovery), ...).
          type: str
          sample: LinkUp
        phys_state_code:
          description: Physical port state number.
          type: int
          sample: 5
        rdma_state:
          description: State as C(rdma link show) gives it, V(null) without the tool.
          type: str
          sample: ACTIVE
        rdma_physical_state:
          description: Physical state as C(rdma link show) gives it, V(null) without the tool.
          type: str
          sample: LINK_UP
        rate:
          description: Rate text.
          type: str
          sample: 400 Gb/sec (4X NDR)
        rate_gbps:
          description: Rate in Gb/s.
          type: float
          sample: 400.0
        link_layer:
          description: C(InfiniBand) or C(Ethernet).
          type: str
          sample: InfiniBand
        netdev:
          description: Network interface of the port, V(null) when none is known.
          type: str
          sample: ens1f0np0
        netdev_source:
          description: Where the netdev came from, C(rdma), C(gid_attrs) (C(gid_attrs/ndevs)) or C(device) (C(device/net)).
          type: str
          sample: rdma
        netdev_mtu:
          description: MTU of the netdev, V(null) when unknown.
          type: int
          sample: 9000
        active_mtu:
          description: Active MTU of the port in bytes (256 to 4096), V(null) when unknown.
          type: int
          sample: 4096
        active_mtu_source:
          description: C(ibv_devinfo), C(netdev_mtu) (derived like C(iboe_get_mtu)), or V(null).
          type: str
          sample: netdev_mtu
        max_mtu:
          description: Largest MTU of the port (from C(ibv_devinfo) only), V(null) when unknown.
          type: int
          sample: 4096
        gids:
          description: Non-zero GIDs of the port, each with C(index), C(gid), C(type) (C(RoCE v2) or C(IB/RoCE v1)),
            C(netdev) and C(ipv4) (for IPv4-mapped GIDs, else V(null)).
          type: list
          elements: dict
          sample: [{index: 3, gid: "0000:0000:0000:0000:0000:ffff:0a0a:010b", type: RoCE v2, netdev: ens1f0np0,
                    ipv4: 10.10.1.11}]
        counters:
          description:
            - Counters by name, V(null) when the file is not there. C(symbol_error), C(link_error_recovery),
              C(link_downed), C(port_rcv_errors), C(port_xmit_discards), C(local_link_integrity_errors),
              C(excessive_buffer_overrun_errors) from C(counters/); C(out_of_buffer), C(out_of_sequence),
              C(packet_seq_err), C(local_ack_timeout_err), C(rnr_nak_retry_err), C(implied_nak_seq_err),
              C(duplicate_request), C(roce_adp_retrans), C(roce_adp_retrans_to), C(roce_slow_restart),
              C(rx_icrc_encapsulated), C(np_cnp_sent), C(np_ecn_marked_roce_packets), C(rp_cnp_handled) from
              C(hw_counters/); plus the other names of O(max_counters).
          type: dict
          sample: {symbol_error: 0, link_downed: 1, out_of_buffer: null}
        healthy:
          description: V(true) when the port has no reason.
          type: bool
          sample: false
        reasons:
          description: What is wrong with the port and what to do, one string each.
          type: list
          elements: str
          sample: ["mlx5_3 port 1 (ibp134s0): link runs at 200 Gb/sec (4X HDR), expected at least 400 Gb/s: ..."]
        warnings:
          description: Checks that could not be made (unknown MTU, missing counter).
          type: list
          elements: str
          sample: ["mlx5_3 port 1: counter roce_adp_retrans not found under counters/ or hw_counters/: not checked"]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.aifabric.cluster.plugins.module_utils.rdma_link import (
    RdmaParseError, SysfsError, evaluate, parse_ibv_devinfo, parse_rdma_link_json, read_devices,
)

ENV = dict(LANG='C', LC_ALL='C')


def run_rdma(module, path):
    """{(device, port): link} from ``rdma -j link show``; None with a warning when it fails."""
    rc, out, err = module.run_command([path, '-j', 'link', 'show'], environ_update=ENV)
    if rc != 0:
        module.warn('%s -j link show failed (rc %d): %s; netdevs from sysfs' % (path, rc, (err or out).strip()))
        return None
    try:
        return parse_rdma_link_json(out)
    except RdmaParseError as exc:
        module.warn('%s; netdevs from sysfs' % exc)
        return None


def run_ibv_devinfo(module, path):
    """{(device, port): {active_mtu, max_mtu}} from ``ibv_devinfo``; None with a warning when it fails."""
    rc, out, err = module.run_command([path], environ_update=ENV)
    if rc != 0:
        module.warn('%s failed (rc %d): %s; active MTU derived from the netdev MTU' % (path, rc, (err or out).strip()))
        return None
    return parse_ibv_devinfo(out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            devices=dict(type='list', elements='str', default=[]),
            expected_port_count=dict(type='int'),
            require_active=dict(type='bool', default=True),
            min_rate_gbps=dict(type='float'),
            expected_link_layer=dict(type='str', choices=['InfiniBand', 'Ethernet']),
            expected_active_mtu=dict(type='int', choices=[256, 512, 1024, 2048, 4096]),
            expected_fw_version=dict(type='str'),
            max_counters=dict(type='dict', default={}),
            expected_roce_ipv4=dict(type='str'),
            expected_netdev=dict(type='str'),
            fail_on_unhealthy=dict(type='bool', default=False),
            sysfs_root=dict(type='path', default='/sys/class/infiniband'),
            netdev_sysfs_root=dict(type='path', default='/sys/class/net'),
            use_tools=dict(type='bool', default=True),
            rdma_path=dict(type='path'),
            ibv_devinfo_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params['expected_port_count'] is not None and params['expected_port_count'] < 0:
        module.fail_json(msg='expected_port_count must be 0 or more, got %d' % params['expected_port_count'])
    max_counters = {}
    for name, value in (params['max_counters'] or {}).items():
        try:
            max_counters[str(name)] = int(value)
        except (TypeError, ValueError):
            module.fail_json(msg='max_counters: the limit of %s must be an integer, got %r' % (name, value))
        if '/' in str(name) or str(name).startswith('.'):
            module.fail_json(msg='max_counters: %r is not a counter name' % name)
    if params['expected_roce_ipv4']:
        parts = params['expected_roce_ipv4'].split('.')
        if len(parts) != 4 or not all(part.isdigit() and int(part) < 256 for part in parts):
            module.fail_json(msg='expected_roce_ipv4 must be an IPv4 address, got %r' % params['expected_roce_ipv4'])

    sources = ['sysfs']
    rdma_links = devinfo = None
    if params['use_tools']:
        rdma = params['rdma_path'] or module.get_bin_path('rdma')
        if rdma:
            rdma_links = run_rdma(module, rdma)
            if rdma_links is not None:
                sources.append('rdma')
        ibv = params['ibv_devinfo_path'] or module.get_bin_path('ibv_devinfo')
        if ibv:
            devinfo = run_ibv_devinfo(module, ibv)
            if devinfo is not None:
                sources.append('ibv_devinfo')

    found = {'devices': [], 'unmatched': []}
    try:
        found = read_devices(params['sysfs_root'], params['netdev_sysfs_root'], rdma_links, devinfo,
                             params['devices'], extra_counters=sorted(max_counters))
    except SysfsError as exc:
        module.fail_json(msg='cannot read the RDMA devices: %s' % exc)

    verdict = evaluate(found['devices'], {
        'port_count': params['expected_port_count'],
        'require_active': params['require_active'],
        'min_rate_gbps': params['min_rate_gbps'],
        'link_layer': params['expected_link_layer'],
        'active_mtu': params['expected_active_mtu'],
        'fw_version': params['expected_fw_version'],
        'max_counters': max_counters,
        'roce_ipv4': params['expected_roce_ipv4'],
        'netdev': params['expected_netdev'],
    }, unmatched=found['unmatched'])

    result = dict(
        changed=False,
        healthy=verdict['healthy'],
        node_reasons=verdict['node_reasons'],
        roce_gid=verdict['roce_gid'],
        device_count=len(verdict['devices']),
        port_count=verdict['port_count'],
        sources=sources,
        devices=verdict['devices'],
    )
    if not verdict['healthy'] and params['fail_on_unhealthy']:
        reasons = list(verdict['node_reasons'])
        for device in verdict['devices']:
            reasons.extend(device['reasons'])
            for port in device['ports']:
                reasons.extend(port['reasons'])
        module.fail_json(msg='RDMA links unhealthy: %s' % '; '.join(reasons), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
