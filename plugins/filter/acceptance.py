# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster acceptance report filters; each one is documented in plugins/filter/<filter name>.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.aifabric.cluster.plugins.module_utils.acceptance import (
    AcceptanceInputError, build_report, lines, render_markdown, stats,
)
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _call(name, function, *args):
    problem = None
    try:
        return function(*[to_plain(arg) for arg in args])
    except (AcceptanceInputError, ValueError) as exc:
        problem = to_native(exc)
    except (AttributeError, KeyError, TypeError) as exc:
        problem = 'not the input playbooks/acceptance.yml gives (%s: %s)' % (type(exc).__name__, to_native(exc))
    raise AnsibleFilterError('%s: %s' % (name, problem))


def acceptance_report(nodes, run=None):
    return _call('acceptance_report', build_report, nodes, run or {})


def acceptance_markdown(report):
    return _call('acceptance_markdown', render_markdown, report)


def acceptance_lines(report):
    return _call('acceptance_lines', lines, report)


def acceptance_stats(report):
    return _call('acceptance_stats', stats, report)


class FilterModule(object):
    """aifabric.cluster acceptance report filters."""

    def filters(self):
        return {
            'acceptance_report': acceptance_report,
            'acceptance_markdown': acceptance_markdown,
            'acceptance_lines': acceptance_lines,
            'acceptance_stats': acceptance_stats,
        }
