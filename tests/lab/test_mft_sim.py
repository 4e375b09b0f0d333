"""Tests of the lab's simulated NVIDIA MFT mlxfwmanager (package mft), run on the controller
with AIFABRIC_SIM_ROOT: the --query layout line by line (modelled on real captures, see
lab/simulators/README.md, section "mft (mlxfwmanager)"), an update with -u -i -y,
a PSID mismatch, an injected burn failure, state that persists (and a reboot that makes the
adapter run the flashed firmware), and the usage error for unknown options.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PKG = REPO / "lab/sim-packages/mft"
TOOL = PKG / "usr/bin/mlxfwmanager"
PSID = "MT_0000000838"


class Mft:
    def __init__(self, root, mac="10:70:fd:27:25:0b"):
        self.root = root
        (root / "etc/aifabric-lab").mkdir(parents=True, exist_ok=True)
        if mac:
            (root / "etc/aifabric-lab/rdma_mac").write_text(mac + "\n")
        self.env = dict(os.environ, AIFABRIC_SIM_ROOT=str(root), AIFABRIC_SIM_BOOT_ID="boot-1")

    def run(self, *args, stdin="", **env):
        return subprocess.run([str(TOOL), *args], capture_output=True, text=True, input=stdin, timeout=30,
                              env=dict(self.env, **env), check=False)

    def image(self, version="28.43.1014", psid=PSID, name="fw.json", **extra):
        path = self.root / name
        path.write_text(json.dumps(dict({"aifabric_firmware": 1, "component_id": "nic", "psid": psid,
                                         "version": version}, **extra)))
        return str(path)

    @property
    def state(self):
        return json.loads((self.root / "var/lib/aifabric-sim/mft/state.json").read_text())


@pytest.fixture(name="mft")
def mft_fixture(tmp_path):
    return Mft(tmp_path)


def block(current, available="N/A", status="No matching image found", mac="1070fd27250b"):
    return ["Querying Mellanox devices firmware ...", "", "Device #1:", "----------", "",
            "  Device Type:      ConnectX7",
            "  Part Number:      MCX75310AAS-NEAT_Ax",
            "  Description:      NVIDIA ConnectX-7 HHHL Adapter Card; 400GbE / NDR IB (default mode); "
            "Single-port OSFP; PCIe 5.0 x16; Crypto Disabled; Secure Boot Enabled",
            "  PSID:             MT_0000000838",
            "  PCI Device Name:  0000:17:00.0",
            "  Base MAC:         %s" % mac,
            "  Versions:         Current        Available",
            "     FW             %-15s%s" % (current, available),
            "     PXE            3.7.0300       N/A",
            "     UEFI           14.32.0012     N/A",
            "",
            "  Status:           %s" % status]


def test_package():
    fields = dict(line.split(": ", 1) for line in (PKG / "DEBIAN/control").read_text().splitlines()
                  if line and not line.startswith(" "))
    assert fields["Package"] == "mft" and fields["Version"].startswith("4.30.1-1113")
    assert "python3" in fields["Depends"] and "test double" in fields["Description"]
    assert TOOL.read_text().startswith("#!/bin/sh\n") and os.access(TOOL, os.X_OK)


def test_query_layout_line_by_line(mft):
    r = mft.run("--query")
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout.splitlines() == block("28.39.1002")
    assert mft.run().stdout == r.stdout  # no option: a query
    assert mft.run("--query", "-d", "0000:17:00.0").stdout == r.stdout
    assert mft.run("--query", "--dev=/dev/mst/mt4129_pciconf0").stdout == r.stdout
    # with an image: Available and the status
    lines = mft.run("--query", "-i", mft.image()).stdout.splitlines()
    assert lines == block("28.39.1002", "28.43.1014", "Update required")
    lines = mft.run("--query", "-i", mft.image("28.39.1002")).stdout.splitlines()
    assert lines == block("28.39.1002", "28.39.1002", "Up to date")
    # no rdma_mac file: a fixed default MAC
    other = Mft(mft.root / "other", mac=None)
    assert other.run("--query").stdout.splitlines() == block("28.39.1002", mac="946dae5c0a10")


def test_update_and_persistence(mft):
    r = mft.run("-u", "-i", mft.image(), "-y")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[:17] == block("28.39.1002", "28.43.1014", "Update required")
    assert lines[17:] == ["", "---------", "Found 1 device(s) requiring firmware update...", "",
                          "Device #1: Updating FW ...", "FSMST_INITIALIZE -   OK",
                          "Writing Boot image component -   OK", "Done", "",
                          "Restart needed for updates to take effect."]
    # the flash holds the new image: --query reads it; the adapter runs the old one until a reboot
    assert mft.run("--query").stdout.splitlines() == block("28.43.1014")
    state = mft.state
    assert state["flashed"]["fw"] == "28.43.1014" and state["running"]["fw"] == "28.39.1002"
    assert state["burns"][-1]["ok"] is True and state["burns"][-1]["previous"] == "28.39.1002"
    mft.run("--query", AIFABRIC_SIM_BOOT_ID="boot-2")
    assert mft.state["running"]["fw"] == "28.43.1014"
    # up to date: nothing burned
    r = mft.run("--update", "--image-file", mft.image(), "--yes")
    assert r.returncode == 0 and "Updating FW" not in r.stdout and "Status:           Up to date" in r.stdout
    assert len(mft.state["burns"]) == 1
    # without -y it asks; no answer is no
    r = mft.run("-u", "-i", mft.image("28.45.1020"), stdin="\n")
    assert r.returncode == 0 and "Perform FW update? [y/N]: No updates performed" in r.stdout
    assert mft.state["flashed"]["fw"] == "28.43.1014"
    r = mft.run("-u", "-i", mft.image("28.45.1020"), stdin="y\n")
    assert r.returncode == 0 and mft.state["flashed"]["fw"] == "28.45.1020"
    # -i without -u only queries
    r = mft.run("-i", mft.image("28.46.1000"))
    assert r.returncode == 0 and "Update required" in r.stdout and mft.state["flashed"]["fw"] == "28.45.1020"


def test_psid_mismatch(mft):
    r = mft.run("-u", "-i", mft.image(psid="MT_0000000223"), "-y")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[:17] == block("28.39.1002")
    assert lines[17:] == ["", "Device #1: Error - no matching image found"]
    assert r.stderr == "-E- One or more errors were encountered.\n"
    assert mft.state["flashed"]["fw"] == "28.39.1002"


def test_injected_failure(mft):
    fail = mft.root / "etc/aifabric-lab/mft-fail"
    fail.write_text("Burning FW image without signatures - FAILED: flash write error\n")
    r = mft.run("-u", "-i", mft.image(), "-y")
    assert r.returncode == 1
    assert r.stdout.splitlines()[-2:] == ["Device #1: Updating FW ...",
                                          "Fail : Burning FW image without signatures - FAILED: flash write error "]
    assert not fail.exists() and mft.state["flashed"]["fw"] == "28.39.1002"
    assert mft.state["burns"][-1]["ok"] is False
    # one-shot: the next burn works
    assert mft.run("-u", "-i", mft.image(), "-y").returncode == 0 and mft.state["flashed"]["fw"] == "28.43.1014"


def test_bad_options_and_images(mft):
    r = mft.run("--bogus")
    assert r.returncode == 1 and r.stderr == "mlxfwmanager: unrecognized option '--bogus'\n"
    assert "SYNOPSIS:" in r.stdout and "Querying" not in r.stdout
    r = mft.run("-Z")
    assert r.returncode == 1 and r.stderr == "mlxfwmanager: invalid option -- 'Z'\n"
    r = mft.run("-i")
    assert r.returncode == 1 and "requires an argument" in r.stderr
    r = mft.run("-u", "-i", str(mft.root / "absent.bin"), "-y")
    assert r.returncode == 1 and r.stderr == "-E- Can't find file %s\n" % (mft.root / "absent.bin")
    junk = mft.root / "junk.bin"
    junk.write_text("not a package")
    r = mft.run("-u", "-i", str(junk), "-y")
    assert r.returncode == 1 and r.stderr == "-E- Error parsing file: %s\n" % junk
    r = mft.run("--query", "-d", "0000:99:00.0")
    assert r.returncode == 1 and r.stderr.startswith("-E- Failed to open device: 0000:99:00.0")
    r = mft.run("--help")
    assert r.returncode == 0 and "Mellanox Firmware Manager" in r.stdout
    r = mft.run("--version")
    assert r.returncode == 0 and r.stdout.startswith("mlxfwmanager, mft 4.30.1-1113")
    assert not (mft.root / "var/lib/aifabric-sim/mft/state.json").exists()
