# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the storage intent: ``cluster_filesystems`` and ``cluster_lnet_networks``.

Plain data in, one message per problem out (``<host>: <variable> '<value>' <what is
wrong>; <what is allowed>``), like inventory_check, which calls ``check_storage``.
Problems of the intent itself are reported once, for host ``all``; problems that depend on
a host (a mount that needs a fabric the host has not got, an LNet interface it lacks)
name the host.

cluster_filesystems: a list of
    {name, type: lustre|nfs, mount_point, source, options: {...}, hosts: [group or host],
     allow_soft: bool (NFS only: the explicit override that permits ``soft``)}
cluster_lnet_networks: {group or host: [{net: o2ib0|tcp0|..., interfaces: [fabric|mgmt|...]}]}
    where an interface names an inventory network (``node_<name>_mac`` finds the netdev, as
    roce_host finds the fabric port); several interfaces in one net are multi-rail.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath
import re

try:
    import netaddr
except ImportError:  # pragma: no cover - inventory_check reports the missing library
    netaddr = None

FS_TYPES = ('lustre', 'nfs')
FS_KEYS = ('name', 'type', 'mount_point', 'source', 'options', 'hosts', 'allow_soft')
NFS_VERSIONS = ('3', '4', '4.0', '4.1', '4.2')
NFS_OPTIONS = ('vers', 'proto', 'port', 'nconnect', 'rsize', 'wsize', 'hard', 'soft', 'timeo', 'retrans', 'extra')
NFS_PROTOS = ('tcp', 'rdma')
NFS_MAX_IO = 1048576   # the Linux client's NFS_MAX_FILE_IO_SIZE: larger rsize/wsize are cut to 1 MiB
NFS_NCONNECT = (1, 16)  # NFS_MAX_CONNECTIONS in fs/nfs/internal.h
LUSTRE_OPTIONS = ('flock', 'noatime', 'extra')
LUSTRE_FLOCK = ('flock', 'localflock', 'noflock')
# lnet nets: the LND name and an optional number (lnet/utils/lnetconfig: tcp, o2ib, ...)
LNET_NET_RE = re.compile(r'^(tcp|o2ib|gni|kfi|efa|ptl)(\d{0,3})$')
NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$')
FSNAME_RE = re.compile(r'^[A-Za-z0-9_-]{1,8}$')   # Lustre fsnames are at most 8 characters
SERVER_RE = re.compile(r'^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$')

ALLOWED_FS = "allowed: {name, type: lustre|nfs, mount_point, source, options, hosts}"


def show(value):
    text = str(value)
    return text if len(text) <= 120 else text[:117] + '...'


def _members(name, groups, all_hosts):
    if name in groups:
        found = groups[name]
        return set([found] if isinstance(found, str) else found)
    if name in all_hosts:
        return set([name])
    return None


def parse_nid(text):
    """'10.0.0.1@o2ib0' -> (IPv4 address text, net) or None when it is not a valid NID."""
    if not isinstance(text, str) or text.count('@') != 1:
        return None
    addr, net = text.split('@')
    if not LNET_NET_RE.match(net):
        return None
    if netaddr is None:
        return None
    try:
        if not netaddr.valid_ipv4(addr, flags=netaddr.INET_PTON):
            return None
    except TypeError:  # pragma: no cover - netaddr < 0.8 signature
        return None
    net = net if re.search(r'\d$', net) else net + '0'
    return addr, net


def parse_lustre_source(source):
    """'nid1,nid2:nid3:/fsname' -> ([[nid, ...] per MGS], fsname), or (None, reason)."""
    if not isinstance(source, str) or ':/' not in source:
        return None, "is not 'MGS NIDs:/fsname'"
    nids_text, fsname = source.rsplit(':/', 1)
    if not FSNAME_RE.match(fsname):
        return None, "has fsname '%s'; a Lustre fsname is 1-8 letters, digits, '_' or '-'" % show(fsname)
    mgs = []
    for group in nids_text.split(':'):
        nids = []
        for nid in group.split(','):
            parsed = parse_nid(nid)
            if parsed is None:
                return None, "has an invalid NID '%s'; a NID is IPv4@net, net one of tcp, o2ib, ... with an optional number" % show(nid)
            nids.append(parsed)
        mgs.append(nids)
    return (mgs, fsname), None


def _int_in(value, first, last):
    return isinstance(value, int) and not isinstance(value, bool) and first <= value <= last


def _check_nfs(fs, path, report):
    source = fs.get('source')
    if not isinstance(source, str) or ':/' not in source or not SERVER_RE.match(source.split(':/', 1)[0]):
        report.add('all', "%s.source '%s' is not 'server:/export'; allowed: a host name or IP address, ':', an absolute export path"
                   % (path, show(source)))
    opts = fs.get('options') or {}
    if not isinstance(opts, dict):
        return
    for key in sorted(opts):
        if key not in NFS_OPTIONS:
            report.add('all', "%s.options.%s is not a known NFS option; allowed: %s" % (path, key, ', '.join(NFS_OPTIONS)))
    if 'vers' in opts and str(opts['vers']) not in NFS_VERSIONS:
        report.add('all', "%s.options.vers '%s' is not an NFS version; allowed: %s (default 4.2)"
                   % (path, show(opts['vers']), ', '.join(NFS_VERSIONS)))
    if 'proto' in opts and opts['proto'] not in NFS_PROTOS:
        report.add('all', "%s.options.proto '%s' is not supported; allowed: tcp, rdma" % (path, show(opts['proto'])))
    if 'nconnect' in opts and not _int_in(opts['nconnect'], *NFS_NCONNECT):
        report.add('all', "%s.options.nconnect '%s' is out of range; allowed: an integer 1-16 (the Linux client's maximum)"
                   % (path, show(opts['nconnect'])))
    for key in ('rsize', 'wsize'):
        if key in opts and not (_int_in(opts[key], 4096, NFS_MAX_IO) and opts[key] % 4096 == 0):
            report.add('all', "%s.options.%s '%s' is not a multiple of 4096 up to 1 MiB; allowed: 4096-1048576 (the client caps at 1 MiB)"
                       % (path, key, show(opts[key])))
    if 'port' in opts and not _int_in(opts['port'], 1, 65535):
        report.add('all', "%s.options.port '%s' is not a port; allowed: 1-65535 (20049 for NFS over RDMA)" % (path, show(opts['port'])))
    for key in ('timeo', 'retrans'):
        if key in opts and not _int_in(opts[key], 1, 100000):
            report.add('all', "%s.options.%s '%s' is not a positive integer; allowed: 1-100000" % (path, key, show(opts[key])))
    soft = opts.get('soft') is True or opts.get('hard') is False
    if soft and fs.get('allow_soft') is not True:
        report.add('all', "%s.options soft mount requested without %s.allow_soft: true; allowed: hard (the default: a soft "
                   "mount returns EIO to a training job when the server is slow and can corrupt checkpoints), or soft with "
                   "allow_soft: true" % (path, path))


def _check_lustre(fs, path, report):
    parsed, reason = parse_lustre_source(fs.get('source'))
    if parsed is None:
        report.add('all', "%s.source '%s' %s; allowed: MGS NIDs:/fsname, e.g. 10.0.0.1@o2ib:10.0.0.2@o2ib:/scratch"
                   % (path, show(fs.get('source')), reason))
    opts = fs.get('options') or {}
    if not isinstance(opts, dict):
        return parsed
    for key in sorted(opts):
        if key not in LUSTRE_OPTIONS:
            report.add('all', "%s.options.%s is not a known Lustre option; allowed: %s" % (path, key, ', '.join(LUSTRE_OPTIONS)))
    if 'flock' in opts and opts['flock'] not in LUSTRE_FLOCK:
        report.add('all', "%s.options.flock '%s' is not a locking mode; allowed: %s (default flock)"
                   % (path, show(opts['flock']), ', '.join(LUSTRE_FLOCK)))
    if 'noatime' in opts and not isinstance(opts['noatime'], bool):
        report.add('all', "%s.options.noatime '%s' is not a boolean; allowed: true, false" % (path, show(opts['noatime'])))
    return parsed


def _nested(a, b):
    return a == b or a.startswith(b.rstrip('/') + '/') or b.startswith(a.rstrip('/') + '/')


def _lnet_by_host(lnet, groups, all_hosts, report):
    """{host: [(index path, net, [interfaces])]} from cluster_lnet_networks (later entries add)."""
    by_host = {}
    if lnet in (None, {}):
        return by_host
    if not isinstance(lnet, dict):
        report.add('all', "cluster_lnet_networks '%s' is not a mapping; allowed: {group or host: [{net, interfaces}]}" % show(lnet))
        return by_host
    for target in sorted(lnet):
        members = _members(target, groups, all_hosts)
        path = 'cluster_lnet_networks.%s' % target
        if members is None:
            report.add('all', "%s names '%s', which is not a group or host of the inventory; allowed: a group or host" % (path, target))
            continue
        nets = lnet[target]
        if not isinstance(nets, list):
            report.add('all', "%s '%s' is not a list; allowed: [{net: o2ib0, interfaces: [fabric]}]" % (path, show(nets)))
            continue
        seen = set()
        for i, item in enumerate(nets):
            ipath = '%s[%d]' % (path, i)
            if not isinstance(item, dict) or not isinstance(item.get('interfaces'), list) or not item.get('interfaces'):
                report.add('all', "%s '%s' is not {net, interfaces: [...]}; allowed: e.g. {net: o2ib0, interfaces: [fabric]}"
                           % (ipath, show(item)))
                continue
            net = str(item.get('net'))
            if not LNET_NET_RE.match(net):
                report.add('all', "%s.net '%s' is not an LNet network; allowed: tcp, o2ib, ... with an optional number (o2ib0)"
                           % (ipath, show(item.get('net'))))
                continue
            net = net if re.search(r'\d$', net) else net + '0'
            if net in seen:
                report.add('all', "%s.net '%s' is defined twice for %s; allowed: one entry per net, its NIs in interfaces (multi-rail)"
                           % (ipath, net, target))
                continue
            seen.add(net)
            for host in members:
                by_host.setdefault(host, []).append((ipath, net, item['interfaces']))
    return by_host


def check_storage(hosts, groups, report, cluster, networks=None):
    """Add the storage intent's problems to report (an inventory_check._Report).

    :arg hosts: {host: {variable: value}}; the intent is read from the first cluster host
        that has it (group variables are the same on every host).
    :arg groups: {group: [hosts]}.
    :arg cluster: the cluster hosts (the ones that can mount).
    :arg networks: names of cluster_networks (the interfaces LNet may name); None: unchecked.
    """
    ordered = sorted(cluster)
    source = next((h for h in ordered if 'cluster_filesystems' in (hosts.get(h) or {})
                   or 'cluster_lnet_networks' in (hosts.get(h) or {})), None)
    if source is None:
        return
    host_vars = hosts.get(source) or {}
    filesystems = host_vars.get('cluster_filesystems')
    all_hosts = set(hosts) | set(cluster)
    lnet = _lnet_by_host(host_vars.get('cluster_lnet_networks'), groups, all_hosts, report)

    # LNet interfaces the hosts have: an inventory network with node_<name>_mac
    for host in sorted(lnet):
        hv = hosts.get(host) or {}
        for ipath, net, interfaces in lnet[host]:
            for iface in interfaces:
                if networks is not None and iface not in networks:
                    report.add('all', "%s.interfaces '%s' is not a network of cluster_networks; allowed: %s"
                               % (ipath, show(iface), ', '.join(sorted(networks))))
                elif not hv.get('node_%s_mac' % iface):
                    report.add(host, "%s.interfaces '%s' is not an interface of this host (node_%s_mac is not set); "
                               "allowed: a network the host has in the inventory" % (ipath, show(iface), iface))

    if filesystems in (None, []):
        return
    if not isinstance(filesystems, list):
        report.add('all', "cluster_filesystems '%s' is not a list; %s" % (show(filesystems), ALLOWED_FS))
        return
    names = {}
    valid = []   # (index, fs, members, lustre parse)
    for i, fs in enumerate(filesystems):
        path = 'cluster_filesystems[%d]' % i
        if not isinstance(fs, dict):
            report.add('all', "%s '%s' is not a mapping; %s" % (path, show(fs), ALLOWED_FS))
            continue
        for key in sorted(fs):
            if key not in FS_KEYS:
                report.add('all', "%s.%s is not a known key; allowed: %s" % (path, key, ', '.join(FS_KEYS)))
        missing = [k for k in ('name', 'type', 'mount_point', 'source', 'hosts') if fs.get(k) in (None, '', [])]
        if missing:
            report.add('all', "%s is missing %s; %s" % (path, ', '.join(missing), ALLOWED_FS))
            continue
        name = fs['name']
        if not isinstance(name, str) or not NAME_RE.match(name):
            report.add('all', "%s.name '%s' is not a name; allowed: letters, digits, '.', '_', '-'" % (path, show(name)))
        elif name in names:
            report.add('all', "%s.name '%s' is also the name of cluster_filesystems[%d]; allowed: a unique name" % (path, name, names[name]))
        else:
            names[name] = i
        mount_point = fs['mount_point']
        if not isinstance(mount_point, str) or not mount_point.startswith('/') or posixpath.normpath(mount_point) != mount_point \
                or mount_point == '/':
            report.add('all', "%s.mount_point '%s' is not a normalized absolute path; allowed: e.g. /mnt/datasets (not /, no "
                       "trailing '/', no '..')" % (path, show(mount_point)))
            continue
        if 'options' in fs and not isinstance(fs['options'], dict):
            report.add('all', "%s.options '%s' is not a mapping; allowed: {option: value}" % (path, show(fs['options'])))
        if fs['type'] not in FS_TYPES:
            report.add('all', "%s.type '%s' is not supported; allowed: lustre, nfs" % (path, show(fs['type'])))
            continue
        parsed = _check_lustre(fs, path, report) if fs['type'] == 'lustre' else None
        if fs['type'] == 'nfs':
            _check_nfs(fs, path, report)
        targets = fs['hosts'] if isinstance(fs['hosts'], list) else [fs['hosts']]
        members = set()
        for target in targets:
            found = _members(target, groups, all_hosts)
            if found is None:
                report.add('all', "%s.hosts '%s' is not a group or host of the inventory; allowed: a group or host"
                           % (path, show(target)))
                continue
            members |= found
        valid.append((i, fs, members & set(cluster) if cluster else members, parsed))

    # one filesystem per mount point, none nested in another, on any host that mounts both
    for n, (i, fs, members, _parsed) in enumerate(valid):
        for j, other, other_members, _other_parsed in valid[:n]:
            common = sorted(members & other_members)
            if not common or not _nested(fs['mount_point'], other['mount_point']):
                continue
            shown = ', '.join(common[:3]) + (' and %d more' % (len(common) - 3) if len(common) > 3 else '')
            if fs['mount_point'] == other['mount_point']:
                report.add('all', "cluster_filesystems[%d].mount_point '%s' is also the mount point of cluster_filesystems[%d] (%s) "
                           "on %s; allowed: one filesystem per mount point" % (i, fs['mount_point'], j, other['name'], shown))
            else:
                report.add('all', "cluster_filesystems[%d].mount_point '%s' is nested with '%s' of cluster_filesystems[%d] (%s) "
                           "on %s; allowed: mount points that do not contain one another" % (
                               i, fs['mount_point'], other['mount_point'], j, other['name'], shown))

    # host-dependent: NFS over RDMA needs the fabric; Lustre needs an LNet net of an MGS NID
    for i, fs, members, parsed in valid:
        path = 'cluster_filesystems[%d]' % i
        opts = fs.get('options') if isinstance(fs.get('options'), dict) else {}
        for host in sorted(members):
            hv = hosts.get(host) or {}
            if fs['type'] == 'nfs' and opts.get('proto') == 'rdma' and not (hv.get('node_fabric_ip') and hv.get('node_fabric_mac')):
                report.add(host, "%s.options.proto 'rdma' (%s) needs the fabric, but node_fabric_ip/node_fabric_mac are not set; "
                           "allowed: proto tcp, or a host with a fabric port" % (path, fs['name']))
            if fs['type'] == 'lustre' and parsed:
                mgs_nets = set(net for nids in parsed[0] for _addr, net in nids)
                host_nets = set(net for _ipath, net, _ifaces in lnet.get(host, []))
                if not mgs_nets & host_nets:
                    report.add(host, "%s.source '%s' (%s): no LNet network of this host reaches the MGS (%s; host: %s); allowed: "
                               "a cluster_lnet_networks entry for the host with one of the MGS NIDs' nets"
                               % (path, show(fs['source']), fs['name'], ', '.join(sorted(mgs_nets)),
                                  ', '.join(sorted(host_nets)) or 'none'))


# ---------------------------------------------------------------------------------------
# From the intent to what a client mounts (the lustre_client and nfs_client roles, through
# the aifabric.cluster.storage_mounts filter)

NFS_DEFAULTS = {'vers': '4.2', 'proto': 'tcp', 'rsize': NFS_MAX_IO, 'wsize': NFS_MAX_IO, 'hard': True}
NFS_RDMA_PORT = 20049
LUSTRE_DEFAULTS = {'flock': 'flock', 'noatime': True}
# systemd: mount on first access (a server that is down does not hold the boot), after the
# network; the automount unit gives up after mount_timeout seconds
SYSTEMD_OPTIONS = ('_netdev', 'x-systemd.automount')


def _targets(fs, host, host_groups):
    hosts = fs.get('hosts') or []
    hosts = [hosts] if isinstance(hosts, str) else hosts
    return host in hosts or bool(set(hosts) & set(host_groups))


def nfs_options(opts):
    """The NFS options of the intent with the defaults, as the ordered mount option list."""
    merged = dict(NFS_DEFAULTS)
    merged.update(opts or {})
    if merged.get('soft') is True or merged.get('hard') is False:
        merged['hard'] = False
    if merged.get('proto') == 'rdma' and 'port' not in (opts or {}):
        merged['port'] = NFS_RDMA_PORT
    out = ['vers=%s' % merged['vers'], 'proto=%s' % merged['proto']]
    for key in ('port', 'nconnect', 'rsize', 'wsize', 'timeo', 'retrans'):
        if merged.get(key) is not None:
            out.append('%s=%s' % (key, merged[key]))
    out.append('hard' if merged['hard'] else 'soft')
    return out + list(merged.get('extra') or []), merged


def lustre_options(opts, lnet_unit):
    merged = dict(LUSTRE_DEFAULTS)
    merged.update(opts or {})
    out = [] if merged['flock'] == 'noflock' else [merged['flock']]
    if merged.get('noatime'):
        out.append('noatime')
    if lnet_unit:
        out.append('x-systemd.requires=%s' % lnet_unit)
    return out + list(merged.get('extra') or []), merged


def storage_mounts(filesystems, fstype, host, host_groups, mount_timeout=60, lnet_unit='lnet.service'):
    """The filesystems of one type that the host mounts, each with what the roles need:
    name, mount_point, source, fstype (fstab), opts (the fstab option string), and
    ``expected`` (for nfs_mount_info: the negotiated options to check) or ``mgs_nids``
    (for lustre_client_info: one NID per MGS to ping)."""
    out = []
    for fs in filesystems or []:
        if not isinstance(fs, dict) or fs.get('type') != fstype or not _targets(fs, host, host_groups):
            continue
        extra = list(SYSTEMD_OPTIONS) + ['x-systemd.mount-timeout=%d' % mount_timeout]
        item = {'name': fs['name'], 'mount_point': fs['mount_point'], 'source': fs['source']}
        if fstype == 'nfs':
            opts, merged = nfs_options(fs.get('options'))
            item['fstype'] = 'nfs'
            item['expected'] = {
                'mount_point': fs['mount_point'], 'source': fs['source'], 'vers': str(merged['vers']),
                'proto': merged['proto'], 'nconnect': merged.get('nconnect') or 1, 'hard': merged['hard'],
                'rsize_max': merged['rsize'], 'wsize_max': merged['wsize']}
            if merged.get('port') is not None:
                item['expected']['port'] = merged['port']
            item['rdma'] = merged['proto'] == 'rdma'
        else:
            opts, merged = lustre_options(fs.get('options'), lnet_unit)
            item['fstype'] = 'lustre'
            parsed, dummy = parse_lustre_source(fs['source'])
            item['mgs_nids'] = ['%s@%s' % group[0] for group in parsed[0]] if parsed else []
            item['fsname'] = parsed[1] if parsed else None
        item['opts'] = ','.join(opts + extra)
        out.append(item)
    return out


def _norm_source(source):
    return source.rstrip('/') if isinstance(source, str) and source.rstrip('/') else source


def live_mounts(findmnt):
    """{target: the row of the filesystem in use there} from findmnt's JSON, autofs rows left out."""
    live = {}
    for row in (findmnt or {}).get('filesystems', []):
        if row.get('fstype') != 'autofs':
            live[row.get('target')] = row
    return live


def mount_conflicts(mounts, findmnt):
    """The mounts whose mount point holds a filesystem from another source, from
    ``findmnt --list --json --output TARGET,SOURCE,FSTYPE`` (parsed). The last row of a
    target is the mount in use. Each: the mount, plus ``found_source`` and ``found_fstype``.

    An ``autofs`` row is systemd's automount point for an ``x-systemd.automount`` line (after a
    boot, until the first access): not a filesystem, so it neither conflicts nor counts as mounted."""
    live = live_mounts(findmnt)
    out = []
    for mount in mounts or []:
        row = live.get(mount['mount_point'])
        if row is not None and _norm_source(row.get('source')) != _norm_source(mount['source']):
            out.append(dict(mount, found_source=row.get('source'), found_fstype=row.get('fstype')))
    return out


def lnet_nets(lnet, host, host_groups, host_macs, mac_netdev):
    """The host's LNet nets from cluster_lnet_networks, their interfaces resolved to netdevs
    by MAC (node_<interface>_mac, as roce_host finds the fabric port).

    :arg host_macs: {interface name: its node_<interface>_mac or None}
    :arg mac_netdev: {MAC: netdev} of the host
    Each: {net, interfaces, netdevs, missing: [problem, ...], multi_rail: several netdevs}."""
    out = []
    names = set(host_groups) | set([host])
    macs = dict((str(mac).lower(), dev) for mac, dev in (mac_netdev or {}).items())
    for key in sorted(lnet or {}):
        if key not in names:
            continue
        for item in lnet[key] or []:
            net = {'net': item['net'], 'interfaces': list(item['interfaces']), 'netdevs': [], 'missing': []}
            for iface in item['interfaces']:
                mac = (host_macs or {}).get(iface)
                dev = macs.get(str(mac).lower()) if mac else None
                if dev:
                    net['netdevs'].append(dev)
                elif not mac:
                    net['missing'].append("%s: node_%s_mac is not set" % (iface, iface))
                else:
                    net['missing'].append("%s: no netdev has node_%s_mac '%s'" % (iface, iface, mac))
            net['multi_rail'] = len(net['netdevs']) > 1
            out.append(net)
    return out
