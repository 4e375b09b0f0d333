# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX pack's pure logic (extensions/awx): surveys from role argument specs, the pack's
own rules (slicing, limit, surveys), and what pruning may remove. No Ansible import: the
filters in plugins/filter/awx_pack.py wrap these functions, the unit tests call them directly.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

# option names that hold secrets even where the argument spec does not say no_log
SECRET_NAME = re.compile(r'(password|passwd|secret|token|hash|private_key|credential)', re.I)
# an AWX survey question_name is at most 80 characters; question_description is free text
QUESTION_NAME_MAX = 80
# C(x), O(x), V(x), I(x), M(x), U(x), L(text,url) markup of argument_specs descriptions
_MARKUP = re.compile(r'\b[COVIMUEPR]\(([^)]*)\)|\bL\(([^,]*),[^)]*\)')
_JINJA = re.compile(r'{{|{%')


def _text(description):
    if isinstance(description, (list, tuple)):
        description = ' '.join(str(d) for d in description)
    description = str(description or '')
    return _MARKUP.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), description).strip()


def _is_template(value):
    if isinstance(value, str):
        return bool(_JINJA.search(value))
    if isinstance(value, (list, tuple)):
        return any(_is_template(v) for v in value)
    if isinstance(value, dict):
        return any(_is_template(k) or _is_template(v) for k, v in value.items())
    return False


def survey_question(variable, option):
    """One AWX survey question for one argument_specs option, or None when AWX cannot ask it.

    AWX survey types: text, textarea, password, integer, float, multiplechoice, multiselect.
    bool -> multiplechoice "true"/"false" (AWX has no boolean: the playbooks read it with | bool);
    str/path with choices -> multiplechoice; list with choices -> multiselect; no_log or a
    secret-like name -> password (never a default); dict, raw and lists without choices are
    not asked (a survey answer is a string). A default that is a Jinja expression is not
    carried (AWX would pass the expression as a literal string): empty and not required.
    """
    option = option or {}
    otype = option.get('type', 'str')
    choices = option.get('choices')
    has_default = 'default' in option and option['default'] is not None
    default = option.get('default')
    templated = has_default and _is_template(default)
    required = bool(option.get('required', False)) and not templated
    secret = bool(option.get('no_log')) or bool(SECRET_NAME.search(variable))
    question = {
        'question_name': variable[:QUESTION_NAME_MAX],
        'question_description': _text(option.get('description')),
        'variable': variable,
        'required': required,
    }
    if otype == 'bool':
        question.update(type='multiplechoice', choices=['true', 'false'])
        question['default'] = ('true' if default else 'false') if has_default and not templated else ''
    elif otype in ('int', 'float'):
        question['type'] = 'integer' if otype == 'int' else 'float'
        if has_default and not templated and not isinstance(default, bool):
            try:
                question['default'] = int(default) if otype == 'int' else float(default)
            except (TypeError, ValueError):
                question['default'] = ''
        else:
            question['default'] = ''
    elif otype == 'list':
        if not choices:
            return None
        question.update(type='multiselect', choices=[str(c) for c in choices])
        question['default'] = '\n'.join(str(d) for d in default) if has_default and not templated and default else ''
    elif otype in ('str', 'path'):
        if secret:
            # AWX encrypts password defaults and shows $encrypted$: no default, no drift
            question.update(type='password', default='')
        elif choices:
            # AWX choices are strings; an empty choice cannot be offered, the empty answer is "not asked"
            offered = [str(c) for c in choices if str(c) != '']
            question.update(type='multiplechoice', choices=offered)
            question['default'] = str(default) if has_default and not templated and str(default) in offered else ''
        else:
            multiline = '\n' in str(default) if has_default else False
            question['type'] = 'textarea' if multiline else 'text'
            question['default'] = str(default) if has_default and not templated else ''
    else:
        return None
    return question


def survey_spec(argument_specs, name, description='', options=None, extra=None, entry_point='main'):
    """An AWX survey spec ({name, description, spec}) from a role's meta/argument_specs.yml.

    argument_specs: the parsed file (its top-level argument_specs key or the mapping under it).
    options: the option names to ask, in that order; None asks every option AWX can ask.
    extra: more options in argument_specs form (playbook variables that are no role option),
    appended after the role's. An option named in options that the role does not have is an
    error: a survey cannot drift from the role interface.
    """
    specs = argument_specs.get('argument_specs', argument_specs) if argument_specs else {}
    role_options = dict(((specs.get(entry_point) or {}).get('options') or {}))
    if options is None:
        names = list(role_options)
    else:
        missing = [o for o in options if o not in role_options]
        if missing:
            raise ValueError('not options of the role (meta/argument_specs.yml, entry point %s): %s'
                             % (entry_point, ', '.join(missing)))
        names = list(options)
    questions = []
    for variable in names:
        q = survey_question(variable, role_options[variable])
        if q is not None:
            questions.append(q)
        elif options is not None:
            raise ValueError('option %s (type %s) cannot be a survey question' % (variable, role_options[variable].get('type', 'str')))
    for variable, option in (extra or {}).items():
        q = survey_question(variable, option)
        if q is None:
            raise ValueError('extra option %s (type %s) cannot be a survey question' % (variable, (option or {}).get('type', 'str')))
        questions.append(q)
    seen = set()
    for q in questions:
        if q['variable'] in seen:
            raise ValueError('variable %s is asked twice' % q['variable'])
        seen.add(q['variable'])
    return {'name': name, 'description': description, 'spec': questions}


# Each job template says whether it may be sliced. AWX splits the inventory's hosts into
# job_slice_count jobs; a playbook that reads other hosts (groups, hostvars, play hosts) or
# reports on the whole cluster sees only its slice, so it must say slice: false.
def pack_problems(templates, workflows=None, playbooks=None):
    """The pack's own rules; one message per broken rule, empty when the pack is sound.

    templates: controller_templates items (name, playbook, job_slice_count, ask_* ...) with
    the pack's keys aifabric_slice ({allowed: bool, reason}) and aifabric_limit_required.
    playbooks: the playbooks of playbooks/ (file names); each needs a job template.
    """
    problems = []
    names = set()
    for t in templates:
        name = t.get('name', '?')
        if name in names:
            problems.append('%s: two job templates have this name' % name)
        names.add(name)
        slicing = t.get('aifabric_slice')
        if not isinstance(slicing, dict) or 'allowed' not in slicing or not slicing.get('reason'):
            problems.append('%s: says nothing about slicing (aifabric_slice: {allowed, reason})' % name)
            continue
        count = int(t.get('job_slice_count', 1) or 1)
        if not slicing['allowed']:
            if count != 1:
                problems.append('%s: must not be sliced (%s) but job_slice_count is %d' % (name, slicing['reason'], count))
            if t.get('ask_job_slice_count_on_launch'):
                problems.append('%s: must not be sliced (%s) but prompts for the slice count' % (name, slicing['reason']))
        if t.get('aifabric_limit_required'):
            if not t.get('ask_limit_on_launch'):
                problems.append('%s: needs a limit but does not prompt for it (ask_limit_on_launch)' % name)
            if t.get('limit'):
                problems.append('%s: needs a limit given at launch, not a fixed one (%s)' % (name, t['limit']))
        for prompt in ('ask_limit_on_launch', 'ask_tags_on_launch'):
            if prompt not in t:
                problems.append('%s: does not say %s (limit and tags are launch prompts)' % (name, prompt))
        survey = t.get('survey_spec')
        if survey and not t.get('survey_enabled'):
            problems.append('%s: has a survey that is not enabled' % name)
    if playbooks is not None:
        covered = set(str(t.get('playbook', '')).rsplit('/', 1)[-1] for t in templates)
        for playbook in playbooks:
            if playbook not in covered:
                problems.append('%s: no job template runs this playbook' % playbook)
    for w in workflows or []:
        identifiers = set()
        for node in w.get('workflow_nodes', []):
            identifiers.add(node.get('identifier'))
        for node in w.get('workflow_nodes', []):
            ujt = (node.get('unified_job_template') or {})
            if ujt.get('type') == 'job_template' and ujt.get('name') not in names:
                problems.append('%s: node %s runs %s, which is no job template of the pack'
                                % (w.get('name'), node.get('identifier'), ujt.get('name')))
            related = node.get('related') or {}
            for kind in ('success_nodes', 'failure_nodes', 'always_nodes'):
                for child in related.get(kind, []):
                    if child.get('identifier') not in identifiers:
                        problems.append('%s: node %s links to %s, which is no node of the workflow'
                                        % (w.get('name'), node.get('identifier'), child.get('identifier')))
    return problems


def prune_candidates(existing, wanted_names, label):
    """The objects pruning removes: those that carry the label and whose name is not wanted.

    existing: API objects (job templates, workflow job templates) with summary_fields.labels.results.
    An object without the label is never removed, whatever its name.
    """
    wanted = set(wanted_names)
    out = []
    for obj in existing:
        labels = [lab.get('name') for lab in ((obj.get('summary_fields') or {}).get('labels') or {}).get('results', [])]
        if label in labels and obj.get('name') not in wanted:
            out.append(obj.get('name'))
    return sorted(out)
