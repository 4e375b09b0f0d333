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

import json
import re

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
}

# group-level variables, checked once (host "all") unless a host overrides them
GROUP_VARS = [
    'cluster_name', 'cluster_domain', 'cluster_os', 'cluster_networks',
    'cluster_ntp_servers', 'cluster_bmc_username', 'cluster_bmc_password',
    'cluster_apt_repositories',
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

# every variable the validator reads; the filter extracts only these
CHECKED_VARS = GROUP_VARS + HOST_VARS

SECRET_VARS = frozenset(['cluster_bmc_password'])

APT_REPO_FIELDS = ['name', 'uris', 'suites', 'key_url']  # components is optional: flat repositories have none

_LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_URL_RE = re.compile(r'^https?://[^\s/?#]+([/?#]\S*)?$')
_NATURAL_RE = re.compile(r'(\d+)')

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
    for key in ('mtu_min', 'mtu_max'):
        if _int(merged[key]) is not None:
            merged[key] = _int(merged[key])
        else:
            merged[key] = DEFAULT_RULES[key]
    return merged


def natural_key(name):
    """Sort key that orders gpu-2 before gpu-10."""
    return [int(part) if part.isdigit() else part for part in _NATURAL_RE.split(str(name))]


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

    return networks


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


def check_inventory(hosts, groups, rules=None, errors=None):
    """Validate an inventory; return the list of problem messages (empty when valid).

    :arg hosts: {host name: {variable: value}} for every host to check (plain data).
    :arg groups: {group name: [host names]} as Ansible's ``groups`` (children flattened).
    :arg rules: overrides of DEFAULT_RULES (supported_os, hw_profiles, mtu_min, ...).
    :arg errors: {host name: {variable: error text}} for variables that failed to template.
    """
    report = _Report()
    if not HAS_NETADDR:  # pragma: no cover
        return ['all: the netaddr Python library is required on the controller (%s)' % NETADDR_IMPORT_ERROR]
    rules = _rules(rules)
    hosts = hosts or {}
    groups = groups or {}
    errors = errors or {}

    def members(name):
        found = groups.get(name) or []
        return [found] if isinstance(found, str) else list(found)

    cluster = set(members(rules['cluster_group']))
    for name in rules['node_groups']:
        cluster.update(members(name))
    switches = set(members(rules['switch_group']))
    for name in rules['switch_groups']:
        switches.update(members(name))
    fabric_required = set()
    for name in rules['fabric_required_groups']:
        fabric_required.update(members(name))

    if not cluster:
        report.add(ALL, "group '%s' has no hosts; required: at least one host in %s"
                   % (rules['cluster_group'], ', '.join(rules['node_groups'])))

    checked = sorted(cluster | switches, key=natural_key)

    # group-level variables: the value most hosts share is checked once as "all";
    # a host that overrides one of them is checked on its own
    common = {}
    for var in GROUP_VARS:
        counts = {}
        for host in checked:
            key = _group_key(hosts.get(host) or {}, errors.get(host) or {}, var)
            counts.setdefault(key, [0, host])
            counts[key][0] += 1
        if counts:
            common[var] = max(counts.items(), key=lambda item: (item[1][0], -checked.index(item[1][1])))[0]

    reference = None
    for host in checked:
        if all(_group_key(hosts.get(host) or {}, errors.get(host) or {}, var) == common.get(var)
               for var in GROUP_VARS):
            reference = host
            break
    nets_by_host = {}
    if checked:
        if reference is None:
            reference = checked[0]
        base_networks = check_group_vars(hosts.get(reference) or {}, errors.get(reference) or {}, rules, report)
        for host in checked:
            host_vars = hosts.get(host) or {}
            host_errors = errors.get(host) or {}
            differs = [var for var in GROUP_VARS
                       if _group_key(host_vars, host_errors, var) != common.get(var)]
            if differs:
                own = _Report()
                own_nets = check_group_vars(host_vars, host_errors, rules, own, who=host)
                # report only the problems of the overridden variables
                for message in own.messages:
                    text = message[len(host) + 2:]
                    if any(text.startswith(var) for var in differs):
                        report.add(host, text)
                nets_by_host[host] = own_nets if 'cluster_networks' in differs else base_networks
            else:
                nets_by_host[host] = base_networks

    addresses = {}   # IPAddress -> (host, var)
    gateways = {}
    for networks in set(nets_by_host.values()):
        for name, info in networks.nets.items():
            if info['gateway'] is not None:
                gateways.setdefault(info['gateway'], info['path'])
    macs = {}
    hw_allowed = ', '.join(rules['hw_profiles'])
    os_allowed = ', '.join(rules['supported_os'])

    for host in checked:
        host_vars = hosts.get(host) or {}
        host_errors = errors.get(host) or {}
        networks = nets_by_host.get(host) or _Networks()
        is_node = host in cluster

        if not is_hostname(host):
            report.add(host, "inventory_hostname '%s' is not a valid hostname; allowed: %s"
                       % (show(host), HOSTNAME_ALLOWED))

        for var in HOST_VARS:
            if var in host_errors:
                report.add(host, _template_problem(var, host_errors[var]))

        def required(var, why):
            if var in host_errors:
                return False
            if var not in host_vars or _is_blank(host_vars[var]):
                report.add(host, '%s is not defined or empty; required for %s' % (var, why))
                return False
            return True

        def optional(var):
            return var not in host_errors and var in host_vars and not _is_blank(host_vars[var])

        # addresses
        for var, net_name in HOST_IP_VARS:
            if not is_node and var != 'node_mgmt_ip':
                continue  # switches: management address only
            if var == 'node_mgmt_ip':
                present = required(var, 'every host in %s and %s' % (rules['cluster_group'], rules['switch_group']))
            elif var == 'node_bmc_ip':
                present = required(var, 'every host in %s' % rules['cluster_group'])
            elif host in fabric_required:
                present = required(var, 'hosts in %s' % ', '.join(rules['fabric_required_groups']))
            else:
                present = optional(var)
            if not present:
                continue
            raw = host_vars[var]
            info = networks.get(net_name)
            address = to_ip(raw)
            if address is None:
                where = ('an address in cluster_networks.%s.cidr %s' % (net_name, info['net'])) if info \
                    else 'an IPv4 or IPv6 address'
                report.add(host, "%s '%s' is not a valid IP address; allowed: %s" % (var, show(raw), where))
                continue
            if info is not None:
                problem = _placement(address, info['net'])
                if problem:
                    first, last = _usable_range(info['net'])
                    report.add(host, "%s '%s' %s (cluster_networks.%s); allowed: %s-%s"
                               % (var, show(raw), problem, net_name, first, last))
                    continue
                if address in gateways:
                    report.add(host, "%s '%s' is the gateway of %s; allowed: any other address in %s"
                               % (var, show(raw), gateways[address], info['net']))
                    continue
            elif address in gateways:
                report.add(host, "%s '%s' is the gateway of %s; allowed: any other address"
                           % (var, show(raw), gateways[address]))
                continue
            if address in addresses:
                other_host, other_var = addresses[address]
                report.add(host, "%s '%s' is also used by %s (%s); every address must be unique"
                           % (var, show(raw), other_host, other_var))
            else:
                addresses[address] = (host, var)

        if not is_node:
            continue

        # MAC addresses
        for var in HOST_MAC_VARS:
            if var == 'node_mgmt_mac':
                present = required(var, 'every host in %s' % rules['cluster_group'])
            else:
                present = optional(var)
            if not present:
                continue
            raw = host_vars[var]
            mac = normalize_mac(raw)
            if mac is None:
                report.add(host, "%s '%s' is not a valid MAC address; allowed: %s" % (var, show(raw), MAC_ALLOWED))
                continue
            if mac == '00:00:00:00:00:00' or int(mac[:2], 16) & 1:
                kind = 'all zero' if mac.startswith('00:00:00:00:00:00') else \
                    ('the broadcast address' if mac == 'ff:ff:ff:ff:ff:ff' else 'a multicast address')
                report.add(host, "%s '%s' is %s; allowed: %s" % (var, show(raw), kind, MAC_ALLOWED))
                continue
            if mac in macs:
                other_host, other_var = macs[mac]
                report.add(host, "%s '%s' is also used by %s (%s); every MAC address must be unique"
                           % (var, show(raw), other_host, other_var))
            else:
                macs[mac] = (host, var)

        # hardware profile and OS
        if required('node_hw_profile', 'every host in %s; allowed: %s' % (rules['cluster_group'], hw_allowed)):
            profile = host_vars['node_hw_profile']
            if profile not in rules['hw_profiles']:
                report.add(host, "node_hw_profile '%s' is not a known hardware profile; allowed: %s"
                           % (show(profile), hw_allowed))
        if optional('node_os') and host_vars['node_os'] not in rules['supported_os']:
            report.add(host, "node_os '%s' is not supported; allowed: %s" % (show(host_vars['node_os']), os_allowed))
        elif 'node_os' in host_vars and 'node_os' not in host_errors and _is_blank(host_vars['node_os']) \
                and host_vars['node_os'] is not None:
            report.add(host, "node_os is empty; allowed: unset (cluster_os applies) or one of %s" % os_allowed)

    return report.messages
