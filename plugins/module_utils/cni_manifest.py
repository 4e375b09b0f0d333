# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CNI's manifest from the site mirror, rendered for the Kubernetes intent and schema-checked.

The mirror holds the CNI vendor's own manifest (Calico's ``calico.yaml``; for Cilium the output of
``cilium install --dry-run`` or ``helm template``). Rendering edits the parsed objects, never the
text, and only where the pod network is set:

  - Calico: the ``calico-node`` container of the DaemonSet ``calico-node`` gets
    ``CALICO_IPV4POOL_CIDR`` (``CALICO_IPV6POOL_CIDR`` for an IPv6 pod CIDR), replacing any value
    (upstream ships it commented out, and calico-node then creates 192.168.0.0/16);
  - Cilium: the ConfigMap ``cilium-config`` gets ``cluster-pool-ipv4-cidr`` (``-ipv6-``) in the
    ``cluster-pool`` IPAM mode; in the ``kubernetes`` mode the pods take the nodes' podCIDRs, which
    kubeadm's podSubnet already sets. Any other IPAM mode cannot be set from the intent: a problem.

Then every object is checked against the Kubernetes OpenAPI schema of the intent's minor version
(kubernetes-validate, strict: unknown fields are errors, as the API server's strict field
validation), before anything is applied. Custom resources pass when the manifest defines their
CRD (the API server checks them against it).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import ipaddress

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

CNIS = ('calico', 'cilium')
CILIUM_POOL_MODES = ('cluster-pool',)


def _name(doc):
    meta = doc.get('metadata') or {}
    where = meta.get('namespace')
    return '%s %s%s' % (doc.get('kind'), (where + '/') if where else '', meta.get('name'))


def load(text):
    """The manifest's objects, in order (empty documents dropped); (objects, problems)."""
    if not HAS_YAML:  # pragma: no cover
        return [], ['PyYAML is missing on the controller']
    try:
        docs = [doc for doc in yaml.safe_load_all(text or '') if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = ' (line %d)' % (mark.line + 1) if mark else ''
        return [], ['the manifest is not YAML%s: %s' % (where, getattr(exc, 'problem', None) or type(exc).__name__)]
    problems = []
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict) or not doc.get('apiVersion') or not doc.get('kind') or not (doc.get('metadata') or {}).get('name'):
            problems.append('document %d of the manifest is not a Kubernetes object (apiVersion, kind and metadata.name)' % (index + 1))
    if not docs:
        problems.append('the manifest has no objects')
    return docs, problems


def _find(docs, kind, name):
    for doc in docs:
        if isinstance(doc, dict) and doc.get('kind') == kind and (doc.get('metadata') or {}).get('name') == name:
            return doc
    return None


def _set_env(container, name, value):
    env = container.setdefault('env', [])
    for item in env:
        if isinstance(item, dict) and item.get('name') == name:
            item.pop('valueFrom', None)
            item['value'] = value
            return
    env.append({'name': name, 'value': value})


def _family(pod_cidr):
    try:
        return ipaddress.ip_network(pod_cidr, strict=False).version
    except ValueError:
        return None


def render(docs, cni, pod_cidr):
    """A copy of docs with the pod CIDR set where the CNI reads it; (objects, problems)."""
    docs = copy.deepcopy(docs)
    family = _family(pod_cidr)
    if family is None:
        return docs, ['pod CIDR %r is not a network' % (pod_cidr,)]
    if cni == 'calico':
        daemonset = _find(docs, 'DaemonSet', 'calico-node')
        spec = (((daemonset or {}).get('spec') or {}).get('template') or {}).get('spec') or {}
        containers = [c for c in spec.get('containers') or [] if isinstance(c, dict) and c.get('name') == 'calico-node']
        if not containers:
            return docs, ["the manifest has no DaemonSet calico-node with a container calico-node: it is not Calico's calico.yaml"]
        _set_env(containers[0], 'CALICO_IPV%dPOOL_CIDR' % family, pod_cidr)
        return docs, []
    if cni == 'cilium':
        config = _find(docs, 'ConfigMap', 'cilium-config')
        if config is None:
            return docs, ["the manifest has no ConfigMap cilium-config: it is not Cilium's (cilium install --dry-run or helm template)"]
        data = config.setdefault('data', {})
        mode = data.get('ipam') or 'cluster-pool'
        if mode == 'kubernetes':
            return docs, []
        if mode not in CILIUM_POOL_MODES:
            return docs, ['cilium-config has ipam %r: the pod CIDR can be set for ipam cluster-pool or kubernetes only' % (mode,)]
        data['cluster-pool-ipv%d-cidr' % family] = pod_cidr
        return docs, []
    return docs, ['cni %r is not one of %s' % (cni, ', '.join(CNIS))]


def schema_problems(docs, version, validator=None):
    """One message per object that does not validate against Kubernetes <major.minor of version>'s schema."""
    if validator is None:
        try:
            import kubernetes_validate as validator  # pylint: disable=import-outside-toplevel
        except ImportError:
            return ['the Python package kubernetes-validate is missing on the controller (meta/ee-requirements.txt)']
    minor = '.'.join(str(version).lstrip('v').split('.')[:2])
    crds = set()
    for doc in docs:
        if doc.get('kind') == 'CustomResourceDefinition' and isinstance(doc.get('spec'), dict):
            spec = doc['spec']
            for ver in spec.get('versions') or []:
                crds.add(('%s/%s' % (spec.get('group'), (ver or {}).get('name')), (spec.get('names') or {}).get('kind')))
    problems = []
    for doc in docs:
        try:
            validator.validate(doc, minor, True)
        except validator.utils.VersionNotSupportedError:
            return ['kubernetes-validate %s has no schemas for Kubernetes %s: use a release that has them' % (
                getattr(validator, '__version__', ''), minor)]
        except validator.SchemaNotFoundError:
            if (doc.get('apiVersion'), doc.get('kind')) not in crds:
                problems.append('%s: Kubernetes %s has no %s in %s and the manifest defines no CRD for it' % (
                    _name(doc), minor, doc.get('kind'), doc.get('apiVersion')))
        except validator.ValidationError as exc:
            where = '.'.join(str(part) for part in exc.absolute_path)
            problems.append('%s: %s%s' % (_name(doc), (where + ': ') if where else '', exc.message))
        except validator.InvalidSchemaError as exc:  # the bundled schema itself is broken: name it, not a traceback
            problems.append('%s: kubernetes-validate cannot check it: %s' % (_name(doc), getattr(exc, 'message', None) or exc))
    return problems


def cni_manifest(text, cni, pod_cidr, version, validator=None):
    """{'resources': the rendered objects, 'problems': every reason not to apply them}."""
    docs, problems = load(text)
    if problems:
        return {'resources': [], 'problems': problems}
    docs, problems = render(docs, cni, pod_cidr)
    if problems:
        return {'resources': [], 'problems': problems}
    problems = schema_problems(docs, version, validator)
    return {'resources': [] if problems else docs, 'problems': problems}
