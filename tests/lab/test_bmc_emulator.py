"""Tests of the lab's Redfish BMC emulator (lab/simulators/bmc), on the controller.

The emulator is sushy-tools' fake driver extended with an AccountService, manager
settings, login failure counting and lockout; these tests pin its protocol: HTTPS with
the lab CA (validation on), HTTP Basic, 401 on wrong credentials, lockout after the
threshold, power transitions that take time, one-time boot consumed by the next boot,
account PATCH, and state that survives a restart. Everything listens on 127.0.0.1 only.
"""
import json
import socket
import ssl
import time

import pytest

from labtest import BMC_FACTORY_PASSWORD, BMC_PASSWORD, Bmc, make_ca

requests = pytest.importorskip("requests")
pytest.importorskip("sushy_tools")


@pytest.fixture(name="tls", scope="module")
def tls_fixture(tmp_path_factory):
    return make_ca(tmp_path_factory.mktemp("tls"))


@pytest.fixture(name="bmc")
def bmc_fixture(tmp_path, tls):
    sim = Bmc(tmp_path / "state", tls).start()
    yield sim
    sim.stop()


def test_tls_with_lab_ca(bmc, tls):
    # validation on, against the lab CA: the certificate names 127.0.0.1
    root = requests.get(bmc.url + "/redfish/v1/", verify=bmc.ca, timeout=10).json()
    assert root["AccountService"]["@odata.id"] == "/redfish/v1/AccountService"
    assert root["Systems"]["@odata.id"] == "/redfish/v1/Systems"
    # without the lab CA the certificate is not trusted
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(bmc.url + "/redfish/v1/", verify=True, timeout=10)
    ctx = ssl.create_default_context(cafile=str(tls / "ca.pem"))
    with socket.create_connection(("127.0.0.1", bmc.port)) as raw, ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls_sock:
        assert tls_sock.version() in ("TLSv1.2", "TLSv1.3")


def test_auth_401_and_lockout(bmc):
    assert bmc.get("/redfish/v1/Systems").status_code == 200
    # no credentials: 401 with a Basic challenge, not a failed login
    resp = requests.get(bmc.url + "/redfish/v1/Systems", verify=bmc.ca, timeout=10)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Basic")
    assert bmc.state()["auth"]["failed_logins"] == 0
    # a wrong password: 401 with a Redfish error body, counted
    resp = bmc.get("/redfish/v1/Systems", auth=("admin", "wrong-one"))
    assert resp.status_code == 401
    assert resp.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith("NoValidSession")
    state = bmc.state()
    assert state["auth"]["failed_logins"] == 1 and state["auth"]["failed_by_user"] == {"admin": 1}
    # a success resets the account's consecutive failures
    assert bmc.get("/redfish/v1/Systems").status_code == 200
    assert [a["failures"] for a in bmc.state()["accounts"] if a["UserName"] == "admin"] == [0]
    # three failures in a row lock the account: then even the right password gets 401
    for _attempt in range(3):
        assert bmc.get("/redfish/v1/Systems", auth=("admin", "wrong-again")).status_code == 401
    admin = [a for a in bmc.state()["accounts"] if a["UserName"] == "admin"][0]
    assert admin["Locked"] is True
    assert bmc.get("/redfish/v1/Systems").status_code == 401
    assert bmc.state()["auth"]["failed_logins"] == 5
    # another administrator sees the lock and clears it (Locked=false)
    factory = ("root", BMC_FACTORY_PASSWORD)
    acct = bmc.get("/redfish/v1/AccountService/Accounts/2", auth=factory).json()
    assert acct["Locked"] is True and acct["Password"] is None
    assert bmc.send("PATCH", "/redfish/v1/AccountService/Accounts/2", {"Locked": False}, auth=factory).status_code == 204
    assert bmc.get("/redfish/v1/Systems").status_code == 200
    # an unknown user is a failed login too
    assert bmc.get("/redfish/v1/Systems", auth=("nobody", "x")).status_code == 401
    assert bmc.state()["auth"]["failed_by_user"]["nobody"] == 1


def test_power_transitions(bmc):
    system = bmc.system_path()
    assert bmc.get(system).json()["PowerState"] == "Off"
    reset = bmc.get(system).json()["Actions"]["#ComputerSystem.Reset"]
    assert {"On", "ForceOff", "ForceRestart", "GracefulRestart"} <= set(reset["ResetType@Redfish.AllowableValues"])
    assert bmc.send("POST", reset["target"], {"ResetType": "On"}).status_code == 204
    # the transition takes time (0.5-1 s here), as on hardware
    assert bmc.get(system).json()["PowerState"] == "Off"
    bmc.wait_power("On")
    assert bmc.send("POST", reset["target"], {"ResetType": "ForceRestart"}).status_code == 204
    assert bmc.get(system).json()["PowerState"] == "Off"  # the host went down at once
    bmc.wait_power("On")
    assert bmc.send("POST", reset["target"], {"ResetType": "GracefulRestart"}).status_code == 204
    bmc.wait_power("On")
    assert bmc.send("POST", reset["target"], {"ResetType": "ForceOff"}).status_code == 204
    bmc.wait_power("Off")
    events = [(e["type"], e.get("reset_type")) for e in bmc.state()["events"] if e["type"] in ("reset", "boot")]
    assert events == [("reset", "On"), ("boot", None), ("reset", "ForceRestart"), ("boot", None),
                      ("reset", "GracefulRestart"), ("boot", None), ("reset", "ForceOff")]
    boots = [e for e in bmc.state()["events"] if e["type"] == "boot"]
    assert [b["reset"] for b in boots] == ["On", "ForceRestart", "GracefulRestart"]
    assert {b["source"] for b in boots} == {"Hdd"}


def test_one_time_boot_override(bmc):
    system = bmc.system_path()
    boot = bmc.get(system).json()["Boot"]
    assert boot["BootSourceOverrideEnabled"] == "Disabled" and boot["BootSourceOverrideTarget"] == "None"
    assert {"Pxe", "UefiHttp"} <= set(boot["BootSourceOverrideTarget@Redfish.AllowableValues"])
    assert bmc.send("PATCH", system, {"Boot": {"BootSourceOverrideEnabled": "Once",
                                               "BootSourceOverrideTarget": "UefiHttp"}}).status_code == 204
    boot = bmc.get(system).json()["Boot"]
    assert (boot["BootSourceOverrideEnabled"], boot["BootSourceOverrideTarget"]) == ("Once", "UefiHttp")
    assert bmc.send("PATCH", system, {"Boot": {"BootSourceOverrideTarget": "Floppy"}}).status_code == 400
    assert bmc.send("PATCH", system, {"Boot": {"BootSourceOverrideEnabled": "Once",
                                               "BootSourceOverrideTarget": "Pxe"}}).status_code == 204
    reset = bmc.get(system).json()["Actions"]["#ComputerSystem.Reset"]["target"]
    bmc.send("POST", reset, {"ResetType": "On"})
    bmc.wait_power("On")
    # the next boot consumed the one-time override
    boot = bmc.get(system).json()["Boot"]
    assert (boot["BootSourceOverrideEnabled"], boot["BootSourceOverrideTarget"]) == ("Disabled", "None")
    boots = [e for e in bmc.state()["events"] if e["type"] == "boot"]
    assert [(b["source"], b["override"], b["mode"]) for b in boots] == [("Pxe", "Once", "UEFI")]
    bmc.send("POST", reset, {"ResetType": "ForceRestart"})
    time.sleep(0.1)
    bmc.wait_power("On")
    assert [e["source"] for e in bmc.state()["events"] if e["type"] == "boot"] == ["Pxe", "Hdd"]


def test_inventory_and_manager_settings(bmc):
    system = bmc.get(bmc.system_path()).json()
    assert system["Name"] == "gpu-01" and system["Model"] and system["SerialNumber"].startswith("SN")
    nics = bmc.get(system["EthernetInterfaces"]["@odata.id"]).json()["Members"]
    macs = [bmc.get(n["@odata.id"]).json()["MACAddress"] for n in nics]
    assert macs == ["02:00:0a:e9:00:65"]
    manager = bmc.get(bmc.get("/redfish/v1/Managers").json()["Members"][0]["@odata.id"]).json()
    proto = manager["NetworkProtocol"]["@odata.id"]
    assert bmc.send("PATCH", proto, {"NTP": {"ProtocolEnabled": True, "NTPServers": ["10.0.0.1", "10.0.0.2"]}}).status_code == 204
    ntp = bmc.get(proto).json()["NTP"]
    assert ntp == {"ProtocolEnabled": True, "NTPServers": ["10.0.0.1", "10.0.0.2", ""]}
    assert bmc.send("PATCH", proto, {"Telnet": {"ProtocolEnabled": True}}).status_code == 400
    nic = bmc.get(manager["EthernetInterfaces"]["@odata.id"] + "/1").json()
    assert nic["IPv4Addresses"][0]["Address"] == "127.0.0.1"
    assert bmc.send("PATCH", nic["@odata.id"], {"HostName": "gpu-01-bmc"}).status_code == 204
    assert bmc.get(nic["@odata.id"]).json()["HostName"] == "gpu-01-bmc"
    assert bmc.get(proto).json()["HostName"] == "gpu-01-bmc"


def test_account_patch_and_persistence(bmc):
    accounts = bmc.get("/redfish/v1/AccountService/Accounts").json()["Members"]
    users = {bmc.get(a["@odata.id"]).json()["UserName"]: a["@odata.id"] for a in accounts}
    assert set(users) == {"root", "admin"}
    service = bmc.get("/redfish/v1/AccountService").json()
    assert service["AccountLockoutThreshold"] == 3
    # rotate admin's password: the old one stops working, the new one works
    assert bmc.send("PATCH", users["admin"], {"Password": "short"}).status_code == 400
    assert bmc.send("PATCH", users["admin"], {"Password": "Rotated-Pass-2"}).status_code == 204
    assert bmc.get("/redfish/v1/Systems").status_code == 401
    new = ("admin", "Rotated-Pass-2")
    assert bmc.get("/redfish/v1/Systems", auth=new).status_code == 200
    # disable the factory account, rename is possible too; an account cannot disable itself
    assert bmc.send("PATCH", users["root"], {"Enabled": False}, auth=new).status_code == 204
    assert bmc.get("/redfish/v1/Systems", auth=("root", BMC_FACTORY_PASSWORD)).status_code == 401
    assert bmc.send("PATCH", users["admin"], {"Enabled": False}, auth=new).status_code == 400
    assert bmc.send("PATCH", users["admin"], {"Bogus": 1}, auth=new).status_code == 400
    system = bmc.get(bmc.system_path(new), auth=new).json()
    reset = system["Actions"]["#ComputerSystem.Reset"]["target"]
    bmc.send("POST", reset, {"ResetType": "On"}, auth=new)
    time.sleep(1.2)  # powered on (0.5-1 s); the override below waits for the next boot
    bmc.send("PATCH", bmc.system_path(new),
             {"Boot": {"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}}, auth=new)
    # no password in the state file, only bcrypt hashes
    text = (bmc.state_dir / "state.json").read_text()
    assert "Rotated-Pass-2" not in text and BMC_PASSWORD not in text and BMC_FACTORY_PASSWORD not in text
    # a restart keeps everything: accounts, power, the pending override, the counters
    before = json.loads(text)
    bmc.restart()
    assert bmc.get("/redfish/v1/Systems", auth=new).status_code == 200
    assert bmc.get("/redfish/v1/Systems").status_code == 401
    system = bmc.get(bmc.system_path(new), auth=new).json()
    assert system["PowerState"] == "On"
    assert system["Boot"]["BootSourceOverrideEnabled"] == "Once"
    after = bmc.state()
    assert after["auth"]["failed_logins"] >= before["auth"]["failed_logins"] + 1
    assert [a["Enabled"] for a in after["accounts"]] == [False, True]


def test_power_hooks_run_what_the_server_does(tmp_path, tls):
    """--on-boot runs with the boot source and mode of each boot, --on-power-off at each
    power loss (the lab's bare nodes network-boot this way)."""
    record = tmp_path / "hooks.log"
    hook = "sh -c 'echo $0 \"$@\" >> %s'" % record
    sim = Bmc(tmp_path / "state", tls, extra=["--on-boot", hook + " boot", "--on-power-off", hook + " off"]).start()
    try:
        system = sim.system_path()
        reset = sim.get(system).json()["Actions"]["#ComputerSystem.Reset"]["target"]
        sim.send("PATCH", system, {"Boot": {"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}})
        sim.send("POST", reset, {"ResetType": "On"})
        sim.wait_power("On")
        sim.send("POST", reset, {"ResetType": "ForceRestart"})
        time.sleep(0.1)
        sim.wait_power("On")
        sim.send("POST", reset, {"ResetType": "ForceOff"})
        sim.wait_power("Off")
        deadline = time.time() + 10
        while time.time() < deadline and len(record.read_text().splitlines() if record.exists() else []) < 4:
            time.sleep(0.1)
        assert record.read_text().splitlines() == [
            "boot --source Pxe --mode UEFI", "off", "boot --source Hdd --mode UEFI", "off"]
    finally:
        sim.stop()
