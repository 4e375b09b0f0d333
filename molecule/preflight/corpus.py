# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad-inventory corpus of the preflight role.

Each case (cases/NN-short-name.yml) is a small change to the lab inventory:

    description: duplicate management IP
    group_vars:      # deep-merged over inventories/lab/group_vars/all (optional)
      cluster_networks: {mgmt: {mtu: 100}}
    host_vars:       # per-host overrides (optional)
      gpu-02: {node_mgmt_ip: 10.231.0.101}
    inventory:       # extra groups/hosts, YAML inventory under all.children (optional)
      leaf_switches: {hosts: {leaf-01: {switch_platform: sonic}}}
    env:             # extra environment of the run, e.g. AIFABRIC_LAB_NODES (optional)
      AIFABRIC_LAB_NODES: "8"
    expect:          # regexes; each must match one line of the failure output
      - "gpu-02: node_mgmt_ip '10\\.231\\.0\\.101' is also used by gpu-01"

materialize() writes the case as an inventory; run_playbook() runs a playbook on it.
Paths are relative to the repository root, found from this file.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import configparser
import copy
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
CASES_DIR = os.path.join(HERE, 'cases')
LAB_INVENTORY = os.path.join(REPO_ROOT, 'inventories', 'lab')
PLAYBOOKS_DIR = os.path.join(REPO_ROOT, 'playbooks')
# the value of vault_cluster_bmc_password in the lab; it must never be printed
LAB_BMC_PASSWORD = 'lab-bmc-Secret-1'

_CASE_KEYS = frozenset(['description', 'group_vars', 'host_vars', 'inventory', 'env', 'expect'])
_COLLECTIONS_DIR = None


def case_files():
    """Sorted paths of every case file."""
    return sorted(glob.glob(os.path.join(CASES_DIR, '[0-9]*.yml')))


def load_case(path):
    """A case as a dict, with 'id' (file name without .yml) added; checks its shape."""
    with open(path) as handle:
        case = yaml.safe_load(handle) or {}
    unknown = set(case) - _CASE_KEYS
    if unknown:
        raise ValueError('%s: unknown keys %s' % (path, ', '.join(sorted(unknown))))
    if not case.get('description') or not case.get('expect'):
        raise ValueError('%s: description and expect are required' % path)
    for regex in case['expect']:
        re.compile(regex)
    case['id'] = os.path.splitext(os.path.basename(path))[0]
    return case


def deep_merge(base, override):
    """override merged into a copy of base: dicts recursively, anything else replaced."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged


def lab_group_vars():
    """The top-level variables of inventories/lab/group_vars/all/*.yml, merged in file order."""
    found = {}
    paths = sorted(glob.glob(os.path.join(LAB_INVENTORY, 'group_vars', 'all', '*.yml'))
                   + glob.glob(os.path.join(LAB_INVENTORY, 'group_vars', 'all', '*.yaml')))
    for path in paths:
        with open(path) as handle:
            found.update(yaml.safe_load(handle) or {})
    return found


def materialize(case, tmpdir):
    """Write the lab inventory with the case applied under tmpdir; return its path.

    The lab inventory is copied as is; the case's group_vars are deep-merged over the
    lab's group_vars/all values and the merged top-level keys written whole to
    group_vars/all/zz_case.yml (read last, so it wins); host_vars/<host>.yml hold the
    case's per-host overrides; the case's inventory (hosts the lab script cannot
    make, such as a bad host name) goes to zz_case_hosts.yml, a YAML inventory source
    read after the lab script.
    """
    inventory = os.path.join(str(tmpdir), 'inventory')
    if os.path.exists(inventory):
        shutil.rmtree(inventory)
    shutil.copytree(LAB_INVENTORY, inventory, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    overrides = case.get('group_vars') or {}
    if overrides:
        base = lab_group_vars()
        merged = dict((key, deep_merge(base[key], value) if key in base else copy.deepcopy(value))
                      for key, value in overrides.items())
        with open(os.path.join(inventory, 'group_vars', 'all', 'zz_case.yml'), 'w') as handle:
            handle.write('---\n# written by molecule/preflight/corpus.py for case %s\n' % case.get('id', '?'))
            yaml.safe_dump(merged, handle, default_flow_style=False, sort_keys=False)
    host_vars = case.get('host_vars') or {}
    if host_vars:
        os.makedirs(os.path.join(inventory, 'host_vars'), exist_ok=True)
        for host, values in host_vars.items():
            with open(os.path.join(inventory, 'host_vars', '%s.yml' % host), 'w') as handle:
                handle.write('---\n')
                yaml.safe_dump(values or {}, handle, default_flow_style=False, sort_keys=False)
    extra = case.get('inventory') or {}
    if extra:
        with open(os.path.join(inventory, 'zz_case_hosts.yml'), 'w') as handle:
            handle.write('---\n')
            yaml.safe_dump({'all': {'children': extra}}, handle, default_flow_style=False, sort_keys=False)
    return inventory


def _bin(name):
    """A tool of the Python environment running this code, else from PATH."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(candidate):
        return candidate
    return shutil.which(name) or name


def _collections_dir():
    """A folder with ansible_collections/aifabric/cluster pointing at this checkout."""
    global _COLLECTIONS_DIR
    if _COLLECTIONS_DIR is None:
        root = tempfile.mkdtemp(prefix='aifabric-collections-')
        os.makedirs(os.path.join(root, 'ansible_collections', 'aifabric'))
        os.symlink(REPO_ROOT, os.path.join(root, 'ansible_collections', 'aifabric', 'cluster'))
        atexit.register(shutil.rmtree, root, True)
        _COLLECTIONS_DIR = root
    return _COLLECTIONS_DIR


def _configured_collection_paths(config):
    """collections_path of ansible.cfg, as absolute paths (relative ones are relative
    to the folder of ansible.cfg); [] when it sets none."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config)
    except configparser.Error:
        return []
    for key in ('collections_path', 'collections_paths'):
        if parser.has_option('defaults', key):
            raw = parser.get('defaults', key)
            return [os.path.normpath(os.path.join(os.path.dirname(config), os.path.expanduser(path.strip())))
                    for path in raw.split(os.pathsep) if path.strip()]
    return []


def ansible_env(extra=None):
    """Environment for ansible-playbook: the repository's ansible.cfg, no colours.

    aifabric.cluster always resolves to this checkout: a temporary ansible_collections
    symlink goes first on ANSIBLE_COLLECTIONS_PATH (Molecule may have put an installed
    copy of the collection there).
    """
    env = dict(os.environ)
    config = os.path.join(REPO_ROOT, 'ansible.cfg')
    configured = []
    if os.path.exists(config):
        env['ANSIBLE_CONFIG'] = config
        configured = _configured_collection_paths(config)
    else:
        env.pop('ANSIBLE_CONFIG', None)
    current = [path for path in env.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if path]
    env['ANSIBLE_COLLECTIONS_PATH'] = os.pathsep.join([_collections_dir()] + (current or configured))
    env['ANSIBLE_NOCOLOR'] = '1'
    env['ANSIBLE_FORCE_COLOR'] = '0'
    env['ANSIBLE_RETRY_FILES_ENABLED'] = '0'
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env.update(extra or {})
    return env


def playbook_path(name):
    """playbooks/<name>; site.yml falls back to preflight.yml while it does not exist."""
    path = os.path.join(PLAYBOOKS_DIR, name)
    if not os.path.exists(path) and name == 'site.yml':
        path = os.path.join(PLAYBOOKS_DIR, 'preflight.yml')
    return path


def run_playbook(inventory, playbook, extra_args=None, env=None, timeout=600):
    """Run ansible-playbook; return (rc, stdout and stderr together)."""
    if not os.path.isabs(playbook):
        playbook = playbook_path(playbook)
    command = [_bin('ansible-playbook'), '-i', str(inventory), playbook] + list(extra_args or [])
    proc = subprocess.run(command, cwd=REPO_ROOT, env=ansible_env(env), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace')


def output_lines(output):
    """Lines of the output, plus the lines inside JSON strings ('\\n' escapes) and YAML
    quoting undone, so an expected message matches whatever result_format is set."""
    lines = []
    for line in output.splitlines():
        lines.append(line)
        if '\\n' in line:
            lines.extend(part.replace('\\"', '"').replace('\\\\', '\\') for part in line.split('\\n'))
        if "''" in line:
            lines.append(line.replace("''", "'"))
    return lines


def unmatched(expect, output):
    """The expected regexes that match no line of the output."""
    lines = output_lines(output)
    return [regex for regex in expect if not any(re.search(regex, line) for line in lines)]
