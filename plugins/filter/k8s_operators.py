# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU and Network Operator filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.module_utils import k8s_operators
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _gpu_operator_values(intent, profiles, runtime_versions, cdi='auto', mig='auto', host_dcgm=True, tolerations=None):
    if isinstance(cdi, str) and cdi != 'auto':
        cdi = cdi.lower() in ('true', 'yes', '1')
    try:
        return k8s_operators.gpu_operator_values(to_plain(intent), to_plain(profiles), to_plain(runtime_versions),
                                                 cdi, str(mig), bool(host_dcgm), to_plain(tolerations))
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('gpu_operator_values: %s (run the preflight role)' % exc)


def _network_operator_resources(intent, netdevs, images, fabric_cidr, mtu):
    try:
        intent = to_plain(intent)
        netdev = k8s_operators.fabric_netdev(to_plain(netdevs))
        out = [k8s_operators.nic_cluster_policy(intent, netdev, to_plain(images))]
        if intent.get('secondary_network'):
            out.append(k8s_operators.macvlan_network(intent, netdev, str(fabric_cidr), int(mtu)))
        return out
    except ValueError as exc:
        raise AnsibleFilterError('network_operator_resources: %s' % exc)
    except (AttributeError, KeyError, TypeError) as exc:
        raise AnsibleFilterError('network_operator_resources: the intent is not valid (run the preflight role): %r' % exc)


class FilterModule(object):
    def filters(self):
        return {'gpu_operator_values': _gpu_operator_values, 'network_operator_resources': _network_operator_resources}
