# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fabric_report_markdown and fabric_report_lines, documented in plugins/filter/<name>.yml; the
logic is report_markdown and report_lines in module_utils/fabric_consistency.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aifabric.cluster.plugins.module_utils.fabric_consistency import report_lines, report_markdown
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _violations(value, name):
    value = to_plain(value)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and 'rule' in v and 'message' in v for v in value):
        raise AnsibleFilterError('%s: the input must be the violations of fabric_violations' % name)
    return value


def fabric_report_markdown(violations, generated, intent, hosts=0, switches=0):
    """report.md of a fabric validation (plugins/filter/fabric_report_markdown.yml)."""
    return report_markdown(to_plain(generated), to_plain(intent) or {}, int(hosts), int(switches),
                           _violations(violations, 'fabric_report_markdown'))


def fabric_report_lines(violations, report_dir):
    """The violations for a person (plugins/filter/fabric_report_lines.yml)."""
    return report_lines(_violations(violations, 'fabric_report_lines'), to_plain(report_dir))


class FilterModule(object):
    """aifabric.cluster fabric report filters."""

    def filters(self):
        return {
            'fabric_report_markdown': fabric_report_markdown,
            'fabric_report_lines': fabric_report_lines,
        }
