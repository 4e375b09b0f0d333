# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""extensions/ci/aifabric_ci.py against a localhost-only inventory: one host passes, one fails, one
is unreachable (TEST-NET-1, 1 s timeout). Exit codes from the stats, JUnit names, scrubbing; then
playbooks/acceptance.yml's report play on local hosts (the storage check against mountstats files)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
CI = os.path.join(ROOT, 'extensions', 'ci', 'aifabric_ci.py')
sys.path.insert(0, os.path.dirname(CI))
import aifabric_ci  # noqa: E402 pylint: disable=wrong-import-position

SECRETS = {'db_password': 'pw-SeCrEt-1"quoted\\', 'nested': {'api_key': 'k-SeCrEt-3'}, 'listed': 'l-SeCrEt-4'}
ENV_SECRET = 'tok-SeCrEt-42'
PLAY = """---
- name: Tiny
  hosts: all
  gather_facts: false
  tasks:
    - name: Reach the host
      ansible.builtin.ping:

    - name: Show the vars
      ansible.builtin.debug:
        msg: "{{ db_password }} {{ nested.api_key }} {{ listed }} {{ survey_flag | bool }} {{ lookup('ansible.builtin.env', 'CI_API_TOKEN') }}"

    - name: Check the host
      ansible.builtin.assert:
        that: inventory_hostname != 'fail-01'
        fail_msg: "broken on {{ inventory_hostname }}"

    - name: Recover from a failure
      block:
        - name: Fail on purpose
          ansible.builtin.fail:
            msg: rescued below
      rescue:
        - name: Recovered
          ansible.builtin.debug:
            msg: recovered
"""
INVENTORY = """[good]
pass-01 ansible_connection=local
[bad]
fail-01 ansible_connection=local
[gone]
dark-01 ansible_host=192.0.2.1 ansible_connection=ssh ansible_timeout=1 ansible_ssh_retries=0
[all:vars]
ansible_python_interpreter={python}
"""


@pytest.fixture
def project(tmp_path):
    proj = tmp_path / 'proj'
    proj.mkdir()
    (proj / 'play.yml').write_text(PLAY)
    (proj / 'inv.ini').write_text(INVENTORY.format(python=sys.executable))
    return tmp_path


def ci(tmp_path, *args, env=None):
    environ = dict(os.environ, CI_API_TOKEN=ENV_SECRET, **(env or {}))
    proc = subprocess.run([sys.executable, CI, '--private-data-dir', str(tmp_path / 'pdd'), '--inventory',
                           str(tmp_path / 'proj' / 'inv.ini'), '--playbook', str(tmp_path / 'proj' / 'play.yml'),
                           '--quiet'] + list(args), capture_output=True, text=True, env=environ, timeout=300, check=False)
    return proc


def all_files(*roots):
    for root in roots:
        for dirpath, dummy, filenames in os.walk(str(root)):
            for name in filenames:
                yield os.path.join(dirpath, name)


def test_failed_host_exit_2_with_a_line_per_host_junit_and_no_secret_left(project):
    extra = project / 'extra.yml'
    extra.write_text(json.dumps(SECRETS))
    proc = ci(project, '--ident', 'one', '-e', '@%s' % extra, '-e', '{"survey_flag": "false"}', '--secret-var', 'listed',
              '--junit-dir', str(project / 'junit'), '--diff')
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.startswith('aifabric_ci: ') and '=' in l and 'exit' not in l]
    status = dict((l.split()[1], l.split()[2]) for l in lines)
    assert status == {'pass-01': 'ok', 'fail-01': 'failed', 'dark-01': 'unreachable'}, proc.stdout
    assert 'exit 2: failed hosts: fail-01; unreachable: dark-01' in proc.stdout
    result = json.loads((project / 'pdd' / 'artifacts' / 'one' / 'aifabric_ci.json').read_text())
    assert result['exit_code'] == 2 and result['stats']['rescued'] == {'pass-01': 1}
    # rescued failures do not fail a host; the rc is 4 or 2, never what decides
    assert result['hosts']['pass-01'] == 'ok'
    # JUnit: stable names "[host] play: task", no arguments; the host file has the unreachable one
    suites = [f for f in glob.glob(str(project / 'junit' / 'play-*.xml')) if not f.endswith('-hosts.xml')]
    assert len(suites) == 1
    cases = dict((c.get('name'), c) for c in ET.parse(suites[0]).getroot().iter('testcase'))
    assert {'[pass-01] Tiny: Check the host', '[fail-01] Tiny: Check the host', '[pass-01] Tiny: Show the vars'} <= set(cases)
    bad = cases['[fail-01] Tiny: Check the host']
    assert bad.find('failure') is not None or bad.find('error') is not None
    good = cases['[pass-01] Tiny: Check the host']
    assert good.find('failure') is None and good.find('error') is None
    assert all(c.get('classname') == 'play' for c in cases.values())
    hosts = ET.parse(str(project / 'junit' / 'play-hosts.xml')).getroot()
    red = sorted(c.get('name') for c in hosts.iter('testcase') if c.find('failure') is not None)
    assert red == ['dark-01 - run', 'fail-01 - run']
    # no secret value anywhere under the artifacts (command, job events, stdout) or the JUnit dir
    values = ['pw-SeCrEt-1', 'k-SeCrEt-3', 'l-SeCrEt-4', ENV_SECRET, json.dumps(SECRETS['db_password'])[1:-1]]
    for path in all_files(project / 'pdd', project / 'junit'):
        with open(path, 'rb') as f:
            data = f.read().decode('utf-8', 'replace')
        for value in values:
            assert value not in data, (path, value)
    command = json.loads((project / 'pdd' / 'artifacts' / 'one' / 'command').read_text())
    assert command['env']['CI_API_TOKEN'] == '********'
    assert not any(a.startswith('{') for a in command['command']), 'extra vars on the command line'
    events = ''.join(open(p).read() for p in all_files(project / 'pdd' / 'artifacts' / 'one' / 'job_events'))
    assert '********' in events and 'False' in events
    # the extra vars file is gone, nothing was written to env/
    assert not os.path.exists(str(project / 'pdd' / 'env' / 'extravars'))


def test_unreachable_only_exit_3_and_pass_exit_0(project):
    proc = ci(project, '--limit', 'pass-01,dark-01', '-e', '{"db_password": "x", "nested": {"api_key": "y"}, "listed": 1, "survey_flag": "true"}')
    assert proc.returncode == 3, proc.stdout + proc.stderr
    proc = ci(project, '--limit', 'pass-01', '--check', '-e', '{"db_password": "x", "nested": {"api_key": "y"}, "listed": 1, "survey_flag": "true"}')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'pass-01  ok' in proc.stdout


def test_parse_error_and_missing_playbook_exit_4_usage_64(project):
    (project / 'proj' / 'broken.yml').write_text('- hosts: all\n  tasks: [\n')
    proc = subprocess.run([sys.executable, CI, '--private-data-dir', str(project / 'pdd'), '--inventory',
                           str(project / 'proj' / 'inv.ini'), '--playbook', str(project / 'proj' / 'broken.yml'), '--quiet'],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    proc = ci(project, '--limit', 'nothing-matches', '-e', '{}')
    assert proc.returncode == 4, proc.stdout + proc.stderr
    proc = ci(project, '-e', '@/nonexistent/vars.yml')
    assert proc.returncode == 64
    proc = subprocess.run([sys.executable, CI, '--inventory', 'x'], capture_output=True, text=True, check=False)
    assert proc.returncode == 64


@pytest.mark.parametrize('status, rc, stats, code', [
    ('successful', 0, {'ok': {'a': 1}, 'failures': {}, 'dark': {}}, 0),
    ('failed', 2, {'ok': {'a': 1}, 'failures': {'a': 1}, 'dark': {}}, 2),
    ('failed', 4, {'ok': {'a': 1}, 'failures': {'a': 1}, 'dark': {'b': 1}}, 2),
    ('failed', 4, {'ok': {'a': 1}, 'failures': {}, 'dark': {'b': 1}}, 3),
    # rescued and ignored errors are not failures
    ('successful', 0, {'ok': {'a': 3}, 'rescued': {'a': 1}, 'ignored': {'a': 2}}, 0),
    # a return code that the stats do not explain, no stats, no hosts, a timeout
    ('failed', 1, {'ok': {'a': 1}}, 4),
    ('failed', 4, None, 4),
    ('successful', 0, {'ok': {}, 'processed': {}}, 4),
    ('timeout', 254, {'ok': {'a': 1}}, 4),
])
def test_decide(status, rc, stats, code):
    assert aifabric_ci.decide(status, rc, stats)[0] == code


def test_secret_values_and_scrub(tmp_path):
    values = aifabric_ci.secret_values(
        {'bmc_password': 'hunter22', 'users': [{'name': 'a', 'ssh_key': 'AAAAkey'}], 'plain': 'visible',
         'cluster_install_password_hash': '$6$salt$hash', 'mine': 'my-value', 'flag_token': 'false'},
        {'GITHUB_TOKEN': 'ghp_abc', 'ANSIBLE_HOST_KEY_CHECKING': 'False', 'PYTHONHASHSEED': '0', 'HOME': '/root'},
        ['mine'])
    assert set(values) == {'hunter22', 'AAAAkey', '$6$salt$hash', 'my-value', 'ghp_abc'}
    f = tmp_path / 'a' / 'events.json'
    f.parent.mkdir()
    f.write_text(json.dumps({'msg': 'pw hunter22 and a "quoted\\" one', 'ok': True}))
    assert aifabric_ci.scrub_tree(str(tmp_path), ['hunter22', 'a "quoted\\" one']) == [str(f)]
    assert json.loads(f.read_text()) == {'msg': 'pw ******** and ********', 'ok': True}
