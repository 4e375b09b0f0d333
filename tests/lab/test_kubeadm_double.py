"""The kubeadm test double (lab/sim-packages/kubeadm, usr/lib/aifabric-sim/kubeadm.py).

Run with AIFABRIC_SIM_ROOT=tmp_path (every host path under it, no root check). `init` runs end
to end against the REAL API server double (lab/simulators/kubeapi/kubeapi.py): a fake
`systemctl`, first on PATH, starts the API server double on `restart kubelet` with the
certificates kubeadm just wrote (what the kubelet double does from the kube-apiserver manifest)
and registers the Node object (what the kubelet does), and stops it on `stop kubelet`.
The join side needs the API server double's bootstrap-token and anonymous authentication and
the controller double's JWS signing: its pieces are tested here as functions of the module.
"""
import base64
import hashlib
import importlib.util
import ipaddress
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import types

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from labtest import ETCD, issue_cert, to_pem, write_file, x509_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBEADM = os.path.join(ROOT, 'lab', 'sim-packages', 'kubeadm', 'usr', 'lib', 'aifabric-sim', 'kubeadm.py')
KUBEAPI = os.path.join(ROOT, 'lab', 'simulators', 'kubeapi', 'kubeapi.py')
NODE = 'cp1'
TOKEN = 'abcdef.0123456789abcdef'
CERT_KEY = '0f' * 32


def load_module():
    spec = importlib.util.spec_from_file_location('kubeadm_double', KUBEADM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kubeadm = load_module()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# a fake systemctl: `restart kubelet` starts a fake kubelet, `stop kubelet` stops it. The fake kubelet does what the
# kubelet double does with the kube-apiserver manifest: it runs the API server double with the manifest's image tag as
# --version and restarts it when the manifest changes (unless <state>/freeze exists); it registers this node (Ready,
# kubeletVersion of the kubeadm module it loads, as a v1.34.2 kubelet would report).
FAKE_SYSTEMCTL = """#!%(python)s
import os, signal, subprocess, sys, time
root, state = os.environ['AIFABRIC_SIM_ROOT'], %(state)r
with open(os.path.join(state, 'systemctl.log'), 'a') as log:
    log.write(' '.join(sys.argv[1:]) + '\\n')
pidfile = os.path.join(state, 'kubelet.pid')


def alive(pid):
    try:
        return open('/proc/%%d/stat' %% pid).read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def stop():
    if os.path.exists(pidfile):
        pid = int(open(pidfile).read())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.1)
        os.unlink(pidfile)


if sys.argv[1:] == ['stop', 'kubelet']:
    stop()
    sys.exit(0)
if sys.argv[1:] == ['stop', 'aifabric-static-*']:  # the kubelet double's static Pod units (none here)
    sys.exit(0)
if sys.argv[1:] != ['restart', 'kubelet'] or %(fail)r:
    sys.stderr.write('Failed to restart kubelet.service: Unit kubelet.service not found.\\n')
    sys.exit(5)
stop()
out = open(os.path.join(state, 'kubelet.log'), 'a')
proc = subprocess.Popen([sys.executable, %(kubelet)r], stdout=out, stderr=out, start_new_session=True)
open(pidfile, 'w').write(str(proc.pid))
"""

FAKE_KUBELET = """#!%(python)s
import hashlib, importlib.util, os, signal, subprocess, sys, time
import yaml
root, state = os.environ['AIFABRIC_SIM_ROOT'], %(state)r
pki = os.path.join(root, 'etc/kubernetes/pki')
manifest = os.path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml')
child = [None]


def stop_child():
    if child[0] is not None and child[0].poll() is None:
        child[0].terminate()
        child[0].wait(10)
    if os.path.exists(os.path.join(state, 'kubeapi.pid')):
        os.unlink(os.path.join(state, 'kubeapi.pid'))


def on_term(*_):
    stop_child()
    sys.exit(0)


def start(raw):
    tag = yaml.safe_load(raw)['spec']['containers'][0]['image'].rsplit(':', 1)[1]
    out = open(os.path.join(state, 'kubeapi.log'), 'a')
    child[0] = subprocess.Popen([sys.executable, %(kubeapi)r, '--listen', '127.0.0.1:%(port)d', '--tls-cert', pki + '/apiserver.crt',
                                 '--tls-key', pki + '/apiserver.key', '--client-ca', pki + '/ca.crt', '--state-dir',
                                 os.path.join(state, 'api'), '--version', tag.lstrip('v')], stdout=out, stderr=out)
    open(os.path.join(state, 'kubeapi.pid'), 'w').write(str(child[0].pid))


signal.signal(signal.SIGTERM, on_term)
spec = importlib.util.spec_from_file_location('k', %(kubeadm)r)
k = importlib.util.module_from_spec(spec)
spec.loader.exec_module(k)
node = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': %(node)r},
        'status': {'nodeInfo': {'kubeletVersion': k.VERSION},
                   'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status'}]}}
digest, registered = None, False
while True:
    try:
        raw = open(manifest, 'rb').read()
    except OSError:
        raw = None
    if raw is not None and hashlib.sha256(raw).hexdigest() != digest and not os.path.exists(os.path.join(state, 'freeze')):
        stop_child()
        start(raw)
        digest = hashlib.sha256(raw).hexdigest()
    if child[0] is not None and not registered:
        try:
            k.Client.from_kubeconfig(k.ADMIN_CONF).request('POST', '/api/v1/nodes', node)
            registered = True
        except k.ApiError as exc:
            registered = exc.status == 409
        except Exception:
            pass
    time.sleep(0.2)
"""


class Host(object):
    """A simulated host root (AIFABRIC_SIM_ROOT) with a fake systemctl first on PATH."""

    def __init__(self, tmp_path, fail_systemctl=False):
        self.root = tmp_path / 'root'
        self.state = tmp_path / 'state'
        self.bin = tmp_path / 'bin'
        self.port = free_port()
        for d in (self.root / 'proc/sys/net/ipv4', self.root / 'run/containerd', self.state / 'api', self.bin):
            d.mkdir(parents=True, exist_ok=True)
        (self.root / 'proc/swaps').write_text('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')
        (self.root / 'proc/sys/net/ipv4/ip_forward').write_text('1\n')
        (self.root / 'run/containerd/containerd.sock').write_text('')
        values = {'python': sys.executable, 'state': str(self.state), 'kubeapi': KUBEAPI, 'port': self.port, 'kubeadm': KUBEADM,
                  'node': NODE, 'fail': fail_systemctl, 'kubelet': str(self.bin / 'fake-kubelet')}
        for name, text in (('systemctl', FAKE_SYSTEMCTL), ('fake-kubelet', FAKE_KUBELET)):
            (self.bin / name).write_text(text % values)
            (self.bin / name).chmod(0o755)
        self.config = tmp_path / 'kubeadm.yaml'
        self.write_config()

    def write_config(self, **changes):
        init = {'apiVersion': 'kubeadm.k8s.io/v1beta4', 'kind': 'InitConfiguration',
                'bootstrapTokens': [{'token': TOKEN, 'ttl': '24h0m0s', 'usages': ['signing', 'authentication'],
                                     'groups': ['system:bootstrappers:kubeadm:default-node-token']}],
                'nodeRegistration': {'name': NODE, 'criSocket': 'unix:///run/containerd/containerd.sock',
                                     'taints': [{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'},
                                                {'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}],
                                     'kubeletExtraArgs': [{'name': 'node-ip', 'value': '127.0.0.1'},
                                                          {'name': 'node-labels', 'value': 'aifabric/pool=gpu'}]},
                'localAPIEndpoint': {'advertiseAddress': '127.0.0.1', 'bindPort': self.port}}
        init.update(changes.pop('init', {}))
        cluster = {'apiVersion': 'kubeadm.k8s.io/v1beta4', 'kind': 'ClusterConfiguration', 'clusterName': 'kubernetes',
                   'kubernetesVersion': 'v1.34.2', 'controlPlaneEndpoint': '127.0.0.1:%d' % self.port,
                   'networking': {'podSubnet': '10.244.0.0/16', 'serviceSubnet': '10.96.0.0/12'},
                   'apiServer': {'certSANs': ['127.0.0.1', 'k8s.example.test']}, 'etcd': {'local': {'dataDir': '/var/lib/etcd'}}}
        kubelet = {'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration', 'cgroupDriver': 'systemd',
                   'failSwapOn': True}
        self.config.write_text(yaml.safe_dump_all([init, cluster, kubelet] + changes.pop('extra', [])))

    def path(self, rel):
        return self.root / rel.lstrip('/')

    def run(self, *args, stdin=None, script=KUBEADM, root=None, hostname=NODE):
        env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root or self.root), AIFABRIC_SIM_HOSTNAME=hostname,
                   PATH='%s:%s' % (self.bin, os.environ.get('PATH', '')))
        return subprocess.run([sys.executable, str(script)] + list(args), capture_output=True, text=True, env=env,
                              input=stdin, timeout=300, check=False)

    def stop(self):
        for name in ('kubelet.pid', 'kubeapi.pid'):
            pidfile = self.state / name
            if pidfile.exists():
                try:
                    os.kill(int(pidfile.read_text()), signal.SIGTERM)
                except ProcessLookupError:
                    pass
                pidfile.unlink()

    def client(self):
        os.environ['AIFABRIC_SIM_ROOT'] = str(self.root)
        try:
            kubeadm.ROOT = str(self.root)
            return kubeadm.Client.from_kubeconfig(kubeadm.ADMIN_CONF)
        finally:
            del os.environ['AIFABRIC_SIM_ROOT']


@pytest.fixture
def node(tmp_path):
    host = Host(tmp_path)
    yield host
    host.stop()
    kubeadm.ROOT = ''


def files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob('*') if p.is_file())


def load_cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject(cert):
    return ([a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)],
            [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)])


# ---- version and config validate ------------------------------------------------------------

def test_version_outputs(node):
    assert node.run('version', '-o', 'short').stdout == 'v1.34.2\n'
    info = json.loads(node.run('version', '-o=json').stdout)['clientVersion']
    assert info['gitVersion'] == 'v1.34.2' and info['major'] == '1' and info['minor'] == '34' and info['platform'] == 'linux/amd64'
    assert set(info) == {'major', 'minor', 'gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion', 'compiler', 'platform'}
    assert yaml.safe_load(node.run('version', '--output', 'yaml').stdout)['clientVersion']['gitVersion'] == 'v1.34.2'
    assert node.run('version').stdout.startswith('kubeadm version: &version.Info{Major:"1", Minor:"34"')
    bad = node.run('version', '-o', 'xml')
    assert bad.returncode == 1 and 'invalid output format: xml' in bad.stderr


def test_config_validate(node, tmp_path):
    ok = node.run('config', 'validate', '--config', str(node.config))
    assert ok.returncode == 0 and ok.stdout == 'ok\n', ok.stderr
    v3 = tmp_path / 'v3.yaml'
    v3.write_text(yaml.safe_dump_all([
        {'apiVersion': 'kubeadm.k8s.io/v1beta3', 'kind': 'JoinConfiguration',
         'nodeRegistration': {'name': 'w1', 'kubeletExtraArgs': {'node-ip': '10.0.0.2'}},
         'discovery': {'bootstrapToken': {'apiServerEndpoint': '10.0.0.1:6443', 'token': TOKEN, 'caCertHashes': ['sha256:' + 'a' * 64]}}}]))
    assert node.run('config', 'validate', '--config', str(v3)).stdout == 'ok\n'
    bad_kind = tmp_path / 'bad-kind.yaml'
    bad_kind.write_text('apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfigurashun\n')
    res = node.run('config', 'validate', '--config', str(bad_kind))
    assert res.returncode == 1 and res.stdout == ''
    assert 'no kind "InitConfigurashun" is registered for version "kubeadm.k8s.io/v1beta4" in scheme' in res.stderr
    bad_api = tmp_path / 'bad-api.yaml'
    bad_api.write_text('apiVersion: kubeadm.k8s.io/v1beta9\nkind: InitConfiguration\n')
    res = node.run('config', 'validate', '--config', str(bad_api))
    assert res.returncode == 1 and 'no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta9"' in res.stderr
    old = tmp_path / 'old.yaml'
    old.write_text('apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n')
    assert 'uses an old API spec' in node.run('config', 'validate', '--config', str(old)).stderr
    missing = node.run('config', 'validate', '--config', str(tmp_path / 'nope.yaml'))
    assert missing.returncode == 1 and 'unable to read config from' in missing.stderr


# ---- preflight ---------------------------------------------------------------------------------

def _preflight_fails(node, check, *args):
    before = files(node.root)
    res = node.run('init', '--config', str(node.config), *args)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR %s]: ' % check in res.stderr, res.stderr
    assert '--ignore-preflight-errors=...' in res.stderr and 'To see the stack trace of this error' in res.stderr
    assert files(node.root) == before, 'a failed preflight writes nothing'
    assert not (node.state / 'systemctl.log').exists()
    return res


def test_preflight_swap(node):
    node.path('/proc/swaps').write_text(node.path('/proc/swaps').read_text() + '/swap.img\tfile\t2097148\t0\t-2\n')
    res = _preflight_fails(node, 'Swap')
    assert '[ERROR Swap]: running with swap on is not supported. Please disable swap' in res.stderr
    ok = node.run('init', '--config', str(node.config), '--ignore-preflight-errors=Swap,Port-10250', '--dry-run', '--bad-flag')
    assert 'unknown flag: --bad-flag' in ok.stderr


def test_preflight_ip_forward(node):
    node.path('/proc/sys/net/ipv4/ip_forward').write_text('0\n')
    res = _preflight_fails(node, 'FileContent--proc-sys-net-ipv4-ip_forward')
    assert '/proc/sys/net/ipv4/ip_forward contents are not set to 1' in res.stderr


def test_preflight_port_in_use(node):
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', node.port))
        busy.listen(1)
        res = _preflight_fails(node, 'Port-%d' % node.port)
    assert 'Port %d is in use' % node.port in res.stderr


def test_preflight_manifest_and_etcd_dir(node):
    manifests = node.path('/etc/kubernetes/manifests')
    manifests.mkdir(parents=True)
    (manifests / 'kube-apiserver.yaml').write_text('x')
    node.path('/var/lib/etcd/member').mkdir(parents=True)
    res = _preflight_fails(node, 'FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml')
    assert '/etc/kubernetes/manifests/kube-apiserver.yaml already exists' in res.stderr
    assert '\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty' in res.stderr


def test_preflight_cri_socket(node):
    node.path('/run/containerd/containerd.sock').unlink()
    res = _preflight_fails(node, 'CRI')
    assert 'unix:///run/containerd/containerd.sock' in res.stderr


def test_join_preflight_manifests_dir_not_empty(node, tmp_path):
    node.path('/etc/kubernetes/manifests').mkdir(parents=True)
    node.path('/etc/kubernetes/manifests/x.yaml').write_text('x')
    node.path('/etc/kubernetes/kubelet.conf').write_text('x')
    res = node.run('join', '127.0.0.1:1', '--token', TOKEN, '--discovery-token-ca-cert-hash', 'sha256:' + 'a' * 64)
    assert res.returncode == 1
    assert '\t[ERROR DirAvailable--etc-kubernetes-manifests]: /etc/kubernetes/manifests is not empty' in res.stderr
    assert '\t[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists' in res.stderr
    no_hash = node.run('join', '127.0.0.1:1', '--token', TOKEN)
    assert no_hash.returncode == 1 and 'without caCertHashes can be unsafe' in no_hash.stderr


# ---- init end to end ------------------------------------------------------------------------

def test_init_end_to_end(node):  # pylint: disable=too-many-locals,too-many-statements
    res = node.run('init', '--config', str(node.config), '--upload-certs', '--certificate-key', CERT_KEY)
    assert res.returncode == 0, res.stdout + res.stderr + (node.state / 'kubeapi.log').read_text()
    out = res.stdout
    lines = out.splitlines()
    order = ['[init] Using Kubernetes version: v1.34.2', '[preflight] Running pre-flight checks', '[certs] Using certificateDir folder',
             '[certs] Generating "ca" certificate and key', '[certs] Generating "sa" key and public key',
             '[kubeconfig] Writing "admin.conf" kubeconfig file', '[etcd] Creating static Pod manifest for local etcd',
             '[control-plane] Creating static Pod manifest for "kube-apiserver"', '[kubelet-start] Starting the kubelet',
             '[control-plane-check] kube-apiserver is healthy after', '[upload-config] Storing the configuration',
             '[upload-certs] Storing the certificates in Secret "kubeadm-certs"', '[upload-certs] Using certificate key:',
             '[mark-control-plane] Marking the node cp1 as control-plane by adding the labels', '[bootstrap-token] Using token: ' + TOKEN,
             '[bootstrap-token] Creating the "cluster-info" ConfigMap', '[addons] Applied essential addon: CoreDNS',
             '[addons] Applied essential addon: kube-proxy', 'Your Kubernetes control-plane has initialized successfully!']
    positions = [next(i for i, line in enumerate(lines) if line.startswith(want)) for want in order]
    assert positions == sorted(positions), out
    assert '[certs] apiserver serving cert is signed for DNS names [kubernetes kubernetes.default kubernetes.default.svc ' \
           'kubernetes.default.svc.cluster.local cp1 k8s.example.test] and IPs [10.96.0.1 127.0.0.1]' in out
    assert ('[mark-control-plane] Marking the node cp1 as control-plane by adding the taints '
            '[node-role.kubernetes.io/control-plane:NoSchedule nvidia.com/gpu=present:NoSchedule]') in out

    pki = node.path('/etc/kubernetes/pki')
    ca = load_cert(pki / 'ca.crt')
    assert subject(ca) == (['kubernetes'], [])
    assert 3640 < (kubeadm._not_after(ca) - kubeadm._not_before(ca)).days <= 3650
    expected = {'apiserver': ('kube-apiserver', [], ExtendedKeyUsageOID.SERVER_AUTH, 'ca'),
                'apiserver-kubelet-client': ('kube-apiserver-kubelet-client', ['kubeadm:cluster-admins'], ExtendedKeyUsageOID.CLIENT_AUTH, 'ca'),
                'front-proxy-client': ('front-proxy-client', [], ExtendedKeyUsageOID.CLIENT_AUTH, 'front-proxy-ca'),
                'etcd/server': (NODE, [], ExtendedKeyUsageOID.SERVER_AUTH, 'etcd/ca'),
                'etcd/peer': (NODE, [], ExtendedKeyUsageOID.SERVER_AUTH, 'etcd/ca'),
                'etcd/healthcheck-client': ('kube-etcd-healthcheck-client', [], ExtendedKeyUsageOID.CLIENT_AUTH, 'etcd/ca'),
                'apiserver-etcd-client': ('kube-apiserver-etcd-client', [], ExtendedKeyUsageOID.CLIENT_AUTH, 'etcd/ca')}
    for rel, (common, orgs, usage, signer) in expected.items():
        cert = load_cert(pki / (rel + '.crt'))
        issuer = load_cert(pki / (signer + '.crt'))
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        assert subject(cert) == ([common], orgs), rel
        assert usage in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value, rel
        assert 364 <= (kubeadm._not_after(cert) - kubeadm._not_before(cert)).days <= 365, rel
        assert stat.S_IMODE((pki / (rel + '.key')).stat().st_mode) == 0o600, rel
    sans = load_cert(pki / 'apiserver.crt').extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {'kubernetes', 'kubernetes.default', 'kubernetes.default.svc',
                                                           'kubernetes.default.svc.cluster.local', NODE, 'k8s.example.test'}
    assert set(sans.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address('10.96.0.1'), ipaddress.ip_address('127.0.0.1')}
    for rel in ('ca', 'front-proxy-ca', 'etcd/ca'):
        assert load_cert(pki / (rel + '.crt')).extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE((pki / 'sa.key').stat().st_mode) == 0o600 and (pki / 'sa.pub').read_text().startswith('-----BEGIN PUBLIC KEY')

    conf_subjects = {'admin.conf': ('kubernetes-admin', ['kubeadm:cluster-admins'], 'https://127.0.0.1:%d' % node.port),
                     'super-admin.conf': ('kubernetes-super-admin', ['system:masters'], None),
                     'kubelet.conf': ('system:node:cp1', ['system:nodes'], None),
                     'controller-manager.conf': ('system:kube-controller-manager', [], None),
                     'scheduler.conf': ('system:kube-scheduler', [], None)}
    for filename, (common, orgs, server) in conf_subjects.items():
        path = node.path('/etc/kubernetes/' + filename)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, filename
        conf = yaml.safe_load(path.read_text())
        assert conf['clusters'][0]['cluster']['server'] == server or 'https://127.0.0.1:%d' % node.port
        assert base64.b64decode(conf['clusters'][0]['cluster']['certificate-authority-data']) == (pki / 'ca.crt').read_bytes()
        client_cert = x509.load_pem_x509_certificate(base64.b64decode(conf['users'][0]['user']['client-certificate-data']))
        assert subject(client_cert) == ([common], orgs), filename

    manifests = node.path('/etc/kubernetes/manifests')
    assert sorted(p.name for p in manifests.iterdir()) == ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml',
                                                           'kube-scheduler.yaml']
    api = yaml.safe_load((manifests / 'kube-apiserver.yaml').read_text())
    container = api['spec']['containers'][0]
    assert container['image'] == 'registry.k8s.io/kube-apiserver:v1.34.2'
    for flag in ('--advertise-address=127.0.0.1', '--secure-port=%d' % node.port, '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
                 '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key', '--client-ca-file=/etc/kubernetes/pki/ca.crt',
                 '--etcd-servers=https://127.0.0.1:2379', '--service-cluster-ip-range=10.96.0.0/12', '--enable-bootstrap-token-auth=true'):
        assert flag in container['command'], flag
    kcm = yaml.safe_load((manifests / 'kube-controller-manager.yaml').read_text())['spec']['containers'][0]['command']
    for flag in ('--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt', '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key',
                 '--kubeconfig=/etc/kubernetes/controller-manager.conf', '--controllers=*,bootstrapsigner,tokencleaner',
                 '--cluster-cidr=10.244.0.0/16'):
        assert flag in kcm, flag

    kubelet = yaml.safe_load(node.path('/var/lib/kubelet/config.yaml').read_text())
    assert kubelet['staticPodPath'] == '/etc/kubernetes/manifests' and kubelet['clusterDNS'] == ['10.96.0.10']
    assert kubelet['authentication']['x509']['clientCAFile'] == '/etc/kubernetes/pki/ca.crt'
    assert kubelet['cgroupDriver'] == 'systemd' and kubelet['rotateCertificates'] is True and kubelet['clusterDomain'] == 'cluster.local'
    assert kubelet['containerRuntimeEndpoint'] == 'unix:///run/containerd/containerd.sock'
    flags_env = node.path('/var/lib/kubelet/kubeadm-flags.env').read_text()
    assert flags_env.startswith('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock ')
    for flag in ('--node-ip=127.0.0.1', '--node-labels=aifabric/pool=gpu', '--pod-infra-container-image=registry.k8s.io/pause:3.10.1',
                 '--register-with-taints=node-role.kubernetes.io/control-plane:NoSchedule,nvidia.com/gpu=present:NoSchedule'):
        assert flag in flags_env, flag
    assert (node.state / 'systemctl.log').read_text() == 'restart kubelet\n'

    client = node.client()
    cms = dict((name, client.get('/api/v1/namespaces/%s/configmaps/%s' % (ns, name))['data'])
               for ns, name in (('kube-system', 'kubeadm-config'), ('kube-system', 'kubelet-config'), ('kube-public', 'cluster-info')))
    cluster = yaml.safe_load(cms['kubeadm-config']['ClusterConfiguration'])
    assert cluster['kind'] == 'ClusterConfiguration' and cluster['networking']['podSubnet'] == '10.244.0.0/16'
    assert yaml.safe_load(cms['kubelet-config']['kubelet'])['kind'] == 'KubeletConfiguration'
    info = yaml.safe_load(cms['cluster-info']['kubeconfig'])
    assert info['clusters'][0]['cluster']['server'] == 'https://127.0.0.1:%d' % node.port and not info.get('users')
    token_secret = client.get('/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef')
    data = dict((k, base64.b64decode(v).decode()) for k, v in token_secret['data'].items())
    assert token_secret['type'] == 'bootstrap.kubernetes.io/token'
    assert data['token-id'] == 'abcdef' and data['token-secret'] == '0123456789abcdef'
    assert data['usage-bootstrap-authentication'] == 'true' and data['usage-bootstrap-signing'] == 'true'
    assert data['auth-extra-groups'] == 'system:bootstrappers:kubeadm:default-node-token' and data['expiration'].endswith('Z')
    certs = client.get('/api/v1/namespaces/kube-system/secrets/kubeadm-certs')
    owner = certs['metadata']['ownerReferences'][0]
    assert owner['kind'] == 'Secret' and owner['name'].startswith('bootstrap-token-')
    owner_data = client.get('/api/v1/namespaces/kube-system/secrets/' + owner['name'])['data']
    assert 'expiration' in owner_data and 'usage-bootstrap-authentication' not in owner_data
    assert sorted(certs['data']) == ['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key',
                                     'sa.key', 'sa.pub']
    assert kubeadm.decrypt(base64.b64decode(certs['data']['ca.key']), CERT_KEY) == (pki / 'ca.key').read_bytes()
    assert kubeadm.decrypt(base64.b64decode(certs['data']['etcd-ca.crt']), CERT_KEY) == (pki / 'etcd/ca.crt').read_bytes()
    node_obj = client.get('/api/v1/nodes/cp1')
    assert node_obj['metadata']['labels']['node-role.kubernetes.io/control-plane'] == ''
    assert node_obj['metadata']['labels']['node.kubernetes.io/exclude-from-external-load-balancers'] == ''
    assert {(t['key'], t['effect']) for t in node_obj['spec']['taints']} == {
        ('node-role.kubernetes.io/control-plane', 'NoSchedule'), ('nvidia.com/gpu', 'NoSchedule')}
    assert client.get('/apis/apps/v1/namespaces/kube-system/deployments/coredns')['spec']['replicas'] == 2
    assert client.get('/api/v1/namespaces/kube-system/services/kube-dns')['spec']['clusterIP'] == '10.96.0.10'
    assert client.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')

    ca_hash = 'sha256:' + hashlib.sha256(ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    assert '  kubeadm join 127.0.0.1:%d --token %s \\\n\t--discovery-token-ca-cert-hash %s \\\n\t--control-plane --certificate-key %s\n' \
        % (node.port, TOKEN, ca_hash, CERT_KEY) in out
    assert 'kubeadm join 127.0.0.1:%d --token %s \\\n\t--discovery-token-ca-cert-hash %s \n' % (node.port, TOKEN, ca_hash) in out
    assert out.count(CERT_KEY) == 2 and res.stderr.count(TOKEN) == 0 and res.stderr.count(CERT_KEY) == 0

    # a second init fails in preflight and changes nothing
    before = dict((p, node.root.joinpath(p).read_bytes()) for p in files(node.root))
    again = node.run('init', '--config', str(node.config))
    assert again.returncode == 1
    assert '[ERROR Port-%d]: Port %d is in use' % (node.port, node.port) in again.stderr
    assert '[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]' in again.stderr
    assert dict((p, node.root.joinpath(p).read_bytes()) for p in files(node.root)) == before

    # re-upload of the certificates alone
    phase = node.run('init', 'phase', 'upload-certs', '--upload-certs', '--certificate-key', 'ab' * 32)
    assert phase.returncode == 0, phase.stderr
    assert phase.stdout.splitlines()[-2:] == ['[upload-certs] Using certificate key:', 'ab' * 32]
    certs = client.get('/api/v1/namespaces/kube-system/secrets/kubeadm-certs')
    assert kubeadm.decrypt(base64.b64decode(certs['data']['sa.key']), 'ab' * 32) == (pki / 'sa.key').read_bytes()

    # tokens
    created = node.run('token', 'create', '--ttl', '15m', '--print-join-command', '--description', 'test join')
    assert created.returncode == 0, created.stderr
    match = re.match(r'^kubeadm join 127\.0\.0\.1:%d --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) \n$'
                     % node.port, created.stdout)
    assert match and match.group(2) == ca_hash, created.stdout
    plain = node.run('token', 'create', 'zzzzzz.zzzzzzzzzzzzzzzz', '--ttl=0')
    assert plain.stdout == 'zzzzzz.zzzzzzzzzzzzzzzz\n'
    dup = node.run('token', 'create', 'zzzzzz.zzzzzzzzzzzzzzzz')
    assert dup.returncode == 1 and 'a token with id "zzzzzz" already exists' in dup.stderr
    listing = node.run('token', 'list').stdout.splitlines()
    assert listing[0].split() == ['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA', 'GROUPS']
    rows = dict((line.split()[0], line) for line in listing[1:])
    assert match.group(1) in rows and rows[match.group(1)].split()[1] in ('14m', '15m') and 'test join' in rows[match.group(1)]
    assert '<forever>' in rows['zzzzzz.zzzzzzzzzzzzzzzz'] and '<never>' in rows['zzzzzz.zzzzzzzzzzzzzzzz']
    assert 'authentication,signing' in rows[TOKEN]
    deleted = node.run('token', 'delete', 'zzzzzz')
    assert deleted.stdout == 'bootstrap token "zzzzzz" deleted\n'
    assert 'zzzzzz.zzzzzzzzzzzzzzzz' not in node.run('token', 'list').stdout

    # reset without -f asks; -f removes what init wrote
    aborted = node.run('reset', stdin='n\n')
    assert aborted.returncode == 1 and 'aborted reset operation' in aborted.stderr and node.path('/etc/kubernetes/admin.conf').exists()
    node.path('/var/lib/etcd/member').mkdir(parents=True)
    reset = node.run('reset', '-f')
    assert reset.returncode == 0, reset.stderr
    assert '[reset] Deleting contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki]' in reset.stdout
    assert 'The reset process does not perform cleanup of CNI plugin configuration,' in reset.stdout
    assert files(node.path('/etc/kubernetes')) == [] and files(node.path('/var/lib/kubelet')) == []
    assert node.path('/var/lib/kubelet').is_dir() and list(node.path('/var/lib/etcd').iterdir()) == []
    # the kubelet stopped, then its static Pods (the kubelet double's units)
    assert (node.state / 'systemctl.log').read_text().endswith('stop kubelet\nstop aifabric-static-*\n')


def test_init_generates_token_and_key(node):
    node.write_config(init={'bootstrapTokens': None})
    res = node.run('init', '--config', str(node.config), '--upload-certs', '--skip-token-print')
    assert res.returncode == 0, res.stdout + res.stderr
    assert '[bootstrap-token] Using token' not in res.stdout and '--token <value withheld>' in res.stdout
    key = re.search(r'\[upload-certs\] Using certificate key:\n([0-9a-f]{64})\n', res.stdout).group(1)
    assert '--control-plane --certificate-key %s' % key in res.stdout
    certs = node.client().get('/api/v1/namespaces/kube-system/secrets/kubeadm-certs')
    assert kubeadm.decrypt(base64.b64decode(certs['data']['ca.crt']), key).startswith(b'-----BEGIN CERTIFICATE')
    secrets = node.client().get('/api/v1/namespaces/kube-system/secrets')['items']
    assert len([s for s in secrets if s.get('type') == 'bootstrap.kubernetes.io/token']) == 2   # the join token + the certs' owner


# ---- the join side's functions ---------------------------------------------------------------

def test_jws_detached_signature():
    content = 'apiVersion: v1\nclusters: []\n'
    sig = kubeadm.compute_detached_signature(content, 'abcdef', '0123456789abcdef')
    head, empty, _signature = sig.split('.')
    assert empty == '' and json.loads(base64.urlsafe_b64decode(head + '==')) == {'alg': 'HS256', 'kid': 'abcdef'}
    assert kubeadm.verify_detached_signature(sig, content, 'abcdef', '0123456789abcdef')
    assert not kubeadm.verify_detached_signature(sig, content + ' ', 'abcdef', '0123456789abcdef')
    assert not kubeadm.verify_detached_signature(sig, content, 'abcdef', '0123456789abcdeg')
    assert not kubeadm.verify_detached_signature('garbage', content, 'abcdef', '0123456789abcdef')


def test_ca_pin_check(tmp_path):
    cert, _key = kubeadm.new_ca('kubernetes')
    pem = kubeadm.cert_pem(cert)
    pin = kubeadm.spki_hash(cert)
    assert kubeadm.check_ca_pins(pem, ['sha256:' + '0' * 64, pin.upper().replace('SHA256', 'sha256')]) == pin
    with pytest.raises(kubeadm.KubeadmError) as err:
        kubeadm.check_ca_pins(pem, ['sha256:' + '0' * 64])
    assert err.value.message == 'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "%s" are pinned' % pin
    assert tmp_path


def test_aes_gcm_round_trip():
    blob = kubeadm.encrypt(b'secret key material', CERT_KEY)
    assert len(blob) == 12 + len(b'secret key material') + 16
    assert kubeadm.decrypt(blob, CERT_KEY) == b'secret key material'
    with pytest.raises(kubeadm.KubeadmError) as err:
        kubeadm.decrypt(blob, 'ab' * 32)
    assert 'cipher: message authentication failed' in err.value.message


def test_helpers():
    assert kubeadm.parse_duration('24h0m0s') == 86400 and kubeadm.parse_duration('15m') == 900 and kubeadm.parse_duration('0') == 0
    with pytest.raises(kubeadm.KubeadmError):
        kubeadm.parse_duration('1 day')
    assert [kubeadm.short_duration(s) for s in (30, 900, 86399, 3 * 86400)] == ['30s', '15m', '23h', '3d']
    flags = kubeadm.parse_flags(['--config=a', '--upload-certs', '--ignore-preflight-errors', 'Swap,Port-10250', 'x', '-f'],
                                {'config': 'str', 'upload-certs': 'bool', 'ignore-preflight-errors': 'list', 'force': 'bool'}, {'f': 'force'})
    assert flags.values == {'config': 'a', 'upload-certs': True, 'ignore-preflight-errors': ['Swap', 'Port-10250'], 'force': True}
    assert flags.args == ['x']
    assert re.match(r'^[a-z0-9]{6}\.[a-z0-9]{16}$', kubeadm.generate_token())
    assert re.match(r'^[0-9a-f]{64}$', kubeadm.generate_certificate_key())
    assert kubeadm.service_ip('10.96.0.0/12', 10) == '10.96.0.10'
    text = kubeadm.cluster_info_kubeconfig('https://10.0.0.1:6443', b'PEM')
    assert kubeadm.parse_cluster_info(text) == ('https://10.0.0.1:6443', b'PEM')


def test_token_generate_and_certificate_key(node):
    assert re.match(r'^[a-z0-9]{6}\.[a-z0-9]{16}\n$', node.run('token', 'generate').stdout)
    assert re.match(r'^[0-9a-f]{64}\n$', node.run('certs', 'certificate-key').stdout)
    missing = node.run('token', 'list')
    assert missing.returncode == 1 and 'admin' in missing.stderr


# ---- upgrade plan / apply / node ---------------------------------------------------------------

def kubeadm_at(tmp_path, version):
    """The double as lab/repo/build-repo.sh builds it at another version: the VERSION line replaced (sed)."""
    text, count = re.subn(r"^VERSION = 'v1\.34\.2'$", "VERSION = 'v%s'" % version, open(KUBEADM).read(), flags=re.M)
    assert count == 1
    path = tmp_path / ('kubeadm-%s.py' % version)
    path.write_text(text)
    return path


@pytest.fixture
def cluster(tmp_path):
    """A control plane set up by the double's init (the fake kubelet runs the API server double from its manifest)."""
    host = Host(tmp_path)
    res = host.run('init', '--config', str(host.config))
    assert res.returncode == 0, res.stdout + res.stderr
    yield host
    host.stop()
    kubeadm.ROOT = ''


def state_of(host):
    """What an upgrade changes: the files under /etc/kubernetes and /var/lib/kubelet, and the kubeadm-config ConfigMap."""
    saved = dict((p, host.root.joinpath(p).read_bytes()) for p in files(host.root) if p.startswith(('etc/kubernetes', 'var/lib/kubelet')))
    cm = host.client().get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')['data']
    return saved, cm


def image(host, component):
    return yaml.safe_load(host.path('/etc/kubernetes/manifests/%s.yaml' % component).read_text())['spec']['containers'][0]['image']


def test_upgrade_plan(cluster, tmp_path):
    up_to_date = cluster.run('upgrade', 'plan', '--v=1')
    assert up_to_date.returncode == 0, up_to_date.stderr
    out = up_to_date.stdout
    assert out.startswith('[preflight] Running pre-flight checks.\n[upgrade/config] Reading configuration from the "kubeadm-config" '
                          'ConfigMap in namespace "kube-system"...\n')
    for line in ('[upgrade] Running cluster health checks', '[upgrade] Fetching available versions to upgrade to',
                 '[upgrade/versions] Cluster version: 1.34.2', '[upgrade/versions] kubeadm version: v1.34.2',
                 '[upgrade/versions] Target version: v1.34.2', '[upgrade/versions] Latest version in the v1.34 series: v1.34.2'):
        assert line + '\n' in out, out
    assert 'You can now apply' not in out and out.endswith('v1.34.2\n\n')
    assert "[upgrade/plan] Awesome, you're up-to-date! Enjoy!" in up_to_date.stderr
    assert 'falling back to the local client version: v1.34.2' in up_to_date.stderr

    # a target given: the kubelets to upgrade by hand, the control plane's components, the apply command
    plan = cluster.run('upgrade', 'plan', 'v1.35.0')
    assert plan.returncode == 0, plan.stderr
    assert ("Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':\n"
            'COMPONENT   NODE      CURRENT   TARGET\n'
            'kubelet     cp1       v1.34.2   v1.35.0\n\n'
            'Upgrade to the latest version in the v1.34 series:\n\n'
            'COMPONENT                 NODE      CURRENT   TARGET\n'
            'kube-apiserver            cp1       v1.34.2   v1.35.0\n'
            'kube-controller-manager   cp1       v1.34.2   v1.35.0\n'
            'kube-scheduler            cp1       v1.34.2   v1.35.0\n'
            'kube-proxy                          1.34.2    v1.35.0\n'
            'CoreDNS                             v1.12.1   v1.12.1\n'
            'etcd                      cp1       3.6.4-0   3.6.4-0\n\n'
            'You can now apply the upgrade by executing the following command:\n\n'
            '\tkubeadm upgrade apply v1.35.0\n\n'
            'Note: Before you can perform this upgrade, you have to update kubeadm to v1.35.0.\n\n') in plan.stdout, plan.stdout
    assert 'kubelet.config.k8s.io     v1beta1           v1beta1             no\n' in plan.stdout

    # the 1.35.0 build: its own version is the target, no kubeadm to update first
    newer = cluster.run('upgrade', 'plan', script=kubeadm_at(tmp_path, '1.35.0'))
    assert newer.returncode == 0, newer.stderr
    assert '[upgrade/versions] Target version: v1.35.0\n' in newer.stdout and '\tkubeadm upgrade apply v1.35.0\n' in newer.stdout
    assert 'Note: Before' not in newer.stdout
    unparsable = cluster.run('upgrade', 'plan', 'one.two')
    assert unparsable.returncode == 0 and '[upgrade/versions] Target version' not in unparsable.stdout
    assert '[upgrade/versions] WARNING: Falling back to current kubeadm version as latest stable version' in unparsable.stderr
    bad = cluster.run('upgrade', 'plan', '-o', 'json')
    assert bad.returncode == 1 and 'unable to match a printer suitable for the output format "json"' in bad.stderr


def test_upgrade_apply_version_policy(cluster):
    before = state_of(cluster)
    too_high = cluster.run('upgrade', 'apply', 'v1.36.0', '--yes')
    assert too_high.returncode == 1
    assert too_high.stderr.startswith('error execution phase preflight: the version argument is invalid due to these fatal errors:\n\n'
                                      '\t- Specified version to upgrade to "v1.36.0" is too high; kubeadm can upgrade only 1 minor version at a '
                                      'time\n'), too_high.stderr
    assert '\nPlease fix the misalignments highlighted above and try upgrading again\n' in too_high.stderr
    assert '[upgrade/preflight] You have chosen to upgrade the cluster version to "v1.36.0"\n' in too_high.stdout
    assert '[upgrade/versions] Cluster version: v1.34.2\n[upgrade/versions] kubeadm version: v1.34.2\n' in too_high.stdout

    newer_minor = cluster.run('upgrade', 'apply', '1.35.0', '-y')
    assert newer_minor.returncode == 1
    assert ('\t- Specified version to upgrade to "v1.35.0" is at least one minor release higher than the kubeadm minor release (35 > 34). '
            'Such an upgrade is not supported\n') in newer_minor.stderr
    newer_patch = cluster.run('upgrade', 'apply', 'v1.34.5', '-y')
    assert newer_patch.returncode == 1
    assert ('error execution phase preflight: the version argument is invalid due to these errors:\n\n\t- Specified version to upgrade to '
            '"v1.34.5" is higher than the kubeadm version "v1.34.2". Upgrade kubeadm first using the tool you used to install kubeadm\n\n'
            'Can be bypassed if you pass the --force flag\n') in newer_patch.stderr
    too_old = cluster.run('upgrade', 'apply', 'v1.32.9', '-y')
    assert too_old.returncode == 1
    assert ('this version of kubeadm only supports deploying clusters with the control plane version >= 1.33.0. Current version: v1.32.9'
            in too_old.stderr)
    missing = cluster.run('upgrade', 'apply', '-y')
    assert missing.returncode == 1 and 'missing one or more required arguments. Required arguments: [version]' in missing.stderr
    assert state_of(cluster) == before

    aborted = cluster.run('upgrade', 'apply', 'v1.34.2', stdin='n\n')
    assert aborted.returncode == 1
    assert aborted.stdout.endswith('[upgrade] Are you sure you want to proceed? [y/N]: ')
    assert aborted.stderr.startswith("error execution phase preflight: won't proceed; the user didn't answer (Y|y) in order to continue\n")
    assert state_of(cluster) == before


def test_upgrade_refused_with_a_not_ready_control_plane(cluster):
    client = cluster.client()
    client.request('PATCH', '/api/v1/nodes/cp1/status', {'status': {'conditions': [{'type': 'Ready', 'status': 'False'}]}},
                   'application/strategic-merge-patch+json')
    before = state_of(cluster)
    not_ready = '\t[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [cp1]\n'
    plan = cluster.run('upgrade', 'plan', 'v1.35.0')
    assert plan.returncode == 1
    assert plan.stderr.startswith('[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n' + not_ready), plan.stderr
    assert '--ignore-preflight-errors=...' in plan.stderr and 'You can now apply' not in plan.stdout
    apply = cluster.run('upgrade', 'apply', 'v1.34.2', '--yes')
    assert apply.returncode == 1
    assert apply.stderr.startswith('error execution phase preflight: [preflight] Some fatal errors occurred:\n' + not_ready), apply.stderr
    assert state_of(cluster) == before
    ignored = cluster.run('upgrade', 'plan', '--ignore-preflight-errors=ControlPlaneNodesReady')
    assert ignored.returncode == 0 and '\t[WARNING ControlPlaneNodesReady]: there are NotReady control-planes' in ignored.stderr


def test_upgrade_apply_next_minor(cluster, tmp_path):  # pylint: disable=too-many-locals
    pki = cluster.path('/etc/kubernetes/pki')
    old_cert = load_cert(pki / 'apiserver.crt')
    old_flags = cluster.path('/var/lib/kubelet/kubeadm-flags.env').read_text()
    new = kubeadm_at(tmp_path, '1.35.0')
    res = cluster.run('upgrade', 'apply', 'v1.35.0', '--yes', script=new)
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    lines = out.splitlines()
    order = ['[upgrade/preflight] You have chosen to upgrade the cluster version to "v1.35.0"', '[upgrade/versions] Cluster version: v1.34.2',
             '[upgrade/versions] kubeadm version: v1.35.0',
             '[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "v1.35.0" (timeout: 5m0s)...',
             '[upgrade/staticpods] Preparing for "etcd" upgrade', '[upgrade/staticpods] Restarting the etcd static pod',
             '[upgrade/staticpods] Preparing for "kube-apiserver" upgrade', '[upgrade/staticpods] Renewing apiserver certificate',
             '[upgrade/staticpods] Moving new manifest to "/etc/kubernetes/manifests/kube-apiserver.yaml" and backing up old manifest to '
             '"/etc/kubernetes/tmp/kubeadm-backup-manifests-', '[upgrade/staticpods] Component "kube-apiserver" upgraded successfully!',
             '[upgrade/staticpods] Renewing scheduler.conf certificate', '[upgrade/control-plane] The control plane instance for this node was '
             'successfully upgraded!', '[upload-config] Storing the configuration used in ConfigMap "kubeadm-config"',
             '[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!',
             '[upgrade/bootstrap-token] Configuring bootstrap token and cluster-info RBAC rules', '[addons] Applied essential addon: kube-proxy',
             '[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.35.0".',
             '[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.']
    at = 0
    for want in order:
        found = [i for i, line in enumerate(lines) if i >= at and line.startswith(want)]
        assert found, 'missing or out of order: %r\n%s' % (want, out)
        at = found[0]
    assert 'Are you sure' not in out

    # the manifests at the new tag, etcd kept, the old ones backed up
    for component in ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler'):
        assert image(cluster, component) == 'registry.k8s.io/%s:v1.35.0' % component
    assert image(cluster, 'etcd') == 'registry.k8s.io/etcd:3.6.4-0'
    backups = list(cluster.path('/etc/kubernetes/tmp').glob('kubeadm-backup-manifests-*'))
    assert len(backups) == 1 and sorted(p.name for p in backups[0].iterdir()) == [
        'etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']
    assert 'kube-apiserver:v1.34.2' in (backups[0] / 'kube-apiserver.yaml').read_text()
    assert not list(cluster.path('/etc/kubernetes/tmp').glob('kubeadm-upgraded-manifests*'))

    # the cluster: the API server restarted at the new version, kubeadm-config, kube-proxy
    client = cluster.client()
    assert client.get('/version')['gitVersion'] == 'v1.35.0'
    stored = yaml.safe_load(client.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')['data']['ClusterConfiguration'])
    assert stored['kubernetesVersion'] == 'v1.35.0' and stored['networking']['podSubnet'] == '10.244.0.0/16'
    proxy = client.get('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy')
    assert proxy['spec']['template']['spec']['containers'][0]['image'] == 'registry.k8s.io/kube-proxy:v1.35.0'

    # this node: the kubelet config from the cluster's, the certificates renewed (same keys), 1.35's kubelet env file
    kubelet = yaml.safe_load(cluster.path('/var/lib/kubelet/config.yaml').read_text())
    assert kubelet['kind'] == 'KubeletConfiguration' and kubelet['containerRuntimeEndpoint'] == 'unix:///run/containerd/containerd.sock'
    assert list(cluster.path('/etc/kubernetes/tmp').glob('kubeadm-kubelet-config-*/config.yaml'))
    new_cert = load_cert(pki / 'apiserver.crt')
    assert new_cert.serial_number != old_cert.serial_number and new_cert.subject == old_cert.subject
    assert new_cert.public_key().public_numbers() == old_cert.public_key().public_numbers()
    assert new_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName) == \
        old_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert '--pod-infra-container-image' in old_flags
    flags_env = cluster.path('/var/lib/kubelet/kubeadm-flags.env').read_text()
    assert '--pod-infra-container-image' not in flags_env and '--node-ip=127.0.0.1' in flags_env
    assert flags_env.startswith('KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=')

    # now up to date; applying the same version again is allowed (the manifests unchanged: restarted)
    again = cluster.run('upgrade', 'apply', 'v1.35.0', '-y', '--certificate-renewal=false', '--etcd-upgrade=false', script=new)
    assert again.returncode == 0, again.stderr
    assert 'Renewing' not in again.stdout and '"etcd"' not in again.stdout
    assert '[upgrade/staticpods] Restarting the kube-apiserver static pod and backing up its manifest' in again.stdout
    plan = cluster.run('upgrade', 'plan', script=new)
    assert plan.returncode == 0 and '[upgrade/versions] Cluster version: 1.35.0\n' in plan.stdout and 'You can now apply' not in plan.stdout


def test_upgrade_apply_rolls_back_when_the_api_server_does_not_restart(cluster, tmp_path):
    (cluster.state / 'freeze').write_text('')   # the fake kubelet no longer follows the manifest
    config = tmp_path / 'upgrade.yaml'
    config.write_text(yaml.safe_dump({'apiVersion': 'kubeadm.k8s.io/v1beta4', 'kind': 'UpgradeConfiguration',
                                      'apply': {'certificateRenewal': False}, 'timeouts': {'upgradeManifests': '3s'}}))
    before = cluster.client().get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')['data']
    res = cluster.run('upgrade', 'apply', 'v1.35.0', '-y', '--config', str(config), script=kubeadm_at(tmp_path, '1.35.0'))
    assert res.returncode == 1
    assert '(timeout: 3s)...' in res.stdout and 'This can take up to 3s' in res.stdout
    assert res.stderr.startswith("error execution phase control-plane: couldn't complete the static pod upgrade: couldn't upgrade control "
                                 "plane. kubeadm has tried to recover everything into the earlier state. Errors faced: static Pod hash for "
                                 "component kube-apiserver on Node cp1 did not change after 3s: timed out waiting for the condition\n"), res.stderr
    assert image(cluster, 'kube-apiserver') == 'registry.k8s.io/kube-apiserver:v1.34.2'
    assert cluster.client().get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')['data'] == before


def test_upgrade_node(cluster, tmp_path):
    # a worker-shaped root: kubelet.conf (the control plane's credentials stand in for the node's), an old config.yaml
    worker = tmp_path / 'worker'
    (worker / 'etc/kubernetes').mkdir(parents=True)
    (worker / 'var/lib/kubelet').mkdir(parents=True)
    (worker / 'etc/kubernetes/kubelet.conf').write_bytes(cluster.path('/etc/kubernetes/kubelet.conf').read_bytes())
    old = {'apiVersion': 'kubelet.config.k8s.io/v1beta1', 'kind': 'KubeletConfiguration', 'cgroupDriver': 'cgroupfs',
           'containerRuntimeEndpoint': 'unix:///run/containerd/containerd.sock', 'maxPods': 42}
    (worker / 'var/lib/kubelet/config.yaml').write_text(yaml.safe_dump(old))
    res = cluster.run('upgrade', 'node', root=worker, hostname='w1')
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines() == [
        '[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...',
        "[upgrade] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.",
        '[upgrade/preflight] Running pre-flight checks', '[upgrade/preflight] Skipping prepull. Not a control plane node.',
        '[upgrade/control-plane] Skipping phase. Not a control plane node.', '[upgrade/kubeconfig] Skipping phase. Not a control plane node.',
        '[upgrade] Backing up kubelet config file to %s/config.yaml' % next(
            '/' + str(p.relative_to(worker)) for p in (worker / 'etc/kubernetes/tmp').glob('kubeadm-kubelet-config*')),
        '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
        '[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!',
        '[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.',
        '[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.'], res.stdout
    assert 'postupgrade.go:116] Using temporary directory /etc/kubernetes/tmp/kubeadm-kubelet-config' in res.stderr
    written = yaml.safe_load((worker / 'var/lib/kubelet/config.yaml').read_text())
    cluster_conf = yaml.safe_load(cluster.client().get('/api/v1/namespaces/kube-system/configmaps/kubelet-config')['data']['kubelet'])
    assert written == dict(cluster_conf, containerRuntimeEndpoint='unix:///run/containerd/containerd.sock')
    assert written['cgroupDriver'] == 'systemd' and 'maxPods' not in written
    assert yaml.safe_load(next((worker / 'etc/kubernetes/tmp').glob('kubeadm-kubelet-config*/config.yaml')).read_text()) == old
    assert not (worker / 'etc/kubernetes/manifests').exists()
    nothing = cluster.run('upgrade', 'node', root=tmp_path / 'empty', hostname='w2')
    assert nothing.returncode == 1
    assert "couldn't create a Kubernetes client from file \"/etc/kubernetes/kubelet.conf\"" in nothing.stderr


def test_upgrade_node_control_plane(cluster, tmp_path):
    # another control plane ran `upgrade apply v1.35.0`: kubeadm-config says v1.35.0
    client = cluster.client()
    cm = client.get('/api/v1/namespaces/kube-system/configmaps/kubeadm-config')
    stored = yaml.safe_load(cm['data']['ClusterConfiguration'])
    cm['data']['ClusterConfiguration'] = yaml.safe_dump(dict(stored, kubernetesVersion='v1.35.0'))
    client.request('PUT', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config', cm)
    old = cluster.run('upgrade', 'node')
    assert old.returncode == 1 and 'the specified version to deploy (v1.35.0) is not supported by this kubeadm version (1.34.2)' in old.stderr
    assert image(cluster, 'kube-apiserver') == 'registry.k8s.io/kube-apiserver:v1.34.2'
    res = cluster.run('upgrade', 'node', script=kubeadm_at(tmp_path, '1.35.0'))
    assert res.returncode == 0, res.stdout + res.stderr
    assert '[upgrade/control-plane] Upgrading your Static Pod-hosted control plane instance to version "v1.35.0"...\n' in res.stdout
    assert '[upgrade/control-plane] The control plane instance for this node was successfully upgraded!\n' in res.stdout
    assert '[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!\n' in res.stdout
    assert image(cluster, 'kube-apiserver') == 'registry.k8s.io/kube-apiserver:v1.35.0'
    assert client.get('/version')['gitVersion'] == 'v1.35.0'


def test_version_window_follows_VERSION(node, tmp_path):  # pylint: disable=invalid-name
    """build-repo.sh's 1.35.0 build supports control planes 1.34 and 1.35, the 1.34.2 one 1.33 and 1.34."""
    newer = kubeadm_at(tmp_path, '1.35.0')
    assert node.run('version', '-o', 'short', script=newer).stdout == 'v1.35.0\n'
    for version, script, error in (('v1.35.0', newer, None), ('v1.34.2', newer, None),
                                   ('v1.33.5', newer, 'only supports deploying clusters with the control plane version >= 1.34.0'),
                                   ('v1.36.0', newer, 'the specified version to deploy (v1.36.0) is not supported by this kubeadm version (1.35.0)'),
                                   ('v1.33.5', KUBEADM, None),
                                   ('v1.35.0', KUBEADM, 'the specified version to deploy (v1.35.0) is not supported by this kubeadm version (1.34.2)')):
        config = tmp_path / 'cfg.yaml'
        config.write_text(yaml.safe_dump({'apiVersion': 'kubeadm.k8s.io/v1beta4', 'kind': 'ClusterConfiguration', 'kubernetesVersion': version}))
        res = node.run('config', 'validate', '--config', str(config), script=script)
        assert (res.returncode, error is None or error in res.stderr) == (0 if error is None else 1, True), (version, script, res.stderr)


# ---- a control-plane join's etcd member, and its removal on reset, against real etcd ---------------------

def _etcd_pki(root, ca, ca_key, name, ip):
    """kubeadm's etcd server and peer certificates of one control plane (no EKU: server and client alike), the etcd
    CA, and the API server's etcd client certificate, under root/etc/kubernetes/pki."""
    pki = root / 'etc/kubernetes/pki'
    write_file(pki / 'etcd/ca.crt', to_pem(ca))
    san = [x509.DNSName('localhost'), x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(ip)),
           x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]
    for cert, cn, sans, eku in (('etcd/server', name, san, None), ('etcd/peer', name, san, None),
                                ('apiserver-etcd-client', 'kube-apiserver-etcd-client', None, ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        write_file(pki / (cert + '.crt'), to_pem(issue_cert(x509_name(cn), key, ca, ca_key, sans, eku)))
        write_file(pki / (cert + '.key'), to_pem(key=key), 0o600)
    return pki


def _run_etcd(command, root, log):
    """etcd with a manifest's flags, its paths under root."""
    flags = [re.sub(r'^(--[a-z-]*(?:file|dir))=/', '\\1=%s/' % root, flag) for flag in command[1:]]
    return subprocess.Popen([str(ETCD)] + flags, stdout=log, stderr=log)  # pylint: disable=consider-using-with


@pytest.mark.skipif(not ETCD.exists(), reason='no etcd: run `make tools`')
def test_control_plane_join_adds_an_etcd_learner_promotes_it_and_reset_removes_it(tmp_path, monkeypatch, capsys):
    """control-plane-join/etcd as kubeadm does it, against a real etcd: the endpoints from the etcd mirror Pod's
    annotation, this node added as a learner, the manifest with every member and --initial-cluster-state=existing;
    once the kubelet has started it and it has caught up, the learner promoted to a voting member; a second join
    keeps the member. kubeadm reset on that control plane removes its member again; the last member stays."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = issue_cert(x509_name('etcd-ca'), ca_key)
    first_root, root = tmp_path / 'cp1', tmp_path / 'cp2'
    _etcd_pki(first_root, ca, ca_key, 'cp1', '127.0.0.2')
    _etcd_pki(root, ca, ca_key, 'cp2', '127.0.0.3')
    first = ['etcd', '--name=cp1', '--data-dir=/var/lib/etcd', '--listen-client-urls=https://127.0.0.2:2379',
             '--advertise-client-urls=https://127.0.0.2:2379', '--listen-peer-urls=https://127.0.0.2:2380',
             '--initial-advertise-peer-urls=https://127.0.0.2:2380', '--initial-cluster=cp1=https://127.0.0.2:2380',
             '--client-cert-auth=true', '--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt', '--cert-file=/etc/kubernetes/pki/etcd/server.crt',
             '--key-file=/etc/kubernetes/pki/etcd/server.key', '--peer-client-cert-auth=true',
             '--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt', '--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt',
             '--peer-key-file=/etc/kubernetes/pki/etcd/peer.key']
    procs = []
    with open(tmp_path / 'etcd.log', 'ab') as log:
        procs.append(_run_etcd(first, first_root, log))
        try:
            monkeypatch.setattr(kubeadm, 'ROOT', str(root))
            members = kubeadm.EtcdMembers(['https://127.0.0.2:2379'])
            deadline = time.time() + 30
            while True:
                try:
                    assert [m['name'] for m in members.members()] == ['cp1']
                    break
                except kubeadm.KubeadmError:
                    assert time.time() < deadline, (tmp_path / 'etcd.log').read_text()[-2000:]
                    time.sleep(0.3)

            class Client(object):  # pylint: disable=too-few-public-methods
                def get(self, path):
                    assert path.startswith('/api/v1/namespaces/kube-system/pods?labelSelector=component%3Detcd')
                    return {'items': [{'metadata': {'annotations': {kubeadm.ETCD_ENDPOINTS_ANNOTATION: 'https://127.0.0.2:2379'}}}]}
            cfg = types.SimpleNamespace(advertise='127.0.0.3', node='cp2', cluster={'etcd': {'local': {}}, 'imageRepository': 'registry.k8s.io'})
            manifest = root / 'etc/kubernetes/manifests/etcd.yaml'
            errors = []

            def join():
                try:
                    kubeadm.join_etcd(cfg, Client())
                except Exception as exc:  # pylint: disable=broad-except
                    errors.append(exc)
            thread = threading.Thread(target=join)
            thread.start()
            while not manifest.exists() and thread.is_alive():  # the kubelet starts what the manifest says
                time.sleep(0.1)
            assert not errors, errors
            command = yaml.safe_load(manifest.read_text())['spec']['containers'][0]['command']
            cluster = [c for c in command if c.startswith('--initial-cluster=')][0].split('=', 1)[1]
            assert sorted(cluster.split(',')) == ['cp1=https://127.0.0.2:2380', 'cp2=https://127.0.0.3:2380']
            assert '--initial-cluster-state=existing' in command and '--name=cp2' in command
            assert [m.get('isLearner', False) for m in members.members() if m.get('peerURLs') == ['https://127.0.0.3:2380']] == [True]
            procs.append(_run_etcd(command, root, log))
            thread.join(60)
            assert not errors and not thread.is_alive(), errors
            voters = sorted((m.get('name'), m.get('isLearner', False)) for m in members.members())
            assert voters == [('cp1', False), ('cp2', False)]
            out = capsys.readouterr().out
            assert '[etcd] Announced new etcd member joining to the existing etcd cluster' in out
            assert '[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s' in out
            kubeadm.join_etcd(cfg, Client())  # again: the member is kept, nothing added
            assert len(members.members()) == 2
            kubeadm.reset_etcd_member('/etc/kubernetes/manifests/etcd.yaml')  # reset on cp2: through cp2's own etcd
            assert [m['name'] for m in members.members()] == ['cp1']
            assert 'Removed member cp2 (https://127.0.0.3:2380) from the etcd cluster' in capsys.readouterr().out
            monkeypatch.setattr(kubeadm, 'ROOT', str(first_root))
            (first_root / 'etc/kubernetes/manifests').mkdir(parents=True)
            (first_root / 'etc/kubernetes/manifests/etcd.yaml').write_text(yaml.safe_dump({'spec': {'containers': [{'command': first}]}}))
            kubeadm.reset_etcd_member('/etc/kubernetes/manifests/etcd.yaml')  # the last member: kept
            assert [m['name'] for m in members.members()] == ['cp1']
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)


def _reset_on_cp2(tmp_path, monkeypatch):
    """cp2's etcd manifest under a root of its own; the two members of the cluster it is in."""
    monkeypatch.setattr(kubeadm, 'ROOT', str(tmp_path))
    (tmp_path / 'etc/kubernetes/manifests').mkdir(parents=True)
    (tmp_path / 'etc/kubernetes/manifests/etcd.yaml').write_text(yaml.safe_dump({'spec': {'containers': [{'command': [
        'etcd', '--initial-advertise-peer-urls=https://10.0.0.3:2380']}]}}))
    return [{'ID': 1, 'name': 'cp1', 'peerURLs': ['https://10.0.0.2:2380'], 'clientURLs': ['https://10.0.0.2:2379']},
            {'ID': 2, 'name': 'cp2', 'peerURLs': ['https://10.0.0.3:2380'], 'clientURLs': ['https://10.0.0.3:2379']}]


def test_reset_counts_a_member_that_stopped_before_it_answered_its_removal_as_removed(tmp_path, monkeypatch, capsys):
    """A member that applies its own removal stops, and may stop before it answers ("etcdserver:
    server stopped"). kubeadm polls until the member is no longer listed: the double asks the other
    members, and names the removal; while they still list it, it tries again."""
    cluster = _reset_on_cp2(tmp_path, monkeypatch)
    calls = []

    class Members(object):
        def __init__(self, endpoints):
            self.endpoints = endpoints

        def members(self):
            calls.append(('list', self.endpoints))
            return list(cluster)

        def remove(self, member_id):
            calls.append(('remove', self.endpoints))
            if len([c for c in calls if c[0] == 'remove']) == 1:
                raise kubeadm.KubeadmError('etcdserver: server stopped')  # not applied yet: the others still list it
            cluster[:] = [m for m in cluster if m['ID'] != member_id]
            raise kubeadm.KubeadmError('etcdserver: server stopped')  # applied, and the member stopped before it answered
    monkeypatch.setattr(kubeadm, 'EtcdMembers', Members)
    monkeypatch.setattr(kubeadm.time, 'sleep', lambda seconds: None)
    kubeadm.reset_etcd_member('/etc/kubernetes/manifests/etcd.yaml')
    captured = capsys.readouterr()
    assert '[reset] Removed member cp2 (https://10.0.0.3:2380) from the etcd cluster' in captured.out
    assert 'Failed to remove etcd member' not in captured.err
    assert [c for c in calls if c[0] == 'remove'] == [('remove', ['https://127.0.0.1:2379'])] * 2
    assert ('list', ['https://10.0.0.2:2379']) in calls  # the others were asked, the member itself was not


def test_reset_that_cannot_remove_its_member_warns_as_kubeadm_does(tmp_path, monkeypatch, capsys):
    cluster = _reset_on_cp2(tmp_path, monkeypatch)

    class Members(object):
        def __init__(self, endpoints):
            self.endpoints = endpoints

        def members(self):
            return list(cluster)

        def remove(self, member_id):
            raise kubeadm.KubeadmError('etcdserver: unhealthy cluster')
    clock = iter(range(0, 1000, 5))
    monkeypatch.setattr(kubeadm, 'EtcdMembers', Members)
    monkeypatch.setattr(kubeadm.time, 'sleep', lambda seconds: None)
    monkeypatch.setattr(kubeadm.time, 'time', lambda: next(clock))
    kubeadm.reset_etcd_member('/etc/kubernetes/manifests/etcd.yaml')
    captured = capsys.readouterr()
    assert 'Removed member' not in captured.out
    assert re.search(r'^W\d{4} [\d:.]+ +\d+ removeetcdmember.go:80\] \[reset\] Failed to remove etcd member: etcdserver: unhealthy cluster\. '
                     r'Please manually remove this etcd member using etcdctl$', captured.err, re.M)
