"""Tests of the lab's simulated CUDA toolkits (cuda-toolkit-12-8, cuda-toolkit-13-0), run on the controller.

The packages are test doubles: their nvcc answers --version like the real compiler
driver, version.json has the real shape, and their maintainer scripts register
/usr/local/cuda-X.Y with update-alternatives as NVIDIA's packages do.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

from simpkg import SIM_PACKAGES, build, control

SIM = SIM_PACKAGES

# package, CUDA release, toolkit version, nvcc version, alternatives priority
TOOLKITS = [
    ("cuda-toolkit-12-8", "12.8", "12.8.1", "12.8.93", 128),
    ("cuda-toolkit-13-0", "13.0", "13.0.2", "13.0.88", 130),
]
BUILT_ON = re.compile(r"^Built on [A-Z][a-z]{2}_[A-Z][a-z]{2}_{1,2}\d{1,2}_\d\d:\d\d:\d\d_(?:[AP]M_)?P[SD]T_20\d\d$")


@pytest.fixture(params=TOOLKITS, ids=[t[0] for t in TOOLKITS])
def toolkit(request):
    pkg, release, version, nvcc, prio = request.param
    return {"pkg": pkg, "dir": SIM / pkg, "release": release, "version": version, "nvcc_version": nvcc,
            "prio": prio, "prefix": "/usr/local/cuda-" + release, "major": release.split(".")[0]}


def tree(t, path):
    return t["dir"] / t["prefix"].lstrip("/") / path


def nvcc(t, *args):
    return subprocess.run([str(tree(t, "bin/nvcc")), *args], capture_output=True, text=True, timeout=30, check=False)


def test_control(toolkit):
    # generic package rules: test_sim_packages.py
    text, fields = control(toolkit["pkg"])
    assert fields["Version"] == toolkit["version"] + "-0aifabric1"
    assert "test double" in fields["Description"] and "never reach a production host" in text


def test_executables_are_sh_scripts(toolkit):
    for path in (toolkit["dir"] / "DEBIAN/postinst", toolkit["dir"] / "DEBIAN/prerm", tree(toolkit, "bin/nvcc")):
        assert os.access(path, os.X_OK) and not path.is_symlink(), path
        assert path.read_text().startswith("#!/bin/sh\n"), path
        r = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
        assert r.returncode == 0, (path, r.stderr)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_nvcc_version_format(toolkit, flag):
    r = nvcc(toolkit, flag)
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert r.stdout.endswith("\n") and len(lines) == 5
    assert lines[0] == "nvcc: NVIDIA (R) Cuda compiler driver"
    assert re.match(r"^Copyright \(c\) 2005-20\d\d NVIDIA Corporation$", lines[1])
    assert BUILT_ON.match(lines[2]), lines[2]
    assert lines[3] == "Cuda compilation tools, release %s, V%s" % (toolkit["release"], toolkit["nvcc_version"])
    assert re.match(r"^Build cuda_%s\.r%s/compiler\.\d+_0$" % ((re.escape(toolkit["release"]),) * 2), lines[4])
    # what scripts parse out of it (e.g. PyTorch's cpp_extension: "release X.Y, V")
    assert re.search(r"release (\d+)\.(\d+), V", r.stdout).groups() == tuple(toolkit["release"].split("."))
    assert nvcc(toolkit, "-c", "x.cu", flag).stdout == r.stdout


def test_nvcc_errors(toolkit):
    r = nvcc(toolkit)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "nvcc fatal   : No input files specified; use option --help for more information\n"
    r = nvcc(toolkit, "--bogus")
    assert (r.returncode, r.stderr) == (1, "nvcc fatal   : Unknown option '--bogus'\n")
    r = nvcc(toolkit, "kernel.cu")
    assert r.returncode == 1 and "test double" in r.stderr


def test_version_json_and_lib_marker(toolkit):
    data = json.loads(tree(toolkit, "version.json").read_text())
    assert data["cuda"] == {"name": "CUDA SDK", "version": toolkit["version"]}
    assert data["cuda_nvcc"] == {"name": "CUDA NVCC", "version": toolkit["nvcc_version"]}
    marker = tree(toolkit, "lib64/libcudart.so." + toolkit["major"])
    assert marker.is_file() and marker.stat().st_size == 0


def run_maintainer_script(t, tmp_path, script, *args):
    """Run DEBIAN/<script> with a stand-in update-alternatives that records its arguments."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    log = tmp_path / "calls"
    fake = bindir / "update-alternatives"
    fake.write_text('#!/bin/sh\necho "$*" >> "%s"\n' % log)
    fake.chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]))
    r = subprocess.run(["sh", str(t["dir"] / "DEBIAN" / script), *args], capture_output=True, text=True,
                       env=env, timeout=30, check=False)
    assert r.returncode == 0, r
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def test_postinst_registers_alternatives(toolkit, tmp_path):
    prefix, major, prio = toolkit["prefix"], toolkit["major"], toolkit["prio"]
    assert run_maintainer_script(toolkit, tmp_path, "postinst", "configure", "") == [
        "--install /usr/local/cuda cuda %s %d" % (prefix, prio),
        "--install /usr/local/cuda-%s cuda-%s %s %d" % (major, major, prefix, prio),
    ]
    assert run_maintainer_script(toolkit, tmp_path, "postinst", "abort-upgrade", "1") == []


def test_prerm_removes_alternatives_on_remove_only(toolkit, tmp_path):
    prefix, major = toolkit["prefix"], toolkit["major"]
    expected = ["--remove cuda %s" % prefix, "--remove cuda-%s %s" % (major, prefix)]
    assert run_maintainer_script(toolkit, tmp_path, "prerm", "remove") == expected
    assert run_maintainer_script(toolkit, tmp_path, "prerm", "deconfigure", "in-favour", "x", "1") == expected
    # an upgrade keeps the registration (and an administrator's selection)
    assert run_maintainer_script(toolkit, tmp_path, "prerm", "upgrade", "1") == []


def test_newest_toolkit_has_the_highest_priority():
    prios = [t[4] for t in sorted(TOOLKITS, key=lambda t: tuple(int(p) for p in t[1].split(".")))]
    assert prios == sorted(set(prios))


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_package_builds(toolkit, tmp_path):
    out, listing = build(toolkit["pkg"], tmp_path)
    prefix = "." + toolkit["prefix"]
    for path in ("/bin/nvcc", "/version.json", "/lib64/libcudart.so." + toolkit["major"]):
        assert prefix + path in listing, path
    assert re.search(r"^-rwxr-xr-x root/root .* %s/bin/nvcc$" % re.escape(prefix), listing, re.MULTILINE)
    info = subprocess.run(["dpkg-deb", "-f", str(out), "Package", "Version"], check=True, capture_output=True,
                          text=True).stdout
    assert info == "Package: %s\nVersion: %s-0aifabric1\n" % (toolkit["pkg"], toolkit["version"])
