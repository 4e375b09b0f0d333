# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""gpu_health_summary, documented in plugins/filter/gpu_health_summary.yml; the logic is
summary_lines in module_utils/gpu_health.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.aifabric.cluster.plugins.module_utils.gpu_health import summary_lines
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def gpu_health_summary(results):
    results = to_plain(results)
    if results is None:
        return []
    if not isinstance(results, dict) or not all(isinstance(r, dict) or r is None for r in results.values()):
        raise AnsibleFilterError('gpu_health_summary input must be the nvidia_gpu_health results by node, not %s'
                                 % type(results).__name__)
    return summary_lines(results)


class FilterModule(object):
    def filters(self):
        return {'gpu_health_summary': gpu_health_summary}
