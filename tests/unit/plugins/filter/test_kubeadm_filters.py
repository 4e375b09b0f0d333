# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kubeadm filters (plugins/filter/kubeadm.py), thin wrappers of plugins/module_utils/kubeadm_config.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import inspect
import os

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible.utils.unsafe_proxy import wrap_var
from ansible_collections.aifabric.cluster.plugins.filter import kubeadm
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FILTERS = kubeadm.FilterModule().filters()
TOKEN = 'abcdef.0123456789abcdef'
SECRETS = {'token': TOKEN, 'ca_cert_hashes': ('sha256:' + 'ab' * 32,), 'certificate_key': 'cd' * 32}
INTENT = {'version': '1.34.2', 'control_plane_endpoint': {'host': 'k8s-api.lab.internal', 'port': 8443},
          'ha_mode': 'keepalived', 'vip': '10.231.0.50', 'pod_cidr': '10.244.0.0/16', 'service_cidr': '10.96.0.0/12',
          'cni': 'calico', 'cgroup_driver': 'systemd',
          'gpu_taints': {'hgx-h100-8gpu': [{'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}]}}
NODE = {'name': 'gpu-01', 'address': '10.231.0.101', 'taints': INTENT['gpu_taints']['hgx-h100-8gpu'],
        'labels': {'aifabric.io/hw-profile': 'hgx-h100-8gpu'}}
PLANE = {'name': 'mgmt-01', 'address': '10.231.0.11', 'taints': (), 'labels': {}}


def doc_of(name):
    with open(os.path.join(ROOT, 'plugins', 'filter', name + '.yml')) as handle:
        return yaml.safe_load(handle)


def test_filters_are_registered_with_a_doc_each():
    assert sorted(FILTERS) == ['kubeadm_config', 'kubeadm_config_problems', 'kubernetes_upgrade_problems', 'kubernetes_version_problems']
    for name, function in FILTERS.items():
        doc = doc_of(name)
        assert doc['DOCUMENTATION']['name'] == name
        assert sorted(doc) == ['DOCUMENTATION', 'EXAMPLES', 'RETURN']
        # the documented options are the filter's arguments
        arguments = list(inspect.signature(function).parameters)
        assert ['_input'] + arguments[1:] == list(doc['DOCUMENTATION']['options'])
        assert doc['RETURN']['_value']['type'] == 'list'


@pytest.mark.parametrize('version, api', [('1.30.4', 'kubeadm.k8s.io/v1beta3'), ('1.34.2', 'kubeadm.k8s.io/v1beta4')])
def test_render_and_check(version, api):
    intent = dict(INTENT, version=version)
    init = FILTERS['kubeadm_config'](intent, PLANE, 'init', SECRETS, 'aifabric-example')
    cplane = FILTERS['kubeadm_config'](intent, dict(PLANE, name='mgmt-02'), 'join-control-plane', SECRETS)
    join = FILTERS['kubeadm_config'](intent, NODE, 'join', SECRETS)
    assert [d['kind'] for d in init] == ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']
    assert init[0]['apiVersion'] == api and init[1]['clusterName'] == 'aifabric-example'
    assert join[0]['nodeRegistration']['taints'] == [{'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}]
    assert cplane[0]['controlPlane']['certificateKey'] == 'cd' * 32
    for docs in (init, cplane, join):
        assert FILTERS['kubeadm_config_problems'](docs, version) == []
        # the YAML text of the documents too
        assert FILTERS['kubeadm_config_problems'](yaml.safe_dump_all(docs), version) == []


def test_without_secrets_no_secret_field():
    text = yaml.safe_dump_all(FILTERS['kubeadm_config'](INTENT, PLANE, 'init') + FILTERS['kubeadm_config'](INTENT, NODE, 'join'))
    for field in ('token', 'caCertHashes', 'certificateKey', 'bootstrapTokens'):
        assert field not in text


def test_wrapped_inputs():
    # what a template hands a filter: unsafe text, tuples
    docs = FILTERS['kubeadm_config'](wrap_var(INTENT), wrap_var(PLANE), wrap_var('init'), wrap_var(SECRETS))
    assert docs[0]['bootstrapTokens'][0]['token'].__class__ is str
    assert docs[1]['controlPlaneEndpoint'].__class__ is str
    assert yaml.safe_dump_all(docs)
    assert FILTERS['kubeadm_config_problems'](wrap_var(docs), wrap_var('1.34.2')) == []


@pytest.mark.parametrize('args, text', [
    ((INTENT, NODE, 'reset'), "kubeadm_config \\(reset\\): .*kind 'reset' is not one of init, join-control-plane, join"),
    ((dict(INTENT, version='1.29.1'), NODE, 'join'), "Kubernetes version '1.29.1' is not supported"),
    ((dict(INTENT, control_plane_endpoint=None), NODE, 'join'), 'run the preflight role'),
    ((INTENT, NODE, 'join', {'token': TOKEN}), 'secrets.ca_cert_hashes is required for join'),
])
def test_kubeadm_config_errors(args, text):
    with pytest.raises(AnsibleFilterError, match=text) as info:
        FILTERS['kubeadm_config'](*args)
    assert TOKEN not in str(info.value)


def test_problems_never_show_a_secret():
    docs = FILTERS['kubeadm_config'](INTENT, NODE, 'join', dict(SECRETS, token='ABCDEF.0123456789abcdef'))
    problems = FILTERS['kubeadm_config_problems'](docs, '1.34')
    assert problems == ['JoinConfiguration.discovery.bootstrapToken.token is not a bootstrap token; allowed: '
                        '[a-z0-9]{6}.[a-z0-9]{16} (as kubeadm token generate prints)']


def test_problems_of_unreadable_text():
    with pytest.raises(AnsibleFilterError, match='cannot be read: ParserError at line 3, column 1') as info:
        FILTERS['kubeadm_config_problems']('bootstrapTokens:\n- token: [abcdef.0123456789abcdef\n', '1.34.2')
    assert TOKEN not in str(info.value)


def test_kubernetes_version_problems_filter_takes_ansible_values():
    problems = FILTERS['kubernetes_version_problems'](wrap_var('1.35.0'), wrap_var('gpu-node-01'), installed=wrap_var('1.34.2-1.1'),
                                                      server=wrap_var('v1.34.2'), in_cluster=True)
    assert len(problems) == 2 and all(p.startswith('gpu-node-01: ') for p in problems)
    assert FILTERS['kubernetes_version_problems']('1.34.2', 'n1') == []
