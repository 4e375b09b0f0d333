# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes GPU node readiness filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.aifabric.cluster.plugins.module_utils.k8s_gpu_readiness import (
    ReadinessInputError, node_readiness, policy_problems, readiness_markdown,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.k8s_gpu_smoke import smoke_jobs, smoke_verdicts
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _plain(name, value, kind, what):
    try:
        value = to_plain(value)
    except ValueError as exc:
        raise AnsibleFilterError('%s: %s cannot be read: %s' % (name, what, to_native(exc)))
    if kind is not None and not isinstance(value, kind):
        raise AnsibleFilterError('%s: %s must be a %s, got %s' % (name, what, 'list' if kind is list else 'dict',
                                                                  type(value).__name__))
    return value


def _call(name, function, *args):
    problem = None
    try:
        return function(*args)
    except (ReadinessInputError, AttributeError, TypeError) as exc:
        problem = to_native(exc)
    raise AnsibleFilterError('%s: %s' % (name, problem))


def k8s_gpu_node_readiness(nodes, hw_profiles, expected, driver_version=None, rdma_resource=None):
    """One verdict per expected node, from the Node objects of the API."""
    name = 'k8s_gpu_node_readiness'
    nodes = _plain(name, nodes, list, 'the nodes (the resources of kubernetes.core.k8s_info, or the items of '
                                      'kubectl get nodes -o json)')
    hw_profiles = _plain(name, hw_profiles, dict, 'hw_profiles')
    expected = _plain(name, expected, dict, 'expected (node name: {profile, rdma, taints})')
    driver_version = _plain(name, driver_version, None, 'driver_version')
    rdma_resource = _plain(name, rdma_resource, None, 'rdma_resource')
    return _call(name, node_readiness, nodes, hw_profiles, expected,
                 None if driver_version in (None, '') else str(driver_version),
                 None if rdma_resource in (None, '') else str(rdma_resource))


def k8s_gpu_policy_problems(cluster_policies, nic_cluster_policies=None, rdma_expected=False):
    """Cluster-level problems of the ClusterPolicy and NicClusterPolicy objects."""
    name = 'k8s_gpu_policy_problems'
    cluster_policies = _plain(name, cluster_policies, list, 'the ClusterPolicy objects')
    if nic_cluster_policies is not None:
        nic_cluster_policies = _plain(name, nic_cluster_policies, list, 'the NicClusterPolicy objects')
    return _call(name, policy_problems, cluster_policies, nic_cluster_policies, bool(rdma_expected))


def k8s_gpu_readiness_markdown(verdicts, problems=None):
    """Markdown report of the verdicts and the cluster problems."""
    name = 'k8s_gpu_readiness_markdown'
    verdicts = _plain(name, verdicts, list, 'the verdicts of k8s_gpu_node_readiness')
    problems = [] if problems is None else _plain(name, problems, list, 'the problems of k8s_gpu_policy_problems')
    return _call(name, readiness_markdown, verdicts, problems)


def k8s_gpu_smoke_jobs(expected, namespace, image, command, rdma_resource=None, network=None, deadline=300):
    """The smoke Job of every expected node."""
    name = 'k8s_gpu_smoke_jobs'
    expected = _plain(name, expected, dict, 'expected (node name: {profile, rdma, taints})')
    command = _plain(name, command, list, 'command')
    return _call(name, smoke_jobs, expected, str(namespace), str(image), [str(c) for c in command],
                 None if rdma_resource in (None, '') else str(rdma_resource), None if network in (None, '') else str(network),
                 int(deadline))


def k8s_gpu_smoke_verdicts(verdicts, jobs, pods):
    """The verdicts with each node's smoke Job outcome."""
    name = 'k8s_gpu_smoke_verdicts'
    verdicts = _plain(name, verdicts, list, 'the verdicts of k8s_gpu_node_readiness')
    jobs = _plain(name, jobs, list, 'the Job objects')
    pods = _plain(name, pods, list, 'the Pod objects')
    return _call(name, smoke_verdicts, verdicts, jobs, pods)


class FilterModule(object):
    """aifabric.cluster Kubernetes GPU node readiness filters."""

    def filters(self):
        return {
            'k8s_gpu_node_readiness': k8s_gpu_node_readiness,
            'k8s_gpu_policy_problems': k8s_gpu_policy_problems,
            'k8s_gpu_readiness_markdown': k8s_gpu_readiness_markdown,
            'k8s_gpu_smoke_jobs': k8s_gpu_smoke_jobs,
            'k8s_gpu_smoke_verdicts': k8s_gpu_smoke_verdicts,
        }
