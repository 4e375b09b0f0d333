"""Tests of the lab's simulated nvidia-smi (package nvidia-utils-580), run on the controller.

The simulator is a test double; these tests pin it to the real tool's command line,
output shapes, errors and exit codes (see lab/simulators/README.md).
"""
import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from labtest import NVIDIA_SMI, NVIDIA_UTILS, SIM_GPU, Sim
from simpkg import PROFILES, build, control

SOURCE = NVIDIA_UTILS / "usr/lib/aifabric-sim/nvidia_smi.py"

H100_BUSES = ["18", "2A", "3A", "5D", "9A", "AB", "BA", "DB"]


@pytest.fixture
def sim(tmp_path):
    return Sim(tmp_path, "hgx-h100-8gpu")


@pytest.fixture(params=["hgx-h100-8gpu", "hgx-a100-8gpu", "pcie-l40s-4gpu"])
def anysim(request, tmp_path):
    return Sim(tmp_path, request.param)


def profile(name):
    return json.loads((PROFILES / (name + ".json")).read_text())


# ------------------------------------------------------------------ package


def test_package_control_and_layout():
    # generic package rules: test_sim_packages.py
    fields = control("nvidia-utils-580")[1]
    assert fields["Version"] == "580.95.05-0aifabric1"
    assert fields["Depends"] == "python3, aifabric-sim-common"
    for wrapper in (NVIDIA_SMI, SIM_GPU):
        text = wrapper.read_text()
        assert 'sim="$(dirname "$0")/../lib/aifabric-sim/nvidia_smi.py"' in text
        assert "exec python3 \"$sim\"" in text


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")
def test_package_builds(tmp_path):
    listing = build("nvidia-utils-580", tmp_path)[1]
    for path in ("./usr/bin/nvidia-smi", "./usr/sbin/aifabric-sim-gpu", "./usr/lib/aifabric-sim/nvidia_smi.py"):
        assert path in listing


# ------------------------------------------------------------------ default table, -L


def test_table(anysim):
    r = anysim.smi()
    assert r.returncode == 0 and r.stderr == ""
    lines = r.stdout.splitlines()
    assert "| NVIDIA-SMI 580.95.05              Driver Version: 580.95.05      CUDA Version: 13.0     |" in lines
    assert all(len(line) == 91 for line in lines[1:] if line)
    prof = profile(anysim.root.joinpath("etc/aifabric-lab/hw_profile").read_text().strip())
    rows = [line for line in lines if line.startswith("|") and "00000000:" in line]
    assert len(rows) == prof["gpu"]["count"]
    assert all(prof["gpu"]["product"] in row for row in rows)
    assert "No running processes found" in r.stdout


def test_list_gpus_deterministic_per_host(sim):
    a = sim.smi("-L").stdout
    assert a == sim.smi("-L").stdout
    assert a != sim.smi("-L", host="gpu-node-02").stdout
    lines = a.splitlines()
    assert len(lines) == 8
    assert lines[0].startswith("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-")
    uuids = {line.split("UUID: ")[1].rstrip(")") for line in lines}
    assert len(uuids) == 8


# ------------------------------------------------------------------ -q -x


XML_PATHS = [
    "product_name", "product_brand", "product_architecture", "display_mode", "persistence_mode",
    "mig_mode/current_mig", "mig_mode/pending_mig", "serial", "uuid", "minor_number", "vbios_version",
    "inforom_version/img_version", "gpu_operation_mode/current_gom",
    "pci/pci_bus", "pci/pci_device", "pci/pci_domain", "pci/pci_device_id", "pci/pci_bus_id",
    "pci/pci_sub_system_id", "pci/pci_gpu_link_info/pcie_gen/max_link_gen",
    "pci/pci_gpu_link_info/pcie_gen/current_link_gen", "pci/pci_gpu_link_info/pcie_gen/device_current_link_gen",
    "pci/pci_gpu_link_info/pcie_gen/max_host_link_gen", "pci/pci_gpu_link_info/link_widths/max_link_width",
    "pci/pci_gpu_link_info/link_widths/current_link_width", "pci/replay_counter", "pci/tx_util", "pci/rx_util",
    "fan_speed", "performance_state", "clocks_event_reasons/clocks_event_reason_hw_thermal_slowdown",
    "fb_memory_usage/total", "fb_memory_usage/reserved", "fb_memory_usage/used", "fb_memory_usage/free",
    "bar1_memory_usage/total", "compute_mode", "utilization/gpu_util", "ecc_mode/current_ecc",
    "ecc_mode/pending_ecc", "ecc_errors/volatile/sram_correctable", "ecc_errors/volatile/sram_uncorrectable_parity",
    "ecc_errors/volatile/sram_uncorrectable_secded", "ecc_errors/volatile/dram_correctable",
    "ecc_errors/volatile/dram_uncorrectable", "ecc_errors/aggregate/dram_uncorrectable",
    "ecc_errors/aggregate/sram_threshold_exceeded", "retired_pages/double_bit_retirement/retired_count",
    "remapped_rows/remapped_row_corr", "remapped_rows/remapped_row_unc", "remapped_rows/remapped_row_pending",
    "remapped_rows/remapped_row_failure", "remapped_rows/row_remapper_histogram/row_remapper_histogram_max",
    "temperature/gpu_temp", "gpu_power_readings/average_power_draw", "gpu_power_readings/instant_power_draw",
    "gpu_power_readings/current_power_limit", "gpu_power_readings/default_power_limit",
    "gpu_power_readings/max_power_limit", "clocks/graphics_clock", "clocks/sm_clock", "clocks/mem_clock",
    "applications_clocks/graphics_clock", "max_clocks/sm_clock", "fabric/state", "processes",
    "accounted_processes",
]


def test_xml_well_formed_and_complete(anysim):
    r, root = anysim.xml()
    assert r.returncode == 0 and r.stderr == ""
    head = r.stdout.splitlines()[:3]
    assert head == ['<?xml version="1.0" ?>', '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v13.dtd">',
                    "<nvidia_smi_log>"]
    ET.fromstring(r.stdout.split("\n", 2)[2])
    assert root.findtext("driver_version") == "580.95.05"
    assert root.findtext("cuda_version") == "13.0"
    gpus = root.findall("gpu")
    assert int(root.findtext("attached_gpus")) == len(gpus) > 0
    for g in gpus:
        assert g.get("id") == g.findtext("pci/pci_bus_id")
        missing = [p for p in XML_PATHS if g.find(p) is None]
        assert not missing, missing
        assert g.findtext("persistence_mode") == "Disabled"
        assert g.findtext("ecc_mode/current_ecc") == "Enabled"
        assert g.findtext("fb_memory_usage/total").endswith(" MiB")
        assert g.findtext("gpu_power_readings/average_power_draw").endswith(" W")
        assert g.findtext("temperature/gpu_temp").endswith(" C")
        assert g.findtext("remapped_rows/remapped_row_pending") == "No"


def test_xml_h100_values(sim):
    _r, root = sim.xml()
    gpus = root.findall("gpu")
    assert [g.get("id") for g in gpus] == ["00000000:%s:00.0" % b for b in H100_BUSES]
    g = gpus[0]
    assert g.findtext("product_name") == "NVIDIA H100 80GB HBM3"
    assert g.findtext("product_architecture") == "Hopper"
    assert g.findtext("pci/pci_gpu_link_info/pcie_gen/max_link_gen") == "5"
    assert g.findtext("pci/pci_gpu_link_info/link_widths/current_link_width") == "16x"
    assert g.findtext("fb_memory_usage/total") == "81559 MiB"
    assert g.findtext("gpu_power_readings/max_power_limit") == "700.00 W"
    assert g.findtext("mig_mode/current_mig") == "Disabled"
    assert g.findtext("fabric/state") == "Completed"
    assert g.findtext("mig_devices").strip() == "None"


def test_xml_l40s_has_no_mig_and_tlimit_temperatures(tmp_path):
    s = Sim(tmp_path, "pcie-l40s-4gpu")
    _r, root = s.xml()
    g = root.find("gpu")
    assert g.findtext("product_name") == "NVIDIA L40S"
    assert g.findtext("mig_mode/current_mig") == "N/A"
    assert g.find("temperature/gpu_temp_max_tlimit_threshold") is not None
    assert g.findtext("fabric/state") == "N/A"


# ------------------------------------------------------------------ --query-gpu

ALL_FIELDS = ("index,name,uuid,serial,pci.bus_id,driver_version,vbios_version,persistence_mode,temperature.gpu,"
              "power.draw,power.limit,memory.total,memory.used,ecc.mode.current,"
              "ecc.errors.uncorrected.volatile.total,ecc.errors.uncorrected.aggregate.total,clocks.sm,"
              "pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max,mig.mode.current")


def test_query_gpu_csv_header_units(sim):
    r = sim.smi("--query-gpu=" + ALL_FIELDS, "--format=csv")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines[0] == (
        "index, name, uuid, serial, pci.bus_id, driver_version, vbios_version, persistence_mode, temperature.gpu, "
        "power.draw [W], power.limit [W], memory.total [MiB], memory.used [MiB], ecc.mode.current, "
        "ecc.errors.uncorrected.volatile.total, ecc.errors.uncorrected.aggregate.total, clocks.current.sm [MHz], "
        "pcie.link.gen.current, pcie.link.gen.max, pcie.link.width.current, pcie.link.width.max, mig.mode.current")
    assert len(lines) == 9
    row = lines[1].split(", ")
    assert row[0] == "0" and row[1] == "NVIDIA H100 80GB HBM3" and row[2].startswith("GPU-")
    assert row[4] == "00000000:18:00.0" and row[5] == "580.95.05"
    assert row[9].endswith(" W") and row[10] == "700.00 W" and row[11] == "81559 MiB"
    assert row[13:] == ["Enabled", "0", "0", "345 MHz", "5", "5", "16", "16", "Disabled"]


def test_query_gpu_noheader_nounits(sim):
    rows = sim.csv("index,power.limit,memory.total,clocks.sm,temperature.gpu")
    assert len(rows) == 8
    assert rows[3][:4] == ["3", "700.00", "81559", "345"]
    assert rows[3][4].isdigit()
    r = sim.smi("--query-gpu=memory.total", "--format=csv,nounits")
    assert r.stdout.splitlines()[:2] == ["memory.total", "81559"]
    # aliases print the canonical header
    r = sim.smi("--query-gpu=gpu_name,gpu_bus_id", "--format=csv")
    assert r.stdout.splitlines()[0] == "name, pci.bus_id"


def test_query_gpu_not_supported_is_bracketed_na(tmp_path):
    s = Sim(tmp_path, "pcie-l40s-4gpu")
    assert s.csv("index,mig.mode.current,fan.speed") == [[str(i), "[N/A]", "[N/A]"] for i in range(4)]


def test_query_gpu_unknown_field(sim):
    r = sim.smi("--query-gpu=index,foo", "--format=csv")
    assert r.returncode == 2
    assert r.stdout == 'Field "foo" is not a valid field to query.\n\n'


def test_query_gpu_bad_format_and_missing_format(sim):
    assert sim.smi("--query-gpu=index").returncode == 2
    assert sim.smi("--query-gpu=index", "--format=json").returncode == 2


def test_query_gpu_a100(tmp_path):
    s = Sim(tmp_path, "hgx-a100-8gpu")
    rows = s.csv("name,pcie.link.gen.max,power.limit,memory.total")
    assert rows[0] == ["NVIDIA A100-SXM4-80GB", "4", "400.00", "81920"]


# ------------------------------------------------------------------ -i


def test_select_by_index_uuid_and_bus_id(sim):
    uuid = sim.csv("uuid")[5][0]
    assert sim.csv("index", "csv,noheader", "-i", "5") == [["5"]]
    assert sim.csv("index", "csv,noheader", "-i", "1,3") == [["1"], ["3"]]
    assert sim.csv("index", "csv,noheader", "-i", uuid) == [["5"]]
    assert sim.csv("index", "csv,noheader", "-i", "00000000:9A:00.0") == [["4"]]
    _r, root = sim.xml("-i", "2")
    assert root.findtext("attached_gpus") == "8" and len(root.findall("gpu")) == 1


@pytest.mark.parametrize("bad", ["8", "42", "GPU-00000000-0000-0000-0000-000000000000", "x"])
def test_select_invalid(sim, bad):
    r = sim.smi("-i", bad, "-q", "-x")
    assert r.returncode == 6
    assert r.stdout == "No devices were found\n"


def test_bad_option(sim):
    r = sim.smi("--bogus")
    assert r.returncode == 2
    assert "Please run 'nvidia-smi -h' for help." in r.stdout


# ------------------------------------------------------------------ -pm


def test_persistence_mode_persists(sim):
    r = sim.smi("-pm", "1")
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["Enabled persistence mode for GPU 00000000:%s:00.0." % b
                                     for b in H100_BUSES] + ["All done."]
    assert [row[0] for row in sim.csv("persistence_mode")] == ["Enabled"] * 8
    state = json.loads((sim.state_dir / "state.json").read_text())
    assert {g["persistence_mode"] for g in state["gpus"]} == {"Enabled"}
    r = sim.smi("-i", "0", "-pm", "1")
    assert r.stdout == "Persistence mode is already Enabled for GPU 00000000:18:00.0.\nAll done.\n"
    r = sim.smi("-i", "2", "-pm", "0")
    assert r.stdout == "Disabled persistence mode for GPU 00000000:3A:00.0.\nAll done.\n"
    assert [row[0] for row in sim.csv("persistence_mode")][1:4] == ["Enabled", "Disabled", "Enabled"]
    _r, root = sim.xml("-i", "2")
    assert root.findtext("gpu/persistence_mode") == "Disabled"
    assert "  Off |" not in sim.smi().stdout.splitlines()[8]  # table shows On for GPU 0
    assert sim.smi("-pm", "7").returncode == 2


# ------------------------------------------------------------------ nvlink, topo


def test_nvlink_status_h100(sim):
    for args in (["nvlink", "-s"], ["nvlink", "--status"]):
        r = sim.smi(*args)
        assert r.returncode == 0
        lines = r.stdout.splitlines()
        assert len(lines) == 8 * 19
        assert lines[0].startswith("GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-")
        assert lines[1] == "\t Link 0: 26.562 GB/s" and lines[18] == "\t Link 17: 26.562 GB/s"
    r = sim.smi("nvlink", "-s", "-i", "3")
    assert r.stdout.splitlines()[0].startswith("GPU 3: ") and len(r.stdout.splitlines()) == 19


def test_nvlink_status_a100_and_l40s(tmp_path):
    a = Sim(tmp_path / "a", "hgx-a100-8gpu")
    lines = a.smi("nvlink", "-s").stdout.splitlines()
    assert len(lines) == 8 * 13 and lines[12] == "\t Link 11: 25 GB/s"
    lr = Sim(tmp_path / "l", "pcie-l40s-4gpu").smi("nvlink", "-s")
    assert lr.returncode == 0
    assert [line.split(" (UUID")[0] for line in lr.stdout.splitlines()] == [
        "GPU %d: NVIDIA L40S" % i for i in range(4)]


def _topo(sim):
    r = sim.smi("topo", "-m")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    header = lines[0].replace("\x1b[4m", "").replace("\x1b[0m", "").split("\t")
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:] if line[:3] in ("GPU", "NIC")}
    return r.stdout, header, rows


def test_topo_h100(sim):
    out, header, rows = _topo(sim)
    assert header[1:9] == ["GPU%d" % i for i in range(8)]
    assert header[9:17] == ["NIC%d" % i for i in range(8)]
    assert header[17:] == ["CPU Affinity", "NUMA Affinity", "GPU NUMA ID"]
    assert rows["GPU0"][:8] == [" X "] + ["NV18"] * 7
    assert rows["GPU0"][8] == "PIX" and rows["GPU0"][12] == "SYS"
    assert rows["GPU0"][16:] == ["0-55,112-167", "0", "", "N/A"]
    assert rows["NIC7"][15] == " X "
    assert "  NV#  = Connection traversing a bonded set of # NVLinks" in out
    assert "NIC Legend:" in out and "  NIC7: mlx5_7" in out


def test_topo_a100_and_l40s(tmp_path):
    _o, _h, rows = _topo(Sim(tmp_path / "a", "hgx-a100-8gpu"))
    assert rows["GPU1"][:8] == ["NV12", " X "] + ["NV12"] * 6
    assert rows["GPU1"][8:10] == ["PXB", "PXB"]
    out, header, rows = _topo(Sim(tmp_path / "l", "pcie-l40s-4gpu"))
    assert header[5:7] == ["NIC0", "NIC1"]
    assert rows["GPU0"][:4] == [" X ", "NODE", "SYS", "SYS"]
    assert "NV" not in "".join(rows["GPU0"])


# ------------------------------------------------------------------ faults


def test_fault_ecc_uncorrectable(sim):
    assert sim.ctl("fault", "2", "ecc-uncorrectable").returncode == 0
    _r, root = sim.xml("-i", "2")
    assert root.findtext("gpu/ecc_errors/volatile/dram_uncorrectable") == "2"
    assert root.findtext("gpu/ecc_errors/aggregate/dram_uncorrectable") == "2"
    rows = sim.csv("index,ecc.errors.uncorrected.volatile.total,ecc.errors.uncorrected.aggregate.total")
    assert rows[2] == ["2", "2", "2"] and rows[1] == ["1", "0", "0"]
    table = sim.smi().stdout.splitlines()
    assert [line for line in table if "00000000:3A:00.0" in line][0].endswith("                    2 |")


def test_fault_row_remap(sim):
    sim.ctl("fault", "1", "row-remap-pending")
    sim.ctl("fault", "6", "row-remap-failure")
    _r, root = sim.xml()
    g = root.findall("gpu")
    assert g[1].findtext("remapped_rows/remapped_row_pending") == "Yes"
    assert g[1].findtext("remapped_rows/remapped_row_failure") == "No"
    assert g[6].findtext("remapped_rows/remapped_row_failure") == "Yes"
    assert g[0].findtext("remapped_rows/remapped_row_pending") == "No"


def test_fault_fallen_off_bus(sim):
    assert sim.ctl("fault", "4", "fallen-off-bus").returncode == 0
    msg = "Unable to determine the device handle for GPU0000:9A:00.0: Unknown Error\n"
    r, root = sim.xml()
    assert r.returncode == 255 and r.stderr == msg
    assert root.findtext("attached_gpus") == "7" and len(root.findall("gpu")) == 7
    assert "00000000:9A:00.0" not in r.stdout
    r = sim.smi("--query-gpu=index", "--format=csv,noheader")
    assert r.returncode == 255 and r.stderr == msg
    assert r.stdout.split() == ["0", "1", "2", "3", "5", "6", "7"]
    r = sim.smi()
    assert (r.returncode, r.stdout, r.stderr) == (255, "", msg)
    r = sim.smi("-i", "0", "-q", "-x")
    assert r.returncode == 0 and r.stderr == ""
    assert sim.smi("-i", "4", "-pm", "1").returncode == 255


def test_fault_nvlink_down(sim):
    sim.ctl("fault", "3", "nvlink-down")
    lines = sim.smi("nvlink", "-s", "-i", "3").stdout.splitlines()
    assert lines[6] == "\t Link 5: <inactive>"
    assert lines[7] == "\t Link 6: 26.562 GB/s"
    _o, _h, rows = _topo(sim)
    assert rows["GPU3"][0] == "NV17" and rows["GPU0"][1] == "NV18"
    _r, root = sim.xml("-i", "3")
    assert root.findtext("gpu/fabric/health/summary") == "Unhealthy"
    r = Sim(sim.root / "l", "pcie-l40s-4gpu").ctl("fault", "0", "nvlink-down")
    assert r.returncode == 2


def test_fault_pcie_degraded(sim):
    sim.ctl("fault", "7", "pcie-degraded")
    _r, root = sim.xml("-i", "7")
    assert root.findtext("gpu/pci/pci_gpu_link_info/link_widths/current_link_width") == "8x"
    assert root.findtext("gpu/pci/pci_gpu_link_info/link_widths/max_link_width") == "16x"
    assert sim.csv("pcie.link.width.current,pcie.link.width.max", "csv,noheader", "-i", "7") == [["8", "16"]]


def test_fault_hot(sim):
    sim.ctl("fault", "0", "hot")
    _r, root = sim.xml("-i", "0")
    assert root.findtext("gpu/temperature/gpu_temp") == "92 C"
    assert root.findtext("gpu/clocks_event_reasons/clocks_event_reason_hw_thermal_slowdown") == "Active"
    assert sim.csv("temperature.gpu", "csv,noheader", "-i", "0") == [["92"]]


def test_fault_xid_logs_kernel_line(sim):
    r = sim.ctl("fault", "4", "xid", "79")
    assert r.returncode == 0
    line = "NVRM: Xid (PCI:0000:9a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus."
    assert r.stdout == line + "\n"
    sim.ctl("fault", "0", "xid", "13")
    log = (sim.state_dir / "kernel.log").read_text().splitlines()
    assert log[0] == line
    assert log[1].startswith("NVRM: Xid (PCI:0000:18:00): 13, pid=") and ", name=python3, " in log[1]
    assert json.loads(sim.ctl("show").stdout)["gpus"][4]["xids"] == [79]
    assert sim.ctl("fault", "0", "xid").returncode == 2


def test_fault_clear_reset_show_and_usage(sim):
    sim.ctl("fault", "1", "hot")
    sim.ctl("fault", "1", "pcie-degraded")
    sim.ctl("fault", "2", "hot")
    sim.smi("-pm", "1")
    state = json.loads(sim.ctl("show").stdout)
    assert state["profile"] == "hgx-h100-8gpu"
    assert state["gpus"][1]["faults"] == {"hot": True, "pcie-degraded": True}
    sim.ctl("fault", "1", "clear")
    state = json.loads(sim.ctl("show").stdout)
    assert state["gpus"][1]["faults"] == {} and state["gpus"][2]["faults"] == {"hot": True}
    assert sim.ctl("reset").returncode == 0
    state = json.loads(sim.ctl("show").stdout)
    assert all(g["faults"] == {} and g["persistence_mode"] == "Disabled" for g in state["gpus"])
    for bad in (["fault", "8", "hot"], ["fault", "0", "melt"], ["explode"], []):
        assert sim.ctl(*bad).returncode == 2


# ------------------------------------------------------------------ driver / hardware errors


def test_driver_library_mismatch(sim):
    sim.state_dir.mkdir(parents=True, exist_ok=True)
    (sim.state_dir / "kernel_module_version").write_text("580.65.06\n")
    for args in ([], ["-q", "-x"], ["--query-gpu=index", "--format=csv"], ["-L"], ["nvlink", "-s"], ["topo", "-m"]):
        r = sim.smi(*args)
        assert r.returncode == 18
        assert r.stdout == ("Failed to initialize NVML: Driver/library version mismatch\n"
                            "NVML library version: 580.95\n")
    (sim.state_dir / "kernel_module_version").write_text("580.95.05\n")
    assert sim.smi().returncode == 0


def test_no_gpu_profile_and_no_profile(sim):
    sim.set_profile("mgmt-generic")
    r = sim.smi()
    assert (r.returncode, r.stdout) == (6, "No devices were found\n")
    (sim.root / "etc/aifabric-lab/hw_profile").unlink()
    r = sim.smi()
    assert r.returncode == 9
    assert r.stdout.startswith("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")


def test_state_recreated_when_profile_changes(sim):
    sim.smi("-pm", "1")
    sim.set_profile("pcie-l40s-4gpu")
    assert [r[0] for r in sim.csv("persistence_mode")] == ["Disabled"] * 4


def test_query_text(sim):
    r = sim.smi("-q")
    assert r.returncode == 0
    assert "==============NVSMI LOG==============" in r.stdout
    assert "Driver Version                            : 580.95.05" in r.stdout
    assert "GPU 00000000:18:00.0" in r.stdout
