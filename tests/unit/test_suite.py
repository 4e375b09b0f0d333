"""tests/suite.py: the tarball check and the secret search of `make test` fail when they must; the table
ends with the machine's busy CPU time."""
import io
import os
import re
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import suite  # noqa: E402  pylint: disable=wrong-import-position

ROOT = suite.ROOT
MODULE = b'#!/usr/bin/python\n# a module of the collection, long enough to be compared by content\n' * 2


def make_tarball(tmp_path, files):
    path = str(tmp_path / 'aifabric-cluster-0.1.0.tar.gz')
    with tarfile.open(path, 'w:gz') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def read(rel):
    with open(os.path.join(ROOT, rel), 'rb') as f:
        return f.read()


def test_the_collection_alone_passes(tmp_path):
    tarball = make_tarball(tmp_path, {'MANIFEST.json': b'{}', 'plugins/modules/x.py': MODULE,
                                      'inventories/example/hosts.yml': b'all: {}\n'})
    assert suite.tarball_problems(tarball) == []


@pytest.mark.parametrize('name', ['lab/simulators/nxos/nxos_sim.py', 'molecule/cluster/converge.yml',
                                  'tests/unit/test_suite.py', 'bench/bench.py',
                                  'inventories/lab/group_vars/all/vault.yml', 'Makefile', 'ansible.cfg'])
def test_lab_test_and_development_paths_fail(tmp_path, name):
    tarball = make_tarball(tmp_path, {'plugins/modules/x.py': MODULE, name: b'x'})
    problems = suite.tarball_problems(tarball)
    assert len(problems) == 1 and name in problems[0], problems


def test_a_simulator_copied_into_the_plugins_fails_by_name(tmp_path):
    tarball = make_tarball(tmp_path, {'plugins/module_utils/nvidia_smi_sim.py': b'x'})
    problems = suite.tarball_problems(tarball)
    assert len(problems) == 1 and 'simulator' in problems[0], problems


def test_a_simulator_renamed_into_the_plugins_fails_by_content(tmp_path):
    sim = 'lab/sim-packages/nvidia-utils-580/usr/lib/aifabric-sim/nvidia_smi.py'
    tarball = make_tarball(tmp_path, {'plugins/module_utils/smi.py': read(sim)})
    problems = suite.tarball_problems(tarball)
    assert len(problems) == 1 and sim in problems[0], problems


def test_the_lab_inventory_script_fails_wherever_it_lands(tmp_path):
    tarball = make_tarball(tmp_path, {'inventories/example/inventory.py': read('lab/inventory.py')})
    problems = suite.tarball_problems(tarball)
    assert len(problems) == 1 and 'lab/inventory.py' in problems[0], problems


def test_secrets_are_the_lab_vault_values_except_user_names():
    secrets = suite.lab_secrets()
    assert secrets['vault_cluster_bmc_password'] == 'lab-bmc-Secret-1'
    assert 'vault_switch_admin_password' in secrets and 'vault_cluster_install_password_hash' in secrets
    assert 'vault_cluster_bmc_username' not in secrets


def test_a_printed_secret_is_named_with_its_log_and_line(tmp_path):
    log = tmp_path / 'molecule-x.log'
    log.write_text('TASK [bmc]\nok: [gpu-01] => password lab-bmc-Secret-1\nclean line\n')
    clean = tmp_path / 'unit.log'
    clean.write_text('no secret here, only admin\n')
    hits = suite.secret_hits([str(log), str(clean)], suite.lab_secrets())
    assert hits == [(str(log), 2, 'vault_cluster_bmc_password')]
    assert suite.cmd_secrets([str(log), str(clean)]) == 1
    assert suite.cmd_secrets([str(clean)]) == 0


def test_tokens_and_certificate_keys_a_scenario_made_are_searched_too(tmp_path, monkeypatch):
    issued = tmp_path / 'lab-secrets'
    issued.mkdir()
    key = '3f' * 32
    (issued / 'cluster.issued').write_text('token abcdef.0123456789abcdef\ncertificate-key %s\n' % key)
    monkeypatch.setattr(suite, 'ISSUED', str(issued))
    assert suite.issued_secrets(str(issued)) == {'cluster token #1': '0123456789abcdef', 'cluster certificate-key #2': key}
    leak = tmp_path / 'molecule-cluster.log'
    leak.write_text('ok: [mgmt-01] => kubeadm join k8s:6443 --token abcdef.0123456789abcdef\n'
                    'upload-certs --certificate-key %s\n' % key)
    public = tmp_path / 'ansible.log'
    public.write_text('bootstrap-token-abcdef deleted (the token id is public)\n')
    hits = suite.secret_hits([str(leak), str(public)], suite.issued_secrets(str(issued)))
    assert hits == [(str(leak), 1, 'cluster token #1'), (str(leak), 2, 'cluster certificate-key #2')]
    assert suite.cmd_secrets([str(leak)]) == 1
    assert suite.cmd_secrets([str(public)]) == 0


def test_molecule_actions_become_rows_in_both_log_formats(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, 'TABLE', str(tmp_path / 'stages.tsv'))
    monkeypatch.setattr(suite, 'CACHE', str(tmp_path))
    timer = suite.ActionTimer('cluster')
    for line in ['INFO     [cluster > check] Executing', 'PLAY RECAP', 'INFO     [cluster > check] Executed: Successful',
                 'INFO     [other > converge] Executing',
                 '\x1b[36mINFO    \x1b[0m \x1b[32mcluster\x1b[0m \u279c \x1b[33mcheck\x1b[0m: Executing',
                 'INFO     cluster \u279c check: Executed: Successful',
                 'INFO     [cluster > verify] Executing', 'INFO     [cluster > verify] Executed: Failed']:
        timer.line(line)
    timer.close('FAILED')
    rows = [r.split('\t') for r in (tmp_path / 'stages.tsv').read_text().splitlines()]
    assert [(r[0], r[2]) for r in rows] == [('  cluster check', 'ok'), ('  cluster check 2', 'ok'),
                                            ('  cluster verify', 'failed')]


def test_the_home_check_names_what_a_run_wrote(tmp_path):
    (tmp_path / '.ansible' / 'tmp').mkdir(parents=True)
    (tmp_path / '.bashrc').write_text('not a tool state\n')
    (tmp_path / '.ssh').mkdir()
    (tmp_path / '.ssh' / 'known_hosts').write_text('old\n')
    assert suite.home_writes(str(tmp_path), since=0) == [
        str(tmp_path / '.ansible'), str(tmp_path / '.ansible' / 'tmp'), str(tmp_path / '.ssh' / 'known_hosts')]
    later = os.path.getmtime(str(tmp_path / '.ssh' / 'known_hosts')) + 10
    assert suite.home_writes(str(tmp_path), since=later) == []


STAT = """cpu  1000 50 300 8000 100 10 20 30 40 0
cpu0 500 25 150 4000 50 5 10 15 20 0
intr 12345
"""


def test_busy_cpu_is_all_but_idle_and_iowait_with_guest_inside_user():
    # user nice system idle iowait irq softirq steal: guest (40) is already in user
    assert suite.cpu_times(STAT) == (1000 + 50 + 300 + 10 + 20 + 30, 9510)
    with pytest.raises(ValueError):
        suite.cpu_times('intr 1\n')


def test_the_cpu_line_gives_the_least_wall_the_busy_time_allows():
    # 80 CPU-minutes busy of 100 available on 2 CPUs: at least 40 minutes of wall
    line = suite.cpu_line((0, 0), (80 * 60 * 100, 100 * 60 * 100), 2, 100)
    assert line.startswith('machine CPU busy 80:00 of 100:00 available on 2 CPUs (80%)'), line
    assert 'at least 40:00 of wall' in line, line


def test_reset_marks_the_cpu_counters_and_the_table_prints_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(suite, 'CACHE', str(tmp_path))
    monkeypatch.setattr(suite, 'TABLE', str(tmp_path / 'stages.tsv'))
    monkeypatch.setattr(suite, 'START', str(tmp_path / 'stages.start'))
    monkeypatch.setattr(suite, 'ISSUED', str(tmp_path / 'lab-secrets'))
    assert suite.main(['reset']) == 0
    assert len((tmp_path / 'stages.start').read_text().split()) == 3
    suite.record('unit', 1.5, 'ok')
    assert suite.main(['table']) == 0
    out = capsys.readouterr().out
    assert re.search(r'^machine CPU busy \d+:\d\d of \d+:\d\d available on \d+ CPUs', out, re.M), out
