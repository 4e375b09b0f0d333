"""Firmware in the lab's Redfish BMC emulator (lab/simulators/bmc), on the controller.

The emulator's UpdateService: a FirmwareInventory per hardware profile, SimpleUpdate of an
aifabric firmware package (a JSON document) fetched over HTTP from a local server, a Task
that runs New -> Running -> Completed / Exception, the BIOS activated by the next boot, a
one-shot failure hook, 400s for bad requests, and state that survives a restart. The
unmodified community.general redfish_info / redfish_command modules drive it through
ansible-playbook with TLS validation on. Everything listens on 127.0.0.1 only.
"""
import functools
import http.server
import json
import os
import subprocess
import threading
import time

import pytest
import yaml

from labtest import BMC_PASSWORD, REPO, Bmc, ansible_playbook, make_ca

requests = pytest.importorskip("requests")
pytest.importorskip("sushy_tools")

H100_GPU, A100_GPU, H100_NVSWITCH = "96.00.89.00.01", "92.00.36.00.02", "96.10.55.00.01"
INVENTORY = "/redfish/v1/UpdateService/FirmwareInventory"
SIMPLE_UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture(name="images", scope="module")
def images_fixture(tmp_path_factory):
    """A local http.server on 127.0.0.1 serving firmware packages (the lab repo's role)."""
    root = tmp_path_factory.mktemp("images")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def publish(name, content):
        (root / name).write_text(content if isinstance(content, str) else json.dumps(content))
        return "http://127.0.0.1:%d/%s" % (server.server_address[1], name)
    yield publish
    server.shutdown()
    server.server_close()


@pytest.fixture(name="tls", scope="module")
def tls_fixture(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("tls"))


def start(tmp_path, tls, profile=None, duration="0.5", **kw):
    extra = ["--update-duration", duration] + (["--profile", profile] if profile else [])
    return Bmc(tmp_path / "state", tls, delay="0.2,0.4", extra=extra, **kw).start()


@pytest.fixture(name="bmc")
def bmc_fixture(tmp_path, tls):
    sim = start(tmp_path, tls)
    yield sim
    sim.stop()


def package(component, version):
    return {"aifabric_firmware": 1, "component_id": component, "version": version}


def inventory(bmc):
    members = bmc.get(INVENTORY).json()["Members"]
    return {m["@odata.id"].rsplit("/", 1)[1]: bmc.get(m["@odata.id"]).json() for m in members}


def wait_task(bmc, location, timeout=20):
    deadline, seen = time.time() + timeout, []
    while time.time() < deadline:
        task = bmc.get(location).json()
        if not seen or seen[-1] != (task["TaskState"], task["PercentComplete"]):
            seen.append((task["TaskState"], task["PercentComplete"]))
        if task["TaskState"] in ("Completed", "Exception"):
            return task, seen
        time.sleep(0.05)
    raise AssertionError("task still %s" % seen)


def assert_task_ran(bmc, location, seen, end):
    """The task went New -> Running -> end: the sim's state log holds the transition (a poll may
    miss a short Running on a busy machine); what the polls saw is in that order and ends with end."""
    task_id = location.rstrip("/").rsplit("/", 1)[1]
    assert [e["type"] for e in bmc.state()["events"] if e.get("task") == task_id][:2] == [
        "firmware_update_started", "firmware_task_running"]
    order = ["New", "Running", end]
    states = [s for s, _pct in seen]
    assert states[-1] == end and [order.index(s) for s in states] == sorted(order.index(s) for s in states)


def update(bmc, uri, **extra):
    resp = bmc.send("POST", SIMPLE_UPDATE, dict({"ImageURI": uri, "TransferProtocol": "HTTP"}, **extra))
    assert resp.status_code == 202, resp.text
    assert resp.json()["@odata.type"].startswith("#Task.") and resp.json()["TaskState"] == "New"
    return resp.headers["Location"]


@pytest.mark.parametrize("profile,gpus,nvswitches,gpu_version", [
    ("hgx-h100-8gpu", 8, 4, H100_GPU), ("hgx-a100-8gpu", 8, 0, A100_GPU),
    ("pcie-l40s-4gpu", 0, 0, None), ("mgmt-generic", 0, 0, None), (None, 8, 4, H100_GPU)])
def test_inventory_per_profile(tmp_path, tls, profile, gpus, nvswitches, gpu_version):
    bmc = start(tmp_path, tls, profile)
    try:
        service = bmc.get("/redfish/v1/UpdateService").json()
        assert service["ServiceEnabled"] is True and service["FirmwareInventory"]["@odata.id"] == INVENTORY
        action = service["Actions"]["#UpdateService.SimpleUpdate"]
        assert action["target"] == SIMPLE_UPDATE
        assert action["TransferProtocol@Redfish.AllowableValues"] == ["HTTP", "HTTPS"]
        root = bmc.get("/redfish/v1/").json()
        assert root["UpdateService"]["@odata.id"] == "/redfish/v1/UpdateService"
        assert root["TaskService"]["@odata.id"] == "/redfish/v1/TaskService"
        inv = inventory(bmc)
        assert inv["BMC"]["Name"] == "BMC Firmware" and inv["BMC"]["Version"] == "1.14.3"
        assert inv["BIOS"]["Name"] == "System BIOS" and inv["BIOS"]["Version"] == "2.3.1"
        assert inv["CPLD_0"]["Name"] == "System CPLD" and inv["CPLD_0"]["Version"] == "0.2.8"
        for item in inv.values():
            assert set(item) >= {"Id", "Name", "Version", "Updateable", "SoftwareId", "Status"}
            assert item["Status"] == {"State": "Enabled", "Health": "OK"} and item["Updateable"] is True
        # in sync with the manager and the system
        manager = bmc.get(bmc.get("/redfish/v1/Managers").json()["Members"][0]["@odata.id"]).json()
        assert manager["FirmwareVersion"] == inv["BMC"]["Version"]
        assert bmc.get(bmc.system_path()).json()["BiosVersion"] == inv["BIOS"]["Version"]
        gpu = sorted(k for k in inv if k.startswith("HGX_FW_GPU_SXM_"))
        assert gpu == ["HGX_FW_GPU_SXM_%d" % n for n in range(1, gpus + 1)]
        assert all(inv[k]["Version"] == gpu_version and inv[k]["Name"] == "GPU SXM %s VBIOS" % k[-1] for k in gpu)
        nvs = sorted(k for k in inv if k.startswith("HGX_FW_NVSwitch_"))
        assert nvs == ["HGX_FW_NVSwitch_%d" % n for n in range(nvswitches)]
        assert all(inv[k]["Version"] == H100_NVSWITCH and inv[k]["Name"] == "NVSwitch %s" % k[-1] for k in nvs)
        assert len(inv) == 3 + gpus + nvswitches
        assert bmc.state()["profile"] == (profile or "hgx-h100-8gpu")
        assert bmc.get(INVENTORY + "/NOPE").status_code == 404
        assert bmc.get(INVENTORY, auth=("admin", "wrong-password")).status_code == 401
    finally:
        bmc.stop()


def test_update_gpu_and_bmc_complete_on_task_end(bmc, images):
    location = update(bmc, images("gpu3.json", package("HGX_FW_GPU_SXM_3", "96.00.A1.00.01")))
    assert location.startswith("/redfish/v1/TaskService/Tasks/")
    task, seen = wait_task(bmc, location)
    assert task["TaskState"] == "Completed" and task["TaskStatus"] == "OK" and task["PercentComplete"] == 100
    assert "Update successful" in [m["Message"] for m in task["Messages"]]
    assert_task_ran(bmc, location, seen, "Completed")
    percents = [p for _state, p in seen]
    assert percents == sorted(percents) and 0 < len(set(percents))
    inv = inventory(bmc)
    assert inv["HGX_FW_GPU_SXM_3"]["Version"] == "96.00.A1.00.01" and inv["HGX_FW_GPU_SXM_2"]["Version"] == H100_GPU

    # the BMC's own firmware: the manager's FirmwareVersion follows
    task = wait_task(bmc, update(bmc, images("bmc.json", package("BMC", "1.15.0"))))[0]
    assert task["TaskState"] == "Completed"
    manager = bmc.get(bmc.get("/redfish/v1/Managers").json()["Members"][0]["@odata.id"]).json()
    assert manager["FirmwareVersion"] == "1.15.0" == inventory(bmc)["BMC"]["Version"]
    # the TaskService lists both tasks
    assert bmc.get("/redfish/v1/TaskService").json()["Tasks"]["@odata.id"] == "/redfish/v1/TaskService/Tasks"
    assert bmc.get("/redfish/v1/TaskService/Tasks").json()["Members@odata.count"] == 2
    events = [(e["type"], e.get("component_id")) for e in bmc.state()["events"] if e["type"].startswith("firmware")]
    assert events == [("firmware_update_started", None), ("firmware_task_running", None),
                      ("firmware_update_completed", "HGX_FW_GPU_SXM_3"),
                      ("firmware_update_started", None), ("firmware_task_running", None),
                      ("firmware_update_completed", "BMC")]


def test_bios_update_waits_for_a_power_cycle(bmc, images):
    task = wait_task(bmc, update(bmc, images("bios.json", package("BIOS", "2.4.0"))))[0]
    assert task["TaskState"] == "Completed"
    reset = [m for m in task["Messages"] if m["MessageId"].endswith(".ResetRequired")]
    assert reset and reset[0]["MessageArgs"][1] == "ForceRestart"
    # flashed, not running: the old version until the host boots
    assert inventory(bmc)["BIOS"]["Version"] == "2.3.1"
    assert bmc.state()["firmware"]["BIOS"]["pending"] == "2.4.0"
    assert bmc.get(bmc.system_path()).json()["BiosVersion"] == "2.3.1"
    system = bmc.system_path()
    assert bmc.send("POST", system + "/Actions/ComputerSystem.Reset", {"ResetType": "On"}).status_code == 204
    bmc.wait_power("On")
    assert inventory(bmc)["BIOS"]["Version"] == "2.4.0"
    assert bmc.get(system).json()["BiosVersion"] == "2.4.0"
    state = bmc.state()
    assert state["firmware"]["BIOS"]["pending"] is None
    assert [e["version"] for e in state["events"] if e["type"] == "firmware_activated"] == ["2.4.0"]


def test_injected_failure_and_bad_packages(bmc, images):
    armed = requests.post(bmc.url + "/aifabric-sim/firmware-fail", verify=bmc.ca, timeout=10,
                          json={"component_id": "BIOS", "message": "Flash write failed at 0x00400000"})
    assert armed.status_code == 200
    uri = images("bios-fail.json", package("BIOS", "2.5.0"))
    location = update(bmc, uri)
    task, seen = wait_task(bmc, location)
    assert task["TaskState"] == "Exception" and task["TaskStatus"] == "Critical"
    assert_task_ran(bmc, location, seen, "Exception")
    assert task["Messages"][-1]["Message"] == "Flash write failed at 0x00400000"
    state = bmc.state()
    assert state["firmware"]["BIOS"]["pending"] is None and inventory(bmc)["BIOS"]["Version"] == "2.3.1"
    failed = [e for e in state["events"] if e["type"] == "firmware_update_failed"]
    assert failed[-1]["message"] == "Flash write failed at 0x00400000" and failed[-1]["component_id"] == "BIOS"
    # one-shot: the next update of the BIOS works
    task = wait_task(bmc, update(bmc, uri))[0]
    assert task["TaskState"] == "Completed" and bmc.state()["firmware"]["BIOS"]["pending"] == "2.5.0"

    # packages that are not firmware packages, or not for this system, fail the task
    for name, content in (("junk.bin", "\x7fELF not a package"), ("other.json", {"aifabric_firmware": 2}),
                          ("nogpu.json", package("HGX_FW_GPU_SXM_9", "1.0")),
                          ("noversion.json", {"aifabric_firmware": 1, "component_id": "CPLD_0"})):
        task = wait_task(bmc, update(bmc, images(name, content)))[0]
        assert task["TaskState"] == "Exception", (name, task)
    task = wait_task(bmc, update(bmc, images("missing.json", "x").replace("missing", "absent")))[0]
    assert task["TaskState"] == "Exception" and "Transfer of image" in task["Messages"][-1]["Message"]
    # a package for another component than the Targets named
    task = wait_task(bmc, update(bmc, images("cpld.json", package("CPLD_0", "0.3.0")), Targets=[INVENTORY + "/BMC"]))[0]
    assert task["TaskState"] == "Exception"
    assert inventory(bmc)["CPLD_0"]["Version"] == "0.2.8"
    task = wait_task(bmc, update(bmc, images("cpld.json", package("CPLD_0", "0.3.0")), Targets=[INVENTORY + "/CPLD_0"]))[0]
    assert task["TaskState"] == "Completed" and inventory(bmc)["CPLD_0"]["Version"] == "0.3.0"
    # the hook refuses an unknown component
    assert requests.post(bmc.url + "/aifabric-sim/firmware-fail", verify=bmc.ca, timeout=10,
                         json={"component_id": "GPU9"}).status_code == 400


def test_bad_requests(bmc, images):
    uri = images("ok.json", package("CPLD_0", "0.2.9"))
    cases = [({}, "PropertyMissing"), ({"TransferProtocol": "HTTP"}, "PropertyMissing"),
             ({"ImageURI": uri, "Bogus": 1}, "PropertyUnknown"),
             ({"ImageURI": uri, "TransferProtocol": "TFTP"}, "PropertyValueNotInList"),
             ({"ImageURI": "ftp://127.0.0.1/x.json"}, "PropertyValueFormatError"),
             ({"ImageURI": 42}, "PropertyValueTypeError"),
             ({"ImageURI": uri, "Targets": [INVENTORY + "/NOPE"]}, "PropertyValueNotInList"),
             ({"ImageURI": uri, "Targets": "BIOS"}, "PropertyValueNotInList")]
    for payload, message_id in cases:
        resp = bmc.send("POST", SIMPLE_UPDATE, payload)
        assert resp.status_code == 400, (payload, resp.text)
        assert resp.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(message_id), payload
    resp = requests.post(bmc.url + SIMPLE_UPDATE, data="not json", auth=(bmc.username, bmc.password),
                         verify=bmc.ca, timeout=10, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    # no credentials: 401, no task
    assert requests.post(bmc.url + SIMPLE_UPDATE, json={"ImageURI": uri}, verify=bmc.ca, timeout=10).status_code == 401
    assert bmc.state()["tasks"] == {}
    assert bmc.get("/redfish/v1/TaskService/Tasks/7").status_code == 404
    # an ImageURI without a scheme takes the TransferProtocol's
    task = wait_task(bmc, update(bmc, uri.replace("http://", "")))[0]
    assert task["TaskState"] == "Completed"


def test_state_persists_across_restart(tmp_path, tls, images):
    bmc = start(tmp_path, tls, "hgx-a100-8gpu")
    try:
        wait_task(bmc, update(bmc, images("gpu1.json", package("HGX_FW_GPU_SXM_1", "92.00.99.00.01"))))
        wait_task(bmc, update(bmc, images("bios.json", package("BIOS", "2.4.0"))))
        requests.post(bmc.url + "/aifabric-sim/firmware-fail", verify=bmc.ca, timeout=10,
                      json={"component_id": "CPLD_0", "message": "armed before the restart"})
        # a restart with another --profile: the existing state wins
        bmc.extra = ["--profile", "mgmt-generic", "--update-duration", "0.5"]
        bmc.restart()
        inv = inventory(bmc)
        assert inv["HGX_FW_GPU_SXM_1"]["Version"] == "92.00.99.00.01" and len(inv) == 11
        state = bmc.state()
        assert state["profile"] == "hgx-a100-8gpu" and state["firmware"]["BIOS"]["pending"] == "2.4.0"
        assert [bmc.get(m["@odata.id"]).json()["TaskState"]
                for m in bmc.get("/redfish/v1/TaskService/Tasks").json()["Members"]] == ["Completed", "Completed"]
        task = wait_task(bmc, update(bmc, images("cpld.json", package("CPLD_0", "0.3.0"))))[0]
        assert task["Id"] == "3" and task["Messages"][-1]["Message"] == "armed before the restart"
        # a task the restart interrupted ends in Exception
        location = update(bmc, images("gpu2.json", package("HGX_FW_GPU_SXM_2", "92.00.99.00.01")))
        bmc.restart()
        task = bmc.get(location).json()
        assert task["TaskState"] == "Exception" and "interrupted" in task["Messages"][-1]["Message"]
    finally:
        bmc.stop()


# ------------------------------------------------------------------ community.general, unmodified

PLAY = """---
- name: Firmware through the community.general redfish modules
  hosts: bmcs
  gather_facts: false
  vars:
    redfish: &redfish
      baseuri: "127.0.0.1:{{ bmc_port }}"
      username: admin
      password: "{{ bmc_password }}"
      validate_certs: true
      ca_path: "{{ bmc_ca }}"
  tasks:
    - name: Inventory
      community.general.redfish_info:
        <<: *redfish
        category: Update
        command: GetFirmwareInventory
      register: inventory

    - name: SimpleUpdate
      community.general.redfish_command:
        <<: *redfish
        category: Update
        command: SimpleUpdate
        update_image_uri: "{{ image_uri }}"
        update_protocol: HTTP
      register: update

    - name: GetUpdateStatus until done
      community.general.redfish_info:
        <<: *redfish
        category: Update
        command: GetUpdateStatus
        update_handle: "{{ update.return_values.update_status.handle }}"
      register: status
      until: status.redfish_facts.update_status.status in ['Completed', 'Exception']
      retries: 40
      delay: 1

    - name: Inventory after
      community.general.redfish_info:
        <<: *redfish
        category: Update
        command: GetFirmwareInventory
      register: after

    - name: Save
      ansible.builtin.copy:
        content: "{{ {'inventory': inventory, 'update': update, 'status': status, 'after': after} | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      delegate_to: localhost
"""


@pytest.mark.skipif(not ansible_playbook(), reason="ansible-playbook not installed")
def test_community_general_redfish_modules(tmp_path, tls, images):
    bmc = start(tmp_path, tls, "hgx-h100-8gpu", duration="1")
    try:
        out = tmp_path / "result.json"
        inv = tmp_path / "hosts.yml"
        inv.write_text(yaml.safe_dump({"all": {"children": {"bmcs": {"hosts": {"gpu-01": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "bmc_port": bmc.port, "bmc_password": BMC_PASSWORD, "bmc_ca": bmc.ca, "out": str(out),
            "image_uri": images("nvswitch.json", package("HGX_FW_NVSwitch_2", "96.10.6A.00.01"))}}}}}}))
        play = tmp_path / "fw.yml"
        play.write_text(PLAY)
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
                   ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache/collections"),
                   PATH=os.path.dirname(ansible_playbook()) + os.pathsep + os.environ.get("PATH", ""))
        proc = subprocess.run([ansible_playbook(), "-i", str(inv), str(play)], cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
        assert BMC_PASSWORD not in proc.stdout
        result = json.loads(out.read_text())
        entries = {e["Id"]: e for e in result["inventory"]["redfish_facts"]["firmware"]["entries"]}
        assert entries["BMC"]["Version"] == "1.14.3" and entries["HGX_FW_NVSwitch_2"]["Version"] == H100_NVSWITCH
        assert entries["HGX_FW_GPU_SXM_8"]["SoftwareId"] and len(entries) == 15
        update_status = result["update"]["return_values"]["update_status"]
        assert result["update"]["changed"] is True and update_status["status"] == "New"
        assert update_status["handle"].startswith("/redfish/v1/TaskService/Tasks/")
        final = result["status"]["redfish_facts"]["update_status"]
        assert final["status"] == "Completed" and final["handle"] is None
        assert "Update successful" in [m["Message"] for m in final["messages"]]
        after = {e["Id"]: e for e in result["after"]["redfish_facts"]["firmware"]["entries"]}
        assert after["HGX_FW_NVSwitch_2"]["Version"] == "96.10.6A.00.01"
        assert after["HGX_FW_NVSwitch_1"]["Version"] == H100_NVSWITCH
    finally:
        bmc.stop()
