# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness of the Kubernetes GPU nodes, judged from the API objects alone.

Pure functions on plain data, as the API returns it (``kubectl get ... -o json`` items
or ``kubernetes.core.k8s_info`` resources):

* ``node_readiness(nodes, hw_profiles, expected, driver_version=None, rdma_resource=None)``:
  one verdict per expected node (``{node: {profile, rdma, taints, optional driver_version
  (the node's installed driver, over driver_version)}}``, sorted by name): Ready, cordon, taints, and against the
  node's hardware profile the ``nvidia.com/gpu`` allocatable, the labels of GPU Feature
  Discovery (``nvidia.com/gpu.count``, ``nvidia.com/gpu.product``, the CUDA driver
  version) and the RDMA shared device allocatable.
* ``policy_problems(cluster_policies, nic_cluster_policies=None, rdma_expected=False)``:
  the cluster-level problems of the GPU Operator's ClusterPolicy (nvidia.com/v1) and the
  Network Operator's NicClusterPolicy (mellanox.com/v1alpha1).
* ``readiness_markdown(verdicts, problems)``: both as a Markdown report.

Every reason is ``{code, message}``; the message names the node (or the object), the
value observed, the value expected and what to do, e.g. ``gpu-02: allocatable
nvidia.com/gpu is 7, the profile hgx-h100-8gpu expects 8 (a GPU lost or unhealthy: check
nvidia-smi and Xid events, then drain and reset)``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

GPU_RESOURCE = 'nvidia.com/gpu'
LABEL_GPU_COUNT = 'nvidia.com/gpu.count'
LABEL_GPU_PRODUCT = 'nvidia.com/gpu.product'
NFD_NVIDIA_LABEL = 'feature.node.kubernetes.io/pci-10de.present'
# GPU Feature Discovery's driver labels: newer releases (cuda.driver-version.*), older ones (cuda.driver.*)
DRIVER_LABELS_NEW = ('nvidia.com/cuda.driver-version.major', 'nvidia.com/cuda.driver-version.minor',
                     'nvidia.com/cuda.driver-version.revision')
DRIVER_LABEL_FULL = 'nvidia.com/cuda.driver-version.full'
DRIVER_LABELS_OLD = ('nvidia.com/cuda.driver.major', 'nvidia.com/cuda.driver.minor', 'nvidia.com/cuda.driver.rev')

CODES = ('not_registered', 'not_ready', 'unknown_profile', 'gpu_allocatable', 'gpu_count_label', 'gpu_product',
         'driver_version', 'rdma_allocatable', 'taint_missing', 'cordoned')
POLICY_CODES = ('cluster_policy_missing', 'cluster_policy_not_ready', 'cluster_policy_no_gpu_nodes',
                'nic_cluster_policy_missing', 'nic_cluster_policy_not_ready')

_PRODUCT_PREFIX_RE = re.compile(r'^(?:nvidia|tesla)-', re.IGNORECASE)
_SHARED_RE = re.compile(r'-shared$', re.IGNORECASE)
_MIG_RE = re.compile(r'-mig-[^-]+$', re.IGNORECASE)


class ReadinessInputError(ValueError):
    """An input that is not what the API returns (or not the documented intent)."""


def _reason(code, message):
    return {'code': code, 'message': message}


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReadinessInputError('%s must be a mapping, got %s' % (what, type(value).__name__))
    return value


def _list(value, what):
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReadinessInputError('%s must be a list, got %s' % (what, type(value).__name__))
    return value


def quantity(value):
    """An integer resource quantity (``"8"``, ``8``) as int; None when absent or not a whole number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.match(r'^[0-9]+$', text):
        return int(text)
    return None


def normalize_product(name):
    """nvidia-smi's product name or GFD's label, comparable: spaces as '-', no NVIDIA-/Tesla- prefix, lower case."""
    text = '-'.join(str(name or '').split())
    return _PRODUCT_PREFIX_RE.sub('', text).lower()


def label_product(label):
    """The product of a GFD ``nvidia.com/gpu.product`` label, without the -SHARED (time-slicing) and -MIG-<profile> suffixes."""
    text = normalize_product(label)
    text = _SHARED_RE.sub('', text)
    return _MIG_RE.sub('', text)


def _components(version):
    return [part for part in re.split(r'[.]', str(version).strip()) if part != '']


def _same_component(observed, wanted):
    if observed.isdigit() and wanted.isdigit():
        return int(observed) == int(wanted)
    return observed.lower() == wanted.lower()


def driver_from_labels(labels):
    """The driver version GFD labelled (``580.95.05``), the newer labels first; None without any."""
    full = labels.get(DRIVER_LABEL_FULL)
    if full:
        return str(full)
    for keys in (DRIVER_LABELS_NEW, DRIVER_LABELS_OLD):
        parts = [labels.get(key) for key in keys]
        if parts[0] not in (None, ''):
            present = []
            for part in parts:
                if part in (None, ''):
                    break
                present.append(str(part))
            return '.'.join(present)
    return None


def driver_matches(observed, wanted):
    """Whether the observed driver version has the components of wanted (``580`` matches ``580.95.05``)."""
    want = _components(wanted)
    have = _components(observed)
    if not want or len(have) < len(want):
        return False
    return all(_same_component(h, w) for h, w in zip(have, want))


def _condition(obj, kind):
    for condition in _list((obj.get('status') or {}).get('conditions'), 'status.conditions'):
        if isinstance(condition, dict) and condition.get('type') == kind:
            return condition
    return None


def _taint_text(taint):
    text = str(taint.get('key'))
    if taint.get('value') not in (None, ''):
        text += '=%s' % taint.get('value')
    return text + ':%s' % taint.get('effect')


def _taint_matches(present, wanted):
    if present.get('key') != wanted.get('key') or present.get('effect') != wanted.get('effect'):
        return False
    if wanted.get('value') not in (None, ''):
        return str(present.get('value')) == str(wanted.get('value'))
    return True


def _verdict(name, profile_name):
    return {'node': name, 'profile': profile_name, 'healthy': False, 'reasons': [], 'gpu_expected': None,
            'gpu_allocatable': None, 'gpu_capacity': None, 'gpu_count_label': None, 'gpu_product_label': None,
            'driver_label': None, 'rdma_allocatable': None, 'cordoned': None}


def _gpu_reasons(name, profile_name, profile, node_status, verdict, driver_version):
    labels = node_status['labels']
    raw = node_status['allocatable'].get(GPU_RESOURCE)
    reasons = []
    count = verdict['gpu_expected']
    allocatable = verdict['gpu_allocatable']
    if allocatable != count:
        if allocatable == 0:
            observed = 'absent or 0: the NVIDIA device plugin reports none'
            hint = ('check the device plugin and driver pods of the GPU Operator on the node, and that the driver loaded: '
                    'nvidia-smi')
        elif allocatable is None or allocatable < count:
            observed = str(allocatable) if allocatable is not None else "'%s' (not a whole number)" % raw
            hint = 'a GPU lost or unhealthy: check nvidia-smi and Xid events, then drain and reset'
        else:
            observed = str(allocatable)
            hint = 'more GPUs than the profile: time-slicing or MIG replicas, or the wrong profile for the node'
        capacity = verdict['gpu_capacity']
        if capacity is not None and capacity != allocatable:
            observed += ' (capacity %d)' % capacity
        reasons.append(_reason('gpu_allocatable', '%s: allocatable %s is %s, the profile %s expects %d (%s)'
                               % (name, GPU_RESOURCE, observed, profile_name, count, hint)))
    label_count = verdict['gpu_count_label']
    if LABEL_GPU_COUNT not in labels:
        reasons.append(_reason('gpu_count_label', '%s: label %s is missing, the profile %s expects %d (GPU Feature '
                               'Discovery has not labelled the node: check the gpu-feature-discovery pod on it)'
                               % (name, LABEL_GPU_COUNT, profile_name, count)))
    elif label_count != count:
        reasons.append(_reason('gpu_count_label', '%s: label %s is %s, the profile %s expects %d (a GPU lost or not '
                               'seen by the driver: check nvidia-smi -L and lspci, then drain and reset)'
                               % (name, LABEL_GPU_COUNT, labels.get(LABEL_GPU_COUNT), profile_name, count)))
    product = profile.get('gpu_product')
    if product not in (None, ''):
        label = verdict['gpu_product_label']
        if label in (None, ''):
            reasons.append(_reason('gpu_product', "%s: label %s is missing, the profile %s expects '%s' (GPU Feature "
                                   "Discovery has not labelled the node: check the gpu-feature-discovery pod on it)"
                                   % (name, LABEL_GPU_PRODUCT, profile_name, product)))
        elif label_product(label) != normalize_product(product):
            reasons.append(_reason('gpu_product', "%s: label %s is '%s', the profile %s expects '%s' (the wrong "
                                   "hardware profile for the node, or other GPUs installed: fix the inventory or the node)"
                                   % (name, LABEL_GPU_PRODUCT, label, profile_name, product)))
    if driver_version not in (None, ''):
        observed = verdict['driver_label']
        if observed is None:
            reasons.append(_reason('driver_version', '%s: the driver version labels (%s or %s) are missing, expected '
                                   'driver %s (GPU Feature Discovery has not labelled the node, or the driver is not '
                                   'loaded: check the driver and gpu-feature-discovery pods on it)'
                                   % (name, DRIVER_LABEL_FULL, DRIVER_LABELS_OLD[0], driver_version)))
        elif not driver_matches(observed, driver_version):
            reasons.append(_reason('driver_version', '%s: the driver labelled is %s, expected %s (the driver was not '
                                   'upgraded or rolled back: drain the node and let the driver upgrade run)'
                                   % (name, observed, driver_version)))
    return reasons


def _unknown_profile(name, profile_name, hw_profiles):
    return _reason('unknown_profile', '%s: hardware profile %s is not one of hw_profiles (%s) (fix the inventory: the '
                   'profile of the node or hw_profiles)'
                   % (name, profile_name, ', '.join(sorted(str(p) for p in hw_profiles)) or 'none'))


def _judge(name, node, want, hw_profiles, driver_version, rdma_resource):
    profile_name = want.get('profile')
    verdict = _verdict(name, profile_name)
    reasons = verdict['reasons']
    profile = hw_profiles.get(profile_name) if isinstance(profile_name, str) else None
    if profile is not None:
        profile = _mapping(profile, 'hw_profiles.%s' % profile_name)
        verdict['gpu_expected'] = quantity(profile.get('gpu_count')) or 0
    if node is None:
        reasons.append(_reason('not_registered', '%s: not registered in the cluster, expected a node (join it: run the '
                               'Kubernetes playbook for it, then check the kubelet: journalctl -u kubelet)' % name))
        if profile is None:
            reasons.append(_unknown_profile(name, profile_name, hw_profiles))
        return verdict
    metadata = _mapping(node.get('metadata'), '%s metadata' % name)
    spec = _mapping(node.get('spec'), '%s spec' % name)
    status = _mapping(node.get('status'), '%s status' % name)
    labels = _mapping(metadata.get('labels'), '%s metadata.labels' % name)
    allocatable = _mapping(status.get('allocatable'), '%s status.allocatable' % name)
    capacity = _mapping(status.get('capacity'), '%s status.capacity' % name)

    verdict['gpu_allocatable'] = quantity(allocatable.get(GPU_RESOURCE, '0'))
    verdict['gpu_capacity'] = quantity(capacity.get(GPU_RESOURCE, '0'))
    verdict['gpu_count_label'] = quantity(labels.get(LABEL_GPU_COUNT))
    verdict['gpu_product_label'] = labels.get(LABEL_GPU_PRODUCT)
    verdict['driver_label'] = driver_from_labels(labels)
    if rdma_resource:
        verdict['rdma_allocatable'] = quantity(allocatable.get(rdma_resource))
    verdict['cordoned'] = bool(spec.get('unschedulable'))

    ready = _condition(node, 'Ready')
    if ready is None:
        reasons.append(_reason('not_ready', '%s: has no Ready condition, expected Ready True (the kubelet never '
                               'reported: check it, journalctl -u kubelet)' % name))
    elif str(ready.get('status')) != 'True':
        reasons.append(_reason('not_ready', '%s: condition Ready is %s (reason %s%s), expected True (check the kubelet '
                               'and the CNI on the node: journalctl -u kubelet)'
                               % (name, ready.get('status'), ready.get('reason') or 'none',
                                  ': %s' % ready.get('message') if ready.get('message') else '')))

    if profile is None:
        reasons.append(_unknown_profile(name, profile_name, hw_profiles))
    elif verdict['gpu_expected'] > 0:
        reasons.extend(_gpu_reasons(name, profile_name, profile, {'labels': labels, 'allocatable': allocatable},
                                    verdict, driver_version))

    if want.get('rdma') and rdma_resource:
        rdma = verdict['rdma_allocatable']
        if not rdma:
            reasons.append(_reason('rdma_allocatable', '%s: allocatable %s is %s, expected at least 1 on an RDMA node '
                                   '(check the Network Operator: the rdma shared device plugin pod on the node, its '
                                   'selectors in the NicClusterPolicy, and that the HCAs are up: ibv_devinfo)'
                                   % (name, rdma_resource, 'absent' if allocatable.get(rdma_resource) is None
                                      else allocatable.get(rdma_resource))))

    present = [t for t in _list(spec.get('taints'), '%s spec.taints' % name) if isinstance(t, dict)]
    for taint in _list(want.get('taints'), '%s expected taints' % name):
        taint = _mapping(taint, '%s expected taint' % name)
        if not any(_taint_matches(p, taint) for p in present):
            same_key = [_taint_text(p) for p in present if p.get('key') == taint.get('key')]
            reasons.append(_reason('taint_missing', '%s: taint %s is missing (%s), expected on the node (add it: kubectl '
                                   'taint nodes %s %s)'
                                   % (name, _taint_text(taint),
                                      'it has %s' % ', '.join(same_key) if same_key else
                                      'taints: %s' % (', '.join(_taint_text(p) for p in present) or 'none'),
                                      name, _taint_text(taint))))

    if verdict['cordoned']:
        reasons.append(_reason('cordoned', '%s: spec.unschedulable is true (cordoned), expected schedulable (uncordon it '
                               'once it is healthy: kubectl uncordon %s)' % (name, name)))
    return verdict


def node_readiness(nodes, hw_profiles, expected, driver_version=None, rdma_resource=None):
    """One verdict per node of ``expected``, sorted by node name (see the module's docstring)."""
    nodes = _list(nodes, 'nodes')
    hw_profiles = _mapping(hw_profiles, 'hw_profiles')
    if not isinstance(expected, dict):
        raise ReadinessInputError('expected must be a mapping of node name to {profile, rdma, taints}, got %s'
                                  % type(expected).__name__)
    by_name = {}
    for node in nodes:
        node = _mapping(node, 'a node')
        name = _mapping(node.get('metadata'), 'a node metadata').get('name')
        if name is not None:
            by_name[str(name)] = node
    driver_version = None if driver_version in (None, '') else str(driver_version)
    verdicts = []
    for name in sorted(str(n) for n in expected):
        want = _mapping(expected[name], 'expected.%s' % name)
        # a node's own installed driver (expected.<node>.driver_version) over the cluster's
        wanted = want.get('driver_version')
        wanted = driver_version if wanted in (None, '') else str(wanted)
        verdict = _judge(name, by_name.get(name), want, hw_profiles, wanted, rdma_resource or None)
        verdict['healthy'] = not verdict['reasons']
        verdicts.append(verdict)
    return verdicts


def _object_name(obj):
    return str(_mapping(obj.get('metadata'), 'metadata').get('name') or '(unnamed)')


def _condition_messages(obj):
    texts = []
    for condition in _list(_mapping(obj.get('status'), 'status').get('conditions'), 'status.conditions'):
        if isinstance(condition, dict) and condition.get('message'):
            texts.append('%s %s: %s' % (condition.get('type'), condition.get('reason') or '', condition.get('message')))
    return texts


def policy_problems(cluster_policies, nic_cluster_policies=None, rdma_expected=False):
    """Cluster-level reasons of the GPU Operator's ClusterPolicy and the Network Operator's NicClusterPolicy."""
    problems = []
    cluster_policies = _list(cluster_policies, 'cluster_policies')
    if not cluster_policies:
        problems.append(_reason('cluster_policy_missing', 'ClusterPolicy: none in the cluster, expected one (the GPU '
                                'Operator is not installed or its ClusterPolicy was deleted: install the operator)'))
    for policy in cluster_policies:
        policy = _mapping(policy, 'a ClusterPolicy')
        name = _object_name(policy)
        state = _mapping(policy.get('status'), 'ClusterPolicy status').get('state')
        if state != 'ready':
            details = _condition_messages(policy)
            hint = ('a second ClusterPolicy: the operator uses only one, delete this one' if state == 'ignored'
                    else 'check the operands: kubectl get pods -n <operator namespace>, the driver pods first')
            problems.append(_reason('cluster_policy_not_ready', 'ClusterPolicy %s: status.state is %s, expected ready%s (%s)'
                                    % (name, state or 'unset', ' [%s]' % '; '.join(details) if details else '', hint)))
        ready = _condition(policy, 'Ready')
        if ready is not None and ready.get('reason') == 'NoGPUNodes':
            problems.append(_reason('cluster_policy_no_gpu_nodes', 'ClusterPolicy %s: condition Ready has reason NoGPUNodes '
                                    '(state %s), expected GPU nodes (the operator found no node labelled as a GPU node and '
                                    'deploys nothing: check the NFD label %s=true on the GPU nodes and the '
                                    'node-feature-discovery pods)' % (name, state or 'unset', NFD_NVIDIA_LABEL)))
    if rdma_expected:
        nic_policies = _list(nic_cluster_policies, 'nic_cluster_policies')
        if not nic_policies:
            problems.append(_reason('nic_cluster_policy_missing', 'NicClusterPolicy: none in the cluster, expected one on '
                                    'a cluster with RDMA nodes (the Network Operator is not installed or its '
                                    'NicClusterPolicy was deleted: install it)'))
        for policy in nic_policies:
            policy = _mapping(policy, 'a NicClusterPolicy')
            name = _object_name(policy)
            status = _mapping(policy.get('status'), 'NicClusterPolicy status')
            state = status.get('state')
            if state != 'ready':
                details = ['%s %s%s' % (s.get('name'), s.get('state'), ': %s' % s.get('message') if s.get('message') else '')
                           for s in _list(status.get('appliedStates'), 'status.appliedStates')
                           if isinstance(s, dict) and s.get('state') not in ('ready', 'ignore')]
                details.extend(_condition_messages(policy))
                problems.append(_reason('nic_cluster_policy_not_ready', 'NicClusterPolicy %s: status.state is %s, expected '
                                        'ready%s (check the Network Operator pods, the MOFED driver pods first)'
                                        % (name, state or 'unset', ' [%s]' % '; '.join(details) if details else '')))
    return problems


def _cell(value):
    if value is None or value == '':
        return '-'
    return str(value).replace('|', '\\|').replace('\n', ' ')


def readiness_markdown(verdicts, problems):
    """A Markdown report of the verdicts of node_readiness and the problems of policy_problems."""
    verdicts = _list(verdicts, 'verdicts')
    problems = _list(problems, 'problems')
    gpu = [v for v in verdicts if v.get('gpu_expected') != 0]
    other = [v for v in verdicts if v.get('gpu_expected') == 0]
    summary = '**%d of %d GPU nodes ready**' % (len([v for v in gpu if v.get('healthy')]), len(gpu))
    if other:
        summary += ', %d of %d other nodes ready' % (len([v for v in other if v.get('healthy')]), len(other))
    summary += '; %s' % ('%d cluster problem%s' % (len(problems), '' if len(problems) == 1 else 's') if problems
                         else 'no cluster problem')
    smoke = any('smoke' in v for v in verdicts)  # the smoke Jobs' column when they ran (k8s_gpu_smoke)
    lines = ['# GPU node readiness', '', summary + '.', '',
             '| node | profile | GPUs allocatable/expected | product | driver | rdma |%s verdict |' % (' smoke job |' if smoke else ''),
             '|---|---|---|---|---|---|%s---|' % ('---|' if smoke else '')]
    for verdict in verdicts:
        codes = sorted(set(r.get('code') for r in verdict.get('reasons') or []))
        gpus = '%s/%s' % (_cell(verdict.get('gpu_allocatable')), _cell(verdict.get('gpu_expected')))
        lines.append('| %s |' % ' | '.join([
            _cell(verdict.get('node')), _cell(verdict.get('profile')), gpus, _cell(verdict.get('gpu_product_label')),
            _cell(verdict.get('driver_label')), _cell(verdict.get('rdma_allocatable'))]
            + ([_cell(verdict.get('smoke'))] if smoke else [])
            + ['ready' if verdict.get('healthy') else 'NOT READY (%s)' % ', '.join(codes)]))
    lines.extend(['', '## Reasons', ''])
    reasons = list(problems) + [r for v in verdicts for r in v.get('reasons') or []]
    if not reasons:
        lines.append('None.')
    for reason in reasons:
        lines.append('- `%s` %s' % (reason.get('code'), reason.get('message')))
    return '\n'.join(lines) + '\n'
