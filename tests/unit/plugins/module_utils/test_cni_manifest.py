# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/module_utils/cni_manifest.py: the CNI manifest rendered for the intent, and its schema check."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import kubernetes_validate
import yaml

from ansible_collections.aifabric.cluster.plugins.module_utils import cni_manifest as cm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
with open(os.path.join(ROOT, 'lab', 'cni', 'calico-v3.30.3.yaml')) as _f:
    CALICO = _f.read()
CILIUM = '''
apiVersion: v1
kind: ServiceAccount
metadata: {name: cilium, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data:
  ipam: cluster-pool
  cluster-pool-ipv4-cidr: 10.0.0.0/8
  cluster-pool-ipv4-mask-size: "24"
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: cilium}}
  template:
    metadata: {labels: {k8s-app: cilium}}
    spec:
      containers: [{name: cilium-agent, image: quay.io/cilium/cilium:v1.18.2}]
'''


def _env(result):
    ds = [d for d in result['resources'] if d['kind'] == 'DaemonSet'][0]
    node = [c for c in ds['spec']['template']['spec']['containers'] if c['name'] == 'calico-node'][0]
    return dict((e['name'], e.get('value', e.get('valueFrom'))) for e in node['env'])


def test_calico_gets_the_pod_cidr_and_validates():
    result = cm.cni_manifest(CALICO, 'calico', '10.244.0.0/16', '1.34.2')
    assert result['problems'] == []
    assert [d['kind'] for d in result['resources']][:2] == ['PodDisruptionBudget', 'ServiceAccount']
    assert len(result['resources']) == 14
    env = _env(result)
    assert env['CALICO_IPV4POOL_CIDR'] == '10.244.0.0/16' and env['CALICO_IPV4POOL_IPIP'] == 'Always'
    assert 'CALICO_IPV6POOL_CIDR' not in env
    # render works on a copy: the parsed objects it was given are unchanged
    docs = cm.load(CALICO)[0]
    assert cm.render(docs, 'calico', '10.244.0.0/16')[1] == [] and 'CALICO_IPV4POOL_CIDR' not in repr(docs)


def test_calico_value_replaced_and_ipv6():
    docs = [d for d in yaml.safe_load_all(CALICO) if d]
    ds = [d for d in docs if d['kind'] == 'DaemonSet'][0]
    ds['spec']['template']['spec']['containers'][0]['env'].append(
        {'name': 'CALICO_IPV6POOL_CIDR', 'valueFrom': {'configMapKeyRef': {'name': 'calico-config', 'key': 'x'}}})
    result = cm.cni_manifest(yaml.safe_dump_all(docs), 'calico', 'fd00:10:244::/56', '1.35.0')
    assert result['problems'] == []
    assert _env(result)['CALICO_IPV6POOL_CIDR'] == 'fd00:10:244::/56'
    assert 'CALICO_IPV4POOL_CIDR' not in _env(result)


def test_not_the_cnis_manifest():
    assert cm.cni_manifest(CILIUM, 'calico', '10.244.0.0/16', '1.34.2') == {'resources': [], 'problems': [
        "the manifest has no DaemonSet calico-node with a container calico-node: it is not Calico's calico.yaml"]}
    assert cm.cni_manifest(CALICO, 'cilium', '10.244.0.0/16', '1.34.2')['problems'] == [
        "the manifest has no ConfigMap cilium-config: it is not Cilium's (cilium install --dry-run or helm template)"]
    assert cm.cni_manifest(CALICO, 'flannel', '10.244.0.0/16', '1.34.2')['problems'] == ["cni 'flannel' is not one of calico, cilium"]
    assert cm.cni_manifest(CALICO, 'calico', '10.244.0.300/16', '1.34.2')['problems'] == ["pod CIDR '10.244.0.300/16' is not a network"]


def test_cilium_ipam_modes():
    result = cm.cni_manifest(CILIUM, 'cilium', '10.244.0.0/16', '1.34.2')
    assert result['problems'] == []
    assert result['resources'][1]['data']['cluster-pool-ipv4-cidr'] == '10.244.0.0/16'
    kubernetes = cm.cni_manifest(CILIUM.replace('ipam: cluster-pool', 'ipam: kubernetes'), 'cilium', '10.244.0.0/16', '1.34.2')
    assert kubernetes['problems'] == [] and kubernetes['resources'][1]['data']['cluster-pool-ipv4-cidr'] == '10.0.0.0/8'
    assert cm.cni_manifest(CILIUM.replace('ipam: cluster-pool', 'ipam: eni'), 'cilium', '10.244.0.0/16', '1.34.2')['problems'] == [
        "cilium-config has ipam 'eni': the pod CIDR can be set for ipam cluster-pool or kubernetes only"]


def test_schema_errors_one_per_object():
    text = CALICO.replace('  maxUnavailable: 1\n  selector:', '  maxUnavailabel: 1\n  selector:', 1)
    text = text.replace('  replicas: 1\n', '  replicas: "one"\n')
    text += '---\napiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata: {name: extra}\nspec: {cidr: 10.1.0.0/16}\n'
    text += '---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n'
    result = cm.cni_manifest(text, 'calico', '10.244.0.0/16', '1.34.2')
    assert result['resources'] == []
    assert result['problems'] == [
        "PodDisruptionBudget kube-system/calico-kube-controllers: spec: Additional properties are not allowed ('maxUnavailabel' was unexpected)",
        "Deployment kube-system/calico-kube-controllers: spec.replicas: 'one' is not of type 'integer', 'null'",
        'Widget w: Kubernetes 1.34 has no Widget in example.com/v1 and the manifest defines no CRD for it']


def test_unsupported_version_and_bad_yaml():
    problems = cm.cni_manifest(CALICO, 'calico', '10.244.0.0/16', '1.99.0')['problems']
    assert len(problems) == 1 and problems[0].startswith('kubernetes-validate ') and problems[0].endswith(
        'has no schemas for Kubernetes 1.99: use a release that has them')
    assert cm.cni_manifest('a: [1\n', 'calico', '10.244.0.0/16', '1.34.2')['problems'][0].startswith('the manifest is not YAML (line ')
    assert cm.cni_manifest('- 1\n---\nkind: ConfigMap\n', 'calico', '10.244.0.0/16', '1.34.2')['problems'] == [
        'document 1 of the manifest is not a Kubernetes object (apiVersion, kind and metadata.name)',
        'document 2 of the manifest is not a Kubernetes object (apiVersion, kind and metadata.name)']
    assert cm.cni_manifest('', 'calico', '10.244.0.0/16', '1.34.2')['problems'] == ['the manifest has no objects']


def test_a_broken_bundled_schema_is_a_problem_not_a_traceback():
    class Broken(object):
        utils = kubernetes_validate.utils
        SchemaNotFoundError = kubernetes_validate.SchemaNotFoundError
        ValidationError = kubernetes_validate.ValidationError
        InvalidSchemaError = kubernetes_validate.InvalidSchemaError

        @staticmethod
        def validate(doc, version, strict):
            raise kubernetes_validate.InvalidSchemaError('bad $ref in the schema')
    problems = cm.cni_manifest(CILIUM, 'cilium', '10.244.0.0/16', '1.34.2', validator=Broken)['problems']
    assert problems[0] == 'ServiceAccount kube-system/cilium: kubernetes-validate cannot check it: bad $ref in the schema'
    assert len(problems) == 3
