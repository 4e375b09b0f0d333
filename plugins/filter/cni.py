# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cni_manifest, documented in plugins/filter/cni_manifest.yml."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.aifabric.cluster.plugins.module_utils.cni_manifest import cni_manifest


def _cni_manifest(text, cni, pod_cidr, version):
    if not isinstance(text, (str, bytes)):
        raise AnsibleFilterError('cni_manifest: the input is the manifest text, not %s' % type(text).__name__)
    return cni_manifest(to_text(text), str(cni), str(pod_cidr), str(version))


class FilterModule(object):
    def filters(self):
        return {'cni_manifest': _cni_manifest}
