"""The Kubernetes API server test double (lab/simulators/kubeapi/kubeapi.py) against real clients.

The double runs as its own process on 127.0.0.1 (HTTPS, client certificates from a CA made
here with `cryptography`); the clients are the real kubectl and helm (.cache/tools/bin, from
`make tools`: the tests that need them are skipped without them) and the real `kubernetes`
Python client, both its typed API and the DynamicClient that kubernetes.core uses.
"""
import base64
import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labtest import EtcdServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOUBLE = os.path.join(ROOT, 'lab', 'simulators', 'kubeapi', 'kubeapi.py')
BIN = os.path.join(ROOT, '.cache', 'tools', 'bin')
KUBECTL, HELM = os.path.join(BIN, 'kubectl'), os.path.join(BIN, 'helm')
VERSION = '1.34.2'
needs_kubectl = pytest.mark.skipif(not os.access(KUBECTL, os.X_OK), reason='%s missing: run `make tools` (lab/tools/fetch-kubectl.sh)' % KUBECTL)
needs_helm = pytest.mark.skipif(not os.access(HELM, os.X_OK), reason='%s missing: run `make tools` (lab/tools/fetch-kubectl.sh)' % HELM)

NODE = """apiVersion: v1
kind: Node
metadata:
  name: n1
  labels:
    node-role.kubernetes.io/worker: ""
    nvidia.com/gpu.present: "true"
status:
  nodeInfo: {kubeletVersion: v1.34.2, kubeProxyVersion: "", osImage: Debian GNU/Linux 12 (bookworm), kernelVersion: 6.1.0-28-amd64,
             containerRuntimeVersion: containerd://1.7.24, operatingSystem: linux, architecture: amd64, machineID: 5f1e, systemUUID: 5f1e, bootID: b00t}
  addresses: [{type: InternalIP, address: 10.0.0.11}, {type: Hostname, address: n1}]
  conditions: [{type: Ready, status: "False", reason: KubeletNotReady, message: container runtime network not ready}]
"""
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: clusterpolicies.nvidia.com}
spec:
  group: nvidia.com
  names: {kind: ClusterPolicy, listKind: ClusterPolicyList, plural: clusterpolicies, singular: clusterpolicy, shortNames: [cp]}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    additionalPrinterColumns:
    - {name: Status, type: string, jsonPath: .status.state}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"""
POLICY = """apiVersion: nvidia.com/v1
kind: ClusterPolicy
metadata: {name: cluster-policy}
spec: {driver: {enabled: false}, toolkit: {enabled: true}}
"""


# ---- PKI and the double's process ----------------------------------------------------------

def _name(cn, orgs=()):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer, issuer_key, ca=False, san=None, eku=None):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path, cert=None, key=None):
    with open(path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM) if cert is not None else
                key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(path)


def make_pki(tmp):
    """CA, apiserver cert (SAN 127.0.0.1), the kubeadm admin (CN kubernetes-admin, O kubeadm:cluster-admins),
    and a client cert from another CA."""
    out = {}
    for ca_name in ('ca', 'other-ca'):
        key = ec.generate_private_key(ec.SECP256R1())
        out[ca_name] = (_cert(_name(ca_name), key, _name(ca_name), key, ca=True), key)
    ca, ca_key = out['ca']
    files = {'ca': _write(tmp / 'ca.crt', ca)}
    for name, subject, signer, san, eku in (
            ('server', _name('kube-apiserver'), out['ca'], [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))], ExtendedKeyUsageOID.SERVER_AUTH),
            ('admin', _name('kubernetes-admin', ['kubeadm:cluster-admins']), out['ca'], None, ExtendedKeyUsageOID.CLIENT_AUTH),
            ('stranger', _name('mallory', ['system:masters']), out['other-ca'], None, ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        files[name] = _write(tmp / (name + '.crt'), _cert(subject, key, signer[0].subject, signer[1], san=san, eku=eku))
        files[name + '-key'] = _write(tmp / (name + '.key'), key=key)
    assert ca_key
    return files


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Double(object):
    """The double's process; its state dir and port survive restart()."""

    def __init__(self, tmp):
        self.tmp, self.pki, self.port, self.proc = tmp, make_pki(tmp), free_port(), None
        self.state = tmp / 'state'
        self.url = 'https://127.0.0.1:%d' % self.port
        self.kubeconfig = tmp / 'kubeconfig'
        self.home = tmp / 'home'
        self.home.mkdir()
        self.kubeconfig.write_text(self.config(self.pki['admin'], self.pki['admin-key']))

    def config(self, cert=None, key=None):
        user = {'client-certificate': cert, 'client-key': key} if cert else {'token': 'not-a-client-certificate'}
        return json.dumps({'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'lab',
                           'clusters': [{'name': 'lab', 'cluster': {'server': self.url, 'certificate-authority': self.pki['ca']}}],
                           'users': [{'name': 'admin', 'user': user}],
                           'contexts': [{'name': 'lab', 'context': {'cluster': 'lab', 'user': 'admin'}}]})

    def start(self, *extra):
        log = open(self.tmp / 'double.log', 'a')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, DOUBLE, '--listen', '127.0.0.1:%d' % self.port, '--tls-cert', self.pki['server'], '--tls-key', self.pki['server-key'],
             '--client-ca', self.pki['ca'], '--version', VERSION, '--state-dir', str(self.state), '--verbose'] + list(extra),
            stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()
        assert 'listening on %s' % self.url in line, line + (self.tmp / 'double.log').read_text()[-2000:]
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc.stdout.close()
            self.proc = None

    def kubectl(self, *args, stdin=None, check=True, kubeconfig=None, home=None):
        env = dict(os.environ, KUBECONFIG=str(kubeconfig or self.kubeconfig), HOME=str(home or self.home))
        proc = subprocess.run([KUBECTL] + list(args), input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False)
        if check:
            assert proc.returncode == 0, 'kubectl %s: rc %d\n%s%s' % (' '.join(args), proc.returncode, proc.stdout, proc.stderr)
        return proc

    def request(self, method, path, body=None, cert=True, headers=None):
        ctx = ssl.create_default_context(cafile=self.pki['ca'])
        if cert:
            ctx.load_cert_chain(self.pki['admin'], self.pki['admin-key'])
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=dict({'Content-Type': 'application/json'}, **(headers or {})))
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw.startswith(b'{') else raw.decode()
        except urllib.error.HTTPError as err:
            raw = err.read()
            return err.code, json.loads(raw) if raw.startswith(b'{') else raw.decode()

    def client(self):
        kubernetes = pytest.importorskip('kubernetes', reason='the kubernetes Python client is not installed (requirements.txt)')
        cfg = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=cfg)
        return kubernetes.client.ApiClient(cfg)


@pytest.fixture(scope='module')
def etcd(tmp_path_factory):
    """A real etcd, where the double keeps its objects as in the lab (kubeadm's manifest names the node's etcd)."""
    server = EtcdServer(tmp_path_factory.mktemp('etcd') / 'data').start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def api(tmp_path_factory, etcd):
    double = Double(tmp_path_factory.mktemp('kubeapi')).start('--etcd-servers', etcd.url, '--etcd-prefix', '/registry-api')
    yield double
    double.stop()


# ---- kubectl -------------------------------------------------------------------------------------

@needs_kubectl
def test_version_and_discovery(api):
    out = api.kubectl('version').stdout
    assert 'Server Version: v%s' % VERSION in out, out
    resources = api.kubectl('api-resources', '--no-headers').stdout
    for line in ('nodes  no  v1  false  Node', 'customresourcedefinitions  crd,crds  apiextensions.k8s.io/v1  false',
                 'runtimeclasses  node.k8s.io/v1  false  RuntimeClass', 'leases  coordination.k8s.io/v1  true  Lease',
                 'daemonsets  ds  apps/v1  true  DaemonSet'):
        assert any(line.split() == l.split()[:len(line.split())] for l in resources.splitlines()), (line, resources)
    assert api.kubectl('get', 'namespaces', '-o', 'name').stdout.split() == [
        'namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']
    whoami = api.kubectl('auth', 'whoami', '-o', 'json').stdout
    assert json.loads(whoami)['status']['userInfo'] == {'username': 'kubernetes-admin', 'groups': ['kubeadm:cluster-admins', 'system:authenticated']}


@needs_kubectl
def test_node_with_kubectl(api, tmp_path):  # pylint: disable=too-many-statements
    manifest = tmp_path / 'n1.yaml'
    manifest.write_text(NODE)
    assert api.kubectl('apply', '-f', str(manifest)).stdout.strip() == 'node/n1 created'
    assert api.kubectl('apply', '-f', str(manifest)).stdout.strip() == 'node/n1 unchanged'
    manifest.write_text(NODE.replace('nvidia.com/gpu.present: "true"', 'nvidia.com/gpu.present: "true"\n    rack: r1'))
    assert api.kubectl('apply', '-f', str(manifest)).stdout.strip() == 'node/n1 configured'

    table = api.kubectl('get', 'nodes').stdout.splitlines()
    assert table[0].split() == ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], table
    assert table[1].split()[:3] == ['n1', 'NotReady', 'worker'] and table[1].split()[4] == 'v1.34.2', table
    wide = api.kubectl('get', 'nodes', '-o', 'wide').stdout.splitlines()
    assert wide[0].split()[5:7] == ['INTERNAL-IP', 'EXTERNAL-IP'] and '10.0.0.11' in wide[1] and 'containerd://1.7.24' in wide[1], wide

    assert api.kubectl('label', 'node', 'n1', 'aifabric.io/pool=gpu').stdout.strip() == 'node/n1 labeled'
    assert api.kubectl('taint', 'node', 'n1', 'nvidia.com/gpu=present:NoSchedule').stdout.strip() == 'node/n1 tainted'
    assert api.kubectl('taint', 'node', 'n1', 'dedicated=ai:NoExecute').stdout.strip() == 'node/n1 tainted'
    taints = json.loads(api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.spec.taints}').stdout)
    assert sorted((t['key'], t.get('value'), t['effect']) for t in taints) == [('dedicated', 'ai', 'NoExecute'), ('nvidia.com/gpu', 'present', 'NoSchedule')]
    assert api.kubectl('taint', 'node', 'n1', 'nvidia.com/gpu=present:NoSchedule-').stdout.strip() == 'node/n1 untainted'
    taints = json.loads(api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.spec.taints}').stdout)
    assert [t['key'] for t in taints] == ['dedicated'], taints
    api.kubectl('taint', 'node', 'n1', 'dedicated-')
    assert api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.spec.taints}').stdout == ''

    selected = json.loads(api.kubectl('get', 'nodes', '-l', 'aifabric.io/pool=gpu', '-o', 'json').stdout)
    assert [n['metadata']['name'] for n in selected['items']] == ['n1'] and selected['items'][0]['kind'] == 'Node'
    assert json.loads(api.kubectl('get', 'nodes', '-l', 'aifabric.io/pool=cpu', '-o', 'json').stdout)['items'] == []
    assert 'No resources found' in api.kubectl('get', 'nodes', '-l', '!nvidia.com/gpu.present').stderr

    patch = {'status': {'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status'}]}}
    assert api.kubectl('patch', 'node', 'n1', '--subresource=status', '-p', json.dumps(patch)).stdout.strip() == 'node/n1 patched'
    assert api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}').stdout == 'True'
    assert api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.status.nodeInfo.kubeletVersion}').stdout == 'v1.34.2'  # merged by type
    api.kubectl('wait', 'node/n1', '--for=condition=Ready', '--timeout=10s')
    api.kubectl('cordon', 'n1')
    assert api.kubectl('get', 'nodes', '--no-headers').stdout.split()[:3] == ['n1', 'Ready,SchedulingDisabled', 'worker']
    # a status patch through the main resource is ignored, a spec patch through /status too
    api.kubectl('patch', 'node', 'n1', '--type=merge', '-p', '{"spec":{"unschedulable":false},"status":{"phase":"Gone"}}')
    api.kubectl('patch', 'node', 'n1', '--subresource=status', '--type=merge', '-p', '{"spec":{"unschedulable":true}}')
    node = json.loads(api.kubectl('get', 'node', 'n1', '-o', 'json').stdout)
    assert 'phase' not in node['status'] and not node['spec'].get('unschedulable'), node

    # without client-side validation too; the manifest's .status differs, kubectl sends it, the main resource ignores it
    assert api.kubectl('apply', '--validate=false', '-f', str(manifest)).stdout.strip() == 'node/n1 configured'
    assert api.kubectl('get', 'node', 'n1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}').stdout == 'True'
    assert api.kubectl('delete', 'node', 'n1').stdout.strip() == 'node "n1" deleted'
    gone = api.kubectl('get', 'node', 'n1', check=False)
    assert gone.returncode == 1 and gone.stderr.strip() == 'Error from server (NotFound): nodes "n1" not found', gone.stderr


@needs_kubectl
def test_server_side_apply(api, tmp_path):
    manifest = tmp_path / 'cm.yaml'
    manifest.write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default, labels: {a: "1", b: "2"}}\ndata: {x: "1"}\n')
    assert api.kubectl('apply', '--server-side', '-f', str(manifest)).stdout.strip() == 'configmap/ssa serverside-applied'
    assert api.kubectl('apply', '--server-side', '-f', str(manifest)).stdout.strip() == 'configmap/ssa serverside-applied'
    cm = json.loads(api.kubectl('get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields').stdout)
    assert [(m['manager'], m['operation']) for m in cm['metadata']['managedFields']] == [('kubectl', 'Apply')]
    assert cm['metadata']['managedFields'][0]['fieldsV1']['f:data'] == {'f:x': {}}
    # a field the manager no longer applies is removed; one another manager owns is kept
    api.kubectl('label', 'cm', 'ssa', 'c=3')
    manifest.write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa, namespace: default, labels: {a: "1"}}\ndata: {x: "2"}\n')
    api.kubectl('apply', '--server-side', '-f', str(manifest))
    cm = json.loads(api.kubectl('get', 'cm', 'ssa', '-o', 'json').stdout)
    assert cm['metadata']['labels'] == {'a': '1', 'c': '3'} and cm['data'] == {'x': '2'}, cm
    # another manager's value: a conflict, unless forced
    api.kubectl('label', '--overwrite', 'cm', 'ssa', 'a=9')
    clash = api.kubectl('apply', '--server-side', '-f', str(manifest), check=False)
    assert clash.returncode == 1 and 'conflict with "kubectl-label"' in clash.stderr and '.metadata.labels.a' in clash.stderr, clash.stderr
    api.kubectl('apply', '--server-side', '--force-conflicts', '-f', str(manifest))
    assert json.loads(api.kubectl('get', 'cm', 'ssa', '-o', 'json').stdout)['metadata']['labels']['a'] == '1'


@needs_kubectl
def test_crd_and_custom_objects(api, tmp_path):
    (tmp_path / 'crd.yaml').write_text(CRD)
    (tmp_path / 'policy.yaml').write_text(POLICY)
    missing = api.kubectl('apply', '-f', str(tmp_path / 'policy.yaml'), check=False)
    assert missing.returncode == 1 and 'ensure CRDs are installed first' in missing.stderr, missing.stderr
    assert 'created' in api.kubectl('apply', '-f', str(tmp_path / 'crd.yaml')).stdout
    crd = json.loads(api.kubectl('get', 'crd', 'clusterpolicies.nvidia.com', '-o', 'json').stdout)
    assert {c['type']: c['status'] for c in crd['status']['conditions']} == {'NamesAccepted': 'True', 'Established': 'True'}
    # applied server-side, then again unchanged a second later: the conditions keep their times, and the second
    # apply is a no-op (no new resourceVersion)
    time.sleep(1.1)
    api.kubectl('apply', '--server-side', '-f', str(tmp_path / 'crd.yaml'))
    first = json.loads(api.kubectl('get', 'crd', 'clusterpolicies.nvidia.com', '-o', 'json').stdout)
    time.sleep(1.1)
    api.kubectl('apply', '--server-side', '-f', str(tmp_path / 'crd.yaml'))
    again = json.loads(api.kubectl('get', 'crd', 'clusterpolicies.nvidia.com', '-o', 'json').stdout)
    assert first['status']['conditions'] == again['status']['conditions'] == crd['status']['conditions']
    assert again['metadata']['resourceVersion'] == first['metadata']['resourceVersion']
    status, groups = api.request('GET', '/apis')
    assert status == 200 and {'groupVersion': 'nvidia.com/v1', 'version': 'v1'} in [v for g in groups['groups'] for v in g['versions']]
    assert api.kubectl('apply', '-f', str(tmp_path / 'policy.yaml')).stdout.strip() == 'clusterpolicy.nvidia.com/cluster-policy created'
    assert api.kubectl('apply', '-f', str(tmp_path / 'policy.yaml')).stdout.strip() == 'clusterpolicy.nvidia.com/cluster-policy unchanged'
    api.kubectl('patch', 'cp', 'cluster-policy', '--subresource=status', '--type=merge', '-p', '{"status":{"state":"ready"}}')
    table = api.kubectl('get', 'clusterpolicies').stdout.splitlines()
    assert table[0].split() == ['NAME', 'STATUS', 'AGE'] and table[1].split()[:2] == ['cluster-policy', 'ready'], table
    api.kubectl('wait', 'clusterpolicy/cluster-policy', '--for=jsonpath={.status.state}=ready', '--timeout=10s')

    kubernetes = pytest.importorskip('kubernetes')
    objs = kubernetes.client.CustomObjectsApi(api.client()).list_cluster_custom_object('nvidia.com', 'v1', 'clusterpolicies')
    assert objs['kind'] == 'ClusterPolicyList' and [(o['metadata']['name'], o['spec']['toolkit'], o['metadata']['generation']) for o in objs['items']] == [
        ('cluster-policy', {'enabled': True}, 1)]
    assert 'deleted' in api.kubectl('delete', '-f', str(tmp_path / 'crd.yaml')).stdout
    assert api.request('GET', '/apis/nvidia.com/v1/clusterpolicies')[0] == 404


@needs_kubectl
def test_unauthenticated(api, tmp_path):
    status, body = api.request('GET', '/api/v1/nodes', cert=False)
    assert (status, body) == (401, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'message': 'Unauthorized',
                                    'reason': 'Unauthorized', 'code': 401})
    assert api.request('GET', '/readyz', cert=False) == (200, 'ok')
    anonymous = tmp_path / 'anonymous.kubeconfig'
    anonymous.write_text(api.config())
    # kubectl with no discovery cache: its discovery (GET /api, /apis) is refused first, and it
    # says so the way it does against a real API server
    fresh = tmp_path / 'home'
    fresh.mkdir()
    proc = api.kubectl('get', 'nodes', kubeconfig=anonymous, check=False, home=fresh)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and lines[-1] == \
        'error: You must be logged in to the server (the server has asked for the client to provide credentials)', proc.stderr
    assert lines[:-1] and all(line.endswith('"Unhandled Error" err="couldn\'t get current server API group list: the server has asked '
                                            'for the client to provide credentials"') for line in lines[:-1]), proc.stderr
    # with the discovery cache an admin's kubectl left for this server: the GET itself is
    # refused, and kubectl reads the Status it gets back
    api.kubectl('get', 'nodes', home=fresh)
    proc = api.kubectl('get', 'nodes', kubeconfig=anonymous, check=False, home=fresh)
    assert proc.returncode == 1 and proc.stderr.strip() == 'error: You must be logged in to the server (Unauthorized)', proc.stderr
    stranger = tmp_path / 'stranger.kubeconfig'  # a client certificate from another CA: the handshake fails
    stranger.write_text(api.config(api.pki['stranger'], api.pki['stranger-key']))
    proc = api.kubectl('get', 'nodes', kubeconfig=stranger, check=False)
    assert proc.returncode == 1 and 'Unable to connect to the server' in proc.stderr or 'certificate' in proc.stderr, proc.stderr


@needs_kubectl
@needs_helm
def test_helm_release(api, tmp_path):
    chart = tmp_path / 'chart'
    (chart / 'templates').mkdir(parents=True)
    (chart / 'Chart.yaml').write_text('apiVersion: v2\nname: demo\nversion: 0.1.0\n')
    (chart / 'templates' / 'cm.yaml').write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo}\ndata: {v: "{{ .Values.v }}"}\n')
    env = dict(os.environ, KUBECONFIG=str(api.kubeconfig), HOME=str(api.home))

    def helm(*args):
        proc = subprocess.run([HELM] + list(args), capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout
    helm('install', 'demo', str(chart), '-n', 'default', '--set', 'v=a')
    helm('upgrade', 'demo', str(chart), '-n', 'default', '--set', 'v=b')
    assert [(r['name'], r['revision'], r['status']) for r in json.loads(helm('list', '-n', 'default', '-o', 'json'))] == [('demo', '2', 'deployed')]
    assert api.kubectl('get', 'cm', 'demo', '-o', 'jsonpath={.data.v}').stdout == 'b'
    helm('uninstall', 'demo', '-n', 'default')
    assert api.kubectl('get', 'secrets', '-l', 'owner=helm', '-o', 'name').stdout == ''


# ---- the kubernetes Python client ------------------------------------------------------------------

def _node(name, labels=None):
    return {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': labels or {}},
            'status': {'conditions': [{'type': 'Ready', 'status': 'False'}, {'type': 'MemoryPressure', 'status': 'False'}]}}


def test_patch_node_as_kubernetes_core(api):
    """kubernetes.core.k8s patches through the DynamicClient: strategic merge by default, merge and json patch on request."""
    kubernetes = pytest.importorskip('kubernetes')
    from kubernetes.dynamic import DynamicClient  # pylint: disable=import-outside-toplevel
    client = api.client()
    nodes = DynamicClient(client).resources.get(api_version='v1', kind='Node')
    nodes.create(body=_node('gpu-w1', {'keep': 'me'}))
    taint = {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}
    out = nodes.patch(name='gpu-w1', body={'metadata': {'labels': {'nvidia.com/gpu.present': 'true'}}, 'spec': {'taints': [taint]}})
    assert out.metadata.labels.to_dict() == {'keep': 'me', 'nvidia.com/gpu.present': 'true'} and [t.to_dict() for t in out.spec.taints] == [taint]
    # spec.taints has no patchMergeKey in the Go types: a strategic merge patch replaces the list
    other = {'key': 'dedicated', 'value': 'ai', 'effect': 'NoExecute'}
    out = nodes.patch(name='gpu-w1', body={'spec': {'taints': [other]}, 'metadata': {'labels': {'keep': None}}})
    assert [t.to_dict() for t in out.spec.taints] == [other] and out.metadata.labels.to_dict() == {'nvidia.com/gpu.present': 'true'}
    # status.conditions merge by type; $patch: delete drops one; $retainKeys keeps the named keys
    conditions = [{'type': 'Ready', 'status': 'True'}, {'type': 'MemoryPressure', '$patch': 'delete'}]
    status = nodes.status.patch(name='gpu-w1', body={'status': {'conditions': conditions}})
    assert [(c.type, c.status) for c in status.status.conditions] == [('Ready', 'True')]
    out = nodes.patch(name='gpu-w1', body={'spec': {'$retainKeys': ['taints'], 'taints': [taint]}})
    assert out.spec.taints[0].key == 'nvidia.com/gpu' and out.metadata.generation == 4
    out = nodes.patch(name='gpu-w1', body={'metadata': {'labels': {'pool': 'a'}}}, content_type='application/merge-patch+json')
    assert out.metadata.labels.pool == 'a'
    out = nodes.patch(name='gpu-w1', body=[{'op': 'remove', 'path': '/metadata/labels/pool'}, {'op': 'add', 'path': '/spec/unschedulable', 'value': True}],
                      content_type='application/json-patch+json')
    assert 'pool' not in out.metadata.labels.to_dict() and out.spec.unschedulable is True
    # the typed API, with the patch type named as kubernetes.core does
    v1 = kubernetes.client.CoreV1Api(client)
    typed = v1.patch_node('gpu-w1', {'metadata': {'labels': {'typed': 'yes'}}}, _content_type='application/strategic-merge-patch+json')
    assert typed.metadata.labels['typed'] == 'yes' and typed.kind == 'Node'
    applied = nodes.server_side_apply(body={'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': 'gpu-w1', 'labels': {'ssa': '1'}}},
                                      field_manager='ansible')
    assert applied.metadata.labels['ssa'] == '1' and 'ansible' in [m.manager for m in applied.metadata.managedFields]
    nodes.delete(name='gpu-w1')


def test_errors_and_preconditions(api):
    kubernetes = pytest.importorskip('kubernetes')
    v1 = kubernetes.client.CoreV1Api(api.client())
    created = v1.create_node(_node('n-err'))
    assert created.metadata.uid and int(created.metadata.resource_version) > 0 and created.metadata.creation_timestamp
    with pytest.raises(kubernetes.client.ApiException) as err:
        v1.create_node(_node('n-err'))
    assert err.value.status == 409 and json.loads(err.value.body)['reason'] == 'AlreadyExists'
    assert json.loads(err.value.body)['message'] == 'nodes "n-err" already exists'
    stale = _node('n-err', {'x': 'y'})
    stale['metadata']['resourceVersion'] = created.metadata.resource_version
    replaced = v1.replace_node('n-err', stale)
    assert replaced.metadata.labels == {'x': 'y'} and int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    with pytest.raises(kubernetes.client.ApiException) as err:
        v1.replace_node('n-err', stale)
    message = json.loads(err.value.body)['message']
    assert err.value.status == 409 and message.startswith('Operation cannot be fulfilled on nodes "n-err": the object has been modified'), message
    status, body = api.request('GET', '/api/v1/nodes/nope')
    assert (status, body['reason'], body['message'], body['details']) == (404, 'NotFound', 'nodes "nope" not found', {'name': 'nope', 'kind': 'nodes'})
    status, body = api.request('GET', '/apis/apps/v1/namespaces/default/deployments/nope')
    assert body['message'] == 'deployments.apps "nope" not found' and body['details']['group'] == 'apps'
    status, body = api.request('POST', '/api/v1/namespaces/nowhere/configmaps', {'metadata': {'name': 'c'}})
    assert (status, body['message']) == (404, 'namespaces "nowhere" not found')
    status, body = api.request('POST', '/api/v1/nodes', {'metadata': {'name': 'Bad_Name'}})
    assert status == 422 and body['reason'] == 'Invalid' and 'metadata.name: Invalid value: "Bad_Name"' in body['message']
    status, table = api.request('GET', '/api/v1/nodes', headers={'Accept': 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'})
    assert table['kind'] == 'Table' and [c['name'] for c in table['columnDefinitions']][:5] == ['Name', 'Status', 'Roles', 'Age', 'Version']
    assert [r['cells'][:3] for r in table['rows'] if r['cells'][0] == 'n-err'] == [['n-err', 'NotReady', '<none>']]
    v1.delete_node('n-err')


def test_selectors(api):
    kubernetes = pytest.importorskip('kubernetes')
    v1 = kubernetes.client.CoreV1Api(api.client())
    for name, labels in (('sel-a', {'pool': 'gpu', 'tier': '1'}), ('sel-b', {'pool': 'cpu'}), ('sel-c', {'pool': 'gpu', 'tier': '2', 'drain': ''})):
        v1.create_node(_node(name, labels))

    def names(**kw):
        return [n.metadata.name for n in v1.list_node(**kw).items if n.metadata.name.startswith('sel-')]
    assert names(label_selector='pool=gpu') == names(label_selector='pool==gpu') == ['sel-a', 'sel-c']
    assert names(label_selector='pool!=gpu') == ['sel-b']
    assert names(label_selector='tier in (1, 3),pool') == ['sel-a']
    assert names(label_selector='tier notin (1)') == ['sel-b', 'sel-c']
    assert names(label_selector='drain') == ['sel-c'] and names(label_selector='!drain,!tier') == ['sel-b']
    assert names(label_selector='tier>1') == ['sel-c']
    assert names(field_selector='metadata.name=sel-b') == ['sel-b'] and names(field_selector='metadata.name!=sel-b') == ['sel-a', 'sel-c']
    page = v1.list_node(label_selector='pool', limit=2)
    assert len(page.items) == 2 and page.metadata._continue and page.kind == 'NodeList'
    rest = v1.list_node(label_selector='pool', limit=2, _continue=page.metadata._continue)
    assert [n.metadata.name for n in page.items + rest.items] == ['sel-a', 'sel-b', 'sel-c'] and not rest.metadata._continue
    cms = v1.list_namespaced_config_map('kube-system', field_selector='metadata.namespace=kube-system')
    assert cms.kind == 'ConfigMapList' and cms.api_version == 'v1'
    v1.delete_collection_node(label_selector='pool')
    assert names() == []


def test_watch(api):
    kubernetes = pytest.importorskip('kubernetes')
    v1 = kubernetes.client.CoreV1Api(api.client())
    start = v1.list_node().metadata.resource_version
    events, ready = [], threading.Event()

    def watch():
        stream = kubernetes.watch.Watch()
        ready.set()
        for event in stream.stream(v1.list_node, resource_version=start, timeout_seconds=10, label_selector='watched=yes'):
            events.append((event['type'], event['object'].metadata.name, event['object'].metadata.labels.get('step')))
            if len(events) == 4:
                stream.stop()
    thread = threading.Thread(target=watch)
    thread.start()
    ready.wait()
    v1.create_node(_node('w1', {'watched': 'yes', 'step': '1'}))
    v1.create_node(_node('w-other', {'watched': 'no'}))
    v1.patch_node('w1', {'metadata': {'labels': {'step': '2'}}}, _content_type='application/merge-patch+json')
    v1.patch_node('w-other', {'metadata': {'labels': {'watched': 'yes'}}}, _content_type='application/merge-patch+json')
    v1.delete_node('w1')
    thread.join(15)
    assert events == [('ADDED', 'w1', '1'), ('MODIFIED', 'w1', '2'), ('ADDED', 'w-other', None), ('DELETED', 'w1', '2')], events
    # from resourceVersion 0: the current objects as ADDED, and the stream ends at timeoutSeconds
    began = time.time()
    initial = list(kubernetes.watch.Watch().stream(v1.list_node, label_selector='watched=yes', timeout_seconds=1))
    assert [(e['type'], e['object'].metadata.name) for e in initial] == [('ADDED', 'w-other')] and time.time() - began < 5
    v1.delete_node('w-other')


@pytest.mark.parametrize('backend', ['etcd', 'files'])
def test_state_survives_restart(tmp_path, backend):
    """Objects, uids and resourceVersions survive a restart of the double, kept in etcd or in files."""
    kubernetes = pytest.importorskip('kubernetes')
    store = []
    if backend == 'etcd':
        server = EtcdServer(tmp_path / 'etcd').start()
        store = ['--etcd-servers', server.url]
    double = Double(tmp_path).start(*store)
    try:
        v1 = kubernetes.client.CoreV1Api(double.client())
        before = v1.create_namespaced_config_map('kube-system', {'metadata': {'name': 'kubeadm-config'}, 'data': {'ClusterConfiguration': 'x'}})
        double.stop()
        double.start('--require-client-cert', *store)  # and now without a client certificate, no TLS handshake either
        with pytest.raises(OSError):  # an SSLError (certificate required) or the URLError of an EOF, by timing
            double.request('GET', '/api/v1/nodes', cert=False)
        v1 = kubernetes.client.CoreV1Api(double.client())
        after = v1.read_namespaced_config_map('kubeadm-config', 'kube-system')
        assert (after.metadata.uid, after.metadata.resource_version, after.data) == (before.metadata.uid, before.metadata.resource_version, before.data)
        assert [ns.metadata.name for ns in v1.list_namespace().items] == ['default', 'kube-node-lease', 'kube-public', 'kube-system']
        newer = v1.create_namespace({'metadata': {'name': 'gpu-operator'}})
        assert int(newer.metadata.resource_version) > int(before.metadata.resource_version)
        assert [sa.metadata.name for sa in v1.list_namespaced_service_account('gpu-operator').items] == ['default']
        if backend == 'files':
            assert os.path.exists(tmp_path / 'state' / 'objects' / 'core' / 'configmaps' / 'kube-system' / 'kubeadm-config.json')
        else:
            assert not os.path.exists(tmp_path / 'state' / 'objects')
            assert server.get('/registry/configmaps/kube-system/kubeadm-config')[1] == int(before.metadata.resource_version)
    finally:
        double.stop()
        if store:
            server.stop()
        shutil.rmtree(tmp_path / 'home', ignore_errors=True)


def test_health_checks_report_etcd(tmp_path):
    """/healthz and /readyz fail while etcd does not answer, as kube-apiserver's etcd check makes them (haproxy's
    health check then takes the server out of the endpoint); /livez leaves etcd out; etcd back, all are ok."""
    server = EtcdServer(tmp_path / 'etcd').start()
    double = Double(tmp_path).start('--etcd-servers', server.url)
    try:
        assert [double.request('GET', '/' + check, cert=False) for check in ('healthz', 'readyz', 'livez')] == [(200, 'ok')] * 3
        server.stop()
        for check in ('healthz', 'readyz'):
            assert double.request('GET', '/' + check, cert=False) == (
                500, '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n%s check failed\n' % check)
        assert double.request('GET', '/livez', cert=False) == (200, 'ok')
        server.start()
        assert double.request('GET', '/healthz', cert=False) == (200, 'ok')
    finally:
        double.stop()
        server.stop()
        shutil.rmtree(tmp_path / 'home', ignore_errors=True)


def test_two_api_servers_share_one_etcd(tmp_path, etcd):
    """What the HA control plane needs of the double: two API servers on one etcd see the same objects,
    uids and resourceVersions; a watch on one gets the writes through the other; a write with a stale
    resourceVersion, or a create of a name the other made, is refused as by one server. In etcd, each
    object is kube-apiserver's key, its value without a resourceVersion: the key's mod_revision is it."""
    kubernetes = pytest.importorskip('kubernetes')
    flags = ('--etcd-servers', etcd.url, '--etcd-prefix', '/registry-ha')
    (tmp_path / 'one').mkdir()
    (tmp_path / 'two').mkdir()
    one, two = Double(tmp_path / 'one').start(*flags), Double(tmp_path / 'two').start(*flags)
    try:
        v1_one, v1_two = (kubernetes.client.CoreV1Api(d.client()) for d in (one, two))
        start = v1_two.list_node().metadata.resource_version
        seen = []

        def watch():
            for event in kubernetes.watch.Watch().stream(v1_two.list_node, resource_version=start, timeout_seconds=5):
                seen.append((event['type'], event['object'].metadata.name, event['object'].metadata.resource_version))
                if len(seen) == 2:
                    break
        thread = threading.Thread(target=watch)
        thread.start()
        made = v1_one.create_node(_node('ha-1', {'step': '1'}))
        same = v1_two.read_node('ha-1')
        assert (same.metadata.uid, same.metadata.resource_version) == (made.metadata.uid, made.metadata.resource_version)
        changed = v1_two.patch_node('ha-1', {'metadata': {'labels': {'step': '2'}}}, _content_type='application/merge-patch+json')
        assert v1_one.read_node('ha-1').metadata.labels['step'] == '2'
        thread.join(10)
        assert seen == [('ADDED', 'ha-1', made.metadata.resource_version), ('MODIFIED', 'ha-1', changed.metadata.resource_version)], seen
        stale = dict(made.to_dict(), metadata={'name': 'ha-1', 'resourceVersion': made.metadata.resource_version, 'labels': {'step': '3'}})
        status, answer = one.request('PUT', '/api/v1/nodes/ha-1', dict(stale, apiVersion='v1', kind='Node'))
        assert (status, answer['reason']) == (409, 'Conflict'), answer
        status, answer = two.request('POST', '/api/v1/nodes', {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': 'ha-1'}})
        assert (status, answer['reason']) == (409, 'AlreadyExists'), answer
        value, revision = etcd.get('/registry-ha/nodes/ha-1')
        assert revision == int(changed.metadata.resource_version) and 'resourceVersion' not in json.loads(value)['metadata']
        assert etcd.get('/registry-ha/namespaces/kube-system') and etcd.get('/registry-ha/serviceaccounts/kube-system/default')
        v1_two.delete_node('ha-1')
        assert etcd.get('/registry-ha/nodes/ha-1') is None
        with pytest.raises(kubernetes.client.exceptions.ApiException):
            v1_one.read_node('ha-1')
    finally:
        one.stop()
        two.stop()


# ---- bootstrap tokens, anonymous discovery, CertificateSigningRequests (kubeadm join's path) ---------------

def _token_secret(token_id, secret, expiration=None, string_data=False, **extra):
    data = {'token-id': token_id, 'token-secret': secret, 'usage-bootstrap-authentication': 'true', 'usage-bootstrap-signing': 'true',
            'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token'}
    if expiration:
        data['expiration'] = expiration
    data.update(extra)
    body = {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'bootstrap.kubernetes.io/token',
            'metadata': {'name': 'bootstrap-token-' + token_id, 'namespace': 'kube-system'}}
    if string_data:
        body['stringData'] = data
    else:
        body['data'] = dict((k, base64.b64encode(v.encode()).decode()) for k, v in data.items())
    return body


def _rfc3339(delta):
    return (datetime.datetime.now(datetime.timezone.utc) + delta).strftime('%Y-%m-%dT%H:%M:%SZ')


def _csr_pem(cn, orgs):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(cn, orgs)).sign(key, hashes.SHA256())
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


def test_bootstrap_token_authentication(api):
    later, past = _rfc3339(datetime.timedelta(hours=1)), _rfc3339(-datetime.timedelta(minutes=1))
    assert api.request('POST', '/api/v1/namespaces/kube-system/secrets', _token_secret('abcdef', '0123456789abcdef', later))[0] == 201
    assert api.request('POST', '/api/v1/namespaces/kube-system/secrets', _token_secret('oldtok', '0123456789abcdef', past, True))[0] == 201
    assert api.request('POST', '/api/v1/namespaces/kube-system/secrets',
                       _token_secret('noauth', '0123456789abcdef', string_data=True, **{'usage-bootstrap-authentication': 'false'}))[0] == 201

    def whoami(token):
        return api.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {'kind': 'SelfSubjectReview'}, cert=False,
                           headers={'Authorization': 'Bearer ' + token})
    status, review = whoami('abcdef.0123456789abcdef')
    assert status == 201 and review['status']['userInfo'] == {
        'username': 'system:bootstrap:abcdef',
        'groups': ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']}, review
    unauthorized = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'message': 'Unauthorized',
                    'reason': 'Unauthorized', 'code': 401}
    for token in ('abcdef.0123456789abcdeX', 'oldtok.0123456789abcdef', 'noauth.0123456789abcdef', 'nosuch.0123456789abcdef', 'garbage'):
        assert whoami(token) == (401, unauthorized), token
    # the stored secret (stringData written into data, base64)
    status, stored = api.request('GET', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-oldtok')
    assert 'stringData' not in stored and base64.b64decode(stored['data']['token-secret']).decode() == '0123456789abcdef'


def test_anonymous_requests(api):
    assert api.request('GET', '/version', cert=False)[1]['gitVersion'] == 'v' + VERSION
    assert api.request('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', cert=False)[0] == 404
    info = {'metadata': {'name': 'cluster-info', 'namespace': 'kube-public'}, 'data': {'kubeconfig': 'apiVersion: v1\nkind: Config\n'}}
    assert api.request('POST', '/api/v1/namespaces/kube-public/configmaps', info)[0] == 201
    status, body = api.request('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info', cert=False)
    assert status == 200 and body['data']['kubeconfig'].startswith('apiVersion: v1'), body
    for method, path in (('GET', '/api/v1/namespaces/kube-system/secrets'), ('GET', '/api/v1/namespaces/kube-public/configmaps'),
                         ('PUT', '/api/v1/namespaces/kube-public/configmaps/cluster-info'), ('GET', '/api')):
        status, body = api.request(method, path, info if method == 'PUT' else None, cert=False)
        assert (status, body['reason']) == (401, 'Unauthorized'), (method, path)
    api.request('DELETE', '/api/v1/namespaces/kube-public/configmaps/cluster-info')


def test_certificate_signing_requests(api):
    later = _rfc3339(datetime.timedelta(hours=1))
    api.request('POST', '/api/v1/namespaces/kube-system/secrets', _token_secret('csrtok', 'abcdef0123456789', later))
    bearer = {'Authorization': 'Bearer csrtok.abcdef0123456789'}
    body = {'apiVersion': 'certificates.k8s.io/v1', 'kind': 'CertificateSigningRequest', 'metadata': {'generateName': 'csr-'},
            'spec': {'request': _csr_pem('system:node:w1', ['system:nodes']), 'signerName': 'kubernetes.io/kube-apiserver-client-kubelet',
                     'usages': ['digital signature', 'client auth'], 'username': 'system:admin', 'groups': ['system:masters']}}
    status, csr = api.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', body, cert=False, headers=bearer)
    assert status == 201 and csr['metadata']['name'].startswith('csr-'), csr
    assert (csr['spec']['username'], csr['spec']['groups']) == (
        'system:bootstrap:csrtok', ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'])
    name = csr['metadata']['name']
    path = '/apis/certificates.k8s.io/v1/certificatesigningrequests/' + name
    status, bad = api.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests',
                              dict(body, spec=dict(body['spec'], request='bm90IGEgY3Ny')))
    assert status == 422 and 'spec.request' in bad['message'], bad
    status, table = api.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests',
                                headers={'Accept': 'application/json;as=Table;v=v1;g=meta.k8s.io'})
    assert [c['name'] for c in table['columnDefinitions']] == ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']
    row = [r['cells'] for r in table['rows'] if r['cells'][0] == name][0]
    assert row[2:] == ['kubernetes.io/kube-apiserver-client-kubelet', 'system:bootstrap:csrtok', '<none>', 'Pending'], row

    approval = dict(csr, status={'conditions': [{'type': 'Approved', 'status': 'True', 'reason': 'AutoApproved', 'message': 'ok'}]})
    approval['spec'] = dict(csr['spec'], username='someone-else')  # ignored by the approval subresource
    status, approved = api.request('PUT', path + '/approval', approval)
    assert status == 200 and approved['spec']['username'] == 'system:bootstrap:csrtok', approved
    cond = approved['status']['conditions'][0]
    assert (cond['type'], cond['reason']) == ('Approved', 'AutoApproved') and cond['lastUpdateTime'] and cond['lastTransitionTime']
    status, signed = api.request('PUT', path + '/status', dict(approved, status=dict(approved['status'], certificate='Y2VydA==')))
    assert status == 200 and signed['status']['certificate'] == 'Y2VydA==' and signed['status']['conditions'] == approved['status']['conditions']
    both = dict(signed, status={'conditions': [dict(cond), {'type': 'Denied', 'status': 'True', 'reason': 'No'}]})
    assert api.request('PUT', path + '/approval', both)[0] == 422
    status, table = api.request('GET', path, headers={'Accept': 'application/json;as=Table;v=v1;g=meta.k8s.io'})
    assert table['rows'][0]['cells'][5] == 'Approved,Issued'
    status, resources = api.request('GET', '/apis/certificates.k8s.io/v1')
    assert [(r['name'], r.get('shortNames')) for r in resources['resources']] == [
        ('certificatesigningrequests', ['csr']), ('certificatesigningrequests/status', None), ('certificatesigningrequests/approval', None)]
    assert api.request('DELETE', path)[0] == 200


def test_etcd_compaction(tmp_path, etcd):
    """As kube-apiserver's --etcd-compaction-interval: etcd's history before the previous round is compacted."""
    double = Double(tmp_path).start('--etcd-servers', etcd.url, '--etcd-prefix', '/registry-compacted', '--etcd-compaction-interval', '1s')
    try:
        first = int(double.request('POST', '/api/v1/namespaces', {'metadata': {'name': 'compacted'}})[1]['metadata']['resourceVersion'])
        deadline = time.time() + 10
        while True:
            query = {'key': base64.b64encode(b'/registry-compacted/').decode(), 'revision': str(first)}
            old = json.loads(etcd.call('POST', '/v3/kv/range', query))
            if 'compacted' in old.get('error', ''):
                break
            assert time.time() < deadline, old
            time.sleep(0.5)
        assert double.request('GET', '/api/v1/namespaces/compacted')[0] == 200
        assert double.request('PUT', '/api/v1/namespaces/compacted', {'metadata': {'name': 'compacted', 'labels': {'x': 'y'}}})[0] == 200
    finally:
        double.stop()


def test_etcd_compaction_interval_is_a_duration(tmp_path):
    proc = subprocess.run([sys.executable, DOUBLE, '--tls-cert', 'x', '--tls-key', 'x', '--client-ca', 'x', '--etcd-compaction-interval', '5'],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2 and "--etcd-compaction-interval: invalid duration '5'" in proc.stderr


def test_kube_apiserver_command_line(tmp_path, etcd):
    """The flags of kubeadm's static Pod manifest; the objects in the etcd of --etcd-servers."""
    (tmp_path / 'root/etc/kubernetes/pki').mkdir(parents=True)
    pki = dict((k, '/etc/kubernetes/pki/' + os.path.basename(v)) for k, v in make_pki(tmp_path / 'root/etc/kubernetes/pki').items())
    port = free_port()
    flags = ['--advertise-address=127.0.0.1', '--allow-privileged=true', '--authorization-mode=Node,RBAC', '--client-ca-file=' + pki['ca'],
             '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true', '--etcd-servers', etcd.url,
             '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt', '--proxy-client-cert-file=/x',
             '--requestheader-allowed-names=front-proxy-client', '--secure-port=%d' % port, '--bind-address', '127.0.0.1',
             '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-cluster-ip-range=10.96.0.0/12',
             '--tls-cert-file', pki['server'], '--tls-private-key-file=' + pki['server-key'], '--v=2', '--version', 'v1.34.2']
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path / 'root'))
    proc = subprocess.Popen([sys.executable, DOUBLE] + flags, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert 'listening on https://127.0.0.1:%d' % port in line, line + proc.stderr.read() if proc.poll() is not None else line
        ctx = ssl.create_default_context(cafile=str(tmp_path / 'root') + pki['ca'])
        with urllib.request.urlopen('https://127.0.0.1:%d/version' % port, context=ctx, timeout=10) as resp:
            assert json.loads(resp.read())['gitVersion'] == 'v1.34.2'
        assert etcd.get('/registry/namespaces/kube-system') and not (tmp_path / 'root' / 'var/lib/aifabric-sim/kubeapi/objects').exists()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
