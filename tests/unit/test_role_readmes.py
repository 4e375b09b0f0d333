# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role has a README.md, and it is the one its argument spec generates
(tests/docs/role_readmes.py, which make docs runs with --check)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location('role_readmes', os.path.join(ROOT, 'tests', 'docs', 'role_readmes.py'))
role_readmes = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_readmes)
GENERATED = list(role_readmes.readmes())


def test_every_role_has_a_guide_page():
    roles = sorted(r for r in os.listdir(os.path.join(ROOT, 'roles')) if os.path.isdir(os.path.join(ROOT, 'roles', r, 'tasks')))
    assert [r for r, _p, _t in GENERATED] == roles
    for role in roles:
        assert os.path.isfile(os.path.join(ROOT, 'docs', role_readmes.GUIDE[role])), role


@pytest.mark.parametrize('role, path, text', GENERATED, ids=[r for r, _p, _t in GENERATED])
def test_the_readme_is_what_the_spec_generates(role, path, text):
    assert os.path.isfile(path), 'roles/%s/README.md is missing: python3 tests/docs/role_readmes.py' % role
    with open(path, encoding='utf-8') as f:
        assert f.read() == text, 'roles/%s/README.md is stale: python3 tests/docs/role_readmes.py' % role


def test_a_jinja_default_of_a_typed_option_shows_as_written():
    spec = {'argument_specs': {'main': {'short_description': 'Demo', 'options': {
        'demo_on': {'type': 'bool', 'description': ['On.', r'Default: V(x | default([]\)) (see defaults).']},
        'demo_n': {'type': 'int', 'default': 3},
        'demo_name': {'type': 'str', 'required': True}}}}}
    text = role_readmes.render('base', spec)
    assert '| `demo_on` | bool | `{{ x \\| default([]) }}` |' in text
    assert '| `demo_n` | int | `3` |' in text
    assert '| `demo_name` | str | required |' in text
