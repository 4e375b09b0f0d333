# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's defaults/main.yml and the main entry point of its meta/argument_specs.yml
describe the same interface.

The rules, checked for every role under roles/:

- Inputs are named ``<role>_*``. Private names (``<role>__*``: registered results, facts the
  role computes, vars/ values) are never inputs, so they appear neither in defaults/main.yml
  nor in the argument spec; they live in vars/ or are set with set_fact/register.
- Every variable in defaults/main.yml is an option of the spec, and its ``default:`` is the
  same value: the parsed YAML values are compared, types included (``true`` is not ``1``),
  so a Jinja expression must be documented as the very same string.
- Except a Jinja expression that defaults an option whose type is not a string (a bool, a
  list, a dict, an int taken from the inventory): antsibull-docs, like ansible-doc, checks a
  ``default:`` against the option's type, and such a string is not of it. That option has
  no ``default:``; its description carries ``Default: V(<the expression>)`` instead, the very
  same expression without its ``{{ }}`` (ansible-core templates the argument spec, descriptions
  included, when it validates a role's arguments) and with V()'s escapes (a backslash before
  each closing parenthesis and backslash).
- Every option with a ``default:`` is set in defaults/main.yml. Ansible never applies an
  argument spec's default (the role's defaults are the only ones that count), so a default
  documented in the spec alone would be a promise the role does not keep.
- An option without a ``default:`` is not set in defaults/main.yml: either it is required,
  or it is an optional input the role reads with ``default()`` / ``is defined``. A variable
  the role does set in defaults/main.yml (a value taken from the inventory included) is
  documented with that value, and is not ``required`` (Ansible refuses ``required`` together
  with ``default``; a defaulted variable is always there, so ``required`` would check nothing).

Only the top-level options of the main entry point are compared; suboptions describe the
shape of a value, not variables of their own.

And the names a role makes for itself are private (``<role>__*``): every ``register:`` target,
every set_fact key (``cacheable`` is an argument, not a fact), every ``loop_var`` other than
``item`` and every key of a task's or block's ``vars:`` in roles/<role>/tasks and handlers, and
every key of roles/<role>/vars/*.yml (the OS-family files that include_vars loads included).
A task's ``vars:`` may also set an input of a role of this collection (the options of any
argument spec: for include_role, or for a role of the same play), and vars may set
``ansible_*`` connection variables. The facts a role publishes for playbooks to read, listed
in PUBLISHED_FACTS, keep their documented names.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(ROOT, 'roles')


def role_names(roles_dir=ROLES):
    return sorted(name for name in os.listdir(roles_dir)
                  if os.path.isdir(os.path.join(roles_dir, name, 'tasks')))


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def _same(a, b):
    """Equal parsed YAML values of the same types (True == 1 in Python, not here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


STRING_TYPES = ('str', 'path', 'raw')


def jinja_default_note(value):
    """How the description of a non-string option documents its Jinja default: the expression
    without its braces (ansible-core templates the whole argument spec, descriptions included,
    when it validates a role's arguments), with V()'s escapes."""
    expression = value.strip()
    if expression.startswith('{{') and expression.endswith('}}') and expression.count('{{') == 1:
        expression = expression[2:-2].strip()
    return 'Default: V(%s)' % expression.replace('\\', '\\\\').replace(')', '\\)')


def _templated_non_string(spec, value):
    return isinstance(value, str) and '{{' in value and spec.get('type', 'str') not in STRING_TYPES


def _description(spec):
    text = spec.get('description') or ''
    return '\n'.join(text) if isinstance(text, list) else text


def role_problems(role_dir):
    """The rules above for one role; one line per problem, empty when the role keeps them."""
    role = os.path.basename(os.path.normpath(role_dir))
    defaults_path = os.path.join(role_dir, 'defaults', 'main.yml')
    spec_path = os.path.join(role_dir, 'meta', 'argument_specs.yml')
    if not os.path.isfile(spec_path):
        return ['%s: no meta/argument_specs.yml' % role]
    defaults = _load(defaults_path) if os.path.isfile(defaults_path) else {}
    defaults = defaults or {}
    entry_points = (_load(spec_path) or {}).get('argument_specs') or {}
    if 'main' not in entry_points:
        return ['%s: meta/argument_specs.yml has no main entry point' % role]
    options = entry_points['main'].get('options') or {}

    problems = []
    public, private = role + '_', role + '__'
    for where, names in (('defaults/main.yml', defaults), ('argument spec', options)):
        for name in names:
            if name.startswith(private):
                problems.append('%s: %s sets the private name %s (private names go to vars/ or set_fact)'
                                % (role, where, name))
            elif not name.startswith(public):
                problems.append('%s: %s names an input %s, not %s*' % (role, where, name, public))

    for name, value in defaults.items():
        spec = options.get(name)
        if spec is None:
            problems.append('%s: %s is in defaults/main.yml but not an option of the argument spec'
                            % (role, name))
        elif _templated_non_string(spec, value):
            if 'default' in spec:
                problems.append('%s: %s (type %s) documents its Jinja default %r as default:, which antsibull-docs '
                                'refuses for its type; write %r in its description' % (
                                    role, name, spec.get('type', 'str'), value, jinja_default_note(value)))
            elif jinja_default_note(value) not in _description(spec):
                problems.append('%s: %s defaults to %r in defaults/main.yml but its description does not say %r'
                                % (role, name, value, jinja_default_note(value)))
        elif 'default' not in spec:
            problems.append('%s: %s is set in defaults/main.yml to %r but the argument spec documents no default%s'
                            % (role, name, value, ' (and marks it required)' if spec.get('required') else ''))
        elif not _same(spec['default'], value):
            problems.append('%s: %s defaults to %r in defaults/main.yml but the argument spec documents %r'
                            % (role, name, value, spec['default']))

    for name, spec in options.items():
        if name in defaults:
            continue
        if 'default' in spec:
            problems.append('%s: the argument spec documents a default for %s, which defaults/main.yml does not set'
                            % (role, name))
    for name, spec in options.items():
        if spec.get('required') and 'default' in spec:
            problems.append('%s: %s is both required and defaulted in the argument spec' % (role, name))
    return problems


def test_there_are_roles():
    assert len(role_names()) >= 10


@pytest.mark.parametrize('role', role_names())
def test_defaults_match_the_argument_spec(role):
    problems = role_problems(os.path.join(ROLES, role))
    assert not problems, '\n'.join(problems)


def _role(tmp_path, defaults, options):
    role_dir = tmp_path / 'demo'
    for sub in ('tasks', 'defaults', 'meta'):
        (role_dir / sub).mkdir(parents=True)
    (role_dir / 'defaults' / 'main.yml').write_text(yaml.safe_dump(defaults))
    (role_dir / 'meta' / 'argument_specs.yml').write_text(
        yaml.safe_dump({'argument_specs': {'main': {'short_description': 'demo', 'options': options}}}))
    return str(role_dir)


def test_a_consistent_role_passes(tmp_path):
    assert role_problems(_role(tmp_path,
                               {'demo_count': 3, 'demo_peer': '{{ cluster_peer | default("") }}',
                                'demo_on': '{{ x | default(true) }}'},
                               {'demo_count': {'type': 'int', 'default': 3},
                                'demo_peer': {'type': 'str', 'default': '{{ cluster_peer | default("") }}'},
                                'demo_extra': {'type': 'str'},
                                'demo_on': {'type': 'bool', 'description': ['On.', r'Default: V(x | default(true\))']},
                                'demo_target': {'type': 'str', 'required': True}})) == []


@pytest.mark.parametrize('defaults, options, expected', [
    ({'demo_count': 3}, {'demo_count': {'type': 'int', 'default': 4}},
     'demo_count defaults to 3 in defaults/main.yml but the argument spec documents 4'),
    ({'demo_on': 1}, {'demo_on': {'type': 'bool', 'default': True}},
     'demo_on defaults to 1 in defaults/main.yml but the argument spec documents True'),
    ({'demo_map': {'a': 1}}, {'demo_map': {'type': 'dict', 'default': {}}},
     "demo_map defaults to {'a': 1} in defaults/main.yml but the argument spec documents {}"),
    ({'demo_peer': '{{ x }}'}, {'demo_peer': {'type': 'str', 'default': '{{ y }}'}},
     "demo_peer defaults to '{{ x }}' in defaults/main.yml but the argument spec documents '{{ y }}'"),
    ({'demo_on': '{{ x }}'}, {'demo_on': {'type': 'bool', 'default': '{{ x }}'}},
     "demo_on (type bool) documents its Jinja default '{{ x }}' as default:, which antsibull-docs refuses"),
    ({'demo_on': '{{ x | default(true) }}'},
     {'demo_on': {'type': 'bool', 'description': ['On.', 'Default: V(x | default(true))']}},
     "demo_on defaults to '{{ x | default(true) }}' in defaults/main.yml but its description does not say "
     "'Default: V(x | default(true\\\\))'"),
    ({'demo_count': 3}, {},
     'demo_count is in defaults/main.yml but not an option of the argument spec'),
    ({'demo_count': 3}, {'demo_count': {'type': 'int'}},
     'demo_count is set in defaults/main.yml to 3 but the argument spec documents no default'),
    ({'demo_count': 3}, {'demo_count': {'type': 'int', 'required': True}},
     'demo_count is set in defaults/main.yml to 3 but the argument spec documents no default (and marks it required)'),
    ({}, {'demo_count': {'type': 'int', 'default': 3}},
     'the argument spec documents a default for demo_count, which defaults/main.yml does not set'),
    ({'demo__cache': 1}, {},
     'defaults/main.yml sets the private name demo__cache'),
    ({'other_count': 3}, {'other_count': {'type': 'int', 'default': 3}},
     'defaults/main.yml names an input other_count, not demo_*'),
])
def test_a_mismatch_is_found(tmp_path, defaults, options, expected):
    problems = role_problems(_role(tmp_path, defaults, options))
    assert any(expected in p for p in problems), problems


# Facts a role sets for playbooks and users to read: documented outputs, not internal names.
PUBLISHED_FACTS = {
    'bmc': {'bmc_inventory'},                                        # docs/provisioning.md
    'firmware': {'firmware_report', 'firmware_cluster_summary'},     # docs/firmware.md, playbooks/acceptance.yml
    'gpu_health': {'gpu_health_result'},                             # docs/gpu-health.md, playbooks/acceptance.yml
    'fabric_validate': {'fabric_validate_host', 'fabric_validate_switch',  # docs/fabric-validate.md, playbooks/acceptance.yml
                        'fabric_validate_violations'},
}

SET_FACT = ('ansible.builtin.set_fact', 'ansible.legacy.set_fact', 'set_fact')


def collection_inputs(roles_dir=ROLES):
    """Every top-level option of every entry point of every role's argument spec."""
    inputs = set()
    for role in role_names(roles_dir):
        spec_path = os.path.join(roles_dir, role, 'meta', 'argument_specs.yml')
        if os.path.isfile(spec_path):
            for entry in ((_load(spec_path) or {}).get('argument_specs') or {}).values():
                inputs.update((entry or {}).get('options') or {})
    return inputs


def _task_names(tasks):
    """(kind, name) for every name the tasks (blocks, rescue and always included) make."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for section in ('block', 'rescue', 'always'):
            yield from _task_names(task.get(section))
        if 'register' in task:
            yield 'register', task['register']
        for module in SET_FACT:
            if isinstance(task.get(module), dict):
                for name in task[module]:
                    if name != 'cacheable':
                        yield 'set_fact', name
        loop_var = (task.get('loop_control') or {}).get('loop_var')
        if loop_var and loop_var != 'item':
            yield 'loop_var', loop_var
        for name in task.get('vars') or {}:
            yield 'vars', name


def task_name_problems(role, where, tasks, inputs=frozenset()):
    """The private-name rule for one parsed task or handler file; one line per wrong name."""
    problems = []
    for kind, name in _task_names(tasks):
        if name.startswith(role + '__') or name in PUBLISHED_FACTS.get(role, ()):
            continue
        if kind == 'vars' and (name in inputs or name.startswith('ansible_')):
            continue
        problems.append('%s: %s: %s %s is not named %s__*' % (role, where, kind, name, role))
    return problems


def vars_name_problems(role, where, values):
    """The private-name rule for one parsed roles/<role>/vars/*.yml; one line per wrong key."""
    return ['%s: %s: %s is not named %s__*' % (role, where, name, role)
            for name in values or {}
            if not name.startswith(role + '__') and not name.startswith('ansible_')]


def private_name_problems(role_dir, inputs=frozenset()):
    role = os.path.basename(os.path.normpath(role_dir))
    problems = []
    for sub in ('tasks', 'handlers', 'vars'):
        folder = os.path.join(role_dir, sub)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(('.yml', '.yaml')):
                continue
            where, parsed = '%s/%s' % (sub, name), _load(os.path.join(folder, name))
            if sub == 'vars':
                problems += vars_name_problems(role, where, parsed)
            else:
                problems += task_name_problems(role, where, parsed, inputs)
    return problems


@pytest.mark.parametrize('role', role_names())
def test_private_names_carry_the_role_prefix(role):
    problems = private_name_problems(os.path.join(ROLES, role), collection_inputs())
    assert not problems, '\n'.join(problems)


def test_a_wrong_private_name_is_found():
    tasks = [
        {'name': 'Read', 'ansible.builtin.command': 'true', 'register': 'base_wrong'},
        {'block': [{'ansible.builtin.set_fact': {'base__right': 1, 'base_fact': 2, 'cacheable': True}}],
         'rescue': [{'ansible.builtin.debug': {'msg': '{{ host }}'}, 'loop': [1],
                     'loop_control': {'loop_var': 'host'}}]},
        {'ansible.builtin.debug': {'msg': 'x'}, 'loop': [1], 'loop_control': {'loop_var': 'item'},
         'vars': {'base_local': 1, 'other_input': 2, 'ansible_become': False}},
    ]
    problems = task_name_problems('base', 'tasks/main.yml', tasks, inputs={'other_input'})
    assert problems == [
        'base: tasks/main.yml: register base_wrong is not named base__*',
        'base: tasks/main.yml: set_fact base_fact is not named base__*',
        'base: tasks/main.yml: loop_var host is not named base__*',
        'base: tasks/main.yml: vars base_local is not named base__*',
    ], problems
    assert vars_name_problems('base', 'vars/Debian.yml', {'base__ok': 1, 'base_packages': [], 'ansible_host': 'x'}) == [
        'base: vars/Debian.yml: base_packages is not named base__*']


def test_a_published_fact_keeps_its_name():
    tasks = [{'ansible.builtin.set_fact': {'firmware_report': {}}}]
    assert task_name_problems('firmware', 'tasks/collect.yml', tasks) == []
    assert task_name_problems('bmc', 'tasks/redfish.yml', tasks) == [
        'bmc: tasks/redfish.yml: set_fact firmware_report is not named bmc__*']
