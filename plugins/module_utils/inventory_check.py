# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure-Python validation of an aifabric.cluster inventory.

Input is plain data: a dict of per-host variable dicts, a dict of group name to host
names, and a dict of rules. Output is a list of messages, one per problem, each of the
form ``<host>: <variable> '<value>' <what is wrong>; <what is allowed>``. Problems of
group-level variables are reported once, for host ``all``.

Nothing here connects anywhere, templates anything or raises on bad data: every
problem becomes a message. Secrets (``SECRET_VARS``) are checked for presence only and
their values never appear in a message.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import json
import re

from ansible_collections.aifabric.cluster.plugins.module_utils.host_names import LABEL_RE as _LABEL_RE, natural_key
from ansible_collections.aifabric.cluster.plugins.module_utils.kubernetes_intent import check_kubernetes
from ansible_collections.aifabric.cluster.plugins.module_utils.storage_intent import check_storage

try:
    import netaddr
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - netaddr is a hard requirement
    netaddr = None
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc


ALL = 'all'

DEFAULT_RULES = {
    'supported_os': ['debian-12', 'ubuntu-22.04', 'ubuntu-24.04', 'rhel-9', 'rocky-9'],
    'hw_profiles': ['hgx-h100-8gpu', 'hgx-a100-8gpu', 'pcie-l40s-4gpu', 'dgx-h100',
                    'mgmt-generic', 'storage-generic'],
    'mtu_min': 1280,
    'mtu_max': 9000,
    'networks': ['mgmt', 'fabric', 'bmc'],
    'cluster_group': 'cluster',
    'switch_group': 'switches',
    'node_groups': ['mgmt_nodes', 'gpu_nodes', 'storage_nodes'],
    'switch_groups': ['leaf_switches', 'spine_switches'],
    'fabric_required_groups': ['gpu_nodes'],
    'switch_mtu_min': 1500,
    'switch_mtu_max': 9216,
}

# group-level variables, checked once (host "all") unless a host overrides them
GROUP_VARS = [
    'cluster_name', 'cluster_domain', 'cluster_os', 'cluster_networks',
    'cluster_ntp_servers', 'cluster_bmc_username', 'cluster_bmc_password',
    'cluster_apt_repositories', 'cluster_fabric_qos', 'cluster_hw_profiles',
]

# host address variables: (variable, network key)
HOST_IP_VARS = [
    ('node_mgmt_ip', 'mgmt'),
    ('node_fabric_ip', 'fabric'),
    ('node_bmc_ip', 'bmc'),
]
HOST_MAC_VARS = ['node_mgmt_mac', 'node_fabric_mac', 'node_bmc_mac']
HOST_VARS = ['node_mgmt_ip', 'node_mgmt_mac', 'node_fabric_ip', 'node_fabric_mac',
             'node_bmc_ip', 'node_bmc_mac', 'node_hw_profile', 'node_os']

# variables read on switches only
SWITCH_VARS = ['switch_fabric_interfaces']

# the storage intent (module_utils/storage_intent.py checks it)
STORAGE_VARS = ['cluster_filesystems', 'cluster_lnet_networks']

# the Kubernetes intent, a node's kubelet and what of its container runtime would stop the kubelet
# (module_utils/kubernetes_intent.py checks them)
KUBERNETES_HOST_VARS = ['kubernetes_kubelet_version', 'container_runtime_cgroup_driver', 'container_runtime_disable_swap']
KUBERNETES_VARS = ['cluster_kubernetes'] + KUBERNETES_HOST_VARS

# every variable the validator reads; the filter extracts only these
CHECKED_VARS = GROUP_VARS + HOST_VARS + SWITCH_VARS + STORAGE_VARS + KUBERNETES_VARS

SECRET_VARS = frozenset(['cluster_bmc_password'])

APT_REPO_FIELDS = ['name', 'uris', 'suites', 'key_url']  # components is optional: flat repositories have none

# the RoCE lossless QoS intent (cluster_fabric_qos): key -> (first, last) of an
# integer, None for a sub-mapping; 'bool' for a boolean. Order = order of the checks.
QOS_ECN_FIELDS = [
    ('min_threshold_kbytes', (1, None)),
    ('max_threshold_kbytes', (1, None)),
    ('drop_probability', (1, 100)),
]
QOS_WATCHDOG_FIELDS = [
    ('enabled', 'bool'),
    ('interval_ms', (100, 1000)),
    ('restore_ms', (100, 60000)),
]
QOS_FIELDS = [
    ('roce_dscp', (0, 63)),
    ('cnp_dscp', (0, 63)),
    ('lossless_priority', (0, 7)),
    ('cnp_priority', (0, 7)),
    ('switch_mtu', ('switch_mtu_min', 'switch_mtu_max')),
    ('ecn', QOS_ECN_FIELDS),
    ('pfc_watchdog', QOS_WATCHDOG_FIELDS),
]
# host MTU + this many bytes must fit in the switch MTU: 14 Ethernet header, 4 802.1Q tag, 4 FCS
FABRIC_L2_OVERHEAD = 22

# the hardware profiles (cluster_hw_profiles): every key optional; the expectations of
# the GPU health checks (docs/gpu-health.md). key -> kind: (first, last) of an integer,
# 'bool', 'str', or a tuple of allowed values under 'one of'.
HW_PROFILE_FIELDS = [
    ('gpu_count', (0, None)),
    ('gpu_product', 'str'),
    ('nvlinks_per_gpu', (0, None)),
    ('gpu_pcie_gen', (1, 6)),
    ('gpu_pcie_width', ('one of', (1, 2, 4, 8, 16))),
    ('gpu_ecc_mode', 'bool'),
    ('gpu_persistence_mode', 'bool'),
    ('gpu_mig_mode', 'bool'),
    ('gpu_mig_devices', (1, 7)),
    ('gpu_compute_mode', ('one of', ('Default', 'Exclusive_Process', 'Prohibited'))),
]
HW_PROFILE_SHAPE = 'a mapping of profile name to a mapping with optional keys %s' % ', '.join(
    name for name, _kind in HW_PROFILE_FIELDS)

SWITCH_LINK_FIELDS = ['name', 'peer', 'address', 'peer_address']
SWITCH_LINK_SHAPE = '{name, peer, optional address (x.x.x.x/31) and peer_address}'
P2P_EXAMPLE = 'an IPv4 interface address with prefix length /31, such as 10.20.4.1/31'

_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_URL_RE = re.compile(r'^https?://[^\s/?#]+([/?#]\S*)?$')

HOSTNAME_ALLOWED = ("a lowercase RFC 1123 label: a-z, 0-9 and '-', not starting or "
                    "ending with '-', at most 63 characters")
DNS_ALLOWED = ("a lowercase DNS name: RFC 1123 labels (a-z, 0-9, '-') separated by "
               "'.', each at most 63 characters, 253 in all")
MAC_ALLOWED = "six hex pairs separated by ':', such as 0a:af:01:00:00:65, unicast and not all zero"


def _rules(rules):
    merged = dict(DEFAULT_RULES)
    for key, value in (rules or {}).items():
        if value is not None:
            merged[key] = value
    for key in ('mtu_min', 'mtu_max', 'switch_mtu_min', 'switch_mtu_max'):
        if _int(merged[key]) is not None:
            merged[key] = _int(merged[key])
        else:
            merged[key] = DEFAULT_RULES[key]
    return merged


def show(value):
    """A value as it appears in a message: short, single line, no quotes to escape."""
    if isinstance(value, bool):
        text = 'true' if value else 'false'
    elif value is None:
        text = 'null'
    elif isinstance(value, (dict, list, tuple)):
        try:
            text = json.dumps(value, sort_keys=True, default=str).replace('"', '')
        except (TypeError, ValueError):
            text = str(value)
    else:
        text = str(value)
    text = text.replace('\n', ' ').replace('\r', ' ')
    if len(text) > 80:
        text = text[:77] + '...'
    return text


def _is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def is_hostname(name):
    return isinstance(name, str) and bool(_LABEL_RE.match(name))


def is_dns_name(name):
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    return all(_LABEL_RE.match(label) for label in name.rstrip('.').split('.'))


def parse_ip(value):
    """netaddr.IPAddress for a plain IP string, else None (no CIDR, no integers)."""
    if not isinstance(value, str) or not value or '/' in value or value != value.strip():
        return None
    try:
        return netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None


def _strict_ipv4(value):
    """Refuse the legacy inet_aton forms ('10.1', '010.0.0.1') netaddr may accept."""
    if ':' in value:
        return True
    parts = value.split('.')
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or (len(part) > 1 and part[0] == '0') or int(part) > 255:
            return False
    return True


def to_ip(value):
    if not isinstance(value, str) or not _strict_ipv4(value.strip()):
        return None
    return parse_ip(value)


def normalize_mac(value):
    if not isinstance(value, str):
        return None
    mac = value.strip().lower()
    return mac if _MAC_RE.match(mac) else None


def _int(value):
    """An integer from an int or a string of digits; None otherwise (bools refused)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _usable_range(net):
    """(first, last) usable host addresses of a network, as strings."""
    if net.version == 4 and net.prefixlen <= 30:
        return str(netaddr.IPAddress(net.first + 1)), str(netaddr.IPAddress(net.last - 1))
    if net.version == 6:
        return str(netaddr.IPAddress(net.first + 1, 6)), str(netaddr.IPAddress(net.last, 6))
    return str(net.network), str(netaddr.IPAddress(net.last))


class _Report(object):
    """Collects messages in order, without duplicates."""

    def __init__(self):
        self.messages = []
        self._seen = set()

    def add(self, host, text):
        message = '%s: %s' % (host, text)
        if message not in self._seen:
            self._seen.add(message)
            self.messages.append(message)


class _Networks(object):
    """Parsed cluster_networks: name -> dict(net, gateway, path) for the valid ones."""

    def __init__(self):
        self.nets = {}

    def get(self, name):
        return self.nets.get(name)


def _template_problem(var, reason):
    if var in SECRET_VARS:
        # the error text of a secret may quote the secret: name the undefined variable only
        match = re.search(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined", reason or '')
        detail = ("'%s' is undefined" % match.group(1)) if match else 'the error is hidden (secret)'
        return ('%s cannot be templated: %s; allowed: a non-empty value, kept in ansible-vault'
                % (var, detail))
    return ('%s cannot be templated: %s; allowed: a value whose variables are all defined'
            % (var, show(reason) if reason else 'unknown error'))


def check_group_vars(values, errors, rules, report, who=ALL):
    """Check the group-level variables of one host (or of all); return parsed networks."""
    rules = _rules(rules)
    errors = errors or {}
    networks = _Networks()

    def missing(var):
        return var not in values and var not in errors

    for var in GROUP_VARS:
        if var in errors:
            report.add(who, _template_problem(var, errors[var]))

    for var in ('cluster_name', 'cluster_domain'):
        if var in errors:
            continue
        if missing(var) or _is_blank(values.get(var)):
            report.add(who, '%s is not defined or empty; required: %s' % (var, DNS_ALLOWED))
        elif not is_dns_name(values[var]):
            report.add(who, "%s '%s' is not a valid DNS name; allowed: %s"
                       % (var, show(values[var]), DNS_ALLOWED))

    if 'cluster_os' not in errors:
        allowed = ', '.join(rules['supported_os'])
        if missing('cluster_os') or _is_blank(values.get('cluster_os')):
            report.add(who, 'cluster_os is not defined or empty; required, allowed: %s' % allowed)
        elif values['cluster_os'] not in rules['supported_os']:
            report.add(who, "cluster_os '%s' is not supported; allowed: %s"
                       % (show(values['cluster_os']), allowed))

    if 'cluster_networks' not in errors:
        _check_networks(values.get('cluster_networks'), 'cluster_networks' in values,
                        rules, report, who, networks)

    if 'cluster_ntp_servers' not in errors:
        servers = values.get('cluster_ntp_servers')
        if missing('cluster_ntp_servers') or servers is None:
            report.add(who, 'cluster_ntp_servers is not defined; required: a non-empty list of IP addresses')
        elif isinstance(servers, str) or not isinstance(servers, (list, tuple)):
            report.add(who, "cluster_ntp_servers '%s' is not a list; allowed: a non-empty list of IP addresses"
                       % show(servers))
        elif not servers:
            report.add(who, 'cluster_ntp_servers is empty; required: a non-empty list of IP addresses')
        else:
            for index, server in enumerate(servers):
                if to_ip(server) is None:
                    report.add(who, "cluster_ntp_servers[%d] '%s' is not an IP address; allowed: an IPv4 or IPv6 address"
                               % (index, show(server)))

    for var in ('cluster_bmc_username', 'cluster_bmc_password'):
        if var in errors:
            continue
        # presence only: the value is never shown (the username is no secret, but is
        # treated the same way so the pair is reported alike)
        if missing(var):
            report.add(who, '%s is not defined; required: a non-empty string, kept in ansible-vault' % var)
        elif not isinstance(values[var], str):
            report.add(who, '%s is not a string (value hidden); allowed: a non-empty string, kept in ansible-vault'
                       % var)
        elif not values[var].strip():
            report.add(who, '%s is empty; allowed: a non-empty string, kept in ansible-vault' % var)

    if 'cluster_apt_repositories' not in errors:
        _check_apt(values.get('cluster_apt_repositories'), 'cluster_apt_repositories' in values, report, who)

    if 'cluster_fabric_qos' not in errors:
        host_mtu = None
        if 'cluster_networks' not in errors:
            host_mtu = _fabric_mtu(values.get('cluster_networks'), rules)
        _check_fabric_qos(values.get('cluster_fabric_qos'), 'cluster_fabric_qos' in values, host_mtu,
                          rules, report, who)

    if 'cluster_hw_profiles' not in errors:
        _check_hw_profiles(values.get('cluster_hw_profiles'), report, who)

    return networks


def _check_hw_profiles(value, report, who):
    """cluster_hw_profiles (optional): what each node_hw_profile is, the GPU health expectations."""
    var = 'cluster_hw_profiles'
    if value is None:
        return
    if not isinstance(value, dict):
        report.add(who, "%s '%s' is not a mapping; allowed: %s" % (var, show(value), HW_PROFILE_SHAPE))
        return
    keys = ', '.join(name for name, _kind in HW_PROFILE_FIELDS)
    for name in sorted(value, key=natural_key):
        profile = value[name]
        path = '%s.%s' % (var, show(name))
        if not isinstance(profile, dict):
            report.add(who, "%s '%s' is not a mapping; allowed: a mapping with optional keys %s ({} for a profile "
                       "without expectations)" % (path, show(profile), keys))
            continue
        claimed = _unknown_keys(profile, HW_PROFILE_FIELDS, path, report, who)
        for key, kind in HW_PROFILE_FIELDS:
            item = profile.get(key)
            if key in claimed or item is None:
                continue  # null: not an expectation
            key_path = '%s.%s' % (path, key)
            if kind == 'bool':
                if not isinstance(item, bool):
                    report.add(who, "%s '%s' is not a boolean; allowed: true or false" % (key_path, show(item)))
            elif kind == 'str':
                if not isinstance(item, str) or not item.strip():
                    report.add(who, "%s '%s' is not a non-empty string; allowed: text the nvidia-smi product name "
                               "contains, such as H100 80GB HBM3" % (key_path, show(item)))
            elif kind[0] == 'one of':
                allowed = ', '.join(str(choice) for choice in kind[1])
                if isinstance(item, bool) or item not in kind[1]:
                    report.add(who, "%s '%s' is not one of the allowed values; allowed: %s"
                               % (key_path, show(item), allowed))
            else:
                _strict_int(item, key_path, kind, report, who)
        if profile.get('gpu_mig_devices') is not None and profile.get('gpu_mig_mode') is False:
            report.add(who, "%s.gpu_mig_devices '%s' is set while %s.gpu_mig_mode is false; allowed: unset, or "
                       "gpu_mig_mode: true" % (path, show(profile['gpu_mig_devices']), path))


def _fabric_mtu(value, rules):
    """cluster_networks.fabric.mtu as an int when it is valid, else None (reported elsewhere)."""
    if not isinstance(value, dict) or not isinstance(value.get('fabric'), dict):
        return None
    mtu = _int(value['fabric'].get('mtu'))
    if mtu is None or not rules['mtu_min'] <= mtu <= rules['mtu_max']:
        return None
    return mtu


def _keys_text(fields):
    return ', '.join(name for name, _kind in fields)


def _unknown_keys(value, fields, path, report, who):
    """Report the keys of value that fields do not know; return the known keys they stand
    for (a near miss such as 'roce_dcsp' for a missing 'roce_dscp' is one problem, so
    the missing key is not reported again)."""
    names = [name for name, _kind in fields]
    missing = [name for name in names if name not in value]
    claimed = set()
    for key in sorted((key for key in value if key not in names), key=str):
        guess = difflib.get_close_matches(str(key), [name for name in missing if name not in claimed], 1, 0.8)
        if guess:
            claimed.add(guess[0])
            report.add(who, '%s.%s is not a known key (did you mean %s?); allowed: %s'
                       % (path, show(key), guess[0], _keys_text(fields)))
        else:
            report.add(who, '%s.%s is not a known key; allowed: %s' % (path, show(key), _keys_text(fields)))
    return claimed


def _range_text(first, last):
    if last is None:
        return 'a positive integer' if first == 1 else 'an integer of at least %d' % first
    return 'an integer %d-%d' % (first, last)


def _strict_int(value, path, limits, report, who):
    """value as an int when it is an int within limits, else None (and the problem reported).
    Digit strings and booleans are refused: the intent is typed YAML."""
    first, last = limits
    allowed = _range_text(first, last)
    if isinstance(value, bool):
        report.add(who, "%s '%s' is a boolean, not an integer; allowed: %s" % (path, show(value), allowed))
        return None
    if isinstance(value, str):
        report.add(who, "%s '%s' is a string, not an integer; allowed: %s, unquoted" % (path, show(value), allowed))
        return None
    if not isinstance(value, int):
        report.add(who, "%s '%s' is not an integer; allowed: %s" % (path, show(value), allowed))
        return None
    if value < first or (last is not None and value > last):
        if last is None:
            report.add(who, "%s '%s' is out of range; allowed: %s" % (path, show(value), allowed))
        else:
            report.add(who, "%s '%s' is out of range; allowed %d-%d" % (path, show(value), first, last))
        return None
    return value


def _check_mapping(value, present, fields, path, rules, report, who):
    """Check a mapping of the QoS intent against fields; return {key: valid value}."""
    shape = 'a mapping with keys %s' % _keys_text(fields)
    if not present or value is None:
        report.add(who, '%s is not defined; required: %s' % (path, shape))
        return None
    if not isinstance(value, dict):
        report.add(who, "%s '%s' is not a mapping; allowed: %s" % (path, show(value), shape))
        return None
    claimed = _unknown_keys(value, fields, path, report, who)
    valid = {}
    for name, kind in fields:
        key_path = '%s.%s' % (path, name)
        if name in claimed:
            continue
        if isinstance(kind, list):
            valid[name] = _check_mapping(value.get(name), name in value, kind, key_path, rules, report, who)
            continue
        if kind == 'bool':
            allowed = 'true or false'
        else:
            first, last = kind
            if isinstance(first, str):
                first, last = rules[first], rules[last]
                kind = (first, last)
            allowed = _range_text(first, last)
        if name not in value or value[name] is None:
            report.add(who, '%s is not defined; required: %s' % (key_path, allowed))
        elif kind == 'bool':
            if isinstance(value[name], bool):
                valid[name] = value[name]
            else:
                report.add(who, "%s '%s' is not a boolean; allowed: %s" % (key_path, show(value[name]), allowed))
        else:
            valid[name] = _strict_int(value[name], key_path, kind, report, who)
    return valid


def _check_fabric_qos(value, present, host_mtu, rules, report, who):
    """cluster_fabric_qos: the RoCE lossless QoS intent (docs/inventory.md)."""
    path = 'cluster_fabric_qos'
    qos = _check_mapping(value, present, QOS_FIELDS, path, rules, report, who)
    if qos is None:
        return

    def both(a, b, where=qos):
        return where and where.get(a) is not None and where.get(b) is not None

    if both('roce_dscp', 'cnp_dscp') and qos['roce_dscp'] == qos['cnp_dscp']:
        report.add(who, "%s.cnp_dscp '%s' is the same as %s.roce_dscp; allowed: a DSCP 0-63 other than %s"
                   % (path, qos['cnp_dscp'], path, qos['roce_dscp']))
    if both('lossless_priority', 'cnp_priority') and qos['lossless_priority'] == qos['cnp_priority']:
        report.add(who, "%s.cnp_priority '%s' is the same as %s.lossless_priority; allowed: a priority 0-7 "
                   "other than %s (CNPs go to a strict-priority queue of their own)"
                   % (path, qos['cnp_priority'], path, qos['lossless_priority']))
    if qos.get('switch_mtu') is not None and host_mtu is not None \
            and host_mtu + FABRIC_L2_OVERHEAD > qos['switch_mtu']:
        report.add(who, "%s.switch_mtu '%s' is too small for cluster_networks.fabric.mtu '%s' plus %d bytes of "
                   "L2 overhead (14 Ethernet, 4 802.1Q, 4 FCS); allowed: at least %d, or a smaller "
                   "cluster_networks.fabric.mtu"
                   % (path, qos['switch_mtu'], host_mtu, FABRIC_L2_OVERHEAD, host_mtu + FABRIC_L2_OVERHEAD))
    ecn = qos.get('ecn')
    if both('min_threshold_kbytes', 'max_threshold_kbytes', ecn) \
            and ecn['min_threshold_kbytes'] >= ecn['max_threshold_kbytes']:
        report.add(who, "%s.ecn.min_threshold_kbytes '%s' is not below %s.ecn.max_threshold_kbytes '%s'; "
                   "allowed: a minimum threshold smaller than the maximum"
                   % (path, ecn['min_threshold_kbytes'], path, ecn['max_threshold_kbytes']))
    watchdog = qos.get('pfc_watchdog')
    if both('interval_ms', 'restore_ms', watchdog) and watchdog['restore_ms'] < watchdog['interval_ms']:
        report.add(who, "%s.pfc_watchdog.restore_ms '%s' is shorter than %s.pfc_watchdog.interval_ms '%s'; "
                   "allowed %s-%s"
                   % (path, watchdog['restore_ms'], path, watchdog['interval_ms'], watchdog['interval_ms'],
                      dict(QOS_WATCHDOG_FIELDS)['restore_ms'][1]))


def _check_networks(value, present, rules, report, who, networks):
    names = list(rules['networks'])
    shape = 'a mapping with keys %s, each {cidr, mtu, optional gateway}' % ', '.join(names)
    if not present or value is None:
        report.add(who, 'cluster_networks is not defined; required: %s' % shape)
        return
    if not isinstance(value, dict):
        report.add(who, "cluster_networks '%s' is not a mapping; allowed: %s" % (show(value), shape))
        return
    mtu_min, mtu_max = rules['mtu_min'], rules['mtu_max']
    for name in names:
        path = 'cluster_networks.%s' % name
        net_def = value.get(name)
        if net_def is None:
            report.add(who, '%s is not defined; required: {cidr, mtu, optional gateway}' % path)
            continue
        if not isinstance(net_def, dict):
            report.add(who, "%s '%s' is not a mapping; allowed: {cidr, mtu, optional gateway}"
                       % (path, show(net_def)))
            continue
        net = _check_cidr(net_def, path, report, who)

        mtu = net_def.get('mtu')
        if 'mtu' not in net_def or mtu is None:
            report.add(who, '%s.mtu is not defined; required: an integer %s-%s' % (path, mtu_min, mtu_max))
        elif _int(mtu) is None:
            report.add(who, "%s.mtu '%s' is not an integer; allowed %s-%s" % (path, show(mtu), mtu_min, mtu_max))
        elif not mtu_min <= _int(mtu) <= mtu_max:
            report.add(who, "%s.mtu '%s' is out of range; allowed %s-%s" % (path, show(mtu), mtu_min, mtu_max))

        gateway = None
        if net_def.get('gateway') not in (None, ''):
            raw = net_def['gateway']
            gateway = to_ip(raw)
            if gateway is None:
                report.add(who, "%s.gateway '%s' is not a valid IP address; allowed: an address inside %s"
                           % (path, show(raw), net if net is not None else 'the network'))
            elif net is not None:
                problem = _placement(gateway, net)
                if problem:
                    first, last = _usable_range(net)
                    report.add(who, "%s.gateway '%s' %s; allowed: %s-%s"
                               % (path, show(raw), problem, first, last))
                    gateway = None
        if net is not None:
            networks.nets[name] = {'net': net, 'gateway': gateway, 'path': path}

    unknown = sorted(set(value) - set(names), key=str)
    for name in unknown:
        report.add(who, "cluster_networks.%s is not a known network; allowed: %s"
                   % (show(name), ', '.join(names)))

    # overlaps, in a stable order
    ordered = [name for name in names if name in networks.nets]
    for i, name_a in enumerate(ordered):
        for name_b in ordered[i + 1:]:
            net_a, net_b = networks.nets[name_a]['net'], networks.nets[name_b]['net']
            if net_a.version == net_b.version and (net_a.first <= net_b.last and net_b.first <= net_a.last):
                report.add(who, "cluster_networks.%s.cidr '%s' overlaps cluster_networks.%s.cidr '%s'; "
                           "allowed: networks that do not overlap" % (name_b, net_b, name_a, net_a))


def _check_cidr(net_def, path, report, who):
    raw = net_def.get('cidr')
    example = 'a network address with prefix length, such as 10.231.0.0/24'
    if 'cidr' not in net_def or _is_blank(raw):
        report.add(who, '%s.cidr is not defined; required: %s' % (path, example))
        return None
    if not isinstance(raw, str) or '/' not in raw:
        report.add(who, "%s.cidr '%s' is not a valid CIDR; allowed: %s" % (path, show(raw), example))
        return None
    address, _sep, prefix = raw.strip().partition('/')
    if to_ip(address) is None or not prefix.isdigit():
        report.add(who, "%s.cidr '%s' is not a valid CIDR; allowed: %s" % (path, show(raw), example))
        return None
    try:
        net = netaddr.IPNetwork(raw.strip())
    except (netaddr.AddrFormatError, ValueError, TypeError):
        report.add(who, "%s.cidr '%s' is not a valid CIDR; allowed: %s" % (path, show(raw), example))
        return None
    if net.ip != net.network:
        report.add(who, "%s.cidr '%s' has host bits set; allowed: the network address, %s"
                   % (path, show(raw), net.cidr))
        return None
    if (net.version == 4 and net.prefixlen > 30) or (net.version == 6 and net.prefixlen > 126):
        report.add(who, "%s.cidr '%s' has no room for hosts; allowed: a prefix length of at most /%d"
                   % (path, show(raw), 30 if net.version == 4 else 126))
        return None
    return net


def _placement(address, net):
    """Why an address cannot be a host/gateway address of net, or None if it can."""
    if address.version != net.version or address not in net:
        return 'is outside %s' % net
    if address == net.network:
        return 'is the network address of %s' % net
    if net.version == 4 and address == net.broadcast:
        return 'is the broadcast address of %s' % net
    return None


def _check_apt(repos, present, report, who):
    shape = 'a list of {name, uris, suites, [components], key_url}'
    if not present or repos is None:
        report.add(who, 'cluster_apt_repositories is not defined; required: %s' % shape)
        return
    if isinstance(repos, str) or not isinstance(repos, (list, tuple)):
        report.add(who, "cluster_apt_repositories '%s' is not a list; allowed: %s" % (show(repos), shape))
        return
    seen = {}
    for index, repo in enumerate(repos):
        path = 'cluster_apt_repositories[%d]' % index
        if not isinstance(repo, dict):
            report.add(who, "%s '%s' is not a mapping; allowed: {name, uris, suites, [components], key_url}"
                       % (path, show(repo)))
            continue
        for field in APT_REPO_FIELDS:
            value = repo.get(field)
            if value is None or (isinstance(value, (str, list, tuple)) and not value):
                report.add(who, '%s.%s is not defined or empty; required: %s'
                           % (path, field, 'an http(s) URL' if field in ('uris', 'key_url') else 'a non-empty value'))
        name = repo.get('name')
        if isinstance(name, str) and name.strip():
            if name in seen:
                report.add(who, "%s.name '%s' is also used by cluster_apt_repositories[%d]; "
                           "allowed: a unique name" % (path, show(name), seen[name]))
            else:
                seen[name] = index
        elif name is not None and not isinstance(name, str):
            report.add(who, "%s.name '%s' is not a string; allowed: a non-empty name" % (path, show(name)))
        uris = repo.get('uris')
        if uris:
            uri_list = uris.split() if isinstance(uris, str) else uris
            if not isinstance(uri_list, (list, tuple)):
                uri_list = [uri_list]
            for uri in uri_list:
                if not isinstance(uri, str) or not _URL_RE.match(uri):
                    report.add(who, "%s.uris '%s' is not an http(s) URL; allowed: http://... or https://..."
                               % (path, show(uri)))
        key_url = repo.get('key_url')
        if key_url and (not isinstance(key_url, str) or not _URL_RE.match(key_url)):
            report.add(who, "%s.key_url '%s' is not an http(s) URL; allowed: http://... or https://..."
                       % (path, show(key_url)))


def _group_key(host_vars, host_errors, var):
    if var in host_errors:
        return 'E:' + str(host_errors[var])
    if var not in host_vars:
        return 'U'
    try:
        return 'V:' + json.dumps(host_vars[var], sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return 'R:' + repr(host_vars[var])


class _Run(object):
    """One check_inventory run: its inputs, the groups it resolved, and what the rules share
    (the networks each host is checked against, the addresses, gateways, MACs and /31 links
    already seen)."""

    def __init__(self, hosts, groups, rules, errors):
        self.hosts, self.groups, self.rules, self.errors = hosts, groups, rules, errors
        self.report = _Report()
        self.cluster = self.members_of([rules['cluster_group']] + list(rules['node_groups']))
        self.switches = self.members_of([rules['switch_group']] + list(rules['switch_groups']))
        self.fabric_required = self.members_of(rules['fabric_required_groups'])
        self.checked = sorted(self.cluster | self.switches, key=natural_key)
        self.base_networks = _Networks()
        self.nets_by_host = {}
        self.addresses = {}   # IPAddress -> (host, var)
        self.gateways = {}    # IPAddress -> the network's path
        self.macs = {}        # normalized MAC -> (host, var)
        self.p2p_nets = {}    # /31 IPNetwork -> [(switch, index, peer)] of switch_fabric_interfaces

    def members_of(self, names):
        """The hosts of any of the groups names (a group given as one host name counts as that host)."""
        hosts = set()
        for name in names:
            found = self.groups.get(name) or []
            hosts.update([found] if isinstance(found, str) else found)
        return hosts

    def host(self, name):
        return _Host(self, name)


class _Host(object):
    """One checked host as the host rules see it."""

    def __init__(self, run, name):
        self.run, self.name = run, name
        self.vars = run.hosts.get(name) or {}
        self.errors = run.errors.get(name) or {}
        self.networks = run.nets_by_host.get(name) or _Networks()
        self.is_node = name in run.cluster

    def add(self, text):
        self.run.report.add(self.name, text)

    def required(self, var, why):
        if var in self.errors:
            return False
        if var not in self.vars or _is_blank(self.vars[var]):
            self.add('%s is not defined or empty; required for %s' % (var, why))
            return False
        return True

    def optional(self, var):
        return var not in self.errors and var in self.vars and not _is_blank(self.vars[var])


# ------------------------------------------------------------------ the rules of the whole inventory

def _rule_cluster_has_hosts(run):
    if not run.cluster:
        run.report.add(ALL, "group '%s' has no hosts; required: at least one host in %s"
                       % (run.rules['cluster_group'], ', '.join(run.rules['node_groups'])))


def _rule_group_vars(run):
    """Group-level variables: the value most hosts share is checked once as "all"; a host that
    overrides one of them is checked on its own. Sets the networks each host is checked against."""
    if not run.checked:
        return
    common = {}
    for var in GROUP_VARS:
        counts = {}
        for host in run.checked:
            key = _group_key(run.hosts.get(host) or {}, run.errors.get(host) or {}, var)
            counts.setdefault(key, [0, host])
            counts[key][0] += 1
        if counts:
            common[var] = max(counts.items(), key=lambda item: (item[1][0], -run.checked.index(item[1][1])))[0]

    # per host, the group-level variables it overrides (computed once: each is a JSON dump)
    overrides = dict((host, [var for var in GROUP_VARS
                             if _group_key(run.hosts.get(host) or {}, run.errors.get(host) or {}, var) != common.get(var)])
                     for host in run.checked)
    reference = next((host for host in run.checked if not overrides[host]), run.checked[0])
    run.base_networks = check_group_vars(run.hosts.get(reference) or {}, run.errors.get(reference) or {},
                                         run.rules, run.report)
    for host in run.checked:
        overridden = overrides[host]
        run.nets_by_host[host] = run.base_networks
        if not overridden:
            continue
        own = _Report()
        own_nets = check_group_vars(run.hosts.get(host) or {}, run.errors.get(host) or {}, run.rules, own, who=host)
        # report only the problems of the overridden variables (a message about two variables,
        # such as the switch MTU against the fabric MTU, names both: it is reported when
        # either is overridden)
        for message in own.messages:
            text = message[len(host) + 2:]
            if any(text.startswith(var) or re.search(r'\b%s\b' % var, text) for var in overridden):
                run.report.add(host, text)
        if 'cluster_networks' in overridden:
            run.nets_by_host[host] = own_nets
    for networks in set(run.nets_by_host.values()):
        for info in networks.nets.values():
            if info['gateway'] is not None:
                run.gateways.setdefault(info['gateway'], info['path'])


def _rule_hosts(run):
    """The host rules (HOST_RULES), host by host in natural order, in the table's order."""
    for name in run.checked:
        host = run.host(name)
        for applies, rule in HOST_RULES:
            if applies == 'every host' or (applies == 'nodes') == host.is_node:
                rule(host)


def _rule_storage(run):
    """The storage intent: once for the intent, per host where it depends on the host."""
    failed = [(host, var) for host in sorted(run.cluster, key=natural_key) for var in STORAGE_VARS
              if var in (run.errors.get(host) or {})]
    for host, var in failed[:1]:
        run.report.add(ALL, _template_problem(var, run.errors[host][var]))
    if not failed:
        known = sorted(run.base_networks.nets) if run.base_networks.nets else None
        check_storage(run.hosts, run.groups, run.report, run.cluster, networks=known)


def _rule_kubernetes(run):
    """The Kubernetes intent, only where cluster_kubernetes is set; a host variable that fails
    to template is a problem of its host."""
    nodes = sorted(run.cluster, key=natural_key)
    failed = [host for host in nodes if 'cluster_kubernetes' in (run.errors.get(host) or {})]
    for host in failed[:1]:
        run.report.add(ALL, _template_problem('cluster_kubernetes', run.errors[host]['cluster_kubernetes']))
    for host in nodes:
        for name in KUBERNETES_HOST_VARS:
            if name in (run.errors.get(host) or {}):
                run.report.add(host, _template_problem(name, run.errors[host][name]))
    if not failed:
        cidrs = dict((name, info['net']) for name, info in run.base_networks.nets.items()) or None
        check_kubernetes(run.hosts, run.groups, run.report, run.cluster, networks=cidrs, profiles=run.rules['hw_profiles'])


# ------------------------------------------------------------------ the rules of one host

def _host_name(host):
    if not is_hostname(host.name):
        host.add("inventory_hostname '%s' is not a valid hostname; allowed: %s" % (show(host.name), HOSTNAME_ALLOWED))


def _host_template_errors(host):
    for var in HOST_VARS + ([] if host.is_node else SWITCH_VARS):
        if var in host.errors:
            host.add(_template_problem(var, host.errors[var]))


def _host_addresses(host):
    run, rules = host.run, host.run.rules
    for var, net_name in HOST_IP_VARS:
        if not host.is_node and var != 'node_mgmt_ip':
            continue  # switches: management address only
        if var == 'node_mgmt_ip':
            present = host.required(var, 'every host in %s and %s' % (rules['cluster_group'], rules['switch_group']))
        elif var == 'node_bmc_ip':
            present = host.required(var, 'every host in %s' % rules['cluster_group'])
        elif host.name in run.fabric_required:
            present = host.required(var, 'hosts in %s' % ', '.join(rules['fabric_required_groups']))
        else:
            present = host.optional(var)
        if not present:
            continue
        raw = host.vars[var]
        info = host.networks.get(net_name)
        address = to_ip(raw)
        if address is None:
            where = ('an address in cluster_networks.%s.cidr %s' % (net_name, info['net'])) if info \
                else 'an IPv4 or IPv6 address'
            host.add("%s '%s' is not a valid IP address; allowed: %s" % (var, show(raw), where))
            continue
        if info is not None:
            problem = _placement(address, info['net'])
            if problem:
                first, last = _usable_range(info['net'])
                host.add("%s '%s' %s (cluster_networks.%s); allowed: %s-%s" % (var, show(raw), problem, net_name, first, last))
                continue
            if address in run.gateways:
                host.add("%s '%s' is the gateway of %s; allowed: any other address in %s"
                         % (var, show(raw), run.gateways[address], info['net']))
                continue
        elif address in run.gateways:
            host.add("%s '%s' is the gateway of %s; allowed: any other address" % (var, show(raw), run.gateways[address]))
            continue
        if address in run.addresses:
            other_host, other_var = run.addresses[address]
            host.add("%s '%s' is also used by %s (%s); every address must be unique" % (var, show(raw), other_host, other_var))
        else:
            run.addresses[address] = (host.name, var)


def _host_switch_links(host):
    run = host.run
    if 'switch_fabric_interfaces' not in host.errors:
        _check_switch_links(host.name, host.vars.get('switch_fabric_interfaces'), run.hosts, run.errors, run.cluster,
                            set(run.checked), run.rules, run.addresses, run.gateways, run.p2p_nets, run.report)


def _host_macs(host):
    run = host.run
    for var in HOST_MAC_VARS:
        if var == 'node_mgmt_mac':
            present = host.required(var, 'every host in %s' % run.rules['cluster_group'])
        else:
            present = host.optional(var)
        if not present:
            continue
        raw = host.vars[var]
        mac = normalize_mac(raw)
        if mac is None:
            host.add("%s '%s' is not a valid MAC address; allowed: %s" % (var, show(raw), MAC_ALLOWED))
            continue
        if mac == '00:00:00:00:00:00' or int(mac[:2], 16) & 1:
            kind = 'all zero' if mac.startswith('00:00:00:00:00:00') else \
                ('the broadcast address' if mac == 'ff:ff:ff:ff:ff:ff' else 'a multicast address')
            host.add("%s '%s' is %s; allowed: %s" % (var, show(raw), kind, MAC_ALLOWED))
            continue
        if mac in run.macs:
            other_host, other_var = run.macs[mac]
            host.add("%s '%s' is also used by %s (%s); every MAC address must be unique" % (var, show(raw), other_host, other_var))
        else:
            run.macs[mac] = (host.name, var)


def _host_profile_and_os(host):
    rules = host.run.rules
    hw_allowed, os_allowed = ', '.join(rules['hw_profiles']), ', '.join(rules['supported_os'])
    if host.required('node_hw_profile', 'every host in %s; allowed: %s' % (rules['cluster_group'], hw_allowed)):
        profile = host.vars['node_hw_profile']
        if profile not in rules['hw_profiles']:
            host.add("node_hw_profile '%s' is not a known hardware profile; allowed: %s" % (show(profile), hw_allowed))
    if host.optional('node_os') and host.vars['node_os'] not in rules['supported_os']:
        host.add("node_os '%s' is not supported; allowed: %s" % (show(host.vars['node_os']), os_allowed))
    elif 'node_os' in host.vars and 'node_os' not in host.errors and _is_blank(host.vars['node_os']) \
            and host.vars['node_os'] is not None:
        host.add("node_os is empty; allowed: unset (cluster_os applies) or one of %s" % os_allowed)


# The rules, in the order their messages come. A host rule applies to 'every host', to the
# 'nodes' (the cluster group and the node groups) or to the 'switches' only.
HOST_RULES = (
    ('every host', _host_name),
    ('every host', _host_template_errors),
    ('every host', _host_addresses),
    ('switches', _host_switch_links),
    ('nodes', _host_macs),
    ('nodes', _host_profile_and_os),
)
RULES = (_rule_cluster_has_hosts, _rule_group_vars, _rule_hosts, _rule_storage, _rule_kubernetes)


def check_inventory(hosts, groups, rules=None, errors=None):
    """Validate an inventory; return the list of problem messages (empty when valid).

    :arg hosts: {host name: {variable: value}} for every host to check (plain data).
    :arg groups: {group name: [host names]} as Ansible's ``groups`` (children flattened).
    :arg rules: overrides of DEFAULT_RULES (supported_os, hw_profiles, mtu_min, ...).
    :arg errors: {host name: {variable: error text}} for variables that failed to template.

    The checks are the rules of RULES, in order; the host rules (HOST_RULES) run host by host.
    """
    if not HAS_NETADDR:  # pragma: no cover
        return ['all: the netaddr Python library is required on the controller (%s)' % NETADDR_IMPORT_ERROR]
    run = _Run(hosts or {}, groups or {}, _rules(rules), errors or {})
    for rule in RULES:
        rule(run)
    return run.report.messages


def _p2p_address(value):
    """(IPAddress, /31 IPNetwork) of 'a.b.c.d/31', else None."""
    if not isinstance(value, str):
        return None
    address, sep, prefix = value.strip().partition('/')
    ip = to_ip(address)
    if not sep or prefix != '31' or ip is None or ip.version != 4:
        return None
    return ip, netaddr.IPNetwork('%s/31' % ip).cidr


def _other_end(net, ip):
    return netaddr.IPAddress(net.first if ip.value == net.last else net.last)


def _check_switch_links(switch, links, hosts, errors, cluster, known, rules, addresses, gateways, p2p_nets,
                        report):
    """switch_fabric_interfaces of one switch: the per-link fabric addressing."""
    var = 'switch_fabric_interfaces'
    if links is None:
        return  # no fabric links described (the lab's switches, an unmanaged spine)
    if isinstance(links, (str, dict)) or not isinstance(links, (list, tuple)):
        report.add(switch, "%s '%s' is not a list; allowed: a list of %s" % (var, show(links), SWITCH_LINK_SHAPE))
        return
    fields = [(name, None) for name in SWITCH_LINK_FIELDS]
    names = {}
    for index, link in enumerate(links):
        path = '%s[%d]' % (var, index)
        if not isinstance(link, dict):
            report.add(switch, "%s '%s' is not a mapping; allowed: %s" % (path, show(link), SWITCH_LINK_SHAPE))
            continue
        claimed = _unknown_keys(link, fields, path, report, switch)

        name = link.get('name')
        if 'name' in claimed:
            pass
        elif _is_blank(name):
            report.add(switch, '%s.name is not defined or empty; required: the interface name on the switch, '
                       'such as Ethernet1/1 (NX-OS) or Ethernet0 (SONiC)' % path)
        elif not isinstance(name, str):
            report.add(switch, "%s.name '%s' is not a string; allowed: an interface name such as Ethernet1/1"
                       % (path, show(name)))
        elif name in names:
            report.add(switch, "%s.name '%s' is also used by %s[%d]; allowed: a name used once per switch"
                       % (path, show(name), var, names[name]))
        else:
            names[name] = index

        peer = link.get('peer')
        peer_ok = False
        if 'peer' in claimed:
            pass
        elif _is_blank(peer):
            report.add(switch, '%s.peer is not defined or empty; required: the inventory name of the host at the '
                       'other end, in %s or %s' % (path, rules['cluster_group'], rules['switch_group']))
        elif not isinstance(peer, str) or peer not in known:
            report.add(switch, "%s.peer '%s' is not a host of the inventory; allowed: a host in %s or %s"
                       % (path, show(peer), rules['cluster_group'], rules['switch_group']))
        elif peer == switch:
            report.add(switch, "%s.peer '%s' is the switch itself; allowed: another host in %s or %s"
                       % (path, show(peer), rules['cluster_group'], rules['switch_group']))
        else:
            peer_ok = True

        _check_link_addresses(switch, link, path, peer if peer_ok else None, hosts, errors, cluster,
                              addresses, gateways, p2p_nets, report, index)


def _check_link_addresses(switch, link, path, peer, hosts, errors, cluster, addresses, gateways, p2p_nets,
                          report, index):
    raw = link.get('address')
    raw_peer = link.get('peer_address')
    peer_ip = None
    if not _is_blank(raw_peer):
        peer_ip = to_ip(raw_peer)
        if peer_ip is None or peer_ip.version != 4:
            report.add(switch, "%s.peer_address '%s' is not an IPv4 address; allowed: the other address of the "
                       "/31 of address, without prefix length, such as 10.20.4.0" % (path, show(raw_peer)))
            return
    if _is_blank(raw):
        if peer_ip is not None:
            report.add(switch, "%s.peer_address '%s' is set without an address; allowed: unset, or set together "
                       "with address (%s)" % (path, show(raw_peer), P2P_EXAMPLE))
        return  # a layer-2 port: nothing to address
    parsed = _p2p_address(raw)
    if parsed is None:
        report.add(switch, "%s.address '%s' is not a /31 interface address; allowed: %s"
                   % (path, show(raw), P2P_EXAMPLE))
        return
    ip, net = parsed

    # the switch side: unique in the inventory, not a gateway
    if ip in gateways:
        report.add(switch, "%s.address '%s' is the gateway of %s; allowed: any other address"
                   % (path, show(raw), gateways[ip]))
    elif ip in addresses:
        other_host, other_var = addresses[ip]
        report.add(switch, "%s.address '%s' is also used by %s (%s); every address must be unique"
                   % (path, show(raw), other_host, other_var))
    else:
        addresses[ip] = (switch, '%s.address' % path)

    # the /31 is one link: only its two ends may use it
    for other_switch, other_index, other_peer in p2p_nets.get(net, []):
        if other_switch != peer or other_peer != switch:
            report.add(switch, "%s.address '%s' is in %s, already used by %s (switch_fabric_interfaces[%d]) "
                       "towards %s; allowed: a /31 used only by the two ends of one link"
                       % (path, show(raw), net, other_switch, other_index, other_peer or 'no valid peer'))
            return  # one problem per link: its peer side is not checked against a /31 it does not own
    p2p_nets.setdefault(net, []).append((switch, index, peer))

    # the peer side: the other address of the /31; a cluster node's side is its node_fabric_ip
    node_ip = None
    if peer is not None and peer in cluster and 'node_fabric_ip' not in (errors.get(peer) or {}):
        node_ip = to_ip((hosts.get(peer) or {}).get('node_fabric_ip'))
    other = _other_end(net, ip)
    if peer_ip is not None and node_ip is not None and peer_ip != node_ip:
        report.add(switch, "%s.peer_address '%s' is not %s's node_fabric_ip '%s'; allowed: %s (or unset: a "
                   "node's side of a routed link is its node_fabric_ip)"
                   % (path, show(raw_peer), peer, node_ip, node_ip))
    elif peer_ip is not None and peer_ip != other:
        report.add(switch, "%s.peer_address '%s' is not the other address of %s (address '%s'); allowed: %s"
                   % (path, show(raw_peer), net, show(raw), other))
    elif peer_ip is None and node_ip is not None and node_ip != other:
        if node_ip.version == 4:
            node_net = netaddr.IPNetwork('%s/31' % node_ip).cidr
            allowed = "%s/31, whose other address is %s's node_fabric_ip" % (_other_end(node_net, node_ip), peer)
        else:
            allowed = 'unset: an IPv6 node_fabric_ip has no /31'
        report.add(switch, "%s.address '%s' does not pair with %s's node_fabric_ip '%s' in one /31; allowed: %s"
                   % (path, show(raw), peer, node_ip, allowed))
