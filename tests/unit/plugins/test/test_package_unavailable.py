# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.aifabric.cluster.plugins.test.package_unavailable import TestModule as JinjaTests, package_unavailable


@pytest.mark.parametrize('result', [
    {'failed': True, 'msg': 'No package matching \'nvidia-driver-580-open\' is available'},
    {'failed': True, 'msg': 'No match for argument: nvidia-driver-580-open', 'failures': [], 'results': []},
    # registered after failed_when forgave it
    {'failed': False, 'failed_when_result': False, 'msg': 'No package matching \'dcgm\' is available'},
])
def test_not_found_in_any_repository(result):
    assert package_unavailable(result) is True


@pytest.mark.parametrize('result', [
    {'changed': True},
    {'failed': True, 'msg': 'E: Could not get lock /var/lib/dpkg/lock-frontend'},
    {'failed': True},
    None,
    'No package matching',
])
def test_other_results(result):
    assert package_unavailable(result) is False


def test_registered_under_its_name():
    assert JinjaTests().tests()['package_unavailable'] is package_unavailable
