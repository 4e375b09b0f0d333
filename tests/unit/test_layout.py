"""The collection's production paths never refer to the lab or the test side.

Roles, playbooks, plugins and meta run unchanged on real hardware; the lab (``lab/``,
its inventory ``inventories/lab``), the scenarios (``molecule/``) and the tests stay
outside them and outside the tarball.
"""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRODUCTION = ('roles', 'playbooks', 'plugins', 'meta')
TEST_SIDE = re.compile(r'(?<![A-Za-z0-9_.-])(?:\.\./)*(lab/|molecule/|tests/|bench/|inventories/lab\b|labhosts|lab_inventory)')


def production_files():
    for top in PRODUCTION:
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, top)):
            if '__pycache__' in dirpath:
                continue
            for name in files:
                yield os.path.relpath(os.path.join(dirpath, name), ROOT)


def test_there_are_production_files():
    assert len(list(production_files())) > 50


@pytest.mark.parametrize('top', PRODUCTION)
def test_no_production_file_refers_to_the_lab_or_tests(top):
    hits = []
    for rel in production_files():
        if not rel.startswith(top + os.sep):
            continue
        with open(os.path.join(ROOT, rel), errors='replace') as f:
            for number, line in enumerate(f, 1):
                m = TEST_SIDE.search(line)
                if m:
                    hits.append('%s:%d: %s' % (rel, number, m.group(0)))
    assert hits == [], hits


def test_the_pattern_finds_what_it_must():
    assert TEST_SIDE.search('cmd: python3 ../lab/lab.py up')
    assert TEST_SIDE.search('-i inventories/lab')
    assert TEST_SIDE.search('import labhosts')
    assert not TEST_SIDE.search('roles/base/tasks/main.yml')
