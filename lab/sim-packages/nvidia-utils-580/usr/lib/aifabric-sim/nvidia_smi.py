"""aifabric lab TEST DOUBLE of NVIDIA's nvidia-smi (driver 580.95.05, CUDA 13.0).

Test-side only: shipped in the lab's nvidia-utils-580 simulator package, never in
production. It prints what the real tool prints for the lab host's hardware profile
(/etc/aifabric-lab/hw_profile) and keeps mutable GPU state (persistence mode, injected
faults) in /var/lib/aifabric-sim/gpu/state.json.

Run by /usr/bin/nvidia-smi (the simulator) and by /usr/sbin/aifabric-sim-gpu (the
fault-injection control tool, first argument --aifabric-sim-gpu), both small sh
wrappers. Formats, and the real samples they were modelled on, are described in
lab/simulators/README.md.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from xml.sax.saxutils import escape

from sim_common import PROFILE_NAME_FILE, ROOT, JsonState, hw_profile  # package aifabric-sim-common

DRIVER = "580.95.05"
NVML_VERSION = "580.95"
CUDA = "13.0"
DTD = "nvsmi_device_v13.dtd"
DEPRECATED = "Requested functionality has been deprecated"

STATE_DIR = ROOT + "/var/lib/aifabric-sim/gpu"
STATE_FILE = STATE_DIR + "/state.json"
KMOD_FILE = STATE_DIR + "/kernel_module_version"
# installed by the simulated driver package (nvidia-driver-580-open): with it, the
# "kernel module" is loaded only at boot (KMOD_FILE, written by its boot unit)
DRIVER_MARKER = ROOT + "/usr/lib/aifabric-sim/nvidia-driver/version"

# nvidia-smi exit codes (nvidia-smi(1) RETURN VALUE; 18 = NVML_ERROR_LIB_RM_VERSION_MISMATCH)
RC_OK, RC_ARG, RC_NOT_SUPPORTED, RC_PERM, RC_NOT_FOUND, RC_NO_DRIVER = 0, 2, 3, 4, 6, 9
RC_MISMATCH, RC_UNKNOWN = 18, 255

# Per product: the values a real board of that SKU reports (see simulators/README.md).
MODELS = {
    "NVIDIA H100 80GB HBM3": {
        "arch": "Hopper", "device_id": "233010DE", "subsys": "16C110DE",
        "vbios": "96.00.89.00.01", "board_part": "692-2G520-0200-000", "gpu_part": "2330-885-A1",
        "inforom": ("G520.0200.00.05", "2.1", "7.16"), "pcie_gen": 5,
        "nvlinks": 18, "nvlink_speed": "26.562 GB/s",
        "power": (700, 200, 700), "idle_w": 69.0, "pstate": "P0",
        "clocks": (345, 345, 2619, 765), "max_clocks": (1980, 1980, 2619, 1545), "app_clocks": (1755, 2619),
        "temps": {"max": 92, "slow": 89, "max_gpu": 87, "max_mem": 95}, "tlimit_style": False,
        "bar1": 131072, "reserved": 551, "histogram_max": 2558, "mig": True, "fan": None,
        "bus": ["18", "2A", "3A", "5D", "9A", "AB", "BA", "DB"], "numa": [0, 0, 0, 0, 1, 1, 1, 1],
        "cpus": {0: "0-55,112-167", 1: "56-111,168-223"},
        "nic_rel": "PIX",
    },
    "NVIDIA A100-SXM4-80GB": {
        "arch": "Ampere", "device_id": "20B210DE", "subsys": "147F10DE",
        "vbios": "92.00.36.00.02", "board_part": "692-2G506-0212-002", "gpu_part": "20B2-895-A1",
        "inforom": ("G506.0212.00.01", "2.0", "6.16"), "pcie_gen": 4,
        "nvlinks": 12, "nvlink_speed": "25 GB/s",
        "power": (400, 100, 400), "idle_w": 61.0, "pstate": "P0",
        "clocks": (210, 210, 1593, 795), "max_clocks": (1410, 1410, 1593, 1290), "app_clocks": (1275, 1593),
        "temps": {"max": 92, "slow": 89, "max_gpu": 85, "max_mem": 95}, "tlimit_style": False,
        "bar1": 131072, "reserved": 869, "histogram_max": 640, "mig": True, "fan": None,
        "bus": ["07", "0F", "47", "4E", "87", "90", "B7", "BD"], "numa": [3, 3, 1, 1, 7, 7, 5, 5],
        "cpus": {3: "48-63,176-191", 1: "16-31,144-159", 7: "112-127,240-255", 5: "80-95,208-223"},
        "nic_rel": "PXB",
    },
    "NVIDIA L40S": {
        "arch": "Ada Lovelace", "device_id": "26B910DE", "subsys": "185110DE",
        "vbios": "95.02.66.00.02", "board_part": "900-2G133-0080-000", "gpu_part": "26B9-896-A1",
        "inforom": ("G133.0242.00.03", "2.1", "6.16"), "pcie_gen": 4,
        "nvlinks": 0, "nvlink_speed": None,
        "power": (350, 100, 350), "idle_w": 33.0, "pstate": "P8",
        "clocks": (210, 210, 405, 1185), "max_clocks": (2520, 2520, 9001, 1965), "app_clocks": (2520, 9001),
        "temps": {"max_op": 87}, "tlimit_style": True,
        "bar1": 65536, "reserved": 606, "histogram_max": 192, "mig": False, "fan": None,
        "bus": ["17", "31", "B1", "CA"], "numa": [0, 0, 1, 1],
        "cpus": {0: "0-31,64-95", 1: "32-63,96-127"},
        "nic_rel": "PIX",
    },
}

FAULT_KINDS = ("ecc-uncorrectable", "row-remap-pending", "row-remap-failure", "fallen-off-bus",
               "nvlink-down", "pcie-degraded", "hot")
NVLINK_DOWN_LINK = 5
HOT_TEMP = 92

# Xid texts as the driver logs them ("NVRM: Xid (PCI:0000:9a:00): 79, pid=..., name=..., <text>")
XID_TEXT = {
    13: (True, "Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address"),
    31: (True, "Ch 00000008, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f3a_c0000000. "
               "Fault is of type FAULT_PDE ACCESS_TYPE_VIRT_READ"),
    43: (True, "Ch 00000008"),
    45: (True, "Ch 00000008"),
    48: (False, "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0."),
    63: (False, "Row Remapper: New row (0x00000000001c5b23) was marked for remapping, reset gpu to activate."),
    64: (False, "Row Remapper Error: Failed to persist row remapping of row (0x00000000001c5b23) to InfoROM."),
    74: (False, "NVLink: fatal error detected on link 5(0x0, 0x0, 0x10000, 0x0, 0x0, 0x0, 0x0)"),
    79: (False, "GPU has fallen off the bus."),
    92: (False, "High single-bit ECC error rate"),
    94: (False, "Contained: SM (0x1). RST: No, D-RST: No"),
    95: (False, "Uncontained: LTC TAG (0x2,0x0). RST: Yes, D-RST: No"),
    109: (True, "Ch 00000010, errorString CTX SWITCH TIMEOUT, Info 0x14c01"),
    119: (False, "Timeout after 6s of waiting for RPC response from GPU0 GSP! Expected function 76 (GSP_RM_CONTROL) (0x20802a02 0x8)."),
    120: (False, "GSP task exception: (reason 0x0, task 0x1)"),
    140: (False, "An uncorrectable ECC error detected (possible firmware handling failure) DRAM:1, LTC:0, MMU:0, PCIE:0"),
}


class SmiError(Exception):
    def __init__(self, rc, msg, stream="stdout"):
        super().__init__(msg)
        self.rc, self.msg, self.stream = rc, msg, stream


# ---------------------------------------------------------------- hardware + state

def _hash(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def hostname():
    return os.environ.get("AIFABRIC_SIM_HOSTNAME") or socket.gethostname()


def load_profile():
    prof = hw_profile()
    if not prof or not prof.get("gpu", {}).get("count"):
        return None
    if prof["gpu"].get("product") not in MODELS:
        return None
    return prof


def fresh_state(prof):
    return {"profile": prof["name"], "gpus": [
        {"persistence_mode": "Disabled", "ecc_mode": "Enabled", "faults": {}, "xids": []}
        for dummy in range(prof["gpu"]["count"])]}


class State(JsonState):
    """state.json (aifabric-sim-common's JsonState): fresh when the profile or its GPU count changed."""

    def __init__(self, prof, write=False):
        self.prof = prof
        JsonState.__init__(self, STATE_FILE, lambda: fresh_state(prof), write=write,
                           valid=lambda data: data.get("profile") == prof["name"] and len(data["gpus"]) == prof["gpu"]["count"])


def build_gpus(prof, state):
    m = MODELS[prof["gpu"]["product"]]
    host = hostname()
    gpus = []
    for i in range(prof["gpu"]["count"]):
        h = _hash(host, i, prof["gpu"]["product"])
        st = state["gpus"][i]
        bus = m["bus"][i % len(m["bus"])]
        u = h[:32]
        total = prof["gpu"]["memory_mib"]
        used = 0
        g = {
            "index": i, "name": prof["gpu"]["product"], "m": m, "faults": st["faults"],
            "uuid": "GPU-%s-%s-%s-%s-%s" % (u[:8], u[8:12], u[12:16], u[16:20], u[20:32]),
            "serial": "1" + str(int(h[32:48], 16))[-12:].zfill(12),
            "bus": bus, "bus_id": "00000000:%s:00.0" % bus,
            "persistence": st["persistence_mode"], "ecc_mode": st["ecc_mode"],
            "numa": m["numa"][i % len(m["numa"])],
            "temp": 30 + int(h[48:50], 16) % 9, "mem_temp": 38 + int(h[50:52], 16) % 8,
            "power": round(m["idle_w"] + (int(h[52:56], 16) % 800) / 100.0, 2),
            "mem_total": total, "mem_reserved": m["reserved"], "mem_used": used,
            "mem_free": total - m["reserved"] - used,
            "width": 8 if "pcie-degraded" in st["faults"] else 16,
            "dram_unc": 2 if "ecc-uncorrectable" in st["faults"] else 0,
            "remap_pending": "Yes" if "row-remap-pending" in st["faults"] else "No",
            "remap_failure": "Yes" if "row-remap-failure" in st["faults"] else "No",
            "lost": "fallen-off-bus" in st["faults"],
        }
        if "hot" in st["faults"]:
            g["temp"] = HOT_TEMP
        gpus.append(g)
    return gpus


def lost_msg(g):
    return "Unable to determine the device handle for GPU%s: Unknown Error" % g["bus_id"][4:]


# ---------------------------------------------------------------- XML (-q -x)

def _xml_lines(tag, val, depth, out):
    ind = "\t" * depth
    if isinstance(val, list):
        attrs = ""
        if val and isinstance(val[0], str) and val[0].startswith("@"):
            attrs, val = " " + val[0][1:], val[1:]
        out.append("%s<%s%s>" % (ind, tag, attrs))
        for k, v in val:
            _xml_lines(k, v, depth + 1, out)
        out.append("%s</%s>" % (ind, tag))
    elif isinstance(val, tuple):  # ("text",) block such as <mig_devices>\n\t\t\tNone\n\t\t</mig_devices>
        out.append("%s<%s>" % (ind, tag))
        out.append("%s\t%s" % (ind, escape(val[0])))
        out.append("%s</%s>" % (ind, tag))
    else:
        out.append("%s<%s>%s</%s>" % (ind, tag, escape(str(val)), tag))


def gpu_xml(g):
    m, f = g["m"], g["faults"]
    na = "N/A"
    hot = "hot" in f
    clk, mclk, app = m["clocks"], m["max_clocks"], m["app_clocks"]
    pdef, pmin, pmax = m["power"]
    mig = [("current_mig", "Disabled"), ("pending_mig", "Disabled")] if m["mig"] else \
        [("current_mig", na), ("pending_mig", na)]
    ecc_on = g["ecc_mode"] == "Enabled"

    def ecc_block(aggregate):
        d = [("sram_correctable", 0), ("sram_uncorrectable_parity", 0), ("sram_uncorrectable_secded", 0),
             ("dram_correctable", 0), ("dram_uncorrectable", g["dram_unc"])]
        if aggregate:
            d.append(("sram_threshold_exceeded", "No"))
        return d if ecc_on else [(k, na) for k, dummy in d]

    if m["tlimit_style"]:
        temps = [("gpu_temp", "%d C" % g["temp"]), ("gpu_temp_tlimit", "%d C" % (m["temps"]["max_op"] - g["temp"])),
                 ("gpu_temp_max_tlimit_threshold", "-5 C"), ("gpu_temp_slow_tlimit_threshold", "-2 C"),
                 ("gpu_temp_max_gpu_tlimit_threshold", "0 C"), ("gpu_target_temperature", na),
                 ("memory_temp", na), ("gpu_temp_max_mem_tlimit_threshold", na)]
    else:
        t = m["temps"]
        temps = [("gpu_temp", "%d C" % g["temp"]), ("gpu_temp_tlimit", na),
                 ("gpu_temp_max_threshold", "%d C" % t["max"]), ("gpu_temp_slow_threshold", "%d C" % t["slow"]),
                 ("gpu_temp_max_gpu_threshold", "%d C" % t["max_gpu"]), ("gpu_target_temperature", na),
                 ("memory_temp", "%d C" % g["mem_temp"]), ("gpu_temp_max_mem_threshold", "%d C" % t["max_mem"])]
    fabric_ok = m["nvlinks"] and "nvlink-down" not in f
    return [
        "@id=\"%s\"" % g["bus_id"],
        ("product_name", g["name"]), ("product_brand", "NVIDIA"), ("product_architecture", m["arch"]),
        ("display_mode", DEPRECATED), ("display_attached", "No"), ("display_active", "Disabled"),
        ("persistence_mode", g["persistence"]), ("addressing_mode", "HMM"),
        ("mig_mode", mig), ("mig_devices", ("None",)),
        ("accounting_mode", "Disabled"), ("accounting_mode_buffer_size", 4000),
        ("driver_model", [("current_dm", na), ("pending_dm", na)]),
        ("serial", g["serial"]), ("uuid", g["uuid"]),
        ("pdi", "0x" + _hash("pdi", g["uuid"])[:16]), ("minor_number", g["index"]),
        ("vbios_version", m["vbios"]), ("multigpu_board", "No"), ("board_id", "0x%s00" % g["bus"].lower()),
        ("board_part_number", m["board_part"]), ("gpu_part_number", m["gpu_part"]), ("gpu_fru_part_number", na),
        ("platformInfo", [("chassis_serial_number", na), ("slot_number", na), ("tray_index", na), ("host_id", na),
                          ("peer_type", na), ("module_id", g["index"] + 1), ("gpu_fabric_guid", na)]),
        ("inforom_version", [("img_version", m["inforom"][0]), ("oem_object", m["inforom"][1]),
                             ("ecc_object", m["inforom"][2]), ("pwr_object", na)]),
        ("inforom_bbx_flush", [("latest_timestamp", na), ("latest_duration", na)]),
        ("gpu_operation_mode", [("current_gom", na), ("pending_gom", na)]),
        ("c2c_mode", "Disabled" if m["nvlinks"] else na),
        ("gpu_virtualization_mode", [("virtualization_mode", "None"), ("host_vgpu_mode", na),
                                     ("vgpu_heterogeneous_mode", na)]),
        ("gpu_recovery_action", "None"), ("gsp_firmware_version", DRIVER),
        ("ibmnpu", [("relaxed_ordering_mode", na)]),
        ("pci", [("pci_bus", g["bus"]), ("pci_device", "00"), ("pci_domain", "0000"),
                 ("pci_base_class", 3), ("pci_sub_class", 2), ("pci_device_id", m["device_id"]),
                 ("pci_bus_id", g["bus_id"]), ("pci_sub_system_id", m["subsys"]),
                 ("pci_gpu_link_info", [
                     ("pcie_gen", [("max_link_gen", m["pcie_gen"]), ("current_link_gen", m["pcie_gen"]),
                                   ("device_current_link_gen", m["pcie_gen"]), ("max_device_link_gen", m["pcie_gen"]),
                                   ("max_host_link_gen", m["pcie_gen"])]),
                     ("link_widths", [("max_link_width", "16x"), ("current_link_width", "%dx" % g["width"])])]),
                 ("pci_bridge_chip", [("bridge_chip_type", na), ("bridge_chip_fw", na)]),
                 ("replay_counter", 0), ("replay_rollover_counter", 0),
                 ("tx_util", "%d KB/s" % (int(_hash("tx", g["uuid"])[:4], 16) % 900)),
                 ("rx_util", "%d KB/s" % (int(_hash("rx", g["uuid"])[:4], 16) % 900)),
                 ("atomic_caps_outbound", na), ("atomic_caps_inbound", na)]),
        ("fan_speed", na), ("performance_state", m["pstate"]),
        ("clocks_event_reasons", [
            ("clocks_event_reason_gpu_idle", _active(not hot)),
            ("clocks_event_reason_applications_clocks_setting", "Not Active"),
            ("clocks_event_reason_sw_power_cap", "Not Active"),
            ("clocks_event_reason_hw_slowdown", _active(hot)),
            ("clocks_event_reason_hw_thermal_slowdown", _active(hot)),
            ("clocks_event_reason_hw_power_brake_slowdown", "Not Active"),
            ("clocks_event_reason_sync_boost", "Not Active"),
            ("clocks_event_reason_sw_thermal_slowdown", _active(hot)),
            ("clocks_event_reason_display_clocks_setting", "Not Active")]),
        ("clocks_event_reasons_counters", [
            ("clocks_event_reasons_counters_sw_power_cap", "0 us"),
            ("clocks_event_reasons_counters_sync_boost", "0 us"),
            ("clocks_event_reasons_counters_sw_therm_slowdown", "0 us"),
            ("clocks_event_reasons_counters_hw_therm_slowdown", "0 us"),
            ("clocks_event_reasons_counters_hw_power_brake", "0 us")]),
        ("sparse_operation_mode", na),
        ("fb_memory_usage", [("total", "%d MiB" % g["mem_total"]), ("reserved", "%d MiB" % g["mem_reserved"]),
                             ("used", "%d MiB" % g["mem_used"]), ("free", "%d MiB" % g["mem_free"])]),
        ("bar1_memory_usage", [("total", "%d MiB" % m["bar1"]), ("used", "1 MiB"), ("free", "%d MiB" % (m["bar1"] - 1))]),
        ("cc_protected_memory_usage", [("total", "0 MiB"), ("used", "0 MiB"), ("free", "0 MiB")]),
        ("compute_mode", "Default"),
        ("utilization", [("gpu_util", "0 %"), ("memory_util", "0 %"), ("encoder_util", "0 %"),
                         ("decoder_util", "0 %"), ("jpeg_util", "0 %"), ("ofa_util", "0 %")]),
        ("encoder_stats", [("session_count", 0), ("average_fps", 0), ("average_latency", 0)]),
        ("fbc_stats", [("session_count", 0), ("average_fps", 0), ("average_latency", 0)]),
        ("dram_encryption_mode", [("current_dram_encryption", na), ("pending_dram_encryption", na)]),
        ("ecc_mode", [("current_ecc", g["ecc_mode"]), ("pending_ecc", g["ecc_mode"])]),
        ("ecc_errors", [
            ("volatile", ecc_block(False)), ("aggregate", ecc_block(True)),
            ("aggregate_uncorrectable_sram_sources", [(k, 0 if ecc_on else na) for k in
                                                      ("sram_l2", "sram_sm", "sram_microcontroller", "sram_pcie", "sram_other")]),
            ("channel_repair_pending", "No"), ("tpc_repair_pending", "No"), ("unrepairable_memory", na)]),
        ("retired_pages", [
            ("multiple_single_bit_retirement", [("retired_count", na), ("retired_pagelist", na)]),
            ("double_bit_retirement", [("retired_count", na), ("retired_pagelist", na)]),
            ("pending_blacklist", na), ("pending_retirement", na)]),
        ("remapped_rows", [
            ("remapped_row_corr", 0), ("remapped_row_unc", 1 if g["remap_pending"] == "Yes" else 0),
            ("remapped_row_pending", g["remap_pending"]), ("remapped_row_failure", g["remap_failure"]),
            ("row_remapper_histogram", [
                ("row_remapper_histogram_max", "%d bank(s)" % (m["histogram_max"] - (1 if g["remap_pending"] == "Yes" else 0))),
                ("row_remapper_histogram_high", "%d bank(s)" % (1 if g["remap_pending"] == "Yes" else 0)),
                ("row_remapper_histogram_partial", "0 bank(s)"),
                ("row_remapper_histogram_low", "0 bank(s)"),
                ("row_remapper_histogram_none", "%d bank(s)" % (1 if g["remap_failure"] == "Yes" else 0))])]),
        ("temperature", temps),
        ("supported_gpu_target_temp", [("gpu_target_temp_min", na), ("gpu_target_temp_max", na)]),
        ("gpu_power_readings", [
            ("power_state", DEPRECATED), ("average_power_draw", "%.2f W" % g["power"]),
            ("instant_power_draw", "%.2f W" % (g["power"] + 0.35)),
            ("current_power_limit", "%.2f W" % pdef), ("requested_power_limit", "%.2f W" % pdef),
            ("default_power_limit", "%.2f W" % pdef), ("min_power_limit", "%.2f W" % pmin),
            ("max_power_limit", "%.2f W" % pmax)]),
        ("gpu_memory_power_readings", [("average_power_draw", na), ("instant_power_draw", na)]),
        ("module_power_readings", [("power_state", DEPRECATED), ("average_power_draw", na),
                                   ("instant_power_draw", na), ("current_power_limit", na),
                                   ("requested_power_limit", na), ("default_power_limit", na),
                                   ("min_power_limit", na), ("max_power_limit", na)]),
        ("power_smoothing", na),
        ("power_profiles", [("power_profile_requested_profiles", na), ("power_profile_enforced_profiles", na)]),
        ("edpp_multiplier", na),
        ("clocks", [("graphics_clock", "%d MHz" % clk[0]), ("sm_clock", "%d MHz" % clk[1]),
                    ("mem_clock", "%d MHz" % clk[2]), ("video_clock", "%d MHz" % clk[3])]),
        ("applications_clocks", [("graphics_clock", "%d MHz" % app[0]), ("mem_clock", "%d MHz" % app[1])]),
        ("default_applications_clocks", [("graphics_clock", "%d MHz" % app[0]), ("mem_clock", "%d MHz" % app[1])]),
        ("deferred_clocks", [("mem_clock", na)]),
        ("max_clocks", [("graphics_clock", "%d MHz" % mclk[0]), ("sm_clock", "%d MHz" % mclk[1]),
                        ("mem_clock", "%d MHz" % mclk[2]), ("video_clock", "%d MHz" % mclk[3])]),
        ("max_customer_boost_clocks", [("graphics_clock", "%d MHz" % mclk[0])]),
        ("clock_policy", [("auto_boost", na), ("auto_boost_default", na)]),
        ("fabric", [("state", "Completed" if m["nvlinks"] else na),
                    ("status", "Success" if m["nvlinks"] else na),
                    ("cliqueId", na), ("clusterUuid", na),
                    ("health", [("summary", ("Healthy" if fabric_ok else "Unhealthy") if m["nvlinks"] else na),
                                ("bandwidth", ("Full" if fabric_ok else "Degraded") if m["nvlinks"] else na),
                                ("route_recovery_in_progress", na), ("route_unhealthy", na),
                                ("access_timeout_recovery", na), ("incorrect_configuration", na),
                                ("partition_assigned", na)])]),
        ("supported_clocks", [("supported_mem_clock", [("value", "%d MHz" % mclk[2])] + [
            ("supported_graphics_clock", "%d MHz" % c) for c in range(mclk[0], clk[0] - 1, -15)])]),
        ("processes", []), ("accounted_processes", []),
        ("capabilities", [("egm", "disabled")]),
    ]


def cmd_xml(gpus, attached):
    out = ['<?xml version="1.0" ?>', '<!DOCTYPE nvidia_smi_log SYSTEM "%s">' % DTD, "<nvidia_smi_log>"]
    for k, v in (("timestamp", time.strftime("%a %b %e %H:%M:%S %Y")), ("driver_version", DRIVER),
                 ("cuda_version", CUDA), ("attached_gpus", attached)):
        _xml_lines(k, v, 1, out)
    for g in gpus:
        _xml_lines("gpu", gpu_xml(g), 1, out)
    out += ["", "</nvidia_smi_log>"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- --query-gpu

def query_fields(g, count):
    m = g["m"]
    ecc_on = g["ecc_mode"] == "Enabled"
    pdef, pmin, pmax = m["power"]
    clk, mclk = m["clocks"], m["max_clocks"]
    thr = 0x0000000000000068 if "hot" in g["faults"] else 0x0000000000000001
    F = {  # canonical name: (aliases, unit, value)
        "timestamp": ((), None, time.strftime("%Y/%m/%d %H:%M:%S.") + "%03d" % (time.time() % 1 * 1000)),
        "driver_version": ((), None, DRIVER),
        "count": ((), None, count),
        "name": (("gpu_name",), None, g["name"]),
        "serial": (("gpu_serial",), None, g["serial"]),
        "uuid": (("gpu_uuid",), None, g["uuid"]),
        "pci.bus_id": (("gpu_bus_id",), None, g["bus_id"]),
        "pci.domain": ((), None, "0x0000"),
        "pci.bus": ((), None, "0x" + g["bus"]),
        "pci.device": ((), None, "0x00"),
        "pci.device_id": ((), None, "0x" + m["device_id"]),
        "pci.sub_device_id": ((), None, "0x" + m["subsys"]),
        "pcie.link.gen.current": (("pcie.link.gen.gpucurrent",), None, m["pcie_gen"]),
        "pcie.link.gen.max": ((), None, m["pcie_gen"]),
        "pcie.link.gen.gpumax": ((), None, m["pcie_gen"]),
        "pcie.link.gen.hostmax": ((), None, m["pcie_gen"]),
        "pcie.link.width.current": ((), None, g["width"]),
        "pcie.link.width.max": ((), None, 16),
        "index": ((), None, g["index"]),
        "display_mode": ((), None, "Disabled"),
        "display_active": ((), None, "Disabled"),
        "persistence_mode": ((), None, g["persistence"]),
        "vbios_version": ((), None, m["vbios"]),
        "inforom.img": (("inforom.image",), None, m["inforom"][0]),
        "fan.speed": ((), "%", None),
        "pstate": ((), None, m["pstate"]),
        "clocks_event_reasons.active": (("clocks_throttle_reasons.active",), None, "0x%016X" % thr),
        "clocks_event_reasons.hw_thermal_slowdown": (("clocks_throttle_reasons.hw_thermal_slowdown",), None,
                                                     "Active" if "hot" in g["faults"] else "Not Active"),
        "memory.total": ((), "MiB", g["mem_total"]),
        "memory.reserved": ((), "MiB", g["mem_reserved"]),
        "memory.used": ((), "MiB", g["mem_used"]),
        "memory.free": ((), "MiB", g["mem_free"]),
        "compute_mode": ((), None, "Default"),
        "utilization.gpu": ((), "%", 0),
        "utilization.memory": ((), "%", 0),
        "ecc.mode.current": ((), None, g["ecc_mode"]),
        "ecc.mode.pending": ((), None, g["ecc_mode"]),
        "ecc.errors.corrected.volatile.total": ((), None, 0 if ecc_on else None),
        "ecc.errors.corrected.aggregate.total": ((), None, 0 if ecc_on else None),
        "ecc.errors.uncorrected.volatile.total": ((), None, g["dram_unc"] if ecc_on else None),
        "ecc.errors.uncorrected.aggregate.total": ((), None, g["dram_unc"] if ecc_on else None),
        "ecc.errors.uncorrected.volatile.dram": ((), None, g["dram_unc"] if ecc_on else None),
        "ecc.errors.uncorrected.aggregate.dram": ((), None, g["dram_unc"] if ecc_on else None),
        "retired_pages.pending": ((), None, None),
        "temperature.gpu": ((), None, g["temp"]),
        "temperature.gpu.tlimit": ((), None, (m["temps"]["max_op"] - g["temp"]) if m["tlimit_style"] else None),
        "temperature.memory": ((), None, None if m["tlimit_style"] else g["mem_temp"]),
        "power.management": ((), None, "Enabled"),
        "power.draw": ((), "W", "%.2f" % g["power"]),
        "power.draw.average": ((), "W", "%.2f" % g["power"]),
        "power.draw.instant": ((), "W", "%.2f" % (g["power"] + 0.35)),
        "power.limit": ((), "W", "%.2f" % pdef),
        "enforced.power.limit": ((), "W", "%.2f" % pdef),
        "power.default_limit": ((), "W", "%.2f" % pdef),
        "power.min_limit": ((), "W", "%.2f" % pmin),
        "power.max_limit": ((), "W", "%.2f" % pmax),
        "clocks.current.graphics": (("clocks.gr",), "MHz", clk[0]),
        "clocks.current.sm": (("clocks.sm",), "MHz", clk[1]),
        "clocks.current.memory": (("clocks.mem",), "MHz", clk[2]),
        "clocks.current.video": (("clocks.video",), "MHz", clk[3]),
        "clocks.max.graphics": (("clocks.max.gr",), "MHz", mclk[0]),
        "clocks.max.sm": ((), "MHz", mclk[1]),
        "clocks.max.memory": (("clocks.max.mem",), "MHz", mclk[2]),
        "mig.mode.current": ((), None, "Disabled" if m["mig"] else None),
        "mig.mode.pending": ((), None, "Disabled" if m["mig"] else None),
    }
    return F


def resolve_field(name, F):
    if name in F:
        return name
    for canon, (aliases, _u, _v) in F.items():
        if name in aliases:
            return canon
    return None


def cmd_query_gpu(gpus, count, fields, fmt):
    opts = [o.strip() for o in fmt.split(",") if o.strip()]
    if "csv" not in opts or any(o not in ("csv", "noheader", "nounits") for o in opts):
        raise SmiError(RC_ARG, '"%s" is not a valid format option.\n' % fmt)
    names = [f.strip() for f in fields.split(",") if f.strip()]
    if not names:
        raise SmiError(RC_ARG, "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n")
    probe = query_fields(gpus[0], count) if gpus else query_fields(_dummy_gpu(), count)
    canon = []
    for n in names:
        c = resolve_field(n, probe)
        if c is None:
            raise SmiError(RC_ARG, 'Field "%s" is not a valid field to query.\n\n' % n)
        canon.append(c)
    lines = []
    if "noheader" not in opts:
        hdr = []
        for c in canon:
            unit = probe[c][1]
            hdr.append("%s [%s]" % (c, unit) if unit and "nounits" not in opts else c)
        lines.append(", ".join(hdr))
    for g in gpus:
        F = query_fields(g, count)
        row = []
        for c in canon:
            _a, unit, val = F[c]
            if val is None:
                row.append("[N/A]")
            elif unit and "nounits" not in opts:
                row.append("%s %s" % (val, unit))
            else:
                row.append(str(val))
        lines.append(", ".join(row))
    return "".join(line + "\n" for line in lines)


def _dummy_gpu():
    m = MODELS["NVIDIA H100 80GB HBM3"]
    return {"index": 0, "name": "", "m": m, "faults": {}, "uuid": "", "serial": "", "bus": "00", "bus_id": "",
            "persistence": "", "ecc_mode": "Enabled", "temp": 0, "mem_temp": 0, "power": 0.0, "mem_total": 0,
            "mem_reserved": 0, "mem_used": 0, "mem_free": 0, "width": 16, "dram_unc": 0}


# ---------------------------------------------------------------- default table, -L

def _active(flag):
    return "Active" if flag else "Not Active"


def _box(text):
    return "|" + text.ljust(89) + "|"


def cmd_table(gpus):
    sep = "+-----------------------------------------+------------------------+----------------------+"
    wide = "+" + "-" * 89 + "+"
    o = [time.strftime("%a %b %e %H:%M:%S %Y") + "       ", wide,
         "| NVIDIA-SMI %-22s Driver Version: %-15sCUDA Version: %-9s|" % (DRIVER, DRIVER, CUDA),
         "|-----------------------------------------+------------------------+----------------------+",
         "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
         "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
         "|                                         |                        |               MIG M. |",
         "|=========================================+========================+======================|"]
    for g in gpus:
        m = g["m"]
        ecc = str(g["dram_unc"]) if g["ecc_mode"] == "Enabled" else "Off"
        pm = "On" if g["persistence"] == "Enabled" else "Off"
        left = "%4s  %3dC    %-2s" % ("N/A", g["temp"], m["pstate"])
        right = "%dW / %4dW " % (round(g["power"]), m["power"][0])
        o.append("|%4d  %-31s%-3s |   %s Off |%21s |" % (g["index"], g["name"][:31], pm, g["bus_id"], ecc))
        o.append("|%s%s|%8dMiB / %6dMiB |%8s%13s |" % (
            left, right.rjust(41 - len(left)), g["mem_used"], g["mem_total"], "0%", "Default"))
        o.append("|%41s|%24s|%21s |" % ("", "", "Disabled" if m["mig"] else "N/A"))
        o.append(sep)
    o += ["", wide,
          _box(" Processes:"),
          _box("  GPU   GI   CI              PID   Type   Process name                        GPU Memory"),
          _box("        ID   ID                                                               Usage"),
          "|" + "=" * 89 + "|",
          _box("  No running processes found"),
          wide]
    return "\n".join(o) + "\n"


def cmd_list(gpus):
    return "".join("GPU %d: %s (UUID: %s)\n" % (g["index"], g["name"], g["uuid"]) for g in gpus)


# ---------------------------------------------------------------- nvlink, topo

def cmd_nvlink_status(gpus):
    o = []
    for g in gpus:
        o.append("GPU %d: %s (UUID: %s)" % (g["index"], g["name"], g["uuid"]))
        for link in range(g["m"]["nvlinks"]):
            down = link == NVLINK_DOWN_LINK and "nvlink-down" in g["faults"]
            o.append("\t Link %d: %s" % (link, "<inactive>" if down else g["m"]["nvlink_speed"]))
    return "".join(line + "\n" for line in o)


def nic_count(prof):
    return sum(n.get("count", 0) for n in prof.get("nics", []))


def cmd_topo(gpus, prof):
    m = MODELS[prof["gpu"]["product"]]
    n_nic = nic_count(prof)
    ngpu = prof["gpu"]["count"]
    # NIC j is paired with (sits on the PCIe switch of) GPU pair[j]; its NUMA node is that GPU's.
    pair = [min(ngpu - 1, j * ngpu // n_nic) if n_nic else 0 for j in range(n_nic)]
    nic_numa = [m["numa"][p] for p in pair]

    def switch(i):  # GPUs i and i^1 share a PCIe switch on DGX A100, one GPU per switch otherwise
        return i // 2 if m["nic_rel"] == "PXB" else i

    nic_switch = [switch(p) for p in pair]
    visible = list(gpus)
    labels = ["GPU%d" % g["index"] for g in visible] + ["NIC%d" % j for j in range(n_nic)]

    def gpu_gpu(a, b):
        if a is b:
            return " X "
        if m["nvlinks"]:
            n = m["nvlinks"] - (1 if ("nvlink-down" in a["faults"] or "nvlink-down" in b["faults"]) else 0)
            return "NV%d" % n
        return "NODE" if a["numa"] == b["numa"] else "SYS"

    def gpu_nic(g, j):
        if switch(g["index"]) == nic_switch[j]:
            return m["nic_rel"]
        return "NODE" if g["numa"] == nic_numa[j] else "SYS"

    def nic_nic(i, j):
        if i == j:
            return " X "
        if nic_switch[i] == nic_switch[j]:
            return "PIX"
        return "NODE" if nic_numa[i] == nic_numa[j] else "SYS"

    o = ["\x1b[4m\t" + "\t".join(labels) + "\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\x1b[0m"]
    for g in visible:
        cells = [gpu_gpu(g, h) for h in visible] + [gpu_nic(g, j) for j in range(n_nic)]
        o.append("GPU%d\t%s\t%s\t%d\t\tN/A" % (g["index"], "\t".join(cells), m["cpus"][g["numa"]], g["numa"]))
    for j in range(n_nic):
        cells = [gpu_nic(g, j) for g in visible] + [nic_nic(j, k) for k in range(n_nic)]
        o.append("NIC%d\t%s\t\t\t\t" % (j, "\t".join(cells)))
    o += ["", "Legend:", "",
          "  X    = Self",
          "  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)",
          "  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node",
          "  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)",
          "  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)",
          "  PIX  = Connection traversing at most a single PCIe bridge",
          "  NV#  = Connection traversing a bonded set of # NVLinks"]
    if n_nic:
        o += ["", "NIC Legend:", ""] + ["  NIC%d: mlx5_%d" % (j, j) for j in range(n_nic)]
    return "\n".join(o) + "\n\n"


# ---------------------------------------------------------------- -pm

def cmd_pm(st, gpus, value):
    v = value.strip().upper()
    if v in ("1", "ENABLED"):
        want = "Enabled"
    elif v in ("0", "DISABLED"):
        want = "Disabled"
    else:
        raise SmiError(RC_ARG, "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n")
    if not ROOT and os.geteuid() != 0:
        g = gpus[0]
        raise SmiError(RC_PERM, "Unable to set persistence mode for GPU %s: Insufficient Permissions\n"
                                "Terminating early due to previous errors.\n" % g["bus_id"])
    out = []
    for g in gpus:
        if g["persistence"] == want:
            out.append("Persistence mode is already %s for GPU %s." % (want, g["bus_id"]))
        else:
            st.data["gpus"][g["index"]]["persistence_mode"] = want
            out.append("%s persistence mode for GPU %s." % (want, g["bus_id"]))
    out.append("All done.")
    return "".join(line + "\n" for line in out)


# ---------------------------------------------------------------- CLI

USAGE = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n"


def parse(argv):
    a = {"sub": None, "ids": None, "q": False, "x": False, "L": False, "query": None, "fmt": None,
         "pm": None, "nvlink_s": False, "topo_m": False, "help": False}
    args = list(argv)
    if args and args[0] in ("nvlink", "topo"):
        a["sub"] = args.pop(0)
    i = 0

    def val(opt):
        nonlocal i
        if "=" in args[i] and args[i].startswith("--"):
            return args[i].split("=", 1)[1]
        i += 1
        if i >= len(args):
            raise SmiError(RC_ARG, USAGE)
        return args[i]

    while i < len(args):
        t = args[i]
        key = t.split("=", 1)[0]
        if key in ("-h", "--help"):
            a["help"] = True
        elif key in ("-i", "--id"):
            a["ids"] = val(t)
        elif a["sub"] == "nvlink" and key in ("-s", "--status"):
            a["nvlink_s"] = True
        elif a["sub"] == "topo" and key in ("-m", "--matrix"):
            a["topo_m"] = True
        elif a["sub"]:
            raise SmiError(RC_ARG, USAGE)
        elif key in ("-q", "--query"):
            a["q"] = True
        elif key in ("-x", "--xml-format"):
            a["x"] = True
        elif key in ("-L", "--list-gpus"):
            a["L"] = True
        elif key == "--query-gpu":
            a["query"] = val(t)
        elif key == "--format":
            a["fmt"] = val(t)
        elif key in ("-pm", "--persistence-mode"):
            a["pm"] = val(t)
        else:
            raise SmiError(RC_ARG, USAGE)
        i += 1
    return a


def select(gpus, ids):
    if ids is None:
        return gpus
    sel = []
    for tok in [t.strip() for t in ids.split(",") if t.strip()]:
        hit = None
        for g in gpus:
            if (tok.isdigit() and int(tok) == g["index"]) or tok.upper() == g["uuid"].upper() \
                    or tok.upper() in (g["bus_id"].upper(), g["bus_id"][4:].upper()):
                hit = g
        if hit is None:
            raise SmiError(RC_NOT_FOUND, "No devices were found\n")
        if hit not in sel:
            sel.append(hit)
    return sel


def nvidia_smi(argv):
    a = parse(argv)
    if a["help"]:
        return "NVIDIA System Management Interface -- v%s (aifabric lab simulator)\n" % DRIVER, "", RC_OK
    if a["sub"] == "nvlink" and not a["nvlink_s"]:
        raise SmiError(RC_ARG, USAGE)
    if a["sub"] == "topo" and not a["topo_m"]:
        raise SmiError(RC_ARG, USAGE)
    if a["query"] is not None and a["fmt"] is None or a["fmt"] is not None and a["query"] is None:
        raise SmiError(RC_ARG, USAGE)
    if a["x"] and not a["q"]:
        raise SmiError(RC_ARG, USAGE)

    prof = load_profile()
    if prof is None:
        if os.path.exists(PROFILE_NAME_FILE):
            raise SmiError(RC_NOT_FOUND, "No devices were found\n")
        raise SmiError(RC_NO_DRIVER, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
                                     "driver. Make sure that the latest NVIDIA driver is installed and running.\n\n")
    try:
        kmod = open(KMOD_FILE).read().strip()
    except OSError:
        if os.path.exists(DRIVER_MARKER):  # installed, not loaded yet: no boot since
            raise SmiError(RC_NO_DRIVER, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
                                         "driver. Make sure that the latest NVIDIA driver is installed and running.\n\n")
        kmod = DRIVER
    if kmod != DRIVER:
        raise SmiError(RC_MISMATCH, "Failed to initialize NVML: Driver/library version mismatch\n"
                                    "NVML library version: %s\n" % NVML_VERSION)

    st = State(prof, write=a["pm"] is not None)
    try:
        allg = build_gpus(prof, st.data)
        sel = select(allg, a["ids"])
        lost = [g for g in sel if g["lost"]]
        ok = [g for g in sel if not g["lost"]]
        err = "".join(lost_msg(g) + "\n" for g in lost)
        rc = RC_UNKNOWN if lost else RC_OK
        if a["pm"] is not None:
            if lost:
                raise SmiError(RC_UNKNOWN, err, "stderr")
            return cmd_pm(st, ok, a["pm"]), "", RC_OK
        if a["query"] is not None:
            return cmd_query_gpu(ok, len(allg) - sum(g["lost"] for g in allg), a["query"], a["fmt"]), err, rc
        if a["q"] and a["x"]:
            return cmd_xml(ok, len(allg) - sum(g["lost"] for g in allg)), err, rc
        if a["q"]:
            return render_text(cmd_xml(ok, len(allg) - sum(g["lost"] for g in allg))), err, rc
        if a["L"]:
            return cmd_list(ok), err, rc
        if a["sub"] == "nvlink":
            return cmd_nvlink_status(ok), err, rc
        if a["sub"] == "topo":
            return cmd_topo(ok, prof), err, rc
        if lost:  # the real table bails out on the first device handle it cannot get
            return "", err, rc
        return cmd_table(ok), "", RC_OK
    finally:
        st.close()


# Labels of `nvidia-smi -q` (text form of the same document).
TEXT_LABELS = {
    "timestamp": "Timestamp", "driver_version": "Driver Version", "cuda_version": "CUDA Version",
    "attached_gpus": "Attached GPUs", "product_name": "Product Name", "product_brand": "Product Brand",
    "product_architecture": "Product Architecture", "persistence_mode": "Persistence Mode",
    "mig_mode": "MIG Mode", "current_mig": "Current", "pending_mig": "Pending", "serial": "Serial Number",
    "uuid": "GPU UUID", "minor_number": "Minor Number", "vbios_version": "VBIOS Version",
    "pci": "PCI", "pci_bus_id": "Bus Id", "pci_gpu_link_info": "GPU Link Info", "pcie_gen": "PCIe Generation",
    "max_link_gen": "Max", "current_link_gen": "Current", "link_widths": "Link Width",
    "max_link_width": "Max", "current_link_width": "Current", "performance_state": "Performance State",
    "fb_memory_usage": "FB Memory Usage", "total": "Total", "reserved": "Reserved", "used": "Used", "free": "Free",
    "ecc_mode": "ECC Mode", "current_ecc": "Current", "pending_ecc": "Pending", "ecc_errors": "ECC Errors",
    "volatile": "Volatile", "aggregate": "Aggregate", "sram_correctable": "SRAM Correctable",
    "sram_uncorrectable_parity": "SRAM Uncorrectable Parity", "sram_uncorrectable_secded": "SRAM Uncorrectable SEC-DED",
    "dram_correctable": "DRAM Correctable", "dram_uncorrectable": "DRAM Uncorrectable",
    "sram_threshold_exceeded": "SRAM Threshold Exceeded", "remapped_rows": "Remapped Rows",
    "remapped_row_corr": "Correctable Error", "remapped_row_unc": "Uncorrectable Error",
    "remapped_row_pending": "Pending", "remapped_row_failure": "Remapping Failure Occurred",
    "temperature": "Temperature", "gpu_temp": "GPU Current Temp", "gpu_temp_max_threshold": "GPU Shutdown Temp",
    "gpu_temp_slow_threshold": "GPU Slowdown Temp", "gpu_temp_max_gpu_threshold": "GPU Max Operating Temp",
    "memory_temp": "Memory Current Temp", "gpu_power_readings": "GPU Power Readings",
    "average_power_draw": "Average Power Draw", "instant_power_draw": "Instantaneous Power Draw",
    "current_power_limit": "Current Power Limit", "default_power_limit": "Default Power Limit",
    "min_power_limit": "Min Power Limit", "max_power_limit": "Max Power Limit",
    "clocks": "Clocks", "graphics_clock": "Graphics", "sm_clock": "SM", "mem_clock": "Memory", "video_clock": "Video",
    "max_clocks": "Max Clocks",
}


def render_text(xml_doc):
    """`nvidia-smi -q`: the main sections of the XML document in the text layout (subset)."""
    import xml.etree.ElementTree as ET
    body = xml_doc.split("\n", 2)[2]
    root = ET.fromstring(body)
    o = ["", "==============NVSMI LOG==============", ""]

    for k in ("timestamp", "driver_version", "cuda_version"):
        o.append("%-42s: %s" % (TEXT_LABELS[k], root.findtext(k)))
    o.append("")
    o.append("%-42s: %s" % ("Attached GPUs", root.findtext("attached_gpus")))

    def walk(el, depth):
        for c in el:
            if c.tag not in TEXT_LABELS:
                continue
            if len(c):
                o.append("    " * depth + TEXT_LABELS[c.tag])
                walk(c, depth + 1)
            else:
                o.append("%-42s: %s" % ("    " * depth + TEXT_LABELS[c.tag], (c.text or "").strip()))

    for gpu in root.findall("gpu"):
        o.append("GPU " + gpu.get("id"))
        walk(gpu, 1)
        o.append("")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------- aifabric-sim-gpu (fault control)

SIM_USAGE = """usage: aifabric-sim-gpu fault <gpu-index> <kind>
       aifabric-sim-gpu fault <gpu-index> xid <code>
       aifabric-sim-gpu fault <gpu-index> clear
       aifabric-sim-gpu reset
       aifabric-sim-gpu show
kinds: %s
""" % ", ".join(FAULT_KINDS)


def log_kernel(line):
    if ROOT:  # controller tests: no journal, keep the line in a file beside the state
        with open(STATE_DIR + "/kernel.log", "a") as f:
            f.write(line + "\n")
        return
    subprocess.run(["logger", "-t", "kernel", "-p", "kern.err", line], check=True)


def sim_gpu(argv):
    prof = load_profile()
    if prof is None:
        return "", "aifabric-sim-gpu: this host's hardware profile has no GPUs\n", 2
    if not argv or argv[0] not in ("fault", "reset", "show"):
        return "", SIM_USAGE, 2
    st = State(prof, write=True)
    try:
        if argv[0] == "reset":
            st.data = fresh_state(prof)
            return "aifabric-sim-gpu: state reset\n", "", 0
        if argv[0] == "show":
            return json.dumps(st.data, indent=1, sort_keys=True) + "\n", "", 0
        if len(argv) < 3 or not argv[1].isdigit() or int(argv[1]) >= prof["gpu"]["count"]:
            return "", SIM_USAGE, 2
        idx, kind = int(argv[1]), argv[2]
        gst = st.data["gpus"][idx]
        if kind == "clear":
            gst["faults"] = {}
            return "aifabric-sim-gpu: GPU %d faults cleared\n" % idx, "", 0
        if kind == "xid":
            if len(argv) != 4 or not argv[3].isdigit():
                return "", SIM_USAGE, 2
            code = int(argv[3])
            proc, text = XID_TEXT.get(code, (False, "Xid %d reported by the GPU." % code))
            g = build_gpus(prof, st.data)[idx]
            who = "pid=%d, name=python3" % (4000 + int(_hash(code, idx)[:4], 16) % 60000) if proc \
                else "pid='<unknown>', name=<unknown>"
            line = "NVRM: Xid (PCI:0000:%s:00): %d, %s, %s" % (g["bus"].lower(), code, who, text)
            log_kernel(line)
            gst.setdefault("xids", []).append(code)
            return line + "\n", "", 0
        if kind not in FAULT_KINDS or len(argv) != 3:
            return "", SIM_USAGE, 2
        if kind == "nvlink-down" and not MODELS[prof["gpu"]["product"]]["nvlinks"]:
            return "", "aifabric-sim-gpu: %s has no NVLink\n" % prof["gpu"]["product"], 2
        gst["faults"][kind] = True
        return "aifabric-sim-gpu: GPU %d fault %s injected\n" % (idx, kind), "", 0
    finally:
        st.close()


def main():
    argv = sys.argv[1:]
    try:
        if argv[:1] == ["--aifabric-sim-gpu"]:
            out, err, rc = sim_gpu(argv[1:])
        else:
            out, err, rc = nvidia_smi(argv)
    except SmiError as e:
        out, err, rc = (e.msg, "", e.rc) if e.stream == "stdout" else ("", e.msg, e.rc)
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    return rc


if __name__ == "__main__":
    sys.exit(main())
