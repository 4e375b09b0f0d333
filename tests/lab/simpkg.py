"""Shared helpers for the tests of the lab's simulator packages (test side).

Every directory under lab/sim-packages/ is a dpkg-deb tree that
lab/repo/build-repo.sh builds into the lab's apt repository.
"""
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SIM_PACKAGES = REPO / "lab/sim-packages"
PROFILES = SIM_PACKAGES / "aifabric-sim-common/usr/share/aifabric-lab/profiles"
MAINTAINER = "aifabric.cluster lab <lab@aifabric.invalid>"


def packages():
    return sorted(p.name for p in SIM_PACKAGES.iterdir() if (p / "DEBIAN/control").is_file())


def control(pkg):
    """(text, fields) of a package's DEBIAN/control; continuation lines are not fields."""
    text = (SIM_PACKAGES / pkg / "DEBIAN/control").read_text()
    return text, dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith(" "))


def build(pkg, tmp_path):
    """Build the package as build-repo.sh does; return (path of the .deb, `dpkg-deb -c` listing)."""
    staging = tmp_path / ("staging-" + pkg)
    shutil.copytree(SIM_PACKAGES / pkg, staging, symlinks=True)
    out = tmp_path / (pkg + ".deb")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(staging), str(out)],
                   check=True, capture_output=True)
    listing = subprocess.run(["dpkg-deb", "-c", str(out)], check=True, capture_output=True, text=True).stdout
    return out, listing
