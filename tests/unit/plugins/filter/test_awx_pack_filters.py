# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Surveys from argument specs, the pack's rules and pruning (plugins/module_utils/awx_survey.py)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import os
import re

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

_WAS_CONTROLLER = module_utils_internal.is_controller
# pylint: disable=wrong-import-position
from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.filter import awx_pack
from ansible_collections.aifabric.cluster.plugins.module_utils.awx_survey import (
    pack_problems, prune_candidates, survey_question, survey_spec)
# pylint: enable=wrong-import-position
module_utils_internal.is_controller = _WAS_CONTROLLER

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
FILTERS = awx_pack.FilterModule().filters()


def test_filters_are_registered_with_a_doc_each():
    assert sorted(FILTERS) == ['awx_pack_problems', 'awx_prune', 'awx_survey_spec']
    for name in FILTERS:
        assert os.path.exists(os.path.join(ROOT, 'plugins', 'filter', name + '.yml'))


@pytest.mark.parametrize('option,expected', [
    ({'type': 'bool', 'default': True}, {'type': 'multiplechoice', 'choices': ['true', 'false'], 'default': 'true'}),
    ({'type': 'bool'}, {'type': 'multiplechoice', 'choices': ['true', 'false'], 'default': ''}),
    ({'type': 'int', 'default': 300}, {'type': 'integer', 'default': 300}),
    ({'type': 'float', 'default': 1}, {'type': 'float', 'default': 1.0}),
    ({'type': 'str', 'default': 'a'}, {'type': 'text', 'default': 'a'}),
    ({'type': 'path', 'default': '/x'}, {'type': 'text', 'default': '/x'}),
    ({'type': 'str', 'default': 'a\nb'}, {'type': 'textarea', 'default': 'a\nb'}),
    ({'type': 'str', 'choices': ['', 'on', 'off'], 'default': ''}, {'type': 'multiplechoice', 'choices': ['on', 'off'], 'default': ''}),
    ({'type': 'str', 'choices': ['a', 'b'], 'default': 'b'}, {'type': 'multiplechoice', 'choices': ['a', 'b'], 'default': 'b'}),
    ({'type': 'list', 'elements': 'str', 'choices': ['x', 'y'], 'default': ['y']}, {'type': 'multiselect', 'choices': ['x', 'y'], 'default': 'y'}),
    ({'type': 'str', 'no_log': True, 'default': 'secret'}, {'type': 'password', 'default': ''}),
    ({'type': 'str', 'default': "{{ node_bmc_ip }}", 'required': True}, {'type': 'text', 'default': '', 'required': False}),
    ({'type': 'int', 'default': "{{ x | int }}"}, {'type': 'integer', 'default': ''}),
    ({'type': 'str', 'required': True}, {'type': 'text', 'default': '', 'required': True}),
])
def test_survey_question_types(option, expected):
    question = survey_question('opt', dict(option, description=['First C(code).', 'Second.']))
    assert question == dict({'question_name': 'opt', 'question_description': 'First code. Second.', 'variable': 'opt',
                             'required': False}, **expected)


def test_secret_like_names_are_passwords_and_unaskable_types_are_left_out():
    assert survey_question('bmc_password', {'type': 'str'})['type'] == 'password'
    assert survey_question('install_password_hash', {'type': 'str', 'default': 'x'}) == dict(
        survey_question('install_password_hash', {'type': 'str'}), default='')
    for option in ({'type': 'dict'}, {'type': 'raw'}, {'type': 'list', 'elements': 'str'}):
        assert survey_question('x', option) is None


def test_survey_spec_from_a_role_and_its_errors():
    specs = {'argument_specs': {'main': {'options': {'a': {'type': 'bool', 'default': False}, 'b': {'type': 'dict'}}}}}
    spec = survey_spec(specs, 'n', 'd')
    assert spec['name'] == 'n' and [q['variable'] for q in spec['spec']] == ['a']
    spec = survey_spec(specs, 'n', options=['a'], extra={'reinstall': {'type': 'bool', 'default': False}})
    assert [q['variable'] for q in spec['spec']] == ['a', 'reinstall']
    with pytest.raises(ValueError, match='not options of the role'):
        survey_spec(specs, 'n', options=['nope'])
    with pytest.raises(ValueError, match='cannot be a survey question'):
        survey_spec(specs, 'n', options=['b'])
    with pytest.raises(ValueError, match='asked twice'):
        survey_spec(specs, 'n', options=['a'], extra={'a': {'type': 'str'}})
    with pytest.raises(AnsibleFilterError, match='awx_survey_spec'):
        FILTERS['awx_survey_spec'](specs, 'n', options=['nope'])


@pytest.mark.parametrize('role', sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                                        for p in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))))
def test_every_role_interface_makes_a_survey_awx_accepts(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as f:
        specs = yaml.safe_load(f)
    spec = survey_spec(specs, role)
    for q in spec['spec']:
        assert q['type'] in ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
        if q['type'] in ('multiplechoice', 'multiselect'):
            assert q['choices'] and all(isinstance(c, str) for c in q['choices'])
            assert all(d in q['choices'] for d in q['default'].splitlines())
        if q['default'] != '':
            assert isinstance(q['default'], {'integer': int, 'float': float}.get(q['type'], str))
            assert '{{' not in str(q['default'])
        if q['type'] == 'password':
            assert q['default'] == ''


SLICED = {'allowed': True, 'reason': 'per node'}
UNSLICED = {'allowed': False, 'reason': 'aggregates'}


def _template(**kw):
    t = {'name': 't', 'playbook': 'playbooks/x.yml', 'ask_limit_on_launch': True, 'ask_tags_on_launch': True,
         'aifabric_slice': SLICED, 'job_slice_count': 1}
    t.update(kw)
    return t


def test_pack_problems():
    assert pack_problems([_template()], [], ['x.yml']) == []
    assert pack_problems([_template(aifabric_slice=UNSLICED, job_slice_count=4)]) == [
        't: must not be sliced (aggregates) but job_slice_count is 4']
    assert pack_problems([_template(aifabric_slice=UNSLICED, ask_job_slice_count_on_launch=True)]) == [
        't: must not be sliced (aggregates) but prompts for the slice count']
    assert pack_problems([_template(aifabric_slice=None)]) == ['t: says nothing about slicing (aifabric_slice: {allowed, reason})']
    assert pack_problems([_template(aifabric_limit_required=True, ask_limit_on_launch=False)]) == [
        't: needs a limit but does not prompt for it (ask_limit_on_launch)']
    assert pack_problems([_template(aifabric_limit_required=True, limit='all')]) == [
        't: needs a limit given at launch, not a fixed one (all)']
    assert pack_problems([_template()], [], ['x.yml', 'y.yml']) == ['y.yml: no job template runs this playbook']
    workflow = {'name': 'w', 'workflow_nodes': [
        {'identifier': 'a', 'unified_job_template': {'name': 'gone', 'type': 'job_template'},
         'related': {'success_nodes': [{'identifier': 'b'}]}}]}
    assert pack_problems([_template()], [workflow]) == [
        'w: node a runs gone, which is no job template of the pack', 'w: node a links to b, which is no node of the workflow']


def test_prune_removes_only_labelled_objects_not_in_code():
    def obj(name, *labels):
        return {'name': name, 'summary_fields': {'labels': {'results': [{'name': lab} for lab in labels]}}}
    existing = [obj('kept', 'aifabric.cluster'), obj('retired', 'aifabric.cluster', 'x'), obj('theirs'), obj('other', 'x')]
    assert prune_candidates(existing, ['kept'], 'aifabric.cluster') == ['retired']
    assert FILTERS['awx_prune'](existing, ['kept', 'retired'], 'aifabric.cluster') == []


def _pack():
    class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        pass
    Loader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))
    with open(os.path.join(ROOT, 'extensions', 'awx', 'pack.yml')) as f:
        return yaml.load(f, Loader=Loader)  # nosec - SafeLoader with one more tag


CROSS_HOST = re.compile(r'groups\[|hostvars\[(?!inventory_hostname\])|ansible_play_hosts|play_hosts')


def test_templates_that_may_be_sliced_read_no_other_host():
    """A sliceable playbook's roles must not read other hosts (a slice holds only its own);
    gpu_health.yml's report of its own play's hosts is the one allowed reference."""
    for t in _pack()['controller_templates']:
        if not t['aifabric_slice']['allowed']:
            continue
        with open(os.path.join(ROOT, t['playbook'])) as f:
            playbook = f.read()
        roles = re.findall(r'(?:role|name): aifabric\.cluster\.(\w+)', playbook)  # roles:, include_role, import_role
        for role in roles:
            for path in glob.glob(os.path.join(ROOT, 'roles', role, '**', '*'), recursive=True):
                if os.path.isfile(path) and '/meta/' not in path:
                    with open(path, errors='replace') as f:
                        for number, line in enumerate(f, 1):
                            if not line.lstrip().startswith('#'):
                                assert not CROSS_HOST.search(line), '%s:%d (%s): %s' % (path, number, t['name'], line)
        body = '\n'.join(line for line in playbook.splitlines() if not line.lstrip().startswith('#'))
        if t['name'] != 'aifabric.cluster gpu_health':
            assert not CROSS_HOST.search(body), t['name']


def test_surveyed_booleans_are_read_with_bool():
    """A survey answer is the string "true" or "false": every place a role or playbook reads a
    surveyed boolean as a condition must pass it through | bool."""
    pack = _pack()
    bare = []
    for t in pack['controller_templates']:
        survey = t.get('aifabric_survey') or {}
        names = list((survey.get('extra') or {}))
        if survey.get('role'):
            with open(os.path.join(ROOT, 'roles', survey['role'], 'meta', 'argument_specs.yml')) as f:
                options = yaml.safe_load(f)['argument_specs']['main']['options']
            names += [o for o in survey.get('options', []) if options[o].get('type') == 'bool']
        files = glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')) + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml'))
        for name in names:
            use = re.compile(r'(^\s*-\s*(not\s+)?%s\s*$|when:\s*(not\s+)?%s\s*$)' % (name, name))
            for path in files:
                with open(path) as f:
                    for number, line in enumerate(f, 1):
                        if use.search(line):
                            bare.append('%s:%d %s' % (os.path.relpath(path, ROOT), number, line.strip()))
    assert bare == []
