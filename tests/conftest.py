# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.aifabric.cluster`` importable for a plain ``pytest tests/unit tests/lab``.

ansible-test and an installed collection provide the package already; from a checkout,
expose this tree through a temporary ``ansible_collections/aifabric/cluster`` symlink.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import os
import shutil
import sys
import tempfile

# The playbooks these tests run talk to simulators through localhost (network_cli,
# httpapi, delegated Redfish calls), whose "remote" temporary directory defaults to
# ~/.ansible/tmp: under `make test` (ANSIBLE_HOME in .cache/) keep it there too.
if os.environ.get('ANSIBLE_HOME'):
    os.environ.setdefault('ANSIBLE_REMOTE_TMP', os.path.join(os.environ['ANSIBLE_HOME'], 'tmp'))

# The simulators these tests run from this tree (lab/sim-packages/<package>/usr/lib/aifabric-sim)
# import aifabric-sim-common's helpers, which an installed lab keeps beside them in /usr/lib/aifabric-sim.
_SIM_COMMON = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'lab', 'sim-packages', 'aifabric-sim-common',
                                           'usr', 'lib', 'aifabric-sim'))
os.environ['PYTHONPATH'] = os.pathsep.join([_SIM_COMMON] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])
sys.path.append(_SIM_COMMON)

try:
    import ansible_collections.aifabric.cluster.plugins  # noqa: F401 pylint: disable=unused-import
except ImportError:
    _ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
    _TREE = tempfile.mkdtemp(prefix='aifabric-collections-')
    # removes the symlink, never what it points to (rmtree does not follow links)
    atexit.register(shutil.rmtree, _TREE, True)
    os.makedirs(os.path.join(_TREE, 'ansible_collections', 'aifabric'))
    os.symlink(_ROOT, os.path.join(_TREE, 'ansible_collections', 'aifabric', 'cluster'))
    sys.path.insert(0, _TREE)
    for _name in [m for m in sys.modules if m == 'ansible_collections' or m.startswith('ansible_collections.')]:
        del sys.modules[_name]
