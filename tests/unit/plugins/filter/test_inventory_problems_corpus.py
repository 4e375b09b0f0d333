# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight scenario's bad-inventory corpus (molecule/preflight/cases) driving the
inventory_problems filter directly: one corpus for both tiers.

Each case is materialised as the preflight scenario does (corpus.materialize: the lab
inventory with the case's group_vars, host_vars, extra hosts and environment), loaded by
Ansible's own inventory and variable managers in this process, and handed to the filter the
way roles/preflight/tasks/main.yml does: ``hostvars`` (templated on access, so a variable
that fails to template is reported, not raised), ``groups`` and the role's rules. Every
``expect`` regex of the case must match one line of the role's failure message. The
scenario runs the same cases through ansible-playbook; this runs all of them in seconds.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import importlib.util
import os
import re

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

# importing controller code marks the process as the controller (see test_firmware_filters.py)
_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager
from ansible_collections.aifabric.cluster.plugins.filter.inventory_problems import FilterModule
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
_SPEC = importlib.util.spec_from_file_location('preflight_corpus', os.path.join(ROOT, 'molecule', 'preflight', 'corpus.py'))
corpus = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(corpus)

inventory_problems = FilterModule().filters()['inventory_problems']
with open(os.path.join(ROOT, 'roles', 'preflight', 'defaults', 'main.yml')) as _f:
    PREFLIGHT_DEFAULTS = yaml.safe_load(_f)
CASES = [corpus.load_case(path) for path in corpus.case_files()]


def failure_message(inventory, monkeypatch, env=None):
    """The lines of the preflight role's failure message for the inventory ([] when valid), and
    the hosts of its cluster group (the inventory was really read)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, str(value))
    # the inventory script's JSON decoder is a controller profile: be the controller while reading
    monkeypatch.setattr(module_utils_internal, 'is_controller', True)
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[inventory])
    variables = VariableManager(loader=loader, inventory=manager)
    HostVars(inventory=manager, variable_manager=variables, loader=loader)  # hostvars, as a play has them
    play_vars = variables.get_vars()

    def var(name):  # the inventory's value wins over the role default, as in a play
        return play_vars.get(name, PREFLIGHT_DEFAULTS[name])
    rules = {'supported_os': var('preflight_supported_os'), 'hw_profiles': var('preflight_hw_profiles'),
             'mtu_min': int(var('preflight_mtu_min')), 'mtu_max': int(var('preflight_mtu_max')),
             'networks': var('preflight_networks'), 'fabric_required_groups': var('preflight_fabric_required_groups')}
    problems = inventory_problems(play_vars['hostvars'], play_vars['groups'], rules)
    cluster = list(play_vars['groups'].get('cluster', []))
    if not problems:
        return [], cluster
    return ['Preflight found %d inventory problem(s); nothing was changed:' % len(problems)] + problems, cluster


def test_the_corpus_is_there():
    assert len(CASES) >= 50


def test_the_lab_inventory_is_valid(monkeypatch):
    lines, cluster = failure_message(corpus.LAB_INVENTORY, monkeypatch)
    assert lines == []
    assert len(cluster) >= 5 and 'mgmt-01' in cluster and 'gpu-01' in cluster


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_each_case_is_named_by_the_filter(case, tmp_path, monkeypatch):
    lines, cluster = failure_message(corpus.materialize(case, tmp_path), monkeypatch, case.get('env'))
    assert lines, 'the filter found no problem'
    assert cluster, 'the case inventory was not read: %s' % lines
    missing = [regex for regex in case['expect'] if not any(re.search(regex, line) for line in lines)]
    assert not missing, 'not matched: %s\nthe message:\n%s' % (missing, '\n'.join(lines))
    assert corpus.LAB_BMC_PASSWORD not in '\n'.join(lines)
