# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight role against the bad-inventory corpus (molecule/preflight/cases).

Every case must make playbooks/site.yml fail (preflight is its first play), with every
expected message, and without the lab BMC password anywhere in the output. The
unmodified lab inventory must pass playbooks/preflight.yml.

Run: PYTHONPATH=lab:molecule/preflight .venv/bin/pytest molecule/preflight/tests -q   (no connection to any host)

Hook: a session fixture named ``lab_fingerprint``, if one is defined (e.g. in a
conftest.py), is requested by every test here; use it to record the lab hosts'
state before the corpus runs and to check afterwards that no host changed. Without it
nothing is checked about the hosts.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

import corpus

CASES = [corpus.load_case(path) for path in corpus.case_files()]


@pytest.fixture(autouse=True)
def _host_fingerprint_hook(request):
    """Requests the optional ``lab_fingerprint`` session fixture when it exists."""
    try:
        request.getfixturevalue('lab_fingerprint')
    except pytest.FixtureLookupError:
        pass
    yield


def test_corpus_is_large_enough():
    assert len(CASES) >= 18
    assert len(set(case['id'].split('-', 1)[0] for case in CASES)) == len(CASES), 'case numbers must be unique'
    assert any(len(case['expect']) > 1 for case in CASES), 'one case must have several problems'


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_bad_inventory_fails_preflight(case, tmp_path):
    inventory = corpus.materialize(case, tmp_path)
    rc, output = corpus.run_playbook(inventory, 'site.yml', env=case.get('env'))
    assert rc != 0, 'site.yml passed with the bad inventory of %s:\n%s' % (case['id'], output)
    missing = corpus.unmatched(case['expect'], output)
    assert not missing, 'expected messages not found: %s\n--- output ---\n%s' % (missing, output)
    assert corpus.LAB_BMC_PASSWORD not in output, 'the BMC password appears in the output'


def test_lab_inventory_passes_preflight(tmp_path):
    rc, output = corpus.run_playbook(os.path.join(corpus.REPO_ROOT, 'inventories', 'lab'), 'preflight.yml')
    assert rc == 0, output
    assert 'no problem found' in output
    assert corpus.LAB_BMC_PASSWORD not in output


def lab_inventory(nodes):
    script = os.path.join(corpus.REPO_ROOT, 'lab', 'inventory.py')
    out = subprocess.run([sys.executable, script, '--list'], env=dict(os.environ, AIFABRIC_LAB_NODES=str(nodes)),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_lab_inventory_of_70_nodes_passes_preflight():
    # preflight's speed is measured in bench/, not asserted here
    rc, output = corpus.run_playbook(os.path.join(corpus.REPO_ROOT, 'inventories', 'lab'), 'preflight.yml',
                                     env={'AIFABRIC_LAB_NODES': '70'})
    assert rc == 0, output
    # 70 GPU nodes, mgmt-01 and the lab's switches
    hosts = 70 + 1 + len(lab_inventory(70)['leaf_switches']['hosts'])
    assert '%d hosts validated, no problem found' % hosts in output


def test_example_inventory_passes_preflight():
    example = os.path.join(corpus.REPO_ROOT, 'inventories', 'example')
    rc, output = corpus.run_playbook(example, 'preflight.yml', extra_args=[
        '--vault-password-file', os.path.join(example, '.vault-pass.example')])
    assert rc == 0, output
    assert '83 hosts validated, no problem found' in output
    assert 'example-only-Bmc-Secret-1' not in output
