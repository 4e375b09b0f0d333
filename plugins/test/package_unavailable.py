# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
name: package_unavailable
short_description: Whether a package task failed only because no configured repository has the package
version_added: 0.1.0
author: aifabric.cluster contributors
description:
  - Tests the registered result of an C(ansible.builtin.package), C(ansible.builtin.apt) or
    C(ansible.builtin.dnf) task.
  - True when the task's message is the package manager's "not found" message
    (apt C(No package matching), dnf C(No match for argument)), false for any other result.
  - The result's C(failed) flag is not looked at, since a C(failed_when) that forgave the error
    registers the result with C(failed=false).
  - "The roles of this collection use it for one case only, check mode on a new node, where the
    repositories an earlier phase would configure do not exist yet, as
    C(failed_when: result is failed and not (ansible_check_mode and result is aifabric.cluster.package_unavailable))."
options:
  _input:
    description: The registered result of the package task.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Install the driver
  ansible.builtin.package:
    name: nvidia-driver-580-open
  register: install
  failed_when: install is failed and not (ansible_check_mode and install is aifabric.cluster.package_unavailable)
'''

RETURN = r'''
_value:
  description: Whether the task failed because the package is in no configured repository.
  type: bool
'''

import re

# apt (ansible.builtin.apt) and dnf (ansible.builtin.dnf, dnf5) wording
_NOT_FOUND = re.compile(r'No package matching|No match for argument')


def package_unavailable(result):
    # "failed" is not looked at: a task whose failed_when forgave the error is registered
    # with failed=false, and the later tasks of the role still need to know
    if not isinstance(result, dict):
        return False
    return bool(_NOT_FOUND.search(str(result.get('msg', ''))))


class TestModule(object):
    def tests(self):
        return {'package_unavailable': package_unavailable}
