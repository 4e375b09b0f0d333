# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a playbook of aifabric.cluster from CI through ansible-runner, with a verdict a gate can trust.

    python3 extensions/ci/aifabric_ci.py --private-data-dir DIR --inventory INV --playbook PLAYBOOK \\
        [--check] [--diff] [--limit X] [--tags T] [--skip-tags T] [--extra-vars JSON|YAML|@file ...] \\
        [--secret-var NAME ...] [--junit-dir DIR] [--report-dir DIR] [--project-dir DIR] [--ident ID] \\
        [--timeout S] [--quiet]

The verdict comes from the run's stats (ansible-runner's playbook_on_stats event), never
from the return code alone: failures (rescued and ignored errors do not count) and dark
(unreachable) hosts. One line per host, then the exit code (docs/ci.md):

    0  pass: every host ok (the stats name at least one host, no failure, none unreachable)
    2  failed hosts (at least one host with a failure; wins over 3 when both)
    3  unreachable hosts (and no failed host)
    4  runner or parse error: no stats (syntax or parse error, a missing playbook or
       inventory, a timeout, a cancelled run), no host in the stats, or a return code that
       contradicts the stats
    64 usage error (bad arguments, unreadable --extra-vars)

Artifacts: ansible-runner records the command, its environment and every event under
<private-data-dir>/artifacts/<ident>/. Before this program returns, every value of a secret
(an extra var or environment variable whose name matches password|secret|token|key|hash,
and the variables named with --secret-var) is replaced by ******** in every file there and
under --junit-dir. Extra vars never reach the command line: they go to a file readable by
the user only, outside the artifacts, removed after the run.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
from xml.sax.saxutils import escape, quoteattr

EXIT_PASS = 0
EXIT_FAILED = 2
EXIT_UNREACHABLE = 3
EXIT_ERROR = 4
EXIT_USAGE = 64
SECRET_NAME = re.compile(r'password|secret|token|key|hash', re.IGNORECASE)
MASK = '********'
# shorter values are masked where they are a recorded variable's value (the command's env),
# not everywhere: a 1-3 character value would mask unrelated text
MIN_SECRET_LEN = 4
NOT_SECRETS = frozenset(['true', 'false', 'yes', 'no', 'on', 'off', 'none', 'null', 'auto', 'smart', 'ignore'])
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# the JUnit callback's settings (ansible.builtin.junit): one test case per task and host named
# "[host] play: task" without the task's arguments (stable), class = the task file relative to
# the project, failures behind ignore_errors count, changes do not
JUNIT_ENV = {
    'JUNIT_TASK_CLASS': 'true',
    'JUNIT_FAIL_ON_CHANGE': 'false',
    'JUNIT_FAIL_ON_IGNORE': 'true',
    'JUNIT_HIDE_TASK_ARGUMENTS': 'true',
    'JUNIT_INCLUDE_SETUP_TASKS_IN_REPORT': 'false',
}


class UsageError(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog='aifabric_ci.py', description='Run an aifabric.cluster playbook through ansible-runner with a trustworthy verdict.',
        epilog='exit codes: 0 pass, 2 failed hosts, 3 unreachable hosts, 4 runner or parse error, 64 usage error')
    p.add_argument('--private-data-dir', required=True, help="ansible-runner's private data dir (artifacts/ goes there)")
    p.add_argument('--inventory', required=True, action='append', help='inventory path (repeatable)')
    p.add_argument('--playbook', required=True, help='a playbook file, or a playbook FQCN such as aifabric.cluster.site')
    p.add_argument('--project-dir', help='directory the playbook runs from (its ansible.cfg applies); default: the '
                   "playbook file's repository root (a directory with galaxy.yml above it), else the current directory")
    p.add_argument('--check', action='store_true', help='check mode (--check)')
    p.add_argument('--diff', action='store_true', help='--diff')
    p.add_argument('--limit', help='--limit')
    p.add_argument('--tags', help='--tags')
    p.add_argument('--skip-tags', help='--skip-tags')
    p.add_argument('--extra-vars', '-e', action='append', default=[],
                   help='extra vars: JSON or YAML text, or @file (JSON or YAML); repeatable, later ones win')
    p.add_argument('--secret-var', action='append', default=[],
                   help='also scrub the value of this extra var or environment variable (repeatable)')
    p.add_argument('--junit-dir', help='write JUnit XML here (ansible.builtin.junit, plus <playbook>-hosts.xml)')
    p.add_argument('--junit-test-case-prefix', default='',
                   help="only tasks whose name starts with this are test cases (failed tasks always are); "
                        "'Acceptance' for playbooks/acceptance.yml")
    p.add_argument('--report-dir', help='the acceptance report directory (sets acceptance_report_dir)')
    p.add_argument('--ident', help='artifact ident (default: a new UUID)')
    p.add_argument('--timeout', type=int, help='seconds before the run is stopped (exit 4)')
    p.add_argument('--quiet', action='store_true', help="do not stream Ansible's output")
    return p.parse_args(argv)


def load_extra_vars(items):
    """Merged extra vars of every --extra-vars item (JSON or YAML text, or @file)."""
    import yaml  # pylint: disable=import-outside-toplevel
    merged = {}
    for item in items:
        text = item
        if item.startswith('@'):
            try:
                with open(item[1:]) as f:
                    text = f.read()
            except (IOError, OSError) as exc:
                raise UsageError('--extra-vars %s: %s' % (item, exc))
        try:
            data = yaml.safe_load(text)  # YAML is a superset of JSON
        except yaml.YAMLError as exc:
            raise UsageError('--extra-vars %s: neither JSON nor YAML: %s' % (item if item.startswith('@') else '(text)', exc))
        if data is None:
            continue
        if not isinstance(data, dict):
            raise UsageError('--extra-vars %s: want a mapping of variable names to values' % (item if item.startswith('@') else '(text)'))
        merged.update(data)
    return merged


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _secret_leaves(data, names, inherited=False):
    """String values under a key that looks secret (or is named in names), at any depth."""
    if isinstance(data, dict):
        for key, value in data.items():
            secret = inherited or bool(SECRET_NAME.search(str(key))) or key in names
            if secret:
                yield from _leaves(value)
            else:
                yield from _secret_leaves(value, names)
    elif isinstance(data, (list, tuple)):
        for item in data:
            yield from _secret_leaves(item, names, inherited)


def _maskable(value):
    """Not a switch or a small number (ANSIBLE_HOST_KEY_CHECKING=False, PYTHONHASHSEED=0): masking
    those everywhere would corrupt the artifacts and hide nothing."""
    return (len(value) >= MIN_SECRET_LEN and value.strip().lower() not in NOT_SECRETS
            and not (value.isdigit() and len(value) < 6))


def secret_values(extra_vars, environ, secret_vars=()):
    """Every secret value to scrub: from the extra vars and the environment."""
    names = set(secret_vars)
    values = set(_secret_leaves(extra_vars, names))
    for key, value in environ.items():
        if SECRET_NAME.search(key) or key in names:
            values.add(str(value))
    return sorted((v for v in values if v and _maskable(v)), key=len, reverse=True)


def _forms(value):
    """The value as it appears in files: raw, JSON-escaped (events and the command are JSON) and
    XML-escaped (JUnit), longest first."""
    forms = set([value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]])
    for form in list(forms):
        forms.add(escape(form, {'"': '&quot;', "'": '&apos;'}))
        forms.add(escape(form))
    return sorted(forms, key=len, reverse=True)


def scrub_text(text, values):
    for value in values:
        for form in _forms(value):
            text = text.replace(form, MASK)
    return text


def _scrub_command(path, values, secret_vars):
    """artifacts/<ident>/command: the env of the run, every secret-named variable masked whatever its length."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (IOError, OSError, ValueError):
        return False
    env = data.get('env') or {}
    for key in list(env):
        if (SECRET_NAME.search(key) or key in secret_vars) and str(env[key]).strip().lower() not in NOT_SECRETS:
            env[key] = MASK
    text = scrub_text(json.dumps(data, ensure_ascii=False), values)
    with open(path, 'w') as f:
        f.write(text)
    return True


def scrub_tree(root, values, secret_vars=()):
    """Mask every secret value in every file under root; returns the files changed."""
    changed = []
    if not root or not os.path.isdir(root):
        return changed
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            if name == 'command' and _scrub_command(path, values, secret_vars):
                changed.append(path)
                continue
            try:
                with open(path, 'rb') as f:
                    raw = f.read()
            except (IOError, OSError):
                continue
            text = raw.decode('utf-8', 'surrogateescape')
            new = scrub_text(text, values)
            if new != text:
                with open(path, 'wb') as f:
                    f.write(new.encode('utf-8', 'surrogateescape'))
                changed.append(path)
    return changed


def find_project_dir(playbook):
    """The repository root of a playbook file (a directory with galaxy.yml), else its directory."""
    path = os.path.dirname(os.path.abspath(playbook))
    while True:
        if os.path.exists(os.path.join(path, 'galaxy.yml')) or os.path.exists(os.path.join(path, 'ansible.cfg')):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return os.path.dirname(os.path.abspath(playbook))
        path = parent


def host_status(name, stats):
    if stats.get('failures', {}).get(name):
        return 'failed'
    if stats.get('dark', {}).get(name):
        return 'unreachable'
    if stats.get('changed', {}).get(name):
        return 'changed'
    return 'ok'


def decide(status, rc, stats):
    """(exit code, why) from the run's stats; the return code only to spot a contradiction."""
    if status in ('timeout', 'canceled', 'error') or not isinstance(stats, dict):
        return EXIT_ERROR, 'runner status %s, return code %s, %s' % (
            status, rc, 'no stats: the playbook did not run to its end (syntax or parse error, missing file?)'
            if not isinstance(stats, dict) else 'stats present')
    hosts = all_hosts(stats)
    if not hosts:
        return EXIT_ERROR, 'no host in the stats (the plays matched no host)'
    failed = [h for h in hosts if stats.get('failures', {}).get(h)]
    dark = [h for h in hosts if stats.get('dark', {}).get(h)]
    if failed:
        return EXIT_FAILED, 'failed hosts: %s' % ', '.join(failed) + ('; unreachable: %s' % ', '.join(dark) if dark else '')
    if dark:
        return EXIT_UNREACHABLE, 'unreachable hosts: %s' % ', '.join(dark)
    if rc not in (0, None):
        return EXIT_ERROR, 'return code %s but the stats show no failure: an error outside the hosts' % rc
    return EXIT_PASS, 'every host ok'


def all_hosts(stats):
    names = set()
    for key in ('ok', 'changed', 'failures', 'dark', 'skipped', 'rescued', 'ignored', 'processed'):
        names.update((stats.get(key) or {}).keys())
    return sorted(names)


def host_lines(stats):
    out = []
    hosts = all_hosts(stats)
    width = max([len(h) for h in hosts] + [4])
    for name in hosts:
        counts = ' '.join('%s=%d' % (label, (stats.get(key) or {}).get(name, 0)) for label, key in (
            ('ok', 'ok'), ('changed', 'changed'), ('failed', 'failures'), ('unreachable', 'dark'), ('skipped', 'skipped'),
            ('rescued', 'rescued'), ('ignored', 'ignored')))
        out.append('%-*s  %-11s  %s' % (width, name, host_status(name, stats), counts))
    return out


def hosts_junit(playbook, stats, path):
    """One test case per host ('<host> - run'): failed or unreachable hosts are failures. The
    junit callback has no case for an unreachable host; this file has."""
    hosts = all_hosts(stats or {})
    cases = []
    failures = 0
    for name in hosts:
        status = host_status(name, stats)
        case = '    <testcase classname=%s name=%s>' % (quoteattr(playbook), quoteattr('%s - run' % name))
        if status in ('failed', 'unreachable'):
            failures += 1
            case += '<failure message=%s>%s</failure>' % (quoteattr(status), escape(status))
        cases.append(case + '</testcase>')
    with open(path, 'w') as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n  <testsuite name=%s tests="%d" failures="%d">\n%s\n'
                '  </testsuite>\n</testsuites>\n' % (quoteattr('%s-hosts' % playbook), len(cases), failures, '\n'.join(cases)))


def run(args, environ=None):
    """Run the playbook; returns (exit code, result dict)."""
    import ansible_runner  # pylint: disable=import-outside-toplevel
    environ = dict(os.environ if environ is None else environ)
    extra_vars = load_extra_vars(args.extra_vars)
    if args.report_dir:
        extra_vars['acceptance_report_dir'] = os.path.abspath(args.report_dir)
    private = os.path.abspath(args.private_data_dir)
    os.makedirs(private, exist_ok=True)
    ident = args.ident or str(uuid.uuid4())
    playbook_file = os.path.abspath(args.playbook) if os.path.isfile(args.playbook) else None
    playbook = playbook_file or args.playbook
    project = os.path.abspath(args.project_dir) if args.project_dir else (
        find_project_dir(playbook_file) if playbook_file else os.getcwd())
    inventory = [os.path.abspath(i) if os.path.exists(i) else i for i in args.inventory]
    name = os.path.splitext(os.path.basename(playbook_file))[0] if playbook_file else args.playbook.split('.')[-1]

    envvars = {}
    junit_dir = None
    if args.junit_dir:
        junit_dir = os.path.abspath(args.junit_dir)
        os.makedirs(junit_dir, exist_ok=True)
        envvars.update(JUNIT_ENV)
        envvars['JUNIT_OUTPUT_DIR'] = junit_dir
        envvars['JUNIT_TASK_RELATIVE_PATH'] = project
        envvars['JUNIT_TEST_CASE_PREFIX'] = args.junit_test_case_prefix
        enabled = [c for c in re.split(r'[,\s]+', environ.get('ANSIBLE_CALLBACKS_ENABLED', '')) if c]
        if 'ansible.builtin.junit' not in enabled and 'junit' not in enabled:
            enabled.append('ansible.builtin.junit')
        envvars['ANSIBLE_CALLBACKS_ENABLED'] = ','.join(enabled)

    cmdline = []
    if args.check:
        cmdline.append('--check')
    if args.diff:
        cmdline.append('--diff')
    # extra vars: a file only the user can read, outside the artifacts, removed after the run
    fd, vars_file = tempfile.mkstemp(prefix='aifabric-ci-extravars-', suffix='.json')
    secrets = secret_values(extra_vars, dict(environ, **envvars), args.secret_var)
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(extra_vars, f)
        cmdline.extend(['-e', '@' + vars_file])
        kwargs = dict(
            private_data_dir=private, project_dir=project, playbook=playbook, inventory=inventory, ident=ident,
            cmdline=' '.join(_quote(a) for a in cmdline), envvars=envvars, quiet=args.quiet,
            suppress_env_files=True, timeout=args.timeout)
        if args.limit:
            kwargs['limit'] = args.limit
        if args.tags:
            kwargs['tags'] = args.tags
        if args.skip_tags:
            kwargs['skip_tags'] = args.skip_tags
        try:
            r = ansible_runner.run(**kwargs)
            status, rc, stats = r.status, r.rc, r.stats
        except Exception as exc:  # pylint: disable=broad-except
            status, rc, stats = 'error', None, None
            print('aifabric_ci: ansible-runner failed: %s' % scrub_text(str(exc), secrets), file=sys.stderr)
    finally:
        os.unlink(vars_file)

    artifacts = os.path.join(private, 'artifacts', ident)
    code, why = decide(status, rc, stats)
    result = {'exit_code': code, 'why': why, 'status': status, 'rc': rc, 'ident': ident, 'artifacts': artifacts,
              'playbook': playbook, 'hosts': dict((h, host_status(h, stats)) for h in all_hosts(stats or {})),
              'stats': stats}
    if junit_dir:
        hosts_junit(name, stats or {}, os.path.join(junit_dir, '%s-hosts.xml' % name))
    # the verdict file, then the scrubbing of everything that is uploaded
    if os.path.isdir(artifacts):
        with open(os.path.join(artifacts, 'aifabric_ci.json'), 'w') as f:
            json.dump(result, f, indent=2, sort_keys=True)
    scrub_tree(artifacts, secrets, args.secret_var)
    scrub_tree(junit_dir, secrets, args.secret_var)
    return code, result


def _quote(arg):
    import shlex  # pylint: disable=import-outside-toplevel
    return shlex.quote(arg)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code not in (0, None) else 0
    try:
        code, result = run(args)
    except UsageError as exc:
        print('aifabric_ci: %s' % exc, file=sys.stderr)
        return EXIT_USAGE
    print('aifabric_ci: %s (%s)' % (result['playbook'], 'check mode' if args.check else 'apply'))
    for line in host_lines(result['stats'] or {}):
        print('aifabric_ci: ' + line)
    print('aifabric_ci: exit %d: %s (artifacts %s)' % (code, result['why'], result['artifacts']))
    return code


if __name__ == '__main__':
    sys.exit(main())
