"""The packaging contract for execution environments.

ansible-builder introspects the built tarball (installed alone) and finds exactly the
collection's run-time needs (tests/unit/fixtures/ee/introspect.txt, the tool's output as is: no development pin),
and the reference meta/ee/execution-environment.yml gives a build context that installs the
tarball of this version.
"""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
GOLDEN = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'ee', 'introspect.txt')
DEV_ONLY = ('molecule', 'ansible-lint', 'pytest', 'testinfra', 'sushy', 'flask', 'black', 'ansible-builder', 'ansible-runner')


def version():
    with open(os.path.join(ROOT, 'galaxy.yml')) as f:
        return yaml.safe_load(f)['version']


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    if not os.path.exists(os.path.join(BIN, 'ansible-builder')):
        pytest.skip('ansible-builder is not installed (make venv)')
    out = tmp_path_factory.mktemp('ee')
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(str(out), 'none.cfg'))
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(out), ROOT],
                   check=True, cwd=str(out), env=env, stdout=subprocess.DEVNULL)
    path = os.path.join(str(out), 'aifabric-cluster-%s.tar.gz' % version())
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '-p',
                    os.path.join(str(out), 'installed'), path], check=True, cwd=str(out), env=env, stdout=subprocess.DEVNULL)
    return path


def test_introspect_finds_only_the_run_time_needs(tarball):
    installed = os.path.join(os.path.dirname(tarball), 'installed')
    proc = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'introspect', installed],
                          capture_output=True, text=True, check=True)
    found = yaml.safe_load(proc.stdout)
    with open(GOLDEN) as f:
        assert found == yaml.safe_load(f), proc.stdout
    for line in found['python']:
        assert not line.lower().startswith(DEV_ONLY), line


def test_reference_ee_builds_a_context_that_installs_this_tarball(tarball, tmp_path):
    ee = os.path.join(ROOT, 'meta', 'ee')
    work = tmp_path / 'ee'
    shutil.copytree(ee, str(work))
    shutil.copy(tarball, str(work))
    context = tmp_path / 'context'
    subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', str(work / 'execution-environment.yml'),
                    '-c', str(context)], check=True, capture_output=True, text=True)
    assert (context / '_build' / 'collections' / os.path.basename(tarball)).exists()
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text())
    assert requirements['collections'] == [{'name': '/build/' + os.path.basename(tarball), 'type': 'file'}]
    containerfile = (context / 'Containerfile').read_text()
    # the tarball is in place before ansible-galaxy installs the requirements
    assert containerfile.index('COPY _build/collections/ /build/') < containerfile.index('ansible-galaxy')
