"""A Kubernetes API server test double for the lab (test-side only, never shipped).

One process, python3 stdlib only (http.server + ssl, a thread per connection), that speaks
enough of the kube-apiserver's REST API for the real kubectl, the kubernetes Python client
(and so kubernetes.core) and helm to work against it:

  - HTTPS with client certificates: a certificate signed by --client-ca authenticates as
    user CN, groups O (+ system:authenticated); bootstrap tokens (Authorization: Bearer
    <id>.<secret>, the Secret kube-system/bootstrap-token-<id>, as --enable-bootstrap-token-auth)
    as system:bootstrap:<id>; anonymous requests (no certificate, no token) may only GET
    /version, the health endpoints and ConfigMap kube-public/cluster-info (kubeadm's
    discovery), anything else and a bad token: 401 Unauthorized (Status); a certificate from
    another CA fails the TLS handshake. --require-client-cert refuses a connection without a
    certificate in the handshake (ssl.CERT_REQUIRED) instead;
  - discovery (/version, /api, /api/v1, /apis, /apis/G, /apis/G/V), legacy form only (the
    aggregated apidiscovery.k8s.io/v2 Accept gets plain JSON, as kubectl falls back), and a
    minimal /openapi/v3 (per group-version, the PATCH operations with the fieldValidation
    parameter and x-kubernetes-group-version-kind: what kubectl apply's validation looks
    for; no schemas) and an empty /openapi/v2 (protobuf or JSON: kubectl's client-side
    validation, its fallback, then skips every kind as it does unknown ones);
  - CRUD of the built-in resources in BUILTINS and of custom resources: a created
    CustomResourceDefinition is Established at once, joins discovery and gets CRUD;
    labelSelector (=, ==, !=, in, notin, exists, !key, >, <), fieldSelector (any dotted
    path: metadata.name, metadata.namespace, spec.nodeName ...), limit/continue,
    dryRun=All, resourceVersion preconditions (409 Conflict), finalizers, generation;
  - PATCH: json-patch, merge-patch, strategic-merge-patch (patchMergeKey lists from the Go
    types in MERGE_KEYS, $patch replace/delete, $retainKeys, $setElementOrder,
    $deleteFromPrimitiveList; every other list is atomic, spec.taints included, as in the
    real NodeSpec; 415 for custom resources) and server-side apply (apply-patch+yaml:
    create or merge, managedFields per manager, fields a manager stops applying are
    removed, conflicts with other managers unless force=true);
  - the status subresource (writes to it change only .status, writes to the main resource
    keep the old .status), pods/eviction (deletes the pod), pods/binding (POST a v1 Binding
    {target: {kind: Node, name}}: sets spec.nodeName and the PodScheduled True condition, 409
    when the pod is already assigned, as the real BindingREST); a user system:node:<n> may write
    pods/status only of pods bound to <n> (NodeRestriction, 403 otherwise);
  - deletion propagation (DeleteOptions propagationPolicy in the body or the query, or
    orphanDependents): Orphan (also the default for batch/v1 Jobs, with the real server's
    Warning header) removes the ownerReferences to the object from its dependents at once;
    Foreground keeps an object that has dependents with deletionTimestamp and the
    foregroundDeletion finalizer; Background (every other default) deletes it at once. The
    dependents themselves are deleted by the kube-controller-manager double's garbage
    collector (Jobs' Pods), not here;
  - watch=true: chunked {"type","object"} lines from resourceVersion (410 Expired when it
    is older than this process's event log), until timeoutSeconds; sendInitialEvents;
  - Table output (Accept as=Table;g=meta.k8s.io;v=v1): kubectl's columns for nodes (NAME,
    STATUS, ROLES, AGE, VERSION; -o wide adds INTERNAL-IP ... CONTAINER-RUNTIME), pods,
    namespaces, configmaps, secrets, services, deployments, daemonsets, CRDs, and a
    CRD's additionalPrinterColumns; NAME/AGE for the rest;
  - /healthz, /readyz, /livez; authentication.k8s.io SelfSubjectReview (kubectl auth
    whoami) and authorization.k8s.io SelfSubjectAccessReview (always allowed);
  - certificates.k8s.io/v1 CertificateSigningRequests: spec.username/groups/uid filled from
    the requesting user on create, the status and approval subresources (approving and
    signing are the kube-controller-manager double's, lab/sim-packages/kubelet).

It also takes kube-apiserver's own command line (--secure-port, --bind-address,
--tls-cert-file, --tls-private-key-file, --client-ca-file, ...; every other --flag[=value]
is accepted and ignored), so the kubelet double runs it from kubeadm's static Pod manifest
as kube_apiserver.py; the --state-dir is then /var/lib/aifabric-sim/kubeapi.

State: with --etcd-servers (kubeadm's manifest names the node's etcd, with
--etcd-cafile/--etcd-certfile/--etcd-keyfile), in that etcd, as kube-apiserver keeps it:
each object a key /registry/<resource>[/<namespace>]/<name> (/registry/<group>/<resource>/...
outside the core group; --etcd-prefix), written with a compare on its mod_revision, which is
its resourceVersion; the objects in memory and the watch event log are fed by an etcd
watch, so API servers of one etcd share every object, resourceVersion and event (the value is
the object's JSON, not kube-apiserver's protobuf). Without --etcd-servers, every object is a
JSON file under --state-dir (objects/<group|core>/<resource>/<namespace|_cluster>/<name>.json)
plus the global resourceVersion counter. A restart keeps them either way. The namespaces
default, kube-system, kube-public and kube-node-lease (with their default ServiceAccount)
are created where they are missing.

What it does NOT do: no authorization (RBAC objects are stored, never enforced), no
admission beyond name and namespace checks, no schema validation or defaulting (nor CRD
schema pruning, or conversion between CRD versions), no controllers (pods are scheduled and
run only by the lab's kube-scheduler, kubelet and kube-controller-manager doubles, deployments
never roll out, garbage collection is the kube-controller-manager double's), namespaces are deleted at once with their objects), no aggregated discovery,
protobuf or CBOR, no HTTP/2, no exec/logs/port-forward/proxy, no field-level SSA
ownership of status or of fields inside atomic lists.

    python3 kubeapi.py --listen 127.0.0.1:6443 --tls-cert server.crt --tls-key server.key \
        --client-ca ca.crt --version 1.34.2 --state-dir /var/lib/kubeapi
    python3 kube_apiserver.py --secure-port=6443 --tls-cert-file=/etc/kubernetes/pki/apiserver.crt \
        --tls-private-key-file=/etc/kubernetes/pki/apiserver.key --client-ca-file=/etc/kubernetes/pki/ca.crt \
        --etcd-servers=https://127.0.0.1:2379 ... --version 1.34.2
"""
import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import signal
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
SUB_VERBS = ['get', 'patch', 'update']
MISSING = object()


class Resource(object):  # pylint: disable=too-many-instance-attributes
    """One served resource (group, version, plural) and what discovery says about it."""

    def __init__(self, gv, plural, kind, namespaced, short=(), status=False, subs=(), categories=(), verbs=None, crd=None):
        self.group, self.version = gv.rpartition('/')[::2] if '/' in gv else ('', gv)
        self.plural, self.kind, self.namespaced = plural, kind, namespaced
        self.short, self.status, self.subs, self.categories = list(short), status, tuple(subs), list(categories)
        self.verbs = verbs or VERBS
        self.crd = crd  # the CRD version dict of a custom resource
        self.virtual = verbs == ['create']  # reviews: answered, never stored

    @property
    def api_version(self):
        return '%s/%s' % (self.group, self.version) if self.group else self.version

    @property
    def qualified(self):
        return '%s.%s' % (self.plural, self.group) if self.group else self.plural

    def discovery(self):
        main = {'name': self.plural, 'singularName': self.kind.lower(), 'namespaced': self.namespaced, 'kind': self.kind,
                'verbs': self.verbs}
        for key, value in (('shortNames', self.short), ('categories', self.categories)):
            if value:
                main[key] = value
        if not self.crd:
            main['storageVersionHash'] = base64.b64encode(hashlib.sha256(self.qualified.encode()).digest()[:8]).decode()
        out = [main]
        for sub in (('status',) if self.status else ()) + self.subs:
            kind = {'eviction': 'Eviction', 'binding': 'Binding'}.get(sub, self.kind)
            out.append({'name': '%s/%s' % (self.plural, sub), 'singularName': '', 'namespaced': self.namespaced,
                        'kind': kind, 'verbs': ['create'] if sub in ('eviction', 'binding') else SUB_VERBS})
            if sub == 'eviction':
                out[-1].update(group='policy', version='v1')
        return out


BUILTINS = [
    Resource('v1', 'configmaps', 'ConfigMap', True, ['cm']),
    Resource('v1', 'endpoints', 'Endpoints', True, ['ep']),
    Resource('v1', 'events', 'Event', True, ['ev']),
    Resource('v1', 'namespaces', 'Namespace', False, ['ns'], status=True),
    Resource('v1', 'nodes', 'Node', False, ['no'], status=True),
    Resource('v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', True, ['pvc'], status=True),
    Resource('v1', 'persistentvolumes', 'PersistentVolume', False, ['pv'], status=True),
    Resource('v1', 'pods', 'Pod', True, ['po'], status=True, subs=('binding', 'eviction'), categories=['all']),
    Resource('v1', 'secrets', 'Secret', True),
    Resource('v1', 'serviceaccounts', 'ServiceAccount', True, ['sa']),
    Resource('v1', 'services', 'Service', True, ['svc'], status=True, categories=['all']),
    Resource('apps/v1', 'daemonsets', 'DaemonSet', True, ['ds'], status=True, categories=['all']),
    Resource('apps/v1', 'deployments', 'Deployment', True, ['deploy'], status=True, categories=['all']),
    Resource('apps/v1', 'replicasets', 'ReplicaSet', True, ['rs'], status=True, categories=['all']),
    Resource('apps/v1', 'statefulsets', 'StatefulSet', True, ['sts'], status=True, categories=['all']),
    Resource('batch/v1', 'jobs', 'Job', True, status=True, categories=['all']),
    Resource('batch/v1', 'cronjobs', 'CronJob', True, ['cj'], status=True, categories=['all']),
    Resource('coordination.k8s.io/v1', 'leases', 'Lease', True),
    Resource('node.k8s.io/v1', 'runtimeclasses', 'RuntimeClass', False),
    Resource('policy/v1', 'poddisruptionbudgets', 'PodDisruptionBudget', True, ['pdb'], status=True),
    Resource('apiextensions.k8s.io/v1', 'customresourcedefinitions', 'CustomResourceDefinition', False, ['crd', 'crds'],
             status=True, categories=['api-extensions']),
    Resource('rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', False),
    Resource('rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', False),
    Resource('rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', True),
    Resource('rbac.authorization.k8s.io/v1', 'roles', 'Role', True),
    Resource('storage.k8s.io/v1', 'storageclasses', 'StorageClass', False, ['sc']),
    Resource('scheduling.k8s.io/v1', 'priorityclasses', 'PriorityClass', False, ['pc']),
    Resource('authentication.k8s.io/v1', 'selfsubjectreviews', 'SelfSubjectReview', False, verbs=['create']),
    Resource('authorization.k8s.io/v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', False, verbs=['create']),
    Resource('certificates.k8s.io/v1', 'certificatesigningrequests', 'CertificateSigningRequest', False, ['csr'], status=True,
             subs=('approval',)),
]
CRD_KEY = ('apiextensions.k8s.io', 'customresourcedefinitions')
SYSTEM_NAMESPACES = ('default', 'kube-system', 'kube-public', 'kube-node-lease')
# strategic merge patch: the patchMergeKey of the Go types' merge lists (k8s.io/api), by field
# name (ports: containerPort in a container, port in a Service's spec); the other lists are atomic
MERGE_KEYS = {'containers': 'name', 'initContainers': 'name', 'ephemeralContainers': 'name', 'volumes': 'name',
              'volumeMounts': 'mountPath', 'volumeDevices': 'devicePath', 'env': 'name', 'imagePullSecrets': 'name',
              'conditions': 'type', 'addresses': 'type', 'ownerReferences': 'uid', 'hostAliases': 'ip',
              'topologySpreadConstraints': 'topologyKey', 'resourceClaims': 'name', 'ports': 'containerPort'}
PRIMITIVE_MERGE = ('finalizers', 'podCIDRs')
# never owned by a field manager
SERVER_META = ('name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields',
               'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink')
DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
BOOTSTRAP_TOKEN = re.compile(r'^([a-z0-9]{6})\.([a-z0-9]{16})$')
# what system:anonymous may read: system:public-info-viewer and kubeadm's cluster-info Role
ANONYMOUS_PATHS = ('/version', '/api/v1/namespaces/kube-public/configmaps/cluster-info')


class ApiError(Exception):
    """A failure answered as a metav1.Status."""

    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        out = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'message': self.message,
               'reason': self.reason, 'details': self.details if self.details is not None else {}, 'code': self.code}
        if self.details is None and self.code in (401, 403):
            del out['details']
        return out


def _details(res, name):
    out = {'name': name}
    if res.group:
        out['group'] = res.group
    out['kind'] = res.plural
    return out


def not_found(res, name):
    return ApiError(404, 'NotFound', '%s "%s" not found' % (res.qualified, name), _details(res, name))


def conflict(res, name, why='the object has been modified; please apply your changes to the latest version and try again'):
    return ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": %s' % (res.qualified, name, why), _details(res, name))


def invalid(res, name, field, value, why):
    kind = '%s.%s' % (res.kind, res.group) if res.group else res.kind
    details = dict(_details(res, name), kind=res.kind, causes=[{'reason': 'FieldValueInvalid', 'message': why, 'field': field}])
    return ApiError(422, 'Invalid', '%s "%s" is invalid: %s: Invalid value: "%s": %s' % (kind, name, field, value, why), details)


def bad_request(message):
    return ApiError(400, 'BadRequest', message)


def hmac_equal(a, b):
    return hmac.compare_digest(a.encode(), b.encode())


def expired(stamp):
    """A bootstrap token's expiration (RFC 3339) has passed; an unparsable one counts as expired."""
    if not stamp:
        return False
    try:
        when = datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when <= datetime.datetime.now(datetime.timezone.utc)


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def human_duration(seconds):  # noqa: C901 - k8s.io/apimachinery/pkg/util/duration.HumanDuration
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration, as kubectl's AGE column shows it."""
    seconds = int(seconds)
    if seconds < -1:
        return '<invalid>'
    if seconds < 0:
        return '0s'
    if seconds < 120:
        return '%ds' % seconds
    minutes, hours = seconds // 60, seconds // 3600
    if minutes < 10:
        return '%dm%ds' % (minutes, seconds % 60) if seconds % 60 else '%dm' % minutes
    if minutes < 180:
        return '%dm' % minutes
    if hours < 8:
        return '%dh%dm' % (hours, minutes % 60) if minutes % 60 else '%dh' % hours
    if hours < 48:
        return '%dh' % hours
    days = hours // 24
    if hours < 24 * 8:
        return '%dd%dh' % (days, hours % 24) if hours % 24 else '%dd' % days
    if hours < 24 * 365 * 2:
        return '%dd' % days
    if hours < 24 * 365 * 8:
        return '%dy%dd' % (days // 365, days % 365) if days % 365 else '%dy' % (days // 365)
    return '%dy' % (days // 365)


def age(obj):
    stamp = obj.get('metadata', {}).get('creationTimestamp')
    if not stamp:
        return '<unknown>'
    then = datetime.datetime.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())


# ---- selectors ---------------------------------------------------------------------------

LABEL_REQ = re.compile(r'^\s*(?:(?P<not>!)\s*(?P<nkey>[\w./-]+)|(?P<key>[\w./-]+)\s*(?:(?P<op>==|=|!=|>|<)\s*(?P<value>[\w.-]*)'
                       r'|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?)\s*$')


def parse_label_selector(text):
    """labels.Parse: a list of (key, op, values)."""
    reqs, depth, start = [], 0, 0
    parts = []
    for i, char in enumerate(text or ''):
        depth += {'(': 1, ')': -1}.get(char, 0)
        if char == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append((text or '')[start:])
    for part in parts:
        if not part.strip():
            continue
        m = LABEL_REQ.match(part)
        if not m:
            raise bad_request('unable to parse requirement: found %r, expected a label requirement' % part.strip())
        if m.group('not'):
            reqs.append((m.group('nkey'), '!', ()))
        elif m.group('setop'):
            reqs.append((m.group('key'), m.group('setop'), tuple(v.strip() for v in m.group('values').split(',') if v.strip())))
        elif m.group('op'):
            reqs.append((m.group('key'), {'==': '='}.get(m.group('op'), m.group('op')), (m.group('value'),)))
        else:
            reqs.append((m.group('key'), 'exists', ()))
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        have = labels.get(key)
        if op in ('exists', '!'):
            ok = (have is None) == (op == '!')
        elif op in ('=', 'in'):
            ok = have in values
        elif op in ('!=', 'notin'):
            ok = have not in values
        else:
            try:
                ok = have is not None and (int(have) > int(values[0]) if op == '>' else int(have) < int(values[0]))
            except ValueError:
                ok = False
        if not ok:
            return False
    return True


def parse_field_selector(text):
    reqs = []
    for part in (text or '').split(','):
        if not part.strip():
            continue
        m = re.match(r'^\s*([\w./-]+)\s*(!=|==|=)\s*(.*?)\s*$', part)
        if not m:
            raise bad_request('invalid selector: \'%s\'; can\'t understand \'%s\'' % (text, part))
        reqs.append((m.group(1), m.group(2) == '!=', m.group(3)))
    return reqs


def fields_match(reqs, obj):
    for path, negate, want in reqs:
        value = obj
        for key in path.split('.'):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        elif value is None:
            value = 'false' if want == 'false' else ''  # an unset bool (spec.unschedulable) is false
        if (str(value) == want) == negate:
            return False
    return True


# ---- patches -------------------------------------------------------------------------------

def merge_key(kind, names):
    if not names:
        return None
    if names[-1] == 'ports' and kind == 'Service' and names == ('spec', 'ports'):
        return 'port'
    return MERGE_KEYS.get(names[-1])


def json_merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge_patch(out.get(key), value)
    return out


def _pointer(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise ApiError(422, 'Invalid', 'invalid JSON pointer %r' % path)
    return [p.replace('~1', '/').replace('~0', '~') for p in path[1:].split('/')]


def _walk(doc, tokens):
    for tok in tokens:
        if isinstance(doc, list):
            doc = doc[int(tok)]
        else:
            doc = doc[tok]
    return doc


def json_patch(doc, ops):  # noqa: C901
    """RFC 6902 on a copy of doc."""
    if not isinstance(ops, list):
        raise bad_request('json: cannot unmarshal object into Go value of type jsonpatch.Patch')
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, tokens = op.get('op'), _pointer(op.get('path', ''))
        try:
            if kind in ('move', 'copy'):
                src = _pointer(op.get('from', ''))
                value = copy.deepcopy(_walk(doc, src))
                if kind == 'move':
                    doc = json_patch(doc, [{'op': 'remove', 'path': op['from']}])
                doc = json_patch(doc, [{'op': 'add', 'path': op['path'], 'value': value}])
                continue
            if kind == 'test':
                if _walk(doc, tokens) != op.get('value'):
                    raise ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request: '
                                   'testing value %s failed' % op.get('path'))
                continue
            if not tokens:
                doc = copy.deepcopy(op.get('value'))
                continue
            parent, last = _walk(doc, tokens[:-1]), tokens[-1]
            if kind == 'add':
                if isinstance(parent, list):
                    parent.insert(len(parent) if last == '-' else int(last), copy.deepcopy(op['value']))
                else:
                    parent[last] = copy.deepcopy(op['value'])
            elif kind in ('remove', 'replace'):
                index = int(last) if isinstance(parent, list) else last
                if isinstance(parent, dict) and last not in parent:
                    raise KeyError(last)
                if kind == 'remove':
                    del parent[index]
                else:
                    parent[index] = copy.deepcopy(op['value'])
            else:
                raise bad_request('Unexpected kind: %s' % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request: '
                           '%s operation does not apply: doc is missing path: "%s"' % (kind, op.get('path'))) from None
    return doc


def _strip_directives(value):
    if isinstance(value, dict):
        return dict((k, _strip_directives(v)) for k, v in value.items() if not k.startswith('$'))
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def strategic_merge(orig, patch, kind, names=()):  # noqa: C901
    """k8s.io/apimachinery strategicpatch for the lists in MERGE_KEYS / PRIMITIVE_MERGE."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get('$patch')
    if directive == 'replace':
        return _strip_directives(patch)
    if directive == 'delete':
        return MISSING
    out = dict(orig) if isinstance(orig, dict) else {}
    if '$retainKeys' in patch:
        out = dict((k, v) for k, v in out.items() if k in patch['$retainKeys'] or k in patch)
    for key, value in patch.items():
        if key.startswith('$'):
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            merged = strategic_merge(out.get(key), value, kind, names + (key,))
            if merged is MISSING:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _strategic_list(out.get(key), value, kind, names + (key,))
        else:
            out[key] = value
    for key, value in patch.items():
        field = key.partition('/')[2]
        if key.startswith('$deleteFromPrimitiveList/') and isinstance(out.get(field), list):
            out[field] = [v for v in out[field] if v not in value]
        elif key.startswith('$setElementOrder/') and isinstance(out.get(field), list):
            mkey = merge_key(kind, names + (field,))
            ident = (lambda item: item.get(mkey) if isinstance(item, dict) else None) if mkey else (lambda item: item)
            order = [ident(v) if mkey else v for v in value]
            out[field] = sorted(out[field], key=lambda item: order.index(ident(item)) if ident(item) in order else len(order))
    return out


def _strategic_list(orig, patch, kind, names):
    if names[-1] in PRIMITIVE_MERGE:
        orig = list(orig or [])
        return orig + [v for v in patch if v not in orig]
    key = merge_key(kind, names)
    if key is None or any(isinstance(i, dict) and i.get('$patch') == 'replace' for i in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get('$patch') == 'replace')]
    out = list(orig or [])
    for item in patch:
        if not isinstance(item, dict):
            continue
        found = [i for i, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item.get(key)]
        if item.get('$patch') == 'delete':
            out = [o for i, o in enumerate(out) if i not in found]
        elif found:
            out[found[0]] = strategic_merge(out[found[0]], item, kind, names)
        else:
            out.append(_strip_directives(item))
    return out


# ---- server-side apply: field sets -------------------------------------------------------

def leaves(value, kind, names=(), path=(), out=None):
    """The field paths of an object (fieldsV1 form: f:name, k:{key}, v:value) -> their values."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            if (not names and key in ('apiVersion', 'kind')) or (names == ('metadata',) and key in SERVER_META):
                continue
            leaves(sub, kind, names + (key,), path + ('f:' + key,), out)
    elif isinstance(value, list) and value and names[-1] in PRIMITIVE_MERGE:
        for item in value:
            out[path + ('v:' + json.dumps(item),)] = item
    elif isinstance(value, list) and value and merge_key(kind, names) and all(isinstance(i, dict) for i in value):
        key = merge_key(kind, names)
        for item in value:
            leaves(item, kind, names, path + ('k:' + json.dumps({key: item.get(key)}, separators=(',', ':')),), out)
    elif path:
        out[path] = value
    return out


def get_path(obj, path):
    for seg in path:
        kind, rest = seg.split(':', 1)
        if kind == 'f':
            obj = obj.get(rest, MISSING) if isinstance(obj, dict) else MISSING
        elif isinstance(obj, list):
            want = json.loads(rest)
            match = [i for i in obj if (i == want if kind == 'v' else isinstance(i, dict) and all(i.get(k) == v for k, v in want.items()))]
            obj = match[0] if match else MISSING
        else:
            obj = MISSING
        if obj is MISSING:
            return MISSING
    return obj


def del_path(obj, path):
    parent = get_path(obj, path[:-1])
    kind, rest = path[-1].split(':', 1)
    if kind == 'f' and isinstance(parent, dict):
        parent.pop(rest, None)
    elif isinstance(parent, list):
        item = get_path(parent, path[-1:])
        if item is not MISSING:
            parent.remove(item)


def fields_to_v1(paths):
    tree = {}
    for path in sorted(paths):
        node = tree
        for seg in path:
            node = node.setdefault(seg, {})
    return tree


def fields_from_v1(tree, path=()):
    out = set()
    for seg, sub in (tree or {}).items():
        if seg == '.':
            continue
        if sub and set(sub) != {'.'}:
            out |= fields_from_v1(sub, path + (seg,))
        else:
            out.add(path + (seg,))
    return out


def apply_merge(live, applied, kind, names=()):
    """Server-side apply's merge: maps merge, keyed lists merge by key, the rest is replaced."""
    if isinstance(applied, dict) and isinstance(live, dict):
        out = dict(live)
        for key, value in applied.items():
            out[key] = apply_merge(live.get(key, MISSING), value, kind, names + (key,))
        return out
    if isinstance(applied, list) and isinstance(live, list) and names:
        if names[-1] in PRIMITIVE_MERGE:
            return live + [v for v in applied if v not in live]
        key = merge_key(kind, names)
        if key:
            out = list(live)
            for item in applied:
                idx = [i for i, o in enumerate(out) if isinstance(o, dict) and isinstance(item, dict) and o.get(key) == item.get(key)]
                if idx:
                    out[idx[0]] = apply_merge(out[idx[0]], item, kind, names)
                else:
                    out.append(copy.deepcopy(item))
            return out
    return copy.deepcopy(applied)


def path_text(path):
    out = ''
    for seg in path:
        kind, rest = seg.split(':', 1)
        out += '.' + rest if kind == 'f' else '[%s]' % rest
    return out


# ---- Table output -----------------------------------------------------------------------------

def _col(name, priority=0, fmt='', ctype='string'):
    return {'name': name, 'type': ctype, 'format': fmt, 'description': name, 'priority': priority}


def _node_cells(obj):
    status, spec, labels = obj.get('status') or {}, obj.get('spec') or {}, obj['metadata'].get('labels') or {}
    ready = [c for c in status.get('conditions') or [] if c.get('type') == 'Ready']
    states = ['Unknown' if not ready else ('Ready' if ready[0].get('status') == 'True' else 'NotReady')]
    if spec.get('unschedulable'):
        states.append('SchedulingDisabled')
    roles = sorted(set([k.split('/', 1)[1] for k in labels if k.startswith('node-role.kubernetes.io/') and k.split('/', 1)[1]]
                       + [v for k, v in labels.items() if k == 'kubernetes.io/role' and v]))
    addr = dict((a.get('type'), a.get('address')) for a in reversed(status.get('addresses') or []))
    info = status.get('nodeInfo') or {}
    return [','.join(states), ','.join(roles) or '<none>', age(obj), info.get('kubeletVersion', ''),
            addr.get('InternalIP', '<none>'), addr.get('ExternalIP', '<none>'), info.get('osImage') or '<unknown>',
            info.get('kernelVersion') or '<unknown>', info.get('containerRuntimeVersion') or '<unknown>']


def _pod_cells(obj):
    spec, status = obj.get('spec') or {}, obj.get('status') or {}
    statuses = status.get('containerStatuses') or []
    ready = sum(1 for c in statuses if c.get('ready'))
    restarts = sum(int(c.get('restartCount') or 0) for c in statuses)
    phase = status.get('reason') or status.get('phase') or 'Pending'
    if obj['metadata'].get('deletionTimestamp'):
        phase = 'Terminating'
    return ['%d/%d' % (ready, len(spec.get('containers') or [])), phase, restarts, age(obj), status.get('podIP') or '<none>',
            spec.get('nodeName') or '<none>']


def _workload_cells(obj):
    spec, status = obj.get('spec') or {}, obj.get('status') or {}
    if obj['kind'] == 'DaemonSet':
        selector = ','.join('%s=%s' % kv for kv in sorted(((spec.get('template') or {}).get('spec') or {}).get('nodeSelector', {}).items()))
        return [status.get('desiredNumberScheduled', 0), status.get('currentNumberScheduled', 0), status.get('numberReady', 0),
                status.get('updatedNumberScheduled', 0), status.get('numberAvailable', 0), selector or '<none>', age(obj)]
    return ['%d/%d' % (status.get('readyReplicas', 0), spec.get('replicas', 1)), status.get('updatedReplicas', 0),
            status.get('availableReplicas', 0), age(obj)]


def _csr_cells(obj):
    spec, status = obj.get('spec') or {}, obj.get('status') or {}
    conditions = [c.get('type') for c in status.get('conditions') or [] if c.get('status', 'True') == 'True']
    if status.get('certificate'):
        conditions.append('Issued')
    seconds = spec.get('expirationSeconds')
    return [age(obj), spec.get('signerName', ''), spec.get('username', ''), human_duration(seconds) if seconds else '<none>',
            ','.join(conditions) or 'Pending']


PRINTERS = {
    'Node': ([_col('Status'), _col('Roles'), _col('Age'), _col('Version'), _col('Internal-IP', 1), _col('External-IP', 1),
              _col('OS-Image', 1), _col('Kernel-Version', 1), _col('Container-Runtime', 1)], _node_cells),
    'Pod': ([_col('Ready'), _col('Status'), _col('Restarts', ctype='integer'), _col('Age'), _col('IP', 1), _col('Node', 1)], _pod_cells),
    'Namespace': ([_col('Status'), _col('Age')], lambda o: [(o.get('status') or {}).get('phase', 'Active'), age(o)]),
    'ConfigMap': ([_col('Data', ctype='integer'), _col('Age')], lambda o: [len(o.get('data') or {}) + len(o.get('binaryData') or {}), age(o)]),
    'Secret': ([_col('Type'), _col('Data', ctype='integer'), _col('Age')], lambda o: [o.get('type', 'Opaque'), len(o.get('data') or {}), age(o)]),
    'Service': ([_col('Type'), _col('Cluster-IP'), _col('External-IP'), _col('Port(s)'), _col('Age')],
                lambda o: [(o.get('spec') or {}).get('type', 'ClusterIP'), (o.get('spec') or {}).get('clusterIP') or '<none>', '<none>',
                           ','.join('%s/%s' % (p.get('port'), p.get('protocol', 'TCP')) for p in (o.get('spec') or {}).get('ports') or [])
                           or '<none>', age(o)]),
    'Deployment': ([_col('Ready'), _col('Up-to-date', ctype='integer'), _col('Available', ctype='integer'), _col('Age')], _workload_cells),
    'DaemonSet': ([_col(n, ctype='integer') for n in ('Desired', 'Current', 'Ready', 'Up-to-date', 'Available')]
                  + [_col('Node Selector'), _col('Age')], _workload_cells),
    'CustomResourceDefinition': ([_col('Created At', fmt='date')], lambda o: [o['metadata'].get('creationTimestamp')]),
    'CertificateSigningRequest': ([_col('Age'), _col('SignerName'), _col('Requestor'), _col('RequestedDuration'), _col('Condition')],
                                  _csr_cells),
}


def _json_path(obj, expr):
    value = obj
    for part in re.findall(r'[^.\[\]]+|\[\d+\]', expr.strip().lstrip('.')):
        if part.startswith('['):
            value = value[int(part[1:-1])] if isinstance(value, list) and len(value) > int(part[1:-1]) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return value


def table_printer(res):
    if res.crd and res.crd.get('additionalPrinterColumns'):
        cols = res.crd['additionalPrinterColumns']
        defs = [_col(c['name'], c.get('priority', 0), c.get('format', ''), c.get('type', 'string')) for c in cols]

        def cells(obj):
            out = []
            for col in cols:
                value = _json_path(obj, col.get('jsonPath', ''))
                out.append(age({'metadata': {'creationTimestamp': value}}) if col.get('type') == 'date' and value else value)
            return out
        return defs, cells
    return PRINTERS.get(res.kind, ([_col('Age')], lambda o: [age(o)]))


def make_table(res, objs, include, rv, headers=True, version='v1'):
    defs, cells = table_printer(res)
    rows = []
    for obj in objs:
        row = {'cells': [obj['metadata']['name']] + cells(obj)}
        if include == 'Object':
            row['object'] = obj
        elif include != 'None':
            row['object'] = {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/v1', 'metadata': obj['metadata']}
        rows.append(row)
    name = _col('Name', fmt='name')
    name['description'] = 'Name must be unique within a namespace.'
    return {'kind': 'Table', 'apiVersion': 'meta.k8s.io/' + version, 'metadata': {'resourceVersion': str(rv)},
            'columnDefinitions': [name] + defs if headers else [], 'rows': rows}


# ---- the store ----------------------------------------------------------------------------------

class Etcd(object):
    """A client of etcd's v3 API through its JSON gateway (POST /v3/kv/range, /v3/kv/txn,
    /v3/watch on the client URL): what --etcd-servers, --etcd-cafile, --etcd-certfile and
    --etcd-keyfile name. Keys and values are base64 in the JSON, revisions int64 strings.
    One connection per thread and server, the next server on a connection failure."""

    def __init__(self, servers, cafile=None, certfile=None, keyfile=None, timeout=10):
        self.servers = [urlsplit(s.strip()) for s in servers.split(',') if s.strip()]
        for url in self.servers:
            if url.scheme not in ('http', 'https') or not url.hostname:
                raise ValueError('--etcd-servers: %r is not an http(s) URL' % url.geturl())
        self.context = None
        if any(url.scheme == 'https' for url in self.servers):
            self.context = ssl.create_default_context(cafile=cafile)
            if certfile:
                self.context.load_cert_chain(certfile, keyfile)
        self.timeout = timeout
        self.local = threading.local()

    def connect(self, url, timeout):
        if url.scheme == 'https':
            return http.client.HTTPSConnection(url.hostname, url.port or 2379, timeout=timeout, context=self.context)
        return http.client.HTTPConnection(url.hostname, url.port or 2379, timeout=timeout)

    def call(self, path, body):
        """The JSON answer of one request, from the first server that answers."""
        conns = self.local.__dict__.setdefault('conns', {})
        errors = []
        for url in self.servers:
            for _attempt in (1, 2):
                kept = conns.pop(url, None)
                conn = kept or self.connect(url, self.timeout)
                try:
                    conn.request('POST', path, json.dumps(body), {'Content-Type': 'application/json'})
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException) as err:
                    conn.close()
                    if kept is not None:  # a kept-alive connection the server has closed: once more, on a new one
                        continue
                    errors.append('%s: %s' % (url.netloc, err))
                    break
                conns[url] = conn
                try:
                    answer = json.loads(data or b'{}')
                except ValueError:
                    answer = {'error': data[:200].decode(errors='replace')}
                if resp.status != 200:  # etcd's own errors read "etcdserver: ..."
                    raise ApiError(500, 'InternalError', str(answer.get('error') or answer.get('message') or 'etcd: HTTP %d' % resp.status))
                return answer
        raise ApiError(500, 'InternalError', 'etcd cluster is unavailable or misconfigured; error #0: %s' % '; '.join(errors))

    def healthy(self, timeout=2):
        """Whether etcd answers a read in time, on a connection of its own: kube-apiserver's etcd health
        check (a Get of the key "health", 2 s), which its /healthz and /readyz report."""
        for url in self.servers:
            conn = self.connect(url, timeout)
            try:
                conn.request('POST', '/v3/kv/range', json.dumps({'key': self.b64('health'), 'count_only': True}),
                             {'Content-Type': 'application/json'})
                if conn.getresponse().status == 200:
                    return True
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
        return False

    @staticmethod
    def b64(text):
        return base64.b64encode(text.encode()).decode()

    @staticmethod
    def prefix_end(prefix):
        return prefix[:-1] + chr(ord(prefix[-1]) + 1)

    def range(self, prefix):
        """([(key, value, mod_revision)], revision) of every key under prefix."""
        answer = self.call('/v3/kv/range', {'key': self.b64(prefix), 'range_end': self.b64(self.prefix_end(prefix))})
        kvs = [(base64.b64decode(kv['key']).decode(), base64.b64decode(kv.get('value', '')), int(kv['mod_revision']))
               for kv in answer.get('kvs') or []]
        return kvs, int(answer['header']['revision'])

    def txn(self, key, mod_revision, put=None):
        """Put value (bytes) or, with put None, delete key, only if its mod_revision is the one
        given (0: only if it does not exist); the revision of the change, or None."""
        compare = {'key': self.b64(key), 'result': 'EQUAL'}
        if mod_revision:
            compare.update(target='MOD', mod_revision=str(mod_revision))
        else:
            compare.update(target='CREATE', create_revision='0')
        op = ({'request_put': {'key': self.b64(key), 'value': base64.b64encode(put).decode()}} if put is not None
              else {'request_delete_range': {'key': self.b64(key)}})
        answer = self.call('/v3/kv/txn', {'compare': [compare], 'success': [op]})
        return int(answer['header']['revision']) if answer.get('succeeded') else None

    def compact(self, revision):
        """Drop the history before revision (kube-apiserver's periodic compaction); a revision
        compacted already is no error."""
        try:
            self.call('/v3/kv/compaction', {'revision': str(revision)})
        except ApiError as err:
            if 'compacted' not in err.message:
                raise

    def watch(self, prefix, start, stopping):
        """Yield each watch response's events under prefix from revision start, until stopping();
        raises OSError when the stream ends or no server answers."""
        body = json.dumps({'create_request': {'key': self.b64(prefix), 'range_end': self.b64(self.prefix_end(prefix)),
                                              'start_revision': str(start)}})
        for url in self.servers:
            conn = self.connect(url, 5)
            try:
                conn.request('POST', '/v3/watch', body, {'Content-Type': 'application/json'})
                resp = conn.getresponse()
                if resp.status != 200:
                    raise OSError('watch: HTTP %d' % resp.status)
                conn.sock.settimeout(None)  # events come when they come; a closed stream ends the read
                buf = b''
                while not stopping():
                    chunk = resp.read1(65536)
                    if not chunk:
                        raise OSError('watch stream closed by %s' % url.netloc)
                    buf += chunk
                    while b'\n' in buf:
                        line, buf = buf.split(b'\n', 1)
                        if line.strip():
                            yield json.loads(line).get('result') or {}
                return
            except (OSError, http.client.HTTPException, ValueError):
                if url is self.servers[-1]:
                    raise
            finally:
                conn.close()


class Store(object):  # pylint: disable=too-many-public-methods
    """Every object, in memory (the watch cache); the resourceVersion; the event log. Kept
    either in etcd (etcd given: each object a key, its mod_revision the resourceVersion, the
    cache and the log fed by etcd's watch, so that several API servers share them) or as JSON
    files under state_dir with a counter of its own."""

    LOG_SIZE = 20000
    WRITE_WAIT = 60  # seconds a write waits for its own event from etcd's watch

    def __init__(self, state_dir, etcd=None, prefix='/registry', compaction_interval=300):
        self.dir, self.etcd, self.prefix = state_dir, etcd, prefix.rstrip('/') + '/'
        self.cond = threading.Condition(threading.RLock())
        self.objects = {}  # (group, plural) -> {(namespace, name): obj}
        self.resources = {}  # (group, version, plural) -> Resource
        for res in BUILTINS:
            self.resources[(res.group, res.version, res.plural)] = res
        self.rv = 0
        self.log = []  # (rv, type, (group, plural), obj, old)
        self.stopping = False
        if etcd:
            self._load_etcd()
        else:
            self._load()
        self.log_floor = self.rv
        if etcd:
            threading.Thread(target=self._watch_etcd, name='etcd-watch', daemon=True).start()
            if compaction_interval > 0:
                threading.Thread(target=self._compact_etcd, args=(compaction_interval,), name='etcd-compaction', daemon=True).start()
        for ns in SYSTEM_NAMESPACES:
            if ('', ns) not in self.objects.get(('', 'namespaces'), {}):
                try:
                    self.create(self.resource('', 'v1', 'namespaces'), None, {'metadata': {'name': ns}}, 'kube-apiserver')
                except ApiError as err:  # another API server of the same etcd made it first
                    if err.code != 409:
                        raise

    def bootstrap_user(self, token):
        """(name, groups) of a valid bootstrap token (k8s.io/cluster-bootstrap), else None."""
        m = BOOTSTRAP_TOKEN.match(token or '')
        if not m:
            return None
        with self.cond:
            secret = self.objects.get(('', 'secrets'), {}).get(('kube-system', 'bootstrap-token-' + m.group(1)))
        if not secret or secret.get('type') != 'bootstrap.kubernetes.io/token':
            return None
        data = {}
        for key, value in (secret.get('data') or {}).items():
            try:
                data[key] = base64.b64decode(value).decode()
            except (ValueError, UnicodeDecodeError):
                data[key] = ''
        if data.get('token-id', m.group(1)) != m.group(1) or not hmac_equal(data.get('token-secret', ''), m.group(2)):
            return None
        if data.get('usage-bootstrap-authentication') != 'true' or expired(data.get('expiration')):
            return None
        extra = [g.strip() for g in data.get('auth-extra-groups', '').split(',') if g.strip()]
        return 'system:bootstrap:' + m.group(1), ['system:bootstrappers'] + extra + ['system:authenticated']

    # -- persistence
    def _file(self, res_key, ns, name):
        return os.path.join(self.dir, 'objects', res_key[0] or 'core', res_key[1], ns or '_cluster', name + '.json')

    def _load(self):
        os.makedirs(os.path.join(self.dir, 'objects'), exist_ok=True)
        try:
            with open(os.path.join(self.dir, 'resourceVersion')) as f:
                self.rv = int(f.read().strip() or 0)
        except FileNotFoundError:
            self.rv = 0
        root = os.path.join(self.dir, 'objects')
        for dirpath, _dirs, files in os.walk(root):
            for fname in files:
                if not fname.endswith('.json'):
                    continue
                rel = os.path.relpath(dirpath, root).split(os.sep)
                with open(os.path.join(dirpath, fname)) as f:
                    obj = json.load(f)
                group = '' if rel[0] == 'core' else rel[0]
                ns = '' if rel[2] == '_cluster' else rel[2]
                self.objects.setdefault((group, rel[1]), {})[(ns, obj['metadata']['name'])] = obj
                self.rv = max(self.rv, int(obj['metadata'].get('resourceVersion') or 0))
        for crd in self.objects.get(CRD_KEY, {}).values():
            self._register(crd)

    def _save(self, res_key, obj, deleted=False):
        meta = obj['metadata']
        path = self._file(res_key, meta.get('namespace'), meta['name'])
        if deleted:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path + '.tmp', 'w') as f:
                json.dump(obj, f, indent=1, sort_keys=True)
            os.replace(path + '.tmp', path)
        with open(os.path.join(self.dir, 'resourceVersion.tmp'), 'w') as f:
            f.write('%d\n' % self.rv)
        os.replace(os.path.join(self.dir, 'resourceVersion.tmp'), os.path.join(self.dir, 'resourceVersion'))

    def _record(self, kind, res_key, obj, old=None):
        self.log.append((self.rv, kind, res_key, obj, old))
        if len(self.log) > self.LOG_SIZE:
            self.log_floor = self.log[0][0]
            del self.log[0]
        self.cond.notify_all()

    # -- etcd
    def _etcd_key(self, res_key, ns, name):
        """kube-apiserver's layout: /registry/<resource>[/<namespace>]/<name> for the core group,
        /registry/<group>/<resource>[/<namespace>]/<name> for the others."""
        return self.prefix + '/'.join([p for p in (res_key[0], res_key[1], ns) if p] + [name])

    def _etcd_parse(self, key):
        """(res_key, namespace, name) of an etcd key, or None for a key that is not an object's."""
        parts = key[len(self.prefix):].split('/')
        core = ('', 'v1', parts[0]) in self.resources
        group, rest = ('', parts) if core else (parts[0], parts[1:])
        if len(rest) not in (2, 3) or not all(rest):
            return None
        return (group, rest[0]), (rest[1] if len(rest) == 3 else ''), rest[-1]

    def _etcd_object(self, value, mod_revision):
        obj = json.loads(value)
        obj['metadata']['resourceVersion'] = str(mod_revision)
        return obj

    def _load_etcd(self):
        """Every object from etcd at its current revision (at start, and after the watch fell
        behind a compaction: the event log then starts again from there)."""
        self.objects, self.log = {}, []
        deadline = time.time() + 60
        while True:  # kube-apiserver waits for etcd at start-up (the kubelet starts both static Pods at once)
            try:
                kvs, self.rv = self.etcd.range(self.prefix)
                break
            except ApiError as err:
                if time.time() > deadline:
                    raise
                sys.stderr.write('kubeapi: waiting for etcd: %s\n' % err.message)
                time.sleep(1)
        for key, value, mod in kvs:
            where = self._etcd_parse(key)
            if where:
                self.objects.setdefault(where[0], {})[(where[1], where[2])] = self._etcd_object(value, mod)
        for crd in self.objects.get(CRD_KEY, {}).values():
            self._register(crd)
        self.log_floor = self.rv

    def _watch_etcd(self):
        """The cache and the event log follow etcd: every change of any API server lands here."""
        while not self.stopping:
            try:
                for result in self.etcd.watch(self.prefix, self.rv + 1, lambda: self.stopping):
                    if result.get('compact_revision') and int(result['compact_revision']) > self.rv + 1:
                        sys.stderr.write('kubeapi: etcd watch: revision %d compacted; listing again\n' % (self.rv + 1))
                        with self.cond:
                            self._load_etcd()
                            self.cond.notify_all()
                        break
                    with self.cond:
                        for event in result.get('events') or []:
                            self._etcd_event(event)
            except (OSError, ApiError, ValueError, KeyError) as err:
                if not self.stopping:
                    sys.stderr.write('kubeapi: etcd watch: %s; again in 1s\n' % err)
                    time.sleep(1)

    def _compact_etcd(self, interval):
        """As kube-apiserver (--etcd-compaction-interval): every interval, compact to the
        revision of the round before, so that etcd keeps a bounded history."""
        previous = None
        while not self.stopping:
            time.sleep(interval)
            try:
                if previous:
                    self.etcd.compact(previous)
                previous = self.rv
            except ApiError as err:
                sys.stderr.write('kubeapi: etcd compaction: %s\n' % err.message)

    def _etcd_event(self, event):
        kv = event['kv']
        rev, where = int(kv['mod_revision']), self._etcd_parse(base64.b64decode(kv['key']).decode())
        if rev <= self.rv or not where:
            return
        key, ns, name = where
        items = self.objects.setdefault(key, {})
        old = items.get((ns, name))
        self.rv = rev
        if event.get('type') == 'DELETE':
            if old is not None:
                del items[(ns, name)]
                if key == CRD_KEY:
                    self._unregister(old)
                gone = copy.deepcopy(old)
                gone['metadata']['resourceVersion'] = str(rev)
                self._record('DELETED', key, gone)
            return
        obj = self._etcd_object(base64.b64decode(kv.get('value', '')), rev)
        items[(ns, name)] = obj
        if key == CRD_KEY:
            self._register(obj)
        self._record('ADDED' if old is None else 'MODIFIED', key, obj, old)

    def _etcd_write(self, key, obj, old, delete=False):
        """obj written to (or, delete, removed from) etcd if the stored object is still old's
        resourceVersion; then the cache has it. The cached object, or the deleted one."""
        meta = obj['metadata']
        ns, name = meta.get('namespace', ''), meta['name']
        value = None
        if not delete:
            stored = copy.deepcopy(obj)
            stored['metadata'].pop('resourceVersion', None)  # etcd's mod_revision is the resourceVersion
            value = json.dumps(stored, sort_keys=True, separators=(',', ':')).encode()
        expect = int(old['metadata']['resourceVersion']) if old is not None else 0
        rev = self.etcd.txn(self._etcd_key(key, ns, name), expect, value)
        details = {'name': name, 'kind': key[1]}
        if key[0]:
            details['group'] = key[0]
        qualified = '%s.%s' % (key[1], key[0]) if key[0] else key[1]
        if rev is None and old is None:
            raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (qualified, name), details)
        if rev is None:
            raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                           'please apply your changes to the latest version and try again' % (qualified, name), details)
        deadline = time.time() + self.WRITE_WAIT
        with self.cond:
            while self.rv < rev:
                if time.time() > deadline or self.stopping:
                    raise ApiError(504, 'Timeout', 'resourceVersion %d not seen in etcd\'s watch in %ds' % (rev, self.WRITE_WAIT))
                self.cond.wait(0.5)
        if delete:
            gone = copy.deepcopy(obj)
            gone['metadata']['resourceVersion'] = str(rev)
            return gone
        return self.objects[key].get((ns, name)) or dict(obj, metadata=dict(meta, resourceVersion=str(rev)))

    def _put(self, key, obj, old=None):
        """Store obj, a new object (old None) or old's successor: its new resourceVersion, the
        cache, the event."""
        if self.etcd:
            return self._etcd_write(key, obj, old)
        obj['metadata']['resourceVersion'] = self._bump()
        self.objects.setdefault(key, {})[(obj['metadata'].get('namespace', ''), obj['metadata']['name'])] = obj
        if key == CRD_KEY:
            self._register(obj)
        self._save(key, obj)
        self._record('ADDED' if old is None else 'MODIFIED', key, obj, old)
        return obj

    # -- CRDs
    def _register(self, crd):
        spec = crd.get('spec') or {}
        names = spec.get('names') or {}
        self._unregister(crd)
        for ver in spec.get('versions') or []:
            if ver.get('served', True):
                res = Resource('%s/%s' % (spec['group'], ver['name']), names['plural'], names['kind'], spec.get('scope') == 'Namespaced',
                               names.get('shortNames') or (), status='status' in (ver.get('subresources') or {}),
                               categories=names.get('categories') or (), crd=ver)
                self.resources[(res.group, res.version, res.plural)] = res

    def _unregister(self, crd):
        spec = crd.get('spec') or {}
        for key in [k for k, r in self.resources.items() if r.crd is not None and (k[0], k[2]) == (spec.get('group'), (spec.get('names') or {}).get('plural'))]:
            del self.resources[key]

    def resource(self, group, version, plural):
        return self.resources.get((group, version, plural))

    def groups(self):
        out = {}
        for res in self.resources.values():
            out.setdefault(res.group, [])
            if res.version not in out[res.group]:
                out[res.group].append(res.version)
        return out

    # -- reads
    def get(self, res, ns, name):
        with self.cond:
            obj = self.objects.get((res.group, res.plural), {}).get((ns or '', name))
            if obj is None:
                raise not_found(res, name)
            return self.view(res, obj)

    @staticmethod
    def view(res, obj):
        if obj.get('apiVersion') != res.api_version:  # a CRD's other version: no conversion
            obj = dict(obj, apiVersion=res.api_version)
        return obj

    def list(self, res, ns, lsel, fsel):
        with self.cond:
            items = self.objects.get((res.group, res.plural), {})
            out = [self.view(res, items[k]) for k in sorted(items) if (not ns or k[0] == ns)
                   and labels_match(lsel, items[k]['metadata'].get('labels')) and fields_match(fsel, items[k])]
            return out, self.rv

    # -- writes
    def _bump(self):
        self.rv += 1
        return str(self.rv)

    def create(self, res, ns, body, manager, dry_run=False, apply_manager=None):  # noqa: C901
        if not isinstance(body, dict):
            raise bad_request('the body of the request was in an unknown format')
        with self.cond:
            obj = copy.deepcopy(body)
            meta = obj.setdefault('metadata', {})
            if not isinstance(meta, dict):
                raise bad_request('metadata must be an object')
            if res.namespaced:
                if meta.get('namespace') and ns and meta['namespace'] != ns:
                    raise bad_request('the namespace of the provided object does not match the namespace sent on the request')
                meta['namespace'] = ns = ns or meta.get('namespace') or 'default'
                if ('', ns) not in self.objects.get(('', 'namespaces'), {}):
                    raise ApiError(404, 'NotFound', 'namespaces "%s" not found' % ns, {'name': ns, 'kind': 'namespaces'})
            else:
                meta.pop('namespace', None)
            if not meta.get('name') and meta.get('generateName'):
                meta['name'] = meta['generateName'] + ''.join(random.choice('bcdfghjklmnpqrstvwxz2456789') for _i in range(5))
            name = meta.get('name') or ''
            if not name:
                raise invalid(res, '', 'metadata.name', '', 'name or generateName is required')
            self._check_name(res, name)
            if (ns or '', name) in self.objects.get((res.group, res.plural), {}):
                raise ApiError(409, 'AlreadyExists', '%s "%s" already exists' % (res.qualified, name), _details(res, name))
            obj['apiVersion'], obj['kind'] = res.api_version, res.kind
            for key in ('deletionTimestamp', 'deletionGracePeriodSeconds', 'resourceVersion', 'selfLink'):
                meta.pop(key, None)
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now(), generation=1)
            self._defaults(res, obj)
            fields = set(leaves(obj, res.kind))
            meta['managedFields'] = [] if not manager else [self._entry(res, manager, 'Update', fields)]
            if apply_manager:  # server-side apply creating the object: the manager owns what it applied
                meta['managedFields'] = [self._entry(res, apply_manager, 'Apply', set(leaves(body, res.kind)))]
            if dry_run:
                return obj
            obj = self._put((res.group, res.plural), obj)
            if res.kind == 'Namespace' and not res.group:
                try:
                    self.create(self.resource('', 'v1', 'serviceaccounts'), name, {'metadata': {'name': 'default'}}, 'kube-controller-manager')
                except ApiError as err:  # another API server of the same etcd made it first
                    if err.code != 409:
                        raise
            return obj

    @staticmethod
    def _check_name(res, name):
        if res.group == 'rbac.authorization.k8s.io':
            ok, why = name not in ('.', '..') and '/' not in name and '%' not in name, 'may not contain \'/\' or \'%\''
        elif res.kind == 'Namespace':
            ok = bool(DNS_LABEL.match(name)) and len(name) <= 63
            why = ('a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end '
                   'with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is '
                   '\'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')')
        else:
            ok = bool(DNS_SUBDOMAIN.match(name)) and len(name) <= 253
            why = ('a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start '
                   'and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is '
                   '\'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')')
        if not ok:
            raise invalid(res, name, 'metadata.name', name, why)

    def _defaults(self, res, obj):
        if res.group == '' and res.kind == 'Namespace':
            obj['metadata'].setdefault('labels', {})['kubernetes.io/metadata.name'] = obj['metadata']['name']
            obj.setdefault('spec', {}).setdefault('finalizers', ['kubernetes'])
            obj.setdefault('status', {})['phase'] = 'Active'
        elif res.group == '' and res.kind == 'Secret':
            obj.setdefault('type', 'Opaque')
            for key, value in (obj.pop('stringData', None) or {}).items():
                obj.setdefault('data', {})[key] = base64.b64encode(value.encode()).decode()
        elif res.group == '' and res.kind == 'Pod':
            obj.setdefault('status', {}).setdefault('phase', 'Pending')
        elif res.group == '' and res.kind == 'Service':
            spec = obj.setdefault('spec', {})
            spec.setdefault('type', 'ClusterIP')
            if spec['type'] != 'ExternalName' and not spec.get('clusterIP'):
                digest = hashlib.sha256(('%s/%s' % (obj['metadata'].get('namespace'), obj['metadata']['name'])).encode()).digest()
                spec['clusterIP'] = '10.96.%d.%d' % (digest[0], max(digest[1], 2))
                spec['clusterIPs'] = [spec['clusterIP']]
        elif (res.group, res.plural) == CRD_KEY:
            self._crd_status(res, obj)

    def _crd_status(self, res, obj):
        spec = obj.get('spec') or {}
        names = dict(spec.get('names') or {})
        if not spec.get('group') or not names.get('plural') or not names.get('kind') or not spec.get('versions'):
            raise invalid(res, obj['metadata']['name'], 'spec', '', 'group, names.plural, names.kind and versions are required')
        if obj['metadata']['name'] != '%s.%s' % (names['plural'], spec['group']):
            raise invalid(res, obj['metadata']['name'], 'metadata.name', obj['metadata']['name'], 'must be spec.names.plural+"."+spec.group')
        names.setdefault('singular', names['kind'].lower())
        names.setdefault('listKind', names['kind'] + 'List')
        stamp = now()
        # a condition that stays True keeps its transition time (the apiextensions controller writes no change)
        before = dict((c.get('type'), c.get('lastTransitionTime')) for c in (obj.get('status') or {}).get('conditions') or []
                      if isinstance(c, dict) and c.get('status') == 'True')
        obj['status'] = {
            'acceptedNames': names, 'storedVersions': [v['name'] for v in spec['versions'] if v.get('storage')] or [spec['versions'][0]['name']],
            'conditions': [{'type': t, 'status': 'True', 'lastTransitionTime': before.get(t) or stamp, 'reason': r, 'message': m} for t, r, m in (
                ('NamesAccepted', 'NoConflicts', 'no conflicts found'), ('Established', 'InitialNamesAccepted', 'the initial names have been accepted'))]}

    @staticmethod
    def _entry(res, manager, operation, fields, subresource=None):
        entry = {'manager': manager, 'operation': operation, 'apiVersion': res.api_version, 'time': now(),
                 'fieldsType': 'FieldsV1', 'fieldsV1': fields_to_v1(fields)}
        if subresource:
            entry['subresource'] = subresource
        return entry

    def update(self, res, ns, name, body, manager, subresource=None, dry_run=False):
        """PUT: replace the object (or its status)."""
        with self.cond:
            old = self.get(res, ns, name)
            if not isinstance(body, dict) or not isinstance(body.get('metadata', {}), dict):
                raise bad_request('the body of the request was in an unknown format')
            if (body.get('metadata') or {}).get('name', name) != name:
                raise bad_request('the name of the object (%s) does not match the name on the URL (%s)' % (body['metadata']['name'], name))
            return self._commit(res, old, copy.deepcopy(body), manager, 'Update', subresource, dry_run)

    def patch(self, res, ns, name, ptype, body, manager, force=False, subresource=None, dry_run=False):  # noqa: C901
        with self.cond:
            if ptype == 'apply':
                return self._apply(res, ns, name, body, manager, force, subresource, dry_run)
            old = self.get(res, ns, name)
            if ptype == 'json':
                new = json_patch(old, body)
            elif ptype == 'merge':
                if not isinstance(body, dict):
                    raise bad_request('json: cannot unmarshal array into Go value of type map[string]interface {}')
                new = json_merge_patch(old, body)
            else:
                if res.crd is not None:
                    raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: '
                                   'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
                if not isinstance(body, dict):
                    raise bad_request('json: cannot unmarshal array into Go value of type map[string]interface {}')
                new = strategic_merge(old, body, res.kind)
            if not isinstance(new, dict):
                raise bad_request('the patched object is not an object')
            return self._commit(res, old, new, manager, 'Update', subresource, dry_run)

    def _apply(self, res, ns, name, applied, manager, force, subresource, dry_run):  # noqa: C901
        if not manager:
            raise bad_request('PATCH /%s/%s: fieldManager is required for apply requests' % (res.qualified, name))
        if not isinstance(applied, dict):
            raise bad_request('the body of the request was in an unknown format')
        meta = applied.setdefault('metadata', {})
        if meta.get('name', name) != name:
            raise bad_request('the name of the object (%s) does not match the name on the URL (%s)' % (meta.get('name'), name))
        meta['name'] = name
        if res.status and subresource != 'status':
            applied.pop('status', None)
        try:
            old = self.get(res, ns, name)
        except ApiError:
            return self.create(res, ns, applied, None, dry_run, apply_manager=manager)
        want = leaves(applied, res.kind)
        owners = [(m, fields_from_v1(m.get('fieldsV1'))) for m in old['metadata'].get('managedFields') or []]
        mine = [m for m in owners if (m[0]['manager'], m[0]['operation'], m[0].get('subresource')) == (manager, 'Apply', subresource)]
        conflicts = []
        for path, value in want.items():
            live = get_path(old, path)
            if live is MISSING or live == value:
                continue
            conflicts += [(m['manager'], path) for m, fs in owners if path in fs and m['manager'] != manager]
        if conflicts and not force:
            raise ApiError(409, 'Conflict', 'Apply failed with %d conflict%s: %s' % (
                len(conflicts), 's' if len(conflicts) > 1 else '',
                '\n'.join('conflict with "%s": %s' % (m, path_text(p)) for m, p in conflicts)),
                dict(_details(res, name), causes=[{'reason': 'FieldManagerConflict', 'message': 'conflict with "%s"' % m, 'field': path_text(p)}
                                                  for m, p in conflicts]))
        new = copy.deepcopy(apply_merge(old, applied, res.kind))
        others = set().union(*[fs for m, fs in owners if m['manager'] != manager]) if owners else set()
        for path in (mine[0][1] if mine else set()) - set(want) - others:
            del_path(new, path)
        entries = []
        for entry, fs in owners:
            if entry is (mine[0][0] if mine else None):
                continue
            if force:
                fs = fs - set(p for _m, p in conflicts)
            if fs:
                entries.append(dict(entry, fieldsV1=fields_to_v1(fs)))
        entries.append(self._entry(res, manager, 'Apply', set(want), subresource))
        new['metadata']['managedFields'] = entries
        return self._commit(res, old, new, None, 'Apply', subresource, dry_run)

    def _commit(self, res, old, new, manager, operation, subresource, dry_run):  # noqa: C901
        """The common end of PUT, PATCH and apply: server fields, status rules, no-op, managedFields, save."""
        new = copy.deepcopy(new)  # the patches share unchanged subtrees with old, which stays as it is (the event log holds it)
        meta, old_meta = new.setdefault('metadata', {}), old['metadata']
        want_rv = meta.get('resourceVersion')
        if want_rv and want_rv != old_meta.get('resourceVersion'):
            raise conflict(res, old_meta['name'])
        if subresource == 'approval':  # only status.conditions (Approved, Denied) change
            result = copy.deepcopy(old)
            conditions = copy.deepcopy((new.get('status') or {}).get('conditions') or [])
            for cond in conditions:
                cond.setdefault('status', 'True')
                cond.setdefault('lastUpdateTime', now())
                cond.setdefault('lastTransitionTime', cond['lastUpdateTime'])
            types = set(c.get('type') for c in conditions)
            if {'Approved', 'Denied'} <= types:
                raise invalid(res, old_meta['name'], 'status.conditions', 'Approved', 'Approved and Denied conditions are mutually exclusive')
            result.setdefault('status', {})['conditions'] = conditions
            new, meta = result, result['metadata']
        elif subresource == 'status':
            result = copy.deepcopy(old)
            if 'status' in new:
                result['status'] = new['status']
            else:
                result.pop('status', None)
            if operation == 'Apply':
                result['metadata']['managedFields'] = meta.get('managedFields')
            new, meta = result, result['metadata']
        elif subresource == 'binding':  # Store.bind: spec.nodeName and status.conditions change
            pass
        elif res.status:
            if 'status' in old:
                new['status'] = copy.deepcopy(old['status'])
            else:
                new.pop('status', None)
        new['apiVersion'], new['kind'] = res.api_version, res.kind
        for key in ('name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds'):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if operation != 'Apply':
            meta['managedFields'] = old_meta.get('managedFields') or []
        if res.kind == 'Secret' and not res.group:
            self._defaults(res, new)
        if (res.group, res.plural) == CRD_KEY:
            self._crd_status(res, new)
        meta['resourceVersion'] = old_meta['resourceVersion']
        if self._same(new, old):
            return old
        if self._spec(new) != self._spec(old):
            meta['generation'] = int(old_meta.get('generation') or 1) + 1
        if operation != 'Apply' and manager:
            self._own(res, old, new, manager, subresource)
        if dry_run:
            return new
        if meta.get('deletionTimestamp') and not meta.get('finalizers'):  # the last finalizer gone: deleted
            return self._remove(res, new)
        return self._put((res.group, res.plural), new, old)

    @staticmethod
    def _same(new, old):
        """No change (managedFields compared without their times or order: an apply re-appends its
        manager's entry): no new resourceVersion, no event, as the real no-op apply."""
        def strip(obj):
            meta = dict(obj['metadata'])
            entries = [dict((k, v) for k, v in m.items() if k != 'time') for m in meta.get('managedFields') or []]
            meta['managedFields'] = sorted(entries, key=lambda m: json.dumps(m, sort_keys=True))
            return dict(obj, metadata=meta)
        return strip(new) == strip(old)

    @staticmethod
    def _spec(obj):
        return dict((k, v) for k, v in obj.items() if k not in ('metadata', 'status'))

    def _own(self, res, old, new, manager, subresource):
        """An Update takes the fields it changed from every other manager."""
        before, after = leaves(old, res.kind), leaves(new, res.kind)
        changed = set(p for p in after if before.get(p, MISSING) != after[p]) | (set(before) - set(after))
        entries, mine = [], None
        for entry in new['metadata'].get('managedFields') or []:
            fs = fields_from_v1(entry.get('fieldsV1'))
            if (entry['manager'], entry['operation'], entry.get('subresource')) == (manager, 'Update', subresource):
                mine = fs
                continue
            if fs - changed:
                entries.append(dict(entry, fieldsV1=fields_to_v1(fs - changed)))
        fields = ((mine or set()) - (set(before) - set(after))) | (changed & set(after))
        if fields:
            entries.append(self._entry(res, manager, 'Update', fields, subresource))
        new['metadata']['managedFields'] = entries

    def bind(self, res, ns, name, body, manager, dry_run=False):
        """POST pods/<name>/binding (pkg/registry/core/pod/storage BindingREST): spec.nodeName, the
        binding's annotations, condition PodScheduled True; 409 when already assigned."""
        if not isinstance(body, dict):
            raise bad_request('the body of the request was in an unknown format')
        target = body.get('target') or {}
        binding = Resource('v1', 'bindings', 'Binding', True)
        if (body.get('metadata') or {}).get('name', name) != name:
            raise bad_request('the name of the object (%s) does not match the name on the URL (%s)' % (body['metadata']['name'], name))
        if target.get('kind') not in (None, '', 'Node'):
            raise invalid(binding, name, 'target.kind', target.get('kind'), 'supported values: "Node"')
        if not target.get('name'):
            raise invalid(binding, name, 'target.name', '', 'Required value')
        with self.cond:
            old = self.get(res, ns, name)
            busy = None
            if old['metadata'].get('deletionTimestamp'):
                busy = 'pod %s is being deleted, cannot be assigned to a host' % name
            elif (old.get('spec') or {}).get('nodeName'):
                busy = 'pod %s is already assigned to node "%s"' % (name, old['spec']['nodeName'])
            if busy:
                raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "%s": %s' % (name, busy),
                               {'name': name, 'kind': 'pods/binding'})
            new = copy.deepcopy(old)
            new.setdefault('spec', {})['nodeName'] = target['name']
            annotations = (body.get('metadata') or {}).get('annotations') or {}
            if annotations:
                new['metadata'].setdefault('annotations', {}).update(annotations)
            conditions = [c for c in (new.setdefault('status', {}).get('conditions') or []) if c.get('type') != 'PodScheduled']
            conditions.append({'type': 'PodScheduled', 'status': 'True', 'lastProbeTime': None, 'lastTransitionTime': now()})
            new['status']['conditions'] = conditions
            return self._commit(res, old, new, manager, 'Update', 'binding', dry_run)

    def dependents(self, uid):
        """[(res_key, ns, name, obj)] of the objects with an ownerReference to uid."""
        return [(key, k[0], k[1], obj) for key, items in self.objects.items() for k, obj in items.items()
                if any(ref.get('uid') == uid for ref in obj['metadata'].get('ownerReferences') or [])]

    @staticmethod
    def propagation(res, options):
        """Orphan, Foreground or Background; None when the request named none (the default applies)."""
        options = options or {}
        if options.get('propagationPolicy'):
            if options['propagationPolicy'] not in ('Orphan', 'Foreground', 'Background'):
                raise ApiError(422, 'Invalid', 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "%s": '
                               'supported values: "Foreground", "Background", "Orphan"' % options['propagationPolicy'])
            return options['propagationPolicy']
        if options.get('orphanDependents') is not None:
            return 'Orphan' if options['orphanDependents'] else 'Background'
        return None

    def _orphan(self, uid):
        """What the garbage collector does for the orphan finalizer, at once: the dependents lose
        their ownerReferences to uid."""
        for key, _ns, _name, dep in self.dependents(uid):
            new = copy.deepcopy(dep)
            refs = [r for r in new['metadata']['ownerReferences'] if r.get('uid') != uid]
            if refs:
                new['metadata']['ownerReferences'] = refs
            else:
                del new['metadata']['ownerReferences']
            self._put(key, new, dep)

    def delete(self, res, ns, name, options=None, dry_run=False):  # noqa: C901
        with self.cond:
            obj = self.get(res, ns, name)
            policy = self.propagation(res, options)
            if policy is None:  # the registries' DefaultGarbageCollectionPolicy: batch/v1 Jobs orphan, for compatibility
                policy = 'Orphan' if (res.group, res.version, res.plural) == ('batch', 'v1', 'jobs') else 'Background'
            pre = (options or {}).get('preconditions') or {}
            if pre.get('uid') and pre['uid'] != obj['metadata']['uid']:
                raise conflict(res, name, 'Precondition failed: UID in precondition: %s, UID in object meta: %s' % (pre['uid'], obj['metadata']['uid']))
            if pre.get('resourceVersion') and pre['resourceVersion'] != obj['metadata']['resourceVersion']:
                raise conflict(res, name)
            if dry_run:
                return obj
            if policy == 'Orphan':
                self._orphan(obj['metadata']['uid'])
            foreground = policy == 'Foreground' and not obj['metadata'].get('deletionTimestamp') and self.dependents(obj['metadata']['uid'])
            if obj['metadata'].get('finalizers') or foreground:
                if obj['metadata'].get('deletionTimestamp'):
                    return obj
                new = copy.deepcopy(obj)
                new['metadata'].update(deletionTimestamp=now(), deletionGracePeriodSeconds=0)
                if foreground:
                    new['metadata']['finalizers'] = (new['metadata'].get('finalizers') or []) + ['foregroundDeletion']
                return self._put((res.group, res.plural), new, obj)
            return self._remove(res, obj)

    def _remove(self, res, obj):
        key, meta = (res.group, res.plural), obj['metadata']
        if res.kind == 'Namespace' and not res.group:
            for (group, plural), items in list(self.objects.items()):
                for (item_ns, item_name), item in list(items.items()):
                    if item_ns == meta['name']:
                        self._drop((group, plural), item_ns, item_name, item)
        if key == CRD_KEY:
            spec = obj.get('spec') or {}
            for (item_ns, item_name), item in list(self.objects.get((spec.get('group'), (spec.get('names') or {}).get('plural')), {}).items()):
                self._drop((spec['group'], spec['names']['plural']), item_ns, item_name, item)
            self._unregister(obj)
        return self._drop(key, meta.get('namespace', ''), meta['name'], obj)

    def _drop(self, key, ns, name, obj):
        if self.etcd:
            return self._etcd_write(key, obj, self.objects[key][(ns, name)], delete=True)
        del self.objects[key][(ns, name)]
        gone = copy.deepcopy(obj)
        gone['metadata']['resourceVersion'] = self._bump()
        self._save(key, gone, deleted=True)
        self._record('DELETED', key, gone)
        return gone


# ---- protobuf request bodies ----------------------------------------------------------------
# client-go's typed clients (helm's release storage, kubectl drain/auth) send protobuf; the
# double decodes the kinds in PB_TYPES (field numbers of k8s.io/api generated.proto) and
# refuses the rest with 415. Replies are always JSON, which those clients accept.

PB_TYPES = {
    'ObjectMeta': {1: ('name', 's'), 2: ('generateName', 's'), 3: ('namespace', 's'), 5: ('uid', 's'), 6: ('resourceVersion', 's'),
                   7: ('generation', 'i'), 11: ('labels', 'map'), 12: ('annotations', 'map'), 14: ('finalizers', 'list')},
    'Secret': {1: ('metadata', 'ObjectMeta'), 2: ('data', 'bmap'), 3: ('type', 's'), 4: ('stringData', 'map'), 5: ('immutable', 'b')},
    'ConfigMap': {1: ('metadata', 'ObjectMeta'), 2: ('data', 'map'), 3: ('binaryData', 'bmap'), 4: ('immutable', 'b')},
}


def _pb_fields(buf):
    """(field number, value) of one message: varints as int, length-delimited as bytes."""
    i = 0
    while i < len(buf):
        key, i = _pb_varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _pb_varint(buf, i)
        elif wire == 2:
            size, i = _pb_varint(buf, i)
            value, i = buf[i:i + size], i + size
        else:
            i += {1: 8, 5: 4}[wire]
            continue
        yield key >> 3, value


def _pb_varint(buf, i):
    value = shift = 0
    while True:
        byte = buf[i]
        value |= (byte & 0x7f) << shift
        i += 1
        shift += 7
        if not byte & 0x80:
            return value, i


def _pb_decode(buf, type_name):
    out = {}
    for num, value in _pb_fields(buf):
        if num not in PB_TYPES[type_name]:
            continue
        name, kind = PB_TYPES[type_name][num]
        if kind in ('map', 'bmap'):
            entry = dict(_pb_fields(value))
            data = entry.get(2, b'')
            out.setdefault(name, {})[entry.get(1, b'').decode()] = base64.b64encode(data).decode() if kind == 'bmap' else data.decode()
        elif kind == 'list':
            out.setdefault(name, []).append(value.decode())
        elif kind in ('i', 'b'):
            out[name] = bool(value) if kind == 'b' else value
        elif kind == 's':
            out[name] = value.decode()
        else:
            out[name] = _pb_decode(value, kind)
    return out


def protobuf_object(raw):
    """The object in a runtime.Unknown envelope ('k8s\\0', typeMeta = 1, raw = 2)."""
    envelope = dict(_pb_fields(raw[4:]))
    type_meta = dict(_pb_fields(envelope.get(1, b'')))
    api_version, kind = type_meta.get(1, b'').decode(), type_meta.get(2, b'').decode()
    if kind not in PB_TYPES or kind == 'ObjectMeta':
        raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: '
                       'application/json, application/yaml (the test double decodes protobuf only for %s)' % ', '.join(sorted(PB_TYPES)[1:]))
    return dict(_pb_decode(envelope.get(2, b''), kind), apiVersion=api_version, kind=kind)


# ---- HTTP ----------------------------------------------------------------------------------------

def _truthy(value):
    return value in ('1', 't', 'T', 'true', 'True', 'TRUE')


class Handler(BaseHTTPRequestHandler):
    """One connection; routes /api, /apis, discovery, openapi and health."""

    protocol_version = 'HTTP/1.1'
    server_version = 'kubeapi-double'
    timeout = 300

    # -- plumbing
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.verbose:
            sys.stderr.write('kubeapi: %s %s\n' % (self.address_string(), format % args))

    def send_json(self, code, obj, ctype='application/json'):
        data = json.dumps(obj, separators=(',', ':')).encode()
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-cache, private')
        self.send_header('Audit-Id', str(uuid.uuid4()))
        for text in getattr(self, 'warnings', None) or []:
            self.send_header('Warning', '299 - %s' % json.dumps(text))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header('Content-Type', 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        raw = self.raw_body
        if not raw.strip():
            return None
        if raw.startswith(b'k8s\x00'):
            return protobuf_object(raw)
        try:
            return json.loads(raw)
        except ValueError:
            pass
        try:
            import yaml  # pylint: disable=import-outside-toplevel
            return yaml.safe_load(raw)
        except ImportError:
            raise ApiError(415, 'UnsupportedMediaType', 'the body is not JSON (and PyYAML is not installed)') from None
        except yaml.YAMLError as err:
            raise bad_request('error decoding YAML: %s' % err) from None

    def user(self):
        """(name, groups) of the client certificate, else of the bootstrap token; None: anonymous.

        A bearer token that is not a valid bootstrap token: 401."""
        cert = self.connection.getpeercert() if hasattr(self.connection, 'getpeercert') else None
        if cert:
            subject = [rdn for rdns in cert.get('subject', ()) for rdn in rdns]
            cn = [v for k, v in subject if k == 'commonName']
            return (cn[0] if cn else ''), [v for k, v in subject if k == 'organizationName'] + ['system:authenticated']
        auth = self.headers.get('Authorization') or ''
        if not auth:
            return None
        scheme, _sp, token = auth.strip().partition(' ')
        who = self.server.store.bootstrap_user(token.strip()) if scheme.lower() == 'bearer' else None
        if who is None:
            raise ApiError(401, 'Unauthorized', 'Unauthorized')
        return who

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch('GET')

    def do_POST(self):  # pylint: disable=invalid-name
        self.dispatch('POST')

    def do_PUT(self):  # pylint: disable=invalid-name
        self.dispatch('PUT')

    def do_PATCH(self):  # pylint: disable=invalid-name
        self.dispatch('PATCH')

    def do_DELETE(self):  # pylint: disable=invalid-name
        self.dispatch('DELETE')

    def dispatch(self, method):
        url = urlsplit(self.path)
        query = dict((k, v[-1]) for k, v in parse_qs(url.query, keep_blank_values=True).items())
        # names are percent-decoded as the real server does (kubeadm:kubeadm-certs may come as kubeadm%3Akubeadm-certs)
        path = '/' + unquote(url.path).strip('/')
        length = int(self.headers.get('Content-Length') or 0)
        self.raw_body = self.rfile.read(length) if length > 0 else b''  # pylint: disable=attribute-defined-outside-init
        self.warnings = []  # pylint: disable=attribute-defined-outside-init
        try:
            check = path.split('/')[1]
            if check in ('healthz', 'readyz', 'livez'):
                # etcd unreachable fails /healthz and /readyz, as kube-apiserver's etcd check does (haproxy's
                # health check then takes this server out); /livez leaves etcd out
                etcd = self.server.store.etcd
                if check != 'livez' and etcd and not etcd.healthy():
                    self.send_text(500, '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n%s check failed\n' % check)
                    return
                self.send_text(200, 'ok')
                return
            who = self.user()
            if who is None:
                if method != 'GET' or path not in ANONYMOUS_PATHS:
                    raise ApiError(401, 'Unauthorized', 'Unauthorized')
                who = ('system:anonymous', ['system:unauthenticated'])
            self.server.log('%s %s %s' % (method, self.path, who[0]))
            self.route(method, path, query, who)
        except ApiError as err:
            self.send_json(err.code, err.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as err:  # pylint: disable=broad-except
            # a bug in the double: a 500, as the apiserver answers a panic
            traceback.print_exc()
            self.send_json(500, ApiError(500, 'InternalError', 'Internal error occurred: %s' % err, {'causes': [{'message': repr(err)}]}).status())

    def route(self, method, path, query, who):  # noqa: C901 pylint: disable=too-many-return-statements,too-many-branches
        store, parts = self.server.store, path.strip('/').split('/')
        if path == '/version':
            return self.send_json(200, self.server.version_info())
        if path == '/api':
            return self.send_json(200, {'kind': 'APIVersions', 'versions': ['v1'], 'serverAddressByClientCIDRs': [
                {'clientCIDR': '0.0.0.0/0', 'serverAddress': '%s:%d' % self.server.server_address[:2]}]})
        if path == '/apis':
            return self.send_json(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [
                self.group_doc(g, v) for g, v in store.groups().items() if g]})
        if parts[0] == 'openapi':
            return self.openapi(parts)
        if parts[0] == 'apis' and len(parts) == 2:
            versions = store.groups().get(parts[1])
            if not versions:
                raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
            return self.send_json(200, dict(self.group_doc(parts[1], versions), kind='APIGroup', apiVersion='v1'))
        if parts[0] == 'api' and len(parts) >= 2:
            group, version, rest = '', parts[1], parts[2:]
        elif parts[0] == 'apis' and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        with store.cond:
            served = [r for r in store.resources.values() if (r.group, r.version) == (group, version)]
        if not served:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if not rest:
            if method != 'GET':
                raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
            return self.send_json(200, {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': served[0].api_version,
                                        'resources': [d for r in sorted(served, key=lambda r: r.plural) for d in r.discovery()]})
        ns = None
        if rest[0] == 'namespaces' and len(rest) >= 3 and rest[2] not in ('status', 'finalize'):
            ns, rest = rest[1], rest[2:]
        res = store.resource(group, version, rest[0])
        if res is None or (ns is not None and not res.namespaced) or len(rest) > 3:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        name, sub = (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
        if sub and sub not in (('status',) if res.status else ()) + res.subs:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        if name and res.namespaced and ns is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        return self.resource_request(method, res, ns, name, sub, query, who)

    def group_doc(self, group, versions):
        gvs = [{'groupVersion': '%s/%s' % (group, v), 'version': v} for v in versions]
        return {'name': group, 'versions': gvs, 'preferredVersion': gvs[0]}

    def resource_request(self, method, res, ns, name, sub, query, who):  # noqa: C901 pylint: disable=too-many-arguments,too-many-branches
        store = self.server.store
        manager = query.get('fieldManager') or (self.headers.get('User-Agent') or 'unknown').split('/')[0]
        dry_run = query.get('dryRun') == 'All'
        if method == 'GET' and name:
            obj = store.get(res, ns, name)
            return self.reply(200, res, obj, single=True)
        if method == 'GET':
            lsel, fsel = parse_label_selector(query.get('labelSelector')), parse_field_selector(query.get('fieldSelector'))
            if _truthy(query.get('watch', '')):
                return self.watch(res, ns, lsel, fsel, query)
            items, rv = store.list(res, ns, lsel, fsel)
            meta = {'resourceVersion': str(rv)}
            if query.get('continue'):
                start = json.loads(base64.b64decode(query['continue']))['start']
                items = [o for o in items if [o['metadata'].get('namespace', ''), o['metadata']['name']] >= start]
            limit = int(query.get('limit') or 0)
            if limit and len(items) > limit:
                nxt = items[limit]['metadata']
                meta['continue'] = base64.b64encode(json.dumps({'start': [nxt.get('namespace', ''), nxt['name']]}).encode()).decode()
                meta['remainingItemCount'] = len(items) - limit
                items = items[:limit]
            return self.reply(200, res, items, list_meta=meta)
        if method == 'POST' and res.virtual:  # kubectl sends these (and evictions) as protobuf: the body is not needed
            return self.review(res, {} if self.raw_body.startswith(b'k8s\x00') else self.body() or {}, who)
        if method == 'POST' and not name:
            body = self.body()
            if res.kind == 'CertificateSigningRequest' and res.group == 'certificates.k8s.io':
                body = self.csr_request(res, body, who)
            return self.reply(201, res, store.create(res, ns, body, manager, dry_run))
        if method == 'POST' and sub == 'binding':
            store.bind(res, ns, name, self.body(), manager, dry_run)
            return self.send_json(201, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success', 'code': 201})
        if sub == 'status' and method in ('PUT', 'PATCH') and res.kind == 'Pod' and not res.group:
            self.node_restriction(res, ns, name, who)
        if method == 'POST' and sub == 'eviction':
            store.delete(res, ns, name, dry_run=dry_run)
            return self.send_json(201, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success', 'code': 201})
        if method == 'PUT' and name:
            return self.reply(200, res, store.update(res, ns, name, self.body(), manager, sub, dry_run))
        if method == 'PATCH' and name:
            ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip()
            ptype = {'application/json-patch+json': 'json', 'application/merge-patch+json': 'merge',
                     'application/strategic-merge-patch+json': 'strategic', 'application/apply-patch+yaml': 'apply'}.get(ctype)
            if ptype is None:
                raise ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: '
                               'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, '
                               'application/strategic-merge-patch+json')
            existed = ptype != 'apply' or self._exists(res, ns, name)
            obj = store.patch(res, ns, name, ptype, self.body(), query.get('fieldManager') if ptype == 'apply' else manager,
                              _truthy(query.get('force', '')), sub, dry_run)
            return self.reply(200 if existed else 201, res, obj)
        if method == 'DELETE' and name:
            options = None if self.raw_body.startswith(b'k8s\x00') else self.body()
            options = dict(options or {})
            for key in ('propagationPolicy', 'orphanDependents'):
                if key in query and key not in options:
                    options[key] = query[key] if key == 'propagationPolicy' else _truthy(query[key])
            if (res.group, res.version, res.plural) == ('batch', 'v1', 'jobs') and store.propagation(res, options) is None:
                self.warnings.append('child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to '
                                     'remove them or set propagationPolicy=Orphan to suppress this warning')
            obj = store.delete(res, ns, name, options, dry_run)
            if obj['metadata'].get('deletionTimestamp') or res.kind in ('Namespace', 'Pod', 'CustomResourceDefinition'):
                return self.reply(200, res, obj)
            details = dict(_details(res, name), uid=obj['metadata']['uid'])
            return self.send_json(200, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Success', 'details': details})
        if method == 'DELETE':
            items = store.list(res, ns, parse_label_selector(query.get('labelSelector')), parse_field_selector(query.get('fieldSelector')))[0]
            gone = [store.delete(res, o['metadata'].get('namespace'), o['metadata']['name'], dry_run=dry_run) for o in items]
            return self.reply(200, res, gone, list_meta={'resourceVersion': str(store.rv)})
        raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')

    def node_restriction(self, res, ns, name, who):
        """NodeRestriction admission: a node may update the status of the pods bound to it only."""
        if not who[0].startswith('system:node:') or 'system:nodes' not in who[1]:
            return
        node = who[0][len('system:node:'):]
        pod = self.server.store.get(res, ns, name)
        if (pod.get('spec') or {}).get('nodeName') != node:
            raise ApiError(403, 'Forbidden', 'pods "%s" is forbidden: node "%s" can only update pod status for pods with spec.nodeName set '
                           'to itself' % (name, node), {'name': name, 'kind': 'pods'})

    @staticmethod
    def csr_request(res, body, who):
        """A new CertificateSigningRequest: the requestor from the authenticated user; no status."""
        if not isinstance(body, dict):
            raise bad_request('the body of the request was in an unknown format')
        body = copy.deepcopy(body)
        spec = body.setdefault('spec', {})
        name = (body.get('metadata') or {}).get('name') or (body.get('metadata') or {}).get('generateName') or ''
        for field in ('request', 'signerName', 'usages'):
            if not spec.get(field):
                raise invalid(res, name, 'spec.' + field, '', 'Required value')
        try:
            pem = base64.b64decode(spec['request']).decode()
        except (ValueError, TypeError, UnicodeDecodeError):
            pem = ''
        if '-----BEGIN CERTIFICATE REQUEST-----' not in pem:
            raise invalid(res, name, 'spec.request', '', 'invalid certificate request: PEM block type must be CERTIFICATE REQUEST')
        spec.update(username=who[0], groups=list(who[1]))
        spec.pop('uid', None)
        spec.pop('extra', None)
        if len(who) > 2 and who[2]:
            spec['uid'] = who[2]
        body.pop('status', None)
        return body

    def _exists(self, res, ns, name):
        try:
            self.server.store.get(res, ns, name)
            return True
        except ApiError:
            return False

    def review(self, res, body, who):
        out = {'kind': res.kind, 'apiVersion': res.api_version, 'metadata': {'creationTimestamp': None}, 'spec': body.get('spec', {})}
        if res.kind == 'SelfSubjectReview':
            out.pop('spec')
            out['status'] = {'userInfo': {'username': who[0], 'groups': who[1]}}
        else:
            out['status'] = {'allowed': True, 'reason': 'the test double does not authorize'}
        return self.send_json(201, out)

    def accept(self):
        """('Table', version) / ('PartialObjectMetadata', version) / (None, None) from the Accept header."""
        for media in (self.headers.get('Accept') or '').split(','):
            params = dict(p.strip().partition('=')[::2] for p in media.split(';')[1:])
            if params.get('g') == 'meta.k8s.io' and params.get('as') in ('Table', 'PartialObjectMetadata', 'PartialObjectMetadataList'):
                return params['as'].replace('List', ''), params.get('v', 'v1')
        return None, None

    def reply(self, code, res, data, single=False, list_meta=None):
        as_, version = self.accept()
        if as_ == 'Table':
            objs = [data] if isinstance(data, dict) else data
            include = parse_qs(urlsplit(self.path).query).get('includeObject', ['Metadata'])[-1]
            rv = list_meta['resourceVersion'] if list_meta else data['metadata'].get('resourceVersion', '')
            table = make_table(res, objs, include, rv, version=version)
            if list_meta:
                table['metadata'] = list_meta
            return self.send_json(code, table)
        if as_ == 'PartialObjectMetadata':
            def partial(o):
                return {'kind': 'PartialObjectMetadata', 'apiVersion': 'meta.k8s.io/' + version, 'metadata': o['metadata']}
            if isinstance(data, dict):
                return self.send_json(code, partial(data))
            return self.send_json(code, {'kind': 'PartialObjectMetadataList', 'apiVersion': 'meta.k8s.io/' + version,
                                         'metadata': list_meta, 'items': [partial(o) for o in data]})
        if single or isinstance(data, dict):
            return self.send_json(code, data)
        kind = (res.crd and (self.server.store.objects.get(CRD_KEY, {}).get(('', '%s.%s' % (res.plural, res.group))) or {})
                .get('status', {}).get('acceptedNames', {}).get('listKind')) or res.kind + 'List'
        return self.send_json(code, {'kind': kind, 'apiVersion': res.api_version, 'metadata': list_meta or {}, 'items': data})

    def watch(self, res, ns, lsel, fsel, query):  # noqa: C901 pylint: disable=too-many-locals
        store = self.server.store
        as_ = self.accept()[0]
        include = query.get('includeObject', 'Metadata')
        deadline = time.time() + int(query.get('timeoutSeconds') or 1800)
        since = query.get('resourceVersion') or ''
        if not since.isdigit() and since:
            raise bad_request('invalid resource version: %s' % since)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.send_header('Cache-Control', 'no-cache, private')
        self.end_headers()
        state = {'headers': True}

        def send(kind, obj):
            if as_ == 'Table' and kind in ('ADDED', 'MODIFIED', 'DELETED'):
                obj = make_table(res, [obj], include, obj['metadata'].get('resourceVersion', ''), headers=state['headers'])
                state['headers'] = False
            line = json.dumps({'type': kind, 'object': obj}, separators=(',', ':')).encode() + b'\n'
            self.wfile.write(b'%x\r\n%s\r\n' % (len(line), line))
            self.wfile.flush()

        def matches(obj):
            meta = obj['metadata']
            return (not ns or meta.get('namespace') == ns) and labels_match(lsel, meta.get('labels')) and fields_match(fsel, obj)

        with store.cond:
            initial = []
            if since in ('', '0') or _truthy(query.get('sendInitialEvents', '')):
                initial, cursor = store.list(res, ns, lsel, fsel)
            elif int(since) < store.log_floor:
                cursor = None
            else:
                cursor = int(since)
        if cursor is None:
            send('ERROR', ApiError(410, 'Expired', 'too old resource version: %s (%d)' % (since, store.log_floor)).status())
        else:
            for obj in initial:
                send('ADDED', obj)
            if _truthy(query.get('sendInitialEvents', '')):
                send('BOOKMARK', {'kind': res.kind, 'apiVersion': res.api_version, 'metadata': {
                    'resourceVersion': str(cursor), 'annotations': {'k8s.io/initial-events-end': 'true'}}})
            while time.time() < deadline and not store.stopping:
                with store.cond:
                    events = [e for e in store.log if e[0] > cursor]
                    if not events:
                        store.cond.wait(min(1.0, max(0.0, deadline - time.time())))
                        continue
                    cursor = events[-1][0]
                for _rv, kind, key, obj, old in events:
                    if key != (res.group, res.plural):
                        continue
                    now_in, was_in = matches(obj), old is not None and matches(old)
                    if kind == 'MODIFIED' and not (now_in or was_in):
                        continue
                    if kind == 'MODIFIED' and now_in != was_in:
                        kind = 'ADDED' if now_in else 'DELETED'
                    elif kind != 'MODIFIED' and not now_in:
                        continue
                    send(kind, store.view(res, obj))
        self.wfile.write(b'0\r\n\r\n')
        self.wfile.flush()
        self.close_connection = True

    def openapi(self, parts):
        """/openapi/v3 (root and per group-version): PATCH operations with fieldValidation, no schemas."""
        if parts[1:] == ['v2']:  # an empty document: kubectl's fallback validation then skips every kind, as for unknown ones
            if 'protobuf' in (self.headers.get('Accept') or ''):
                data = b'\x0a\x032.0'  # openapi_v2.Document{swagger: "2.0"}
                self.send_response(200)
                self.send_header('Content-Type', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return None
            return self.send_json(200, {'swagger': '2.0', 'info': {'title': 'Kubernetes', 'version': 'v' + self.server.kube_version},
                                        'paths': {}, 'definitions': {}})
        if parts[1:2] != ['v3']:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        docs = self.server.openapi_docs()
        if len(parts) == 2:
            return self.send_json(200, {'paths': dict((gv, {'serverRelativeURL': '/openapi/v3/%s?hash=%s' % (gv, h)})
                                                      for gv, (h, _doc) in docs.items())})
        doc = docs.get('/'.join(parts[2:]))
        if doc is None:
            raise ApiError(404, 'NotFound', 'the server could not find the requested resource')
        return self.send_json(200, doc[1])


class Server(ThreadingHTTPServer):
    """The listener: TLS per connection (handshake in the connection's thread)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store, ssl_context, version, verbose=False):
        self.store, self.ssl_context, self.kube_version, self.verbose = store, ssl_context, version, verbose
        super().__init__(address, Handler)

    def log(self, line):
        if self.verbose:
            sys.stderr.write('kubeapi: %s\n' % line)

    def finish_request(self, request, client_address):
        try:
            request.settimeout(30)
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            self.log('TLS handshake with %s failed: %s' % (client_address[0], err))
            return
        try:
            conn.settimeout(None)
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def version_info(self):
        major, minor = self.kube_version.split('.')[:2]
        return {'major': major, 'minor': minor, 'emulationMajor': major, 'emulationMinor': minor,
                'minCompatibilityMajor': major, 'minCompatibilityMinor': str(max(int(minor) - 1, 0)),
                'gitVersion': 'v' + self.kube_version, 'gitCommit': hashlib.sha1(self.kube_version.encode()).hexdigest(),  # nosec - an id
                'gitTreeState': 'clean', 'buildDate': '2025-11-11T00:00:00Z', 'goVersion': 'go1.24.9', 'compiler': 'gc',
                'platform': 'linux/amd64'}

    def openapi_docs(self):
        docs = {}
        with self.store.cond:
            resources = [r for r in self.store.resources.values() if not r.virtual]
        for res in resources:
            gv = 'api/v1' if not res.group else 'apis/%s/%s' % (res.group, res.version)
            doc = docs.setdefault(gv, {'openapi': '3.0.0', 'info': {'title': 'Kubernetes', 'version': 'v' + self.kube_version},
                                       'paths': {}, 'components': {'schemas': {}}})
            item = '/%s%s/%s/{name}' % (gv, '/namespaces/{namespace}' if res.namespaced else '', res.plural)
            doc['paths'][item] = {'patch': {
                'description': 'partially update the specified %s' % res.kind, 'operationId': 'patch%s' % res.kind,
                'parameters': [{'name': n, 'in': 'query', 'schema': {'type': 'string', 'uniqueItems': True}}
                               for n in ('dryRun', 'fieldManager', 'fieldValidation', 'force')],
                'responses': {'200': {'description': 'OK'}}, 'x-kubernetes-action': 'patch',
                'x-kubernetes-group-version-kind': {'group': res.group, 'version': res.version, 'kind': res.kind}}}
        return dict((gv, (hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32].upper(), doc)) for gv, doc in docs.items())


def ssl_context(cert, key, client_ca, require):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(client_ca)
    ctx.verify_mode = ssl.CERT_REQUIRED if require else ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(['http/1.1'])
    return ctx


def sim_path(path):
    """A host path under AIFABRIC_SIM_ROOT when that is set (test-side only, lab/simulators/README.md)."""
    root = os.environ.get('AIFABRIC_SIM_ROOT', '').rstrip('/')
    if not root or not path or not path.startswith('/') or path == root or path.startswith(root + '/'):
        return path
    return root + path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0], allow_abbrev=False)
    parser.add_argument('--listen', help='HOST:PORT (port 0: any free port); default 127.0.0.1:6443, '
                        'or --bind-address:--secure-port when those are given')
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    parser.add_argument('--client-ca')
    parser.add_argument('--require-client-cert', action='store_true', help='refuse TLS handshakes without a client certificate')
    parser.add_argument('--version', default='1.34.2', help='the Kubernetes version to report (without the v)')
    parser.add_argument('--state-dir')
    parser.add_argument('--verbose', action='store_true', help='log every request to stderr')
    real = parser.add_argument_group('kube-apiserver flags (paths under AIFABRIC_SIM_ROOT when set; every other flag is ignored)')
    real.add_argument('--secure-port', type=int)
    real.add_argument('--bind-address')
    real.add_argument('--advertise-address')
    real.add_argument('--tls-cert-file')
    real.add_argument('--tls-private-key-file')
    real.add_argument('--client-ca-file')
    real.add_argument('--service-cluster-ip-range')
    real.add_argument('--etcd-servers', help='objects in this etcd (comma-separated client URLs) instead of --state-dir')
    real.add_argument('--etcd-cafile')
    real.add_argument('--etcd-certfile')
    real.add_argument('--etcd-keyfile')
    real.add_argument('--etcd-prefix', default='/registry')
    real.add_argument('--etcd-compaction-interval', default='5m', help='Go duration: 0 (never), Ns, Nm or Nh')
    args, ignored = parser.parse_known_args(argv)
    for arg in ignored:
        if arg.startswith('-') and not arg.startswith('--'):
            parser.error('unknown shorthand flag: %r in %s' % (arg[1:2], arg))
    args.tls_cert = args.tls_cert or sim_path(args.tls_cert_file)
    args.tls_key = args.tls_key or sim_path(args.tls_private_key_file)
    args.client_ca = args.client_ca or sim_path(args.client_ca_file)
    for flag, value in (('--tls-cert (--tls-cert-file)', args.tls_cert), ('--tls-key (--tls-private-key-file)', args.tls_key),
                        ('--client-ca (--client-ca-file)', args.client_ca)):
        if not value:
            parser.error('%s is required' % flag)
    if not args.listen:
        if args.secure_port is not None or args.bind_address:
            bind = args.bind_address or '0.0.0.0'  # nosec - kube-apiserver's default
            args.listen = '%s:%d' % ('[%s]' % bind if ':' in bind else bind, 6443 if args.secure_port is None else args.secure_port)
        else:
            args.listen = '127.0.0.1:6443'
    args.state_dir = args.state_dir or sim_path('/var/lib/aifabric-sim/kubeapi')
    host, port = args.listen.rsplit(':', 1)
    etcd = None
    if args.etcd_servers:
        try:
            etcd = Etcd(args.etcd_servers, sim_path(args.etcd_cafile), sim_path(args.etcd_certfile), sim_path(args.etcd_keyfile))
        except (ValueError, OSError, ssl.SSLError) as err:
            parser.error('--etcd-servers: %s' % err)
    m = re.match(r'^(\d+)(s|m|h)?$', args.etcd_compaction_interval.strip())
    if not m or (m.group(1) != '0' and not m.group(2)):
        parser.error('--etcd-compaction-interval: invalid duration %r' % args.etcd_compaction_interval)
    interval = int(m.group(1)) * {'s': 1, 'm': 60, 'h': 3600, None: 1}[m.group(2)]
    store = Store(args.state_dir, etcd, args.etcd_prefix, interval)
    server = Server((host.strip('[]') or '0.0.0.0', int(port)), store,  # nosec - the lab chooses
                    ssl_context(args.tls_cert, args.tls_key, args.client_ca, args.require_client_cert), args.version.lstrip('v'), args.verbose)

    def stop(*_):
        store.stopping = True
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print('kubeapi: Kubernetes v%s API test double listening on https://%s:%d' % (server.kube_version, host, server.server_address[1]), flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == '__main__':
    main()
