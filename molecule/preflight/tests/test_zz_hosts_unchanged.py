# Copyright: (c) 2026, aifabric.cluster contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs after the corpus (file order): no bad inventory changed anything on any host."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

# what any phase would touch: configuration, packages, users' files, services' state.
# (Not the journal: the check's own SSH logins are logged there.)
WATCHED = "/etc /usr /opt /home /root /var/lib/dpkg /var/lib/apt /var/lib/chrony"


def test_no_host_changed(lab_fingerprint):
    if lab_fingerprint is None:
        pytest.skip("no lab: run through `molecule verify -s preflight`")
    lab = lab_fingerprint["labhosts"]
    changed = {}
    for name in lab_fingerprint["hosts"]:
        h = lab.host(name)
        assert h.file(lab_fingerprint["stamp"]).exists, "%s lost its stamp" % name
        out = h.run("find %s -xdev -newer %s -print 2>/dev/null" % (WATCHED, lab_fingerprint["stamp"]))
        files = [line for line in out.stdout.splitlines() if line.strip()]
        if files:
            changed[name] = files[:20]
    assert not changed, "hosts changed by a bad inventory: %s" % changed


def test_hosts_were_never_configured(lab_fingerprint):
    if lab_fingerprint is None:
        pytest.skip("no lab: run through `molecule verify -s preflight`")
    # the corpus runs site.yml: had preflight let one through, base would have written these
    lab = lab_fingerprint["labhosts"]
    for name in lab_fingerprint["hosts"]:
        h = lab.host(name)
        assert not h.file("/etc/sysctl.d/90-aifabric.conf").exists, name
        assert not h.file("/etc/apt/sources.list.d/aifabric-lab.sources").exists, name
        assert not h.package("chrony").is_installed, name
