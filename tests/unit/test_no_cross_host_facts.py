# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No role or playbook reads the facts another host gathered.

That is what keeps a ``--limit`` run O(1) in the size of the cluster (docs/performance.md):
a play for one new node never needs every other host's facts gathered first, or a fact
cache to hold them. What a play needs to know about other hosts comes from the inventory
(their addresses, MACs, groups), which costs no connection. A rule that needs another
host's live state asks that host (``delegate_to``) in its own task.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# hostvars[<any host but this one>] followed by its gathered facts: ansible_facts, or one of the
# facts that INJECT_FACTS_AS_VARS puts beside the inventory's variables
FACT_NAMES = ('facts', 'default_ipv4', 'default_ipv6', 'interfaces', 'all_ipv4_addresses', 'hostname',
              'nodename', 'fqdn', 'distribution', 'distribution_version', 'distribution_major_version',
              'os_family', 'kernel', 'machine', 'processor_count', 'memtotal_mb', 'mounts', 'pkg_mgr')
CROSS_HOST_FACT = re.compile(
    r"hostvars\s*\[\s*(?!inventory_hostname\s*\])(?:[^\[\]]|\[[^\]]*\])+\]\s*(?:\.|\[\s*['\"])\s*ansible_(?:%s)\b" % '|'.join(FACT_NAMES))


def yaml_files():
    for top in ('roles', 'playbooks', 'extensions'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            for name in sorted(filenames):
                if name.endswith(('.yml', '.yaml', '.j2')):
                    yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def test_there_are_files_to_search():
    assert len(list(yaml_files())) > 50


@pytest.mark.parametrize('text', [
    "{{ hostvars[groups['kube_control_plane'][0]].ansible_facts.default_ipv4.address }}",
    "{{ hostvars[item]['ansible_facts']['interfaces'] }}",
    "{{ hostvars[peer].ansible_default_ipv4.address }}",
    "{{ hostvars['gpu-01'] ['ansible_hostname'] }}",
])
def test_a_cross_host_fact_is_found(text):
    assert CROSS_HOST_FACT.search(text)


@pytest.mark.parametrize('text', [
    "{{ hostvars[inventory_hostname].ansible_facts.os_family }}",
    "{{ hostvars[item].node_mgmt_ip }}",
    "{{ hostvars[item]['ansible_host'] }}",
    "{{ hostvars['localhost']['preflight_validated'] | default(false) }}",
    "{{ ansible_facts.default_ipv4.address }}",
])
def test_own_facts_and_inventory_variables_are_not(text):
    assert not CROSS_HOST_FACT.search(text)


def test_no_role_or_playbook_reads_another_hosts_facts():
    found = []
    for path in yaml_files():
        with open(os.path.join(ROOT, path)) as f:
            for number, line in enumerate(f, 1):
                if CROSS_HOST_FACT.search(line):
                    found.append('%s:%d: %s' % (path, number, line.strip()))
    assert found == [], found
