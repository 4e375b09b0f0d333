# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the AWX pack (extensions/awx); each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.module_utils.awx_survey import pack_problems, prune_candidates, survey_spec
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _awx_survey_spec(argument_specs, name, description='', options=None, extra=None, entry_point='main'):
    try:
        return survey_spec(to_plain(argument_specs), str(name), str(description or ''),
                           None if options is None else [str(o) for o in to_plain(options)],
                           to_plain(extra) if extra else None, str(entry_point))
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('awx_survey_spec (%s): %s' % (name, exc))


def _awx_pack_problems(templates, workflows=None, playbooks=None):
    try:
        return pack_problems(to_plain(templates), to_plain(workflows) if workflows else None,
                             None if playbooks is None else [str(p) for p in to_plain(playbooks)])
    except (AttributeError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('awx_pack_problems: %s' % exc)


def _awx_prune(existing, wanted_names, label):
    try:
        return prune_candidates(to_plain(existing), [str(n) for n in to_plain(wanted_names)], str(label))
    except (AttributeError, TypeError) as exc:
        raise AnsibleFilterError('awx_prune: want API objects with summary_fields.labels: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'awx_survey_spec': _awx_survey_spec, 'awx_pack_problems': _awx_pack_problems, 'awx_prune': _awx_prune}
