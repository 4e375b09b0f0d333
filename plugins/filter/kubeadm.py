# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeadm configuration and Kubernetes version filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.module_utils.kubeadm_config import DEFAULT_CLUSTER_NAME, build, validate
from ansible_collections.aifabric.cluster.plugins.module_utils.kubernetes_intent import (
    INTENT_VAR, live_version_problems, upgrade_target_problems,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _kubeadm_config(intent, node, kind, secrets=None, cluster_name=DEFAULT_CLUSTER_NAME):
    try:
        return build(to_plain(intent), to_plain(node), str(kind), None if secrets is None else to_plain(secrets),
                     str(cluster_name or DEFAULT_CLUSTER_NAME))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        # the messages name fields, never the secrets' values
        raise AnsibleFilterError('kubeadm_config (%s): cluster_kubernetes or the node is not valid (run the preflight '
                                 'role): %s' % (kind, exc))


def _kubeadm_config_problems(docs, version):
    try:
        docs = to_plain(docs)
        if isinstance(docs, str):
            docs = list(yaml.safe_load_all(docs))
    except (ValueError, yaml.YAMLError) as exc:
        # where, not what: the text may hold a token
        mark = getattr(exc, 'problem_mark', None)
        where = ' at line %d, column %d' % (mark.line + 1, mark.column + 1) if mark is not None else ''
        raise AnsibleFilterError('kubeadm_config_problems: the documents cannot be read: %s%s' % (type(exc).__name__, where))
    return validate(docs, str(version))


def _kubernetes_version_problems(target, host, installed=None, server=None, in_cluster=False, source=INTENT_VAR + '.version'):
    return live_version_problems(str(host), str(target), None if installed is None else str(installed),
                                 None if server is None else str(server), bool(in_cluster), str(source))


def _kubernetes_upgrade_problems(target, host, server=None, source=INTENT_VAR + '.version'):
    return upgrade_target_problems(str(host), str(target), None if server is None else str(server), str(source))


class FilterModule(object):
    def filters(self):
        return {'kubeadm_config': _kubeadm_config, 'kubeadm_config_problems': _kubeadm_config_problems,
                'kubernetes_version_problems': _kubernetes_version_problems,
                'kubernetes_upgrade_problems': _kubernetes_upgrade_problems}
