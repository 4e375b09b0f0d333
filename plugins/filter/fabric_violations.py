# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: fabric_violations
short_description: Check a lossless RoCE fabric (GPU node NICs and switches) against the fabric intent
version_added: 0.1.0
author: aifabric.cluster contributors
description:
  - Compares what the GPU nodes' NICs and the switches actually do with the fabric intent
    (C(cluster_fabric_qos) plus the host MTU) and with each other, and returns one violation per problem.
  - "Rules: C(trust) (NICs trust DSCP), C(dscp_map) (RoCE DSCP to the lossless priority, CNP DSCP to the CNP
    priority, on NICs and in the switches' classification), C(pfc) (PFC on exactly the lossless priority on NICs
    and switches, global pause off, PFC mode on on fabric ports), C(ecn) (WRED with ECN on the lossless queue,
    minimum below maximum, the intent thresholds; roce_np/roce_rp on NICs), C(cnp) (CNP DSCP/priority of NICs,
    strict-priority CNP queue on switches), C(rdma_cm), C(mtu) (host MTU, switch port MTU at least host MTU + 22,
    lossless network-qos MTU at least the port MTU), C(pfc_watchdog), C(switch_consistency) (the same QoS on every
    switch of a platform), C(path_mtu) (DF-bit pings) and C(input) (data missing)."
  - NX-OS switches are read from their C(show running-config) text; SONiC switches from the
    dellemc.enterprise_sonic C(sonic_facts) QoS resources (a partial check, see C(docs/fabric-validate.md)).
    Only the ports in each switch's C(fabric_interfaces) (C(switch_fabric_interfaces)) are checked.
  - Runs on the controller in pure Python; it connects to no host. See C(docs/fabric-validate.md) for the input
    shapes and every rule.
options:
  _input:
    description:
      - The intent, C(cluster_fabric_qos) plus C(host_mtu) (C(cluster_networks.fabric.mtu)) and optionally
        C(nxos_cnp_qos_group) (default 7) and C(l2_overhead) (default 22).
    type: dict
    required: true
  hosts:
    description:
      - GPU node name to C({nic, mtu, netdev, rdma, path_mtu}); C(nic) is the C(state) that
        aifabric.cluster.roce_qos returns, C(mtu) the fabric netdev MTU, C(rdma) an
        aifabric.cluster.rdma_link_info result (optional), C(path_mtu) the DF-bit ping results (optional).
    type: dict
    default: {}
  switches:
    description:
      - Switch name to C({platform, fabric_interfaces, running_config}) (NX-OS) or
        C({platform, fabric_interfaces, qos_maps, qos_pfc, qos_interfaces, qos_wred, qos_scheduler, interfaces})
        (SONiC, the C(sonic_facts) resources).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Check the fabric
  ansible.builtin.set_fact:
    fabric_problems: >-
      {{ cluster_fabric_qos | combine({'host_mtu': cluster_networks.fabric.mtu})
         | aifabric.cluster.fabric_violations(fabric_hosts, fabric_switches) }}

- name: Show every problem
  ansible.builtin.debug:
    msg: "{{ fabric_problems | map(attribute='message') | list }}"
'''

RETURN = r'''
_value:
  description:
    - The violations, empty when the fabric is consistent; sorted by rule, host or switch and port.
    - Each has C(rule), C(setting), C(host) or C(switch), C(port) (for port problems; several ports joined with
      a comma), C(expected) (the intent, or the value of the other switches), C(found) and C(message) (one line
      naming the host or switch, the port and both values).
  type: list
  elements: dict
  sample:
    - rule: pfc
      setting: pfc_port_mode
      switch: spine-01
      port: Ethernet1/2
      expected: "on"
      found: auto
      message: "spine-01 Ethernet1/2: priority-flow-control mode is auto, expected on: the port does not honour or send PFC"
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.aifabric.cluster.plugins.module_utils.fabric_consistency import (
    IntentError,
    fabric_violations as _fabric_violations,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def fabric_violations(intent, hosts=None, switches=None):
    """Return the violations of the fabric (see DOCUMENTATION)."""
    for what, value in (('the input (intent)', intent), ('hosts', hosts), ('switches', switches)):
        if value is not None and not isinstance(value, Mapping):
            raise AnsibleFilterError('fabric_violations: %s must be a dict' % what)
    problem = None
    try:
        return _fabric_violations(to_plain(intent), to_plain(hosts or {}), to_plain(switches or {}))
    except IntentError as exc:
        problem = to_native(exc)
    raise AnsibleFilterError('fabric_violations: %s' % problem)


class FilterModule(object):
    """aifabric.cluster fabric validation filters."""

    def filters(self):
        return {
            'fabric_violations': fabric_violations,
        }
