"""aifabric lab test double of NVIDIA MFT's mlxfwmanager (MFT 4.30.1-1113).

Test-side only: it is not NVIDIA's tool and must never reach a production host. It
simulates one ConnectX-7 adapter of this lab host (PSID MT_0000000838, PCI 0000:17:00.0,
Base MAC from /etc/aifabric-lab/rdma_mac) and reproduces the real tool's --query layout,
its update flow (-u -i IMAGE [-y]) and its errors. An image is an aifabric firmware
package, a JSON document:

    {"aifabric_firmware": 1, "component_id": "nic", "psid": "MT_0000000838", "version": "28.43.1014"}

State: /var/lib/aifabric-sim/mft/state.json, with "flashed" (what the flash holds; what
--query shows as Current, since mlxfwmanager reads the flash) and "running" (what the
adapter runs: the flashed version after the next reboot, i.e. a new boot_id). A message
in /etc/aifabric-lab/mft-fail makes the next burn fail with it (the file is removed).
AIFABRIC_SIM_ROOT prefixes every path (controller tests). See
lab/simulators/README.md, section "mft (mlxfwmanager)".
"""
import json
import os
import sys
import time

MFT_VERSION = "4.30.1-1113"
ROOT = os.environ.get("AIFABRIC_SIM_ROOT", "")
LAB_ETC = ROOT + "/etc/aifabric-lab"
STATE_DIR = ROOT + "/var/lib/aifabric-sim/mft"
STATE_FILE = STATE_DIR + "/state.json"
FAIL_FILE = LAB_ETC + "/mft-fail"
BOOT_ID = "/proc/sys/kernel/random/boot_id"

DEVICE = {"type": "ConnectX7", "part": "MCX75310AAS-NEAT_Ax",
          "desc": "NVIDIA ConnectX-7 HHHL Adapter Card; 400GbE / NDR IB (default mode); Single-port OSFP; "
                  "PCIe 5.0 x16; Crypto Disabled; Secure Boot Enabled",
          "psid": "MT_0000000838", "pci": "0000:17:00.0", "mst": "/dev/mst/mt4129_pciconf0", "ibdev": "mlx5_0"}
DEFAULT_MAC = "946dae5c0a10"
INITIAL = {"fw": "28.39.1002", "pxe": "3.7.0300", "uefi": "14.32.0012"}

USAGE = """    NAME:
        mlxfwmanager
    SYNOPSIS:
        mlxfwmanager [-d|--dev DeviceName] [-h|--help] [-v|--version] [--query] [--query-format Format]
                     [-u|--update] [-i|--image-file FileName] [-f|--force]
                     [-y|--yes] [--no] [--log] [-L|--log-file LogFileName] [--no-progress]
    DESCRIPTION:
        Mellanox Firmware Manager
"""


def read(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return default


def out(text=""):
    sys.stdout.write(text + "\n")


def err(text):
    sys.stdout.flush()
    sys.stderr.write(text + "\n")


def boot_id():
    return os.environ.get("AIFABRIC_SIM_BOOT_ID") or (read(BOOT_ID) or "").strip()


def load_state():
    try:
        state = json.loads(read(STATE_FILE, "null"))
    except ValueError:
        state = None
    if not isinstance(state, dict):
        state = {"flashed": dict(INITIAL), "running": dict(INITIAL), "boot_id": boot_id(), "burns": []}
    if state.get("boot_id") != boot_id():  # rebooted since: the adapter runs what is on the flash
        state["running"] = dict(state["flashed"])
        state["boot_id"] = boot_id()
    return state


def save_state(state):
    os.makedirs(STATE_DIR, exist_ok=True)
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, STATE_FILE)


def base_mac():
    mac = (read(LAB_ETC + "/rdma_mac") or "").strip().lower().replace(":", "")
    return mac if len(mac) == 12 else DEFAULT_MAC


def parse(argv):
    """(options, error): getopt_long-like, as the real tool's parser."""
    opts = {"query": False, "update": False, "image": None, "dev": None, "yes": None, "force": False}
    flags = {"--query": "query", "-u": "update", "--update": "update", "-f": "force", "--force": "force",
             "--log": None, "--no-progress": None}
    values = {"-i": "image", "--image-file": "image", "-d": "dev", "--dev": "dev", "-L": None, "--log-file": None,
              "--query-format": "format"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in ("-h", "--help"):
            return {"help": True}, None
        if name in ("-v", "--version"):
            return {"version": True}, None
        if name in ("-y", "--yes"):
            opts["yes"] = True
        elif name == "--no":
            opts["yes"] = False
        elif name in flags and not eq:
            if flags[name]:
                opts[flags[name]] = True
        elif name in values:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                return None, "mlxfwmanager: option '%s' requires an argument" % name
            if values[name]:
                opts[values[name]] = value
        elif arg.startswith("--"):
            return None, "mlxfwmanager: unrecognized option '%s'" % arg
        elif arg.startswith("-") and len(arg) > 1:
            return None, "mlxfwmanager: invalid option -- '%s'" % arg[1]
        else:
            return None, "mlxfwmanager: extra argument '%s'" % arg
        i += 1
    if opts.get("format") not in (None, "text", "Text", "TEXT"):
        return None, "-E- Unsupported query format: %s (this simulator prints Text only)" % opts["format"]
    return opts, None


def load_image(path):
    """(package, error line)."""
    text = read(path)
    if text is None:
        return None, "-E- Can't find file %s" % path
    try:
        pkg = json.loads(text)
    except ValueError:
        pkg = None
    if not isinstance(pkg, dict) or pkg.get("aifabric_firmware") != 1 or pkg.get("component_id") != "nic" \
            or not isinstance(pkg.get("version"), str) or not isinstance(pkg.get("psid"), str):
        return None, "-E- Error parsing file: %s" % path
    return pkg, None


def query_block(state, available=None, status=None):
    flashed = state["flashed"]
    fw_avail = available or "N/A"
    if status is None:
        if available is None:
            status = "No matching image found"
        elif available == flashed["fw"]:
            status = "Up to date"
        else:
            status = "Update required"
    lines = ["", "Device #1:", "----------", "",
             "  Device Type:      %s" % DEVICE["type"],
             "  Part Number:      %s" % DEVICE["part"],
             "  Description:      %s" % DEVICE["desc"],
             "  PSID:             %s" % DEVICE["psid"],
             "  PCI Device Name:  %s" % DEVICE["pci"],
             "  Base MAC:         %s" % base_mac(),
             "  Versions:         Current        Available",
             "     FW             %-15s%s" % (flashed["fw"], fw_avail),
             "     PXE            %-15s%s" % (flashed["pxe"], "N/A"),
             "     UEFI           %-15s%s" % (flashed["uefi"], "N/A"),
             "",
             "  Status:           %s" % status]
    return lines, status


def device_matches(dev):
    if dev is None:
        return True
    short = DEVICE["pci"].split(":", 1)[1]
    return dev in (DEVICE["pci"], short, DEVICE["mst"], DEVICE["ibdev"], "mt4129_pciconf0")


def prompt(question, yes):
    if yes is not None:
        return yes
    sys.stdout.write(question)
    sys.stdout.flush()
    answer = sys.stdin.readline().strip()
    return answer[:1] in ("y", "Y")


def main(argv):
    opts, error = parse(argv)
    if error:
        err(error)
        sys.stdout.write(USAGE)
        return 1
    if opts.get("help"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("version"):
        out("mlxfwmanager, mft %s, built on Jan 07 2025, 10:11:12. Git SHA Hash: N/A" % MFT_VERSION)
        return 0
    if not device_matches(opts["dev"]):
        err("-E- Failed to open device: %s, No such file or directory" % opts["dev"])
        return 1
    pkg = None
    if opts["image"] is not None:
        pkg, error = load_image(opts["image"])
        if error:
            err(error)
            return 1
    state = load_state()
    psid_ok = pkg is not None and pkg["psid"] == DEVICE["psid"]
    available = pkg["version"] if psid_ok else None
    out("Querying Mellanox devices firmware ...")
    lines, status = query_block(state, available)
    for line in lines:
        out(line)
    save_state(state)
    if not opts["update"] or opts["query"]:  # without -u (or with --query) it only queries
        return 0
    out()
    if not psid_ok:  # no image given (-u alone looks in a default image dir: none here), or another PSID
        out("Device #1: Error - no matching image found")
        err("-E- One or more errors were encountered.")
        return 1
    if status == "Up to date" and not opts["force"]:
        return 0
    out("---------")
    out("Found 1 device(s) requiring firmware update...")
    out()
    if not prompt("Perform FW update? [y/N]: ", opts["yes"]):
        out("No updates performed")
        return 0
    out("Device #1: Updating FW ...")
    failure = read(FAIL_FILE)
    if failure is not None:
        os.unlink(FAIL_FILE)
        message = failure.strip() or "Burning FW image failed"
        out("Fail : %s " % message)
        state["burns"].append({"time": round(time.time(), 3), "version": pkg["version"], "ok": False,
                               "message": message})
        save_state(state)
        return 1
    out("FSMST_INITIALIZE -   OK")
    out("Writing Boot image component -   OK")
    out("Done")
    previous = state["flashed"]["fw"]
    state["flashed"]["fw"] = pkg["version"]
    state["burns"].append({"time": round(time.time(), 3), "version": pkg["version"], "previous": previous,
                           "ok": True, "image": os.path.abspath(opts["image"])})
    del state["burns"][:-50]
    save_state(state)
    out()
    out("Restart needed for updates to take effect.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
