"""aifabric lab TEST DOUBLE of NVIDIA DCGM 4 (nv-hostengine and dcgmi, DCGM 4.4.1).

Test-side only: shipped in the lab's datacenter-gpu-manager-4-cuda13 simulator package,
never in production. NVML is the lab's simulated nvidia-smi (package nvidia-utils-580):
the GPUs, persistence mode and injected faults are read from `nvidia-smi -q -x`.

- `nv-hostengine -n [--service-account USER] [--pid FILE]`: runs in the foreground,
  writes its pid file (default /run/nvhostengine.pid) and removes it on SIGTERM; like the
  real daemon it refuses to start when NVML fails (`nvidia-smi -L` non-zero).
- `dcgmi discovery -l` and `dcgmi diag -r 1|2|3|4 [-j]`: the real output formats
  (dcgmi/Diag.cpp, nvvs/include/NvvsJsonStrings.h of NVIDIA/DCGM), the real connection
  error when no host engine runs, and a non-zero exit status when a test fails.

AIFABRIC_SIM_ROOT (controller tests) prefixes the pid file and replaces `systemctl
is-active UNIT` by the flag file $AIFABRIC_SIM_ROOT/run/aifabric-sim/units/UNIT.active.
"""
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from sim_common import ROOT, hw_profile  # package aifabric-sim-common

VERSION = "4.4.1"
PID_FILE = ROOT + "/run/nvhostengine.pid"
UNIT_FLAGS = ROOT + "/run/aifabric-sim/units"

# dcgmReturn_t values (dcgm_structs.h); dcgmi exits with the value as an exit status
ST_BADPARAM, ST_CONNECTION_NOT_VALID, ST_NVVS_ERROR = -1, -21, -30

CONNECT_ERROR = ("Error: unable to establish a connection to the specified host: localhost\n"
                 "Error: Unable to connect to host engine. Host engine connection invalid/disconnected.\n")

DIAG_LINE = "+---------------------------+------------------------------------------------+\n"
DIAG_HEADER = (DIAG_LINE + "| Diagnostic                | Result                                         |\n"
               "+===========================+================================================+\n")
DIAG_INFO = "|-----  Metadata  ----------+------------------------------------------------|\n"
DIAG_DEPLOYMENT = "|-----  Deployment  --------+------------------------------------------------|\n"
DIAG_INTEGRATION = "+-----  Integration  -------+------------------------------------------------+\n"
DIAG_HARDWARE = "+-----  Hardware  ----------+------------------------------------------------+\n"
DIAG_STRESS = "+-----  Stress  ------------+------------------------------------------------+\n"

# level-1 ("software") checks in display order (Diag.cpp levelOneTests; the CUDA Toolkit
# Library check is not run by default)
LEVEL_ONE = ["Denylist", "NVML Library", "CUDA Main Library", "Permissions and OS Blocks", "Persistence Mode",
             "Environment Variables", "Page Retirement/Row Remap", "Graphics Processes", "Inforom"]
# plugins added by the higher levels: (category, display name)
LEVEL_PLUGINS = {
    2: [("Integration", "PCIe"), ("Hardware", "GPU Memory")],
    3: [("Hardware", "Diagnostic"), ("Stress", "Targeted Stress"), ("Stress", "Targeted Power"),
        ("Stress", "Memory Bandwidth")],
    4: [("Hardware", "Pulse Test"), ("Stress", "Memtest")],
}

USAGE_DCGMI = """
 Usage: dcgmi
    dcgmi subsystem
    dcgmi -v

Flags:
  -v  vv     Get DCGMI version information
 --usage     Display usage information and exit.
 -h --help   Displays usage information and exits.

 Subsystems:
  discovery  Discover GPUs on the system
  diag       System validation/diagnostic
"""


def unit_active(unit):
    if ROOT:
        return os.path.exists(os.path.join(UNIT_FLAGS, unit + ".active"))
    r = subprocess.run(["systemctl", "is-active", "--quiet", unit], check=False)
    return r.returncode == 0


def nvswitch_profile():
    try:
        return int((hw_profile() or {}).get("nvswitch", 0)) > 0
    except (TypeError, ValueError):
        return False


def nvml():
    """Read the GPUs through the simulated NVML; returns (gpus, lost_messages, error)."""
    try:
        r = subprocess.run(["nvidia-smi", "-q", "-x"], capture_output=True, text=True, check=False)
    except OSError as e:
        return [], [], "libnvidia-ml.so.1: %s" % e.strerror
    if not r.stdout.strip():
        return [], [], (r.stdout + r.stderr).strip() or "nvidia-smi exited %d" % r.returncode
    root = ET.fromstring(r.stdout.split("\n", 2)[2])
    gpus = []
    for idx, g in enumerate(root.findall("gpu")):
        gpus.append({
            "index": int(g.findtext("minor_number", str(idx))),
            "name": g.findtext("product_name"), "uuid": g.findtext("uuid"), "serial": g.findtext("serial"),
            "bus_id": g.findtext("pci/pci_bus_id"), "device_id": (g.findtext("pci/pci_device_id") or "")[:4].lower(),
            "persistence": g.findtext("persistence_mode"),
            "dbe": int(g.findtext("ecc_errors/volatile/dram_uncorrectable", "0") or 0)
            if (g.findtext("ecc_errors/volatile/dram_uncorrectable") or "").isdigit() else 0,
            "remap_unc": int(g.findtext("remapped_rows/remapped_row_unc") or 0)
            if (g.findtext("remapped_rows/remapped_row_unc") or "").isdigit() else 0,
            "remap_pending": g.findtext("remapped_rows/remapped_row_pending") == "Yes",
            "remap_failure": g.findtext("remapped_rows/remapped_row_failure") == "Yes",
        })
    lost = [line for line in r.stderr.splitlines() if line.strip()]
    return gpus, lost, None


# ---------------------------------------------------------------- nv-hostengine

def host_engine_running():
    try:
        pid = int(open(PID_FILE, encoding="ascii").read().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def nv_hostengine(argv):
    foreground, pid_file, i = False, PID_FILE, 0
    while i < len(argv):
        a = argv[i]
        if a in ("-n", "--no-daemon"):
            foreground = True
        elif a in ("--service-account", "-p", "--port", "-b", "--bind-interface", "--log-level", "-f", "--log-filename"):
            i += 1
        elif a == "--pid":
            i += 1
            pid_file = ROOT + argv[i] if i < len(argv) else pid_file
        elif a in ("-v", "--version"):
            sys.stdout.write("version: %s\n" % VERSION)
            return 0
        else:
            sys.stderr.write("PARSE ERROR: Argument: %s\n             Couldn't find match for argument\n" % a)
            return 1
        i += 1
    if host_engine_running():
        sys.stderr.write("Host engine already running with pid %s\n" % open(PID_FILE, encoding="ascii").read().strip())
        return 1
    r = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        msg = (r.stderr.strip() or r.stdout.strip()).splitlines()
        sys.stderr.write("Err: Failed to start DCGM Server: NVML could not be initialized: %s\n" % (msg[0] if msg else r.returncode))
        return 1
    if not foreground:  # the lab only runs it under systemd with -n
        sys.stderr.write("aifabric lab: nv-hostengine is simulated in the foreground only (-n)\n")
        return 1

    def stop(signum, frame):  # pylint: disable=unused-argument
        try:
            os.unlink(pid_file)
        except OSError:
            pass
        sys.exit(0)

    # the handlers go in before the pid file appears: whoever sees the pid file may signal at once
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    os.makedirs(os.path.dirname(pid_file), exist_ok=True)
    with open(pid_file + ".new", "w", encoding="ascii") as f:
        f.write("%d\n" % os.getpid())
    os.replace(pid_file + ".new", pid_file)  # never a half-written pid file
    sys.stdout.write("Started host engine version %s using port number: 5555 \n" % VERSION)
    sys.stdout.flush()
    while True:
        time.sleep(3600)


# ---------------------------------------------------------------- dcgmi discovery -l

def discovery(gpus):
    o = ["%d GPU%s found." % (len(gpus), "" if len(gpus) == 1 else "s")]
    sep = "+--------+----------------------------------------------------------------------+"
    o += [sep, "| GPU ID | Device Information                                                   |", sep]
    for g in gpus:
        for k, (label, val) in enumerate((("Name", g["name"]), ("PCI Bus ID", g["bus_id"]), ("Device UUID", g["uuid"]))):
            o.append("| %-6s | %-68s |" % (g["index"] if k == 0 else "", "%s: %s" % (label, val)))
        o.append(sep)
    # without libnvidia-nscq DCGM sees no NVSwitch entities, as on a node without the NSCQ package
    o += ["0 NvSwitches found.", "+-----------+", "| Switch ID |", "+-----------+", "+-----------+"]
    o += ["0 CPUs found.", "+--------+----------------------------------------------------------------------+",
          "| CPU ID | Device Information                                                   |",
          "+--------+----------------------------------------------------------------------+",
          "+--------+----------------------------------------------------------------------+"]
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------- dcgmi diag

def level_one(gpus, lost):
    """Results of the software checks: {name: [(gpu index or None, error message), ...]} (empty = Pass)."""
    res = {name: [] for name in LEVEL_ONE}
    for line in lost:
        res["NVML Library"].append((None, "API call nvmlDeviceGetHandleByIndex_v2 failed: '%s'" % line))
    if nvswitch_profile() and not unit_active("nvidia-fabricmanager"):
        res["CUDA Main Library"].append((None, "Error using CUDA API cuInit: cuInit failed with error 802: system not yet "
                                               "initialized. Ensure Fabric Manager is running."))
    for g in gpus:
        if g["persistence"] != "Enabled":
            res["Persistence Mode"].append((g["index"], "Persistence mode for GPU %d is disabled. Enable persistence mode by "
                                                        "running \"nvidia-smi -i <gpuId> -pm 1 \" as root." % g["index"]))
        if g["remap_failure"]:
            res["Page Retirement/Row Remap"].append(
                (g["index"], "GPU %d had uncorrectable memory errors and row remapping failed." % g["index"]))
        elif g["remap_pending"]:
            res["Page Retirement/Row Remap"].append(
                (g["index"], "GPU %d had memory errors and row remappings are pending" % g["index"]))
        elif g["dbe"]:
            res["Page Retirement/Row Remap"].append(
                (g["index"], "GPU %d had uncorrectable memory errors and %d rows were remapped" % (g["index"], max(g["remap_unc"], g["dbe"]))))
    return res


def plugin_results(gpus, level, soft):
    """Higher-level plugins: skipped when a software check failed (as the real diag stops), else Pass."""
    failed = any(soft.values())
    out = []
    for lvl in range(2, level + 1):
        for cat, name in LEVEL_PLUGINS[lvl]:
            out.append((cat, name, "Skip" if failed else "Pass", gpus))
    return out


def wrap(text, width=46):
    words, lines, cur = text.split(), [], ""
    for w in words:
        while len(w) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(w[:width])
            w = w[width:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def row(name, info):
    return "| %-25s | %-46s |\n" % (name, info)


def diag_text(gpus, soft, plugins):
    o = ["Successfully ran diagnostic for group.\n", DIAG_HEADER, DIAG_INFO,
         row("DCGM Version", VERSION), row("Driver Version Detected", driver_version()),
         row("GPU Device IDs Detected", ",".join(g["device_id"] for g in gpus)), DIAG_DEPLOYMENT]
    for name in LEVEL_ONE:
        errs = soft[name]
        o.append(row(name, "Fail" if errs else "Pass"))
        for dummy, msg in errs:
            o.extend(row("", line) for line in wrap("Error: " + msg))
    for cat, header in (("Integration", DIAG_INTEGRATION), ("Hardware", DIAG_HARDWARE), ("Stress", DIAG_STRESS)):
        mine = [p for p in plugins if p[0] == cat]
        if not mine:
            continue
        o.append(header)
        for dummy, name, status, pgpus in mine:
            ids = ", ".join(str(g["index"]) for g in pgpus)
            o.append(row(name, "%s - All" % status))
            if status == "Skip":
                o.append(row("", "GPU%s: Skip" % ("s " + ids if len(pgpus) > 1 else " " + ids)))
    o.append(DIAG_LINE)
    return "".join(o)


def diag_json(gpus, soft, plugins):
    def entity(idx, status, msg=None):
        r = {"entity_group": "GPU", "entity_group_id": 1, "entity_id": idx, "status": status}
        if msg:
            r["warnings"] = [{"warning": msg}]
        return r

    deployment = []
    for name in LEVEL_ONE:
        errs = soft[name]
        results = []
        for g in gpus:
            mine = [m for i, m in errs if i == g["index"] or i is None]
            results.append(entity(g["index"], "Fail" if mine else "Pass", " ".join(mine) or None))
        if not gpus and errs:
            results.append({"status": "Fail", "warnings": [{"warning": m} for dummy, m in errs]})
        deployment.append({"name": name, "results": results, "test_summary": {"status": "Fail" if errs else "Pass"}})
    cats = [{"category": "Deployment", "tests": deployment}]
    for cat in ("Integration", "Hardware", "Stress"):
        tests = [{"name": name, "results": [entity(g["index"], status) for g in pgpus], "test_summary": {"status": status}}
                 for c, name, status, pgpus in plugins if c == cat]
        if tests:
            cats.append({"category": cat, "tests": tests})
    doc = {
        "DCGM Diagnostic": {"test_categories": cats},
        "entity_groups": [{"entity_group": "GPU", "entity_group_id": 1, "entities": [
            {"entity_id": g["index"], "device_id": g["device_id"], "serial_num": g["serial"]} for g in gpus]}],
        "metadata": {"DCGM Version": VERSION, "Driver Version Detected": driver_version(), "version": VERSION},
    }
    if any(soft.values()):
        doc["DCGM Diagnostic"]["Overall Result"] = "Fail"
    else:
        doc["DCGM Diagnostic"]["Overall Result"] = "Pass"
    return json.dumps(doc, indent=3) + "\n"


def driver_version():
    r = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                       capture_output=True, text=True, check=False)
    return (r.stdout.splitlines() or [""])[0].strip()


def exit_status(ret):
    return ret & 0xFF


def dcgmi(argv):
    if not argv or argv[0] in ("-h", "--help", "--usage"):
        sys.stdout.write(USAGE_DCGMI)
        return 0 if argv else exit_status(ST_BADPARAM)
    if argv[0] == "-v":
        sys.stdout.write("Version : %s\nBuild ID : 1\nBuild Date : 2025-10-01\nBuild Type : Release\n" % VERSION)
        return 0
    sub, args = argv[0], argv[1:]
    if sub == "discovery" and args in (["-l"], ["--list"]):
        action = "discovery"
    elif sub == "diag":
        action, level, as_json, i = "diag", None, False, 0
        while i < len(args):
            if args[i] in ("-r", "--run") and i + 1 < len(args):
                level = args[i + 1]
                i += 1
            elif args[i] in ("-j", "--json"):
                as_json = True
            else:
                sys.stderr.write("PARSE ERROR: Argument: %s\n             Couldn't find match for argument\n" % args[i])
                return exit_status(ST_BADPARAM)
            i += 1
        names = {"1": 1, "2": 2, "3": 3, "4": 4, "short": 1, "quick": 1, "medium": 2, "long": 3, "xlong": 4}
        if level not in names:
            sys.stderr.write("Error: Invalid value '%s' for run: expected 1, 2, 3 or 4.\n" % level)
            return exit_status(ST_BADPARAM)
    else:
        sys.stderr.write("PARSE ERROR: Invalid arguments for dcgmi %s\n" % sub)
        return exit_status(ST_BADPARAM)

    if not host_engine_running():
        sys.stdout.write(CONNECT_ERROR)
        return exit_status(ST_CONNECTION_NOT_VALID)
    gpus, lost, err = nvml()
    if action == "discovery":
        sys.stdout.write(discovery(gpus))
        return 0
    if err is not None:
        lost = [err]
    soft = level_one(gpus, lost)
    plugins = plugin_results(gpus, names[level], soft)
    sys.stdout.write(diag_json(gpus, soft, plugins) if as_json else diag_text(gpus, soft, plugins))
    return exit_status(ST_NVVS_ERROR) if any(soft.values()) else 0


def main():
    argv = sys.argv[1:]
    tool = argv.pop(0) if argv else ""
    sys.stdout.flush()
    if tool == "nv-hostengine":
        return nv_hostengine(argv)
    if tool == "dcgmi":
        return dcgmi(argv)
    sys.stderr.write("usage: dcgm.py nv-hostengine|dcgmi ARGS\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
