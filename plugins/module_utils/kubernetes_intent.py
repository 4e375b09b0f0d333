# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the Kubernetes intent: ``cluster_kubernetes`` and ``kubernetes_kubelet_version``.

Plain data in, one message per problem out (``<host>: <variable> '<value>' <what is
wrong>; <what is allowed>``), like inventory_check, which calls ``check_kubernetes``.
Problems of the intent itself and of the groups ``kube_control_plane`` and ``kube_nodes``
are reported once, for host ``all``; the kubelet version of a node names the node.

cluster_kubernetes: {
    version: "X.Y.Z" (kubeadm, kubelet and kubectl pinned together; minors SUPPORTED),
    control_plane_endpoint: {host: DNS name or IP, port: 1-65535 (default 6443)},
    vip: IP (the keepalived VIP, in cluster_networks.mgmt; with ha_mode keepalived only),
    ha_mode: keepalived (default) | external | none (one control plane only),
    pod_cidr, service_cidr: CIDRs that overlap neither each other nor a cluster network,
    cni: calico | cilium, cni_manifest_url: the CNI manifest on the site mirror (http(s)), cgroup_driver: systemd (default) | cgroupfs,
    gpu_taints: {hardware profile: [{key, value, effect}]},
    node_labels: {hardware profile: {key: value}},
    gpu_operator, network_operator: the operators' charts and settings (kubernetes_operators_intent)}
kubernetes_kubelet_version (per host, optional): the kubelet of a node mid-upgrade, never
    newer than the API server (``version``) and at most KUBELET_MAX_SKEW minors older.
container_runtime_cgroup_driver, container_runtime_disable_swap (per Kubernetes host, optional):
    the intent's cgroup driver, and true (a kubelet refuses to start otherwise).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import re

from ansible_collections.aifabric.cluster.plugins.module_utils.host_names import LABEL_RE as _LABEL_RE, natural_key
from ansible_collections.aifabric.cluster.plugins.module_utils.kubernetes_operators_intent import check_operators, URL_RE

try:
    import netaddr
except ImportError:  # pragma: no cover - inventory_check reports the missing library
    netaddr = None

INTENT_VAR = 'cluster_kubernetes'
KUBELET_VAR = 'kubernetes_kubelet_version'
CGROUP_DRIVER_VAR = 'container_runtime_cgroup_driver'
SWAP_VAR = 'container_runtime_disable_swap'
CONTROL_PLANE_GROUP = 'kube_control_plane'
NODE_GROUP = 'kube_nodes'

SUPPORTED = (30, 35)        # the Kubernetes 1.y minors the roles install
KUBELET_MAX_SKEW = 3        # version-skew policy: a kubelet up to 3 minors older than the API server
DEFAULT_PORT = 6443
KEYS = ('version', 'control_plane_endpoint', 'vip', 'ha_mode', 'pod_cidr', 'service_cidr', 'cni', 'cni_manifest_url', 'cgroup_driver',
        'gpu_taints', 'node_labels', 'gpu_operator', 'network_operator')
REQUIRED = ('version', 'control_plane_endpoint', 'pod_cidr', 'service_cidr', 'cni', 'cni_manifest_url')
ENDPOINT_KEYS = ('host', 'port')
HA_MODES = ('keepalived', 'external', 'none')
DEFAULT_HA_MODE = 'keepalived'
CNIS = ('calico', 'cilium')
CGROUP_DRIVERS = ('systemd', 'cgroupfs')
TAINT_KEYS = ('key', 'value', 'effect')
TAINT_EFFECTS = ('NoSchedule', 'PreferNoSchedule', 'NoExecute')
# label keys preflight refuses in node_labels: (prefix, why)
REFUSED_LABELS = (
    ('node-role.kubernetes.io/', 'is set by the roles from kube_control_plane and kube_nodes'),
    ('nvidia.com/gpu.', 'is owned by GPU Feature Discovery, which sets it from the hardware'),
    ('nvidia.com/cuda.', 'is owned by GPU Feature Discovery, which sets it from the driver'),
)
# the host address variables a VIP must not take
ADDRESS_VARS = ('node_mgmt_ip', 'node_fabric_ip', 'node_bmc_ip')

VERSION_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)$')
# Kubernetes qualified names (label and taint keys) and label values (apimachinery validation)
_NAME_RE = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')

SHAPE = ('{version, control_plane_endpoint, pod_cidr, service_cidr, cni, cni_manifest_url, optional vip, ha_mode, cgroup_driver, '
         'gpu_taints, node_labels, gpu_operator, network_operator}')
VERSION_ALLOWED = 'a quoted X.Y.Z such as "1.34.2", minor 1.%d-1.%d' % SUPPORTED
ENDPOINT_ALLOWED = '{host: a DNS name or IP address, port: an integer 1-65535 (default %d)}' % DEFAULT_PORT
CIDR_EXAMPLE = 'a network address with prefix length, such as 10.244.0.0/16'
LABEL_KEY_ALLOWED = ("an optional DNS-subdomain prefix and '/', then a name of at most 63 characters: letters, "
                     "digits, '-', '_', '.', starting and ending with a letter or digit")
LABEL_VALUE_ALLOWED = ("a string of at most 63 characters: letters, digits, '-', '_', '.', starting and ending with "
                       "a letter or digit (or empty); quote numbers and booleans")


def show(value):
    if isinstance(value, bool):
        text = 'true' if value else 'false'
    elif value is None:
        text = 'null'
    else:
        text = str(value)
    text = text.replace('\n', ' ')
    return text if len(text) <= 120 else text[:117] + '...'


def _members(groups, name):
    found = groups.get(name)
    if found is None:
        return None
    return [found] if isinstance(found, str) else list(found)


def parse_version(value):
    """(major, minor, patch) of an 'X.Y.Z' string, else None (no leading 'v', no float)."""
    if not isinstance(value, str):
        return None
    match = VERSION_RE.match(value)
    return tuple(int(part) for part in match.groups()) if match else None


def parse_ip(value):
    """netaddr.IPAddress of a plain address string (strict: no '10.1', no '010.0.0.1'), else None."""
    if netaddr is None or not isinstance(value, str) or not value or '/' in value:
        return None
    try:
        return netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def parse_cidr(value):
    """(netaddr.IPNetwork, None) of a network in CIDR notation, else (None, what is wrong)."""
    if netaddr is None:  # pragma: no cover
        return None, 'cannot be checked without netaddr'
    if not isinstance(value, str) or value.count('/') != 1:
        return None, 'is not a CIDR'
    address, prefix = value.split('/')
    ip = parse_ip(address)
    if ip is None or not prefix.isdigit() or int(prefix) > (32 if ip.version == 4 else 128):
        return None, 'is not a CIDR'
    net = netaddr.IPNetwork(value)
    if net.ip != net.network:
        return None, 'has host bits set; allowed: the network address, %s' % net.cidr
    return net, None


def _as_network(value):
    if netaddr is None:  # pragma: no cover
        return None
    try:
        return netaddr.IPNetwork(str(value))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def is_dns_name(name):
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    labels = name.rstrip('.').split('.')
    return all(_LABEL_RE.match(label) for label in labels) and not labels[-1].isdigit()


def label_key_problem(key):
    """Why key is not a Kubernetes label (or taint) key, or None when it is one."""
    if not isinstance(key, str) or not key:
        return 'is not a string'
    prefix, sep, name = key.rpartition('/')
    if sep and (not prefix or len(prefix) > 253 or not all(_LABEL_RE.match(part) for part in prefix.split('.'))):
        return "has a prefix '%s' that is not a DNS subdomain" % show(prefix)
    if not name or len(name) > 63 or not _NAME_RE.match(name):
        return "has a name '%s' that is not a label name" % show(name)
    return None


def label_value_ok(value):
    return isinstance(value, str) and (value == '' or (len(value) <= 63 and bool(_NAME_RE.match(value))))


def _unknown_keys(value, keys, path, report):
    """Report the keys of value not in keys (with a near miss named); return the keys they stand for."""
    missing = [key for key in keys if key not in value]
    claimed = set()
    for key in sorted((key for key in value if key not in keys), key=str):
        guess = difflib.get_close_matches(str(key), [k for k in missing if k not in claimed], 1, 0.75)
        hint = ''
        if guess:
            claimed.add(guess[0])
            hint = ' (did you mean %s?)' % guess[0]
        report.add('all', '%s.%s is not a known key%s; allowed: %s' % (path, show(key), hint, ', '.join(keys)))
    return claimed


def _one_of(intent, key, choices, default, report):
    """The value of an optional choice key (default when unset), or None when it is not one of choices."""
    value = intent.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value in choices:
        return value
    report.add('all', "%s.%s '%s' is not supported; allowed: %s" % (INTENT_VAR, key, show(value), ', '.join(choices)))
    return None


def _check_groups(groups, cluster, report):
    """kube_control_plane and kube_nodes: present, non-empty, in the cluster; returns the control planes."""
    planes = None
    for group, what in ((CONTROL_PLANE_GROUP, 'the control-plane hosts (1, 3 or 5; stacked etcd)'),
                        (NODE_GROUP, 'the hosts that join as Kubernetes nodes, such as gpu_nodes')):
        members = _members(groups, group)
        if not members:
            report.add('all', '%s is not defined or has no hosts; required when %s is set: a group of %s'
                       % (group, INTENT_VAR, what))
            continue
        for host in sorted(set(members), key=natural_key):
            if host not in cluster:
                report.add('all', "%s '%s' is not a host of the cluster group; allowed: hosts of the cluster group and "
                           "its node groups (the hosts the roles manage)" % (group, show(host)))
        if group == CONTROL_PLANE_GROUP:
            planes = sorted(set(members), key=natural_key)
            if len(planes) % 2 == 0:
                report.add('all', "%s '%s' has %d hosts; allowed: an odd number, 1 or 3 or more (stacked etcd keeps "
                           "quorum with a majority: an even count adds a failure point, not tolerance)"
                           % (group, ', '.join(planes), len(planes)))
    return planes


def _check_version(intent, report):
    value = intent.get('version')
    if value is None:
        return None
    version = parse_version(value)
    if version is None:
        report.add('all', "%s.version '%s' is not a version X.Y.Z; allowed: %s" % (INTENT_VAR, show(value), VERSION_ALLOWED))
        return None
    if version[0] != 1 or not SUPPORTED[0] <= version[1] <= SUPPORTED[1]:
        report.add('all', "%s.version '%s' is not a supported release (minor %d.%d); allowed: 1.%d-1.%d (kubeadm, kubelet "
                   "and kubectl of one X.Y.Z)" % (INTENT_VAR, value, version[0], version[1], SUPPORTED[0], SUPPORTED[1]))
        return None
    return version


def _check_kubelets(hosts, kube_hosts, version, report):
    """kubernetes_kubelet_version: never newer than the API server, at most KUBELET_MAX_SKEW minors older."""
    oldest = max(version[1] - KUBELET_MAX_SKEW, 0)
    allowed = ('1.%d.x-1.%d.x (a kubelet is never newer than the API server and at most %d minors older)'
               % (oldest, version[1], KUBELET_MAX_SKEW))
    api = '%s.version \'%d.%d.%d\'' % ((INTENT_VAR,) + version)
    for host in kube_hosts:
        value = (hosts.get(host) or {}).get(KUBELET_VAR)
        if value is None:
            continue  # the kubelet is at version
        kubelet = parse_version(value)
        if kubelet is None:
            report.add(host, "%s '%s' is not a version X.Y.Z; allowed: unset (%s applies), or %s"
                       % (KUBELET_VAR, show(value), api, allowed))
        elif kubelet[0] != version[0] or kubelet[1] > version[1]:
            report.add(host, "%s '%s' is newer than the API server (%s); allowed: %s" % (KUBELET_VAR, value, api, allowed))
        elif version[1] - kubelet[1] > KUBELET_MAX_SKEW:
            report.add(host, "%s '%s' is %d minors older than the API server (%s); allowed: %s"
                       % (KUBELET_VAR, value, version[1] - kubelet[1], api, allowed))


def _check_runtime_vars(hosts, kube_hosts, intent, report):
    """The container runtime's inputs a Kubernetes host may set that would stop its kubelet: a cgroup
    driver other than the intent's (the kubelet refuses to start on the mismatch) and swap kept on
    (the kubelet refuses to start with swap)."""
    driver = intent.get('cgroup_driver') or 'systemd'
    if driver not in CGROUP_DRIVERS:
        return  # reported once, for all
    for host in kube_hosts:
        host_vars = hosts.get(host) or {}
        value = host_vars.get(CGROUP_DRIVER_VAR)
        if value is not None and value != driver:
            report.add(host, "%s '%s' differs from %s.cgroup_driver '%s', the kubelet's: the kubelet refuses to start "
                       "on a cgroup-driver mismatch with containerd; allowed: '%s', or unset (it follows the intent)"
                       % (CGROUP_DRIVER_VAR, show(value), INTENT_VAR, driver, driver))
        value = host_vars.get(SWAP_VAR)
        if value is not None and value is not True and str(value).lower() not in ('true', 'yes', '1'):
            report.add(host, "%s '%s' keeps swap on, and the kubelet refuses to start with swap on; allowed: true "
                       "(swap off, and kept out of /etc/fstab), or unset" % (SWAP_VAR, show(value)))


def _check_endpoint(intent, report):
    """control_plane_endpoint; returns its host as an IPAddress when it is one."""
    path = '%s.control_plane_endpoint' % INTENT_VAR
    endpoint = intent.get('control_plane_endpoint')
    if endpoint is None:
        return None
    if not isinstance(endpoint, dict):
        report.add('all', "%s '%s' is not a mapping; allowed: %s" % (path, show(endpoint), ENDPOINT_ALLOWED))
        return None
    claimed = _unknown_keys(endpoint, ENDPOINT_KEYS, path, report)
    host = endpoint.get('host')
    address = None
    if 'host' in claimed:
        pass
    elif host is None or host == '':
        report.add('all', '%s.host is not defined; required: a DNS name or IP address of the API server' % path)
    else:
        address = parse_ip(host)
        if address is None and not is_dns_name(host):
            report.add('all', "%s.host '%s' is not a DNS name or IP address; allowed: a lowercase DNS name such as "
                       "k8s-api.example.internal, or an IP address" % (path, show(host)))
    port = endpoint.get('port')
    if 'port' not in claimed and port is not None and \
            (isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535):
        report.add('all', "%s.port '%s' is not a port; allowed: an integer 1-65535, unquoted (default %d)"
                   % (path, show(port), DEFAULT_PORT))
    return address


def _check_lb_port(intent, report):
    """With keepalived, haproxy listens at the endpoint's port on the control planes: not the API servers' own."""
    if intent.get('ha_mode', DEFAULT_HA_MODE) != 'keepalived':
        return
    endpoint = intent.get('control_plane_endpoint') or {}
    if endpoint.get('port', DEFAULT_PORT) == DEFAULT_PORT:
        report.add('all', "%s.control_plane_endpoint.port %d is the API servers' own port on the control planes, where "
                   "haproxy listens with ha_mode 'keepalived'; allowed: another port (8443 in the kubeadm HA guide)"
                   % (INTENT_VAR, DEFAULT_PORT))


def _check_ha(intent, hosts, gateways, planes, endpoint_ip, networks, report):
    """ha_mode against the control planes; the VIP with keepalived (gateways: {IPAddress: path})."""
    ha_mode = _one_of(intent, 'ha_mode', HA_MODES, DEFAULT_HA_MODE, report)
    vip = intent.get('vip')
    path = '%s.vip' % INTENT_VAR
    if ha_mode == 'none' and planes and len(planes) > 1:
        report.add('all', "%s.ha_mode 'none' leaves %d control planes (%s) without a load balancer; allowed: "
                   "keepalived or external, or one host in %s"
                   % (INTENT_VAR, len(planes), ', '.join(planes), CONTROL_PLANE_GROUP))
    if ha_mode in ('none', 'external'):
        if vip not in (None, ''):
            report.add('all', "%s '%s' is set while ha_mode is '%s'; allowed: unset, or ha_mode keepalived (the VIP "
                       "keepalived holds)" % (path, show(vip), ha_mode))
        return
    if ha_mode is None:
        return
    mgmt = _as_network(networks.get('mgmt')) if isinstance(networks, dict) and networks.get('mgmt') else None
    where = 'a free address in cluster_networks.mgmt (%s)' % mgmt if mgmt is not None else 'a free IP address'
    if vip is None or vip == '':
        report.add('all', "%s is not defined; required with ha_mode 'keepalived': %s" % (path, where))
        return
    address = parse_ip(vip)
    if address is None:
        report.add('all', "%s '%s' is not an IP address; allowed: %s" % (path, show(vip), where))
        return
    if mgmt is not None:
        problem = None
        if address.version != mgmt.version or address not in mgmt:
            problem = 'is outside cluster_networks.mgmt %s' % mgmt
        elif address == mgmt.network or (mgmt.version == 4 and mgmt.prefixlen < 31 and address == mgmt.broadcast):
            problem = 'is not a host address of cluster_networks.mgmt %s' % mgmt
        if problem:
            report.add('all', "%s '%s' %s; allowed: %s (keepalived moves it between the control planes there)"
                       % (path, vip, problem, where))
            return
    for host in sorted(hosts, key=natural_key):
        host_vars = hosts.get(host) or {}
        for var in ADDRESS_VARS:
            if parse_ip(host_vars.get(var)) == address:
                report.add('all', "%s '%s' is also the address of %s (%s); allowed: %s that no host has"
                           % (path, vip, host, var, where))
                return
    if address in gateways:
        report.add('all', "%s '%s' is the gateway of %s; allowed: %s that is no gateway" % (path, vip, gateways[address], where))
        return
    if endpoint_ip is not None and endpoint_ip != address:
        report.add('all', "%s.control_plane_endpoint.host '%s' is not the vip '%s'; allowed: the vip, or a DNS name "
                   "that resolves to it (with ha_mode keepalived the API server is reached at the VIP)"
                   % (INTENT_VAR, endpoint_ip, vip))


def _gateways(host_vars):
    """The gateways of cluster_networks (as the intent's host sees them): {IPAddress: path}."""
    out = {}
    nets = host_vars.get('cluster_networks')
    for name in sorted(nets if isinstance(nets, dict) else {}, key=str):
        net_def = nets[name]
        gateway = parse_ip(net_def.get('gateway')) if isinstance(net_def, dict) else None
        if gateway is not None:
            out[gateway] = 'cluster_networks.%s' % name
    return out


def _check_cidrs(intent, networks, report):
    found = []
    for key in ('pod_cidr', 'service_cidr'):
        value = intent.get(key)
        if value is None:
            continue
        net, problem = parse_cidr(value)
        if net is None:
            allowed = '' if '; allowed' in problem else '; allowed: %s' % CIDR_EXAMPLE
            report.add('all', "%s.%s '%s' %s%s" % (INTENT_VAR, key, show(value), problem, allowed))
            continue
        for other_path, other in found:
            if net.version == other.version and net.first <= other.last and other.first <= net.last:
                report.add('all', "%s.%s '%s' overlaps %s '%s'; allowed: pod and service ranges that do not overlap"
                           % (INTENT_VAR, key, value, other_path, other))
        for name in sorted(networks if isinstance(networks, dict) else {}, key=str):
            other = _as_network(networks[name])
            if other is not None and net.version == other.version and net.first <= other.last and other.first <= net.last:
                report.add('all', "%s.%s '%s' overlaps cluster_networks.%s '%s'; allowed: a range outside every cluster "
                           "network (pod and service addresses are routed inside the cluster only)"
                           % (INTENT_VAR, key, value, name, other))
        found.append(('%s.%s' % (INTENT_VAR, key), net))


def _profiles_map(intent, key, known, report):
    """The {profile: value} mapping of gpu_taints / node_labels, the unknown profiles reported."""
    path = '%s.%s' % (INTENT_VAR, key)
    value = intent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        report.add('all', "%s '%s' is not a mapping; allowed: {hardware profile: %s}"
                   % (path, show(value), '[{key, value, effect}]' if key == 'gpu_taints' else '{label key: value}'))
        return {}
    out = {}
    for profile in sorted(value, key=natural_key):
        if known is not None and profile not in known:
            report.add('all', "%s.%s is not a known hardware profile; allowed: %s"
                       % (path, show(profile), ', '.join(sorted(known, key=natural_key))))
            continue
        out[profile] = value[profile]
    return out


def _check_taints(intent, known, report):
    for profile, taints in sorted(_profiles_map(intent, 'gpu_taints', known, report).items()):
        path = '%s.gpu_taints.%s' % (INTENT_VAR, profile)
        if not isinstance(taints, list):
            report.add('all', "%s '%s' is not a list; allowed: a list of {key, value, effect}, such as {key: "
                       "nvidia.com/gpu, value: present, effect: NoSchedule}" % (path, show(taints)))
            continue
        seen = {}
        for index, taint in enumerate(taints):
            tpath = '%s[%d]' % (path, index)
            if not isinstance(taint, dict):
                report.add('all', "%s '%s' is not a mapping; allowed: {key, value (optional), effect}" % (tpath, show(taint)))
                continue
            claimed = _unknown_keys(taint, TAINT_KEYS, tpath, report)
            key, effect = taint.get('key'), taint.get('effect')
            key_ok = effect_ok = False
            if 'key' in claimed:
                pass
            elif key is None:
                report.add('all', '%s.key is not defined; required: a label key such as nvidia.com/gpu' % tpath)
            elif label_key_problem(key):
                report.add('all', "%s.key '%s' %s; allowed: %s" % (tpath, show(key), label_key_problem(key), LABEL_KEY_ALLOWED))
            else:
                key_ok = True
            if 'value' not in claimed and taint.get('value') is not None and not label_value_ok(taint['value']):
                report.add('all', "%s.value '%s' is not a taint value; allowed: %s" % (tpath, show(taint['value']),
                                                                                       LABEL_VALUE_ALLOWED))
            if 'effect' in claimed:
                pass
            elif effect is None:
                report.add('all', '%s.effect is not defined; required: one of %s' % (tpath, ', '.join(TAINT_EFFECTS)))
            elif effect not in TAINT_EFFECTS:
                report.add('all', "%s.effect '%s' is not a taint effect; allowed: %s"
                           % (tpath, show(effect), ', '.join(TAINT_EFFECTS)))
            else:
                effect_ok = True
            if key_ok and effect_ok:
                if (key, effect) in seen:
                    report.add('all', "%s '%s:%s' repeats %s[%d]; allowed: one taint per key and effect (the API "
                               "server refuses duplicates)" % (tpath, key, effect, path, seen[(key, effect)]))
                else:
                    seen[(key, effect)] = index


def _check_labels(intent, known, report):
    for profile, labels in sorted(_profiles_map(intent, 'node_labels', known, report).items()):
        path = '%s.node_labels.%s' % (INTENT_VAR, profile)
        if not isinstance(labels, dict):
            report.add('all', "%s '%s' is not a mapping; allowed: {label key: value}, such as {aifabric.io/rack: r12}"
                       % (path, show(labels)))
            continue
        for key in sorted(labels, key=str):
            lpath = '%s.%s' % (path, show(key))
            problem = label_key_problem(key)
            refused = [why for prefix, why in REFUSED_LABELS if isinstance(key, str) and key.startswith(prefix)]
            if problem:
                report.add('all', "%s key '%s' %s; allowed: %s" % (path, show(key), problem, LABEL_KEY_ALLOWED))
            elif refused:
                report.add('all', "%s key '%s' is refused: the label %s; allowed: a label of your own prefix, such as "
                           "aifabric.io/rack" % (path, key, refused[0]))
            elif not label_value_ok(labels[key]):
                report.add('all', "%s '%s' is not a label value; allowed: %s" % (lpath, show(labels[key]), LABEL_VALUE_ALLOWED))


def check_kubernetes(hosts, groups, report, cluster, networks=None, profiles=None):
    """Add the Kubernetes intent's problems to report (an inventory_check._Report).

    Nothing is checked unless some cluster host has ``cluster_kubernetes``.

    :arg hosts: {host: {variable: value}}; the intent is read from the first cluster host
        that has it (group variables are the same on every host).
    :arg groups: {group: [hosts]}: kube_control_plane and kube_nodes are read.
    :arg cluster: the cluster hosts (the ones the roles manage).
    :arg networks: {name: CIDR (string or netaddr.IPNetwork)} of cluster_networks, which the
        pod and service ranges must not overlap and which holds the VIP (mgmt); None: unchecked.
    :arg profiles: hardware profile names gpu_taints and node_labels may name, besides the
        keys of cluster_hw_profiles; None and no cluster_hw_profiles: unchecked.
    """
    ordered = sorted(cluster, key=natural_key)
    source = next((h for h in ordered if INTENT_VAR in (hosts.get(h) or {})), None)
    if source is None:
        return
    host_vars = hosts.get(source) or {}
    intent = host_vars.get(INTENT_VAR)
    planes = _check_groups(groups, cluster, report)
    if not isinstance(intent, dict):
        report.add('all', "%s '%s' is not a mapping; allowed: %s" % (INTENT_VAR, show(intent), SHAPE))
        return

    claimed = _unknown_keys(intent, KEYS, INTENT_VAR, report)
    missing = [key for key in REQUIRED if key not in claimed and intent.get(key) in (None, '')]
    if missing:
        report.add('all', '%s is missing %s; required: %s' % (INTENT_VAR, ', '.join(missing), SHAPE))

    kube_hosts = set(_members(groups, CONTROL_PLANE_GROUP) or []) | set(_members(groups, NODE_GROUP) or [])
    kube_hosts = sorted(kube_hosts & set(cluster), key=natural_key)
    version = _check_version(intent, report)
    if version is not None:
        _check_kubelets(hosts, kube_hosts, version, report)

    before = len(report.messages)
    endpoint_ip = _check_endpoint(intent, report)
    if len(report.messages) == before:
        _check_lb_port(intent, report)
    _check_ha(intent, hosts, _gateways(host_vars), planes, endpoint_ip, networks, report)
    _check_cidrs(intent, networks, report)
    _one_of(intent, 'cni', CNIS, None, report)
    url = intent.get('cni_manifest_url')
    if url not in (None, '') and (not isinstance(url, str) or not URL_RE.match(url)):
        report.add('all', "%s.cni_manifest_url '%s' is not an http(s) URL; allowed: the URL of the CNI's manifest on the site "
                   "mirror, such as http://mirror.example/cni/calico-v3.30.3.yaml" % (INTENT_VAR, show(url)))
    _one_of(intent, 'cgroup_driver', CGROUP_DRIVERS, 'systemd', report)
    _check_runtime_vars(hosts, kube_hosts, intent, report)

    known = None
    hw_profiles = host_vars.get('cluster_hw_profiles')
    if profiles is not None or isinstance(hw_profiles, dict):
        known = set(profiles or []) | set(hw_profiles if isinstance(hw_profiles, dict) else [])
    _check_taints(intent, known, report)
    _check_labels(intent, known, report)
    check_operators(intent, hosts, ordered, networks, report)


UPGRADE_PLAYBOOK = 'playbooks/kubernetes_upgrade.yml'
_RUNNING_RE = re.compile(r'^v?(\d+)\.(\d+)\.(\d+)')


def running_version(value):
    """(major, minor, patch) of a version a tool reports: 'v1.34.2' (/version, nodeInfo), '1.34.2-1.1' (a package)."""
    match = _RUNNING_RE.match(value.strip()) if isinstance(value, str) else None
    return tuple(int(part) for part in match.groups()) if match else None


def _dotted(version):
    return '%d.%d.%d' % version


def live_version_problems(host, target, installed=None, server=None, in_cluster=False, source=INTENT_VAR + '.version'):
    """What stops a converge from moving this host's kubelet to ``target`` (an 'X.Y.Z').

    ``installed``: the kubelet package's version here (dpkg-query; None or '' when absent);
    ``server``: the gitVersion the API server answers on /version (None before the cluster
    exists); ``in_cluster``: the host has joined (/etc/kubernetes/kubelet.conf). A converge
    never changes the version of a node in the cluster (the upgrade playbook drains it first)
    and never installs a kubelet the version-skew policy forbids. One message per problem;
    an unparseable ``target`` is preflight's to report, so it gives none here.
    """
    want = parse_version(target)
    if want is None:
        return []
    problems = []
    have = running_version(installed)
    if in_cluster and have is not None and have != want:
        if want > have:
            problems.append("%s: kubelet %s runs here and %s asks %s: a converge does not upgrade a node of the cluster; "
                            "run %s (control planes first, one minor at a time)"
                            % (host, _dotted(have), source, target, UPGRADE_PLAYBOOK))
        else:
            problems.append("%s: kubelet %s runs here and %s asks %s: downgrades are not supported; allowed: %s or, "
                            "through %s, a newer version"
                            % (host, _dotted(have), source, target, _dotted(have), UPGRADE_PLAYBOOK))
    api = running_version(server)
    if api is not None:
        if want > api:
            problems.append("%s: %s '%s' is newer than the API server (%s): a kubelet is never newer than the API server; "
                            "allowed: %s or older (at most %d minors); upgrade the control plane first with %s"
                            % (host, source, target, server, _dotted(api), KUBELET_MAX_SKEW, UPGRADE_PLAYBOOK))
        elif want[0] == api[0] and api[1] - want[1] > KUBELET_MAX_SKEW:
            problems.append("%s: %s '%s' is %d minors older than the API server (%s); allowed: 1.%d.x-%s"
                            % (host, source, target, api[1] - want[1], server, max(api[1] - KUBELET_MAX_SKEW, 0),
                               _dotted(api)))
    return problems


def upgrade_target_problems(host, target, server, source=INTENT_VAR + '.version'):
    """What stops playbooks/kubernetes_upgrade.yml from moving the cluster to ``target``.

    ``server``: the gitVersion the running API server answers on /version (None or '' when
    none answers). kubeadm upgrades one minor at a time and never down; the target itself
    being at the running version is no problem (nothing to do). One message per problem.
    """
    want = parse_version(target)
    api = running_version(server)
    if api is None:
        return ['%s: no API server answers at the control-plane endpoint: there is no cluster to upgrade '
                '(playbooks/kubernetes.yml sets one up)' % host]
    if want is None:
        return ["%s: %s '%s' is not a version X.Y.Z; allowed: %s" % (host, source, target, VERSION_ALLOWED)]
    if want < api:
        return ['%s: %s %s is older than the running %s: downgrades are not supported; allowed: %s or the next minor'
                % (host, source, target, _dotted(api), _dotted(api))]
    if want[0] != api[0] or want[1] > api[1] + 1:
        return ['%s: %s %s skips a minor: the cluster runs %s and kubeadm upgrades one minor at a time; allowed: up to '
                '%d.%d.x' % (host, source, target, _dotted(api), api[0], api[1] + 1)]
    return []
