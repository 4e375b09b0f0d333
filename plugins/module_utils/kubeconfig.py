# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kubeconfig reduced to what kubernetes.core needs, under names of our own.

kubernetes.core marks its ``kubeconfig`` parameter no_log, and Ansible then masks every
string of it wherever it appears in a result: admin.conf's "v1", "Config" and "kubernetes"
would turn a Node's "v1.35.0" and its "node-role.kubernetes.io/worker" into asterisks. So
the roles pass only the current context's cluster (server, CA) and user (certificate, key),
named ``aifabric-cluster`` and ``aifabric-admin`` (no apiVersion or kind either).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

CLUSTER_NAME = 'aifabric-cluster'
USER_NAME = 'aifabric-admin'
CONTEXT_NAME = USER_NAME + '@' + CLUSTER_NAME


def _named(entries, name, what):
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get('name') == name:
            return entry.get(what) or {}
    raise ValueError('the kubeconfig has no %s named %r' % (what, name))


def reduced_kubeconfig(config):
    """The kubeconfig dict of config's current context only (raises ValueError, naming no secret)."""
    if not isinstance(config, dict):
        raise ValueError('the kubeconfig is not a mapping')
    current = config.get('current-context')
    context = _named(config.get('contexts'), current, 'context')
    return {'clusters': [{'name': CLUSTER_NAME, 'cluster': _named(config.get('clusters'), context.get('cluster'), 'cluster')}],
            'users': [{'name': USER_NAME, 'user': _named(config.get('users'), context.get('user'), 'user')}],
            'contexts': [{'name': CONTEXT_NAME, 'context': {'cluster': CLUSTER_NAME, 'user': USER_NAME}}],
            'current-context': CONTEXT_NAME}
