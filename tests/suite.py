# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stages of ``make test``: timed, logged and checked. Test-side only.

    suite.py run NAME -- CMD [ARG...]  run CMD; its output goes to the terminal and to
                                       .cache/logs/NAME.log, its wall time to the table
    suite.py molecule SCENARIO         ``molecule test -s SCENARIO`` the same way, with one
                                       row per Molecule action (create, converge,
                                       idempotence, verify, ...) and one for the scenario
    suite.py table                     print the table of every stage recorded so far
    suite.py tarball TARBALL           fail if the collection tarball holds a lab, test,
                                       simulator, bench or lab-inventory file, or a
                                       development file (Makefile, lint configuration, ...)
    suite.py syntax TARBALL            install TARBALL alone into an empty collections path
                                       outside this checkout and syntax-check every playbook
                                       it ships, by FQCN
    suite.py secrets [LOG...]          fail if any log (default: every file under
                                       .cache/logs) holds a secret of the lab's vault or
                                       a bootstrap token or certificate key that kubeadm
                                       made in a scenario (.cache/lab-secrets/*.issued);
                                       each hit names the log and the line
    suite.py home                      fail if the run wrote where tools keep state in the
                                       user's home (~/.ansible, ~/.cache/pip, ...) since
                                       ``suite.py reset``

With AIFABRIC_SUITE_QUIET=1, ``run`` writes a stage's output to its log only (stages that
run beside others) and prints its last lines when it fails.

The table is .cache/stages.tsv (name, seconds, status), emptied by ``suite.py reset``,
which also marks the start of the run (.cache/stages.start) for the wall time and the
home check, with the machine's CPU counters then (/proc/stat), and forgets the tokens and
keys of an earlier run (.cache/lab-secrets). The table ends with the CPU time the whole
machine was busy since (the lab's hosts included, which no ``time`` of the run counts):
on a machine the run keeps busy, that over the CPU count is the least wall time it can take.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, '.cache')
LOGS = os.path.join(CACHE, 'logs')
TABLE = os.path.join(CACHE, 'stages.tsv')
START = os.path.join(CACHE, 'stages.start')
# where the tools of the suite keep state in a home directory (ansible, molecule,
# ansible-compat, pip, ssh, podman); `make test` points them all into .cache/
HOME_STATE = ('.ansible', '.cache/pip', '.cache/ansible-compat', '.cache/molecule', '.cache/ansible-lint',
              '.ssh/known_hosts', '.config/containers', '.local/share/containers', '.molecule',
              'antsibull.log')
LAB_VAULT = os.path.join(ROOT, 'inventories', 'lab', 'group_vars', 'all', 'vault.yml')
# the bootstrap tokens and certificate keys a scenario's kubeadm made (its verify collects them
# from the kubeadm double's record: <scenario>.issued, one "kind value" per line); not a log
ISSUED = os.path.join(CACHE, 'lab-secrets')

# what the tarball must never ship: the lab (harness, image, simulators, sim packages),
# Molecule scenarios, tests, bench, the lab inventory with its clear-text vault, and the
# development files (galaxy.yml's build_ignore leaves them out; this proves it did)
FORBIDDEN_DIRS = ('lab/', 'molecule/', 'tests/', 'bench/', 'inventories/lab/', '.config/', '.ci/',
                  '.cache/', '.venv/', '.git/', '.github/')
FORBIDDEN_FILES = ('Makefile', 'ansible.cfg', 'requirements.txt', '.ansible-lint', '.yamllint', '.gitignore')
# a simulator's file renamed or copied anywhere else: the lab's test doubles carry these
# names, and their sources say "Test-side only"
SIMULATOR_NAME = re.compile(r'(^|/)(aifabric-sim[^/]*|aifabric-(nxos|sonic|bmc)-sim[^/]*|[a-z_]+_sim\.py|labhosts\.py)$')
# files shorter than this are not compared by content (empty __init__.py, one-line stubs)
MIN_CONTENT_MATCH = 64
# secrets are the lab vault's values, except user names (not secret, and too common)
NOT_SECRET = re.compile(r'_(user|username)$')


def log_path(name):
    return os.path.join(LOGS, re.sub(r'[^A-Za-z0-9_.-]', '_', name) + '.log')


def record(name, seconds, status):
    os.makedirs(CACHE, exist_ok=True)
    with open(TABLE, 'a') as f:
        f.write('%s\t%.1f\t%s\n' % (name, seconds, status))


def tee(cmd, log, on_line=None):
    """Run cmd; every output line to stdout and to log (and to on_line); the exit status.

    With AIFABRIC_SUITE_QUIET=1 the lines go to the log only.
    """
    quiet = os.environ.get('AIFABRIC_SUITE_QUIET') == '1'
    os.makedirs(os.path.dirname(log), exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log, 'w') as out:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                text=True, errors='replace', bufsize=1)
        for line in proc.stdout:
            if not quiet:
                sys.stdout.write(line)
                sys.stdout.flush()
            out.write(line)
            if on_line:
                on_line(line)
        return proc.wait()


def cmd_run(name, cmd):
    quiet = os.environ.get('AIFABRIC_SUITE_QUIET') == '1'
    log = log_path(name)
    if quiet:
        print('=== %s: started in the background (output: %s)' % (name, os.path.relpath(log, ROOT)), flush=True)
    start = time.monotonic()
    rc = tee(cmd, log)
    record(name, time.monotonic() - start, 'ok' if rc == 0 else 'FAILED (%d)' % rc)
    if quiet:
        print('=== %s: %s' % (name, 'ok' if rc == 0 else 'FAILED (%d); its last lines:' % rc), flush=True)
        if rc != 0:
            with open(log, errors='replace') as f:
                print(''.join(f.readlines()[-80:]), flush=True)
    return rc


ANSI = re.compile(r'\x1b\[[0-9;]*m')
# Molecule 26's action lines: "INFO     [cluster > converge] Executing" (NO_COLOR, as make
# test runs it), "INFO     cluster ➜ converge: Executing" (with colours)
ACTION = re.compile(r'^\S+\s+(?:\[(\S+) > (\S+)\]|(\S+) \u279c (\S+):) (Executing|Executed: .*|Failed.*)$')


class ActionTimer:
    """Rows for the Molecule actions of one scenario, from its log lines as they come."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.current = None
        self.counts = {}

    def line(self, line):
        m = ACTION.match(ANSI.sub('', line).rstrip())
        if not m or (m.group(1) or m.group(3)) != self.scenario:
            return
        action, what = m.group(2) or m.group(4), m.group(5)
        if what == 'Executing':
            self.close('interrupted')
            self.counts[action] = self.counts.get(action, 0) + 1
            label = action if self.counts[action] == 1 else '%s %d' % (action, self.counts[action])
            self.current = (label, time.monotonic())
        elif self.current:
            self.close('ok' if 'Successful' in what or 'Skipped' in what or 'Missing' in what
                       else what.replace('Executed: ', '').lower())

    def close(self, status):
        if self.current:
            label, start = self.current
            record('  %s %s' % (self.scenario, label), time.monotonic() - start, status)
            self.current = None


def cmd_molecule(scenario):
    start = time.monotonic()
    timer = ActionTimer(scenario)
    name = 'molecule-%s' % scenario
    rc = tee(['molecule', 'test', '-s', scenario], log_path(name), timer.line)
    timer.close('ok' if rc == 0 else 'FAILED')
    record('molecule %s (all)' % scenario, time.monotonic() - start, 'ok' if rc == 0 else 'FAILED (%d)' % rc)
    if rc != 0:
        print('=== molecule scenario %s FAILED; what failed (full log: %s):' % (scenario, os.path.relpath(log_path(name), ROOT)))
        pattern = re.compile(r'^(fatal|failed):|FAILED!|^(E  |FAILED )|unreachable=[1-9]|failed=[1-9]')
        with open(log_path(name), errors='replace') as f:
            lines = f.read().splitlines()
        shown = []
        for i, text in enumerate(lines):
            if pattern.search(text):
                shown.extend(lines[max(0, i - 1):i + 9])
        print('\n'.join(shown[-60:]))
    return rc


def cpu_times(stat_text):
    """(busy, total) clock ticks of all CPUs from the text of /proc/stat: idle and iowait
    are not busy; steal (what a VM's host took) is, since the run could not have it; guest
    time is already in user time."""
    for line in stat_text.splitlines():
        fields = line.split()
        if fields and fields[0] == 'cpu':
            ticks = [int(x) for x in fields[1:9]] + [0] * (8 - len(fields[1:9]))
            total = sum(ticks)
            return total - ticks[3] - ticks[4], total
    raise ValueError('no cpu line in /proc/stat')


def _read_cpu_times():
    try:
        with open('/proc/stat') as f:
            return cpu_times(f.read())
    except (OSError, ValueError):
        return None


def cpu_line(start, end, cpus, hz):
    """The table's last line: the machine's busy CPU time between two cpu_times()."""
    busy = (end[0] - start[0]) / float(hz)
    total = (end[1] - start[1]) / float(hz)
    share = 100.0 * busy / total if total > 0 else 0.0
    return ('machine CPU busy %d:%02d of %d:%02d available on %d CPUs (%.0f%%): at least %d:%02d of wall '
            'on this machine, however the stages are arranged' % (
                busy // 60, busy % 60, total // 60, total % 60, cpus, share,
                busy / cpus // 60, busy / cpus % 60))


def cmd_table():
    if not os.path.exists(TABLE):
        print('no stage recorded')
        return 0
    rows = []
    with open(TABLE) as f:
        for line in f:
            name, seconds, status = line.rstrip('\n').split('\t')
            rows.append((name, float(seconds), status))
    width = max(len(r[0]) for r in rows + [('stage', 0, '')])

    def clock(seconds):
        return '%d:%04.1f' % (int(seconds) // 60, seconds % 60)

    # a scenario's action rows ("  cluster converge") go just above its own row ("molecule
    # cluster (all)"), whatever ran beside them in between
    actions = {}
    for row in rows:
        if row[0].startswith('  '):
            actions.setdefault(row[0].split()[0], []).append(row)
    print('\n=== wall time per stage')
    print('{0:<{w}}  {1:>8}  {2}'.format('stage', 'time', 'status', w=width))
    for name, seconds, status in rows:
        if name.startswith('  '):
            continue
        if name.startswith('molecule '):
            for action in actions.pop(name.split()[1], []):
                print('{0:<{w}}  {1:>8}  {2}'.format(action[0], clock(action[1]), action[2], w=width))
        print('{0:<{w}}  {1:>8}  {2}'.format(name, clock(seconds), status, w=width))
    for leftover in actions.values():  # a scenario cut short before its own row
        for action in leftover:
            print('{0:<{w}}  {1:>8}  {2}'.format(action[0], clock(action[1]), action[2], w=width))
    total = sum(seconds for name, seconds, _status in rows if not name.startswith(' '))
    print('{0:<{w}}  {1:>8}  (sum of the top-level stages; indented rows are parts of the one below)'.format(
        'sum', clock(total), w=width))
    if os.path.exists(START):
        print('{0:<{w}}  {1:>8}  (the whole run: stages in the background overlap the others)'.format(
            'wall', clock(time.time() - os.path.getmtime(START)), w=width))
        with open(START) as f:
            marks = f.read().split()
        now = _read_cpu_times()
        if len(marks) == 3 and now is not None:
            print(cpu_line((int(marks[1]), int(marks[2])), now, os.cpu_count() or 1, os.sysconf('SC_CLK_TCK')))
    return 0


def _checkout_digests():
    """sha256 -> path of every file of the lab (its inventory script too), tests, scenarios and bench.

    Not inventories/lab: its group_vars share the intent files of inventories/example by design
    (same names, same intent); the path check keeps inventories/lab itself out.
    """
    digests = {}
    for top in ('lab', 'tests', 'molecule', 'bench'):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, top)):
            if '__pycache__' in dirpath:
                continue
            for name in files:
                path = os.path.join(dirpath, name)
                if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) < MIN_CONTENT_MATCH:
                    continue
                with open(path, 'rb') as f:
                    digests.setdefault(hashlib.sha256(f.read()).hexdigest(), os.path.relpath(path, ROOT))
    return digests


def tarball_problems(tarball, digests=None):
    """One message per file of the tarball that must not be there."""
    if digests is None:
        digests = _checkout_digests()
    problems = []
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            path = member.name[2:] if member.name.startswith('./') else member.name
            if member.isdir():
                path += '/'
            if any(path.startswith(d) for d in FORBIDDEN_DIRS) or path in FORBIDDEN_FILES:
                problems.append('%s: %s is a lab, test or development path (galaxy.yml build_ignore)' % (tarball, path))
                continue
            if SIMULATOR_NAME.search(path.rstrip('/')):
                problems.append('%s: %s is named like a lab simulator' % (tarball, path))
                continue
            if member.isfile() and member.size >= MIN_CONTENT_MATCH:
                digest = hashlib.sha256(tar.extractfile(member).read()).hexdigest()
                if digest in digests:
                    problems.append('%s: %s is a copy of %s' % (tarball, path, digests[digest]))
    return problems


def cmd_tarball(tarball):
    problems = tarball_problems(tarball)
    for p in problems:
        print('tarball check: %s' % p)
    with tarfile.open(tarball) as tar:
        count = len([m for m in tar.getmembers() if m.isfile()])
    if problems:
        print('tarball check: FAILED, %d file(s) that are not the collection' % len(problems))
        return 1
    print('tarball check: %s holds %d files, none of them lab, test, simulator or lab inventory' % (tarball, count))
    return 0


def cmd_syntax(tarball):
    """Every playbook of the tarball, syntax-checked from an install of the tarball alone."""
    work = tempfile.mkdtemp(prefix='aifabric-tarball-')
    try:
        collections = os.path.join(work, 'collections')
        cfg = os.path.join(work, 'ansible.cfg')
        with open(cfg, 'w') as f:
            f.write('[defaults]\n')
        # no checkout: an empty config, an empty roles path, run from the temporary directory;
        # the dependencies come from the Python environment's ansible_collections (the
        # PyPI ansible bundle), as for a user who installed it
        env = dict(os.environ, ANSIBLE_CONFIG=cfg, ANSIBLE_COLLECTIONS_PATH=collections,
                   ANSIBLE_ROLES_PATH=os.path.join(work, 'roles'), ANSIBLE_HOME=os.path.join(work, 'home'))
        env.pop('ANSIBLE_INVENTORY', None)
        subprocess.run(['ansible-galaxy', 'collection', 'install', '--offline', '--no-deps', '-p', collections,
                        os.path.abspath(tarball)], check=True, cwd=work, env=env, stdout=subprocess.DEVNULL)
        installed = os.path.join(collections, 'ansible_collections', 'aifabric', 'cluster')
        names = sorted(os.path.splitext(os.path.basename(p))[0]
                       for p in glob.glob(os.path.join(installed, 'playbooks', '*.yml')))
        if not names:
            print('syntax check: the tarball ships no playbook')
            return 1
        fqcns = ['aifabric.cluster.%s' % name for name in names]
        # all at once (one ansible-playbook), and one by one only to name what failed
        proc = subprocess.run(['ansible-playbook', '--syntax-check', '-i', 'localhost,'] + fqcns,
                              cwd=work, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            for fqcn in fqcns:
                proc = subprocess.run(['ansible-playbook', '--syntax-check', '-i', 'localhost,', fqcn],
                                      cwd=work, env=env, capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    print('syntax check: %s FAILED from the installed tarball alone:\n%s%s'
                          % (fqcn, proc.stdout[-2000:], proc.stderr[-2000:]))
            return 1
        print('syntax check: %d playbooks from the installed tarball alone: %s' % (len(names), ', '.join(names)))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def lab_secrets(vault=LAB_VAULT):
    """name -> value of every secret in the lab's (clear-text) vault file."""
    # the venv's yaml, imported here: the other commands also run before the venv exists
    import yaml  # pylint: disable=import-outside-toplevel
    with open(vault) as f:
        data = yaml.safe_load(f) or {}
    return {k: str(v) for k, v in data.items()
            if isinstance(v, (str, int)) and len(str(v)) >= 6 and not NOT_SECRET.search(k)}


def issued_secrets(folder=None):
    """name -> value of every bootstrap token and certificate key the scenarios made: for a token
    its secret part (the id before the dot is public), for a certificate key the whole key."""
    found = {}
    for path in sorted(glob.glob(os.path.join(folder or ISSUED, '*.issued'))):
        scenario = os.path.basename(path)[:-len('.issued')]
        with open(path) as f:
            for number, line in enumerate(f, 1):
                kind, _sep, value = line.strip().partition(' ')
                if kind == 'token' and '.' in value:
                    value = value.split('.', 1)[1]
                if len(value) >= 16:
                    found['%s %s #%d' % (scenario, kind, number)] = value
    return found


def secret_hits(paths, secrets):
    """(path, line number, secret name) for every line that holds a secret."""
    hits = []
    for path in paths:
        with open(path, errors='replace') as f:
            for number, line in enumerate(f, 1):
                for name, value in secrets.items():
                    if value in line:
                        hits.append((path, number, name))
    return hits


def cmd_secrets(paths):
    if not paths:
        paths = sorted(p for p in glob.glob(os.path.join(LOGS, '**', '*'), recursive=True) if os.path.isfile(p))
    secrets = lab_secrets()
    issued = issued_secrets()
    hits = secret_hits(paths, dict(secrets, **issued))
    for path, number, name in hits:
        print('secret search: %s line %d holds the value of %s' % (os.path.relpath(path, ROOT), number, name))
    if hits:
        print('secret search: FAILED, %d line(s) leak a secret of the lab vault or a token or key a scenario made' % len(hits))
        return 1
    scenarios = sorted(set(name.split(' ', 1)[0] for name in issued))
    print('secret search: %d logs, %d secrets of the lab vault (%s) and %d bootstrap tokens and certificate keys '
          'made by kubeadm in the scenarios (%s): none printed'
          % (len(paths), len(secrets), ', '.join(sorted(secrets)), len(issued), ', '.join(scenarios) or 'none ran'))
    return 0


def home_writes(home, since):
    """The tool state paths under home created or changed since the epoch time since."""
    found = []
    for rel in HOME_STATE:
        top = os.path.join(home, rel)
        if not os.path.lexists(top):
            continue
        paths = [top]
        if os.path.isdir(top) and not os.path.islink(top):
            for dirpath, dirs, files in os.walk(top):
                paths.extend(os.path.join(dirpath, name) for name in dirs + files)
        found.extend(path for path in paths if os.lstat(path).st_mtime >= since)
    return sorted(set(found))


def cmd_home():
    home = os.path.expanduser('~')
    if not os.path.exists(START):
        print('home check: no start mark (.cache/stages.start); run through make test')
        return 1
    found = home_writes(home, os.path.getmtime(START))
    for path in found[:20]:
        print('home check: %s was written during the run; every tool state belongs under .cache/' % path)
    if found:
        print('home check: FAILED, %d path(s) in %s' % (len(found), home))
        return 1
    print('home check: nothing written to %s (%s)' % (home, ', '.join('~/' + p for p in HOME_STATE)))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == 'run' and '--' in argv:
        sep = argv.index('--')
        return cmd_run(argv[1], argv[sep + 1:])
    if len(argv) == 2 and argv[0] == 'molecule':
        return cmd_molecule(argv[1])
    if argv == ['table']:
        return cmd_table()
    if argv == ['reset']:
        if os.path.exists(TABLE):
            os.remove(TABLE)
        os.makedirs(CACHE, exist_ok=True)
        shutil.rmtree(ISSUED, ignore_errors=True)
        ticks = _read_cpu_times()
        with open(START, 'w') as f:
            f.write('%f\n' % time.time())
            if ticks is not None:
                f.write('%d %d\n' % ticks)
        return 0
    if argv == ['home']:
        return cmd_home()
    if len(argv) == 2 and argv[0] == 'tarball':
        return cmd_tarball(argv[1])
    if len(argv) == 2 and argv[0] == 'syntax':
        return cmd_syntax(argv[1])
    if argv and argv[0] == 'secrets':
        return cmd_secrets(argv[1:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
