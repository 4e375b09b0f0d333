# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of the GPU and Network Operator parts of the Kubernetes intent.

``cluster_kubernetes.gpu_operator`` and ``cluster_kubernetes.network_operator`` (roles
gpu_operator and network_operator, docs/kubernetes-gpu.md); called by
kubernetes_intent.check_kubernetes, one message per problem, for host ``all`` (a pod
address range that takes a node's fabric address names the node).

gpu_operator: {chart_repo_url: http(s) URL of the site's chart repository, or chart_path:
    a chart archive on the controller; chart_version (with chart_repo_url); namespace;
    values: extra Helm values, merged last}
network_operator: {the same chart keys, rdma_resource: the RDMA shared device plugin's
    resource name (rdma/<name>), rdma_hca_max: 1-1000, rdma_vendors: PCI vendor ids,
    secondary_network: {name, namespace, ip_range: "first-last" in cluster_networks.fabric,
    taking no node_fabric_ip}}
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

try:
    import netaddr
except ImportError:  # pragma: no cover - inventory_check reports the missing library
    netaddr = None

INTENT_VAR = 'cluster_kubernetes'
CHART_KEYS = ('chart_repo_url', 'chart_path', 'chart_version', 'namespace', 'values')
GPU_KEYS = CHART_KEYS
NETWORK_KEYS = CHART_KEYS + ('rdma_resource', 'rdma_hca_max', 'rdma_vendors', 'secondary_network')
SECONDARY_KEYS = ('name', 'namespace', 'ip_range')
RDMA_HCA_MAX = (1, 1000)

URL_RE = re.compile(r'^https?://[^\s/]+(/\S*)?$')
_DNS_LABEL_RE = re.compile(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')
_RESOURCE_RE = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$')
_VENDOR_RE = re.compile(r'^[0-9a-f]{4}$')

NAMESPACE_ALLOWED = "a DNS label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"


def _show(value):
    text = str(value).replace('\n', ' ')
    return text if len(text) <= 120 else text[:117] + '...'


def _unknown(value, keys, path, report):
    for key in sorted((k for k in value if k not in keys), key=str):
        report.add('all', '%s.%s is not a known key; allowed: %s' % (path, _show(key), ', '.join(keys)))


def _check_chart(section, path, report):
    url = section.get('chart_repo_url')
    archive = section.get('chart_path')
    if url in (None, '') and archive in (None, ''):
        report.add('all', '%s has neither chart_repo_url nor chart_path; required: one of them (the site mirror\'s chart '
                   'repository URL, or a chart archive on the controller; never the internet)' % path)
    elif url not in (None, '') and archive not in (None, ''):
        report.add('all', '%s has both chart_repo_url and chart_path; allowed: one of them' % path)
    if url not in (None, '') and (not isinstance(url, str) or not URL_RE.match(url)):
        report.add('all', "%s.chart_repo_url '%s' is not an http(s) URL; allowed: the chart repository's URL, such as "
                   "http://mirror.example/charts" % (path, _show(url)))
    if archive not in (None, '') and (not isinstance(archive, str) or not archive.startswith('/')):
        report.add('all', "%s.chart_path '%s' is not an absolute path; allowed: the path of a chart archive (.tgz) on the "
                   "controller" % (path, _show(archive)))
    version = section.get('chart_version')
    if url not in (None, '') and (not isinstance(version, str) or not version.strip()):
        report.add('all', "%s.chart_version '%s' is not a chart version; required with chart_repo_url: a quoted version "
                   "such as \"v25.10.0\" (never the latest)" % (path, _show(version)))
    namespace = section.get('namespace')
    if namespace is not None and (not isinstance(namespace, str) or not _DNS_LABEL_RE.match(namespace)):
        report.add('all', "%s.namespace '%s' is not a namespace name; allowed: %s" % (path, _show(namespace), NAMESPACE_ALLOWED))
    values = section.get('values')
    if values is not None and not isinstance(values, dict):
        report.add('all', "%s.values '%s' is not a mapping; allowed: Helm values, merged over the role's" % (path, _show(values)))


def parse_range(text):
    """(first, last) netaddr.IPAddress of 'a.b.c.d-e.f.g.h', else None."""
    if netaddr is None or not isinstance(text, str) or text.count('-') != 1:
        return None
    try:
        first, last = [netaddr.IPAddress(part.strip(), flags=netaddr.INET_PTON) for part in text.split('-')]
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    if first.version != last.version or first > last:
        return None
    return first, last


def _check_secondary(section, path, hosts, cluster, fabric, report):
    if not isinstance(section, dict):
        report.add('all', "%s '%s' is not a mapping; allowed: {name, namespace, ip_range}" % (path, _show(section)))
        return
    _unknown(section, SECONDARY_KEYS, path, report)
    name = section.get('name')
    if not isinstance(name, str) or not _DNS_LABEL_RE.match(name):
        report.add('all', "%s.name '%s' is not a network name; allowed: %s" % (path, _show(name), NAMESPACE_ALLOWED))
    namespace = section.get('namespace')
    if namespace is not None and (not isinstance(namespace, str) or not _DNS_LABEL_RE.match(namespace)):
        report.add('all', "%s.namespace '%s' is not a namespace name; allowed: %s" % (path, _show(namespace), NAMESPACE_ALLOWED))
    text = section.get('ip_range')
    where = 'cluster_networks.fabric %s' % fabric if fabric is not None else 'the fabric network'
    bounds = parse_range(text)
    if bounds is None:
        report.add('all', "%s.ip_range '%s' is not an address range; allowed: \"first-last\" addresses in %s that no node "
                   "uses, such as 10.232.0.10-10.232.0.99" % (path, _show(text), where))
        return
    first, last = bounds
    if fabric is not None and (first not in fabric or last not in fabric):
        report.add('all', "%s.ip_range '%s' is outside %s; allowed: a range inside it (pods on the fabric port share its "
                   "subnet)" % (path, text, where))
    for host in cluster:
        address = (hosts.get(host) or {}).get('node_fabric_ip')
        try:
            ip = netaddr.IPAddress(str(address)) if address not in (None, '') else None
        except (netaddr.AddrFormatError, ValueError, TypeError):
            ip = None
        if ip is not None and ip.version == first.version and first <= ip <= last:
            report.add(host, "node_fabric_ip '%s' is inside %s.ip_range '%s'; allowed: a pod address range that takes no "
                       "node's fabric address" % (address, path, text))


def check_operators(intent, hosts, cluster, networks, report):
    """Add the problems of intent['gpu_operator'] and intent['network_operator'] to report."""
    fabric = None
    if netaddr is not None and isinstance(networks, dict) and networks.get('fabric'):
        try:
            fabric = netaddr.IPNetwork(str(networks['fabric']))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            fabric = None
    for key, keys in (('gpu_operator', GPU_KEYS), ('network_operator', NETWORK_KEYS)):
        section = intent.get(key)
        path = '%s.%s' % (INTENT_VAR, key)
        if section is None:
            continue
        if not isinstance(section, dict):
            report.add('all', "%s '%s' is not a mapping; allowed: {%s}" % (path, _show(section), ', '.join(keys)))
            continue
        _unknown(section, keys, path, report)
        _check_chart(section, path, report)
        if key != 'network_operator':
            continue
        resource = section.get('rdma_resource')
        if resource is not None and (not isinstance(resource, str) or not _RESOURCE_RE.match(resource)):
            report.add('all', "%s.rdma_resource '%s' is not a resource name; allowed: letters, digits, '-', '_', '.' "
                       "(exposed as rdma/<name>), such as rdma_shared_device_a" % (path, _show(resource)))
        hca_max = section.get('rdma_hca_max')
        if hca_max is not None and (isinstance(hca_max, bool) or not isinstance(hca_max, int)
                                    or not RDMA_HCA_MAX[0] <= hca_max <= RDMA_HCA_MAX[1]):
            report.add('all', "%s.rdma_hca_max '%s' is not a pod count; allowed: an integer %d-%d (how many pods may "
                       "share the RDMA device; NVIDIA's examples use 63)" % ((path, _show(hca_max)) + RDMA_HCA_MAX))
        vendors = section.get('rdma_vendors')
        if vendors is not None and (not isinstance(vendors, list)
                                    or not all(isinstance(v, str) and _VENDOR_RE.match(v) for v in vendors)):
            report.add('all', "%s.rdma_vendors '%s' is not a list of PCI vendor ids; allowed: quoted 4-digit lowercase hex "
                       "ids, such as [\"15b3\"] (NVIDIA Mellanox)" % (path, _show(vendors)))
        if section.get('secondary_network') is not None:
            _check_secondary(section['secondary_network'], path + '.secondary_network', hosts, cluster, fabric, report)
