"""The NVIDIA GPU/Network Operator doubles of the lab: the Helm chart doubles (lab/charts, with
the real helm), the node-side operands (nvidia_operands.py, the kubelet package) and the
cluster-side controllers (nvidia_operators.py, run by the kube-controller-manager double),
against the API server double (lab/simulators/kubeapi/kubeapi.py, a subprocess) with the
simulated nvidia-smi and DOCA-OFED state under AIFABRIC_SIM_ROOT.
"""
import ipaddress
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from labtest import free_port, issue_cert, to_pem, write_file, x509_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.join(ROOT, 'lab', 'sim-packages', 'kubelet', 'usr', 'lib', 'aifabric-sim')
DOUBLE = os.path.join(ROOT, 'lab', 'simulators', 'kubeapi', 'kubeapi.py')
CHARTS = os.path.join(ROOT, 'lab', 'charts')
HELM = os.path.join(ROOT, '.cache', 'tools', 'bin', 'helm')
SMI = os.path.join(ROOT, 'lab', 'sim-packages', 'nvidia-utils-580', 'usr', 'bin', 'nvidia-smi')
DOCA = os.path.join(ROOT, 'lab', 'sim-packages', 'doca-ofed', 'usr', 'lib', 'aifabric-sim', 'doca_ofed.py')
PROFILES = os.path.join(ROOT, 'lab', 'sim-packages', 'aifabric-sim-common', 'usr', 'share', 'aifabric-lab', 'profiles')
sys.path.insert(0, LIB)

import kube_sim_client  # noqa: E402  pylint: disable=wrong-import-position
import nvidia_operands  # noqa: E402  pylint: disable=wrong-import-position
import nvidia_operators  # noqa: E402  pylint: disable=wrong-import-position

RDMA_CONFIG = json.dumps({'configList': [{'resourceName': 'rdma_shared_device_a', 'rdmaHcaMax': 63, 'selectors': {
    'vendors': ['15b3'], 'deviceIDs': ['1021'], 'ifNames': ['ens1f0np0']}}]})


# ---- the chart doubles with the real helm -----------------------------------------------------------------

needs_helm = pytest.mark.skipif(not os.access(HELM, os.X_OK), reason='no .cache/tools/bin/helm (make tools)')


def helm(*args):
    proc = subprocess.run([HELM] + list(args), capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@needs_helm
def test_chart_doubles_lint_and_template(tmp_path):
    for chart, version in (('gpu-operator', 'v25.10.0'), ('network-operator', '25.7.0')):
        meta = yaml.safe_load(open(os.path.join(CHARTS, chart, 'Chart.yaml')))
        assert (meta['apiVersion'], meta['name'], meta['version']) == ('v2', chart, version)
        helm('lint', os.path.join(CHARTS, chart))
        out = helm('package', os.path.join(CHARTS, chart), '--destination', str(tmp_path))
        assert '%s-%s.tgz' % (chart, version) in out
    helm('repo', 'index', str(tmp_path), '--url', 'http://10.231.0.3/charts')
    index = yaml.safe_load((tmp_path / 'index.yaml').read_text())
    assert index['entries']['gpu-operator'][0]['urls'] == ['http://10.231.0.3/charts/gpu-operator-v25.10.0.tgz']
    assert index['entries']['network-operator'][0]['version'] == '25.7.0'

    rendered = helm('template', 'gpu-operator', os.path.join(CHARTS, 'gpu-operator'), '-n', 'gpu-operator',
                    '--include-crds', '--set', 'driver.enabled=false', '--set', 'toolkit.enabled=false')
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = dict((d['kind'], d['metadata']['name']) for d in docs)
    assert kinds == {'CustomResourceDefinition': 'clusterpolicies.nvidia.com', 'ServiceAccount': 'gpu-operator',
                     'DaemonSet': 'gpu-operator-node-feature-discovery-worker', 'Deployment': 'gpu-operator', 'ClusterPolicy': 'cluster-policy'}
    crd = [d for d in docs if d['kind'] == 'CustomResourceDefinition'][0]
    assert crd['spec']['scope'] == 'Cluster' and crd['spec']['versions'][0]['subresources'] == {'status': {}}
    deployment = [d for d in docs if d['kind'] == 'Deployment'][0]
    assert deployment['metadata']['labels']['app'] == 'gpu-operator'
    spec = [d for d in docs if d['kind'] == 'ClusterPolicy'][0]['spec']
    assert spec['driver']['enabled'] is False and spec['toolkit']['enabled'] is False
    assert spec['devicePlugin']['enabled'] is True and spec['gfd']['enabled'] is True and spec['dcgm']['enabled'] is False
    assert spec['operator']['defaultRuntime'] == 'containerd' and spec['mig']['strategy'] == 'single'
    assert spec['cdi'] == {'enabled': True, 'default': False}
    assert {'name': 'DCGM_EXPORTER_LISTEN', 'value': ':9400'} in spec['dcgmExporter']['env']
    assert spec['daemonsets']['tolerations'] == [{'key': 'nvidia.com/gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}]
    assert spec['validator']['version'] == 'v25.10.0' and spec['nodeStatusExporter']['enabled'] is False
    no_nfd = helm('template', 'gpu-operator', os.path.join(CHARTS, 'gpu-operator'), '--set', 'nfd.enabled=false')
    assert 'kind: DaemonSet' not in no_nfd

    rendered = helm('template', 'network-operator', os.path.join(CHARTS, 'network-operator'), '-n', 'nvidia-network-operator', '--include-crds')
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    crds = dict((d['metadata']['name'], d['spec']) for d in docs if d['kind'] == 'CustomResourceDefinition')
    assert sorted(crds) == ['hostdevicenetworks.mellanox.com', 'macvlannetworks.mellanox.com', 'network-attachment-definitions.k8s.cni.cncf.io',
                            'nicclusterpolicies.mellanox.com']
    assert crds['network-attachment-definitions.k8s.cni.cncf.io']['scope'] == 'Namespaced'
    assert crds['nicclusterpolicies.mellanox.com']['scope'] == 'Cluster'
    assert sorted(d['kind'] for d in docs if d['kind'] != 'CustomResourceDefinition') == ['DaemonSet', 'Deployment', 'ServiceAccount']


# ---- API server double, nodes --------------------------------------------------------------------------------

class Api(object):
    def __init__(self, tmp):
        self.tmp, self.port = tmp, free_port()
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = issue_cert(x509_name('kubernetes'), ca_key)
        self.ca_pem = to_pem(ca)
        keys = {}
        for name, subject, san, eku in (
                ('server', x509_name('kube-apiserver'), [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))], ExtendedKeyUsageOID.SERVER_AUTH),
                ('admin', x509_name('kubernetes-admin', ['kubeadm:cluster-admins']), None, ExtendedKeyUsageOID.CLIENT_AUTH)):
            key = ec.generate_private_key(ec.SECP256R1())
            keys[name] = (to_pem(issue_cert(subject, key, ca, ca_key, san, eku)), to_pem(key=key))
        write_file(tmp / 'ca.crt', self.ca_pem)
        write_file(tmp / 'server.crt', keys['server'][0])
        write_file(tmp / 'server.key', keys['server'][1])
        log = open(tmp / 'kubeapi.log', 'a')  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, DOUBLE, '--listen', '127.0.0.1:%d' % self.port, '--tls-cert', str(tmp / 'server.crt'), '--tls-key',
             str(tmp / 'server.key'), '--client-ca', str(tmp / 'ca.crt'), '--version', '1.34.2', '--state-dir', str(tmp / 'state')],
            stdout=subprocess.PIPE, stderr=log, text=True)
        log.close()
        line = self.proc.stdout.readline()
        assert 'listening on' in line, line + (tmp / 'kubeapi.log').read_text()
        self.client = kube_sim_client.Client('https://127.0.0.1:%d' % self.port, self.ca_pem.decode(), *keys['admin'])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()

    def create(self, path, obj):
        return self.client.request('POST', path, obj)

    def node(self, name):
        return self.client.get('/api/v1/nodes/' + name)

    def crds(self, chart):
        for fname in sorted(os.listdir(os.path.join(CHARTS, chart, 'crds'))):
            with open(os.path.join(CHARTS, chart, 'crds', fname)) as f:
                self.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', yaml.safe_load(f))


@pytest.fixture
def api(tmp_path):
    server = Api(tmp_path)
    try:
        yield server
    finally:
        server.stop()


class Node(object):
    """A node's AIFABRIC_SIM_ROOT (hardware profile, simulated GPU/RDMA state) and its operands."""

    def __init__(self, api, tmp, name, profile, monkeypatch, netdev='ens1f0np0'):
        self.api, self.name, self.root, self.mp = api, name, tmp / name, monkeypatch
        write_file(self.root / 'etc/aifabric-lab/hw_profile', profile + '\n')
        write_file(self.root / 'etc/aifabric-lab/rdma_netdev', netdev + '\n')
        (self.root / 'usr/share/aifabric-lab').mkdir(parents=True, exist_ok=True)
        shutil.copytree(PROFILES, self.root / 'usr/share/aifabric-lab/profiles')
        api.create('/api/v1/nodes', {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': {'kubernetes.io/hostname': name}},
                                     'status': {'capacity': {'cpu': '4', 'pods': '110'}, 'allocatable': {'cpu': '4', 'pods': '110'}}})
        self.operands = nvidia_operands.Operands(api.client, name, smi=SMI if profile != 'mgmt-generic' else '/nonexistent/nvidia-smi')
        self.env()
        self.tool(DOCA, '--tool', 'aifabric-sim-rdma', 'refresh')

    def env(self):
        self.mp.setenv('AIFABRIC_SIM_ROOT', str(self.root))
        self.mp.setenv('AIFABRIC_SIM_HOSTNAME', self.name)
        self.mp.setenv('AIFABRIC_SIM_NETDEV_MAC', '10:70:fd:27:25:0b')
        self.mp.setenv('AIFABRIC_SIM_NETDEV_IPV4', '10.99.91.35')

    def tool(self, *cmd):
        self.env()
        exe = [sys.executable] if cmd[0].endswith('.py') else []
        return subprocess.run(exe + list(cmd), capture_output=True, text=True, check=False, timeout=30)

    def sync(self):
        self.env()
        self.operands.sync()
        return self.api.node(self.name)


def _operators(api):
    nvidia_operators.Operators(api.client).sync()


def _gpu_operator_install(api):
    api.crds('gpu-operator')
    api.create('/api/v1/namespaces', {'metadata': {'name': 'gpu-operator'}})
    api.create('/apis/apps/v1/namespaces/gpu-operator/deployments', {
        'metadata': {'name': 'gpu-operator', 'labels': {'app': 'gpu-operator'}},
        'spec': {'selector': {'matchLabels': {'app': 'gpu-operator'}}, 'template': {
            'metadata': {'labels': {'app': 'gpu-operator'}}, 'spec': {'containers': [{'name': 'gpu-operator', 'image': 'x'}]}}}})
    api.create('/apis/apps/v1/namespaces/gpu-operator/daemonsets', {
        'metadata': {'name': 'gpu-operator-node-feature-discovery-worker', 'labels': {'app.kubernetes.io/name': 'node-feature-discovery'}},
        'spec': {'selector': {'matchLabels': {'role': 'worker'}}, 'template': {
            'metadata': {'labels': {'role': 'worker'}}, 'spec': {'containers': [{'name': 'worker', 'image': 'x'}]}}}})


CLUSTER_POLICY = {'apiVersion': 'nvidia.com/v1', 'kind': 'ClusterPolicy', 'metadata': {'name': 'cluster-policy'},
                  'spec': {'operator': {'defaultRuntime': 'containerd'}, 'driver': {'enabled': True}, 'toolkit': {'enabled': False},
                           'devicePlugin': {'enabled': True}, 'gfd': {'enabled': True}, 'validator': {}}}


def _policy_status(api):
    return api.client.get('/apis/nvidia.com/v1/clusterpolicies/cluster-policy').get('status') or {}


def _ready(status):
    return [(c['status'], c['reason']) for c in status.get('conditions', []) if c['type'] == 'Ready']


# ---- GPU Operator ---------------------------------------------------------------------------------------------

def test_gpu_operator_operands_and_cluster_policy(api, tmp_path, monkeypatch):
    _gpu_operator_install(api)
    gpu1 = Node(api, tmp_path, 'gpu1', 'hgx-h100-8gpu', monkeypatch)
    gpu2 = Node(api, tmp_path, 'gpu2', 'hgx-h100-8gpu', monkeypatch)
    cpu1 = Node(api, tmp_path, 'cpu1', 'mgmt-generic', monkeypatch)
    assert 'injected' in gpu2.tool(SMI.replace('usr/bin/nvidia-smi', 'usr/sbin/aifabric-sim-gpu'), 'fault', '4', 'fallen-off-bus').stdout

    # NFD only, no ClusterPolicy: the PCI label, no GFD labels, no nvidia.com/gpu
    for node in (gpu1, gpu2, cpu1):
        node.sync()
    _operators(api)
    labels = api.node('gpu1')['metadata']['labels']
    assert labels[nvidia_operands.PCI_PRESENT] == 'true'
    assert not [k for k in labels if k.startswith('nvidia.com/')]
    assert 'nvidia.com/gpu' not in api.node('gpu1')['status']['capacity']
    assert nvidia_operands.PCI_PRESENT not in api.node('cpu1')['metadata']['labels']

    # the ClusterPolicy: the operator labels the GPU nodes; not ready until the validators run
    api.create('/apis/nvidia.com/v1/clusterpolicies', CLUSTER_POLICY)
    _operators(api)
    labels = api.node('gpu1')['metadata']['labels']
    assert labels['nvidia.com/gpu.present'] == 'true' and labels['nvidia.com/gpu.deploy.device-plugin'] == 'true'
    assert labels['nvidia.com/gpu.deploy.driver'] == 'true' and labels['nvidia.com/gpu.deploy.operator-validator'] == 'true'
    assert 'nvidia.com/gpu.present' not in api.node('cpu1')['metadata']['labels']
    status = _policy_status(api)
    assert status['state'] == 'notReady' and status['namespace'] == 'gpu-operator'
    assert _ready(status) == [('False', 'OperandNotReady')]
    assert 'states not ready' in status['conditions'][0]['message']

    gpu1.sync()
    node = gpu2.sync()
    node = gpu2.sync()  # a second pass changes nothing
    assert node['status']['capacity']['nvidia.com/gpu'] == '8' and node['status']['allocatable']['nvidia.com/gpu'] == '7'
    node = api.node('gpu1')
    assert node['status']['capacity']['nvidia.com/gpu'] == '8' and node['status']['allocatable']['nvidia.com/gpu'] == '8'
    labels = node['metadata']['labels']
    expect = {'nvidia.com/gpu.count': '8', 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3', 'nvidia.com/gpu.memory': '81559',
              'nvidia.com/gpu.family': 'hopper', 'nvidia.com/gpu.compute.major': '9', 'nvidia.com/gpu.compute.minor': '0',
              'nvidia.com/cuda.driver.major': '580', 'nvidia.com/cuda.driver.minor': '95', 'nvidia.com/cuda.driver.rev': '05',
              'nvidia.com/cuda.driver-version.full': '580.95.05', 'nvidia.com/cuda.runtime.major': '13',
              'nvidia.com/cuda.runtime.minor': '0', 'nvidia.com/cuda.runtime-version.full': '13.0', 'nvidia.com/mig.capable': 'true',
              'nvidia.com/gpu.deploy.driver': 'pre-installed'}
    assert dict((k, labels.get(k)) for k in expect) == expect
    assert labels['nvidia.com/gfd.timestamp'].isdigit() and 'nvidia.com/gpu.machine' in labels
    assert api.node('gpu2')['metadata']['labels']['nvidia.com/gpu.count'] == '7'
    pod = api.client.get('/api/v1/namespaces/gpu-operator/pods/nvidia-operator-validator-gpu1')
    assert pod['status']['phase'] == 'Running' and pod['spec']['nodeName'] == 'gpu1'
    # owned by the operator's DaemonSet, as drain --ignore-daemonsets expects
    owner = pod['metadata']['ownerReferences'][0]
    assert (owner['kind'], owner['name'], owner['controller']) == ('DaemonSet', 'nvidia-operator-validator', True)
    assert [(c['name'], c['state']['terminated']['reason']) for c in pod['status']['initContainerStatuses']] == [
        ('driver-validation', 'Completed'), ('toolkit-validation', 'Completed'), ('cuda-validation', 'Completed'),
        ('plugin-validation', 'Completed')]
    assert sorted(os.listdir(gpu1.root / 'run/nvidia/validations')) == ['cuda-ready', 'driver-ready', 'plugin-ready', 'toolkit-ready']

    _operators(api)
    status = _policy_status(api)
    assert status['state'] == 'ready' and _ready(status) == [('True', 'Reconciled')]

    # GFD taken off a node (nvidia.com/gpu.deploy.gpu-feature-discovery=false): its labels go stale, a hand-set
    # product stays; back on, GFD labels the node again
    api.client.request('PATCH', '/api/v1/nodes/gpu1', {'metadata': {'labels': {
        nvidia_operands.DEPLOY_GFD: 'false', 'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB'}}}, 'application/merge-patch+json')
    _operators(api)
    assert gpu1.sync()['metadata']['labels']['nvidia.com/gpu.product'] == 'NVIDIA-A100-SXM4-80GB'
    api.client.request('PATCH', '/api/v1/nodes/gpu1', {'metadata': {'labels': {nvidia_operands.DEPLOY_GFD: 'true'}}},
                       'application/merge-patch+json')
    assert gpu1.sync()['metadata']['labels']['nvidia.com/gpu.product'] == 'NVIDIA-H100-80GB-HBM3'

    # the kubelet's own status updates keep the device plugin's resources
    import kubelet  # pylint: disable=import-outside-toplevel
    gpu2.env()
    kl = kubelet.Kubelet(kubelet.parse_args(['--node-ip=10.0.0.2', '--hostname-override=gpu2']), {})
    kl.client, kl.operands = api.client, gpu2.operands
    kl.register()  # 409: the status PATCH of a restarted kubelet
    kl.heartbeat()
    assert api.node('gpu2')['status']['allocatable']['nvidia.com/gpu'] == '7'

    # ClusterPolicy deleted: labels and nvidia.com/gpu stay, the validator goes
    api.client.request('DELETE', '/apis/nvidia.com/v1/clusterpolicies/cluster-policy')
    node = gpu1.sync()
    assert node['metadata']['labels']['nvidia.com/gpu.count'] == '8' and node['status']['allocatable']['nvidia.com/gpu'] == '8'
    assert api.client.get_or_none('/api/v1/namespaces/gpu-operator/pods/nvidia-operator-validator-gpu1') is None


def test_cluster_policy_no_gpu_nodes(api, tmp_path, monkeypatch):
    _gpu_operator_install(api)
    cpu1 = Node(api, tmp_path, 'cpu1', 'mgmt-generic', monkeypatch)
    api.create('/apis/nvidia.com/v1/clusterpolicies', CLUSTER_POLICY)
    cpu1.sync()
    _operators(api)
    status = _policy_status(api)
    assert status['state'] == 'ready' and _ready(status) == [('True', 'NoGPUNodes')]
    assert status['conditions'][0]['message'] == nvidia_operators.NO_GPU_NODES
    assert not [k for k in api.node('cpu1')['metadata']['labels'] if k.startswith(('nvidia.com/', 'feature.node'))]


# ---- Network Operator -----------------------------------------------------------------------------------------

def test_rdma_shared_device_plugin_and_unbind_fault(api, tmp_path, monkeypatch):
    api.crds('network-operator')
    gpu1 = Node(api, tmp_path, 'gpu1', 'hgx-h100-8gpu', monkeypatch)
    other = Node(api, tmp_path, 'gpu2', 'hgx-h100-8gpu', monkeypatch, netdev='eth1')  # ifNames does not match
    api.create('/apis/mellanox.com/v1alpha1/nicclusterpolicies', {
        'apiVersion': 'mellanox.com/v1alpha1', 'kind': 'NicClusterPolicy', 'metadata': {'name': 'nic-cluster-policy'},
        'spec': {'rdmaSharedDevicePlugin': {'image': 'k8s-rdma-shared-dev-plugin', 'repository': 'nvcr.io/nvidia/mellanox',
                                            'version': 'network-operator-v25.7.0', 'config': RDMA_CONFIG},
                 'secondaryNetwork': {'multus': {'image': 'multus-cni'}, 'cniPlugins': {'image': 'plugins'}}}})
    node = gpu1.sync()
    assert node['status']['capacity']['rdma/rdma_shared_device_a'] == '63'
    assert node['status']['allocatable']['rdma/rdma_shared_device_a'] == '63'
    assert other.sync()['status']['allocatable']['rdma/rdma_shared_device_a'] == '0'

    out = gpu1.tool(DOCA, '--tool', 'aifabric-sim-rdma', 'unbind')
    assert out.returncode == 0 and 'unbound' in out.stdout, out.stderr
    devinfo = gpu1.tool(DOCA, '--tool', 'ibv_devinfo')
    assert devinfo.returncode == 255 and devinfo.stderr == 'No IB devices found\n'
    assert gpu1.tool(DOCA, '--tool', 'rdma', 'link', 'show').stdout == ''
    assert gpu1.sync()['status']['allocatable']['rdma/rdma_shared_device_a'] == '0'
    assert gpu1.tool(DOCA, '--tool', 'aifabric-sim-rdma', 'bind').returncode == 0
    assert gpu1.tool(DOCA, '--tool', 'rdma', 'link', 'show').stdout.startswith('link mlx5_0/1 ')
    assert gpu1.sync()['status']['allocatable']['rdma/rdma_shared_device_a'] == '63'

    _operators(api)
    status = api.client.get('/apis/mellanox.com/v1alpha1/nicclusterpolicies/nic-cluster-policy')['status']
    assert status['state'] == 'ready'
    states = dict((s['name'], s['state']) for s in status['appliedStates'])
    assert states['state-RDMA-device-plugin'] == 'ready' and states['state-multus-cni'] == 'ready'
    assert states['state-container-networking-plugins'] == 'ready' and states['state-whereabouts-cni'] == 'ignore'

    # the policy deleted: the resource really goes
    api.client.request('DELETE', '/apis/mellanox.com/v1alpha1/nicclusterpolicies/nic-cluster-policy')
    node = gpu1.sync()
    assert 'rdma/rdma_shared_device_a' not in node['status']['capacity']
    assert 'rdma/rdma_shared_device_a' not in node['status']['allocatable']


def test_macvlan_network_renders_nad(api):
    api.crds('network-operator')
    ipam = '{"type": "whereabouts", "range": "192.168.2.225/28"}'
    api.create('/apis/mellanox.com/v1alpha1/macvlannetworks', {
        'apiVersion': 'mellanox.com/v1alpha1', 'kind': 'MacvlanNetwork', 'metadata': {'name': 'rdma-net'},
        'spec': {'networkNamespace': 'default', 'master': 'ens1f0np0', 'mode': 'bridge', 'mtu': 9000, 'ipam': ipam}})
    _operators(api)
    nad = api.client.get('/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/rdma-net')
    config = json.loads(nad['spec']['config'])
    assert config == {'cniVersion': '0.3.1', 'name': 'rdma-net', 'type': 'macvlan', 'master': 'ens1f0np0', 'mode': 'bridge', 'mtu': 9000,
                      'ipam': {'type': 'whereabouts', 'range': '192.168.2.225/28'}}
    assert nad['metadata']['ownerReferences'][0]['kind'] == 'MacvlanNetwork'
    cr = api.client.get('/apis/mellanox.com/v1alpha1/macvlannetworks/rdma-net')
    assert cr['status'] == {'state': 'ready', 'networkAttachmentDef': 'default/rdma-net'}

    cr['spec']['mtu'] = 1500
    api.client.request('PUT', '/apis/mellanox.com/v1alpha1/macvlannetworks/rdma-net', cr)
    _operators(api)
    nad = api.client.get('/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/rdma-net')
    assert json.loads(nad['spec']['config'])['mtu'] == 1500

    api.client.request('DELETE', '/apis/mellanox.com/v1alpha1/macvlannetworks/rdma-net')
    _operators(api)
    assert api.client.get_or_none('/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/rdma-net') is None
