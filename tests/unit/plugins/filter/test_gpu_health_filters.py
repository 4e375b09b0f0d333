# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

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
from ansible_collections.aifabric.cluster.plugins.filter import gpu_health
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

FILTERS = gpu_health.FilterModule().filters()


def test_registered_with_its_doc():
    with open(os.path.join(os.path.dirname(os.path.abspath(gpu_health.__file__)), 'gpu_health_summary.yml')) as f:
        assert yaml.safe_load(f)['DOCUMENTATION']['name'] == 'gpu_health_summary'


def test_one_line_per_node_then_its_reasons_and_the_findings_that_do_not_fail_it():
    results = {
        'gpu-02': {'healthy': False, 'node_reasons': ['1 GPU(s) missing: 7 of 8'], 'findings': [
            {'severity': 'warning', 'message': 'GPU 1: persistence mode off', 'promoted': False},
            {'severity': 'critical', 'message': 'GPU 3: ECC', 'promoted': True}],
            'gpus': [{'index': 0, 'healthy': True, 'reasons': []},
                     {'index': 3, 'healthy': False, 'reasons': ['GPU 3: uncorrectable ECC errors']}]},
        'gpu-01': {'healthy': True, 'node_reasons': [], 'findings': [], 'gpus': [{'index': 0, 'healthy': True}]},
        'gpu-03': {'failed': True, 'msg': 'nvidia-smi not found'},
    }
    assert FILTERS['gpu_health_summary'](results) == [
        'gpu-01: healthy',
        'gpu-02: UNHEALTHY, 2 finding(s)', '  - 1 GPU(s) missing: 7 of 8', '  - GPU 3: uncorrectable ECC errors',
        '  ~ warning: GPU 1: persistence mode off',
        'gpu-03: NOT CHECKED (nvidia-smi not found)']
    assert FILTERS['gpu_health_summary'](None) == [] and FILTERS['gpu_health_summary']({'gpu-04': None}) == ['gpu-04: NOT CHECKED (no result)']


def test_anything_else_is_refused():
    with pytest.raises(AnsibleFilterError, match='must be the nvidia_gpu_health results by node, not list'):
        FILTERS['gpu_health_summary']([{'healthy': True}])
