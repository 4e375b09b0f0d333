# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host side of the preflight scenario: prove that no bad inventory changed any host.

Before the corpus runs, every lab host gets a stamp file; afterwards
test_zz_hosts_unchanged.py lists every file newer than the stamp under the paths any
phase would change. Needs the lab (Molecule's verify step sets LAB_INVENTORY).
"""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import time

import pytest

STAMP = "/run/aifabric-preflight-stamp"


@pytest.fixture(scope="session")
def lab_fingerprint():
    if not os.environ.get("LAB_INVENTORY"):
        return None  # no lab: the corpus still runs; the host checks skip
    import labhosts  # pylint: disable=import-outside-toplevel
    names = labhosts.cluster_hosts()
    for name in names:
        assert labhosts.host(name).run("touch %s" % STAMP).rc == 0
    time.sleep(1.1)  # file times have a resolution; nothing may share the stamp's second
    return {"hosts": names, "stamp": STAMP, "labhosts": labhosts}
