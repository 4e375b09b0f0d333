# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host names in the inventory checks: their order in messages and the DNS label they are made of.

Shared by inventory_check and the intent checks it calls (kubernetes_intent), which cannot
import inventory_check back."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

# an RFC 1123 label, lowercase: a-z, 0-9 and '-', not at either end, at most 63 characters
LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
_NATURAL_RE = re.compile(r'(\d+)')


def natural_key(name):
    """Sort key that orders gpu-2 before gpu-10."""
    return [int(part) if part.isdigit() else part for part in _NATURAL_RE.split(str(name))]
