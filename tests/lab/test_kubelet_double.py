"""The kubelet and kube-controller-manager test doubles (lab/sim-packages/kubelet) with the API
server double (lab/simulators/kubeapi/kubeapi.py), all on 127.0.0.1 under AIFABRIC_SIM_ROOT.

A control-plane node cp1 (kubeadm init's files: kubelet.conf with an embedded client
certificate, static Pod manifests for kube-apiserver, kube-controller-manager and etcd)
whose kubelet starts the API server and controller-manager doubles, and a worker w1 that
joins with a bootstrap token (TLS bootstrap). The PKI is made here with `cryptography`.

The tests share that one cluster (a module fixture) and run in file order, each a step of its
life: w1 is Ready only once test_worker_not_ready_until_the_cni has given it its CNI, which the
tests below it count on (run one of those alone with that test: `-k 'until_the_cni or ...'`).
"""
import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from labtest import EtcdServer, free_port, issue_cert, kubeconfig, to_pem, write_file, x509_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, 'lab', 'sim-packages', 'kubelet', 'usr', 'lib', 'aifabric-sim')
KUBELET = os.path.join(LIB, 'kubelet.py')
TOKEN_ID, TOKEN_SECRET = 'abcdef', '0123456789abcdef'
SYSTEMD_DUMP = """version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10.1"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = ""
            SystemdCgroup = true
"""
KUBELET_CONFIG = """apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
staticPodPath: /etc/kubernetes/manifests
rotateCertificates: true
"""


# ---- PKI, files, processes --------------------------------------------------------------------------

def make_node_root(root, with_socket=True, dump=SYSTEMD_DUMP, config=KUBELET_CONFIG):
    """A node's files under AIFABRIC_SIM_ROOT: config.yaml, the CRI socket, `containerd config dump`, machine-id."""
    write_file(root / 'var/lib/kubelet/config.yaml', config)
    write_file(root / 'etc/machine-id', '5f1e0a5c1e5d4c2b9a8f7e6d5c4b3a29\n')
    write_file(root / 'containerd-version.txt', '1.7.24\n')
    write_file(root / 'proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n')
    if dump is not None:
        write_file(root / 'containerd-config-dump.txt', dump)
    sock = None
    if with_socket:
        (root / 'run/containerd').mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(root / 'run/containerd/containerd.sock'))
    return sock


def run_kubelet(root, *flags, hostname='node1', timeout=20):
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_HOSTNAME=hostname)
    return subprocess.run([sys.executable, KUBELET] + list(flags), capture_output=True, text=True, env=env, timeout=timeout, check=False)


DEFAULT_FLAGS = ('--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--kubeconfig=/etc/kubernetes/kubelet.conf',
                 '--config=/var/lib/kubelet/config.yaml')


# ---- refusals -------------------------------------------------------------------------------------------

def _refused(proc, message):
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last[0] == 'E' and ' run.go:72] "command failed" err=' in last, last
    assert json.loads(last.split(' err=', 1)[1]) == message, last


def test_version():
    proc = run_kubelet('/nonexistent', '--version')
    assert (proc.returncode, proc.stdout) == (0, 'Kubernetes v1.34.2\n')


def test_1_35_refuses_the_removed_pod_infra_flag(tmp_path):
    """The 1.35.0 build (made as lab/repo/build-repo.sh makes it) exits on --pod-infra-container-image, which
    kubernetes#133779 removed; the 1.34.2 one only warns (then stops here at its missing config)."""
    with open(KUBELET) as handle:
        source = handle.read()
    assert "\nVERSION = 'v1.34.2'\n" in source
    newer = tmp_path / 'kubelet.py'
    newer.write_text(source.replace("\nVERSION = 'v1.34.2'\n", "\nVERSION = 'v1.35.0'\n"))
    flag = '--pod-infra-container-image=registry.k8s.io/pause:3.10.1'
    # the copy imports its package's siblings (kube_sim_client) from the package's directory
    env = dict(os.environ, AIFABRIC_SIM_ROOT=str(tmp_path), AIFABRIC_SIM_HOSTNAME='node1', PYTHONPATH=os.path.dirname(KUBELET))
    proc = subprocess.run([sys.executable, str(newer), flag] + list(DEFAULT_FLAGS), capture_output=True, text=True, env=env,
                          timeout=20, check=False)
    _refused(proc, 'failed to parse kubelet flag: unknown flag: --pod-infra-container-image')
    older = run_kubelet(tmp_path, flag, *DEFAULT_FLAGS)
    assert 'the --pod-infra-container-image flag is deprecated' in older.stderr
    assert 'unknown flag' not in older.stderr


def test_refuses_without_config(tmp_path):
    _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
             'failed to load kubelet config file, path: /var/lib/kubelet/config.yaml, error: failed to load Kubelet config file '
             '/var/lib/kubelet/config.yaml, error failed to read kubelet config file "/var/lib/kubelet/config.yaml", error: '
             'open /var/lib/kubelet/config.yaml: no such file or directory')


def test_refuses_without_kubeconfig(tmp_path):
    make_node_root(tmp_path)
    _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
             'failed to run Kubelet: unable to load bootstrap kubeconfig: stat /etc/kubernetes/bootstrap-kubelet.conf: no such file or directory')


def test_refuses_without_cri_socket(tmp_path):
    make_node_root(tmp_path, with_socket=False)
    write_file(tmp_path / 'etc/kubernetes/bootstrap-kubelet.conf', 'apiVersion: v1\nkind: Config\n')
    _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
             'failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint '
             '"unix:///run/containerd/containerd.sock": rpc error: code = Unavailable desc = connection error: desc = '
             '"transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: no such file or directory"')


def test_refuses_cgroup_driver_mismatch(tmp_path):
    sock = make_node_root(tmp_path, dump=SYSTEMD_DUMP.replace('SystemdCgroup = true', 'SystemdCgroup = false'))
    try:
        write_file(tmp_path / 'etc/kubernetes/bootstrap-kubelet.conf', 'apiVersion: v1\nkind: Config\n')
        _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
                 'failed to run Kubelet: misconfiguration: kubelet cgroup driver: "systemd" is different from the container runtime '
                 'cgroup driver: "cgroupfs"')
        # the default runtime's options count (nvidia-ctk makes "nvidia" the default)
        nvidia = SYSTEMD_DUMP.replace('SystemdCgroup = true', 'SystemdCgroup = false')
        nvidia = nvidia.replace('default_runtime_name = "runc"', 'default_runtime_name = "nvidia"')
        nvidia += ('        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]\n'
                   '          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]\n'
                   '            BinaryName = "/usr/bin/nvidia-container-runtime"\n            SystemdCgroup = true\n')
        write_file(tmp_path / 'containerd-config-dump.txt', nvidia)
        (tmp_path / 'var/lib/kubelet/config.yaml').write_text(KUBELET_CONFIG.replace('cgroupDriver: systemd', 'cgroupDriver: cgroupfs'))
        _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
                 'failed to run Kubelet: misconfiguration: kubelet cgroup driver: "cgroupfs" is different from the container runtime '
                 'cgroup driver: "systemd"')
    finally:
        sock.close()


def test_refuses_swap(tmp_path):
    sock = make_node_root(tmp_path)
    try:
        write_file(tmp_path / 'etc/kubernetes/bootstrap-kubelet.conf', 'apiVersion: v1\nkind: Config\n')
        write_file(tmp_path / 'proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda3\tpartition\t1048572\t0\t-2\n')
        _refused(run_kubelet(tmp_path, *DEFAULT_FLAGS),
                 'failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false')
    finally:
        sock.close()


# ---- a cluster: cp1 (static pods) and w1 (TLS bootstrap) -----------------------------------------------

class Cluster(object):  # pylint: disable=too-many-instance-attributes
    def __init__(self, tmp):
        self.tmp, self.port, self.procs, self.sockets = tmp, free_port(), [], []
        self.server = 'https://127.0.0.1:%d' % self.port
        self.cp, self.w1 = tmp / 'cp', tmp / 'w1'
        self.etcd = EtcdServer(tmp / 'etcd')  # the API server's store; the etcd static Pod itself does not run here (no /usr/bin/etcd in cp)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca = issue_cert(x509_name('kubernetes'), ca_key)
        self.ca_pem = to_pem(self.ca)
        pki = self.cp / 'etc/kubernetes/pki'
        write_file(pki / 'ca.crt', self.ca_pem)
        write_file(pki / 'ca.key', to_pem(key=ca_key), 0o600)
        creds = {}
        for name, subject, san, eku in (
                ('apiserver', x509_name('kube-apiserver'), [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))], ExtendedKeyUsageOID.SERVER_AUTH),
                ('admin', x509_name('kubernetes-admin', ['kubeadm:cluster-admins']), None, ExtendedKeyUsageOID.CLIENT_AUTH),
                ('controller-manager', x509_name('system:kube-controller-manager'), None, ExtendedKeyUsageOID.CLIENT_AUTH),
                ('kubelet', x509_name('system:node:cp1', ['system:nodes']), None, ExtendedKeyUsageOID.CLIENT_AUTH)):
            key = ec.generate_private_key(ec.SECP256R1())
            creds[name] = (to_pem(issue_cert(subject, key, self.ca, ca_key, san, eku)), to_pem(key=key))
        write_file(pki / 'apiserver.crt', creds['apiserver'][0])
        write_file(pki / 'apiserver.key', creds['apiserver'][1], 0o600)
        self.admin = (write_file(self.tmp / 'admin.crt', creds['admin'][0]), write_file(self.tmp / 'admin.key', creds['admin'][1]))
        write_file(self.cp / 'etc/kubernetes/controller-manager.conf',
                   kubeconfig(self.server, self.ca_pem, *creds['controller-manager'], user='system:kube-controller-manager'), 0o600)
        write_file(self.cp / 'etc/kubernetes/kubelet.conf', kubeconfig(self.server, self.ca_pem, *creds['kubelet'], user='system:node:cp1'), 0o600)
        write_file(self.cp / 'etc/kubernetes/admin.conf', kubeconfig(self.server, self.ca_pem, *creds['admin'], user='kubernetes-admin'), 0o600)
        manifests = self.cp / 'etc/kubernetes/manifests'
        write_file(manifests / 'kube-apiserver.yaml', self.manifest('kube-apiserver', [
            'kube-apiserver', '--advertise-address=127.0.0.1', '--allow-privileged=true', '--authorization-mode=Node,RBAC',
            '--client-ca-file=/etc/kubernetes/pki/ca.crt', '--enable-admission-plugins=NodeRestriction', '--enable-bootstrap-token-auth=true',
            '--etcd-servers=' + self.etcd.url, '--secure-port=%d' % self.port, '--bind-address=127.0.0.1',
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local', '--service-cluster-ip-range=10.96.0.0/12',
            '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt', '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key']))
        write_file(manifests / 'kube-controller-manager.yaml', self.manifest('kube-controller-manager', [
            'kube-controller-manager', '--allocate-node-cidrs=true', '--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf',
            '--bind-address=127.0.0.1', '--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt',
            '--cluster-signing-key-file=/etc/kubernetes/pki/ca.key', '--controllers=*,bootstrapsigner,tokencleaner',
            '--kubeconfig=/etc/kubernetes/controller-manager.conf', '--leader-elect=true', '--use-service-account-credentials=true']))
        write_file(manifests / 'etcd.yaml', self.manifest('etcd', ['etcd', '--data-dir=/var/lib/etcd'], image='registry.k8s.io/etcd:3.6.4-0'))
        self.sockets.append(make_node_root(self.cp))
        # the control plane has a site's own CNI config already (w1 gets Calico's, below)
        bridge = [{'type': 'bridge', 'bridge': 'cni0', 'ipam': {'type': 'host-local'}},
                  {'type': 'portmap', 'capabilities': {'portMappings': True}}]
        write_file(self.cp / 'etc/cni/net.d/10-bridge.conflist', json.dumps({'cniVersion': '1.0.0', 'name': 'bridge', 'plugins': bridge}))
        self.sockets.append(make_node_root(self.w1, config=KUBELET_CONFIG.replace('staticPodPath: /etc/kubernetes/manifests\n', '')))
        write_file(self.w1 / 'etc/kubernetes/bootstrap-kubelet.conf',
                   kubeconfig(self.server, self.ca_pem, token='%s.%s' % (TOKEN_ID, TOKEN_SECRET), user='tls-bootstrap-token-user'), 0o600)

    @staticmethod
    def manifest(name, command, image=None):
        return yaml.safe_dump({'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {
            'name': name, 'namespace': 'kube-system', 'labels': {'component': name, 'tier': 'control-plane'}},
            'spec': {'hostNetwork': True, 'priorityClassName': 'system-node-critical', 'containers': [
                {'name': name, 'image': image or 'registry.k8s.io/%s:v1.34.2' % name, 'command': command}]}})

    def kubelet(self, root, hostname, *flags):
        log = open(self.tmp / ('kubelet-%s.log' % hostname), 'a')  # pylint: disable=consider-using-with
        env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_HOSTNAME=hostname)
        cmd = [sys.executable, KUBELET] + list(DEFAULT_FLAGS) + list(flags)
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)  # pylint: disable=consider-using-with
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, hostname):
        return (self.tmp / ('kubelet-%s.log' % hostname)).read_text()

    def request(self, method, path, body=None, ctype='application/json'):
        ctx = ssl.create_default_context(cadata=self.ca_pem.decode())
        ctx.load_cert_chain(str(self.admin[0]), str(self.admin[1]))
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method, headers={'Content-Type': ctype})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw.startswith(b'{') else raw.decode()
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def wait(self, what, check, timeout=30):
        deadline, last = time.time() + timeout, None
        while time.time() < deadline:
            try:
                last = check()
            except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
                last = err
            if last and not isinstance(last, Exception):
                return last
            time.sleep(0.5)
        raise AssertionError('timed out waiting for %s (last: %r)\n--- cp1\n%s\n--- w1\n%s\n--- apiserver\n%s\n--- kcm\n%s' % (
            what, last, self.log('cp1')[-3000:], self.log('w1')[-3000:] if (self.tmp / 'kubelet-w1.log').exists() else '',
            self.static_log('kube-apiserver')[-3000:], self.static_log('kube-controller-manager')[-3000:]))

    def static_log(self, name):
        path = self.cp / 'var/lib/aifabric-sim/kubelet' / (name + '.log')
        return path.read_text() if path.exists() else ''

    def static_state(self):
        path = self.cp / 'var/lib/aifabric-sim/kubelet/static-pods.json'
        return json.loads(path.read_text()) if path.exists() else {}

    def teardown(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for entry in self.static_state().values():
            if entry.get('pid'):
                try:
                    os.killpg(entry['pid'], signal.SIGTERM)
                except OSError:
                    pass
        self.etcd.stop()
        for sock in self.sockets:
            sock.close()


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _token_secret(token_id, secret, expiration):
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'bootstrap.kubernetes.io/token',
            'metadata': {'name': 'bootstrap-token-' + token_id, 'namespace': 'kube-system'},
            'data': dict((k, _b64(v)) for k, v in (
                ('token-id', token_id), ('token-secret', secret), ('expiration', expiration), ('usage-bootstrap-authentication', 'true'),
                ('usage-bootstrap-signing', 'true'), ('auth-extra-groups', 'system:bootstrappers:kubeadm:default-node-token')))}


def _stamp(delta):
    return (datetime.datetime.now(datetime.timezone.utc) + delta).strftime('%Y-%m-%dT%H:%M:%SZ')


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp('kl'))
    try:
        c.etcd.start()
        c.kubelet(c.cp, 'cp1')
        c.wait('the static kube-apiserver', lambda: c.request('GET', '/readyz') == (200, 'ok'))
        # kubeadm init's bootstrap-token and cluster-info phases
        secret = _token_secret(TOKEN_ID, TOKEN_SECRET, _stamp(datetime.timedelta(hours=23)))
        assert c.request('POST', '/api/v1/namespaces/kube-system/secrets', secret)[0] == 201
        c.cluster_info = yaml.safe_dump({'apiVersion': 'v1', 'kind': 'Config', 'clusters': [{'name': '', 'cluster': {
            'server': c.server, 'certificate-authority-data': base64.b64encode(c.ca_pem).decode()}}], 'contexts': None, 'users': None,
            'current-context': '', 'preferences': {}})
        info = {'metadata': {'name': 'cluster-info', 'namespace': 'kube-public'}, 'data': {'kubeconfig': c.cluster_info}}
        assert c.request('POST', '/api/v1/namespaces/kube-public/configmaps', info)[0] == 201
        c.kubelet(c.w1, 'W1', '--hostname-override=W1', '--node-ip=10.0.0.21', '--node-labels=aifabric.io/pool=gpu,rack=r1',
                  '--register-with-taints=nvidia.com/gpu=present:NoSchedule', '--pod-infra-container-image=registry.k8s.io/pause:3.10.1')
        yield c
    finally:
        c.teardown()


def _node(c, name):
    status, node = c.request('GET', '/api/v1/nodes/' + name)
    return node if status == 200 else None


def _ready(node):
    return node and [x['status'] for x in node['status'].get('conditions', []) if x['type'] == 'Ready'] == ['True'] and node


def test_control_plane_node(cluster):
    c = cluster
    node = c.wait('node cp1 Ready', lambda: _ready(_node(c, 'cp1')))
    info = node['status']['nodeInfo']
    assert (info['kubeletVersion'], info['containerRuntimeVersion'], info['machineID'], info['operatingSystem']) == (
        'v1.34.2', 'containerd://1.7.24', '5f1e0a5c1e5d4c2b9a8f7e6d5c4b3a29', 'linux')
    assert node['metadata']['labels']['kubernetes.io/hostname'] == 'cp1' and 'taints' not in node['spec']
    assert node['status']['capacity']['pods'] == '110' and node['status']['capacity']['cpu'] == str(os.cpu_count())
    assert 'nvidia.com/gpu' not in node['status']['capacity']
    # the embedded client certificate of kubeadm init's kubelet.conf went into the pki store
    assert os.path.realpath(c.cp / 'var/lib/kubelet/pki/kubelet-client-current.pem').startswith(str(c.cp / 'var/lib/kubelet/pki/kubelet-client-'))

    def mirrors():
        status, pods = c.request('GET', '/api/v1/namespaces/kube-system/pods')
        got = dict((p['metadata']['name'], p) for p in pods['items'])
        return len(got) >= 3 and got
    pods = c.wait('the mirror pods', mirrors)
    assert sorted(pods) == ['etcd-cp1', 'kube-apiserver-cp1', 'kube-controller-manager-cp1'], sorted(pods)
    mirror = pods['kube-apiserver-cp1']
    assert mirror['status']['phase'] == 'Running' and mirror['spec']['nodeName'] == 'cp1'
    assert mirror['metadata']['annotations']['kubernetes.io/config.mirror'] and mirror['metadata']['ownerReferences'][0]['kind'] == 'Node'
    state = c.static_state()
    assert sorted(state) == ['etcd', 'kube-apiserver', 'kube-controller-manager'] and 'pid' not in state['etcd'], state
    assert state['kube-apiserver']['pid'] and state['kube-controller-manager']['pid']
    assert 'listening on https://127.0.0.1:%d' % c.port in c.static_log('kube-apiserver')

    # a manifest removed: its mirror pod goes; the kubelet restarted: the static pods keep running
    os.unlink(c.cp / 'etc/kubernetes/manifests/etcd.yaml')
    c.wait('etcd-cp1 gone', lambda: c.request('GET', '/api/v1/namespaces/kube-system/pods/etcd-cp1')[0] == 404)
    cp_kubelet = c.procs[0]
    cp_kubelet.terminate()
    assert cp_kubelet.wait(10) == 0
    c.procs[0] = c.kubelet(c.cp, 'cp1')
    time.sleep(2)
    assert c.static_state()['kube-apiserver']['pid'] == state['kube-apiserver']['pid']
    assert c.request('GET', '/readyz') == (200, 'ok')


CNI_TEMPLATE = '''{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "calico", "datastore_type": "kubernetes", "nodename": "__KUBERNETES_NODE_NAME__", "mtu": __CNI_MTU__,
     "ipam": {"type": "calico-ipam"}, "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}},
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}'''


def _calico(c):
    """What Calico's manifest puts in the API that calico-node reads (lab/mirror/cni: the whole manifest)."""
    crd = {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': 'ippools.crd.projectcalico.org'},
           'spec': {'group': 'crd.projectcalico.org', 'scope': 'Cluster',
                    'names': {'kind': 'IPPool', 'listKind': 'IPPoolList', 'plural': 'ippools', 'singular': 'ippool'},
                    'versions': [{'name': 'v1', 'served': True, 'storage': True,
                                  'schema': {'openAPIV3Schema': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}]}}
    config = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'calico-config', 'namespace': 'kube-system'},
              'data': {'veth_mtu': '1440', 'cni_network_config': CNI_TEMPLATE}}
    daemonset = {'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': 'calico-node', 'namespace': 'kube-system'},
                 'spec': {'selector': {'matchLabels': {'k8s-app': 'calico-node'}}, 'template': {
                     'metadata': {'labels': {'k8s-app': 'calico-node'}},
                     'spec': {'initContainers': [{'name': 'install-cni', 'image': 'docker.io/calico/cni:v3.30.3',
                                                  'env': [{'name': 'CNI_CONF_NAME', 'value': '10-calico.conflist'}]}],
                              'containers': [{'name': 'calico-node', 'image': 'docker.io/calico/node:v3.30.3',
                                              'env': [{'name': 'CALICO_IPV4POOL_CIDR', 'value': '10.244.0.0/16'},
                                                      {'name': 'CALICO_IPV4POOL_VXLAN', 'value': 'Never'}]}]}}}}
    assert c.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)[0] == 201
    assert c.request('POST', '/api/v1/namespaces/kube-system/configmaps', config)[0] == 201
    assert c.request('POST', '/apis/apps/v1/namespaces/kube-system/daemonsets', daemonset)[0] == 201


def test_worker_not_ready_until_the_cni(cluster):
    c = cluster

    def not_ready():
        node = _node(c, 'w1')
        ready = node and [x for x in node['status'].get('conditions', []) if x['type'] == 'Ready']
        return ready and ready[0]['status'] == 'False' and ready[0]
    ready = c.wait('node w1 registered, not Ready', not_ready, timeout=40)
    assert (ready['reason'], ready['message']) == ('KubeletNotReady', 'container runtime network not ready: NetworkReady=false '
                                                   'reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized')
    assert not (c.w1 / 'etc/cni/net.d').exists()
    _calico(c)
    c.wait('node w1 Ready', lambda: _ready(_node(c, 'w1')), timeout=30)
    conf = json.loads((c.w1 / 'etc/cni/net.d/10-calico.conflist').read_text())
    assert (conf['plugins'][0]['nodename'], conf['plugins'][0]['mtu'], conf['plugins'][0]['kubernetes']['kubeconfig']) == (
        'w1', 1440, '/etc/cni/net.d/calico-kubeconfig')
    assert oct((c.w1 / 'etc/cni/net.d/calico-kubeconfig').stat().st_mode & 0o777) == '0o600'
    version = subprocess.run([str(c.w1 / 'opt/cni/bin/calico')], env={'CNI_COMMAND': 'VERSION'}, capture_output=True, text=True, check=False)
    assert version.returncode == 0 and json.loads(version.stdout)['cniVersion'] == '1.0.0'
    # calico-node's startup: the default pool from CALICO_IPV4POOL_CIDR, once for the cluster
    pool = c.wait('the default IPPool', lambda: c.request('GET', '/apis/crd.projectcalico.org/v1/ippools/default-ipv4-ippool')[1]['spec'])
    assert (pool['cidr'], pool['vxlanMode'], pool['ipipMode'], pool['blockSize'], pool['natOutgoing']) == (
        '10.244.0.0/16', 'Never', 'Always', 26, True)
    assert len(c.request('GET', '/apis/crd.projectcalico.org/v1/ippools')[1]['items']) == 1


def test_worker_tls_bootstrap_and_registration(cluster):
    c = cluster
    node = c.wait('node w1 Ready', lambda: _ready(_node(c, 'w1')), timeout=40)
    kubeconf = yaml.safe_load((c.w1 / 'etc/kubernetes/kubelet.conf').read_text())
    assert kubeconf['users'][0]['user'] == {'client-certificate': '/var/lib/kubelet/pki/kubelet-client-current.pem',
                                            'client-key': '/var/lib/kubelet/pki/kubelet-client-current.pem'}
    assert kubeconf['clusters'][0]['cluster']['server'] == c.server
    pem = (c.w1 / 'var/lib/kubelet/pki/kubelet-client-current.pem').read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.subject == x509_name('system:node:w1', ['system:nodes']) and cert.issuer == c.ca.subject
    assert b'PRIVATE KEY-----' in pem
    csrs = c.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests')[1]['items']
    mine = [x for x in csrs if x['spec']['username'] == 'system:bootstrap:' + TOKEN_ID]
    assert len(mine) == 1 and mine[0]['spec']['signerName'] == 'kubernetes.io/kube-apiserver-client-kubelet'
    assert [(x['type'], x['reason']) for x in mine[0]['status']['conditions']] == [('Approved', 'AutoApproved')]
    assert mine[0]['status']['conditions'][0]['message'] == 'Auto approving kubelet client certificate after SubjectAccessReview.'

    labels, taints = node['metadata']['labels'], node['spec'].get('taints')
    assert (labels['kubernetes.io/hostname'], labels['aifabric.io/pool'], labels['rack'], labels['kubernetes.io/os'],
            labels['beta.kubernetes.io/arch']) == ('w1', 'gpu', 'r1', 'linux', 'amd64')
    assert taints == [{'key': 'nvidia.com/gpu', 'value': 'present', 'effect': 'NoSchedule'}]
    assert {'type': 'InternalIP', 'address': '10.0.0.21'} in node['status']['addresses']
    ready = [x for x in node['status']['conditions'] if x['type'] == 'Ready'][0]
    assert (ready['reason'], ready['message']) == ('KubeletReady', 'kubelet is posting ready status')
    assert 'pod-infra-container-image flag is deprecated' in c.log('W1')

    lease = c.wait('the lease', lambda: c.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1')[1]['spec'])
    assert (lease['holderIdentity'], lease['leaseDurationSeconds']) == ('w1', 40)
    c.wait('a lease renewal', lambda: c.request('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1')[1]['spec']['renewTime']
           != lease['renewTime'], timeout=25)


def test_bootstrap_signer_and_token_cleaner(cluster):
    c = cluster

    def signed():
        return c.request('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info')[1]['data'].get('jws-kubeconfig-' + TOKEN_ID)
    jws = c.wait('the cluster-info signature', signed)
    header, payload, signature = jws.split('.')
    assert payload == '' and json.loads(base64.urlsafe_b64decode(header + '==')) == {'alg': 'HS256', 'kid': TOKEN_ID}
    signing_input = header + '.' + base64.urlsafe_b64encode(c.cluster_info.encode()).rstrip(b'=').decode()
    want = hmac.new(TOKEN_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + '==') == want

    # an expired token: tokencleaner deletes its Secret, bootstrapsigner drops its signature
    c.request('POST', '/api/v1/namespaces/kube-system/secrets', _token_secret('zzzzzz', 'abcdefabcdefabcd', _stamp(datetime.timedelta(seconds=3))))
    info = '/api/v1/namespaces/kube-public/configmaps/cluster-info'
    c.wait('a signature for zzzzzz', lambda: 'jws-kubeconfig-zzzzzz' in c.request('GET', info)[1]['data'])
    c.wait('the expired token deleted', lambda: c.request('GET', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-zzzzzz')[0] == 404)
    c.wait('its signature gone', lambda: 'jws-kubeconfig-zzzzzz' not in c.request('GET', info)[1]['data'])
    assert signed() == jws


def test_node_lifecycle(cluster):
    c = cluster
    stamp = _stamp(datetime.timedelta(0))
    node = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': 'ghost'}, 'status': {'conditions': [
        {'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady', 'message': 'kubelet is posting ready status',
         'lastHeartbeatTime': stamp, 'lastTransitionTime': stamp}]}}
    assert c.request('POST', '/api/v1/nodes', node)[0] == 201
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=120)).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    lease = {'metadata': {'name': 'ghost', 'namespace': 'kube-node-lease'}, 'spec': {'holderIdentity': 'ghost', 'leaseDurationSeconds': 40, 'renewTime': old}}
    assert c.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease)[0] == 201

    def unknown():
        n = _node(c, 'ghost')
        ready = [x for x in n['status']['conditions'] if x['type'] == 'Ready'][0]
        return ready['status'] == 'Unknown' and len(n['spec'].get('taints') or []) == 2 and (n, ready)
    ghost, ready = c.wait('ghost Unknown', unknown)
    assert (ready['reason'], ready['message']) == ('NodeStatusUnknown', 'Kubelet stopped posting node status.')
    assert sorted((t['key'], t['effect']) for t in ghost['spec']['taints']) == [
        ('node.kubernetes.io/unreachable', 'NoExecute'), ('node.kubernetes.io/unreachable', 'NoSchedule')]
    # the live kubelets are left alone: Ready, and no unreachable taint. cp1 is Ready on its own;
    # w1 once an earlier test of the file gave it its CNI (run alone, this test finds w1 at most
    # registered and NotReady, for want of a CNI, and checks only that it is not taken for gone)
    c.wait('node cp1 Ready', lambda: _ready(_node(c, 'cp1')))
    with_cni = (c.w1 / 'etc/cni/net.d/10-calico.conflist').exists()
    for name in ('cp1', 'w1'):
        live = _node(c, name)
        if live is None:
            continue
        assert _ready(live) or (name == 'w1' and not with_cni), live
        assert not [t for t in live['spec'].get('taints') or [] if t['key'] == 'node.kubernetes.io/unreachable'], live
        assert name == 'cp1' or not with_cni or not (live['spec'].get('taints') or [])[1:], live  # w1: its GPU taint only
    # the "kubelet" is back: lease renewed, Ready posted
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
    c.request('PATCH', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/ghost', {'spec': {'renewTime': now}},
              'application/merge-patch+json')
    c.request('PATCH', '/api/v1/nodes/ghost/status', {'status': {'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady'}]}},
              'application/strategic-merge-patch+json')
    c.wait('the taints removed', lambda: not _node(c, 'ghost')['spec'].get('taints'))
