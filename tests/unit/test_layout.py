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


def _python_files(top):
    for dirpath, _dirs, files in os.walk(os.path.join(ROOT, top)):
        if '__pycache__' not in dirpath:
            for name in files:
                if name.endswith('.py'):
                    yield os.path.join(dirpath, name)


SYS_PATH_EDIT = re.compile(r'^\s*sys\.path\.(insert|append)\(', re.M)
TEST_MODULE_IMPORT = re.compile(r'^\s*(from test_\w+ import|import test_\w+)', re.M)


def test_no_molecule_verifier_edits_sys_path():
    """The lab's helpers reach every verifier through PYTHONPATH in the shared Molecule config
    (.config/molecule/config.yml), not through sys.path edits in the tests."""
    hits = [os.path.relpath(path, ROOT) for path in _python_files('molecule')
            if SYS_PATH_EDIT.search(open(path, encoding='utf-8').read())]
    assert hits == [], hits
    with open(os.path.join(ROOT, '.config', 'molecule', 'config.yml'), encoding='utf-8') as handle:
        assert 'PYTHONPATH: ${MOLECULE_PROJECT_DIRECTORY}/lab' in handle.read()


@pytest.mark.parametrize('top', ('tests', 'molecule'))
def test_no_test_module_imports_another(top):
    """Helpers shared by tests live in helper modules (tests/lab/labtest.py, lab/labhosts.py), never in a
    test module another one imports."""
    hits = []
    for path in _python_files(top):
        with open(path, encoding='utf-8') as handle:
            hits += ['%s: %s' % (os.path.relpath(path, ROOT), m.group(0).strip()) for m in TEST_MODULE_IMPORT.finditer(handle.read())]
    assert hits == [], hits


def test_the_convention_patterns_find_what_they_must():
    assert SYS_PATH_EDIT.search('import sys\nsys.path.insert(0, LIB)\n')
    assert TEST_MODULE_IMPORT.search('from test_nxos_sim import REPO\n')
    assert not TEST_MODULE_IMPORT.search('from labtest import REPO\n')
