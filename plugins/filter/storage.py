# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Storage filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.module_utils.storage_intent import live_mounts, lnet_nets, mount_conflicts, storage_mounts
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _storage_mounts(filesystems, fstype, host, host_groups, mount_timeout=60, lnet_unit='lnet.service'):
    if fstype not in ('lustre', 'nfs'):
        raise AnsibleFilterError("storage_mounts: fstype must be lustre or nfs, got %r" % (fstype,))
    try:
        return storage_mounts(to_plain(filesystems), fstype, host, list(host_groups), int(mount_timeout), lnet_unit)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("storage_mounts: cluster_filesystems is not valid (run the preflight role): %s" % exc)


def _storage_mount_conflicts(mounts, findmnt):
    try:
        return mount_conflicts(to_plain(mounts), to_plain(findmnt))
    except (AttributeError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("storage_mount_conflicts: want storage_mounts items and findmnt --json output: %s" % exc)


def _storage_live_mounts(findmnt):
    try:
        return sorted(live_mounts(to_plain(findmnt)))
    except (AttributeError, TypeError) as exc:
        raise AnsibleFilterError("storage_live_mounts: want findmnt --json output: %s" % exc)


def _storage_lnet_nets(lnet, host, host_groups, host_vars, mac_netdev):
    try:
        lnet = to_plain(lnet)
        ifaces = set(i for nets in lnet.values() for item in nets or [] for i in item['interfaces'])
        host_macs = dict((i, to_plain(host_vars.get('node_%s_mac' % i))) for i in ifaces)
        return lnet_nets(lnet, host, list(host_groups), host_macs, to_plain(mac_netdev))
    except (AttributeError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("storage_lnet_nets: cluster_lnet_networks is not valid (run the preflight role): %s" % exc)


class FilterModule(object):
    def filters(self):
        return {'storage_mounts': _storage_mounts, 'storage_mount_conflicts': _storage_mount_conflicts,
                'storage_lnet_nets': _storage_lnet_nets,
                'storage_live_mounts': _storage_live_mounts}
