# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: inventory_problems
short_description: Validate an aifabric.cluster inventory and list its problems
version_added: 0.1.0
author: aifabric.cluster contributors
description:
  - Reads the variables of every host in the C(cluster) and C(switches) groups from O(_input)
    (normally C(hostvars)) and checks them against the inventory schema of the collection
    (networks, addresses, MACs, host names, OS, hardware profiles, NTP, BMC credentials,
    APT repositories, the fabric intent C(cluster_fabric_qos), the hardware profiles
    C(cluster_hw_profiles), the switch links C(switch_fabric_interfaces), the storage intent
    C(cluster_filesystems) and C(cluster_lnet_networks), and the Kubernetes intent C(cluster_kubernetes)).
  - "The Kubernetes intent is checked only where C(cluster_kubernetes) is set: its keys, the pinned
    version (X.Y.Z, a supported minor), each node's C(kubernetes_kubelet_version) against the version-skew
    policy (never newer than the API server, at most 3 minors older), the pod and service CIDRs (valid,
    overlapping neither each other nor a cluster network), the control-plane endpoint, C(ha_mode) and the
    keepalived VIP, the CNI and cgroup driver, C(gpu_taints) and C(node_labels) per known hardware
    profile, and the groups C(kube_control_plane) (an odd number of hosts) and C(kube_nodes) (non-empty,
    hosts of the cluster)."
  - "Returns one message per problem, C(<host>: <variable> '<value>' <problem>; <allowed>).
    Problems of group-level variables are reported once, for host C(all)."
  - Only the variables it checks are read; a variable that fails to template is reported
    as a problem instead of failing the task.
  - The value of C(cluster_bmc_password) is checked for presence only and never appears in a message.
  - Runs on the controller in pure Python; it connects to no host.
options:
  _input:
    description: Variables of the hosts, C(hostvars) or a plain dictionary of host name to variables.
    type: dict
    required: true
  groups:
    description: Group membership, C(groups) or a plain dictionary of group name to a list of host names.
    type: dict
    required: true
  rules:
    description:
      - Overrides of the default rules. Keys are C(supported_os) (list), C(hw_profiles) (list),
        C(mtu_min) (int), C(mtu_max) (int), C(switch_mtu_min) (int, default 1500),
        C(switch_mtu_max) (int, default 9216), C(networks) (list of network names),
        C(cluster_group), C(switch_group), C(node_groups), C(switch_groups) and C(fabric_required_groups).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Validate the inventory
  ansible.builtin.set_fact:
    preflight_problems: "{{ hostvars | aifabric.cluster.inventory_problems(groups, {'mtu_max': 9216}) }}"

- name: Report every problem at once
  ansible.builtin.fail:
    msg: "{{ preflight_problems | join('\n') }}"
  when: preflight_problems | length > 0
'''

RETURN = r'''
_value:
  description: The problems found, one message each; empty when the inventory is valid.
  type: list
  elements: str
  sample:
    - "gpu-02: node_mgmt_ip '10.231.0.101' is also used by gpu-01 (node_mgmt_ip); every address must be unique"
    - "all: cluster_networks.mgmt.mtu '100' is out of range; allowed 1280-9000"
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.aifabric.cluster.plugins.module_utils.inventory_check import (
    CHECKED_VARS,
    DEFAULT_RULES,
    SECRET_VARS,
    check_inventory,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain

_HIDDEN = '********'


def _redact(value):
    """Keep only what the checks need of a secret: its type and whether it is empty."""
    if isinstance(value, str) and value.strip():
        return _HIDDEN
    return value


def _hosts_of(groups, rules):
    names = set()
    for key in ('cluster_group', 'switch_group', 'node_groups', 'switch_groups'):
        value = rules.get(key, DEFAULT_RULES[key])
        for group in ([value] if isinstance(value, str) else value):
            members = groups.get(group) or []
            names.update([members] if isinstance(members, str) else members)
    return names


def _error_text(exc):
    text = to_native(getattr(exc, 'message', None) or exc) or type(exc).__name__
    return text.splitlines()[0].strip() if text.strip() else type(exc).__name__


def inventory_problems(hostvars, groups, rules=None):
    """Return the list of problems of the inventory (see DOCUMENTATION)."""
    if not isinstance(hostvars, Mapping):
        raise AnsibleFilterError('inventory_problems: the input must be hostvars or a dict of host variables')
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError('inventory_problems: groups must be a dict of group name to host names')
    rules = to_plain(rules) if rules else {}
    if not isinstance(rules, dict):
        raise AnsibleFilterError('inventory_problems: rules must be a dict')
    plain_groups = {}
    for name, members in groups.items():
        plain_groups[str(name)] = [str(member) for member in (members or [])]

    hosts = {}
    errors = {}
    for host in _hosts_of(plain_groups, rules):
        host_vars = {}
        host_errors = {}
        try:
            source = hostvars[host]
        except Exception as exc:  # pylint: disable=broad-except
            errors[host] = dict((var, _error_text(exc)) for var in CHECKED_VARS)
            hosts[host] = {}
            continue
        for var in CHECKED_VARS:
            try:
                if var not in source:
                    continue
                value = to_plain(source[var])
            except Exception as exc:  # pylint: disable=broad-except
                # reported as a problem of this variable; for a secret only the name
                # of an undefined variable is ever shown (see inventory_check)
                host_errors[var] = _error_text(exc)
                continue
            host_vars[var] = _redact(value) if var in SECRET_VARS else value
        hosts[host] = host_vars
        if host_errors:
            errors[host] = host_errors

    return check_inventory(hosts, plain_groups, rules, errors)


class FilterModule(object):
    """aifabric.cluster inventory filters."""

    def filters(self):
        return {
            'inventory_problems': inventory_problems,
        }
