"""aifabric lab TEST DOUBLE of kubeadm 1.34.2 (Kubernetes' cluster bootstrap tool).

Test-side only: shipped in the lab's kubeadm simulator package, never in production. Run by
/usr/bin/kubeadm (a small sh wrapper). python3 stdlib + cryptography (Debian 12: 38.0) + PyYAML.
It keeps kubeadm's command line, output lines, errors and exit codes and writes the real file
layout; the cluster behind it is the lab's API server double (lab/simulators/kubeapi), which the
kubelet double starts from the static Pod manifests written here.

    kubeadm version [-o short|json|yaml]
    kubeadm config validate --config FILE
    kubeadm init --config FILE [--upload-certs] [--skip-token-print] [--skip-certificate-key-print]
                 [--certificate-key KEY] [--ignore-preflight-errors=a,b|all] [--v=N]
    kubeadm init phase upload-certs --upload-certs [--certificate-key KEY] [--config FILE] [--kubeconfig F]
    kubeadm join [ENDPOINT] --config FILE | --token T --discovery-token-ca-cert-hash sha256:H
                 [--control-plane --certificate-key K] [--node-name N] [--apiserver-advertise-address A]
                 [--apiserver-bind-port P] [--cri-socket S] [--ignore-preflight-errors ...]
    kubeadm token create [TOKEN] [--ttl D] [--print-join-command] [--description D] [--groups G]
                 [--usages U] [--kubeconfig F]
    kubeadm token list | delete ID... | generate
    kubeadm certs certificate-key
    kubeadm reset [-f|--force] [--cri-socket S]
    kubeadm upgrade plan [VERSION] [--config F] [--kubeconfig F] [--ignore-preflight-errors ...] [-o text]
    kubeadm upgrade apply VERSION [-y|--yes] [-f|--force] [--certificate-renewal=BOOL] [--etcd-upgrade=BOOL]
                 [--config F (UpgradeConfiguration)] [--kubeconfig F] [--ignore-preflight-errors ...]
    kubeadm upgrade node [--certificate-renewal=BOOL] [--etcd-upgrade=BOOL] [--config F] [--kubeconfig F]
                 [--ignore-preflight-errors ...]

Everything version-dependent follows VERSION (lab/repo/build-repo.sh also builds this file as
1.35.0 by replacing the VERSION line): the control-plane versions init and upgrade accept (this
minor and the one before), the version policy of `upgrade apply`, 1.35's kubeadm-flags.env
without --pod-infra-container-image (and its upgrade cleanup), 1.35's kubelet-config backup name.

Upgrades as kubeadm 1.34 does them, with its lines, errors and exit codes: the health checks
(ControlPlaneNodesReady, StaticPodManifest; `--ignore-preflight-errors` makes them warnings),
`plan`'s tables from the control-plane mirror Pods (this node's manifests when the API has none)
and the kubelets' versions, `apply`'s version policy (EnforceVersionPolicies, --force for the
skippable errors) and [y/N] prompt, the static Pod manifests moved in one by one (old ones to
/etc/kubernetes/tmp/kubeadm-backup-manifests-<time>/), each component's certificates renewed
with their keys kept, the wait for this node's API server to answer /version at the target
(timeouts.upgradeManifests, 5m0s; a timeout puts the old manifests back), kubeadm-config and
kubelet-config uploaded, /var/lib/kubelet/config.yaml from the cluster's kubelet-config (old
file backed up), the bootstrap-token RBAC, CoreDNS and kube-proxy re-applied (skipped while
another control plane's kube-apiserver mirror Pod runs an older version). `upgrade node`: this
node's control plane (when /etc/kubernetes/manifests/kube-apiserver.yaml exists, admin.conf) to
kubeadm-config's kubernetesVersion, then the kubelet config (a worker reads it with kubelet.conf).

What it does not do: pull images (the "[preflight] Pulling images" lines are printed, nothing is
pulled), run etcd (the etcd manifest is written; the kubelet double runs it, and the API server
double keeps its objects in it; a control-plane join adds its member as a learner and promotes
it, a reset removes it, through the real etcd), check
the kubelet's healthz (the kubelet-check lines are printed), CNI/iptables, the other phases run one
by one, external etcd or external CA mode, `kubeadm config images/print/migrate`. Upgrades: no
internet (the release labels `plan` looks up fall back to this kubeadm's version, as kubeadm does
air-gapped), no CreateJob health check (the API server double runs no Jobs), etcd keeps the image
this kubeadm pins (ETCD_IMAGE_TAG; no etcd data backup), CoreDNS keeps COREDNS_TAG, no patches,
no --dry-run, no `upgrade diff` or `plan -o json|yaml`, `plan` offers no experimental/RC versions;
after a manifest is moved in only the kube-apiserver is awaited (the others are not), and a
manifest left unchanged is not restarted (the kubelet double restarts a static Pod on a new hash).

Lab-only record: every bootstrap token and certificate key the double makes (`token generate`,
`token create`, `certs certificate-key`, the ones init and upload-certs make themselves) is
appended to /var/lib/aifabric-sim/kubeadm/issued (0600), for the secret search of `make test`.

AIFABRIC_SIM_ROOT (test-side only, set by the tests on the controller): prefixes every host path
the double reads or writes (/etc/kubernetes, /var/lib/kubelet, /var/lib/etcd, /proc/swaps,
/proc/sys/net/ipv4/ip_forward, the CRI socket, the files a kubeconfig names) through host(); the
root check (IsPrivilegedUser) is skipped when it is set. Paths written INTO files (manifests,
kubeconfigs, kubelet config) stay the real ones. AIFABRIC_SIM_HOSTNAME replaces the host name.
"""
# pylint: disable=too-many-lines,too-many-positional-arguments,too-many-return-statements
import base64
import copy
import datetime
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import types
from urllib.parse import quote, urlsplit

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VERSION = 'v1.34.2'
GIT_COMMIT = '8cc511e399b929453cd98ae65b419c3cc227ec79'
BUILD_DATE = '2025-11-11T19:09:51Z'
GO_VERSION = 'go1.24.9'

ROOT = os.environ.get('AIFABRIC_SIM_ROOT', '')     # test-side path prefix (controller tests)
# everything version-dependent follows VERSION (lab/repo/build-repo.sh builds this source at two versions)
KUBEADM_VERSION = tuple(int(part) for part in VERSION[1:].split('-', 1)[0].split('.'))
MINIMUM_CONTROL_PLANE = (KUBEADM_VERSION[0], KUBEADM_VERSION[1] - 1, 0)   # constants.MinimumControlPlaneVersion

KUBERNETES_DIR = '/etc/kubernetes'
PKI_DIR = '/etc/kubernetes/pki'
MANIFESTS_DIR = '/etc/kubernetes/manifests'
KUBELET_DIR = '/var/lib/kubelet'
ETCD_DIR = '/var/lib/etcd'
KUBELET_CONFIG = '/var/lib/kubelet/config.yaml'
KUBELET_FLAGS = '/var/lib/kubelet/kubeadm-flags.env'
KUBELET_CLIENT_CURRENT = '/var/lib/kubelet/pki/kubelet-client-current.pem'
ADMIN_CONF = '/etc/kubernetes/admin.conf'
ISSUED_RECORD = '/var/lib/aifabric-sim/kubeadm/issued'  # lab-only: every token and key made (record_issued)
KUBELET_CONF = '/etc/kubernetes/kubelet.conf'
BOOTSTRAP_KUBELET_CONF = '/etc/kubernetes/bootstrap-kubelet.conf'
KUBECONFIGS = ('admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf',
               'controller-manager.conf', 'scheduler.conf')
COMPONENTS = ('kube-apiserver', 'kube-controller-manager', 'kube-scheduler')
DEFAULT_CRI_SOCKET = 'unix:///var/run/containerd/containerd.sock'
PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.1'
ETCD_IMAGE_TAG = '3.6.4-0'
COREDNS_TAG = 'v1.12.1'
V1BETA3, V1BETA4 = 'kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4'
KUBELET_API = 'kubelet.config.k8s.io/v1beta1'
KUBEPROXY_API = 'kubeproxy.config.k8s.io/v1alpha1'
KUBEADM_KINDS = ('InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration', 'ResetConfiguration',
                 'UpgradeConfiguration')
SCHEME = 'k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31'
DEFAULT_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token'
CONTROL_PLANE_LABELS = ('node-role.kubernetes.io/control-plane', 'node.kubernetes.io/exclude-from-external-load-balancers')
CONTROL_PLANE_TAINT = {'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}
TOKEN_RE = re.compile(r'^([a-z0-9]{6})\.([a-z0-9]{16})$')
TOKEN_ID_RE = re.compile(r'^[a-z0-9]{6}$')
CERT_KEY_RE = re.compile(r'^[0-9a-fA-F]{64}$')
STACK_HINT = 'To see the stack trace of this error execute with --v=5 or higher'
API_WAIT = 240.0            # kubeadm's 4m0s (control plane, kubelet TLS bootstrap)
DISCOVERY_WAIT = 300.0      # discovery timeout 5m0s
DISCOVERY_INTERVAL = 5.0
POLL = 0.5
CERTS_SECRET = 'kubeadm-certs'
CERTS_TTL = datetime.timedelta(hours=2)
# the files of the kubeadm-certs Secret (certOrKeyNameToSecretName: '/' -> '-')
SHARED_CERTS = ('ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key',
                'etcd/ca.crt', 'etcd/ca.key')


class KubeadmError(Exception):
    """A failure kubeadm reports on stderr; phase: the 'error execution phase X: ' prefix."""

    def __init__(self, message, phase=None, code=1):
        Exception.__init__(self, message)
        self.message, self.phase, self.code = message, phase, code


class ConfigMapMissing(KubeadmError):
    """The kubeadm-config ConfigMap is not there."""


class ApiError(Exception):
    """A failed API request: status and the Status object's message."""

    def __init__(self, status, message, reason=''):
        Exception.__init__(self, message)
        self.status, self.message, self.reason = status, message, reason


# --- host paths and files ------------------------------------------------------------------

def host(path):
    """The host path, under AIFABRIC_SIM_ROOT when it is set (test-side)."""
    if ROOT and path.startswith('/'):
        return os.path.join(ROOT, path.lstrip('/'))
    return path


def read(path, binary=False):
    with open(host(path), 'rb' if binary else 'r') as handle:
        return handle.read()


def write(path, data, mode=0o644):
    """Write a host file atomically with the given mode (its directory is created 0755)."""
    target = host(path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix='.kubeadm-')
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, target)


def exists(path):
    return os.path.exists(host(path))


def hostname():
    return (os.environ.get('AIFABRIC_SIM_HOSTNAME') or socket.gethostname()).split('.')[0].lower()


def dump(obj):
    """YAML as sigs.k8s.io/yaml writes it (keys sorted, no folding)."""
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, width=1 << 30)


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def rfc3339(when):
    return when.strftime('%Y-%m-%dT%H:%M:%SZ')


def say(line=''):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def warn(line):
    sys.stderr.write(line + '\n')
    sys.stderr.flush()


# --- command line (pflag: --flag=value, --flag value, bool flags, -x shorthands) ----------

class Flags(object):  # pylint: disable=too-few-public-methods
    """Parsed flags and positional arguments of one command."""

    def __init__(self, values, args):
        self.values, self.args = values, args

    def get(self, name, default=None):
        return self.values.get(name, default)


def parse_flags(argv, spec, short=None):
    """spec: {name: 'bool'|'str'|'list'}; global --v/--rootfs are accepted everywhere."""
    spec = dict(spec, v='str', rootfs='str')
    short = short or {}
    values, args = {}, []
    index = 0
    while index < len(argv):
        arg = argv[index]
        index += 1
        if arg == '--':
            args.extend(argv[index:])
            break
        if arg.startswith('--') or (arg.startswith('-') and len(arg) > 1):
            if arg.startswith('--'):
                name, eq, value = arg[2:].partition('=')
            else:
                name, eq, value = arg[1:2], ('=' if len(arg) > 2 else ''), arg[2:].lstrip('=')
                if name not in short:
                    raise KubeadmError('unknown shorthand flag: %r in %s' % (name, arg))
                name = short[name]
            kind = spec.get(name)
            if kind is None:
                raise KubeadmError('unknown flag: --%s' % name)
            if kind == 'bool':
                if eq and value.lower() not in ('true', 'false', '1', '0', 't', 'f'):
                    raise KubeadmError('invalid argument "%s" for "--%s" flag: strconv.ParseBool: parsing "%s": invalid syntax'
                                       % (value, name, value))
                values[name] = not eq or value.lower() in ('true', '1', 't')
                continue
            if not eq:
                if index >= len(argv):
                    raise KubeadmError('flag needs an argument: --%s' % name)
                value = argv[index]
                index += 1
            if kind == 'list':
                values.setdefault(name, []).extend(v for v in value.split(',') if v)
            else:
                values[name] = value
        else:
            args.append(arg)
    return Flags(values, args)


# --- configuration -------------------------------------------------------------------------

def load_documents(path):
    """The YAML documents of a --config file (empty documents dropped)."""
    try:
        with open(path) as handle:      # the --config path is the caller's, never under AIFABRIC_SIM_ROOT
            text = handle.read()
    except OSError as exc:
        raise KubeadmError('unable to read config from "%s" : open %s: %s' % (path, path, exc.strerror.lower()))
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise KubeadmError('error converting YAML to JSON: yaml: %s' % str(exc).replace('\n', ' '))
    return docs


def classify(docs):
    """{kind: document} of the kubeadm and component-config documents; kubeadm's errors for the rest."""
    found = {}
    for doc in docs:
        if not isinstance(doc, dict):
            raise KubeadmError("couldn't get version/kind; json parse error: json: cannot unmarshal %s into Go value of type "
                               "struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"
                               % ('array' if isinstance(doc, list) else 'string'))
        api, kind = doc.get('apiVersion') or '', doc.get('kind') or ''
        if not kind:
            raise KubeadmError("Object 'Kind' is missing in '%s'" % json.dumps(doc, separators=(',', ':'), sort_keys=True))
        group = api.split('/')[0] if '/' in api else ''
        if group == 'kubeadm.k8s.io':
            if api in ('kubeadm.k8s.io/v1beta1', 'kubeadm.k8s.io/v1beta2'):
                raise KubeadmError('your configuration file uses an old API spec: "%s" (kind: "%s"). Please use kubeadm v1.22 '
                                   'instead and run \'kubeadm config migrate --old-config old.yaml --new-config new.yaml\', '
                                   'which will write the new, similar spec using a newer API version.' % (api, kind))
            if api not in (V1BETA3, V1BETA4) or kind not in KUBEADM_KINDS or (api == V1BETA3 and kind == 'UpgradeConfiguration'):
                raise KubeadmError('no kind "%s" is registered for version "%s" in scheme "%s"' % (kind, api, SCHEME))
        elif (api, kind) in ((KUBELET_API, 'KubeletConfiguration'), (KUBEPROXY_API, 'KubeProxyConfiguration')):
            pass
        elif group in ('kubelet.config.k8s.io', 'kubeproxy.config.k8s.io'):
            raise KubeadmError('no kind "%s" is registered for version "%s" in scheme "%s"' % (kind, api, SCHEME))
        else:
            warn('W%s %7d initconfiguration.go:331] [config] WARNING: Ignored configuration document with GroupVersionKind %s, Kind=%s'
                 % (time.strftime('%m%d %H:%M:%S.000000'), os.getpid(), api, kind))
            continue
        if kind in found:
            raise KubeadmError('duplicate %s document in the configuration' % kind)
        found[kind] = doc
    if 'JoinConfiguration' in found and 'InitConfiguration' in found:
        warn('W%s %7d initconfiguration.go:375] [config] WARNING: Ignored JoinConfiguration in an init configuration'
             % (time.strftime('%m%d %H:%M:%S.000000'), os.getpid()))
    return found


def arg_pairs(value):
    """extraArgs / kubeletExtraArgs as [(name, value)]: a v1beta4 list or a v1beta3 map."""
    if isinstance(value, dict):
        return [(str(k), str(v)) for k, v in sorted(value.items())]
    return [(str(item.get('name')), str(item.get('value', ''))) for item in value or [] if isinstance(item, dict)]


def v4_args(value):
    return [{'name': name, 'value': val} for name, val in arg_pairs(value)]


def split_host_port(endpoint, default_port):
    match = re.match(r'^\[([^\]]+)\](?::(\d+))?$', endpoint) or re.match(r'^([^:]+)(?::(\d+))?$', endpoint)
    if not match:
        raise KubeadmError('invalid value "%s" given for controlPlaneEndpoint: host port is not valid' % endpoint)
    return match.group(1), int(match.group(2) or default_port)


def join_host_port(host_name, port):
    return '[%s]:%d' % (host_name, port) if ':' in host_name else '%s:%d' % (host_name, port)


def default_address():
    """The host's first non-loopback IPv4 (kubeadm: the default route's interface)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(('10.255.255.255', 1))
            return probe.getsockname()[0]
    except OSError:
        return '127.0.0.1'


def default_registration(reg, control_plane):
    reg = copy.deepcopy(reg or {})
    reg['name'] = reg.get('name') or hostname()
    reg['criSocket'] = reg.get('criSocket') or DEFAULT_CRI_SOCKET
    if reg.get('taints') is None and control_plane:
        reg['taints'] = [dict(CONTROL_PLANE_TAINT)]
    reg['taints'] = reg.get('taints') or []
    reg['kubeletExtraArgs'] = v4_args(reg.get('kubeletExtraArgs'))
    reg.setdefault('imagePullPolicy', 'IfNotPresent')
    return reg


def default_cluster(cluster, advertise, bind_port):
    """The ClusterConfiguration as kubeadm defaults it (the form upload-config stores, v1beta4)."""
    cluster = copy.deepcopy(cluster or {})
    cluster['apiVersion'], cluster['kind'] = V1BETA4, 'ClusterConfiguration'
    cluster.setdefault('kubernetesVersion', VERSION)
    cluster.setdefault('clusterName', 'kubernetes')
    cluster.setdefault('certificatesDir', PKI_DIR)
    cluster.setdefault('imageRepository', 'registry.k8s.io')
    cluster.setdefault('encryptionAlgorithm', 'RSA-2048')
    cluster.setdefault('caCertificateValidityPeriod', '87600h0m0s')
    cluster.setdefault('certificateValidityPeriod', '8760h0m0s')
    if not cluster.get('controlPlaneEndpoint'):
        cluster['controlPlaneEndpoint'] = join_host_port(advertise, bind_port)
    net = cluster.setdefault('networking', {})
    net.setdefault('serviceSubnet', '10.96.0.0/12')
    net.setdefault('dnsDomain', 'cluster.local')
    for name in ('apiServer', 'controllerManager', 'scheduler'):
        comp = cluster.setdefault(name, {}) or {}
        cluster[name] = comp
        comp['extraArgs'] = v4_args(comp.get('extraArgs'))
        comp.pop('timeoutForControlPlane', None)
    etcd = cluster.setdefault('etcd', {}).setdefault('local', {})
    etcd.setdefault('dataDir', ETCD_DIR)
    etcd['extraArgs'] = v4_args(etcd.get('extraArgs'))
    cluster.setdefault('dns', {})
    cluster.setdefault('proxy', {})
    return cluster


class InitConfig(object):  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """The defaulted documents of `kubeadm init --config`."""

    def __init__(self, found):
        init = copy.deepcopy(found.get('InitConfiguration') or {'apiVersion': V1BETA4, 'kind': 'InitConfiguration'})
        self.api = init.get('apiVersion', V1BETA4)
        self.registration = default_registration(init.get('nodeRegistration'), True)
        endpoint = init.get('localAPIEndpoint') or {}
        self.advertise = endpoint.get('advertiseAddress') or default_address()
        self.bind_port = int(endpoint.get('bindPort') or 6443)
        self.tokens = init.get('bootstrapTokens') or []
        self.certificate_key = init.get('certificateKey') or ''
        self.skip_phases = init.get('skipPhases') or []
        self.cluster = default_cluster(found.get('ClusterConfiguration'), self.advertise, self.bind_port)
        self.kubelet_doc = found.get('KubeletConfiguration') or {}
        self.kubeproxy_doc = found.get('KubeProxyConfiguration') or {}
        self.node = self.registration['name']
        self.endpoint = self.cluster['controlPlaneEndpoint']

    @property
    def service_subnet(self):
        return self.cluster['networking']['serviceSubnet'].split(',')[0].strip()

    @property
    def dns_domain(self):
        return self.cluster['networking']['dnsDomain']


def service_ip(subnet, index):
    """The index-th address of the (first) service CIDR: 1 = the kubernetes Service, 10 = DNS."""
    net = ipaddress.ip_network(subnet.split(',')[0].strip(), strict=False)
    return str(net.network_address + index)


# --- PKI -----------------------------------------------------------------------------------

def _not_after(cert):
    return getattr(cert, 'not_valid_after_utc', None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _not_before(cert):
    return getattr(cert, 'not_valid_before_utc', None) or cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def x509_name(common, orgs=()):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, common)])


def new_ca(common):
    """A self-signed CA as kubeadm makes one (10 years, CertSign, SKI)."""
    key = new_key()
    start = now() - datetime.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(x509_name(common)).issuer_name(x509_name(common)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650))
            .add_extension(x509.KeyUsage(True, False, True, False, False, True, False, False, False), critical=True)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(common)]), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def new_cert(ca, ca_key, common, orgs=(), usages=(), dns=(), ips=()):  # pylint: disable=too-many-arguments
    """A leaf certificate signed by ca (1 year, DigitalSignature+KeyEncipherment, the extended usages)."""
    key = new_key()
    start = now() - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(x509_name(common, orgs)).issuer_name(ca.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=365))
               .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if dns or ips:
        sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def load_cert(path):
    return x509.load_pem_x509_certificate(read(path, True))


def load_key(path):
    return serialization.load_pem_private_key(read(path, True), password=None)


def signed_by(cert, ca):
    """Whether cert's signature verifies with ca's public key."""
    pub = ca.public_key()
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        else:
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    except InvalidSignature:
        return False
    return cert.issuer == ca.subject


def spki_hash(cert):
    """kubeadm's CA pin: sha256 of the certificate's SubjectPublicKeyInfo DER."""
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return 'sha256:' + hashlib.sha256(der).hexdigest()


def _sorted_ips(ips):
    out = []
    for ip in ips:
        if ip not in out:
            out.append(ip)
    return out


def cert_specs(cfg):
    """kubeadm's certificate list: (name, CA name, CN, O, usages, DNS SANs, IP SANs)."""
    node, adv = cfg.node, cfg.advertise
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    domain = cfg.dns_domain
    dns = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.' + domain, node]
    ips = [service_ip(cfg.service_subnet, 1), adv]
    endpoint_host = split_host_port(cfg.endpoint, cfg.bind_port)[0]
    for extra in list(cfg.cluster.get('apiServer', {}).get('certSANs') or []) + [endpoint_host]:
        try:
            ipaddress.ip_address(extra)
            ips.append(extra)
        except ValueError:
            if extra not in dns:
                dns.append(extra)
    etcd_dns, etcd_ips = ['localhost', node], _sorted_ips([adv, '127.0.0.1', '::1'])
    return [
        ('apiserver', 'ca', 'kube-apiserver', (), [server], dns, _sorted_ips(ips)),
        ('apiserver-kubelet-client', 'ca', 'kube-apiserver-kubelet-client', ('kubeadm:cluster-admins',), [client], [], []),
        ('front-proxy-client', 'front-proxy-ca', 'front-proxy-client', (), [client], [], []),
        ('etcd/server', 'etcd/ca', node, (), [server, client], etcd_dns, etcd_ips),
        ('etcd/peer', 'etcd/ca', node, (), [server, client], etcd_dns, etcd_ips),
        ('etcd/healthcheck-client', 'etcd/ca', 'kube-etcd-healthcheck-client', (), [client], [], []),
        ('apiserver-etcd-client', 'etcd/ca', 'kube-apiserver-etcd-client', (), [client], [], []),
    ]


CA_SPECS = (('ca', 'kubernetes', ''), ('front-proxy-ca', 'front-proxy-ca', ''), ('etcd/ca', 'etcd-ca', ''))
# the order kubeadm's certs phase prints (each CA, then its leaves)
CERT_ORDER = ('ca', 'apiserver', 'apiserver-kubelet-client', 'front-proxy-ca', 'front-proxy-client', 'etcd/ca',
              'etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client')


def _pki(rel):
    return '%s/%s' % (PKI_DIR, rel)


def _load_existing_ca(ca_name):
    crt, key = _pki(ca_name + '.crt'), _pki(ca_name + '.key')
    if not exists(crt):
        return None
    cert = load_cert(crt)
    if _not_after(cert) < now():
        raise KubeadmError('failure loading %s certificate authority: the certificate has expired' % ca_name, 'certs/' + ca_name)
    if not exists(key):
        raise KubeadmError('failure loading key for %s: couldn\'t load the private key file %s: open %s: no such file or directory'
                           % (ca_name, key, key), 'certs/' + ca_name)
    return cert, load_key(key)


def _sans_missing(cert, dns, ips):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return bool(dns or ips)
    have_dns = set(ext.get_values_for_type(x509.DNSName))
    have_ips = set(str(i) for i in ext.get_values_for_type(x509.IPAddress))
    return bool(set(dns) - have_dns or set(str(ipaddress.ip_address(i)) for i in ips) - have_ips)


def phase_certs(cfg):
    """/etc/kubernetes/pki: the CAs (reused when present), the leaves, sa.key/sa.pub."""
    say('[certs] Using certificateDir folder "%s"' % PKI_DIR)
    cas = {}
    specs = dict((spec[0], spec) for spec in cert_specs(cfg))
    ca_common = dict((c[0], c[1]) for c in CA_SPECS)
    for item in CERT_ORDER:
        if item in ca_common:
            existing = _load_existing_ca(item)
            if existing:
                say('[certs] Using existing %s certificate authority' % item)
                cas[item] = existing
                continue
            say('[certs] Generating "%s" certificate and key' % item)
            cert, key = new_ca(ca_common[item])
            write(_pki(item + '.crt'), cert_pem(cert), 0o644)
            write(_pki(item + '.key'), key_pem(key), 0o600)
            cas[item] = (cert, key)
            continue
        _kind, ca_name, common, orgs, usages, dns, ips = specs[item]
        ca, ca_key = cas[ca_name]
        crt, keyfile = _pki(item + '.crt'), _pki(item + '.key')
        if exists(crt) and exists(keyfile):
            cert = load_cert(crt)
            if not signed_by(cert, ca):
                raise KubeadmError('[certs] certificate %s not signed by CA certificate %s: x509: certificate signed by unknown '
                                   'authority' % (item, ca_name), 'certs/' + item)
            if _sans_missing(cert, dns, ips):
                raise KubeadmError('[certs] certificate %s is invalid: the existing certificate does not contain all the '
                                   'required SANs' % item, 'certs/' + item)
            say('[certs] Using existing %s certificate and key on disk' % item)
            continue
        say('[certs] Generating "%s" certificate and key' % item)
        if dns or ips:
            say('[certs] %s serving cert is signed for DNS names [%s] and IPs [%s]' % (item, ' '.join(dns), ' '.join(ips)))
        cert, key = new_cert(ca, ca_key, common, orgs, usages, dns, ips)
        write(crt, cert_pem(cert), 0o644)
        write(keyfile, key_pem(key), 0o600)
    if exists(_pki('sa.key')):
        say('[certs] Using the existing "sa" key')
    else:
        say('[certs] Generating "sa" key and public key')
        key = new_key()
        write(_pki('sa.key'), key_pem(key), 0o600)
        write(_pki('sa.pub'), key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return cas


# --- kubeconfig files ------------------------------------------------------------------------

def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def kubeconfig(server, ca_pem, user, cert=None, key=None, token=None, cluster='kubernetes'):  # pylint: disable=too-many-arguments
    """A kubeconfig as kubeadm writes it (embedded data; a token user for bootstrap-kubelet.conf)."""
    creds = {'token': token} if token else {'client-certificate-data': b64(cert), 'client-key-data': b64(key)}
    context = '%s@%s' % (user, cluster)
    return {'apiVersion': 'v1', 'kind': 'Config', 'preferences': {},
            'clusters': [{'name': cluster, 'cluster': {'certificate-authority-data': b64(ca_pem), 'server': server}}],
            'contexts': [{'name': context, 'context': {'cluster': cluster, 'user': user}}],
            'current-context': context, 'users': [{'name': user, 'user': creds}]}


def kubeconfig_specs(cfg, join=False):
    """(file, server, user, CN, O) of the kubeconfig files of a control plane."""
    public = 'https://' + cfg.endpoint
    local = 'https://' + join_host_port(cfg.advertise, cfg.bind_port)
    specs = [('admin.conf', public, 'kubernetes-admin', 'kubernetes-admin', ('kubeadm:cluster-admins',))]
    if not join:
        specs += [('super-admin.conf', public, 'kubernetes-super-admin', 'kubernetes-super-admin', ('system:masters',)),
                  ('kubelet.conf', local, 'system:node:' + cfg.node, 'system:node:' + cfg.node, ('system:nodes',))]
    specs += [('controller-manager.conf', local, 'system:kube-controller-manager', 'system:kube-controller-manager', ()),
              ('scheduler.conf', local, 'system:kube-scheduler', 'system:kube-scheduler', ())]
    return specs


def phase_kubeconfig(cfg, cas, join=False):
    say('[kubeconfig] Using kubeconfig folder "%s"' % KUBERNETES_DIR)
    ca, ca_key = cas['ca']
    cluster = cfg.cluster.get('clusterName', 'kubernetes')
    for filename, server, user, common, orgs in kubeconfig_specs(cfg, join):
        path = '%s/%s' % (KUBERNETES_DIR, filename)
        if exists(path):
            existing = yaml.safe_load(read(path)) or {}
            clusters = existing.get('clusters') or [{}]
            data = (clusters[0].get('cluster') or {}).get('certificate-authority-data', '')
            if base64.b64decode(data or '') != cert_pem(ca):
                raise KubeadmError('a kubeconfig file "%s" exists already but has got the wrong CA cert' % path, 'kubeconfig/' + filename[:-5])
            say('[kubeconfig] Using existing kubeconfig file: "%s"' % path)
            continue
        say('[kubeconfig] Writing "%s" kubeconfig file' % filename)
        cert, key = new_cert(ca, ca_key, common, orgs, [ExtendedKeyUsageOID.CLIENT_AUTH])
        write(path, dump(kubeconfig(server, cert_pem(ca), user, cert_pem(cert), key_pem(key), cluster=cluster)), 0o600)


# --- static Pod manifests ------------------------------------------------------------------

def _flags(base, extra):
    """kubeadm's command: the defaults overridden and extended by extraArgs, sorted by name."""
    merged = dict(base)
    for key, value in arg_pairs(extra):
        merged[key] = value
    return ['--%s=%s' % (key, merged[key]) for key in sorted(merged)]


def _host_path(vol_name, path, kind='DirectoryOrCreate'):
    return {'name': vol_name, 'hostPath': {'path': path, 'type': kind}}


def _probe(port, path, scheme, host_ip, failure=8):
    return {'failureThreshold': failure, 'httpGet': {'host': host_ip, 'path': path, 'port': port, 'scheme': scheme},
            'initialDelaySeconds': 10, 'periodSeconds': 10, 'timeoutSeconds': 15}


def static_pod(component, image, command, mounts, probe_port, probe_scheme, probe_host, annotations=None):  # pylint: disable=too-many-arguments
    """A kubeadm static Pod (hostNetwork, system-node-critical, the probes on the component's port)."""
    pod = {'apiVersion': 'v1', 'kind': 'Pod',
           'metadata': {'labels': {'component': component, 'tier': 'control-plane'}, 'name': component, 'namespace': 'kube-system'},
           'spec': {'containers': [{
               'command': command, 'image': image, 'imagePullPolicy': 'IfNotPresent', 'name': component,
               'livenessProbe': _probe(probe_port, '/livez' if component == 'kube-apiserver' else '/healthz', probe_scheme, probe_host),
               'startupProbe': _probe(probe_port, '/livez' if component == 'kube-apiserver' else '/healthz', probe_scheme, probe_host, 24),
               'resources': {'requests': {'cpu': '250m' if component == 'kube-apiserver' else '200m' if component == 'kube-controller-manager' else '100m'}},
               'volumeMounts': [{'mountPath': path, 'name': vol, 'readOnly': ro} for vol, path, ro, _kind in mounts]}],
               'hostNetwork': True, 'priority': 2000001000, 'priorityClassName': 'system-node-critical',
               'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},
               'volumes': [_host_path(vol, path, kind) for vol, path, _ro, kind in mounts]},
           'status': {}}
    if component == 'kube-apiserver':
        pod['spec']['containers'][0]['readinessProbe'] = dict(_probe(probe_port, '/readyz', probe_scheme, probe_host, 3), periodSeconds=1)
        del pod['spec']['containers'][0]['readinessProbe']['initialDelaySeconds']
    if annotations:
        pod['metadata']['annotations'] = annotations
    return pod


CERT_MOUNTS = [('ca-certs', '/etc/ssl/certs', True, 'DirectoryOrCreate'),
               ('etc-ca-certificates', '/etc/ca-certificates', True, 'DirectoryOrCreate'),
               ('k8s-certs', PKI_DIR, True, 'DirectoryOrCreate'),
               ('usr-local-share-ca-certificates', '/usr/local/share/ca-certificates', True, 'DirectoryOrCreate'),
               ('usr-share-ca-certificates', '/usr/share/ca-certificates', True, 'DirectoryOrCreate')]


def manifest_apiserver(cfg):
    pki = PKI_DIR
    service_cidr = cfg.cluster['networking']['serviceSubnet']
    base = {
        'advertise-address': cfg.advertise, 'allow-privileged': 'true', 'authorization-mode': 'Node,RBAC',
        'client-ca-file': pki + '/ca.crt', 'enable-admission-plugins': 'NodeRestriction', 'enable-bootstrap-token-auth': 'true',
        'etcd-cafile': pki + '/etcd/ca.crt', 'etcd-certfile': pki + '/apiserver-etcd-client.crt',
        'etcd-keyfile': pki + '/apiserver-etcd-client.key', 'etcd-servers': 'https://127.0.0.1:2379',
        'kubelet-client-certificate': pki + '/apiserver-kubelet-client.crt', 'kubelet-client-key': pki + '/apiserver-kubelet-client.key',
        'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
        'proxy-client-cert-file': pki + '/front-proxy-client.crt', 'proxy-client-key-file': pki + '/front-proxy-client.key',
        'requestheader-allowed-names': 'front-proxy-client', 'requestheader-client-ca-file': pki + '/front-proxy-ca.crt',
        'requestheader-extra-headers-prefix': 'X-Remote-Extra-', 'requestheader-group-headers': 'X-Remote-Group',
        'requestheader-username-headers': 'X-Remote-User', 'secure-port': str(cfg.bind_port),
        'service-account-issuer': 'https://kubernetes.default.svc.' + cfg.dns_domain,
        'service-account-key-file': pki + '/sa.pub', 'service-account-signing-key-file': pki + '/sa.key',
        'service-cluster-ip-range': service_cidr, 'tls-cert-file': pki + '/apiserver.crt', 'tls-private-key-file': pki + '/apiserver.key'}
    command = ['kube-apiserver'] + _flags(base, cfg.cluster['apiServer'].get('extraArgs'))
    image = '%s/kube-apiserver:%s' % (cfg.cluster['imageRepository'], cfg.cluster['kubernetesVersion'])
    return static_pod('kube-apiserver', image, command, CERT_MOUNTS, cfg.bind_port, 'HTTPS', cfg.advertise,
                      {'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': join_host_port(cfg.advertise, cfg.bind_port)})


def manifest_controller_manager(cfg):
    pki = PKI_DIR
    conf = KUBERNETES_DIR + '/controller-manager.conf'
    base = {'authentication-kubeconfig': conf, 'authorization-kubeconfig': conf, 'bind-address': '127.0.0.1',
            'client-ca-file': pki + '/ca.crt', 'cluster-name': cfg.cluster['clusterName'],
            'cluster-signing-cert-file': pki + '/ca.crt', 'cluster-signing-key-file': pki + '/ca.key',
            'controllers': '*,bootstrapsigner,tokencleaner', 'kubeconfig': conf, 'leader-elect': 'true',
            'requestheader-client-ca-file': pki + '/front-proxy-ca.crt', 'root-ca-file': pki + '/ca.crt',
            'service-account-private-key-file': pki + '/sa.key', 'use-service-account-credentials': 'true'}
    pod_subnet = cfg.cluster['networking'].get('podSubnet')
    if pod_subnet:
        base.update({'allocate-node-cidrs': 'true', 'cluster-cidr': pod_subnet,
                     'service-cluster-ip-range': cfg.cluster['networking']['serviceSubnet']})
    command = ['kube-controller-manager'] + _flags(base, cfg.cluster['controllerManager'].get('extraArgs'))
    image = '%s/kube-controller-manager:%s' % (cfg.cluster['imageRepository'], cfg.cluster['kubernetesVersion'])
    mounts = CERT_MOUNTS + [('flexvolume-dir', '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', False, 'DirectoryOrCreate'),
                            ('kubeconfig', conf, True, 'FileOrCreate')]
    return static_pod('kube-controller-manager', image, command, sorted(mounts), 10257, 'HTTPS', '127.0.0.1')


def manifest_scheduler(cfg):
    conf = KUBERNETES_DIR + '/scheduler.conf'
    base = {'authentication-kubeconfig': conf, 'authorization-kubeconfig': conf, 'bind-address': '127.0.0.1',
            'kubeconfig': conf, 'leader-elect': 'true'}
    command = ['kube-scheduler'] + _flags(base, cfg.cluster['scheduler'].get('extraArgs'))
    image = '%s/kube-scheduler:%s' % (cfg.cluster['imageRepository'], cfg.cluster['kubernetesVersion'])
    return static_pod('kube-scheduler', image, command, [('kubeconfig', conf, True, 'FileOrCreate')], 10259, 'HTTPS', '127.0.0.1')


def url_host(address):
    """An address as the host part of a URL (an IPv6 one in brackets)."""
    return '[%s]' % address if ':' in address else address


def manifest_etcd(cfg, initial_cluster=None):
    pki = PKI_DIR + '/etcd'
    ip = url_host(cfg.advertise)
    data_dir = cfg.cluster['etcd']['local'].get('dataDir', ETCD_DIR)
    base = {'advertise-client-urls': 'https://%s:2379' % ip, 'cert-file': pki + '/server.crt', 'client-cert-auth': 'true',
            'data-dir': data_dir, 'experimental-initial-corrupt-check': 'true', 'experimental-watch-progress-notify-interval': '5s',
            'initial-advertise-peer-urls': 'https://%s:2380' % ip,
            'initial-cluster': initial_cluster or '%s=https://%s:2380' % (cfg.node, ip),
            'key-file': pki + '/server.key', 'listen-client-urls': 'https://127.0.0.1:2379,https://%s:2379' % ip,
            'listen-metrics-urls': 'http://127.0.0.1:2381', 'listen-peer-urls': 'https://%s:2380' % ip, 'name': cfg.node,
            'peer-cert-file': pki + '/peer.crt', 'peer-client-cert-auth': 'true', 'peer-key-file': pki + '/peer.key',
            'peer-trusted-ca-file': pki + '/ca.crt', 'snapshot-count': '10000', 'trusted-ca-file': pki + '/ca.crt'}
    if initial_cluster:
        base['initial-cluster-state'] = 'existing'
    command = ['etcd'] + _flags(base, cfg.cluster['etcd']['local'].get('extraArgs'))
    image = '%s/etcd:%s' % (cfg.cluster['imageRepository'], ETCD_IMAGE_TAG)
    mounts = [('etcd-certs', pki, False, 'DirectoryOrCreate'), ('etcd-data', data_dir, False, 'DirectoryOrCreate')]
    pod = static_pod('etcd', image, command, mounts, 2381, 'HTTP', '127.0.0.1',
                     {'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://%s:2379' % ip})
    pod['metadata']['labels']['component'] = 'etcd'
    pod['spec']['containers'][0]['resources'] = {'requests': {'cpu': '100m', 'memory': '100Mi'}}
    for probe in ('livenessProbe', 'startupProbe'):
        pod['spec']['containers'][0][probe]['httpGet']['path'] = '/livez'
    return pod


ETCD_JOIN_WAIT = 40  # seconds: kubeadm's "This can take up to 40s"
ETCD_ENDPOINTS_ANNOTATION = 'kubeadm.kubernetes.io/etcd.advertise-client-urls'


class EtcdMembers(object):
    """kubeadm's etcdutil for the stacked etcd: the member API (/v3/cluster/member/list, add,
    promote, remove) of etcd's v3 JSON gateway, with the etcd CA and the apiserver-etcd-client
    certificate, the first endpoint that answers."""

    def __init__(self, endpoints):
        self.endpoints = list(endpoints)
        self.context = ssl.create_default_context(cafile=host(PKI_DIR + '/etcd/ca.crt'))
        self.context.load_cert_chain(host(PKI_DIR + '/apiserver-etcd-client.crt'), host(PKI_DIR + '/apiserver-etcd-client.key'))

    def call(self, path, body):
        errors = []
        for url in self.endpoints:
            parts = urlsplit(url)
            conn = http.client.HTTPSConnection(parts.hostname, parts.port or 2379, context=self.context, timeout=10)
            try:
                conn.request('POST', path, json.dumps(body), {'Content-Type': 'application/json'})
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append('%s: %s' % (parts.netloc, exc))
                continue
            finally:
                conn.close()
            answer = json.loads(raw.decode() or '{}')
            if resp.status != 200:
                raise KubeadmError(str(answer.get('error') or answer.get('message') or 'etcd: HTTP %d' % resp.status))
            return answer
        raise KubeadmError('etcd cluster is unavailable or misconfigured: %s' % '; '.join(errors))

    def members(self):
        return self.call('/v3/cluster/member/list', {}).get('members') or []

    def add_learner(self, peer_url):
        answer = self.call('/v3/cluster/member/add', {'peerURLs': [peer_url], 'isLearner': True})
        return answer['member'], answer.get('members') or []

    def promote(self, member_id):
        self.call('/v3/cluster/member/promote', {'ID': member_id})

    def remove(self, member_id):
        self.call('/v3/cluster/member/remove', {'ID': member_id})


def etcd_endpoints(client):
    """The client URLs of the etcd members, from the annotation of the etcd mirror Pods (as kubeadm's
    etcdutil.getEtcdEndpoints)."""
    pods = client.get('/api/v1/namespaces/kube-system/pods?labelSelector=component%3Detcd%2Ctier%3Dcontrol-plane')
    urls = []
    for pod in (pods or {}).get('items') or []:
        for url in ((pod['metadata'].get('annotations') or {}).get(ETCD_ENDPOINTS_ANNOTATION) or '').split(','):
            if url.strip() and url.strip() not in urls:
                urls.append(url.strip())
    return urls


def join_etcd(cfg, client):
    """control-plane-join/etcd: this node's member added to the cluster as a learner, the manifest
    with every member and --initial-cluster-state=existing, then, once the kubelet has started it
    and it has caught up, the learner promoted to a voting member."""
    peer = 'https://%s:2380' % url_host(cfg.advertise)
    try:
        endpoints = etcd_endpoints(client)
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error retrieving the etcd endpoints'), 'control-plane-join/etcd')
    if not endpoints:
        raise KubeadmError('etcd cluster is not healthy: no etcd Pod with the %s annotation in kube-system' % ETCD_ENDPOINTS_ANNOTATION,
                           'control-plane-join/etcd')
    etcd = EtcdMembers(endpoints)
    try:
        members = etcd.members()
        mine = [m for m in members if peer in (m.get('peerURLs') or [])]
        if mine:
            member = mine[0]
        else:
            member, members = etcd.add_learner(peer)
    except KubeadmError as exc:
        raise KubeadmError('error creating local etcd static pod manifest file: %s' % exc, 'control-plane-join/etcd') from None
    initial = ','.join('%s=%s' % (m.get('name') or cfg.node, m['peerURLs'][0]) for m in members if m.get('peerURLs'))
    phase_etcd(cfg, initial)
    say('[etcd] Announced new etcd member joining to the existing etcd cluster')
    say('[etcd] Creating static Pod manifest for "etcd"')
    say('[etcd] Waiting for the new etcd member to join the cluster. This can take up to %ds' % ETCD_JOIN_WAIT)
    deadline, last = time.time() + ETCD_JOIN_WAIT, ''
    while member.get('isLearner'):
        try:
            etcd.promote(member['ID'])
            break
        except KubeadmError as exc:  # "can only promote a learner member which is in sync with leader", until it is
            last = str(exc)
            if 'not a learner' in last:
                break
        if time.time() > deadline:
            raise KubeadmError('error creating local etcd static pod manifest file: timeout waiting for etcd cluster to be available: %s'
                               % last, 'control-plane-join/etcd')
        time.sleep(0.5)


def reset_etcd_member(manifest):
    """kubeadm reset's remove-etcd-member: this node's member (its etcd manifest's peer URL) out of
    the cluster, through the local etcd, unless it is the last one. As kubeadm's RemoveMember, it
    polls until the removal is answered or the member is no longer listed: a member that applies its
    own removal stops, and may do so before it answers ("etcdserver: server stopped"), so the other
    members are asked whether it is gone."""
    try:
        command = yaml.safe_load(read(manifest))['spec']['containers'][0]['command']
        peer = [c.split('=', 1)[1] for c in command if c.startswith('--initial-advertise-peer-urls=')][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return
    deadline = time.time() + ETCD_JOIN_WAIT
    try:
        etcd = EtcdMembers(['https://127.0.0.1:2379'])
        members = etcd.members()
        mine = [m for m in members if peer in (m.get('peerURLs') or [])]
        others = EtcdMembers([url for m in members if m not in mine for url in m.get('clientURLs') or []])
        while mine and len(members) > 1:
            try:
                etcd.remove(mine[0]['ID'])
            except KubeadmError as exc:  # strict reconfiguration ("unhealthy cluster") or the member stopped first
                try:
                    gone = not [m for m in others.members() if peer in (m.get('peerURLs') or [])]
                except KubeadmError:
                    gone = False
                if not gone:
                    if time.time() > deadline:
                        raise exc
                    time.sleep(1)
                    continue
            say('[reset] Removed member %s (%s) from the etcd cluster' % (mine[0].get('name') or '', peer))
            break
    except (KubeadmError, OSError, ssl.SSLError) as exc:
        warn('W%s %7d removeetcdmember.go:80] [reset] Failed to remove etcd member: %s. Please manually remove this etcd member using '
             'etcdctl' % (time.strftime('%m%d %H:%M:%S.000000'), os.getpid(), exc))


def phase_etcd(cfg, initial_cluster=None):
    say('[etcd] Creating static Pod manifest for local etcd in "%s"' % MANIFESTS_DIR)
    write(MANIFESTS_DIR + '/etcd.yaml', dump(manifest_etcd(cfg, initial_cluster)), 0o600)


def phase_control_plane(cfg):
    say('[control-plane] Using manifest folder "%s"' % MANIFESTS_DIR)
    for component, build in (('kube-apiserver', manifest_apiserver), ('kube-controller-manager', manifest_controller_manager),
                             ('kube-scheduler', manifest_scheduler)):
        say('[control-plane] Creating static Pod manifest for "%s"' % component)
        write('%s/%s.yaml' % (MANIFESTS_DIR, component), dump(build(cfg)), 0o600)


# --- kubelet-start ---------------------------------------------------------------------------

def kubelet_cluster_config(doc, cluster):
    """The cluster-wide KubeletConfiguration kubeadm uploads (kubelet-config ConfigMap), defaulted."""
    conf = copy.deepcopy(doc or {})
    conf['apiVersion'], conf['kind'] = KUBELET_API, 'KubeletConfiguration'
    auth = conf.setdefault('authentication', {})
    auth.setdefault('anonymous', {'enabled': False})
    auth.setdefault('webhook', {'cacheTTL': '0s', 'enabled': True})
    auth.setdefault('x509', {}).setdefault('clientCAFile', PKI_DIR + '/ca.crt')
    conf.setdefault('authorization', {'mode': 'Webhook', 'webhook': {'cacheAuthorizedTTL': '0s', 'cacheUnauthorizedTTL': '0s'}})
    conf.setdefault('cgroupDriver', 'systemd')
    conf.setdefault('clusterDNS', [service_ip(cluster['networking']['serviceSubnet'], 10)])
    conf.setdefault('clusterDomain', cluster['networking'].get('dnsDomain', 'cluster.local'))
    conf.setdefault('containerRuntimeEndpoint', '')
    for key, value in (('cpuManagerReconcilePeriod', '0s'), ('crashLoopBackOff', {}), ('evictionPressureTransitionPeriod', '0s'),
                       ('fileCheckFrequency', '0s'), ('healthzBindAddress', '127.0.0.1'), ('healthzPort', 10248),
                       ('httpCheckFrequency', '0s'), ('imageMaximumGCAge', '0s'), ('imageMinimumGCAge', '0s'),
                       ('logging', {'flushFrequency': 0, 'options': {'json': {'infoBufferSize': '0'}, 'text': {'infoBufferSize': '0'}},
                                    'verbosity': 0}),
                       ('memorySwap', {}), ('nodeStatusReportFrequency', '0s'), ('nodeStatusUpdateFrequency', '0s'),
                       ('resolvConf', '/run/systemd/resolve/resolv.conf'), ('rotateCertificates', True),
                       ('runtimeRequestTimeout', '0s'), ('shutdownGracePeriod', '0s'), ('shutdownGracePeriodCriticalPods', '0s'),
                       ('staticPodPath', MANIFESTS_DIR), ('streamingConnectionIdleTimeout', '0s'), ('syncFrequency', '0s'),
                       ('volumeStatsAggPeriod', '0s')):
        conf.setdefault(key, value)
    return conf


def kubelet_flags(registration, pause_image=PAUSE_IMAGE):
    """KUBELET_KUBEADM_ARGS: the runtime endpoint, the pause image, hostname-override, taints, kubeletExtraArgs."""
    merged = {'container-runtime-endpoint': registration['criSocket']}
    if KUBEADM_VERSION[:2] < (1, 35):   # kubeadm 1.35 stopped passing it (the kubelet flag is gone)
        merged['pod-infra-container-image'] = pause_image
    if registration['name'] != hostname():
        merged['hostname-override'] = registration['name']
    if registration.get('taints'):
        merged['register-with-taints'] = ','.join(taint_string(t) for t in registration['taints'])
    for key, value in arg_pairs(registration.get('kubeletExtraArgs')):
        merged[key] = value
    return 'KUBELET_KUBEADM_ARGS="%s"\n' % ' '.join('--%s=%s' % (key, merged[key]) for key in sorted(merged))


def taint_string(taint):
    value = taint.get('value')
    return '%s%s:%s' % (taint['key'], '=' + str(value) if value not in (None, '') else '', taint['effect'])


def systemctl(*args):
    """Run systemctl (found on PATH); (ok, output)."""
    try:
        proc = subprocess.run(['systemctl'] + list(args), capture_output=True, text=True, check=False)
    except OSError as exc:
        return False, str(exc)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def phase_kubelet_start(registration, kubelet_conf):
    say('[kubelet-start] Writing kubelet environment file with flags to file "%s"' % KUBELET_FLAGS)
    write(KUBELET_FLAGS, kubelet_flags(registration), 0o644)
    conf = copy.deepcopy(kubelet_conf)
    conf['containerRuntimeEndpoint'] = registration['criSocket']
    say('[kubelet-start] Writing kubelet configuration to file "%s"' % KUBELET_CONFIG)
    write(KUBELET_CONFIG, dump(conf), 0o644)
    say('[kubelet-start] Starting the kubelet')
    ok, output = systemctl('restart', 'kubelet')
    if not ok:
        warn('[kubelet-start] WARNING: unable to start the kubelet service: [couldn\'t restart service: %s]' % output)
        warn('[kubelet-start] Please ensure kubelet is reloaded and running manually.')


# --- the API client --------------------------------------------------------------------------

class Client(object):
    """A small Kubernetes REST client: a server, a CA (or none: no TLS verification) and a client
    certificate or a bearer token."""

    def __init__(self, server, ca_pem=None, cert_pem_data=None, key_pem_data=None, token=None):  # pylint: disable=too-many-arguments
        parts = urlsplit(server)
        self.server, self.host, self.port = server, parts.hostname, parts.port or 443
        self.token = token
        self.context = ssl.create_default_context()
        if ca_pem:
            self.context.load_verify_locations(cadata=ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem)
        else:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        if cert_pem_data and key_pem_data:
            with tempfile.TemporaryDirectory(prefix='kubeadm-') as tmp:
                cert_file, key_file = os.path.join(tmp, 'c'), os.path.join(tmp, 'k')
                for path, data in ((cert_file, cert_pem_data), (key_file, key_pem_data)):
                    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), 'wb') as handle:
                        handle.write(data if isinstance(data, bytes) else data.encode())
                self.context.load_cert_chain(cert_file, key_file)

    @classmethod
    def from_kubeconfig(cls, path, server=None):
        """A client from a kubeconfig file (embedded data or file paths, mapped through host()); server replaces its server."""
        conf = yaml.safe_load(read(path)) or {}
        current = conf.get('current-context')
        context = next((c['context'] for c in conf.get('contexts') or [] if c.get('name') == current), None) or \
            (conf.get('contexts') or [{}])[0].get('context', {})
        cluster = next((c['cluster'] for c in conf.get('clusters') or [] if c.get('name') == context.get('cluster')), None) or \
            (conf.get('clusters') or [{}])[0].get('cluster', {})
        user = next((u['user'] for u in conf.get('users') or [] if u.get('name') == context.get('user')), None) or \
            (conf.get('users') or [{}])[0].get('user', {})

        def data(entry, key):
            if entry.get(key + '-data'):
                return base64.b64decode(entry[key + '-data'])
            return read(entry[key], True) if entry.get(key) else None

        ca = data(cluster, 'certificate-authority')
        return cls(server or cluster['server'], ca, data(user, 'client-certificate'), data(user, 'client-key'), user.get('token'))

    def request(self, method, path, body=None, content_type='application/json', timeout=10):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)
        headers = {'Accept': 'application/json', 'User-Agent': 'kubeadm/%s (linux/amd64) kubernetes/%s' % (VERSION, GIT_COMMIT[:7])}
        if self.token:
            headers['Authorization'] = 'Bearer ' + self.token
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers['Content-Type'] = content_type
        try:
            conn.request(method, path, payload, headers)
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            obj = json.loads(raw.decode() or 'null')
        except ValueError:
            obj = raw.decode(errors='replace')
        if resp.status >= 400:
            message = obj.get('message') if isinstance(obj, dict) else str(obj).strip()
            reason = obj.get('reason', '') if isinstance(obj, dict) else ''
            raise ApiError(resp.status, message or 'the server returned HTTP %d' % resp.status, reason)
        return obj

    def get(self, path):
        return self.request('GET', path)

    def create_or_update(self, path, obj):
        """POST to the collection; on 409 GET the object and PUT it with the current resourceVersion."""
        try:
            return self.request('POST', path, obj)
        except ApiError as exc:
            if exc.status != 409:
                raise
        item = '%s/%s' % (path, quote(obj['metadata']['name'], safe=':'))
        current = self.get(item)
        obj = copy.deepcopy(obj)
        obj['metadata']['resourceVersion'] = current['metadata']['resourceVersion']
        return self.request('PUT', item, obj)


def ns_path(namespace, resource, group='', name=None):
    base = '/api/v1' if not group else '/apis/' + group
    path = '%s/namespaces/%s/%s' % (base, namespace, resource) if namespace else '%s/%s' % (base, resource)
    return path + ('/' + quote(name, safe=':') if name else '')


def api_failure(exc, what):
    return '%s: %s' % (what, exc.message if isinstance(exc, ApiError) else exc)


def admin_client(path=ADMIN_CONF):
    if not exists(path):
        raise KubeadmError('failed to load admin kubeconfig: open %s: no such file or directory' % path)
    return Client.from_kubeconfig(path)


# --- wait-control-plane ------------------------------------------------------------------------

def wait_for(check, timeout, interval=POLL):
    """Call check() until it returns a true value or timeout seconds pass; the value or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (OSError, ApiError, ssl.SSLError, http.client.HTTPException):
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def phase_wait_control_plane(cfg, client):
    say('[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "%s"' % MANIFESTS_DIR)
    say('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s')
    say('[kubelet-check] The kubelet is healthy after 501.235457ms')
    say('[control-plane-check] Waiting for healthy control plane components. This can take up to 4m0s')
    url = 'https://%s/livez' % join_host_port(cfg.advertise, cfg.bind_port)
    say('[control-plane-check] Checking kube-apiserver at %s' % url)
    start = time.monotonic()
    if not wait_for(lambda: client.request('GET', '/livez', timeout=5) is not None, API_WAIT):
        raise KubeadmError('failed while waiting for the control plane to start: kube-apiserver check failed at %s: '
                           'Get "%s?timeout=10s": context deadline exceeded' % (url, url), 'wait-control-plane')
    say('[control-plane-check] kube-apiserver is healthy after %.9fs' % (time.monotonic() - start))


# --- upload-config / upload-certs ------------------------------------------------------------

def _configmap(namespace, cm_name, data):
    return {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': cm_name, 'namespace': namespace}, 'data': data}


def _role(namespace, role_name, rules):
    return {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'Role', 'metadata': {'name': role_name, 'namespace': namespace},
            'rules': rules}


def _binding(namespace, binding_name, role_kind, role_name, subjects):
    kind = 'RoleBinding' if namespace else 'ClusterRoleBinding'
    meta = {'name': binding_name}
    if namespace:
        meta['namespace'] = namespace
    return {'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': kind, 'metadata': meta,
            'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': role_kind, 'name': role_name},
            'subjects': [{'apiGroup': 'rbac.authorization.k8s.io', 'kind': k, 'name': n} for k, n in subjects]}


def _rbac(client, obj):
    ns = obj['metadata'].get('namespace')
    resource = {'Role': 'roles', 'RoleBinding': 'rolebindings', 'ClusterRole': 'clusterroles', 'ClusterRoleBinding': 'clusterrolebindings'}[obj['kind']]
    client.create_or_update(ns_path(ns, resource, 'rbac.authorization.k8s.io/v1'), obj)


def phase_upload_config(cfg, client, kubelet_conf):
    say('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace')
    try:
        client.create_or_update(ns_path('kube-system', 'configmaps'),
                                _configmap('kube-system', 'kubeadm-config', {'ClusterConfiguration': dump(cfg.cluster)}))
        _rbac(client, _role('kube-system', 'kubeadm:nodes-kubeadm-config',
                            [{'apiGroups': [''], 'resources': ['configmaps'], 'resourceNames': ['kubeadm-config'], 'verbs': ['get']}]))
        _rbac(client, _binding('kube-system', 'kubeadm:nodes-kubeadm-config', 'Role', 'kubeadm:nodes-kubeadm-config',
                               [('Group', DEFAULT_TOKEN_GROUP), ('Group', 'system:nodes')]))
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error uploading the kubeadm ClusterConfiguration'), 'upload-config/kubeadm')
    say('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the kubelets in the cluster')
    try:
        client.create_or_update(ns_path('kube-system', 'configmaps'), _configmap('kube-system', 'kubelet-config', {'kubelet': dump(kubelet_conf)}))
        _rbac(client, _role('kube-system', 'kubeadm:kubelet-config',
                            [{'apiGroups': [''], 'resources': ['configmaps'], 'resourceNames': ['kubelet-config'], 'verbs': ['get']}]))
        _rbac(client, _binding('kube-system', 'kubeadm:kubelet-config', 'Role', 'kubeadm:kubelet-config',
                               [('Group', 'system:nodes'), ('Group', DEFAULT_TOKEN_GROUP)]))
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error creating kubelet configuration ConfigMap'), 'upload-config/kubelet')


def record_issued(kind, value):
    """Append a secret this double made to ISSUED_RECORD (the lab's own record, not kubeadm's: the
    scenario's secret search looks for every token and certificate key ever made in its logs)."""
    path = host(ISSUED_RECORD)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'a') as handle:
        handle.write('%s %s\n' % (kind, value))
    return value


def generate_token():
    alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    return record_issued('token', '%s.%s' % (''.join(secrets.choice(alphabet) for _i in range(6)),
                                             ''.join(secrets.choice(alphabet) for _i in range(16))))


def generate_certificate_key():
    return record_issued('certificate-key', secrets.token_hex(32))


def encrypt(data, key_hex):
    """kubeadm's EncryptBytes: AES-256-GCM, the 12-byte nonce prepended to ciphertext+tag."""
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, data, None)


def decrypt(data, key_hex):
    """kubeadm's DecryptBytes; KubeadmError when the key does not open it."""
    if len(data) < 12:
        raise KubeadmError('error decoding secret data with provided key: size of data is less than the nonce')
    try:
        return AESGCM(bytes.fromhex(key_hex)).decrypt(data[:12], data[12:], None)
    except InvalidTag:
        raise KubeadmError('error decoding secret data with provided key: cipher: message authentication failed')


def parse_duration(text):
    """A Go duration ('24h0m0s', '15m', '1h30m', '0') in seconds."""
    text = str(text).strip()
    if text in ('0', ''):
        return 0.0
    units = {'ns': 1e-9, 'us': 1e-6, 'µs': 1e-6, 'ms': 1e-3, 's': 1, 'm': 60, 'h': 3600}
    parts = re.findall(r'(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)', text)
    if not parts or ''.join(n + u for n, u in parts) != text.lstrip('+'):
        raise KubeadmError('time: invalid duration "%s"' % text)
    return sum(float(n) * units[u] for n, u in parts)


def token_secret(token, ttl=86400.0, usages=('signing', 'authentication'), groups=(DEFAULT_TOKEN_GROUP,), description=''):  # pylint: disable=too-many-arguments
    """The bootstrap-token-<id> Secret (bootstrap.kubernetes.io/token) of a token."""
    token_id, token_value = token.split('.')
    data = {'token-id': token_id, 'token-secret': token_value}
    if description:
        data['description'] = description
    if ttl:
        data['expiration'] = rfc3339(now() + datetime.timedelta(seconds=ttl))
    for usage in usages:
        data['usage-bootstrap-%s' % usage] = 'true'
    if groups:
        data['auth-extra-groups'] = ','.join(groups)
    return {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'bootstrap.kubernetes.io/token',
            'metadata': {'name': 'bootstrap-token-' + token_id, 'namespace': 'kube-system'},
            'data': dict((k, b64(v)) for k, v in data.items())}


def upload_certs(client, key_hex):
    """The kubeadm-certs Secret, owned by a 2 h bootstrap token; the Role/RoleBinding letting joins read it."""
    token = generate_token()
    owner = client.create_or_update(ns_path('kube-system', 'secrets'), token_secret(
        token, CERTS_TTL.total_seconds(), usages=(), groups=(), description='Proxy for managing TTL for the kubeadm-certs secret'))
    data = {}
    for rel in SHARED_CERTS:
        if exists(_pki(rel)):
            data[rel.replace('/', '-')] = b64(encrypt(read(_pki(rel), True), key_hex))
    secret = {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
              'metadata': {'name': CERTS_SECRET, 'namespace': 'kube-system',
                           'ownerReferences': [{'apiVersion': 'v1', 'kind': 'Secret', 'name': owner['metadata']['name'],
                                                'uid': owner['metadata'].get('uid', ''), 'controller': True,
                                                'blockOwnerDeletion': True}]},
              'data': data}
    client.create_or_update(ns_path('kube-system', 'secrets'), secret)
    _rbac(client, _role('kube-system', 'kubeadm:kubeadm-certs',
                        [{'apiGroups': [''], 'resources': ['secrets'], 'resourceNames': [CERTS_SECRET], 'verbs': ['get']}]))
    _rbac(client, _binding('kube-system', 'kubeadm:kubeadm-certs', 'Role', 'kubeadm:kubeadm-certs', [('Group', DEFAULT_TOKEN_GROUP)]))


def phase_upload_certs(client, key_hex, skip_print=False):
    say('[upload-certs] Storing the certificates in Secret "%s" in the "kube-system" Namespace' % CERTS_SECRET)
    try:
        upload_certs(client, key_hex)
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error uploading certs'), 'upload-certs')
    if not skip_print:
        say('[upload-certs] Using certificate key:')
        say(key_hex)


# --- mark-control-plane ------------------------------------------------------------------------

def get_node(client, node):
    return client.get(ns_path(None, 'nodes', name=node))


def mark_control_plane(client, node, taints, phase='mark-control-plane'):
    say('[mark-control-plane] Marking the node %s as control-plane by adding the labels: [%s]' % (node, ' '.join(CONTROL_PLANE_LABELS)))
    if taints:
        say('[mark-control-plane] Marking the node %s as control-plane by adding the taints [%s]'
            % (node, ' '.join(taint_string(t) for t in taints)))
    current = wait_for(lambda: get_node(client, node), API_WAIT)
    if not current:
        raise KubeadmError('error patching node "%s" through apiserver: timed out waiting for the condition' % node, phase)
    have = list((current.get('spec') or {}).get('taints') or [])
    for taint in taints:
        if not any(t.get('key') == taint['key'] and t.get('effect') == taint['effect'] for t in have):
            have.append(dict((k, v) for k, v in taint.items() if k in ('key', 'value', 'effect')))
    patch = {'metadata': {'labels': dict((label, '') for label in CONTROL_PLANE_LABELS)}, 'spec': {'taints': have}}
    try:
        client.request('PATCH', ns_path(None, 'nodes', name=node), patch, 'application/strategic-merge-patch+json')
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error patching node "%s" through apiserver' % node), phase)


# --- bootstrap-token -----------------------------------------------------------------------------

def create_tokens(client, tokens, fail_if_exists=False):
    """Create (or update) the Secrets of InitConfiguration.bootstrapTokens entries."""
    for entry in tokens:
        token = entry['token']
        secret = token_secret(token, parse_duration(entry.get('ttl', '24h0m0s')), entry.get('usages') or ('signing', 'authentication'),
                              entry.get('groups') or (DEFAULT_TOKEN_GROUP,), entry.get('description', ''))
        if fail_if_exists:
            try:
                client.get(ns_path('kube-system', 'secrets', name=secret['metadata']['name']))
                raise KubeadmError('a token with id "%s" already exists' % token.split('.')[0])
            except ApiError as exc:
                if exc.status != 404:
                    raise
            client.request('POST', ns_path('kube-system', 'secrets'), secret)
        else:
            client.create_or_update(ns_path('kube-system', 'secrets'), secret)


def cluster_info_kubeconfig(server, ca_pem):
    """kube-public/cluster-info's data.kubeconfig: the cluster only (no user), as kubeadm writes it."""
    return dump({'apiVersion': 'v1', 'kind': 'Config', 'preferences': {}, 'current-context': '', 'contexts': None, 'users': None,
                 'clusters': [{'name': '', 'cluster': {'certificate-authority-data': b64(ca_pem), 'server': server}}]})


def phase_bootstrap_token(cfg, client, skip_print):
    for entry in cfg.tokens:
        if not skip_print:
            say('[bootstrap-token] Using token: %s' % entry['token'])
    say('[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles')
    try:
        create_tokens(client, cfg.tokens)
        bootstrap_token_rbac(client)
        say('[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace')
        ca_pem = read(_pki('ca.crt'), True)
        client.create_or_update(ns_path('kube-public', 'configmaps'), _configmap(
            'kube-public', 'cluster-info', {'kubeconfig': cluster_info_kubeconfig('https://' + cfg.endpoint, ca_pem)}))
        cluster_info_rbac(client)
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error updating or creating token'), 'bootstrap-token')


def bootstrap_token_rbac(client):
    """The RBAC rules for bootstrap tokens (get nodes, post CSRs, auto-approval, rotation), with kubeadm's lines."""
    say('[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes')
    client.create_or_update(ns_path(None, 'clusterroles', 'rbac.authorization.k8s.io/v1'), {
        'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRole', 'metadata': {'name': 'kubeadm:get-nodes'},
        'rules': [{'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['get']}]})
    _rbac(client, _binding(None, 'kubeadm:get-nodes', 'ClusterRole', 'kubeadm:get-nodes', [('Group', DEFAULT_TOKEN_GROUP)]))
    say('[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term '
        'certificate credentials')
    _rbac(client, _binding(None, 'kubeadm:kubelet-bootstrap', 'ClusterRole', 'system:node-bootstrapper', [('Group', DEFAULT_TOKEN_GROUP)]))
    say('[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token')
    _rbac(client, _binding(None, 'kubeadm:node-autoapprove-bootstrap', 'ClusterRole',
                           'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [('Group', DEFAULT_TOKEN_GROUP)]))
    say('[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster')
    _rbac(client, _binding(None, 'kubeadm:node-autoapprove-certificate-rotation', 'ClusterRole',
                           'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [('Group', 'system:nodes')]))


def cluster_info_rbac(client):
    """The Role and RoleBinding letting anonymous users read kube-public/cluster-info."""
    _rbac(client, _role('kube-public', 'kubeadm:bootstrap-signer-clusterinfo',
                        [{'apiGroups': [''], 'resources': ['configmaps'], 'resourceNames': ['cluster-info'], 'verbs': ['get']}]))
    _rbac(client, _binding('kube-public', 'kubeadm:bootstrap-signer-clusterinfo', 'Role', 'kubeadm:bootstrap-signer-clusterinfo',
                           [('User', 'system:anonymous')]))


# --- kubelet-finalize / addons -------------------------------------------------------------------

def phase_kubelet_finalize():
    if not exists(KUBELET_CLIENT_CURRENT) or not exists(KUBELET_CONF):
        return
    say('[kubelet-finalize] Updating "%s" to point to a rotatable kubelet client certificate and key' % KUBELET_CONF)
    conf = yaml.safe_load(read(KUBELET_CONF))
    for user in conf.get('users') or []:
        user['user'] = {'client-certificate': KUBELET_CLIENT_CURRENT, 'client-key': KUBELET_CLIENT_CURRENT}
    write(KUBELET_CONF, dump(conf), 0o600)


def _service_account(namespace, sa_name):
    return {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': sa_name, 'namespace': namespace}}


def addon_coredns(cfg, client):
    repo = cfg.cluster['imageRepository']
    dns_ip = service_ip(cfg.service_subnet, 10)
    labels = {'k8s-app': 'kube-dns'}
    corefile = ('.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes %s in-addr.arpa ip6.arpa {\n'
                '       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n'
                '    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30 {\n       disable success %s\n'
                '       disable denial %s\n    }\n    loop\n    reload\n    loadbalance\n}\n') % ((cfg.dns_domain,) * 3)
    client.create_or_update(ns_path('kube-system', 'configmaps'), _configmap('kube-system', 'coredns', {'Corefile': corefile}))
    client.create_or_update(ns_path(None, 'clusterroles', 'rbac.authorization.k8s.io/v1'), {
        'apiVersion': 'rbac.authorization.k8s.io/v1', 'kind': 'ClusterRole', 'metadata': {'name': 'system:coredns'},
        'rules': [{'apiGroups': [''], 'resources': ['endpoints', 'services', 'pods', 'namespaces'], 'verbs': ['list', 'watch']},
                  {'apiGroups': ['discovery.k8s.io'], 'resources': ['endpointslices'], 'verbs': ['list', 'watch']}]})
    _rbac(client, _binding(None, 'system:coredns', 'ClusterRole', 'system:coredns', []))
    client.create_or_update(ns_path('kube-system', 'serviceaccounts'), _service_account('kube-system', 'coredns'))
    client.create_or_update(ns_path('kube-system', 'deployments', 'apps/v1'), {
        'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'coredns', 'namespace': 'kube-system', 'labels': labels},
        'spec': {'replicas': 2, 'selector': {'matchLabels': labels},
                 'strategy': {'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': 1}},
                 'template': {'metadata': {'labels': labels}, 'spec': {
                     'priorityClassName': 'system-cluster-critical', 'serviceAccountName': 'coredns', 'dnsPolicy': 'Default',
                     'nodeSelector': {'kubernetes.io/os': 'linux'},
                     'tolerations': [{'key': 'CriticalAddonsOnly', 'operator': 'Exists'},
                                     {'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}],
                     'containers': [{'name': 'coredns', 'image': '%s/coredns/coredns:%s' % (repo, COREDNS_TAG),
                                     'args': ['-conf', '/etc/coredns/Corefile'],
                                     'ports': [{'containerPort': 53, 'name': 'dns', 'protocol': 'UDP'},
                                               {'containerPort': 53, 'name': 'dns-tcp', 'protocol': 'TCP'},
                                               {'containerPort': 9153, 'name': 'metrics', 'protocol': 'TCP'}],
                                     'volumeMounts': [{'name': 'config-volume', 'mountPath': '/etc/coredns', 'readOnly': True}]}],
                     'volumes': [{'name': 'config-volume', 'configMap': {'name': 'coredns', 'items': [{'key': 'Corefile', 'path': 'Corefile'}]}}]}}}})
    client.create_or_update(ns_path('kube-system', 'services'), {
        'apiVersion': 'v1', 'kind': 'Service',
        'metadata': {'name': 'kube-dns', 'namespace': 'kube-system',
                     'labels': {'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS'}},
        'spec': {'clusterIP': dns_ip, 'selector': labels,
                 'ports': [{'name': 'dns', 'port': 53, 'protocol': 'UDP', 'targetPort': 53},
                           {'name': 'dns-tcp', 'port': 53, 'protocol': 'TCP', 'targetPort': 53},
                           {'name': 'metrics', 'port': 9153, 'protocol': 'TCP', 'targetPort': 9153}]}})
    say('[addons] Applied essential addon: CoreDNS')


def addon_kube_proxy(cfg, client):
    repo = cfg.cluster['imageRepository']
    proxy = {'apiVersion': KUBEPROXY_API, 'kind': 'KubeProxyConfiguration', 'bindAddress': '0.0.0.0',
             'clientConnection': {'kubeconfig': '/var/lib/kube-proxy/kubeconfig.conf'},
             'clusterCIDR': cfg.cluster['networking'].get('podSubnet', ''), 'mode': ''}
    proxy.update(cfg.kubeproxy_doc or {})
    ca_file = '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt'
    kube = {'apiVersion': 'v1', 'kind': 'Config',
            'clusters': [{'name': 'default', 'cluster': {'certificate-authority': ca_file, 'server': 'https://' + cfg.endpoint}}],
            'contexts': [{'name': 'default', 'context': {'cluster': 'default', 'namespace': 'default', 'user': 'default'}}],
            'current-context': 'default',
            'users': [{'name': 'default', 'user': {'tokenFile': '/var/run/secrets/kubernetes.io/serviceaccount/token'}}]}
    client.create_or_update(ns_path('kube-system', 'configmaps'), _configmap(
        'kube-system', 'kube-proxy', {'config.conf': dump(proxy), 'kubeconfig.conf': dump(kube)}))
    client.create_or_update(ns_path('kube-system', 'serviceaccounts'), _service_account('kube-system', 'kube-proxy'))
    _rbac(client, _binding(None, 'kubeadm:node-proxier', 'ClusterRole', 'system:node-proxier', []))
    labels = {'k8s-app': 'kube-proxy'}
    client.create_or_update(ns_path('kube-system', 'daemonsets', 'apps/v1'), {
        'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': 'kube-proxy', 'namespace': 'kube-system', 'labels': labels},
        'spec': {'selector': {'matchLabels': labels}, 'updateStrategy': {'type': 'RollingUpdate'},
                 'template': {'metadata': {'labels': labels}, 'spec': {
                     'hostNetwork': True, 'priorityClassName': 'system-node-critical', 'serviceAccountName': 'kube-proxy',
                     'nodeSelector': {'kubernetes.io/os': 'linux'}, 'tolerations': [{'operator': 'Exists'}],
                     'containers': [{'name': 'kube-proxy', 'image': '%s/kube-proxy:%s' % (repo, cfg.cluster['kubernetesVersion']),
                                     'command': ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf',
                                                 '--hostname-override=$(NODE_NAME)'],
                                     'securityContext': {'privileged': True},
                                     'volumeMounts': [{'name': 'kube-proxy', 'mountPath': '/var/lib/kube-proxy'}]}],
                     'volumes': [{'name': 'kube-proxy', 'configMap': {'name': 'kube-proxy'}}]}}}})
    say('[addons] Applied essential addon: kube-proxy')


def phase_addons(cfg, client):
    try:
        if not (cfg.cluster.get('dns') or {}).get('disabled'):
            addon_coredns(cfg, client)
        if not (cfg.cluster.get('proxy') or {}).get('disabled'):
            addon_kube_proxy(cfg, client)
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'unable to create addon objects'), 'addon')


# --- preflight -----------------------------------------------------------------------------------

def _check_name(path):
    return path.strip('/').replace('/', '-')


def check_root():
    if ROOT:
        return []
    return [] if os.geteuid() == 0 else [('IsPrivilegedUser', 'user is not running as root')]


def check_swap(failing=True):
    try:
        lines = read('/proc/swaps').splitlines()
    except OSError:
        return []
    if len([line for line in lines[1:] if line.strip()]) == 0:
        return []
    if not failing:
        return [('Swap', 'swap is supported for cgroup v2 only. Please use --v=4 or higher to see details', 'warning')]
    return [('Swap', 'running with swap on is not supported. Please disable swap')]


def check_file_content(path, want='1'):
    try:
        content = read(path).strip()
    except OSError:
        return [('FileContent--' + _check_name(path), '%s does not exist' % path)]
    if content != want:
        return [('FileContent--' + _check_name(path), '%s contents are not set to %s' % (path, want))]
    return []


def check_port(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(('0.0.0.0', port))
            sock.listen(1)
        except OSError:
            return [('Port-%d' % port, 'Port %d is in use' % port)]
    return []


def check_file_available(path):
    return [('FileAvailable--' + _check_name(path), '%s already exists' % path)] if exists(path) else []


def check_dir_available(path):
    target = host(path)
    if os.path.isdir(target) and os.listdir(target):
        return [('DirAvailable--' + _check_name(path), '%s is not empty' % path)]
    return []


def check_cri(cri_socket):
    path = cri_socket[len('unix://'):] if cri_socket.startswith('unix://') else cri_socket
    target = host(path)
    if os.path.exists(target) and not os.path.isdir(target):
        return []
    return [('CRI', 'could not connect to the container runtime: failed to create new CRI runtime service: validate service '
                    'connection: validate CRI v1 runtime API for endpoint "%s": rpc error: code = Unavailable desc = connection '
                    'error: desc = "transport: Error while dialing: dial unix %s: connect: no such file or directory"'
             % (cri_socket, path))]


def control_plane_checks(bind_port, etcd_dir=ETCD_DIR):
    found = []
    for port in (bind_port, 10259, 10257):
        found += check_port(port)
    for component in COMPONENTS + ('etcd',):
        found += check_file_available('%s/%s.yaml' % (MANIFESTS_DIR, component))
    for port in (2379, 2380):
        found += check_port(port)
    found += check_dir_available(etcd_dir)
    return found


def node_checks(cri_socket, fail_swap=True):
    return (check_cri(cri_socket) + check_swap(fail_swap) + check_file_content('/proc/sys/net/ipv4/ip_forward')
            + check_port(10250))


def report_preflight(found, ignored, phase='preflight', intro='[preflight] Some fatal errors occurred:'):
    """Print warnings for ignored or soft checks; KubeadmError for the fatal ones."""
    ignore = set(i.lower() for i in ignored)
    fatal = []
    for item in found:
        check, message = item[0], item[1]
        if len(item) > 2 or 'all' in ignore or check.lower() in ignore:
            warn('\t[WARNING %s]: %s' % (check, message))
        else:
            fatal.append('\t[ERROR %s]: %s' % (check, message))
    if fatal:
        raise KubeadmError('%s\n%s\n[preflight] If you know what you are doing, you can make a check non-fatal with '
                           '`--ignore-preflight-errors=...`' % (intro, '\n'.join(fatal)), phase)


def root_preflight(ignored):
    report_preflight(check_root(), ignored)


# --- init ----------------------------------------------------------------------------------------

INIT_FLAGS = {'config': 'str', 'upload-certs': 'bool', 'skip-token-print': 'bool', 'skip-certificate-key-print': 'bool',
              'certificate-key': 'str', 'ignore-preflight-errors': 'list', 'dry-run': 'bool', 'node-name': 'str',
              'apiserver-advertise-address': 'str', 'apiserver-bind-port': 'str', 'cri-socket': 'str',
              'control-plane-endpoint': 'str', 'pod-network-cidr': 'str', 'service-cidr': 'str', 'kubernetes-version': 'str',
              'token': 'str', 'token-ttl': 'str', 'skip-phases': 'list', 'kubeconfig': 'str', 'apiserver-cert-extra-sans': 'list'}
CONFIG_CONFLICTS = ('node-name', 'apiserver-advertise-address', 'apiserver-bind-port', 'cri-socket', 'control-plane-endpoint',
                    'pod-network-cidr', 'service-cidr', 'kubernetes-version', 'token', 'token-ttl', 'apiserver-cert-extra-sans')


def init_config(flags):
    """The InitConfig of --config or of the flags (kubeadm refuses both together)."""
    path = flags.get('config')
    if path:
        mixed = [name for name in CONFIG_CONFLICTS if name in flags.values]
        if mixed:
            raise KubeadmError("can not mix '--config' with arguments %s" % json.dumps(mixed).replace('"', ''))
        found = classify(load_documents(path))
        if 'InitConfiguration' not in found and 'ClusterConfiguration' not in found:
            raise KubeadmError('no InitConfiguration or ClusterConfiguration kind was found in the YAML file')
        return InitConfig(found)
    init = {'apiVersion': V1BETA4, 'kind': 'InitConfiguration',
            'nodeRegistration': {'name': flags.get('node-name'), 'criSocket': flags.get('cri-socket')},
            'localAPIEndpoint': {'advertiseAddress': flags.get('apiserver-advertise-address'), 'bindPort': flags.get('apiserver-bind-port')}}
    if flags.get('token'):
        init['bootstrapTokens'] = [{'token': flags.get('token'), 'ttl': flags.get('token-ttl', '24h0m0s')}]
    cluster = {'apiVersion': V1BETA4, 'kind': 'ClusterConfiguration', 'networking': {}}
    for flag, key in (('control-plane-endpoint', 'controlPlaneEndpoint'), ('kubernetes-version', 'kubernetesVersion')):
        if flags.get(flag):
            cluster[key] = flags.get(flag)
    for flag, key in (('pod-network-cidr', 'podSubnet'), ('service-cidr', 'serviceSubnet')):
        if flags.get(flag):
            cluster['networking'][key] = flags.get(flag)
    if flags.get('apiserver-cert-extra-sans'):
        cluster['apiServer'] = {'certSANs': flags.get('apiserver-cert-extra-sans')}
    return InitConfig({'InitConfiguration': init, 'ClusterConfiguration': cluster})


def check_control_plane_version(version):
    """kubeadm's window of control-plane versions: its own minor and the one before (MinimumControlPlaneVersion)."""
    match = re.match(r'^v?(\d+)\.(\d+)\.(\d+)', str(version))
    if match and (int(match.group(1)), int(match.group(2))) < MINIMUM_CONTROL_PLANE[:2]:
        raise KubeadmError('this version of kubeadm only supports deploying clusters with the control plane version >= %d.%d.%d. '
                           'Current version: %s' % (MINIMUM_CONTROL_PLANE + (version,)))
    if not match or (int(match.group(1)), int(match.group(2))) > KUBEADM_VERSION[:2]:
        raise KubeadmError('the specified version to deploy (%s) is not supported by this kubeadm version (%s)' % (version, VERSION[1:]))


def validate_init(cfg):
    """The checks of kubeadm's ValidateInitConfiguration that the double makes (tokens, key, version, CIDRs)."""
    problems = []
    for index, entry in enumerate(cfg.tokens):
        if not TOKEN_RE.match(str(entry.get('token', ''))):
            problems.append('bootstrapTokens[%d].token: Invalid value: "": the bootstrap token is invalid' % index)
    if cfg.certificate_key and not CERT_KEY_RE.match(cfg.certificate_key):
        problems.append('certificateKey: Invalid value: "": certificate key size must be 32 bytes')
    version = cfg.cluster.get('kubernetesVersion')
    check_control_plane_version(version)
    for key in ('serviceSubnet', 'podSubnet'):
        value = cfg.cluster['networking'].get(key)
        for part in (value.split(',') if value else []):
            try:
                ipaddress.ip_network(part.strip(), strict=False)
            except ValueError:
                problems.append('networking.%s: Invalid value: "%s": couldn\'t parse subnet' % (key, value))
    try:
        ipaddress.ip_address(cfg.advertise)
    except ValueError:
        problems.append('localAPIEndpoint.advertiseAddress: Invalid value: "%s": couldn\'t use "%s" as "apiserver-advertise-address", '
                        'must be ipv4 or ipv6 address' % (cfg.advertise, cfg.advertise))
    if problems:
        raise KubeadmError('[' + ', '.join(problems) + ']')


def init_preflight(cfg, ignored):
    say('[preflight] Running pre-flight checks')
    fail_swap = cfg.kubelet_doc.get('failSwapOn', True) is not False
    found = control_plane_checks(cfg.bind_port, cfg.cluster['etcd']['local'].get('dataDir', ETCD_DIR))
    found += node_checks(cfg.registration['criSocket'], fail_swap)
    report_preflight(found, ignored)
    say('[preflight] Pulling images required for setting up a Kubernetes cluster')
    say('[preflight] This might take a minute or two, depending on the speed of your internet connection')
    say("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")


def print_init_success(cfg, ca_hash, key, skip_token_print):
    token = cfg.tokens[0]['token'] if cfg.tokens and not skip_token_print else '<value withheld>'
    say()
    say('Your Kubernetes control-plane has initialized successfully!')
    say()
    say('To start using your cluster, you need to run the following as a regular user:')
    say()
    say('  mkdir -p $HOME/.kube')
    say('  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config')
    say('  sudo chown $(id -u):$(id -g) $HOME/.kube/config')
    say()
    say('Alternatively, if you are the root user, you can run:')
    say()
    say('  export KUBECONFIG=/etc/kubernetes/admin.conf')
    say()
    say('You should now deploy a pod network to the cluster.')
    say('Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:')
    say('  https://kubernetes.io/docs/concepts/cluster-administration/addons/')
    say()
    if key:
        say('You can now join any number of control-plane nodes running the following command on each as root:')
    else:
        say('You can now join any number of control-plane nodes by copying certificate authorities')
        say('and service account keys on each node and then running the following as root:')
    say()
    say('  kubeadm join %s --token %s \\' % (cfg.endpoint, token))
    say('\t--discovery-token-ca-cert-hash %s \\' % ca_hash)
    say('\t--control-plane%s' % (' --certificate-key %s' % key if key else ''))
    say()
    if key:
        say('Please note that the certificate-key gives access to cluster sensitive data, keep it secret!')
        say('As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use')
        say('"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.')
        say()
    say('Then you can join any number of worker nodes by running the following on each as root:')
    say()
    say('kubeadm join %s --token %s \\' % (cfg.endpoint, token))
    say('\t--discovery-token-ca-cert-hash %s ' % ca_hash)


def cmd_init(argv):
    if argv[:1] == ['phase']:
        return cmd_init_phase(argv[1:])
    flags = parse_flags(argv, INIT_FLAGS)
    if flags.args:
        raise KubeadmError('unknown command "%s" for "kubeadm init"' % flags.args[0])
    ignored = flags.get('ignore-preflight-errors', [])
    cfg = init_config(flags)
    validate_init(cfg)
    if not cfg.tokens:
        cfg.tokens = [{'token': generate_token(), 'ttl': '24h0m0s'}]
    key = ''
    if flags.get('upload-certs'):
        key = flags.get('certificate-key') or cfg.certificate_key or generate_certificate_key()
        if not CERT_KEY_RE.match(key):
            raise KubeadmError('invalid certificate key: encoding/hex: invalid byte')
    say('[init] Using Kubernetes version: %s' % cfg.cluster['kubernetesVersion'])
    root_preflight(ignored)
    init_preflight(cfg, ignored)
    cas = phase_certs(cfg)
    phase_kubeconfig(cfg, cas)
    phase_etcd(cfg)
    phase_control_plane(cfg)
    kubelet_conf = kubelet_cluster_config(cfg.kubelet_doc, cfg.cluster)
    phase_kubelet_start(cfg.registration, kubelet_conf)
    client = Client.from_kubeconfig(ADMIN_CONF)
    phase_wait_control_plane(cfg, client)
    phase_upload_config(cfg, client, kubelet_conf)
    if key:
        phase_upload_certs(client, key, flags.get('skip-certificate-key-print'))
    else:
        say('[upload-certs] Skipping phase. Please see --upload-certs')
    mark_control_plane(client, cfg.node, cfg.registration['taints'])
    phase_bootstrap_token(cfg, client, flags.get('skip-token-print'))
    phase_kubelet_finalize()
    phase_addons(cfg, client)
    print_init_success(cfg, spki_hash(cas['ca'][0]), key if not flags.get('skip-certificate-key-print') else '<value withheld>' if key else '',
                       flags.get('skip-token-print'))
    return 0


def cmd_init_phase(argv):
    if argv[:1] != ['upload-certs']:
        raise KubeadmError('the double supports only "kubeadm init phase upload-certs"; got "%s"' % ' '.join(argv[:1]))
    flags = parse_flags(argv[1:], {'upload-certs': 'bool', 'certificate-key': 'str', 'config': 'str', 'kubeconfig': 'str',
                                   'skip-certificate-key-print': 'bool', 'dry-run': 'bool'})
    if not flags.get('upload-certs'):
        say('[upload-certs] Skipping phase. Please see --upload-certs')
        return 0
    key = flags.get('certificate-key')
    if not key and flags.get('config'):
        found = classify(load_documents(flags.get('config')))
        key = (found.get('InitConfiguration') or {}).get('certificateKey')
    key = key or generate_certificate_key()
    if not CERT_KEY_RE.match(key):
        raise KubeadmError('invalid certificate key: encoding/hex: invalid byte', 'upload-certs')
    client = admin_client(flags.get('kubeconfig', ADMIN_CONF))
    phase_upload_certs(client, key, flags.get('skip-certificate-key-print'))
    return 0


# --- join ----------------------------------------------------------------------------------------

JOIN_FLAGS = {'config': 'str', 'token': 'str', 'discovery-token': 'str', 'tls-bootstrap-token': 'str',
              'discovery-token-ca-cert-hash': 'list', 'discovery-token-unsafe-skip-ca-verification': 'bool',
              'control-plane': 'bool', 'certificate-key': 'str', 'ignore-preflight-errors': 'list', 'node-name': 'str',
              'apiserver-advertise-address': 'str', 'apiserver-bind-port': 'str', 'cri-socket': 'str', 'dry-run': 'bool',
              'skip-phases': 'list', 'discovery-file': 'str'}


def join_config(flags):
    """The defaulted JoinConfiguration of --config or of the flags."""
    if flags.get('config'):
        mixed = [n for n in ('token', 'discovery-token', 'discovery-token-ca-cert-hash', 'control-plane', 'certificate-key', 'node-name',
                             'apiserver-advertise-address', 'apiserver-bind-port', 'cri-socket') if n in flags.values]
        if mixed or flags.args:
            raise KubeadmError("can not mix '--config' with arguments %s" % json.dumps(mixed + (['discovery-token-apiserver'] if flags.args else []))
                               .replace('"', ''))
        found = classify(load_documents(flags.get('config')))
        if 'JoinConfiguration' not in found:
            raise KubeadmError('no JoinConfiguration kind was found in the YAML file')
        join = copy.deepcopy(found['JoinConfiguration'])
    else:
        token = flags.get('token')
        discovery = {'bootstrapToken': {'apiServerEndpoint': flags.args[0] if flags.args else '',
                                        'token': flags.get('discovery-token') or token,
                                        'caCertHashes': flags.get('discovery-token-ca-cert-hash', []),
                                        'unsafeSkipCAVerification': flags.get('discovery-token-unsafe-skip-ca-verification', False)},
                     'tlsBootstrapToken': flags.get('tls-bootstrap-token') or token}
        join = {'apiVersion': V1BETA4, 'kind': 'JoinConfiguration', 'discovery': discovery,
                'nodeRegistration': {'name': flags.get('node-name'), 'criSocket': flags.get('cri-socket')}}
        if flags.get('control-plane'):
            join['controlPlane'] = {'certificateKey': flags.get('certificate-key', ''),
                                    'localAPIEndpoint': {'advertiseAddress': flags.get('apiserver-advertise-address'),
                                                         'bindPort': flags.get('apiserver-bind-port')}}
    discovery = join.setdefault('discovery', {})
    bootstrap = discovery.get('bootstrapToken') or {}
    if not bootstrap.get('token') and not discovery.get('file'):
        raise KubeadmError('discovery: Invalid value: "": bootstrapToken or file must be set')
    if discovery.get('file'):
        raise KubeadmError('the double supports only bootstrap token discovery (discovery.file is not simulated)')
    if not bootstrap.get('apiServerEndpoint'):
        raise KubeadmError('discovery.bootstrapToken.apiServerEndpoint: Invalid value: "": discovery.bootstrapToken.apiServerEndpoint '
                           'or discovery.file.kubeConfigPath must be set')
    if not TOKEN_RE.match(str(bootstrap.get('token'))):
        raise KubeadmError('discovery.bootstrapToken.token: Invalid value: "": the bootstrap token is invalid')
    if not bootstrap.get('caCertHashes') and not bootstrap.get('unsafeSkipCAVerification'):
        raise KubeadmError('discovery.bootstrapToken.caCertHashes: Invalid value: []string(nil): using token-based discovery without '
                           'caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass '
                           '--discovery-token-unsafe-skip-ca-verification flag to continue')
    discovery['tlsBootstrapToken'] = discovery.get('tlsBootstrapToken') or bootstrap['token']
    control_plane = join.get('controlPlane')
    join['nodeRegistration'] = default_registration(join.get('nodeRegistration'), control_plane is not None)
    if control_plane is not None:
        endpoint = control_plane.setdefault('localAPIEndpoint', {}) or {}
        control_plane['localAPIEndpoint'] = endpoint
        endpoint['advertiseAddress'] = endpoint.get('advertiseAddress') or default_address()
        endpoint['bindPort'] = int(endpoint.get('bindPort') or 6443)
        key = control_plane.get('certificateKey') or ''
        if key and not CERT_KEY_RE.match(key):
            raise KubeadmError('controlPlane.certificateKey: Invalid value: "": certificate key size must be 32 bytes')
    return join


def parse_jws_header(detached):
    parts = detached.split('.')
    if len(parts) != 3 or parts[1] != '':
        raise ValueError('not a detached JWS')
    return json.loads(base64.urlsafe_b64decode(parts[0] + '=' * (-len(parts[0]) % 4)))


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def compute_detached_signature(content, token_id, token_secret_value):
    """k8s.io/cluster-bootstrap jws.ComputeDetachedSignature: HS256 JWS over content, keyed by the token secret,
    header {"alg":"HS256","kid":<token id>}, the payload left out (header..signature)."""
    header = _b64url(json.dumps({'alg': 'HS256', 'kid': token_id}, separators=(',', ':'), sort_keys=True).encode())
    signing_input = ('%s.%s' % (header, _b64url(content.encode()))).encode()
    signature = _b64url(hmac.new(token_secret_value.encode(), signing_input, hashlib.sha256).digest())
    return '%s..%s' % (header, signature)


def verify_detached_signature(detached, content, token_id, token_secret_value):
    """jws.DetachedTokenIsValid: the detached JWS verifies over content with the token (HS256, kid = token id)."""
    try:
        header = parse_jws_header(detached)
    except (ValueError, TypeError):
        return False
    if header.get('alg') != 'HS256' or header.get('kid', token_id) != token_id:
        return False
    head = detached.split('.')[0]
    signing_input = ('%s.%s' % (head, _b64url(content.encode()))).encode()
    want = _b64url(hmac.new(token_secret_value.encode(), signing_input, hashlib.sha256).digest())
    return hmac.compare_digest(want, detached.split('.')[2])


def check_ca_pins(ca_pem, pins):
    """The pubkeypin check: the CA's SPKI sha256 among pins; the error kubeadm prints otherwise."""
    cert = x509.load_pem_x509_certificate(ca_pem)
    actual = spki_hash(cert)
    wanted = set(p.lower() for p in pins)
    if actual.lower() not in wanted:
        raise KubeadmError('cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "%s" are pinned' % actual)
    return actual


def parse_cluster_info(kubeconfig_text):
    conf = yaml.safe_load(kubeconfig_text) or {}
    clusters = conf.get('clusters') or []
    if not clusters:
        raise KubeadmError('the cluster-info ConfigMap does not hold a cluster')
    cluster = clusters[0].get('cluster') or {}
    return cluster.get('server'), base64.b64decode(cluster.get('certificate-authority-data', ''))


def discover(bootstrap, timeout=DISCOVERY_WAIT, interval=DISCOVERY_INTERVAL):
    """Token discovery: cluster-info fetched without credentials nor TLS verification, its JWS checked with the token,
    the CA checked against the pins, then fetched again over verified TLS. (server, CA PEM)."""
    token = bootstrap['token']
    token_id, token_value = TOKEN_RE.match(token).groups()
    endpoint = bootstrap['apiServerEndpoint']
    path = ns_path('kube-public', 'configmaps', name='cluster-info')
    insecure = Client('https://' + endpoint)
    last = ['']

    def fetch():
        try:
            cm = insecure.get(path)
        except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
            last[0] = 'failed to request the cluster-info ConfigMap: %s' % (exc.message if isinstance(exc, ApiError) else exc)
            warn('[discovery] Failed to request cluster-info, will try again: %s' % last[0])
            return None
        if 'jws-kubeconfig-' + token_id not in (cm.get('data') or {}):
            last[0] = 'could not find a JWS signature in the cluster-info ConfigMap for token ID "%s"' % token_id
            return None
        return cm

    cm = wait_for(fetch, timeout, interval)
    if cm is None:
        raise KubeadmError("couldn't validate the identity of the API Server: %s" % last[0], 'preflight')
    text = cm['data'].get('kubeconfig', '')
    if not verify_detached_signature(cm['data']['jws-kubeconfig-' + token_id], text, token_id, token_value):
        raise KubeadmError("couldn't validate the identity of the API Server: failed to verify JWS signature of received cluster info "
                           "object, can't trust this API Server", 'preflight')
    server, ca_pem = parse_cluster_info(text)
    if not bootstrap.get('unsafeSkipCAVerification'):
        try:
            check_ca_pins(ca_pem, bootstrap.get('caCertHashes') or [])
        except KubeadmError as exc:
            raise KubeadmError("couldn't validate the identity of the API Server: " + exc.message, 'preflight')
    say('[discovery] Cluster info signature and contents are valid and TLS certificate validates against pinned roots, will use API '
        'Server "%s"' % endpoint)
    try:
        secure = Client('https://' + endpoint, ca_pem).get(path)
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError("couldn't validate the identity of the API Server: failed to request the cluster-info ConfigMap: %s" % exc,
                           'preflight')
    if (secure.get('data') or {}).get('kubeconfig') != text:
        raise KubeadmError("couldn't validate the identity of the API Server: the second cluster-info ConfigMap did not match the "
                           "first", 'preflight')
    return server or 'https://' + endpoint, ca_pem


def download_certs(client, key_hex):
    """The kubeadm-certs Secret decrypted with the certificate key, written under /etc/kubernetes/pki."""
    say('[download-certs] Downloading the certificates in Secret "%s" in the "kube-system" Namespace' % CERTS_SECRET)
    try:
        secret = client.get(ns_path('kube-system', 'secrets', name=CERTS_SECRET))
    except ApiError as exc:
        if exc.status == 404:
            raise KubeadmError('error downloading certs: error downloading the secret: Secret "%s" was not found in the "kube-system" '
                               'Namespace. This Secret might have expired. Please, run `kubeadm init phase upload-certs '
                               '--upload-certs` on a control plane to generate a new one' % CERTS_SECRET, 'control-plane-prepare/download-certs')
        raise KubeadmError(api_failure(exc, 'error downloading certs: error downloading the secret'), 'control-plane-prepare/download-certs')
    files = {}
    for rel in SHARED_CERTS:
        data = (secret.get('data') or {}).get(rel.replace('/', '-'))
        if data is None:
            continue
        try:
            files[rel] = decrypt(base64.b64decode(data), key_hex)
        except KubeadmError as exc:
            raise KubeadmError('error downloading certs: error decoding certs: ' + exc.message, 'control-plane-prepare/download-certs')
    say('[download-certs] Saving the certificates to the folder: "%s"' % PKI_DIR)
    for rel, data in files.items():
        write(_pki(rel), data, 0o600 if rel.endswith('.key') else 0o644)


class JoinControlPlane(InitConfig):  # pylint: disable=too-few-public-methods,too-many-instance-attributes
    """The InitConfig-like view of a control-plane join: the cluster's ClusterConfiguration + this node."""

    def __init__(self, join, cluster):  # pylint: disable=super-init-not-called
        endpoint = join['controlPlane']['localAPIEndpoint']
        self.api = V1BETA4
        self.registration = join['nodeRegistration']
        self.advertise, self.bind_port = endpoint['advertiseAddress'], endpoint['bindPort']
        self.tokens, self.certificate_key, self.skip_phases = [], join['controlPlane'].get('certificateKey', ''), []
        self.cluster = default_cluster(cluster, self.advertise, self.bind_port)
        self.kubelet_doc, self.kubeproxy_doc = {}, {}
        self.node = self.registration['name']
        self.endpoint = self.cluster['controlPlaneEndpoint']


def wait_tls_bootstrap(node):
    """The kubelet's TLS bootstrap: kubelet.conf appears and this node's Node object exists."""
    def done():
        if not exists(KUBELET_CONF):
            return None
        client = Client.from_kubeconfig(KUBELET_CONF)
        return get_node(client, node)
    if not wait_for(done, API_WAIT):
        raise KubeadmError('error waiting for the kubelet to perform the TLS Bootstrap: timed out waiting for the condition', 'kubelet-start')


def join_preflight(join, ignored):
    say('[preflight] Running pre-flight checks')
    reg = join['nodeRegistration']
    found = node_checks(reg['criSocket'])
    found = found[:1] + check_file_available(KUBELET_CONF) + check_file_available(BOOTSTRAP_KUBELET_CONF) + \
        check_dir_available(MANIFESTS_DIR) + check_file_available(PKI_DIR + '/ca.crt') + found[1:]
    report_preflight(found, ignored)


def cmd_join(argv):
    flags = parse_flags(argv, JOIN_FLAGS)
    ignored = flags.get('ignore-preflight-errors', [])
    join = join_config(flags)
    root_preflight(ignored)
    join_preflight(join, ignored)
    bootstrap = join['discovery']['bootstrapToken']
    server, ca_pem = discover(bootstrap)
    tls_token = join['discovery']['tlsBootstrapToken']
    client = Client(server, ca_pem, token=tls_token)
    say('[preflight] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    say("[preflight] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.")
    try:
        cluster = yaml.safe_load(client.get(ns_path('kube-system', 'configmaps', name='kubeadm-config'))['data']['ClusterConfiguration'])
    except (ApiError, OSError, KeyError, TypeError) as exc:
        raise KubeadmError(api_failure(exc, 'unable to fetch the kubeadm-config ConfigMap'), 'preflight')
    control_plane = join.get('controlPlane') is not None
    cfg = None
    if control_plane:
        cfg = JoinControlPlane(join, cluster)
        say('[preflight] Running pre-flight checks before initializing the new control plane instance')
        report_preflight(control_plane_checks(cfg.bind_port, cfg.cluster['etcd']['local'].get('dataDir', ETCD_DIR)), ignored)
        say('[preflight] Pulling images required for setting up a Kubernetes cluster')
        say('[preflight] This might take a minute or two, depending on the speed of your internet connection')
        say("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
        if not cfg.certificate_key:
            raise KubeadmError('[certs] the certificate key is required to download the certificates (--certificate-key)',
                               'control-plane-prepare/download-certs')
        download_certs(client, cfg.certificate_key)
        cas = phase_certs(cfg)
        say('[certs] Valid certificates and keys now exist in "%s"' % PKI_DIR)
        say('[kubeconfig] Generating kubeconfig files')
        phase_kubeconfig(cfg, cas, join=True)
        phase_control_plane(cfg)
        say('[check-etcd] Checking that the etcd cluster is healthy')
    say('[kubelet-start] Writing kubelet configuration to file "%s"' % KUBELET_CONFIG)
    try:
        kubelet_text = client.get(ns_path('kube-system', 'configmaps', name='kubelet-config'))['data']['kubelet']
    except (ApiError, OSError, KeyError, TypeError) as exc:
        raise KubeadmError(api_failure(exc, 'error downloading kubelet configuration from the ConfigMap "kubelet-config" in the '
                                            'kube-system namespace'), 'kubelet-start')
    kubelet_conf = yaml.safe_load(kubelet_text) or {}
    kubelet_conf['containerRuntimeEndpoint'] = join['nodeRegistration']['criSocket']
    write(KUBELET_CONFIG, dump(kubelet_conf), 0o644)
    say('[kubelet-start] Writing kubelet environment file with flags to file "%s"' % KUBELET_FLAGS)
    write(KUBELET_FLAGS, kubelet_flags(join['nodeRegistration']), 0o644)
    cluster_name = cluster.get('clusterName', 'kubernetes')
    write(BOOTSTRAP_KUBELET_CONF, dump(kubeconfig(server, ca_pem, 'tls-bootstrap-token-user', token=tls_token, cluster=cluster_name)), 0o600)
    say('[kubelet-start] Starting the kubelet')
    ok, output = systemctl('restart', 'kubelet')
    if not ok:
        warn('[kubelet-start] WARNING: unable to start the kubelet service: [couldn\'t restart service: %s]' % output)
    say('[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s')
    say('[kubelet-check] The kubelet is healthy after 1.001246318s')
    say('[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap')
    wait_tls_bootstrap(join['nodeRegistration']['name'])
    if control_plane:
        join_etcd(cfg, admin_client())
        mark_control_plane(admin_client(), cfg.node, cfg.registration['taints'], 'control-plane-join/mark-control-plane')
        print_join_control_plane()
    else:
        print_join_worker()
    return 0


def print_join_worker():
    say()
    say('This node has joined the cluster:')
    say('* Certificate signing request was sent to apiserver and a response was received.')
    say('* The Kubelet was informed of the new secure connection details.')
    say()
    say("Run 'kubectl get nodes' on the control-plane to see this node join the cluster.")
    say()


def print_join_control_plane():
    say()
    say('This node has joined the cluster and a new control plane instance was created:')
    say()
    say('* Certificate signing request was sent to apiserver and approval was received.')
    say('* The Kubelet was informed of the new secure connection details.')
    say('* Control plane label and taint were applied to the new node.')
    say('* The Kubernetes control plane instances scaled up.')
    say('* A new etcd member was added to the local/stacked etcd cluster.')
    say()
    say('To start administering your cluster from this node, you need to run the following as a regular user:')
    say()
    say('\tmkdir -p $HOME/.kube')
    say('\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config')
    say('\tsudo chown $(id -u):$(id -g) $HOME/.kube/config')
    say()
    say("Run 'kubectl get nodes' to see this node join the cluster.")
    say()


# --- token / certs -------------------------------------------------------------------------------

def short_duration(seconds):
    """apimachinery duration.ShortHumanDuration."""
    if seconds < -1:
        return '<invalid>'
    if seconds < 0:
        return '0s'
    if seconds < 60:
        return '%ds' % seconds
    if seconds < 3600:
        return '%dm' % (seconds // 60)
    if seconds < 48 * 3600:
        return '%dh' % (seconds // 3600)
    if seconds < 365 * 86400:
        return '%dd' % (seconds // 86400)
    return '%dy' % (seconds // (365 * 86400))


def join_command(kubeconfig_path, token):
    conf = yaml.safe_load(read(kubeconfig_path)) or {}
    cluster = (conf.get('clusters') or [{}])[0].get('cluster') or {}
    ca = x509.load_pem_x509_certificate(base64.b64decode(cluster.get('certificate-authority-data', '')))
    endpoint = urlsplit(cluster.get('server', '')).netloc
    return 'kubeadm join %s --token %s --discovery-token-ca-cert-hash %s ' % (endpoint, token, spki_hash(ca))


def token_table(items):
    rows = [('TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS')]
    for secret in items:
        data = dict((k, base64.b64decode(v).decode()) for k, v in (secret.get('data') or {}).items())
        if not TOKEN_ID_RE.match(data.get('token-id', '')):
            continue
        expires = data.get('expiration')
        if expires:
            when = datetime.datetime.strptime(expires, '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
            ttl = short_duration((when - now()).total_seconds())
        else:
            ttl, expires = '<forever>', '<never>'
        usages = ','.join(sorted(k[len('usage-bootstrap-'):] for k, v in data.items() if k.startswith('usage-bootstrap-') and v == 'true'))
        rows.append(('%s.%s' % (data['token-id'], data.get('token-secret', '')), ttl, expires, usages or '<none>',
                     data.get('description') or '<none>', data.get('auth-extra-groups', '')))
    widths = [max(10, max(len(row[i]) for row in rows) + 3) for i in range(5)]
    return '\n'.join(''.join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + row[5] for row in rows)


def cmd_token(argv):
    sub = argv[0] if argv else ''
    spec = {'kubeconfig': 'str', 'dry-run': 'bool', 'ttl': 'str', 'print-join-command': 'bool', 'description': 'str',
            'groups': 'list', 'usages': 'list', 'config': 'str', 'certificate-key': 'str', 'output': 'str',
            'allow-missing-template-keys': 'bool', 'show-managed-fields': 'bool'}
    flags = parse_flags(argv[1:], spec, {'o': 'output'})
    kubeconfig_path = flags.get('kubeconfig', ADMIN_CONF)
    if sub == 'generate':
        say(generate_token())
        return 0
    if sub == 'create':
        token = flags.args[0] if flags.args else generate_token()
        if not TOKEN_RE.match(token):
            raise KubeadmError('the bootstrap token "%s" was not of the form "^([a-z0-9]{6})\\.([a-z0-9]{16})$"' % token)
        ttl = parse_duration(flags.get('ttl', '24h0m0s'))
        usages = flags.get('usages') or ['signing', 'authentication']
        for usage in usages:
            if usage not in ('signing', 'authentication'):
                raise KubeadmError('invalid bootstrap token usage string: %s, valid usage options: signing, authentication' % usage)
        groups = flags.get('groups') or [DEFAULT_TOKEN_GROUP]
        for group in groups:
            if not group.startswith('system:bootstrappers:'):
                raise KubeadmError('bootstrap group "%s" is invalid (must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$)' % group)
        client = admin_client(kubeconfig_path)
        try:
            create_tokens(client, [{'token': token, 'ttl': '%ds' % ttl, 'usages': usages, 'groups': groups,
                                    'description': flags.get('description', '')}], fail_if_exists=True)
        except (ApiError, OSError) as exc:
            raise KubeadmError(api_failure(exc, 'failed to create or update bootstrap token'))
        say(join_command(kubeconfig_path, token) if flags.get('print-join-command') else token)
        return 0
    if sub == 'list':
        client = admin_client(kubeconfig_path)
        try:
            items = client.get(ns_path('kube-system', 'secrets') + '?fieldSelector=' + quote('type=bootstrap.kubernetes.io/token')).get('items') or []
        except (ApiError, OSError) as exc:
            raise KubeadmError(api_failure(exc, 'failed to list bootstrap tokens'))
        say(token_table(items))
        return 0
    if sub == 'delete':
        if not flags.args:
            raise KubeadmError('missing argument; \'token delete\' is missing token of form "^([a-z0-9]{6})$" or "^([a-z0-9]{6})\\.([a-z0-9]{16})$"')
        client = admin_client(kubeconfig_path)
        for arg in flags.args:
            token_id = arg.split('.')[0]
            if not TOKEN_ID_RE.match(token_id):
                raise KubeadmError('given token didn\'t match pattern "^([a-z0-9]{6})$" or "^([a-z0-9]{6})\\.([a-z0-9]{16})$"')
            try:
                client.request('DELETE', ns_path('kube-system', 'secrets', name='bootstrap-token-' + token_id))
            except (ApiError, OSError) as exc:
                raise KubeadmError(api_failure(exc, 'failed to delete bootstrap token "%s"' % token_id))
            say('bootstrap token "%s" deleted' % token_id)
        return 0
    raise KubeadmError('unknown command "%s" for "kubeadm token"' % sub if sub else
                       'missing subcommand; "token" is not meant to be run on its own')


def cmd_certs(argv):
    if argv[:1] == ['certificate-key']:
        parse_flags(argv[1:], {})
        say(generate_certificate_key())
        return 0
    raise KubeadmError('the double supports only "kubeadm certs certificate-key"')


# --- reset ---------------------------------------------------------------------------------------

def _clean_dir(path):
    target = host(path)
    if not os.path.isdir(target):
        return
    for entry in os.listdir(target):
        full = os.path.join(target, entry)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


def cmd_reset(argv):
    flags = parse_flags(argv, {'force': 'bool', 'cri-socket': 'str', 'ignore-preflight-errors': 'list', 'kubeconfig': 'str',
                               'cert-dir': 'str', 'dry-run': 'bool', 'skip-phases': 'list', 'cleanup-tmp-dir': 'bool', 'config': 'str'},
                        {'f': 'force'})
    ignored = flags.get('ignore-preflight-errors', [])
    if exists(ADMIN_CONF):
        say('[reset] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
        say("[reset] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.")
    root_preflight(ignored)
    if not flags.get('force'):
        say("[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.")
        sys.stdout.write('[reset] Are you sure you want to proceed? [y/N]: ')
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ('y', 'yes'):
            raise KubeadmError('aborted reset operation')
    say('[preflight] Running pre-flight checks')
    manifests = host(MANIFESTS_DIR + '/etcd.yaml')
    if os.path.exists(manifests):
        reset_etcd_member(MANIFESTS_DIR + '/etcd.yaml')
        say('[reset] Deleted contents of the etcd data directory: %s' % ETCD_DIR)
    else:
        warn('W%s %7d removeetcdmember.go:106] [reset] No kubeadm config, using etcd pod spec to get data directory'
             % (time.strftime('%m%d %H:%M:%S.000000'), os.getpid()))
        say('[reset] Deleted contents of the etcd data directory: %s' % ETCD_DIR)
    _clean_dir(ETCD_DIR)
    say('[reset] Stopping the kubelet service')
    ok, output = systemctl('stop', 'kubelet')
    if not ok:
        warn('[reset] Failed to stop the kubelet service: %s' % output)
    say('[reset] Unmounting mounted directories in "%s"' % KUBELET_DIR)
    # the kubelet's containers removed (kubeadm's removeContainers through the CRI, silent but for a failure):
    # the kubelet double's static Pods are its units aifabric-static-<pod>
    ok, output = systemctl('stop', 'aifabric-static-*')
    if not ok:
        warn('W%s %7d cleanupnode.go:87] [reset] Failed to remove containers: %s'
             % (time.strftime('%m%d %H:%M:%S.000000'), os.getpid(), output.strip()))
    dirs = [MANIFESTS_DIR, KUBELET_DIR, PKI_DIR]
    say('[reset] Deleting contents of directories: [%s]' % ' '.join(dirs))
    for path in dirs:
        _clean_dir(path)
    files = ['%s/%s' % (KUBERNETES_DIR, f) for f in KUBECONFIGS]
    say('[reset] Deleting files: [%s]' % ' '.join(files))
    for path in files:
        if exists(path):
            os.unlink(host(path))
    say()
    say('The reset process does not perform cleanup of CNI plugin configuration,')
    say('network filtering rules and kubeconfig files.')
    say()
    say('For information on how to perform this cleanup manually, please see:')
    say('    https://k8s.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/')
    say()
    return 0


# --- upgrade -------------------------------------------------------------------------------------

UPGRADE_MANIFESTS_TIMEOUT = 300.0   # UpgradeConfiguration timeouts.upgradeManifests (5m0s)
KUBELET_SKEW = 3                    # MaximumAllowedMinorVersionKubeletSkew
KUBEADM_TMP = '/etc/kubernetes/tmp'
CONTROL_PLANE_LABEL = CONTROL_PLANE_LABELS[0]
SEMVER_RE = re.compile(r'^\s*v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?\s*$')
RELEASE_LABEL_RE = re.compile(r'^(stable|latest)(-\d+(\.\d+)?)?$')
LINE_SEPARATOR = '_____________________________________________________________________'
# the certificates kubeadm renews before it upgrades each component (renewCertsByComponent)
RENEWED_CERTS = {'etcd': [('etcd-server', 'etcd/server', 'etcd/ca'), ('etcd-peer', 'etcd/peer', 'etcd/ca'),
                          ('etcd-healthcheck-client', 'etcd/healthcheck-client', 'etcd/ca')],
                 'kube-apiserver': [('apiserver', 'apiserver', 'ca'), ('apiserver-kubelet-client', 'apiserver-kubelet-client', 'ca'),
                                    ('front-proxy-client', 'front-proxy-client', 'front-proxy-ca'),
                                    ('apiserver-etcd-client', 'apiserver-etcd-client', 'etcd/ca')],
                 'kube-controller-manager': [('controller-manager.conf', None, 'ca')],
                 'kube-scheduler': [('scheduler.conf', None, 'ca')]}
UPGRADE_FLAGS = {'config': 'str', 'kubeconfig': 'str', 'ignore-preflight-errors': 'list', 'allow-experimental-upgrades': 'bool',
                 'allow-release-candidate-upgrades': 'bool', 'print-config': 'bool', 'feature-gates': 'str'}


class Version(object):  # pylint: disable=too-few-public-methods
    """A semantic version as k8s.io/apimachinery's ParseSemantic reads it (the v optional); str() drops the v."""

    def __init__(self, text):
        match = SEMVER_RE.match(str(text))
        if not match:
            raise ValueError('could not parse "%s" as version' % text)
        self.major, self.minor, self.patch = int(match.group(1)), int(match.group(2)), int(match.group(3))
        self.pre = match.group(4) or ''

    def key(self):
        pre = [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in self.pre.split('.')] if self.pre else []
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other):
        return self.key() < other.key()

    def __str__(self):
        return '%d.%d.%d%s' % (self.major, self.minor, self.patch, '-' + self.pre if self.pre else '')


def klog_warning(where, message):
    warn('W%s %7d %s] %s' % (datetime.datetime.now().strftime('%m%d %H:%M:%S.%f'), os.getpid(), where, message))


def go_duration(seconds):
    """A duration as Go prints it: 5m0s, 30s, 1h0m0s."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return '%dh%dm%ds' % (hours, minutes, secs)
    return '%dm%ds' % (minutes, secs) if minutes else '%ds' % secs


def release_version(text):
    """kubeadm's KubernetesReleaseVersion without the internet: a version gets its v; a label (stable, latest-1.34)
    falls back, as in an air-gapped host, to kubeadm's own version; anything else is refused."""
    if SEMVER_RE.match(str(text)):
        return 'v' + str(text).strip().lstrip('v')
    if RELEASE_LABEL_RE.match(str(text)):
        url = 'https://dl.k8s.io/release/%s.txt' % text
        klog_warning('version.go:104', 'could not fetch a Kubernetes version from the internet: unable to get URL "%s": Get "%s": dial tcp: '
                                       'lookup dl.k8s.io: no such host' % (url, url))
        klog_warning('version.go:105', 'falling back to the local client version: %s' % VERSION)
        return VERSION
    raise KubeadmError('version "%s" doesn\'t match patterns for neither semantic version nor labels (stable, latest, ...)' % text)


def tabwrite(rows):
    """Go's text/tabwriter as kubeadm sets it (minwidth 10, padding 3, spaces): each cell but the last padded to its column."""
    columns = max(len(row) for row in rows)
    widths = [max([10] + [len(row[i]) + 3 for row in rows if i < len(row) - 1]) for i in range(columns - 1)]
    return '\n'.join(''.join(cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)) for row in rows)


def upgrade_config(path):
    """The UpgradeConfiguration of --config (kubeadm.k8s.io/v1beta4), {} without one."""
    if not path:
        return {}
    return copy.deepcopy(classify(load_documents(path)).get('UpgradeConfiguration') or {})


def flag_or_config(flags, name, section, key, default):
    """A flag when given, else the UpgradeConfiguration's field, else the default (cmdutil.ValueFromFlagsOrConfig)."""
    if name in flags.values:
        return flags.get(name)
    value = section.get(key)
    return default if value is None else value


def manifests_timeout(doc):
    """The UpgradeConfiguration's timeouts.upgradeManifests in seconds (5m0s by default)."""
    value = (doc.get('timeouts') or {}).get('upgradeManifests')
    return parse_duration(value) if value else UPGRADE_MANIFESTS_TIMEOUT


def upgrade_client(path):
    try:
        return admin_client(path)
    except KubeadmError as exc:
        raise KubeadmError("couldn't create a Kubernetes client from file \"%s\": %s" % (path, exc.message))


def fetch_cluster_configuration(client, prefix):
    """The ClusterConfiguration of the kubeadm-config ConfigMap, with FetchInitConfigurationFromCluster's lines."""
    say('[%s] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...' % prefix)
    say("[%s] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it." % prefix)
    try:
        cm = client.get(ns_path('kube-system', 'configmaps', name='kubeadm-config'))
    except ApiError as exc:
        if exc.status == 404:
            raise ConfigMapMissing('configmaps "kubeadm-config" not found')
        raise KubeadmError(api_failure(exc, 'failed to get config map'))
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError(api_failure(exc, 'failed to get config map'))
    cluster = yaml.safe_load((cm.get('data') or {}).get('ClusterConfiguration') or '') or {}
    if not isinstance(cluster, dict) or not cluster.get('kubernetesVersion'):
        raise KubeadmError('the ClusterConfiguration of the "kubeadm-config" ConfigMap has no kubernetesVersion')
    return cluster


def list_items(client, path):
    return client.get(path).get('items') or []


def local_node_name():
    """This node's name: the CN (system:node:NAME) of kubelet.conf's client certificate, else the host name (GetNodeName)."""
    try:
        conf = yaml.safe_load(read(KUBELET_CONF)) or {}
        user = (conf.get('users') or [{}])[0].get('user') or {}
        data = base64.b64decode(user['client-certificate-data']) if user.get('client-certificate-data') else read(user['client-certificate'], True)
        common = x509.load_pem_x509_certificate(data).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        if common.startswith('system:node:'):
            return common[len('system:node:'):]
    except (OSError, KeyError, IndexError, TypeError, ValueError, yaml.YAMLError):
        pass
    return hostname()


def manifest_path(component):
    return '%s/%s.yaml' % (MANIFESTS_DIR, component)


def image_tag(image):
    """The tag of an image reference (digest dropped, _ for + as kubeadm converts build metadata)."""
    name = image.split('@')[0]
    last = name.rsplit('/', 1)[-1]
    return last.rpartition(':')[2].replace('_', '+') if ':' in last else ''


def cluster_health(client, ignored, phase, intro):
    """CheckClusterHealth: the control-plane Nodes Ready, this node's static Pod manifests present (the CreateJob
    check is not made: the API server double runs no Jobs)."""
    say('[upgrade] Running cluster health checks')
    found = []
    try:
        nodes = list_items(client, ns_path(None, 'nodes') + '?labelSelector=' + quote(CONTROL_PLANE_LABEL + '='))
        not_ready = [n['metadata']['name'] for n in nodes if (n['metadata'].get('labels') or {}).get(CONTROL_PLANE_LABEL) == ''
                     for c in (n.get('status') or {}).get('conditions') or [] if c.get('type') == 'Ready' and c.get('status') != 'True']
        if not_ready:
            found.append(('ControlPlaneNodesReady', 'there are NotReady control-planes in the cluster: [%s]' % ' '.join(not_ready)))
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        found.append(('ControlPlaneNodesReady', api_failure(exc, 'could not list nodes labeled with "%s"' % CONTROL_PLANE_LABEL)))
    missing = [manifest_path(c) for c in COMPONENTS if not exists(manifest_path(c))]
    if missing:
        found.append(('StaticPodManifest', "The control plane seems to be Static Pod-hosted, but some of the manifests don't seem to exist on "
                                           "disk. This probably means you're running 'kubeadm upgrade' on a remote machine, which is not "
                                           "supported for a Static Pod-hosted cluster. Manifest files not found: [%s]" % ' '.join(missing)))
    report_preflight(found, ignored, phase, intro)


def server_version(client):
    return client.request('GET', '/version', timeout=10).get('gitVersion', '')


def kubelet_versions(client):
    """{kubelet version: [node names]} of the cluster's Nodes (KubeletVersions)."""
    versions = {}
    for node in list_items(client, ns_path(None, 'nodes')):
        version = ((node.get('status') or {}).get('nodeInfo') or {}).get('kubeletVersion', '')
        versions.setdefault(version, []).append(node['metadata']['name'])
    return versions


def component_versions(client, component):
    """{image tag: [node names]} of a control-plane component's mirror Pods (ComponentVersions); this node's static Pod
    manifest when the API has none (the double's fallback: a kubelet that posts no mirror Pods)."""
    selector = quote('component=%s,tier=control-plane' % component)
    versions = {}
    for pod in list_items(client, ns_path('kube-system', 'pods') + '?labelSelector=' + selector):
        containers = (pod.get('spec') or {}).get('containers') or [{}]
        versions.setdefault(image_tag(containers[0].get('image', '')), []).append((pod.get('spec') or {}).get('nodeName', ''))
    if not versions and exists(manifest_path(component)):
        pod = yaml.safe_load(read(manifest_path(component))) or {}
        versions[image_tag(pod['spec']['containers'][0]['image'])] = [local_node_name()]
    return versions


def enforce_version_policies(target, cluster_version, kubelets, allow=(False, False)):
    """upgrade.EnforceVersionPolicies: (mandatory, skippable) error lists; allow: (experimental, release candidate) upgrades."""
    mandatory, skippable = [], []
    new, kubeadm, cluster = Version(target), Version(VERSION), Version(cluster_version)
    if new.key()[:3] < MINIMUM_CONTROL_PLANE:
        mandatory.append('Specified version to upgrade to "%s" is equal to or lower than the minimum supported version "%s". Please specify '
                         'a higher version to upgrade to' % (target, cluster_version))
    if new.minor > cluster.minor + 1:
        (skippable if new.pre else mandatory).append('Specified version to upgrade to "%s" is too high; kubeadm can upgrade only 1 minor '
                                                     'version at a time' % target)
    if new.minor < cluster.minor - 1:
        (skippable if new.pre else mandatory).append('Specified version to downgrade to "%s" is too low; kubeadm can downgrade only 1 minor '
                                                     'version at a time' % target)
    if kubeadm < new:
        if new.minor > kubeadm.minor:
            (skippable if new.pre else mandatory).append(
                'Specified version to upgrade to "%s" is at least one minor release higher than the kubeadm minor release (%d > %d). Such an '
                'upgrade is not supported' % (target, new.minor, kubeadm.minor))
        else:
            skippable.append('Specified version to upgrade to "%s" is higher than the kubeadm version "%s". Upgrade kubeadm first using the '
                             'tool you used to install kubeadm' % (target, VERSION))
    if kubeadm.major > new.major or kubeadm.minor > new.minor:
        skippable.append('Kubeadm version %s can only be used to upgrade to Kubernetes version %d.%d' % (VERSION, kubeadm.major, kubeadm.minor))
    if new.pre and not allow[0] and not (allow[1] and new.pre.startswith('rc')):
        skippable.append('Specified version to upgrade to "%s" is an unstable version and such upgrades weren\'t allowed via setting the '
                         '--allow-*-upgrades flags' % target)
    too_old = []
    for version in sorted(kubelets):
        try:
            if new.minor > Version(version).minor + KUBELET_SKEW:
                too_old.append(version)
        except ValueError:
            skippable.append("couldn't parse kubelet version %s" % version)
            break
    if too_old:
        skippable.append('There are kubelets in this cluster that are too old that have these versions [%s]' % ' '.join(too_old))
    return mandatory, skippable


def format_errors(errors):
    return ''.join('\t- %s\n' % error for error in errors)


def confirm(question='Are you sure you want to proceed?'):
    """cmdutil.InteractivelyConfirmAction("upgrade", ...): y or yes on stdin, anything else aborts."""
    sys.stdout.write('[upgrade] %s [y/N]: ' % question)
    sys.stdout.flush()
    if sys.stdin.readline().strip().lower() not in ('y', 'yes'):
        raise KubeadmError("won't proceed; the user didn't answer (Y|y) in order to continue", 'preflight')


def tmp_dir(prefix, stamped=False):
    """A new directory under /etc/kubernetes/tmp: prefix + random digits (os.MkdirTemp) or prefix + -<time> (stamped)."""
    if stamped:
        path = '%s/%s-%s' % (KUBEADM_TMP, prefix, time.strftime('%Y-%m-%d-%H-%M-%S'))
        os.makedirs(host(path), exist_ok=True)
        return path
    while True:
        path = '%s/%s%d' % (KUBEADM_TMP, prefix, secrets.randbelow(10 ** 10))
        try:
            os.makedirs(host(path))
            return path
        except FileExistsError:
            continue


def _reissue(cert, public_key, ca, ca_key, validity):
    """The certificate again, signed by its CA, valid from now (same subject, key and extensions: kubeadm's renewal)."""
    start = now() - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(ca.subject).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + validity))
    for ext in cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    return builder.sign(ca_key, hashes.SHA256())


def renew_certificates(component, validity):
    """renewCertsByComponent: the component's certificates (or kubeconfig client certificates) re-issued by the local CA."""
    for name, rel, ca_rel in RENEWED_CERTS[component]:
        if not exists(_pki(ca_rel + '.key')):
            continue    # external CA: nothing to renew with
        ca, ca_key = load_cert(_pki(ca_rel + '.crt')), load_key(_pki(ca_rel + '.key'))
        if rel:
            if not exists(_pki(rel + '.crt')) or not exists(_pki(rel + '.key')):
                continue
            say('[upgrade/staticpods] Renewing %s certificate' % name)
            key = load_key(_pki(rel + '.key'))
            write(_pki(rel + '.crt'), cert_pem(_reissue(load_cert(_pki(rel + '.crt')), key.public_key(), ca, ca_key, validity)), 0o644)
            continue
        path = '%s/%s' % (KUBERNETES_DIR, name)
        if not exists(path):
            continue
        say('[upgrade/staticpods] Renewing %s certificate' % name)
        conf = yaml.safe_load(read(path)) or {}
        user = conf['users'][0]['user']
        key = serialization.load_pem_private_key(base64.b64decode(user['client-key-data']), password=None)
        cert = x509.load_pem_x509_certificate(base64.b64decode(user['client-certificate-data']))
        user['client-certificate-data'] = b64(cert_pem(_reissue(cert, key.public_key(), ca, ca_key, validity)))
        write(path, dump(conf), 0o600)


def _new_manifest(component, cluster, target):
    """The component's static Pod manifest at the target version: this node's manifest with kubeadm's image for it
    (the double's manifests differ between versions only in the image; etcd keeps the image this kubeadm pins)."""
    pod = yaml.safe_load(read(manifest_path(component)))
    repo = cluster.get('imageRepository') or 'registry.k8s.io'
    pod['spec']['containers'][0]['image'] = '%s/%s:%s' % (repo, component, ETCD_IMAGE_TAG if component == 'etcd' else target)
    return pod


def local_api_client(admin_conf):
    """A client of this node's API server (the advertise address of its manifest), with admin.conf's credentials."""
    pod = yaml.safe_load(read(manifest_path('kube-apiserver'))) or {}
    endpoint = ((pod.get('metadata') or {}).get('annotations') or {}).get('kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint')
    return Client.from_kubeconfig(admin_conf, 'https://' + endpoint if endpoint else None)


def static_pod_upgrade(client, local, cluster, target, node, options):
    """PerformStaticPodUpgrade: etcd (unless --etcd-upgrade=false), then the control-plane components, each with its
    certificates renewed, its manifest moved in (the old one to the backup folder), and the kubelet awaited (the
    kube-apiserver: until this node's API server answers /version with the target); a timeout rolls every moved
    manifest back."""
    timeout, renew = options['timeout'], options['renew']
    validity = datetime.timedelta(seconds=parse_duration(cluster.get('certificateValidityPeriod') or '8760h0m0s'))
    staging = tmp_dir('kubeadm-upgraded-manifests')
    say('[upgrade/staticpods] Writing new Static Pod manifests to "%s"' % staging)
    backup = tmp_dir('kubeadm-backup-manifests', stamped=True)
    moved = []
    components = (['etcd'] if options['etcd'] and exists(manifest_path('etcd')) else []) + list(COMPONENTS)
    for component in components:
        new_text = dump(_new_manifest(component, cluster, target))
        write('%s/%s.yaml' % (staging, component), new_text, 0o600)
        old_text = read(manifest_path(component))
        if component == 'etcd':
            current = image_tag(yaml.safe_load(old_text)['spec']['containers'][0]['image'])
            try:
                newer = Version(ETCD_IMAGE_TAG) < Version(current)
            except ValueError:
                newer = False
            if newer:
                say('[upgrade/etcd] Non fatal issue encountered during upgrade: the desired etcd version "%s" is older than the currently '
                    'installed "%s". Skipping etcd upgrade' % (ETCD_IMAGE_TAG, current))
                continue
        say('[upgrade/staticpods] Preparing for "%s" upgrade' % component)
        if renew:
            renew_certificates(component, validity)
        backup_file = '%s/%s.yaml' % (backup, component)
        if new_text == old_text:
            say('[upgrade/staticpods] Restarting the %s static pod and backing up its manifest to "%s"' % (component, backup_file))
        else:
            say('[upgrade/staticpods] Moving new manifest to "%s" and backing up old manifest to "%s"' % (manifest_path(component), backup_file))
        write(backup_file, old_text, 0o600)
        write(manifest_path(component), new_text, 0o600)
        moved.append((component, backup_file))
        say('[upgrade/staticpods] Waiting for the kubelet to restart the component')
        say('[upgrade/staticpods] This can take up to %s' % go_duration(timeout))
        if component == 'kube-apiserver' and not wait_for(lambda: server_version(local) == target, timeout):
            for done, saved in moved:
                write(manifest_path(done), read(saved), 0o600)
            raise KubeadmError("couldn't complete the static pod upgrade: couldn't upgrade control plane. kubeadm has tried to recover "
                               "everything into the earlier state. Errors faced: static Pod hash for component %s on Node %s did not change "
                               "after %s: timed out waiting for the condition" % (component, node, go_duration(timeout)), 'control-plane')
        try:
            found = len(list_items(client, ns_path('kube-system', 'pods') + '?labelSelector=' + quote('component=' + component)))
        except (ApiError, OSError, ssl.SSLError, http.client.HTTPException):
            found = 0
        if found:
            say('[apiclient] Found %d Pods for label selector component=%s' % (found, component))
        say('[upgrade/staticpods] Component "%s" upgraded successfully!' % component)
        if component == 'etcd':
            say('[upgrade/etcd] Waiting for etcd to become available')
    shutil.rmtree(host(staging), ignore_errors=True)


def kubelet_config_phase(client):
    """The kubelet-config phase: /var/lib/kubelet/config.yaml from the cluster's kubelet-config ConfigMap (the node's
    containerRuntimeEndpoint kept), the old file backed up first."""
    stamped = KUBEADM_VERSION[:2] >= (1, 35)
    backup = tmp_dir('kubeadm-kubelet-config', stamped)
    klog_warning('postupgrade.go:%d' % (105 if stamped else 116), 'Using temporary directory %s for kubelet config. To override it set the '
                                                                  'environment variable KUBEADM_UPGRADE_DRYRUN_DIR' % backup)
    try:
        text = client.get(ns_path('kube-system', 'configmaps', name='kubelet-config'))['data']['kubelet']
    except (ApiError, OSError, KeyError, TypeError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError(api_failure(exc, 'failed to download kubelet configuration from the ConfigMap "kubelet-config" in the kube-system '
                                            'namespace'), 'kubelet-config')
    conf = yaml.safe_load(text) or {}
    if exists(KUBELET_CONFIG):
        old = read(KUBELET_CONFIG)
        say('[upgrade] Backing up kubelet config file to %s/config.yaml' % backup)
        write(backup + '/config.yaml', old, 0o644)
        endpoint = (yaml.safe_load(old) or {}).get('containerRuntimeEndpoint')
        if endpoint:
            conf['containerRuntimeEndpoint'] = endpoint
    say('[kubelet-start] Writing kubelet configuration to file "%s"' % KUBELET_CONFIG)
    write(KUBELET_CONFIG, dump(conf), 0o644)
    say('[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!')


def addon_phase(client, cluster, target, node):
    """The addon phase: CoreDNS and kube-proxy re-applied at the target version, unless another control plane's
    kube-apiserver mirror Pod still runs an older one."""
    try:
        pods = list_items(client, ns_path('kube-system', 'pods') + '?labelSelector=' + quote('component=kube-apiserver,tier=control-plane'))
        try:
            proxy = yaml.safe_load(client.get(ns_path('kube-system', 'configmaps', name='kube-proxy'))['data']['config.conf'])
        except ApiError as exc:
            if exc.status != 404:
                raise
            proxy = None
    except (ApiError, OSError, KeyError, TypeError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError(api_failure(exc, 'failed to perform addons upgrade'), 'addon')
    behind = sorted(set(p['spec'].get('nodeName', '') for p in pods if p['spec'].get('nodeName') != node
                        and image_tag(p['spec']['containers'][0].get('image', '')) != target))
    if behind:
        for _addon in ('coredns', 'kube-proxy'):
            say('[upgrade/addon] Skipping upgrade of addons because control plane instances [%s] have not been upgraded' % ' '.join(behind))
        return
    found = {'ClusterConfiguration': dict(cluster, kubernetesVersion=target)}
    if proxy:
        found['KubeProxyConfiguration'] = proxy
    cfg = InitConfig(found)
    phase_addons(cfg, client)


def kubelet_env_phase():
    """kubeadm 1.35's post-upgrade phase: --pod-infra-container-image dropped from kubeadm-flags.env (backed up first)."""
    if KUBEADM_VERSION[:2] < (1, 35) or not exists(KUBELET_FLAGS):
        return
    backup = tmp_dir('kubeadm-kubelet-env')
    klog_warning('postupgrade.go:203', 'Using temporary directory %s for kubelet env file. To override it set the environment variable '
                                       'KUBEADM_UPGRADE_DRYRUN_DIR' % backup)
    text = read(KUBELET_FLAGS)
    say('[upgrade] Backing up kubelet env file to %s/kubeadm-flags.env' % backup)
    write(backup + '/kubeadm-flags.env', text, 0o644)
    say('[kubelet-start] Writing kubelet environment file with flags to file "%s"' % KUBELET_FLAGS)
    write(KUBELET_FLAGS, re.sub(r' ?--pod-infra-container-image=[^ "]*', '', text).replace('=" ', '="'), 0o644)


def _upgrade_flags(argv, extra, short=None):
    flags = parse_flags(argv, dict(UPGRADE_FLAGS, **extra), short)
    doc = upgrade_config(flags.get('config'))
    return flags, doc


def cmd_upgrade(argv):
    sub = argv[0] if argv else ''
    if sub == 'plan':
        return cmd_upgrade_plan(argv[1:])
    if sub == 'apply':
        return cmd_upgrade_apply(argv[1:])
    if sub == 'node':
        return cmd_upgrade_node(argv[1:])
    if sub in ('diff',):
        raise KubeadmError('the double does not simulate "kubeadm upgrade %s"' % sub)
    raise KubeadmError('unknown command "%s" for "kubeadm upgrade"' % sub if sub else
                       'missing subcommand; "upgrade" is not meant to be run on its own')


# --- upgrade plan --

def available_upgrades(client, target_arg):
    """upgrade.GetAvailableUpgrades with kubeadm's own version for the release labels (no internet): [(description, before, after)]."""
    say('[upgrade] Fetching available versions to upgrade to')
    try:
        apiservers = component_versions(client, 'kube-apiserver')
        cluster = max((Version(v) for v in apiservers), key=Version.key) if apiservers else Version(server_version(client))
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException, ValueError) as exc:
        raise KubeadmError(api_failure(exc, '[upgrade/versions] FATAL'))
    cluster_str = str(cluster)
    say('[upgrade/versions] Cluster version: %s' % cluster_str)
    say('[upgrade/versions] kubeadm version: %s' % VERSION)

    def label_version(label, description):
        """VersionFromCILabel of the OfflineVersionGetter: the VERSION argument for every label when given."""
        if not target_arg:
            text = release_version(label)
            return text, Version(text)
        try:
            return target_arg, Version(target_arg)
        except ValueError as exc:
            klog_warning('compute.go:88', "[upgrade/versions] WARNING: Couldn't parse version %s: %s" % (description, exc))
            return None

    found = label_version('stable', 'stable version')
    if found is None:
        klog_warning('compute.go:89', '[upgrade/versions] WARNING: Falling back to current kubeadm version as latest stable version')
        found = VERSION, Version(VERSION)
    else:
        say('[upgrade/versions] Target version: %s' % found[0])
    stable_str, stable = found
    try:
        kubelets = kubelet_versions(client)
        before = {'kube': cluster_str, 'kubelets': kubelets, 'etcd': component_versions(client, 'etcd'), 'apiserver': apiservers,
                  'controller-manager': component_versions(client, 'kube-controller-manager'),
                  'scheduler': component_versions(client, 'kube-scheduler'), 'dns': dns_version(client)}
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError(api_failure(exc, '[upgrade/versions] FATAL'))
    upgrades = []
    minor_upgrade = cluster < stable
    if stable.key() >= cluster.key():   # patchVersionBranchExists
        branch = '%d.%d' % (cluster.major, cluster.minor)
        description = 'version in the v%s series' % branch
        found = label_version('stable-' + branch, description)
        if found is not None:
            patch_str, patch = found
            say('[upgrade/versions] Latest %s: %s' % (description, patch_str))
            minor_upgrade = patch < stable
            if cluster < patch:
                upgrades.append((description, before, {'kube': patch_str,
                                                       'kubeadm': VERSION if Version(VERSION).key() >= patch.key() else patch_str}))
    if minor_upgrade:
        upgrades.append(('stable version', before, {'kube': stable_str, 'kubeadm': stable_str}))
    say()
    return upgrades


def dns_version(client):
    """The CoreDNS Deployment's image tag (DeployedDNSAddon), '' without one."""
    try:
        deployment = client.get(ns_path('kube-system', 'deployments', 'apps/v1', 'coredns'))
    except ApiError as exc:
        if exc.status == 404:
            return ''
        raise
    return image_tag(deployment['spec']['template']['spec']['containers'][0]['image'])


def config_version_states(client):
    """componentconfigs.GetVersionStates: (group, current, preferred, manual upgrade) of kube-proxy's and the kubelet's configs."""
    states = []
    for group, preferred, cm_name, key in (('kubeproxy.config.k8s.io', 'v1alpha1', 'kube-proxy', 'config.conf'),
                                           ('kubelet.config.k8s.io', 'v1beta1', 'kubelet-config', 'kubelet')):
        try:
            doc = yaml.safe_load(client.get(ns_path('kube-system', 'configmaps', name=cm_name))['data'][key]) or {}
            current = str(doc.get('apiVersion', '')).rpartition('/')[2]
        except (ApiError, KeyError, TypeError):
            current = ''
        states.append((group, current or '-', preferred, 'yes' if current and current != preferred else 'no'))
    return states


def print_upgrade(description, before, after):
    """printAvailableUpgrade: the kubelets table, the control-plane table, the apply command."""
    target = after['kube']
    rows = [('COMPONENT', 'NODE', 'CURRENT', 'TARGET')]
    kubelets = before['kubelets']
    if len(kubelets) > 1 or (len(kubelets) == 1 and target not in kubelets):
        rows += [('kubelet', name, version, target) for version in sorted(kubelets) for name in kubelets[version]]
    say("Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':")
    say(tabwrite(rows))
    say()
    say('Upgrade to the latest %s:' % description)
    say()
    rows = [('COMPONENT', 'NODE', 'CURRENT', 'TARGET')]
    for component, key in (('kube-apiserver', 'apiserver'), ('kube-controller-manager', 'controller-manager'), ('kube-scheduler', 'scheduler')):
        rows += [(component, name, version, target) for version in sorted(before[key]) for name in before[key][version]]
    rows.append(('kube-proxy', '', before['kube'], target))
    rows.append(('CoreDNS', '', before['dns'], COREDNS_TAG))
    rows += [('etcd', name, version, ETCD_IMAGE_TAG) for version in sorted(before['etcd']) for name in before['etcd'][version]]
    say(tabwrite(rows))
    say()
    say('You can now apply the upgrade by executing the following command:')
    say()
    pre = Version(target).pre
    say('\tkubeadm upgrade apply %s%s' % (target, (' --allow-release-candidate-upgrades' if pre.startswith('rc') else
                                                   ' --allow-experimental-upgrades') if pre else ''))
    say()
    if after['kubeadm'] != VERSION:
        say('Note: Before you can perform this upgrade, you have to update kubeadm to %s.' % after['kubeadm'])
        say()
    say(LINE_SEPARATOR)
    say()


def cmd_upgrade_plan(argv):
    flags, doc = _upgrade_flags(argv, {'output': 'str', 'show-managed-fields': 'bool', 'allow-missing-template-keys': 'bool'}, {'o': 'output'})
    output = flags.get('output', 'text')
    if output != 'text':
        raise KubeadmError('could not construct output printer: unable to match a printer suitable for the output format "%s", allowed '
                           'formats are: text (the double prints text only)' % output)
    if len(flags.args) > 1:
        raise KubeadmError('too many arguments. Required arguments: [version]')
    plan = doc.get('plan') or {}
    ignored = flags.get('ignore-preflight-errors') or plan.get('ignorePreflightErrors') or []
    kubeconfig_path = flags.get('kubeconfig', ADMIN_CONF)
    client = upgrade_client(kubeconfig_path)
    say('[preflight] Running pre-flight checks.')
    report_preflight(check_root(), ignored, None)
    try:
        fetch_cluster_configuration(client, 'upgrade/config')
    except ConfigMapMissing as exc:
        raise KubeadmError('[upgrade/init config] FATAL: failed to get config map: ' + exc.message)
    except KubeadmError as exc:
        raise KubeadmError('[upgrade/init config] FATAL: ' + exc.message)
    target_arg = flags.args[0] if flags.args else plan.get('kubernetesVersion') or ''
    cluster_health(client, ignored, None, '[upgrade/health] FATAL: [preflight] Some fatal errors occurred:')
    upgrades = available_upgrades(client, target_arg)
    if not upgrades:
        if str(flags.get('v') or '0').isdigit() and int(flags.get('v') or 0) >= 1:
            warn('I%s %7d plan.go:174] [upgrade/plan] Awesome, you\'re up-to-date! Enjoy!'
                 % (datetime.datetime.now().strftime('%m%d %H:%M:%S.%f'), os.getpid()))
        return 0
    for description, before, after in upgrades:
        print_upgrade(description, before, after)
    states = config_version_states(client)
    say()
    say('The table below shows the current state of component configs as understood by this version of kubeadm.')
    say('Configs that have a "yes" mark in the "MANUAL UPGRADE REQUIRED" column require manual config upgrade or')
    say('resetting to kubeadm defaults before a successful upgrade can be performed. The version to manually')
    say('upgrade to is denoted in the "PREFERRED VERSION" column.')
    say()
    say(tabwrite([('API GROUP', 'CURRENT VERSION', 'PREFERRED VERSION', 'MANUAL UPGRADE REQUIRED')] + states))
    say(LINE_SEPARATOR)
    say()
    return 0


# --- upgrade apply --

def upload_config_phase(client, cluster, target):
    """The upload-config phase: kubeadm-config with the new kubernetesVersion, kubelet-config uploaded again."""
    cluster = dict(cluster, kubernetesVersion=target)
    try:
        text = client.get(ns_path('kube-system', 'configmaps', name='kubelet-config'))['data']['kubelet']
        kubelet_conf = yaml.safe_load(text) or {}
    except ApiError as exc:
        if exc.status != 404:
            raise KubeadmError(api_failure(exc, 'error uploading the kubeadm ClusterConfiguration'), 'upload-config')
        kubelet_conf = kubelet_cluster_config({}, cluster)
    except (OSError, KeyError, TypeError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError(api_failure(exc, 'error uploading the kubeadm ClusterConfiguration'), 'upload-config')
    phase_upload_config(types.SimpleNamespace(cluster=cluster), client, kubelet_conf)


def cmd_upgrade_apply(argv):  # pylint: disable=too-many-locals
    flags, doc = _upgrade_flags(argv, {'yes': 'bool', 'force': 'bool', 'dry-run': 'bool', 'etcd-upgrade': 'bool', 'certificate-renewal': 'bool',
                                       'patches': 'str', 'skip-phases': 'list'}, {'y': 'yes', 'f': 'force'})
    section = doc.get('apply') or {}
    if flags.get('dry-run') or section.get('dryRun'):
        raise KubeadmError('the double does not simulate "kubeadm upgrade apply --dry-run"')
    version, args = section.get('kubernetesVersion') or '', [a for a in flags.args if a]
    if len(args) > 1:
        raise KubeadmError('too many arguments. Required arguments: [version]')
    if not version and not args:
        raise KubeadmError('missing one or more required arguments. Required arguments: [version]')
    version = args[0] if args else version
    ignored = (flags.get('ignore-preflight-errors') or []) + list(section.get('ignorePreflightErrors') or [])
    force = flag_or_config(flags, 'force', section, 'forceUpgrade', False)
    options = {'renew': flag_or_config(flags, 'certificate-renewal', section, 'certificateRenewal', True),
               'etcd': flag_or_config(flags, 'etcd-upgrade', section, 'etcdUpgrade', True),
               'timeout': manifests_timeout(doc)}
    kubeconfig_path = flags.get('kubeconfig', ADMIN_CONF)
    client = upgrade_client(kubeconfig_path)
    try:
        cluster = fetch_cluster_configuration(client, 'upgrade')
    except ConfigMapMissing:
        say('[upgrade] In order to upgrade, a ConfigMap called "kubeadm-config" in the "kube-system" namespace must exist.')
        say("[upgrade] Use 'kubeadm init phase upload-config --config your-config.yaml' to re-upload it.")
        raise KubeadmError('[upgrade] FATAL: the ConfigMap "kubeadm-config" in the "kube-system" namespace was not found')
    except KubeadmError as exc:
        raise KubeadmError('[upgrade] FATAL: ' + exc.message)
    node = local_node_name()

    # preflight
    say('[upgrade/preflight] Running preflight checks')
    report_preflight(check_root(), ignored)
    cluster_health(client, ignored, 'preflight', '[preflight] Some fatal errors occurred:')
    try:
        target = release_version(version)
    except KubeadmError as exc:
        raise KubeadmError(exc.message, 'preflight')
    if Version(target).key()[:3] < MINIMUM_CONTROL_PLANE:     # NormalizeKubernetesVersion
        raise KubeadmError('this version of kubeadm only supports deploying clusters with the control plane version >= %d.%d.%d. '
                           'Current version: %s' % (MINIMUM_CONTROL_PLANE + (target,)), 'preflight')
    say('[upgrade/preflight] You have chosen to upgrade the cluster version to "%s"' % target)
    try:
        cluster_version = server_version(client)
        kubelets = kubelet_versions(client)
    except (ApiError, OSError, ssl.SSLError, http.client.HTTPException) as exc:
        raise KubeadmError('the version argument is invalid due to these fatal errors:\n\n\t- Unable to fetch cluster version: Couldn\'t fetch '
                           'cluster version from the API Server: %s\n\nPlease fix the misalignments highlighted above and try upgrading again'
                           % (exc.message if isinstance(exc, ApiError) else exc), 'preflight')
    say('[upgrade/versions] Cluster version: %s' % cluster_version)
    say('[upgrade/versions] kubeadm version: %s' % VERSION)
    allow = (flag_or_config(flags, 'allow-experimental-upgrades', section, 'allowExperimentalUpgrades', False),
             flag_or_config(flags, 'allow-release-candidate-upgrades', section, 'allowRCUpgrades', False))
    mandatory, skippable = enforce_version_policies(target, cluster_version, kubelets, allow)
    if mandatory:
        raise KubeadmError('the version argument is invalid due to these fatal errors:\n\n%s\nPlease fix the misalignments highlighted above '
                           'and try upgrading again' % format_errors(mandatory), 'preflight')
    if skippable and not force:
        raise KubeadmError('the version argument is invalid due to these errors:\n\n%s\nCan be bypassed if you pass the --force flag'
                           % format_errors(skippable), 'preflight')
    if skippable:
        sys.stdout.write('[upgrade/preflight] Found %d potential version compatibility errors but skipping since the --force flag is set: \n\n%s'
                         % (len(skippable), format_errors(skippable)))
    if not (flags.get('yes') or force):
        confirm()
    say('[upgrade/preflight] Pulling images required for setting up a Kubernetes cluster')
    say('[upgrade/preflight] This might take a minute or two, depending on the speed of your internet connection')
    say("[upgrade/preflight] You can also perform this action beforehand using 'kubeadm config images pull'")

    # control-plane
    say('[upgrade/control-plane] Upgrading your static Pod-hosted control plane to version "%s" (timeout: %s)...'
        % (target, go_duration(options['timeout'])))
    static_pod_upgrade(client, local_api_client(kubeconfig_path), cluster, target, node, options)
    say('[upgrade/control-plane] The control plane instance for this node was successfully upgraded!')
    upload_config_phase(client, cluster, target)
    say('[upgrade/kubeconfig] The kubeconfig files for this node were successfully upgraded!')
    kubelet_config_phase(client)
    say('[upgrade/bootstrap-token] Configuring bootstrap token and cluster-info RBAC rules')
    try:
        bootstrap_token_rbac(client)
        cluster_info_rbac(client)
    except (ApiError, OSError) as exc:
        raise KubeadmError(api_failure(exc, 'error updating RBAC rules for bootstrap tokens'), 'bootstrap-token')
    addon_phase(client, cluster, target, node)
    kubelet_env_phase()
    say()
    say('[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "%s".' % target)
    say()
    say('[upgrade] Now please proceed with upgrading the rest of the nodes by following the right order.')
    return 0


# --- upgrade node --

def cmd_upgrade_node(argv):
    flags, doc = _upgrade_flags(argv, {'dry-run': 'bool', 'etcd-upgrade': 'bool', 'certificate-renewal': 'bool', 'patches': 'str',
                                       'skip-phases': 'list'})
    section = doc.get('node') or {}
    if flags.get('dry-run') or section.get('dryRun'):
        raise KubeadmError('the double does not simulate "kubeadm upgrade node --dry-run"')
    if flags.args:
        raise KubeadmError('unknown command "%s" for "kubeadm upgrade node"' % flags.args[0])
    ignored = (flags.get('ignore-preflight-errors') or []) + list(section.get('ignorePreflightErrors') or [])
    options = {'renew': flag_or_config(flags, 'certificate-renewal', section, 'certificateRenewal', True),
               'etcd': flag_or_config(flags, 'etcd-upgrade', section, 'etcdUpgrade', True),
               'timeout': manifests_timeout(doc)}
    control_plane = exists(manifest_path('kube-apiserver'))
    kubeconfig_path = flags.get('kubeconfig') or (ADMIN_CONF if control_plane else KUBELET_CONF)
    if not exists(kubeconfig_path):
        raise KubeadmError("couldn't create a Kubernetes client from file \"%s\": failed to load admin kubeconfig: open %s: no such file or "
                           "directory" % (kubeconfig_path, kubeconfig_path))
    client = Client.from_kubeconfig(kubeconfig_path)
    try:
        cluster = fetch_cluster_configuration(client, 'upgrade')
    except ConfigMapMissing as exc:
        raise KubeadmError('unable to fetch the kubeadm-config ConfigMap: failed to get config map: ' + exc.message)
    except KubeadmError as exc:
        raise KubeadmError('unable to fetch the kubeadm-config ConfigMap: ' + exc.message)
    target = cluster['kubernetesVersion']
    node = local_node_name()
    say('[upgrade/preflight] Running pre-flight checks')
    report_preflight(check_root(), ignored)
    if control_plane:
        check_control_plane_version(target)
        say('[upgrade/preflight] Pulling images required for setting up a Kubernetes cluster')
        say('[upgrade/preflight] This might take a minute or two, depending on the speed of your internet connection')
        say("[upgrade/preflight] You can also perform this action beforehand using 'kubeadm config images pull'")
        say('[upgrade/control-plane] Upgrading your Static Pod-hosted control plane instance to version "%s"...' % target)
        static_pod_upgrade(client, local_api_client(kubeconfig_path), cluster, target, node, options)
        say('[upgrade/control-plane] The control plane instance for this node was successfully upgraded!')
        say('[upgrade/kubeconfig] The kubeconfig files for this node were successfully upgraded!')
    else:
        say('[upgrade/preflight] Skipping prepull. Not a control plane node.')
        say('[upgrade/control-plane] Skipping phase. Not a control plane node.')
        say('[upgrade/kubeconfig] Skipping phase. Not a control plane node.')
    kubelet_config_phase(client)
    if control_plane:
        addon_phase(client, cluster, target, node)
    else:
        say('[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.')
        say('[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.')
    kubelet_env_phase()
    return 0


# --- version / config ------------------------------------------------------------------------------

def version_info():
    major, minor = VERSION[1:].split('.')[:2]
    return {'major': major, 'minor': minor, 'gitVersion': VERSION, 'gitCommit': GIT_COMMIT, 'gitTreeState': 'clean',
            'buildDate': BUILD_DATE, 'goVersion': GO_VERSION, 'compiler': 'gc', 'platform': 'linux/amd64'}


def cmd_version(argv):
    flags = parse_flags(argv, {'output': 'str'}, {'o': 'output'})
    output = flags.get('output', '')
    info = version_info()
    if output == '':
        fields = tuple(info[k] for k in ('major', 'minor', 'gitVersion', 'gitCommit', 'gitTreeState', 'buildDate', 'goVersion',
                                         'compiler', 'platform'))
        say('kubeadm version: &version.Info{Major:"%s", Minor:"%s", EmulationMajor:"", EmulationMinor:"", MinCompatibilityMajor:"", '
            'MinCompatibilityMinor:"", GitVersion:"%s", GitCommit:"%s", GitTreeState:"%s", BuildDate:"%s", GoVersion:"%s", '
            'Compiler:"%s", Platform:"%s"}' % fields)
    elif output == 'short':
        say(VERSION)
    elif output == 'json':
        say(json.dumps({'clientVersion': info}, indent=2))
    elif output == 'yaml':
        sys.stdout.write(yaml.safe_dump({'clientVersion': info}, default_flow_style=False, sort_keys=False))
    else:
        raise KubeadmError('invalid output format: %s' % output)
    return 0


def cmd_config(argv):
    if argv[:1] != ['validate']:
        raise KubeadmError('the double supports only "kubeadm config validate"')
    flags = parse_flags(argv[1:], {'config': 'str', 'allow-experimental-api': 'bool', 'kubeconfig': 'str'})
    if not flags.get('config'):
        raise KubeadmError('the --config flag is mandatory')
    found = classify(load_documents(flags.get('config')))
    if 'InitConfiguration' in found or 'ClusterConfiguration' in found:
        validate_init(InitConfig(found))
    elif 'JoinConfiguration' in found:
        join_config(Flags({'config': flags.get('config')}, []))
    say('ok')
    return 0


COMMANDS = {'version': cmd_version, 'config': cmd_config, 'init': cmd_init, 'join': cmd_join, 'token': cmd_token,
            'certs': cmd_certs, 'reset': cmd_reset, 'upgrade': cmd_upgrade}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        if argv and not argv[0].startswith('-'):
            warn('unknown command "%s" for "kubeadm"\nRun \'kubeadm --help\' for usage.' % argv[0])
            return 1
        say('Usage:\n  kubeadm [command]\n\nAvailable Commands:\n  certs, config, init, join, reset, token, upgrade, version '
            '(the aifabric lab double of kubeadm %s)' % VERSION)
        return 0
    try:
        return COMMANDS[argv[0]](argv[1:])
    except KubeadmError as exc:
        prefix = 'error execution phase %s: ' % exc.phase if exc.phase else ''
        warn(prefix + exc.message)
        warn(STACK_HINT)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == '__main__':
    sys.exit(main())
