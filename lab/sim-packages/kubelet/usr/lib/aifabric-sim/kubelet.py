"""kubelet 1.34.2 test double (aifabric lab, test-side only, never production).

The real command line (--config, --kubeconfig, --bootstrap-kubeconfig,
--container-runtime-endpoint, --node-ip, --node-labels, --register-with-taints,
--hostname-override, --pod-infra-container-image (refused from 1.35, which removed it); every other
flag is accepted and ignored)
and what a node's kubelet does that kubeadm and the roles can see:

  - refuses to start (exit 1, klog `"command failed" err=...`, systemd restarts it) without
    its config file, without kubeconfig and bootstrap kubeconfig, without the CRI socket (or
    containerd), with a cgroup driver other than the runtime's, with swap on and failSwapOn;
  - TLS bootstrap with the bootstrap token: CSR (EC P-256, CN system:node:<node>, O
    system:nodes), /var/lib/kubelet/pki/kubelet-client-<time>.pem, kubelet-client-current.pem
    and /etc/kubernetes/kubelet.conf, as the real one writes them;
  - static Pods (staticPodPath): kube-apiserver runs kube_apiserver.py (kubeapi.py, copied in
    at build time), kube-controller-manager runs kube_controller_manager.py, kube-scheduler
    kube_scheduler.py, with the manifest's flags, as transient systemd units
    aifabric-static-<pod> (a detached process without systemd); etcd runs the node's own
    /usr/bin/etcd with the manifest's flags where there is one (the lab image has Debian's
    etcd-server: a real etcd with the PKI kubeadm wrote), nothing elsewhere; mirror Pods in
    kube-system;
  - every second "runs" the Pods bound to its node (kubelet_pods.py: device admission, Multus
    NetworkAttachmentDefinitions, Running then Succeeded after ~2 s; no image is pulled or run);
  - registers its Node (labels, taints, addresses, capacity, nodeInfo, conditions) and
    renews its Lease and Ready heartbeat every 10 s. Ready only once the runtime's network is
    (network_ready: a CNI config in /etc/cni/net.d, which containerd's CRI loads); until then
    Ready is False with the real KubeletNotReady "cni plugin not initialized" message;
  - every 2 s plays Calico's calico-node pod when its DaemonSet exists (calico_node.py: the CNI
    config and binaries, the default IPPool);
  - every 5 s plays the NVIDIA operators' node pods (nvidia_operands.py: NFD, GFD, the GPU and
    RDMA shared device plugins, the operator validator); their extended resources are kept in
    the status it reports.

Host paths via host() (AIFABRIC_SIM_ROOT, test-side only). See lab/simulators/README.md.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import stat
import subprocess  # nosec - runs containerd, systemd-run, systemctl and the static pods' doubles
import sys
import threading
import time

import yaml

from kube_sim_client import ApiError, Client, host, hostname, klog, load_kubeconfig, micro_time, rfc3339
from kubelet_pods import Pods
from nvidia_operands import Operands
from calico_node import CalicoNode

try:
    import tomllib
except ImportError:  # python < 3.11
    tomllib = None

VERSION = 'v1.34.2'
CNI_NET_DIR = '/etc/cni/net.d'  # containerd's CRI conf_dir (default)
NETWORK_NOT_READY = ('container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady '
                     'message:Network plugin returns error: cni plugin not initialized')
HERE = os.path.dirname(os.path.abspath(__file__))
SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet'
CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests'
STATE = '/var/lib/aifabric-sim/kubelet'
ETCD_BINARY = '/usr/bin/etcd'  # stands in for the registry.k8s.io/etcd image's
HEARTBEAT = 10
CALICO = 2  # calico-node: a new node is Ready about 2 s after its CNI config is in place
# the NVIDIA operands, one `nvidia-smi -q -x` per pass (the lab's is a Python program, ~0.06 s of
# CPU): the real GFD relabels every 60 s and the device plugin streams health changes; every 5 s
# keeps a fault seen within seconds and an idle GPU node cheap (every 2 s it was 3 % of a CPU each)
OPERANDS = 5


class Refusal(Exception):
    """The kubelet exits 1 with `"command failed" err=<message>`."""


def fail(message):
    klog('E', 'run.go:72', 'command failed', err=message)
    return 1


def read(path, default=None):
    try:
        with open(host(path)) as f:
            return f.read()
    except OSError:
        return default


def network_ready():
    """containerd's CRI network status: the first CNI config in its conf_dir, in lexical order (*.conf,
    *.conflist, *.json), that parses and names a plugin type for each plugin (libcni's ConfFiles and
    LoadConfList)."""
    try:
        names = sorted(os.listdir(host(CNI_NET_DIR)))
    except OSError:
        return False
    for name in names:
        if not name.endswith(('.conf', '.conflist', '.json')):
            continue
        try:
            conf = json.loads(read(os.path.join(CNI_NET_DIR, name)) or '')
        except ValueError:
            continue
        plugins = conf.get('plugins') if name.endswith('.conflist') and isinstance(conf, dict) else [conf]
        if plugins and all(isinstance(p, dict) and p.get('type') for p in plugins):
            return True
    return False


def read_proc(path, default=''):
    """A /proc or /etc file: under AIFABRIC_SIM_ROOT when it is there, else the real one."""
    text = read(path)
    if text is None:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = default
    return text


# ---- the container runtime -----------------------------------------------------------------------

def containerd_dump():
    """`containerd config dump`; under AIFABRIC_SIM_ROOT the file <root>/containerd-config-dump.txt may stand in."""
    root = os.environ.get('AIFABRIC_SIM_ROOT', '').rstrip('/')
    if root and os.path.isfile(os.path.join(root, 'containerd-config-dump.txt')):
        with open(os.path.join(root, 'containerd-config-dump.txt')) as f:
            return f.read()
    if not shutil.which('containerd'):
        return None
    proc = subprocess.run(['containerd', 'config', 'dump'], capture_output=True, text=True, check=False, timeout=30)
    return proc.stdout if proc.returncode == 0 else None


def runtime_cgroup_driver(dump):
    """systemd when the default runtime's options have SystemdCgroup = true (containerd 1.x and 2.x layouts)."""
    if tomllib is not None:
        try:
            cfg = tomllib.loads(dump)
        except tomllib.TOMLDecodeError:
            cfg = None
        if cfg is not None:
            plugins = cfg.get('plugins') or {}
            cri = plugins.get('io.containerd.cri.v1.runtime') or plugins.get('io.containerd.grpc.v1.cri') or {}
            ctd = cri.get('containerd') or {}
            name = ctd.get('default_runtime_name') or 'runc'
            runtime = (ctd.get('runtimes') or {}).get(name) or {}
            return 'systemd' if (runtime.get('options') or {}).get('SystemdCgroup') is True else 'cgroupfs'
    name = (re.findall(r'default_runtime_name\s*=\s*"([^"]*)"', dump) or ['runc'])[0]
    block = re.search(r'\.runtimes\.%s\.options\]\s*\n(.*?)(?:\n\s*\[|\Z)' % re.escape(name), dump, re.S)
    return 'systemd' if block and re.search(r'SystemdCgroup\s*=\s*true', block.group(1)) else 'cgroupfs'


def containerd_version():
    if shutil.which('containerd'):
        proc = subprocess.run(['containerd', '--version'], capture_output=True, text=True, check=False, timeout=30)
        fields = proc.stdout.split()
        if proc.returncode == 0 and len(fields) >= 3:
            return fields[2]
    return (read('/containerd-version.txt') or '').strip() or 'unknown'  # under AIFABRIC_SIM_ROOT only


def cri_error(endpoint, why):
    return ('failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint "%s": rpc error: '
            'code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix %s: %s"'
            % (endpoint, endpoint.split('://', 1)[-1], why))


# ---- the node ------------------------------------------------------------------------------------------

def node_ip(flag):
    if flag:
        return flag.split(',')[0]
    if shutil.which('ip'):
        proc = subprocess.run(['ip', '-4', '-o', 'addr', 'show', 'scope', 'global'], capture_output=True, text=True, check=False)
        found = re.findall(r'inet (\d+\.\d+\.\d+\.\d+)/', proc.stdout)
        if found:
            return found[0]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(('192.0.2.1', 9))  # no packet is sent: the route's source address
            return s.getsockname()[0]
    except OSError:
        return '127.0.0.1'


def memory_ki():
    m = re.search(r'^MemTotal:\s+(\d+)\s*kB', read_proc('/proc/meminfo'), re.M)
    return int(m.group(1)) if m else 0


def os_image():
    m = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', read_proc('/etc/os-release'), re.M)
    return m.group(1) if m else 'Linux'


def parse_taints(text):
    out = []
    for item in [t for t in (text or '').split(',') if t.strip()]:
        keyval, _c, effect = item.strip().rpartition(':')
        key, _e, value = keyval.partition('=')
        taint = {'key': key, 'effect': effect}
        if value:
            taint['value'] = value
        out.append(taint)
    return out


def parse_labels(text):
    return dict(kv.strip().partition('=')[::2] for kv in (text or '').split(',') if kv.strip())


# ---- static pods ---------------------------------------------------------------------------------------

def static_command(pod):
    """The double's command line for a static Pod's container, or None (nothing runs)."""
    containers = (pod.get('spec') or {}).get('containers') or []
    if not containers:
        return None
    container = containers[0]
    image = container.get('image', '')
    name = image.rsplit('/', 1)[-1].split('@')[0]
    name, _c, tag = name.partition(':')
    flags = list(container.get('command') or [])[1:] + list(container.get('args') or [])
    if name == 'kube-apiserver':
        source = os.path.join(HERE, 'kube_apiserver.py')
        if not os.path.isfile(source):  # the source tree: build-repo.sh copies lab/simulators/kubeapi/kubeapi.py in
            source = os.path.normpath(os.path.join(HERE, '..', '..', '..', '..', '..', 'simulators', 'kubeapi', 'kubeapi.py'))
        return [sys.executable or 'python3', source] + flags + ['--version', (tag or VERSION).lstrip('v')]
    if name == 'kube-controller-manager':
        return [sys.executable or 'python3', os.path.join(HERE, 'kube_controller_manager.py')] + flags
    if name == 'kube-scheduler':
        return [sys.executable or 'python3', os.path.join(HERE, 'kube_scheduler.py')] + flags
    if name == 'etcd' and os.path.isfile(host(ETCD_BINARY)):
        # the node's own etcd binary stands in for the image's (the lab image: Debian's etcd-server)
        return [ETCD_BINARY] + flags
    return None


class StaticPods(object):
    """Runs the static Pods: transient systemd units with systemd, detached processes without."""

    def __init__(self, kubelet):
        self.kubelet = kubelet
        self.systemd = os.path.isdir(host('/run/systemd/system'))
        self.state_file = host(STATE + '/static-pods.json')
        self.children = {}  # name -> Popen, processes this kubelet started
        self.main_pids = {}  # name -> the main PID of its systemd unit when last seen active
        try:
            with open(self.state_file) as f:
                self.state = json.load(f)
        except (OSError, ValueError):
            self.state = {}
        self.pods = {}  # name -> (pod, hash) of the manifests now

    def save(self):
        os.makedirs(os.path.dirname(self.state_file), exist_ok=True)
        with open(self.state_file + '.tmp', 'w') as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(self.state_file + '.tmp', self.state_file)

    def manifests(self):
        path = self.kubelet.config.get('staticPodPath')
        out = {}
        if not path or not os.path.isdir(host(path)):
            return out
        for fname in sorted(os.listdir(host(path))):
            if fname.startswith('.') or not fname.endswith(('.yaml', '.yml', '.json')):
                continue
            try:
                with open(os.path.join(host(path), fname), 'rb') as f:
                    raw = f.read()
                pod = yaml.safe_load(raw)
            except (OSError, yaml.YAMLError) as err:
                klog('E', 'config.go:103', 'Could not process manifest file', err=str(err), path=fname)
                continue
            if not isinstance(pod, dict) or pod.get('kind') != 'Pod' or not (pod.get('metadata') or {}).get('name'):
                continue
            out[pod['metadata']['name']] = (pod, hashlib.sha256(raw).hexdigest()[:32])
        return out

    def sync(self):
        self.pods = self.manifests()
        for name in sorted(set(self.state) - set(self.pods)):
            self.stop(name)
            klog('I', 'kubelet.go:2468', 'SyncLoop REMOVE', source='file', pods=['kube-system/%s-%s' % (name, self.kubelet.node)])
        for name, (pod, digest) in sorted(self.pods.items()):
            cmd = static_command(pod)
            known = self.state.get(name)
            if known and known.get('hash') == digest and (cmd is None or self.running(name, known)):
                continue
            if known:
                self.stop(name)
            self.start(name, cmd, digest)
        self.save()

    def unit(self, name):
        return 'aifabric-static-%s' % name

    def running(self, name, known):
        if self.systemd:
            # asked every second: while the unit's main process seen last time lives, no systemctl call
            pid = self.main_pids.get(name)
            if pid:
                try:
                    with open('/proc/%d/cgroup' % pid) as f:
                        if '/%s.service' % self.unit(name) in f.read():
                            return True
                except OSError:
                    pass
            show = subprocess.run(['systemctl', 'show', '-p', 'ActiveState', '-p', 'MainPID', self.unit(name)],
                                  capture_output=True, text=True, check=False).stdout
            props = dict(line.partition('=')[::2] for line in show.splitlines())
            active = props.get('ActiveState') == 'active'
            self.main_pids[name] = int(props.get('MainPID') or 0) if active else 0
            return active
        child = self.children.get(name)
        if child is not None:
            return child.poll() is None
        pid = known.get('pid')
        if not pid:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True

    def start(self, name, cmd, digest):
        entry = {'hash': digest}
        if cmd is None:
            klog('I', 'kubelet.go:2457', 'SyncLoop ADD: the test double runs no process for this static pod', pod='kube-system/' + name)
        elif self.systemd:
            subprocess.run(['systemctl', 'reset-failed', self.unit(name)], capture_output=True, check=False)
            subprocess.run(['systemd-run', '--unit=' + self.unit(name), '--collect', '-p', 'Restart=always', '-p', 'RestartSec=1'] + cmd,
                           capture_output=True, check=False)
            entry['unit'] = self.unit(name) + '.service'
        else:
            os.makedirs(host(STATE), exist_ok=True)
            log = open(host('%s/%s.log' % (STATE, name)), 'ab')  # pylint: disable=consider-using-with
            child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)  # pylint: disable=consider-using-with
            log.close()
            self.children[name] = child
            entry['pid'] = child.pid
        if cmd is not None:
            klog('I', 'kubelet.go:2457', 'SyncLoop ADD', source='file', pods=['kube-system/%s-%s' % (name, self.kubelet.node)])
        entry['started'] = rfc3339()
        self.state[name] = entry

    def stop(self, name):
        known = self.state.pop(name, None) or {}
        self.main_pids.pop(name, None)
        if self.systemd and known.get('unit'):
            subprocess.run(['systemctl', 'stop', self.unit(name)], capture_output=True, check=False)
        elif known.get('pid'):
            try:
                os.killpg(known['pid'], signal.SIGTERM)
            except OSError:
                pass
            child = self.children.pop(name, None)
            if child is not None:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()


# ---- the kubelet ---------------------------------------------------------------------------------------

class Kubelet(object):  # pylint: disable=too-many-instance-attributes
    def __init__(self, args, config):
        self.args, self.config = args, config
        self.node = (args.hostname_override or hostname()).lower()
        self.stopping = threading.Event()
        self.client = None
        self.registered = False
        self.last_beat = 0.0
        self.csr_name, self.csr_key = None, None
        self.static = StaticPods(self)
        self.mirrors = {}  # pod name -> hash of the mirror pod made
        self.ip = node_ip(args.node_ip)
        self.logged = set()
        self.operands, self.last_operands = None, 0.0
        self.calico, self.last_calico = None, 0.0
        self.pods = None

    def once(self, key, level, where, msg, **kv):
        if key not in self.logged:
            self.logged.add(key)
            klog(level, where, msg, **kv)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.static.sync()
            except OSError as err:
                self.once('static', 'E', 'kubelet.go:2400', 'Static pod sync failed', err=str(err))
            try:
                if self.client is None:
                    self.client = self.credentials()
                if self.client is not None:
                    self.sync_api()
                    self.logged.discard('api')
            except (OSError, ApiError, ValueError) as err:
                self.once('api', 'E', 'kubelet_node_status.go:107', 'Unable to register node with API server', err=str(err), node=self.node)
            self.stopping.wait(1)
        klog('I', 'kubelet.go:2500', 'Shutting down the kubelet (static pods keep running)')

    # -- credentials
    def credentials(self):
        kubeconfig = self.args.kubeconfig
        if kubeconfig and os.path.isfile(host(kubeconfig)):
            self.store_client_cert(kubeconfig)
            return Client.from_kubeconfig(kubeconfig)
        if self.args.bootstrap_kubeconfig and os.path.isfile(host(self.args.bootstrap_kubeconfig)):
            self.bootstrap()
        return None

    def store_client_cert(self, kubeconfig):
        """An embedded client certificate (kubeadm init's kubelet.conf) goes into the pki store, as the real cert manager does."""
        current = host('/var/lib/kubelet/pki/kubelet-client-current.pem')
        if os.path.lexists(current):
            return
        cfg = load_kubeconfig(kubeconfig)
        if cfg['user'].get('client-certificate-data') and cfg['user'].get('client-key-data'):
            self.write_pki(cfg['cert'], cfg['key'])

    def write_pki(self, cert_pem, key_pem):
        pki = host('/var/lib/kubelet/pki')
        os.makedirs(pki, mode=0o755, exist_ok=True)
        name = 'kubelet-client-%s.pem' % datetime.datetime.now().strftime('%Y-%m-%d-%H-%M-%S')
        path = os.path.join(pki, name)
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'wb') as f:
            f.write(cert_pem.rstrip(b'\n') + b'\n' + key_pem)
        os.replace(path + '.tmp', path)
        current = os.path.join(pki, 'kubelet-client-current.pem')
        if os.path.lexists(current + '.tmp'):
            os.unlink(current + '.tmp')
        os.symlink(path, current + '.tmp')
        os.replace(current + '.tmp', current)
        return path

    def bootstrap(self):
        """One step of the TLS bootstrap: create the CSR, or look whether it is signed."""
        from cryptography import x509  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
        from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel
        boot = load_kubeconfig(self.args.bootstrap_kubeconfig)
        client = Client(boot['server'], boot['ca'], boot['cert'], boot['key'], boot['token'])
        if self.csr_name is None:
            klog('I', 'bootstrap.go:107', 'No valid private key and/or certificate found, reusing existing private key or creating a new one')
            self.csr_key = ec.generate_private_key(ec.SECP256R1())
            subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'system:nodes'),
                                 x509.NameAttribute(NameOID.COMMON_NAME, 'system:node:' + self.node)])
            request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(self.csr_key, hashes.SHA256())
            body = {'apiVersion': 'certificates.k8s.io/v1', 'kind': 'CertificateSigningRequest', 'metadata': {'generateName': 'csr-'},
                    'spec': {'request': base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode(), 'signerName': SIGNER,
                             'usages': ['digital signature', 'client auth']}}
            csr = client.request('POST', CSRS, body)
            self.csr_name = csr['metadata']['name']
            klog('I', 'csr.go:261', 'certificate signing request created, waiting for it to be approved and issued', csr=self.csr_name)
            return
        try:
            csr = client.get('%s/%s' % (CSRS, self.csr_name))
        except ApiError as err:
            if err.code == 404:
                self.csr_name = None
            raise
        status = csr.get('status') or {}
        if any(c.get('type') in ('Denied', 'Failed') for c in status.get('conditions') or []):
            klog('E', 'csr.go:261', 'certificate signing request is denied or failed', csr=self.csr_name)
            self.csr_name = None
            return
        if not status.get('certificate'):
            return
        cert = base64.b64decode(status['certificate'])
        key = self.csr_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
        self.write_pki(cert, key)
        keep = ('server', 'certificate-authority', 'certificate-authority-data', 'tls-server-name', 'insecure-skip-tls-verify')
        cluster = dict((k, v) for k, v in boot['cluster'].items() if k in keep)
        kubeconfig = {'apiVersion': 'v1', 'clusters': [{'cluster': cluster, 'name': 'default-cluster'}],
                      'contexts': [{'context': {'cluster': 'default-cluster', 'namespace': 'default', 'user': 'default-auth'},
                                    'name': 'default-context'}],
                      'current-context': 'default-context', 'kind': 'Config', 'preferences': {},
                      'users': [{'name': 'default-auth', 'user': {'client-certificate': '/var/lib/kubelet/pki/kubelet-client-current.pem',
                                                                  'client-key': '/var/lib/kubelet/pki/kubelet-client-current.pem'}}]}
        path = host(self.args.kubeconfig)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path + '.tmp', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as f:
            yaml.safe_dump(kubeconfig, f, default_flow_style=False)
        os.replace(path + '.tmp', path)
        klog('I', 'bootstrap.go:96', 'Client certificate issued, kubeconfig written', path=self.args.kubeconfig)
        self.csr_name = self.csr_key = None

    # -- the API side
    def sync_api(self):
        if not self.registered:
            self.register()
        self.sync_mirrors()
        if time.time() - self.last_beat >= HEARTBEAT:
            self.heartbeat()
            self.last_beat = time.time()
        if time.time() - self.last_operands >= OPERANDS:
            self.last_operands = time.time()
            if self.operands is None:
                self.operands = Operands(self.client, self.node)
            try:
                self.operands.sync()
                self.logged.discard('operands')
            except (OSError, ApiError, ValueError) as err:
                self.once('operands', 'E', 'operands.go:60', 'NVIDIA operands sync failed', err=str(err), node=self.node)
        if time.time() - self.last_calico >= CALICO:
            self.last_calico = time.time()
            if self.calico is None:
                self.calico = CalicoNode(self.client, self.node)
            ready = network_ready()
            try:
                self.calico.sync()
                self.logged.discard('calico')
            except (OSError, ApiError, ValueError) as err:
                self.once('calico', 'E', 'install.go:60', 'calico-node sync failed', err=str(err), node=self.node)
            if not ready and network_ready():  # report Ready now, not at the next heartbeat
                self.last_beat = 0.0
        if self.pods is None:
            self.pods = Pods(self.client, self.node, self.ip)
        try:
            self.pods.sync()
            self.logged.discard('pods')
        except (OSError, ApiError, ValueError, KeyError) as err:
            self.once('pods', 'E', 'pod_workers.go:1301', 'Pod sync failed', err=str(err), node=self.node)

    def node_object(self):
        labels = {'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64',
                  'kubernetes.io/hostname': self.node, 'kubernetes.io/os': 'linux'}
        labels.update(parse_labels(self.args.node_labels))
        taints = parse_taints(self.args.register_with_taints) if self.args.register_with_taints else list(self.config.get('registerWithTaints') or [])
        mem = memory_ki()
        try:
            vfs = os.statvfs(host('/var/lib/kubelet'))
            disk_ki = vfs.f_blocks * vfs.f_frsize // 1024
        except OSError:
            disk_ki = 0
        cpus = str(os.cpu_count() or 1)
        capacity = {'cpu': cpus, 'ephemeral-storage': '%dKi' % disk_ki, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
                    'memory': '%dKi' % mem, 'pods': str(self.config.get('maxPods') or 110)}
        allocatable = dict(capacity, memory='%dKi' % max(mem - 100 * 1024, 0), **{'ephemeral-storage': str(disk_ki * 1024 * 9 // 10)})
        for name, (cap, alloc) in (self.operands.capacity() if self.operands else {}).items():  # device plugins' resources
            capacity[name], allocatable[name] = cap, alloc
        node = {'apiVersion': 'v1', 'kind': 'Node',
                'metadata': {'name': self.node, 'labels': labels,
                             'annotations': {'node.alpha.kubernetes.io/ttl': '0',
                                             'volumes.kubernetes.io/controller-managed-attach-detach': 'true'}},
                'spec': {},
                'status': {'addresses': [{'type': 'InternalIP', 'address': self.ip}, {'type': 'Hostname', 'address': self.node}],
                           'capacity': capacity, 'allocatable': allocatable, 'conditions': self.conditions({}),
                           'daemonEndpoints': {'kubeletEndpoint': {'Port': 10250}},
                           'nodeInfo': {'architecture': 'amd64', 'bootID': read_proc('/proc/sys/kernel/random/boot_id').strip(),
                                        'containerRuntimeVersion': 'containerd://' + containerd_version(),
                                        'kernelVersion': platform.release(), 'kubeProxyVersion': '', 'kubeletVersion': VERSION,
                                        'machineID': (read('/etc/machine-id') or '').strip(), 'operatingSystem': 'linux',
                                        'osImage': os_image(), 'systemUUID': (read('/sys/class/dmi/id/product_uuid') or '').strip()}}}
        if taints:
            node['spec']['taints'] = taints
        return node

    @staticmethod
    def conditions(old):
        stamp = rfc3339()
        before = dict((c.get('type'), c) for c in old or [])
        out = []
        ready = (('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status') if network_ready() else
                 ('Ready', 'False', 'KubeletNotReady', NETWORK_NOT_READY))
        for ctype, status, reason, message in (
                ('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
                ('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
                ('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
                ready):
            prev = before.get(ctype) or {}
            out.append({'type': ctype, 'status': status, 'lastHeartbeatTime': stamp,
                        'lastTransitionTime': prev.get('lastTransitionTime') if prev.get('status') == status else stamp,
                        'reason': reason, 'message': message})
        return out

    def register(self):
        klog('I', 'kubelet_node_status.go:75', 'Attempting to register node', node=self.node)
        node = self.node_object()
        try:
            self.client.request('POST', '/api/v1/nodes', node)
            klog('I', 'kubelet_node_status.go:78', 'Successfully registered node', node=self.node)
        except ApiError as err:
            if err.code != 409:
                raise
            # registered before (a restart, an upgraded kubelet): the status this kubelet reports
            # replaces the old one (nodeInfo.kubeletVersion, capacity), as the real status update does
            status = dict((key, node['status'][key]) for key in ('nodeInfo', 'capacity', 'allocatable', 'addresses'))
            self.client.request('PATCH', '/api/v1/nodes/%s/status' % self.node, {'status': status},
                                'application/strategic-merge-patch+json')
        self.registered = True
        self.last_beat = 0.0

    def heartbeat(self):
        lease_path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/' + self.node
        lease = self.client.get_or_none(lease_path)
        if lease is None:
            node = self.client.get('/api/v1/nodes/' + self.node)
            self.client.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
                'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
                'metadata': {'name': self.node, 'namespace': 'kube-node-lease',
                             'ownerReferences': [{'apiVersion': 'v1', 'kind': 'Node', 'name': self.node, 'uid': node['metadata']['uid']}]},
                'spec': {'holderIdentity': self.node, 'leaseDurationSeconds': 40, 'renewTime': micro_time()}})
        else:
            lease['spec'] = dict(lease.get('spec') or {}, holderIdentity=self.node, leaseDurationSeconds=40, renewTime=micro_time())
            self.client.request('PUT', lease_path, lease)
        try:
            node = self.client.get('/api/v1/nodes/' + self.node)
        except ApiError as err:
            if err.code == 404:  # deleted: register again
                self.registered = False
            raise
        patch = {'status': {'conditions': self.conditions((node.get('status') or {}).get('conditions'))}}
        self.client.request('PATCH', '/api/v1/nodes/%s/status' % self.node, patch, 'application/strategic-merge-patch+json')

    def sync_mirrors(self):
        pods = dict(self.static.pods)
        for name in sorted(set(self.mirrors) - set(pods)):
            self.delete_pod('%s-%s' % (name, self.node))
            del self.mirrors[name]
        for name, (pod, digest) in sorted(pods.items()):
            if self.mirrors.get(name) == digest:
                continue
            mirror = '%s-%s' % (name, self.node)
            live = self.client.get_or_none('/api/v1/namespaces/kube-system/pods/' + mirror)
            if live is not None and (live['metadata'].get('annotations') or {}).get('kubernetes.io/config.hash') == digest:
                self.mirrors[name] = digest
                continue
            if live is not None:
                self.delete_pod(mirror)
            self.client.request('POST', '/api/v1/namespaces/kube-system/pods', self.mirror_pod(pod, mirror, digest))
            self.mirrors[name] = digest

    def delete_pod(self, name):
        try:
            self.client.request('DELETE', '/api/v1/namespaces/kube-system/pods/' + name)
        except ApiError as err:
            if err.code != 404:
                raise

    def mirror_pod(self, pod, name, digest):
        node = self.client.get('/api/v1/nodes/' + self.node)
        meta = pod.get('metadata') or {}
        seen = {'kubernetes.io/config.hash': digest, 'kubernetes.io/config.mirror': digest,
                'kubernetes.io/config.seen': micro_time(), 'kubernetes.io/config.source': 'file'}
        annotations = dict(meta.get('annotations') or {}, **seen)
        spec = dict(pod.get('spec') or {}, nodeName=self.node)
        stamp = rfc3339()
        containers = spec.get('containers') or []
        status = {'phase': 'Running', 'hostIP': self.ip, 'hostIPs': [{'ip': self.ip}], 'podIP': self.ip, 'podIPs': [{'ip': self.ip}],
                  'qosClass': 'Burstable', 'startTime': stamp,
                  'conditions': [{'type': t, 'status': 'True', 'lastProbeTime': None, 'lastTransitionTime': stamp}
                                 for t in ('PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled')],
                  'containerStatuses': [{'name': c.get('name'), 'image': c.get('image'), 'imageID': '', 'ready': True, 'started': True,
                                         'restartCount': 0, 'containerID': 'containerd://' + hashlib.sha256((digest + c.get('name', '')).encode()).hexdigest(),
                                         'state': {'running': {'startedAt': stamp}}} for c in containers]}
        return {'apiVersion': 'v1', 'kind': 'Pod',
                'metadata': {'name': name, 'namespace': meta.get('namespace') or 'kube-system', 'labels': meta.get('labels') or {},
                             'annotations': annotations,
                             'ownerReferences': [{'apiVersion': 'v1', 'kind': 'Node', 'name': self.node, 'uid': node['metadata']['uid'],
                                                  'controller': True}]},
                'spec': spec, 'status': status}


# ---- start-up checks -----------------------------------------------------------------------------------

def load_config(path):
    if not path:
        return {}
    try:
        with open(host(path)) as f:
            text = f.read()
    except OSError as err:
        raise Refusal('failed to load kubelet config file, path: %s, error: failed to load Kubelet config file %s, error failed to read '
                      'kubelet config file "%s", error: open %s: %s' % (path, path, path, path, os.strerror(err.errno).lower())) from None
    try:
        cfg = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise Refusal('failed to load kubelet config file, path: %s, error: failed to decode: %s' % (path, err)) from None
    if cfg.get('kind') != 'KubeletConfiguration':
        raise Refusal('failed to load kubelet config file, path: %s, error: failed to load Kubelet config file %s, error: '
                      'no kind "%s" is registered' % (path, path, cfg.get('kind')))
    return cfg


def checks(args, config):
    """The refusals, in the order the real kubelet meets them."""
    if not (args.kubeconfig and os.path.isfile(host(args.kubeconfig))):
        boot = args.bootstrap_kubeconfig
        if not boot:
            raise Refusal('failed to run Kubelet: no client provided, cannot use webhook authentication')
        if not os.path.isfile(host(boot)):
            raise Refusal('failed to run Kubelet: unable to load bootstrap kubeconfig: stat %s: no such file or directory' % boot)
    swaps = read('/proc/swaps') or ''
    if config.get('failSwapOn', args.fail_swap_on) and len([l for l in (swaps or '').splitlines() if l.strip()]) > 1:
        raise Refusal('failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false')
    endpoint = args.container_runtime_endpoint or config.get('containerRuntimeEndpoint') or 'unix:///run/containerd/containerd.sock'
    sock = endpoint.split('://', 1)[-1]
    try:
        mode = os.stat(host(sock)).st_mode
    except OSError:
        raise Refusal(cri_error(endpoint, 'connect: no such file or directory')) from None
    if not stat.S_ISSOCK(mode):
        raise Refusal(cri_error(endpoint, 'connect: connection refused'))
    dump = containerd_dump()
    if dump is None:
        raise Refusal(cri_error(endpoint, 'connect: connection refused'))
    kubelet_driver = config.get('cgroupDriver') or 'cgroupfs'
    runtime_driver = runtime_cgroup_driver(dump)
    if kubelet_driver != runtime_driver:
        raise Refusal('failed to run Kubelet: misconfiguration: kubelet cgroup driver: "%s" is different from the container runtime '
                      'cgroup driver: "%s"' % (kubelet_driver, runtime_driver))


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='kubelet', allow_abbrev=False, add_help=True,
                                     description='kubelet test double of the aifabric lab (never production)')
    for flag in ('--config', '--kubeconfig', '--bootstrap-kubeconfig', '--container-runtime-endpoint', '--node-ip', '--node-labels',
                 '--register-with-taints', '--hostname-override', '--pod-infra-container-image'):
        parser.add_argument(flag)
    parser.add_argument('--fail-swap-on', type=lambda v: v.lower() in ('1', 't', 'true'), nargs='?', const=True, default=True)
    parser.add_argument('--version', nargs='?', const='true')
    args, _ignored = parser.parse_known_args(argv)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print('Kubernetes %s' % VERSION)
        return 0
    if args.pod_infra_container_image and int(VERSION.split('.')[1]) >= 35:
        # kubernetes/kubernetes#133779: 1.35 removed the flag (kubeadm 1.35 stops writing it and its
        # upgrade takes it out of kubeadm-flags.env); a kubelet still given it exits
        return fail('failed to parse kubelet flag: unknown flag: --pod-infra-container-image')
    klog('I', 'server.go:529', 'Kubelet version', kubeletVersion=VERSION)
    if args.pod_infra_container_image:
        klog('W', 'server.go:214', 'WARNING: the --pod-infra-container-image flag is deprecated and will be removed in a future release;'
             ' the sandbox image is set in the container runtime\'s config')
    try:
        config = load_config(args.config)
        checks(args, config)
    except Refusal as err:
        return fail(str(err))
    kubelet = Kubelet(args, config)
    klog('I', 'server.go:1262', 'Started kubelet', node=kubelet.node)

    def stop(*_):
        kubelet.stopping.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kubelet.run()
    return 0


if __name__ == '__main__':
    sys.exit(main())
