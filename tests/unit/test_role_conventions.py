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
                               {'demo_count': 3, 'demo_peer': '{{ cluster_peer | default("") }}'},
                               {'demo_count': {'type': 'int', 'default': 3},
                                'demo_peer': {'type': 'str', 'default': '{{ cluster_peer | default("") }}'},
                                'demo_extra': {'type': 'str'},
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
