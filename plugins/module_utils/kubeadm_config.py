# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeadm configuration rendered from the Kubernetes intent, and our own validation of it.

``build`` turns ``cluster_kubernetes`` (validated by preflight, kubernetes_intent) and one
node into the documents of a kubeadm ``--config`` file:

- ``init`` (the first control plane): InitConfiguration, ClusterConfiguration and
  KubeletConfiguration (kubeadm uploads the last two for the joins to read);
- ``join-control-plane`` (the other control planes): JoinConfiguration with ``controlPlane``;
- ``join`` (the workers): JoinConfiguration.

The kubeadm API is ``kubeadm.k8s.io/v1beta4`` from Kubernetes 1.31 (``extraArgs`` and
``kubeletExtraArgs`` lists of ``{name, value}``), ``v1beta3`` before (maps of string to string).

kubeadm only warns on a field it does not know (and then ignores it), so ``validate`` checks
the documents against the fields of the kubeadm types (cmd/kubeadm/app/apis/kubeadm/v1beta3
and v1beta4 types.go, bootstraptoken/v1, the kubelet's config/v1beta1 of each minor): one
message per problem, naming the kind and the dotted field path. Tokens and certificate keys
never appear in a message.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import re

from ansible_collections.aifabric.cluster.plugins.module_utils.kubernetes_intent import (
    DEFAULT_PORT, SUPPORTED, TAINT_EFFECTS, parse_cidr, show)

V1BETA3 = 'kubeadm.k8s.io/v1beta3'
V1BETA4 = 'kubeadm.k8s.io/v1beta4'
V1BETA4_SINCE = 31          # the first minor whose kubeadm renders v1beta4
KUBELET_API = 'kubelet.config.k8s.io/v1beta1'
KINDS = ('init', 'join-control-plane', 'join')
CRI_SOCKET = 'unix:///run/containerd/containerd.sock'
CONTROL_PLANE_TAINT = {'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}
DEFAULT_CLUSTER_NAME = 'kubernetes'     # kubeadm's default clusterName
ETCD_DATA_DIR = '/var/lib/etcd'
TOKEN_TTL = '24h0m0s'
TOKEN_USAGES = ['signing', 'authentication']
TOKEN_GROUPS = ['system:bootstrappers:kubeadm:default-node-token']
# label prefixes a kubelet may not set on its own Node (the NodeRestriction admission plugin):
# such labels are applied with admin credentials after the join, never through node-labels
RESTRICTED_LABEL_DOMAINS = ('kubernetes.io', 'k8s.io')

TOKEN_RE = re.compile(r'^[a-z0-9]{6}\.[a-z0-9]{16}$')
CERTIFICATE_KEY_RE = re.compile(r'^[0-9a-fA-F]{64}$')
CA_CERT_HASH_RE = re.compile(r'^sha256:[0-9a-fA-F]{64}$')
_VERSION_RE = re.compile(r'^v?(\d+)\.(\d+)(?:\.(\d+))?$')
_KUBERNETES_VERSION_RE = re.compile(r'^v(\d+)\.(\d+)\.(\d+)$')

TOKEN_ALLOWED = '[a-z0-9]{6}.[a-z0-9]{16} (as kubeadm token generate prints)'
CERTIFICATE_KEY_ALLOWED = '64 hexadecimal characters (an AES-256 key, as kubeadm certs certificate-key prints)'
CA_CERT_HASH_ALLOWED = 'sha256:<64 hexadecimal characters> (the SPKI hash of the cluster CA)'
CGROUP_DRIVERS = ('systemd', 'cgroupfs')

_ANY = None     # a field whose value is not checked further


def what(value):
    """What a value is, without the value (a mapping or list may hold a token)."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    return 'a list' if isinstance(value, list) else 'a mapping' if isinstance(value, dict) else 'a %s' % type(value).__name__


def parse_minor(version):
    """The minor of a Kubernetes version ('1.34', '1.34.2' or 'v1.34.2'); ValueError when unsupported."""
    match = _VERSION_RE.match(str(version)) if isinstance(version, str) else None
    if match is None or int(match.group(1)) != 1:
        raise ValueError("Kubernetes version '%s' is not 1.Y or 1.Y.Z" % show(version))
    minor = int(match.group(2))
    if not SUPPORTED[0] <= minor <= SUPPORTED[1]:
        raise ValueError("Kubernetes version '%s' is not supported; allowed: 1.%d-1.%d" % ((version,) + SUPPORTED))
    return minor


def api_version(k8s_version):
    """The kubeadm API a Kubernetes version renders: v1beta4 from 1.31, v1beta3 for 1.30."""
    return V1BETA4 if parse_minor(k8s_version) >= V1BETA4_SINCE else V1BETA3


# --- build ---------------------------------------------------------------------------------

def _restricted_label(key):
    prefix = key.rpartition('/')[0]
    return any(prefix == domain or prefix.endswith('.' + domain) for domain in RESTRICTED_LABEL_DOMAINS)


def kubelet_labels(labels):
    """(labels the kubelet may set with node-labels, labels NodeRestriction keeps from it), sorted."""
    labels = labels or {}
    allowed = [(key, labels[key]) for key in sorted(labels) if not _restricted_label(key)]
    restricted = [(key, labels[key]) for key in sorted(labels) if _restricted_label(key)]
    return allowed, restricted


def _args(pairs, v4):
    """extraArgs / kubeletExtraArgs: a list of {name, value} in v1beta4, a map in v1beta3."""
    if v4:
        return [{'name': name, 'value': value} for name, value in pairs]
    return dict(pairs)


def _host_port(host, port):
    return '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)


def _taint(taint):
    out = {'key': taint['key']}
    if taint.get('value') not in (None, ''):
        out['value'] = str(taint['value'])
    out['effect'] = taint['effect']
    return out


def _node_registration(node, control_plane, v4):
    taints = [_taint(t) for t in node.get('taints') or []]
    if control_plane and not node.get('worker'):
        taints = [dict(CONTROL_PLANE_TAINT)] + taints
    pairs = [('node-ip', node['address'])]
    allowed, _restricted = kubelet_labels(node.get('labels'))
    if allowed:
        pairs.append(('node-labels', ','.join('%s=%s' % (key, value) for key, value in allowed)))
    return {'name': node['name'], 'criSocket': CRI_SOCKET, 'taints': taints, 'kubeletExtraArgs': _args(pairs, v4)}


def _bind_port(intent):
    """The API server's port: the endpoint's without a load balancer, else kubeadm's 6443 (haproxy or the
    site's load balancer has the endpoint's port)."""
    endpoint = intent['control_plane_endpoint']
    if intent.get('ha_mode') == 'none':
        return int(endpoint.get('port') or DEFAULT_PORT)
    return DEFAULT_PORT


def _secret(secrets, key, kind):
    value = secrets.get(key)
    if value in (None, '', []):
        raise ValueError('secrets.%s is required for %s' % (key, kind))
    return value


def build(intent, node, kind, secrets=None, cluster_name=DEFAULT_CLUSTER_NAME):
    """The kubeadm documents (a list of dicts) of one node.

    :arg intent: cluster_kubernetes (validated by preflight).
    :arg node: {name, address (the node's mgmt IP), taints: [{key, value, effect}], labels: {key: value},
        worker (optional, control planes only): true when the control plane also runs workloads (no
        control-plane taint)}; taints and labels are the node's hardware profile's gpu_taints and node_labels.
    :arg kind: init, join-control-plane or join.
    :arg secrets: {token, ca_cert_hashes: [...], certificate_key}, or None: no token, hash or key field
        at all (a rendering to validate).
    :arg cluster_name: ClusterConfiguration.clusterName.
    Raises ValueError (or KeyError, TypeError) for a kind or node it cannot render.
    """
    if kind not in KINDS:
        raise ValueError("kind '%s' is not one of %s" % (show(kind), ', '.join(KINDS)))
    for key in ('name', 'address'):
        if not isinstance(node.get(key), str) or not node[key]:
            raise ValueError('node.%s is required (a string)' % key)
    api = api_version(intent['version'])
    v4 = api == V1BETA4
    endpoint = intent['control_plane_endpoint']
    host, port = str(endpoint['host']), int(endpoint.get('port') or DEFAULT_PORT)
    registration = _node_registration(node, kind != 'join', v4)
    local_endpoint = {'advertiseAddress': node['address'], 'bindPort': _bind_port(intent)}

    if kind == 'init':
        init = {'apiVersion': api, 'kind': 'InitConfiguration'}
        if secrets is not None:
            init['bootstrapTokens'] = [{'token': _secret(secrets, 'token', kind), 'ttl': TOKEN_TTL,
                                        'usages': list(TOKEN_USAGES), 'groups': list(TOKEN_GROUPS)}]
            if secrets.get('certificate_key'):
                init['certificateKey'] = secrets['certificate_key']
        init['nodeRegistration'] = registration
        init['localAPIEndpoint'] = local_endpoint
        sans = [host]
        if intent.get('vip') and str(intent['vip']) not in sans:
            sans.append(str(intent['vip']))
        cluster = {
            'apiVersion': api, 'kind': 'ClusterConfiguration',
            'clusterName': cluster_name,
            'kubernetesVersion': 'v%s' % intent['version'],
            'controlPlaneEndpoint': _host_port(host, port),
            'networking': {'podSubnet': intent['pod_cidr'], 'serviceSubnet': intent['service_cidr']},
            'apiServer': {'certSANs': sans},
            'etcd': {'local': {'dataDir': ETCD_DATA_DIR}},
        }
        kubelet = {'apiVersion': KUBELET_API, 'kind': 'KubeletConfiguration',
                   'cgroupDriver': intent.get('cgroup_driver') or 'systemd', 'failSwapOn': True}
        return [init, cluster, kubelet]

    bootstrap = {'apiServerEndpoint': _host_port(host, port)}
    if secrets is not None:
        bootstrap['token'] = _secret(secrets, 'token', kind)
        bootstrap['caCertHashes'] = list(_secret(secrets, 'ca_cert_hashes', kind))
    join = {'apiVersion': api, 'kind': 'JoinConfiguration', 'nodeRegistration': registration,
            'discovery': {'bootstrapToken': bootstrap}}
    if kind == 'join-control-plane':
        join['controlPlane'] = {'localAPIEndpoint': local_endpoint}
        if secrets is not None:
            join['controlPlane']['certificateKey'] = _secret(secrets, 'certificate_key', kind)
    return [join]


# --- the schema ----------------------------------------------------------------------------
# A schema is a dict {field: sub-schema}; a sub-schema is _ANY (not checked further), a dict (a
# mapping), a one-item list [schema] (a list of mappings) or a string naming a check of _CHECKS.

# KubeletConfiguration's top-level fields (kubelet config/v1beta1 of 1.30) and the minor that added the others
KUBELET_FIELDS = (
    'enableServer', 'staticPodPath', 'podLogsDir', 'syncFrequency', 'fileCheckFrequency', 'httpCheckFrequency',
    'staticPodURL', 'staticPodURLHeader', 'address', 'port', 'readOnlyPort', 'tlsCertFile', 'tlsPrivateKeyFile',
    'tlsCipherSuites', 'tlsMinVersion', 'rotateCertificates', 'serverTLSBootstrap', 'authentication', 'authorization',
    'registryPullQPS', 'registryBurst', 'eventRecordQPS', 'eventBurst', 'enableDebuggingHandlers',
    'enableContentionProfiling', 'healthzPort', 'healthzBindAddress', 'oomScoreAdj', 'clusterDomain', 'clusterDNS',
    'streamingConnectionIdleTimeout', 'nodeStatusUpdateFrequency', 'nodeStatusReportFrequency',
    'nodeLeaseDurationSeconds', 'imageMinimumGCAge', 'imageMaximumGCAge', 'imageGCHighThresholdPercent',
    'imageGCLowThresholdPercent', 'volumeStatsAggPeriod', 'kubeletCgroups', 'systemCgroups', 'cgroupRoot',
    'cgroupsPerQOS', 'cgroupDriver', 'cpuManagerPolicy', 'cpuManagerPolicyOptions', 'cpuManagerReconcilePeriod',
    'memoryManagerPolicy', 'topologyManagerPolicy', 'topologyManagerScope', 'topologyManagerPolicyOptions',
    'qosReserved', 'runtimeRequestTimeout', 'hairpinMode', 'maxPods', 'podCIDR', 'podPidsLimit', 'resolvConf',
    'runOnce', 'cpuCFSQuota', 'cpuCFSQuotaPeriod', 'nodeStatusMaxImages', 'maxOpenFiles', 'contentType',
    'kubeAPIQPS', 'kubeAPIBurst', 'serializeImagePulls', 'maxParallelImagePulls', 'evictionHard', 'evictionSoft',
    'evictionSoftGracePeriod', 'evictionPressureTransitionPeriod', 'evictionMaxPodGracePeriod',
    'evictionMinimumReclaim', 'podsPerCore', 'enableControllerAttachDetach', 'protectKernelDefaults',
    'makeIPTablesUtilChains', 'iptablesMasqueradeBit', 'iptablesDropBit', 'featureGates', 'failSwapOn',
    'memorySwap', 'containerLogMaxSize', 'containerLogMaxFiles', 'containerLogMaxWorkers',
    'containerLogMonitorInterval', 'configMapAndSecretChangeDetectionStrategy', 'systemReserved', 'kubeReserved',
    'reservedSystemCPUs', 'showHiddenMetricsForVersion', 'systemReservedCgroup', 'kubeReservedCgroup',
    'enforceNodeAllocatable', 'allowedUnsafeSysctls', 'volumePluginDir', 'providerID', 'kernelMemcgNotification',
    'logging', 'enableSystemLogHandler', 'enableSystemLogQuery', 'shutdownGracePeriod',
    'shutdownGracePeriodCriticalPods', 'shutdownGracePeriodByPodPriority', 'reservedMemory',
    'enableProfilingHandler', 'enableDebugFlagsHandler', 'seccompDefault', 'memoryThrottlingFactor',
    'registerWithTaints', 'registerNode', 'tracing', 'localStorageCapacityIsolation', 'containerRuntimeEndpoint',
    'imageServiceEndpoint')
KUBELET_FIELDS_SINCE = {
    'failCgroupV1': 31, 'singleProcessOOMKill': 32, 'crashLoopBackOff': 32,
    'imagePullCredentialsVerificationPolicy': 33, 'preloadedImagesVerificationAllowlist': 33,
    'mergeDefaultEvictionSettings': 33, 'userNamespaces': 33,
}


def _schemas(v4, minor):
    """{kind: schema} of a kubeadm API (v1beta4 when v4) as the kubeadm of 1.<minor> reads it."""
    args = 'args4' if v4 else 'args3'
    endpoint = {'advertiseAddress': _ANY, 'bindPort': _ANY}
    registration = {'name': _ANY, 'criSocket': _ANY, 'taints': 'taints', 'kubeletExtraArgs': args,
                    'ignorePreflightErrors': _ANY, 'imagePullPolicy': _ANY}
    token = {'token': 'token', 'description': _ANY, 'ttl': _ANY, 'expires': _ANY, 'usages': _ANY, 'groups': _ANY}
    patches = {'directory': _ANY}
    volume = [{'name': _ANY, 'hostPath': _ANY, 'mountPath': _ANY, 'readOnly': _ANY, 'pathType': _ANY}]
    component = {'extraArgs': args, 'extraVolumes': volume}
    image = {'imageRepository': _ANY, 'imageTag': _ANY}
    local_etcd = dict(image, dataDir=_ANY, extraArgs=args, serverCertSANs=_ANY, peerCertSANs=_ANY)
    external_etcd = {'endpoints': _ANY, 'caFile': _ANY, 'certFile': _ANY, 'keyFile': _ANY}
    api_server = dict(component, certSANs=_ANY)
    dns = dict(image)
    bootstrap = {'token': 'token', 'apiServerEndpoint': _ANY, 'caCertHashes': 'hashes', 'unsafeSkipCAVerification': _ANY}
    discovery = {'bootstrapToken': bootstrap, 'file': {'kubeConfigPath': _ANY}, 'tlsBootstrapToken': 'token'}
    init = {'apiVersion': _ANY, 'kind': _ANY, 'bootstrapTokens': [token], 'nodeRegistration': registration,
            'localAPIEndpoint': endpoint, 'certificateKey': 'key', 'skipPhases': _ANY, 'patches': patches}
    cluster = {'apiVersion': _ANY, 'kind': _ANY, 'etcd': {'local': local_etcd, 'external': external_etcd},
               'networking': {'serviceSubnet': 'cidrs', 'podSubnet': 'cidrs', 'dnsDomain': _ANY},
               'kubernetesVersion': 'version', 'controlPlaneEndpoint': _ANY, 'apiServer': api_server,
               'controllerManager': component, 'scheduler': dict(component), 'dns': dns, 'certificatesDir': _ANY,
               'imageRepository': _ANY, 'featureGates': _ANY, 'clusterName': _ANY}
    join = {'apiVersion': _ANY, 'kind': _ANY, 'nodeRegistration': dict(registration), 'caCertPath': _ANY,
            'discovery': discovery, 'controlPlane': {'localAPIEndpoint': dict(endpoint), 'certificateKey': 'key'},
            'skipPhases': _ANY, 'patches': dict(patches)}
    if v4:
        timeouts = dict((name, _ANY) for name in ('controlPlaneComponentHealthCheck', 'kubeletHealthCheck',
                                                  'kubernetesAPICall', 'etcdAPICall', 'tlsBootstrap', 'discovery',
                                                  'upgradeManifests'))
        for reg in (registration, join['nodeRegistration']):
            reg['imagePullSerial'] = _ANY
        for comp in (component, api_server, cluster['scheduler'], local_etcd):
            comp['extraEnvs'] = _ANY
        dns['disabled'] = _ANY
        if minor >= 35:
            external_etcd['httpEndpoints'] = _ANY
        cluster.update(proxy={'disabled': _ANY}, encryptionAlgorithm=_ANY, certificateValidityPeriod=_ANY,
                       caCertificateValidityPeriod=_ANY)
        init.update(dryRun=_ANY, timeouts=timeouts)
        join.update(dryRun=_ANY, timeouts=dict(timeouts))
    else:
        api_server['timeoutForControlPlane'] = _ANY
        discovery['timeout'] = _ANY
    kubelet = dict((name, _ANY) for name in KUBELET_FIELDS)
    kubelet.update((name, _ANY) for name, since in KUBELET_FIELDS_SINCE.items() if minor >= since)
    kubelet.update(apiVersion=_ANY, kind=_ANY, cgroupDriver='cgroup_driver')
    return {'InitConfiguration': init, 'ClusterConfiguration': cluster, 'JoinConfiguration': join,
            'KubeletConfiguration': kubelet}


# --- validate ------------------------------------------------------------------------------

class _Checker(object):
    def __init__(self, api, minor, problems):
        self.api = api
        self.v4 = api == V1BETA4
        self.minor = minor
        self.problems = problems

    def add(self, text):
        self.problems.append(text)

    def walk(self, value, schema, path):
        if schema is _ANY:
            return
        if isinstance(schema, str):
            getattr(self, 'check_' + schema)(value, path)
        elif isinstance(schema, list):
            if not isinstance(value, list):
                self.add('%s is %s, not a list; allowed: a list of mappings' % (path, what(value)))
                return
            for index, item in enumerate(value):
                self.walk(item, schema[0], '%s[%d]' % (path, index))
        elif not isinstance(value, dict):
            self.add('%s is %s, not a mapping; allowed: {%s}' % (path, what(value), ', '.join(k for k in schema if k not in ('apiVersion', 'kind'))))
        else:
            self.fields(value, schema, path)

    def fields(self, value, schema, path):
        missing = [key for key in schema if key not in value]
        kubelet = path.startswith('KubeletConfiguration')
        for key in sorted(value, key=str):
            if key in schema:
                self.walk(value[key], schema[key], '%s.%s' % (path, key))
                continue
            guess = difflib.get_close_matches(str(key), missing, 1, 0.75) or difflib.get_close_matches(str(key), list(schema), 1, 0.75)
            hint = ' (did you mean %s?)' % guess[0] if guess else ''
            if kubelet:
                where, who = '%s of Kubernetes 1.%d' % (KUBELET_API, self.minor), 'the kubelet'
                allowed = 'the fields of KubeletConfiguration (kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1)'
            else:
                where, who = self.api, 'kubeadm'
                allowed = ', '.join(k for k in schema if k not in ('apiVersion', 'kind'))
            self.add('%s.%s is not a field of %s%s (%s would ignore it); allowed: %s'
                     % (path, show(key), where, hint, who, allowed))

    # the checks of single fields -------------------------------------------------------

    def check_args3(self, value, path):
        if isinstance(value, list):
            self.add('%s is a list of {name, value}: the v1beta4 form; allowed in %s: a map of flag name to '
                     'string value' % (path, self.api))
        elif not isinstance(value, dict):
            self.add("%s '%s' is not a map; allowed: a map of flag name to string value" % (path, show(value)))
        else:
            for name in sorted(value, key=str):
                if not isinstance(value[name], str):
                    self.add("%s.%s '%s' is not a string; allowed: a quoted value" % (path, show(name), show(value[name])))

    def check_args4(self, value, path):
        if isinstance(value, dict):
            self.add('%s is a map: the v1beta3 form; allowed in %s: a list of {name, value}' % (path, self.api))
        elif not isinstance(value, list):
            self.add("%s '%s' is not a list; allowed: a list of {name, value}" % (path, show(value)))
        else:
            for index, arg in enumerate(value):
                apath = '%s[%d]' % (path, index)
                if not isinstance(arg, dict) or sorted(arg) != ['name', 'value']:
                    self.add("%s '%s' is not {name, value}; allowed: a flag name without dashes and its value"
                             % (apath, show(arg)))
                elif not isinstance(arg['name'], str) or not arg['name'] or not isinstance(arg['value'], str):
                    self.add("%s '%s' does not have a string name and value; allowed: {name: node-ip, value: "
                             "'10.0.0.1'}" % (apath, show(arg)))

    def check_taints(self, value, path):
        if value is None:
            return      # unset: kubeadm's default (the control-plane taint on control planes)
        if not isinstance(value, list):
            self.add("%s '%s' is not a list; allowed: a list of {key, value, effect}" % (path, show(value)))
            return
        schema = {'key': _ANY, 'value': _ANY, 'effect': _ANY, 'timeAdded': _ANY}
        for index, taint in enumerate(value):
            tpath = '%s[%d]' % (path, index)
            if not isinstance(taint, dict):
                self.add("%s '%s' is not a mapping; allowed: {key, value, effect}" % (tpath, show(taint)))
                continue
            self.fields(taint, schema, tpath)
            if not taint.get('key'):
                self.add('%s.key is not defined; required: a taint key such as nvidia.com/gpu' % tpath)
            if taint.get('effect') not in TAINT_EFFECTS:
                self.add("%s.effect '%s' is not a taint effect; allowed: %s"
                         % (tpath, show(taint.get('effect')), ', '.join(TAINT_EFFECTS)))

    def check_token(self, value, path):
        if value is not None and not (isinstance(value, str) and TOKEN_RE.match(value)):
            self.add('%s is not a bootstrap token; allowed: %s' % (path, TOKEN_ALLOWED))

    def check_key(self, value, path):
        if value not in (None, '') and not (isinstance(value, str) and CERTIFICATE_KEY_RE.match(value)):
            self.add('%s is not a certificate key; allowed: %s' % (path, CERTIFICATE_KEY_ALLOWED))

    def check_hashes(self, value, path):
        if value is None:
            return
        if not isinstance(value, list):
            self.add('%s is not a list; allowed: a list of %s' % (path, CA_CERT_HASH_ALLOWED))
            return
        for index, item in enumerate(value):
            if not (isinstance(item, str) and CA_CERT_HASH_RE.match(item)):
                self.add('%s[%d] is not a CA certificate hash; allowed: %s' % (path, index, CA_CERT_HASH_ALLOWED))

    def check_cidrs(self, value, path):
        if not isinstance(value, str) or not value:
            self.add("%s '%s' is not a CIDR; allowed: a network address with prefix length, such as 10.244.0.0/16 "
                     "(two, comma-separated, for dual stack)" % (path, show(value)))
            return
        for part in value.split(','):
            net, problem = parse_cidr(part.strip())
            if net is None:
                allowed = '' if '; allowed' in problem else '; allowed: a network address with prefix length, such as 10.244.0.0/16'
                self.add("%s '%s' %s%s" % (path, show(part.strip()), problem, allowed))

    def check_version(self, value, path):
        match = _KUBERNETES_VERSION_RE.match(value) if isinstance(value, str) else None
        if match is None:
            self.add("%s '%s' is not a release; allowed: vX.Y.Z such as v1.%d.0" % (path, show(value), self.minor))
        elif (int(match.group(1)), int(match.group(2))) != (1, self.minor):
            self.add("%s '%s' is not a 1.%d release; allowed: v1.%d.Z (the version the configuration is rendered for)"
                     % (path, value, self.minor, self.minor))

    def check_cgroup_driver(self, value, path):
        if value is not None and value not in CGROUP_DRIVERS:
            self.add("%s '%s' is not a cgroup driver; allowed: %s" % (path, show(value), ', '.join(CGROUP_DRIVERS)))


def _required(kind, doc, add):
    if kind == 'InitConfiguration':
        registration = doc.get('nodeRegistration') or {}
        if isinstance(registration, dict) and not registration.get('name'):
            add('InitConfiguration.nodeRegistration.name is not defined; required: the node name (kubeadm would '
                'take the hostname)')
    elif kind == 'ClusterConfiguration':
        if not doc.get('kubernetesVersion'):
            add('ClusterConfiguration.kubernetesVersion is not defined; required: vX.Y.Z (kubeadm would ask the '
                'internet for the latest stable release)')
    elif kind == 'JoinConfiguration':
        discovery = doc.get('discovery')
        if not discovery:
            add('JoinConfiguration.discovery is not defined; required: {bootstrapToken: {apiServerEndpoint, token, '
                'caCertHashes}} or {file: {kubeConfigPath}}')
        elif isinstance(discovery, dict):
            ways = [way for way in ('bootstrapToken', 'file') if discovery.get(way)]
            if len(ways) != 1:
                add('JoinConfiguration.discovery has %s; required: exactly one of bootstrapToken, file'
                    % (' and '.join(ways) if ways else 'neither bootstrapToken nor file'))
            bootstrap = discovery.get('bootstrapToken')
            if isinstance(bootstrap, dict) and bootstrap.get('token') and not bootstrap.get('caCertHashes') \
                    and not bootstrap.get('unsafeSkipCAVerification'):
                add('JoinConfiguration.discovery.bootstrapToken has a token but no caCertHashes; required: the '
                    'hash of the cluster CA (kubeadm refuses token discovery without CA pinning)')


def validate(docs, k8s_version):
    """The problems of kubeadm documents for a Kubernetes version: a list of strings, one per problem.

    Messages name the kind and the dotted field path (``InitConfiguration.nodeRegistration.critSocket``);
    they never contain a token, certificate key or CA hash.
    """
    problems = []
    try:
        minor = parse_minor(k8s_version)
    except ValueError as exc:
        return [str(exc)]
    expected = api_version(k8s_version)
    if not isinstance(docs, list):
        return ['the kubeadm configuration is %s, not a list of documents' % what(docs)]
    seen = {}
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            problems.append('document %d is %s, not a mapping; allowed: a kubeadm document {apiVersion, kind, ...}'
                            % (index, what(doc)))
            continue
        kind = doc.get('kind')
        if kind not in ('InitConfiguration', 'ClusterConfiguration', 'JoinConfiguration', 'KubeletConfiguration'):
            problems.append("document %d kind '%s' is not a kind we render; allowed: InitConfiguration, "
                            "ClusterConfiguration, JoinConfiguration, KubeletConfiguration" % (index, show(kind)))
            continue
        if kind in seen:
            problems.append('document %d is a second %s (document %d is the first); allowed: one of each kind'
                            % (index, kind, seen[kind]))
            continue
        seen[kind] = index
        api = doc.get('apiVersion')
        want = KUBELET_API if kind == 'KubeletConfiguration' else expected
        if api != want:
            problems.append("%s.apiVersion '%s' is not the API of Kubernetes 1.%d; allowed: %s%s"
                            % (kind, show(api), minor, want, '' if kind == 'KubeletConfiguration' else
                               ' (kubeadm.k8s.io/v1beta3 up to 1.30, v1beta4 from 1.31)'))
            if api not in (V1BETA3, V1BETA4, KUBELET_API) or (api == KUBELET_API) != (kind == 'KubeletConfiguration'):
                continue    # the fields of an API we do not know are not checked
        checker = _Checker(expected if kind == 'KubeletConfiguration' else api, minor, problems)
        checker.fields(doc, _schemas(checker.v4, minor)[kind], kind)
        _required(kind, doc, problems.append)
    kinds = set(seen)
    if 'JoinConfiguration' in kinds and kinds & set(['InitConfiguration', 'ClusterConfiguration']):
        problems.append('the configuration has a JoinConfiguration and an %s; allowed: InitConfiguration, '
                        'ClusterConfiguration and KubeletConfiguration (init) or one JoinConfiguration (join)'
                        % ('InitConfiguration' if 'InitConfiguration' in kinds else 'ClusterConfiguration'))
    return problems
