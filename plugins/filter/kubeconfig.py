# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeconfig_reduced, documented in plugins/filter/kubeconfig_reduced.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.aifabric.cluster.plugins.module_utils.kubeconfig import reduced_kubeconfig
from ansible_collections.aifabric.cluster.plugins.module_utils.to_plain import to_plain


def _kubeconfig_reduced(config):
    try:
        config = to_plain(config)
        if isinstance(config, str):
            config = yaml.safe_load(config)
        return reduced_kubeconfig(config)
    except (ValueError, yaml.YAMLError) as exc:
        # what is missing, never the content (keys and certificates)
        raise AnsibleFilterError('kubeconfig_reduced: %s' % (exc if isinstance(exc, ValueError) else type(exc).__name__))


class FilterModule(object):
    def filters(self):
        return {'kubeconfig_reduced': _kubeconfig_reduced}
