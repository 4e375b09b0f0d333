# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import storage
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FILTERS = storage.FilterModule().filters()
INTENT = [{'name': 'scratch', 'type': 'lustre', 'mount_point': '/lustre/scratch', 'source': '10.0.0.1@tcp:/scratch',
           'hosts': ('gpu_nodes',)}]


def test_filters_are_registered_with_a_doc_each():
    assert sorted(FILTERS) == ['storage_live_mounts', 'storage_lnet_nets', 'storage_mount_conflicts', 'storage_mounts']


def test_storage_mounts_filter():
    mounts = FILTERS['storage_mounts'](INTENT, 'lustre', 'gpu-01', ('gpu_nodes',), '30')
    assert mounts[0]['mgs_nids'] == ['10.0.0.1@tcp0']
    assert mounts[0]['opts'].endswith('x-systemd.mount-timeout=30')


@pytest.mark.parametrize('args, text', [
    ((INTENT, 'cifs', 'gpu-01', []), 'fstype must be lustre or nfs'),
    (([{'type': 'lustre', 'hosts': ['gpu-01']}], 'lustre', 'gpu-01', []), 'run the preflight role'),
])
def test_storage_mounts_filter_errors(args, text):
    with pytest.raises(AnsibleFilterError, match=text):
        FILTERS['storage_mounts'](*args)


def test_conflicts_and_lnet_filters():
    mounts = FILTERS['storage_mounts'](INTENT, 'lustre', 'gpu-01', ['gpu_nodes'])
    found = FILTERS['storage_mount_conflicts'](mounts, {'filesystems': [
        {'target': '/lustre/scratch', 'source': 'tmpfs', 'fstype': 'tmpfs'}]})
    assert found[0]['found_source'] == 'tmpfs'
    with pytest.raises(AnsibleFilterError, match='findmnt'):
        FILTERS['storage_mount_conflicts'](mounts, 'not json')
    nets = FILTERS['storage_lnet_nets']({'gpu_nodes': [{'net': 'tcp0', 'interfaces': ['fabric']}]}, 'gpu-01',
                                        ['gpu_nodes'], {'node_fabric_mac': '0a:af:02:00:00:65'},
                                        {'0a:af:02:00:00:65': 'eth1'})
    assert nets[0]['netdevs'] == ['eth1']
    with pytest.raises(AnsibleFilterError, match='run the preflight role'):
        FILTERS['storage_lnet_nets']({'gpu_nodes': [{'net': 'tcp0'}]}, 'gpu-01', ['gpu_nodes'], {}, {})


def test_live_mounts_filter():
    assert FILTERS['storage_live_mounts']({'filesystems': [
        {'target': '/b', 'source': 'x', 'fstype': 'ext4'}, {'target': '/a', 'source': 'systemd-1', 'fstype': 'autofs'}]}) == ['/b']
    with pytest.raises(AnsibleFilterError, match='findmnt'):
        FILTERS['storage_live_mounts']('not json')
