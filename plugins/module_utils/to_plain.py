# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain Python data from what a filter receives (lazy templates, unsafe text, tuples)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.six.moves.collections_abc import Mapping

from ansible.module_utils.common.text.converters import to_native

MAX_DEPTH = 30


def to_plain(value, depth=0):
    """Deep copy to plain Python data; resolves every lazy template on the way.

    Raises ValueError for data nested deeper than MAX_DEPTH (a cycle, or not inventory data)."""
    if depth > MAX_DEPTH:
        raise ValueError('nested too deeply (more than %d levels)' % MAX_DEPTH)
    if isinstance(value, Mapping):
        return dict((to_plain(key, depth + 1), to_plain(item, depth + 1)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [to_plain(item, depth + 1) for item in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, bytes):
        return to_native(value, errors='surrogate_or_strict')
    if isinstance(value, str):
        return str(value)  # drops AnsibleUnsafeText and similar wrappers
    # anything else (undefined markers and the like) has to be turned into text now,
    # which raises for an undefined value
    return to_native(value)
