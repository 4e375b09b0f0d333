"""What every lab simulator package must be: a buildable .deb that says it is a test
double, with `#!/bin/sh` executables (ansible-test's shebang rules; Debian 12 has no
`python`) and its Python simulator sources as non-executable, compilable files."""
import os
import re

import pytest

from simpkg import MAINTAINER, SIM_PACKAGES, build, control, packages


def test_there_are_packages():
    assert "aifabric-sim-common" in packages() and len(packages()) > 1


@pytest.mark.parametrize("pkg", packages())
def test_control(pkg):
    text, fields = control(pkg)
    assert fields["Package"] == pkg, "the directory name is the package name"
    # kubectl carries the real upstream binary (linux/amd64), every other package a Python double
    assert fields["Architecture"] == ("amd64" if pkg == "kubectl" else "all")
    assert fields["Maintainer"] == MAINTAINER
    assert re.match(r"^(\d+:)?\d[\w.+~-]*$", fields["Version"])
    assert pkg == "aifabric-sim-common" or re.search(r"-\d*aifabric\d+$", fields["Version"]), \
        "a double of a real package carries the real version plus an -0aifabricN revision"
    assert "Test-side" in text or "test double" in text


@pytest.mark.parametrize("pkg", packages())
def test_executables_are_sh_wrappers_and_sources_compile(pkg):
    root = SIM_PACKAGES / pkg
    for d in ("usr/bin", "usr/sbin"):
        for tool in sorted((root / d).glob("*")) if (root / d).is_dir() else []:
            assert os.access(tool, os.X_OK) and not tool.is_symlink(), tool
            assert tool.read_text().startswith("#!/bin/sh\n"), tool
    for source in sorted(root.rglob("*.py")):
        assert not os.access(source, os.X_OK), source
        compile(source.read_text(), str(source), "exec")  # in memory: no __pycache__ in the tree


@pytest.mark.parametrize("pkg", packages())
def test_builds_with_every_file(pkg, tmp_path):
    deb, listing = build(pkg, tmp_path)
    root = SIM_PACKAGES / pkg
    for f in root.rglob("*"):
        rel = f.relative_to(root)
        if f.is_file() and rel.parts[0] != "DEBIAN":
            assert "./%s" % rel in listing, rel
    for line in listing.splitlines():
        assert " root/root " in line, line
    assert deb.stat().st_size > 0
