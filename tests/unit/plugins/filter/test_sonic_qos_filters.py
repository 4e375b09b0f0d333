# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SONiC QoS map filters (the logic: test_sonic_qos_maps.py): registered, documented,
and errors as Ansible filter errors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import sonic_qos
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FILTERS = sonic_qos.FilterModule().filters()
HERE = os.path.dirname(os.path.abspath(sonic_qos.__file__))
WANT = {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 26, 'fwd_group': '3'}]}]}
HAVE = {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 24, 'fwd_group': '3'}, {'dscp': 26, 'fwd_group': '3'}]}]}


@pytest.mark.parametrize('name', ['sonic_qos_maps_stale', 'sonic_qos_maps_added', 'sonic_qos_maps_was'])
def test_registered_with_its_doc(name):
    assert name in FILTERS
    with open(os.path.join(HERE, name + '.yml')) as f:
        assert yaml.safe_load(f)['DOCUMENTATION']['name'] == name


def test_the_filters_on_one_switch():
    assert FILTERS['sonic_qos_maps_stale'](WANT, HAVE) == {'dscp_maps': [{'name': 'AIFABRIC', 'entries': [{'dscp': 24}]}]}
    assert FILTERS['sonic_qos_maps_added'](WANT, HAVE) == {}
    assert FILTERS['sonic_qos_maps_was'](WANT, HAVE) == HAVE
    assert FILTERS['sonic_qos_maps_stale'](WANT, None) == {}


def test_an_unknown_kind_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='unknown SONiC QoS map kind'):
        FILTERS['sonic_qos_maps_added']({'tc_maps': []}, {})
