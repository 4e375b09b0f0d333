# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firmware compliance filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.aifabric.cluster.plugins.module_utils.firmware import (
    FirmwareInputError, FirmwareParseError, FirmwareVersionError,
    cluster_report, collect_mlxfwmanager, collect_nvidia_smi, collect_redfish, compare_node, compare_versions,
    render_markdown,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain

_ERRORS = (FirmwareInputError, FirmwareParseError, FirmwareVersionError)


def _plain(value):
    try:
        return to_plain(value)
    except ValueError as exc:
        raise FirmwareInputError(str(exc))


def _call(name, function, *args):
    problem = None
    try:
        return function(*[_plain(arg) for arg in args])
    except _ERRORS as exc:
        problem = to_native(exc)
    raise AnsibleFilterError('%s: %s' % (name, problem))


def firmware_from_redfish(entries):
    """Records of community.general.redfish_info GetFirmwareInventory entries."""
    return _call('firmware_from_redfish', collect_redfish, entries)


def firmware_from_mlxfwmanager(data):
    """Records of mlxfwmanager --query text, or of aifabric.cluster.connectx_firmware_info devices."""
    return _call('firmware_from_mlxfwmanager', collect_mlxfwmanager, data)


def firmware_from_nvidia_smi(gpus):
    """Records of the gpus of aifabric.cluster.nvidia_smi_info."""
    return _call('firmware_from_nvidia_smi', collect_nvidia_smi, gpus)


def firmware_compare(records, node, profile, baseline):
    """Node report of the records against the baseline of the profile."""
    return _call('firmware_compare', lambda r, n, p, b: compare_node(n, p, b, r), records, node, profile, baseline)


def firmware_cluster_report(node_reports, generated):
    """Cluster summary of the node reports."""
    return _call('firmware_cluster_report', cluster_report, node_reports, generated)


def firmware_markdown(node_reports, summary):
    """Markdown of the node reports and the cluster summary."""
    return _call('firmware_markdown', render_markdown, node_reports, summary)


def firmware_version_compare(version, other):
    """-1, 0 or 1 as firmware version is older than, equal to or newer than other."""
    return _call('firmware_version_compare', compare_versions, version, other)


class FilterModule(object):
    """aifabric.cluster firmware compliance filters."""

    def filters(self):
        return {
            'firmware_from_redfish': firmware_from_redfish,
            'firmware_from_mlxfwmanager': firmware_from_mlxfwmanager,
            'firmware_from_nvidia_smi': firmware_from_nvidia_smi,
            'firmware_compare': firmware_compare,
            'firmware_cluster_report': firmware_cluster_report,
            'firmware_markdown': firmware_markdown,
            'firmware_version_compare': firmware_version_compare,
        }
