# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/acceptance.yml through extensions/ci/aifabric_ci.py on local hosts only: the storage
check (nfs_mount_info against mountstats files), the report play, its files, set_stats, JUnit and
the run's verdict; one node healthy, one with the wrong nconnect, one unreachable, one without
storage. The other checks are skipped by --tags (they need the lab: molecule/cluster/tests/test_ci_runner.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
CI = os.path.join(ROOT, 'extensions', 'ci', 'aifabric_ci.py')
FIXTURE = os.path.join(ROOT, 'tests', 'unit', 'plugins', 'fixtures', 'nfs', 'nfs42-tcp-nconnect16.txt')
CASE = '[%s] Acceptance - verdict per node and check: Acceptance %s'


def test_storage_check_report_junit_and_verdict(tmp_path):
    mnt = tmp_path / 'mnt'
    mnt.mkdir()
    with open(FIXTURE) as f:
        stats = f.read().replace('/mnt/datasets', str(mnt))
    (tmp_path / 'good.ms').write_text(stats)
    (tmp_path / 'bad.ms').write_text(stats.replace('nconnect=16', 'nconnect=4'))
    inventory = {'all': {
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                 'cluster_filesystems': [{'name': 'datasets', 'type': 'nfs', 'mount_point': str(mnt),
                                          'source': '192.168.0.105:/datasets', 'hosts': ['gpu_nodes'],
                                          'options': {'vers': '4.2', 'proto': 'tcp', 'nconnect': 16}}]},
        'children': {'cluster': {'children': {
            'mgmt_nodes': {'hosts': {'mgmt-01': {}}},
            'gpu_nodes': {'hosts': {
                'gpu-01': {'nfs_client_mountstats_path': str(tmp_path / 'good.ms')},
                'gpu-02': {'nfs_client_mountstats_path': str(tmp_path / 'bad.ms')},
                'gpu-03': {'ansible_connection': 'ssh', 'ansible_host': '192.0.2.1', 'ansible_timeout': 1}}}}}}}}
    (tmp_path / 'inv.yml').write_text(yaml.safe_dump(inventory))
    proc = subprocess.run(
        [sys.executable, CI, '--private-data-dir', str(tmp_path / 'pdd'), '--inventory', str(tmp_path / 'inv.yml'),
         '--playbook', os.path.join(ROOT, 'playbooks', 'acceptance.yml'), '--tags', 'storage', '--skip-tags', 'preflight',
         '-e', '{"acceptance_print": "true"}', '--junit-dir', str(tmp_path / 'junit'),
         '--junit-test-case-prefix', 'Acceptance', '--report-dir', str(tmp_path / 'report'), '--ident', 'acc', '--quiet'],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert 'gpu-02   failed' in proc.stdout and 'gpu-03   unreachable' in proc.stdout
    assert 'gpu-01   ok' in proc.stdout and 'mgmt-01  ok' in proc.stdout

    with open(str(tmp_path / 'report' / 'report.json')) as f:
        report = json.load(f)
    assert report['verdict'] == 'fail' and report['failed_nodes'] == ['gpu-02', 'gpu-03']
    verdicts = dict((n, dict((c, v['verdict']) for c, v in d['checks'].items())) for n, d in report['nodes'].items())
    assert verdicts['gpu-01'] == {'gpu_health': 'n-a', 'rdma': 'n-a', 'fabric': 'n-a', 'firmware': 'n-a',
                                  'storage_nfs': 'pass', 'storage_lustre': 'n-a'}
    assert verdicts['gpu-02']['storage_nfs'] == 'fail'
    assert 'nconnect=4 negotiated' in report['nodes']['gpu-02']['checks']['storage_nfs']['reasons'][0]
    assert set(verdicts['mgmt-01'].values()) == {'n-a'}
    assert verdicts['gpu-03']['storage_nfs'] == 'fail'
    md = (tmp_path / 'report' / 'report.md').read_text()
    assert '| gpu-02 | fail |' in md

    # set_stats for the next workflow node (runner's artifacts), the printed lines
    with open(str(tmp_path / 'pdd' / 'artifacts' / 'acc' / 'aifabric_ci.json')) as f:
        result = json.load(f)
    assert result['stats']['changed'] == {}
    events = []
    for path in glob.glob(str(tmp_path / 'pdd' / 'artifacts' / 'acc' / 'job_events' / '*.json')):
        with open(path) as f:
            events.append(json.load(f))
    final = [e for e in events if e['event'] == 'playbook_on_stats'][0]['event_data']
    assert final['artifact_data']['aifabric_acceptance']['failed_nodes'] == ['gpu-02', 'gpu-03']
    stdout = (tmp_path / 'pdd' / 'artifacts' / 'acc' / 'stdout').read_text()
    assert 'acceptance: FAIL (4 node(s), 2 failed: gpu-02, gpu-03)' in stdout

    # JUnit: a case per node and check, red for exactly the failed check of gpu-02
    suites = [p for p in glob.glob(str(tmp_path / 'junit' / 'acceptance-*.xml')) if not p.endswith('-hosts.xml')]
    cases = dict((c.get('name'), c) for c in ET.parse(suites[0]).getroot().iter('testcase'))
    red = sorted(n for n, c in cases.items() if c.find('failure') is not None or c.find('error') is not None)
    assert red == [CASE % ('gpu-02', 'storage_nfs'), CASE % ('gpu-02', 'verdict')], red
    assert cases[CASE % ('gpu-01', 'storage_nfs')].find('skipped') is None
    assert cases[CASE % ('mgmt-01', 'storage_nfs')].find('skipped') is not None
