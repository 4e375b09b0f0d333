"""aifabric lab test double of a server BMC speaking Redfish over HTTPS.

Built on sushy-tools (its Flask application and its *fake* systems driver: power
actions, boot override, system EthernetInterfaces, VirtualMedia, SecureBoot) and
extended here for what a BMC role needs and sushy-tools lacks:

- HTTP Basic authentication against an AccountService (bcrypt hashes in the state),
  401 on wrong credentials, a failed-login counter and account lockout after
  ``AccountLockoutThreshold`` consecutive failures, as real BMCs do;
- AccountService with an Accounts collection (GET, POST, PATCH of UserName, Password,
  Enabled, RoleId and Locked=false, DELETE), including a factory default account;
- Manager settings: NetworkProtocol (HostName, FQDN, NTP servers, HTTPS/IPMI/SSH) and
  the manager's own EthernetInterfaces (HostName, FQDN, MAC, IPv4 address);
- inventory fields the fake driver does not have (Model, Manufacturer, SerialNumber,
  SKU, BiosVersion), a truthful ``BootSourceOverrideEnabled`` (Once / Continuous /
  Disabled, a Once override consumed by the next boot), UefiHttp kept as UefiHttp;
- configurable power-transition delay, a boot/power event log, and all state in one
  JSON file (``<state-dir>/state.json``, rewritten atomically) that survives restarts;
- what the server does when its power changes: ``--on-boot CMD`` runs CMD with
  ``--source <Pxe|UefiHttp|Hdd|...> --mode <UEFI|Legacy>`` appended each time the host
  boots, ``--on-power-off CMD`` each time it loses power (the lab's bare nodes run their
  network-boot simulator this way, simulators/netboot);
- firmware: an UpdateService with a FirmwareInventory shaped by ``--profile`` (BMC, BIOS,
  CPLD, and the HGX baseboard's GPU VBIOS / NVSwitch entries), ``SimpleUpdate`` of an
  aifabric firmware package (a small JSON document) fetched over HTTP(S), a TaskService
  whose tasks run New -> Running -> Completed / Exception over ``--update-duration``
  seconds, BIOS updates activated by the next boot, and a one-shot failure hook.

Test-side only; never part of the collection's production paths. One process is one
BMC (sushy-tools' application is a module-level singleton), listening on the address
given (the lab uses 127.0.0.1). See lab/simulators/README.md.
"""
import argparse
import base64
import binascii
import copy
import datetime
import ipaddress
import json
import logging
import os
import random
import shlex
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid as uuidlib
from collections.abc import MutableMapping

import bcrypt
import flask
from werkzeug import serving

from sushy_tools.emulator import main as sushy_main
from sushy_tools.emulator.resources.systems import fakedriver

BCRYPT_ROUNDS = 4  # the minimum: a test double, checked on every request
MAX_EVENTS = 500
LOCK = threading.RLock()
ROLES = ("Administrator", "Operator", "ReadOnly")
BOOT_TARGETS = ["None", "Pxe", "Hdd", "Cd", "BiosSetup", "UefiHttp", "UefiShell", "Usb"]
RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn",
               "PowerCycle"]
EXEMPT = frozenset(["", "redfish", "redfish/v1", "redfish/v1/odata", "redfish/v1/$metadata"])
HOOK_PREFIX = "/aifabric-sim/"
PROFILES = ("hgx-h100-8gpu", "hgx-a100-8gpu", "pcie-l40s-4gpu", "mgmt-generic")
# the same VBIOS versions as the lab nvidia-smi (sim-packages/nvidia-utils-580) reports
GPU_VBIOS = {"hgx-h100-8gpu": ("96.00.89.00.01", "0x2330"), "hgx-a100-8gpu": ("92.00.36.00.02", "0x20B2")}
NVSWITCH = {"hgx-h100-8gpu": ("96.10.55.00.01", "0x22A3")}
FIRMWARE_URI = "/redfish/v1/UpdateService/FirmwareInventory"
SIMPLE_UPDATE_URI = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
TASKS_URI = "/redfish/v1/TaskService/Tasks"
TRANSFER_PROTOCOLS = ["HTTP", "HTTPS"]
MAX_TASKS = 100
MAX_PACKAGE_BYTES = 1 << 20
UPDATE_SETTINGS = {"duration": 2.0}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def hash_password(password):
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode()


def redfish_error(status, message_id, message, headers=None):
    body = {"error": {"code": "Base.1.8.GeneralError", "message": message,
                      "@Message.ExtendedInfo": [{"@odata.type": "#Message.v1_1_1.Message",
                                                 "MessageId": message_id, "Message": message,
                                                 "Severity": "Critical", "Resolution": "None"}]}}
    resp = flask.Response(json.dumps(body), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def unknown_property(data, allowed):
    """The Redfish PropertyUnknown error for the first property of a request that is not in allowed, else None."""
    unknown = set(data) - set(allowed)
    if not unknown:
        return None
    return redfish_error(400, "Base.1.8.PropertyUnknown",
                         "The property %s is not in the list of valid properties for the resource." % sorted(unknown)[0])


class Store:
    """The whole BMC state, one JSON document, saved atomically on every change."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, "state.json")
        os.makedirs(state_dir, exist_ok=True)
        self.data = None
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                self.data = json.load(f)

    def save(self):
        with LOCK:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp, self.path)

    def event(self, kind, **fields):
        fields.update({"type": kind, "time": round(time.time(), 3)})
        self.data["events"].append(fields)
        del self.data["events"][:-MAX_EVENTS]


STORE = None
HOOKS = {}


def run_hook(kind, *extra):
    """Start the --on-boot / --on-power-off command (not waited for: the host boots on its own)."""
    cmd = HOOKS.get(kind)
    if cmd:
        subprocess.Popen(shlex.split(cmd) + list(extra),  # pylint: disable=consider-using-with
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)


class JsonSystems(MutableMapping):
    """The fake driver's system table (a sqlite PersistentDict upstream), kept in state.json."""

    def __init__(self, store):
        self.store = store

    @property
    def _table(self):
        return self.store.data["systems"]

    def __getitem__(self, key):
        return copy.deepcopy(self._table[key])

    def __setitem__(self, key, value):
        self._table[key] = copy.deepcopy(value)
        self.store.save()

    def __delitem__(self, key):
        del self._table[key]
        self.store.save()

    def __iter__(self):
        return iter(list(self._table))

    def __len__(self):
        return len(self._table)


class LabFakeDriver(fakedriver.FakeDriver):
    """sushy-tools' fake driver with JSON state, a configurable delay and one-time boot."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self._systems = JsonSystems(STORE)
        for system in self._config["SUSHY_EMULATOR_FAKE_SYSTEMS"]:
            if system["uuid"] not in self._systems:
                self._systems[system["uuid"]] = copy.deepcopy(system)
        self._by_name = {system["name"]: uuid for uuid, system in self._systems.items()}

    def _update_if_needed(self, system):
        pending = system.get("pending_power")
        if pending and time.time() >= pending["apply_time"]:
            before = system["power_state"]
            target = "On" if ("Restart" in pending["power_state"] or pending["power_state"] == "PowerCycle") \
                else pending["power_state"]
            changes = {"power_state": target, "pending_power": None}
            if target == "On" and (before == "Off" or pending["power_state"] != "On"):
                enabled = system.get("boot_override_enabled", "Disabled")
                device = system.get("boot_device", "None")
                source = device if enabled in ("Once", "Continuous") and device not in ("None", None) else "Hdd"
                STORE.event("boot", system=system["name"], source=source, override=enabled,
                            mode=system.get("boot_mode", "UEFI"), reset=pending.get("reset_type"))
                system["boot_count"] = system.get("boot_count", 0) + 1
                activate_pending_firmware()
                if enabled == "Once":
                    changes.update(boot_override_enabled="Disabled", boot_device="None")
                run_hook("boot", "--source", source, "--mode", system.get("boot_mode", "UEFI"))
            elif target == "Off" and before != "Off":
                STORE.event("power_off", system=system["name"])
                run_hook("power_off")
            self._update(system, **changes)
        return system

    def set_power_state(self, identity, state):
        low, high = self._config.get("AIFABRIC_POWER_DELAY", (1.0, 3.0))
        system = self._get(identity)
        if state in ("On", "ForceOn"):
            pending = "On"
        elif state in ("ForceOff", "GracefulShutdown"):
            pending = "Off"
        elif state in ("GracefulRestart", "ForceRestart", "PowerCycle"):
            pending = state
        elif state == "PushPowerButton":
            pending = "Off" if system["power_state"] == "On" else "On"
        elif state == "Nmi":
            STORE.event("reset", system=system["name"], reset_type=state)
            STORE.save()
            return
        else:
            raise fakedriver.error.BadRequest("Power state %s is not supported" % state)
        STORE.event("reset", system=system["name"], reset_type=state, from_state=system["power_state"])
        if pending not in ("On", "Off"):
            # a restart: the host goes down now and comes back after the delay
            if system["power_state"] == "On":
                STORE.event("power_off", system=system["name"])
                run_hook("power_off")
            system["power_state"] = "Off"
        if system["power_state"] != pending:
            self._update(system, pending_power={"power_state": pending, "reset_type": state,
                                                "apply_time": time.time() + random.uniform(low, high)})
        else:
            self._update(system, pending_power=None)

    def get_boot_device(self, identity):
        return self._get(identity).get("boot_device", "None")

    def get_nics(self, identity):
        return [{"id": nic["mac"].replace(":", "").lower(), "mac": nic["mac"]} for nic in self._get(identity)["nics"]]

    def tick(self):
        for identity in list(self._systems):
            self._get(identity)


# ---------------------------------------------------------------------------
# Authentication (replaces sushy-tools' htpasswd middleware)


class RedfishAuth:
    """HTTP Basic against the AccountService; counts failures and locks accounts."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        with LOCK:
            if path.strip("/") in EXEMPT or path.startswith(HOOK_PREFIX):
                return self.wsgi_app(environ, start_response)
            user, failure = self.authenticate(environ)
            if failure is not None:
                return failure(environ, start_response)
            environ["REMOTE_USER"] = user
            return self.wsgi_app(environ, start_response)

    @staticmethod
    def _unauthorized(message):
        with sushy_main.app.app_context():
            return redfish_error(401, "Base.1.8.NoValidSession", message,
                                 {"WWW-Authenticate": 'Basic realm="Redfish"'})

    def authenticate(self, environ):
        header = environ.get("HTTP_AUTHORIZATION", "")
        data = STORE.data
        if not header:
            return None, self._unauthorized("Authentication required: no credentials were sent.")
        try:
            kind, token = header.strip().split(None, 1)
            if kind.lower() != "basic":
                raise ValueError(kind)
            username, password = base64.b64decode(token, validate=True).decode().split(":", 1)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None, self._unauthorized("Authentication failed: malformed Authorization header.")
        account = next((a for a in data["accounts"] if a["UserName"] == username and username), None)
        svc = data["account_service"]
        if account is not None and account.get("Locked") and svc["AccountLockoutDuration"]:
            if time.time() - account.get("locked_at", 0) >= svc["AccountLockoutDuration"]:
                account.update(Locked=False, failures=0)
        ok = account is not None and bcrypt.checkpw(password.encode(), account["password_hash"].encode())
        if ok and account["Enabled"] and not account.get("Locked"):
            account["failures"] = 0
            data["auth"]["successful_logins"] += 1
            STORE.save()
            return username, None
        auth = data["auth"]
        auth["failed_logins"] += 1
        auth["failed_by_user"][username] = auth["failed_by_user"].get(username, 0) + 1
        reason = "bad_password"
        if account is None:
            reason = "unknown_user"
        elif account.get("Locked"):
            reason = "locked"
        elif not account["Enabled"]:
            reason = "disabled"
        if account is not None and reason == "bad_password":
            account["failures"] = account.get("failures", 0) + 1
            threshold = svc["AccountLockoutThreshold"]
            if threshold and account["failures"] >= threshold:
                account.update(Locked=True, locked_at=time.time())
                STORE.event("account_locked", user=username)
        STORE.event("login_failed", user=username, reason=reason, path=environ.get("PATH_INFO", ""))
        STORE.save()
        return None, self._unauthorized("Authentication failed: invalid user name or password.")


# ---------------------------------------------------------------------------
# Extensions of sushy-tools' resources

APP = sushy_main.app
_ORIGINAL = {}


def wrap_view(endpoint):
    def decorator(func):
        _ORIGINAL[endpoint] = APP.view_functions[endpoint]
        APP.view_functions[endpoint] = func
        return func
    return decorator


def original_json(endpoint, **kwargs):
    resp = _ORIGINAL[endpoint](**kwargs)
    if resp.status_code != 200:
        return None, resp
    return json.loads(resp.get_data(as_text=True)), resp


def json_response(obj, status=200):
    return flask.Response(json.dumps(obj, indent=2), status=status, content_type="application/json")


def body():
    try:
        data = flask.request.get_json(force=True)
    except Exception:  # pylint: disable=broad-except
        data = None
    if not isinstance(data, dict):
        raise sushy_main.error.BadRequest("Request must be a JSON object")
    return data


@wrap_view("root_resource")
def root_resource():
    data, resp = original_json("root_resource")
    if data is None:
        return resp
    bmc = STORE.data["bmc"]
    data.update({"Id": "RootService", "Name": "Root Service", "RedfishVersion": "1.11.0",
                 "UUID": bmc["service_uuid"], "Vendor": bmc["manufacturer"], "Product": bmc["product"],
                 "AccountService": {"@odata.id": "/redfish/v1/AccountService"},
                 "UpdateService": {"@odata.id": "/redfish/v1/UpdateService"},
                 "TaskService": {"@odata.id": "/redfish/v1/TaskService"}})
    return json_response(data)


@wrap_view("system_resource")
def system_resource(identity):
    driver = APP.systems
    if flask.request.method == "PATCH":
        return patch_system(driver, identity)
    data, resp = original_json("system_resource", identity=identity)
    if data is None:
        return resp
    system = driver._get(identity)  # pylint: disable=protected-access
    bmc = STORE.data["bmc"]
    data.update({"Manufacturer": bmc["manufacturer"], "Model": bmc["model"], "SKU": bmc["sku"],
                 "SerialNumber": bmc["serial"], "PartNumber": bmc["part_number"],
                 "BiosVersion": bmc["bios_version"], "SystemType": "Physical",
                 "HostName": system.get("host_name", "")})
    boot = data.setdefault("Boot", {})
    boot.update({"BootSourceOverrideEnabled": system.get("boot_override_enabled", "Disabled"),
                 "BootSourceOverrideTarget": system.get("boot_device", "None"),
                 "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
                 "BootSourceOverrideMode": system.get("boot_mode", "UEFI"),
                 "BootSourceOverrideEnabled@Redfish.AllowableValues": ["Once", "Continuous", "Disabled"]})
    if system.get("http_boot_uri"):
        boot["HttpBootUri"] = system["http_boot_uri"]
    data["Actions"]["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"] = RESET_TYPES
    return json_response(data)


def patch_system(driver, identity):
    data = body()
    boot = data.get("Boot")
    error = unknown_property(data, {"Boot", "IndicatorLED", "HostName"})
    if error:
        return error
    system = driver._get(identity)  # pylint: disable=protected-access
    changes = {}
    if "HostName" in data:
        changes["host_name"] = str(data["HostName"])
    if boot:
        target = boot.get("BootSourceOverrideTarget")
        enabled = boot.get("BootSourceOverrideEnabled")
        mode = boot.get("BootSourceOverrideMode")
        if target is not None and target not in BOOT_TARGETS:
            return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                                 "The value %s for the property BootSourceOverrideTarget is not in the list "
                                 "of acceptable values." % target)
        if enabled is not None and enabled not in ("Once", "Continuous", "Disabled"):
            return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                                 "The value %s for the property BootSourceOverrideEnabled is not in the list "
                                 "of acceptable values." % enabled)
        if mode is not None and mode not in ("UEFI", "Legacy"):
            return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                                 "The value %s for the property BootSourceOverrideMode is not in the list "
                                 "of acceptable values." % mode)
        if target is not None:
            changes["boot_device"] = target
            if enabled is None and target != "None" and system.get("boot_override_enabled", "Disabled") == "Disabled":
                enabled = "Once"
        if enabled is not None:
            changes["boot_override_enabled"] = enabled
            if enabled == "Disabled":
                changes["boot_device"] = "None"
        if mode is not None:
            changes["boot_mode"] = mode
        if "HttpBootUri" in boot:
            changes["http_boot_uri"] = boot["HttpBootUri"]
        STORE.event("boot_override", system=system["name"], target=changes.get("boot_device"),
                    enabled=changes.get("boot_override_enabled"), mode=changes.get("boot_mode"))
    driver._update(system, **changes)  # pylint: disable=protected-access
    if data.get("IndicatorLED"):
        APP.indicators.set_indicator_state(system["uuid"], data["IndicatorLED"])
    return flask.Response(status=204)


@wrap_view("manager_resource")
def manager_resource(identity):
    if flask.request.method == "PATCH":
        return _ORIGINAL["manager_resource"](identity=identity)
    data, resp = original_json("manager_resource", identity=identity)
    if data is None:
        return resp
    bmc = STORE.data["bmc"]
    base = "/redfish/v1/Managers/%s" % data["Id"]
    data.update({"Description": "Baseboard Management Controller", "Model": bmc["manager_model"],
                 "Manufacturer": bmc["manufacturer"], "FirmwareVersion": bmc["firmware_version"],
                 "SerialNumber": bmc["serial"] + "-BMC",
                 "NetworkProtocol": {"@odata.id": base + "/NetworkProtocol"},
                 "EthernetInterfaces": {"@odata.id": base + "/EthernetInterfaces"},
                 "Actions": {"#Manager.Reset": {"target": base + "/Actions/Manager.Reset",
                                                "ResetType@Redfish.AllowableValues": ["GracefulRestart"]}}})
    return json_response(data)


def _manager(identity):
    manager = APP.managers.get_manager(identity)
    return "/redfish/v1/Managers/%s" % manager["Id"]


@APP.route("/redfish/v1/Managers/<identity>/Actions/Manager.Reset", methods=["POST"])
def manager_reset(identity):
    _manager(identity)
    STORE.event("manager_reset")
    STORE.save()
    return flask.Response(status=204)


@APP.route("/redfish/v1/Managers/<identity>/NetworkProtocol", methods=["GET", "PATCH"])
def network_protocol(identity):
    base = _manager(identity)
    bmc = STORE.data["bmc"]
    if flask.request.method == "PATCH":
        data = body()
        error = unknown_property(data, {"HostName", "NTP", "HTTPS", "IPMI", "SSH"})
        if error:
            return error
        if "HostName" in data:
            bmc["hostname"] = str(data["HostName"])
        for proto in ("NTP", "HTTPS", "IPMI", "SSH"):
            if proto in data:
                settings = data[proto]
                if not isinstance(settings, dict) or set(settings) - {"ProtocolEnabled", "Port", "NTPServers"}:
                    return redfish_error(400, "Base.1.8.PropertyValueTypeError",
                                         "The value for the property %s is of a different type than the "
                                         "property can accept." % proto)
                if "NTPServers" in settings and proto != "NTP":
                    return redfish_error(400, "Base.1.8.PropertyUnknown",
                                         "The property NTPServers is not valid for %s." % proto)
                current = bmc["protocols"][proto]
                if "ProtocolEnabled" in settings:
                    current["ProtocolEnabled"] = bool(settings["ProtocolEnabled"])
                if "Port" in settings and proto != "NTP":
                    current["Port"] = int(settings["Port"])
                if "NTPServers" in settings:
                    servers = settings["NTPServers"]
                    if not isinstance(servers, list) or len(servers) > 3:
                        return redfish_error(400, "Base.1.8.PropertyValueFormatError",
                                             "NTPServers takes a list of at most 3 servers.")
                    current["NTPServers"] = [str(s) for s in servers]
        STORE.event("manager_settings", changed=sorted(data))
        STORE.save()
        return flask.Response(status=204)
    protocols = copy.deepcopy(bmc["protocols"])
    ntp = protocols["NTP"]
    ntp["NTPServers"] = (ntp["NTPServers"] + ["", "", ""])[:3]  # as most BMCs show their three slots
    out = {"@odata.type": "#ManagerNetworkProtocol.v1_5_0.ManagerNetworkProtocol",
           "@odata.id": base + "/NetworkProtocol", "Id": "NetworkProtocol",
           "Name": "Manager Network Protocol", "HostName": bmc["hostname"],
           "FQDN": bmc["hostname"] + ("." + bmc["domain"] if bmc["domain"] else ""),
           "Status": {"State": "Enabled", "Health": "OK"}}
    out.update(protocols)
    return json_response(out)


@APP.route("/redfish/v1/Managers/<identity>/EthernetInterfaces", methods=["GET"])
def manager_nics(identity):
    base = _manager(identity)
    return json_response({"@odata.type": "#EthernetInterfaceCollection.EthernetInterfaceCollection",
                          "@odata.id": base + "/EthernetInterfaces", "Name": "Manager NIC Collection",
                          "Members@odata.count": 1, "Members": [{"@odata.id": base + "/EthernetInterfaces/1"}]})


@APP.route("/redfish/v1/Managers/<identity>/EthernetInterfaces/<nic>", methods=["GET", "PATCH"])
def manager_nic(identity, nic):
    base = _manager(identity)
    if nic != "1":
        return redfish_error(404, "Base.1.8.ResourceNotFound", "The requested resource was not found.")
    bmc = STORE.data["bmc"]
    if flask.request.method == "PATCH":
        data = body()
        unknown = set(data) - {"HostName", "FQDN"}
        if unknown:
            return redfish_error(400, "Base.1.8.PropertyNotWritable",
                                 "The property %s is a read only property and cannot be assigned a value."
                                 % sorted(unknown)[0])
        if "HostName" in data:
            bmc["hostname"] = str(data["HostName"])
        if "FQDN" in data:
            name, _dot, domain = str(data["FQDN"]).partition(".")
            bmc["hostname"], bmc["domain"] = name, domain
        STORE.event("manager_settings", changed=sorted(data))
        STORE.save()
        return flask.Response(status=204)
    return json_response({
        "@odata.type": "#EthernetInterface.v1_6_0.EthernetInterface", "@odata.id": base + "/EthernetInterfaces/1",
        "Id": "1", "Name": "Manager Ethernet Interface", "Description": "Management Network Interface",
        "HostName": bmc["hostname"], "FQDN": bmc["hostname"] + ("." + bmc["domain"] if bmc["domain"] else ""),
        "MACAddress": bmc["mac"], "PermanentMACAddress": bmc["mac"], "SpeedMbps": 1000, "AutoNeg": True,
        "FullDuplex": True, "MTUSize": 1500, "InterfaceEnabled": True, "LinkStatus": "LinkUp",
        "Status": {"State": "Enabled", "Health": "OK"},
        "IPv4Addresses": [{"Address": bmc["address"], "SubnetMask": "255.255.255.0", "AddressOrigin": "Static",
                           "Gateway": "0.0.0.0"}],
        "IPv6Addresses": [], "NameServers": []})


# AccountService


def _account_view(account):
    return {"@odata.type": "#ManagerAccount.v1_7_0.ManagerAccount",
            "@odata.id": "/redfish/v1/AccountService/Accounts/%s" % account["Id"],
            "Id": account["Id"], "Name": "User Account", "Description": "User Account",
            "UserName": account["UserName"], "Password": None, "RoleId": account["RoleId"],
            "Enabled": account["Enabled"], "Locked": bool(account.get("Locked")),
            "PasswordChangeRequired": False, "AccountTypes": ["Redfish"],
            "Links": {"Role": {"@odata.id": "/redfish/v1/AccountService/Roles/%s" % account["RoleId"]}}}


def _find_account(account_id):
    return next((a for a in STORE.data["accounts"] if a["Id"] == account_id), None)


@APP.route("/redfish/v1/AccountService", methods=["GET", "PATCH"])
def account_service():
    svc = STORE.data["account_service"]
    if flask.request.method == "PATCH":
        data = body()
        error = unknown_property(data, {"AccountLockoutThreshold", "AccountLockoutDuration", "MinPasswordLength"})
        if error:
            return error
        svc.update({k: int(v) for k, v in data.items()})
        STORE.save()
        return flask.Response(status=204)
    out = {"@odata.type": "#AccountService.v1_8_0.AccountService", "@odata.id": "/redfish/v1/AccountService",
           "Id": "AccountService", "Name": "Account Service", "ServiceEnabled": True,
           "Status": {"State": "Enabled", "Health": "OK"}, "MaxPasswordLength": 20,
           "Accounts": {"@odata.id": "/redfish/v1/AccountService/Accounts"},
           "Roles": {"@odata.id": "/redfish/v1/AccountService/Roles"},
           "AuthFailureLoggingThreshold": 1, "AccountLockoutCounterResetAfter": 0}
    out.update(svc)
    return json_response(out)


@APP.route("/redfish/v1/AccountService/Roles", methods=["GET"])
def roles():
    return json_response({"@odata.type": "#RoleCollection.RoleCollection", "@odata.id": "/redfish/v1/AccountService/Roles",
                          "Name": "Roles Collection", "Members@odata.count": len(ROLES),
                          "Members": [{"@odata.id": "/redfish/v1/AccountService/Roles/%s" % r} for r in ROLES]})


@APP.route("/redfish/v1/AccountService/Accounts", methods=["GET", "POST"])
def accounts():
    data = STORE.data
    if flask.request.method == "POST":
        req = body()
        error = _validate_account_patch(req, creating=True)
        if error is not None:
            return error
        next_id = str(max([int(a["Id"]) for a in data["accounts"]] + [1]) + 1)
        account = {"Id": next_id, "UserName": req["UserName"], "RoleId": req.get("RoleId", "ReadOnly"),
                   "Enabled": bool(req.get("Enabled", True)), "Locked": False, "failures": 0,
                   "password_hash": hash_password(req["Password"])}
        data["accounts"].append(account)
        STORE.event("account_created", user=account["UserName"], id=next_id)
        STORE.save()
        resp = json_response(_account_view(account), 201)
        resp.headers["Location"] = "/redfish/v1/AccountService/Accounts/%s" % next_id
        return resp
    members = [{"@odata.id": "/redfish/v1/AccountService/Accounts/%s" % a["Id"]} for a in data["accounts"]]
    return json_response({"@odata.type": "#ManagerAccountCollection.ManagerAccountCollection",
                          "@odata.id": "/redfish/v1/AccountService/Accounts", "Name": "Accounts Collection",
                          "Members@odata.count": len(members), "Members": members})


def _validate_account_patch(req, creating=False, account=None):
    error = unknown_property(req, {"UserName", "Password", "Enabled", "RoleId", "Locked"})
    if error:
        return error
    if creating and (not req.get("UserName") or not req.get("Password")):
        return redfish_error(400, "Base.1.8.PropertyMissing",
                             "The property UserName or Password is a required property and must be included "
                             "in the request.")
    if "Password" in req:
        pw = req["Password"]
        minimum = STORE.data["account_service"]["MinPasswordLength"]
        if not isinstance(pw, str) or not minimum <= len(pw) <= 20:
            return redfish_error(400, "Base.1.8.PropertyValueFormatError",
                                 "The value for the property Password is of a different format than the property "
                                 "can accept (%d to 20 characters)." % minimum)
    if "RoleId" in req and req["RoleId"] not in ROLES:
        return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                             "The value %s for the property RoleId is not in the list of acceptable values."
                             % req["RoleId"])
    if "Locked" in req and req["Locked"] is not False:
        return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                             "The property Locked can only be set to false.")
    if "UserName" in req:
        taken = [a for a in STORE.data["accounts"] if a["UserName"] == req["UserName"] and a is not account]
        if taken and req["UserName"]:
            return redfish_error(400, "Base.1.8.ResourceAlreadyExists",
                                 "The requested resource already exists (UserName %s)." % req["UserName"])
    return None


@APP.route("/redfish/v1/AccountService/Accounts/<account_id>", methods=["GET", "PATCH", "DELETE"])
def account(account_id):
    acct = _find_account(account_id)
    if acct is None:
        return redfish_error(404, "Base.1.8.ResourceNotFound", "The requested resource was not found.")
    if flask.request.method == "GET":
        return json_response(_account_view(acct))
    if flask.request.method == "DELETE":
        if acct["UserName"] == flask.request.environ.get("REMOTE_USER"):
            return redfish_error(400, "Base.1.8.ActionNotSupported", "An account cannot delete itself.")
        STORE.data["accounts"].remove(acct)
        STORE.event("account_deleted", user=acct["UserName"], id=account_id)
        STORE.save()
        return flask.Response(status=204)
    req = body()
    error = _validate_account_patch(req, account=acct)
    if error is not None:
        return error
    if req.get("Enabled") is False and acct["UserName"] == flask.request.environ.get("REMOTE_USER"):
        return redfish_error(400, "Base.1.8.ActionNotSupported",
                             "The account used for this request cannot disable itself.")
    changed = sorted(req)
    if "UserName" in req:
        acct["UserName"] = req["UserName"]
    if "Password" in req:
        acct["password_hash"] = hash_password(req["Password"])
        acct["failures"] = 0
        acct["password_changes"] = acct.get("password_changes", 0) + 1
    if "Enabled" in req:
        acct["Enabled"] = bool(req["Enabled"])
    if "RoleId" in req:
        acct["RoleId"] = req["RoleId"]
    if req.get("Locked") is False:
        acct.update(Locked=False, failures=0)
    STORE.event("account_patched", id=account_id, user=acct["UserName"], changed=changed)
    STORE.save()
    return flask.Response(status=204)


# ---------------------------------------------------------------------------
# Firmware: UpdateService, FirmwareInventory, SimpleUpdate and its tasks


def initial_firmware(profile, bmc):
    """The firmware inventory of a fresh state for a hardware profile."""
    def entry(name, version, software_id, manufacturer):
        return {"Name": name, "Version": version, "Updateable": True, "SoftwareId": software_id,
                "Manufacturer": manufacturer, "pending": None}
    inv = {"BMC": entry("BMC Firmware", bmc["firmware_version"], "BMC-" + bmc["manager_model"], bmc["manufacturer"]),
           "BIOS": entry("System BIOS", bmc["bios_version"], "BIOS-X86-UEFI", bmc["manufacturer"]),
           "CPLD_0": entry("System CPLD", "0.2.8", "CPLD-SYS", bmc["manufacturer"])}
    if profile in GPU_VBIOS:
        version, device = GPU_VBIOS[profile]
        for n in range(1, 9):
            inv["HGX_FW_GPU_SXM_%d" % n] = entry("GPU SXM %d VBIOS" % n, version, device, "NVIDIA")
    if profile in NVSWITCH:
        version, device = NVSWITCH[profile]
        for n in range(4):
            inv["HGX_FW_NVSwitch_%d" % n] = entry("NVSwitch %d" % n, version, device, "NVIDIA")
    return inv


def firmware_version(component_id):
    """The running version of a component (BMC and BIOS read the manager's / system's own fields)."""
    bmc = STORE.data["bmc"]
    if component_id == "BMC":
        return bmc["firmware_version"]
    if component_id == "BIOS":
        return bmc["bios_version"]
    return STORE.data["firmware"][component_id]["Version"]


def set_firmware_version(component_id, version):
    STORE.data["firmware"][component_id]["Version"] = version
    if component_id == "BMC":
        STORE.data["bmc"]["firmware_version"] = version
    elif component_id == "BIOS":
        STORE.data["bmc"]["bios_version"] = version


def activate_pending_firmware():
    """At a boot: firmware waiting for it (the BIOS) becomes the running version."""
    for component_id, item in STORE.data.get("firmware", {}).items():
        if item.get("pending"):
            before = firmware_version(component_id)
            set_firmware_version(component_id, item["pending"])
            item["pending"] = None
            STORE.event("firmware_activated", component_id=component_id, version=item["Version"], previous=before)


def _firmware_view(component_id):
    item = STORE.data["firmware"][component_id]
    return {"@odata.type": "#SoftwareInventory.v1_2_3.SoftwareInventory",
            "@odata.id": "%s/%s" % (FIRMWARE_URI, component_id), "Id": component_id, "Name": item["Name"],
            "Version": firmware_version(component_id), "Updateable": item["Updateable"],
            "SoftwareId": item["SoftwareId"], "Manufacturer": item["Manufacturer"],
            "Status": {"State": "Enabled", "Health": "OK"}}


def _task_view(task_id):
    task = STORE.data["tasks"][task_id]
    out = {"@odata.type": "#Task.v1_4_3.Task", "@odata.id": "%s/%s" % (TASKS_URI, task_id), "Id": task_id,
           "Name": "Firmware Update Task", "TaskState": task["TaskState"], "TaskStatus": task["TaskStatus"],
           "PercentComplete": task["PercentComplete"], "StartTime": task["StartTime"],
           "TaskMonitor": "%s/%s" % (TASKS_URI, task_id), "Messages": task["Messages"],
           "Payload": {"HttpOperation": "POST", "TargetUri": SIMPLE_UPDATE_URI,
                       "JsonBody": json.dumps(task["request"])}}
    if task.get("EndTime"):
        out["EndTime"] = task["EndTime"]
    return out


def _message(message_id, text, severity="OK", args=None):
    msg = {"@odata.type": "#Message.v1_1_1.Message", "MessageId": message_id, "Message": text,
           "Severity": severity, "Resolution": "None"}
    if args is not None:
        msg["MessageArgs"] = args
    return msg


@APP.route("/redfish/v1/UpdateService", methods=["GET"])
def update_service():
    return json_response({
        "@odata.type": "#UpdateService.v1_8_0.UpdateService", "@odata.id": "/redfish/v1/UpdateService",
        "Id": "UpdateService", "Name": "Update Service", "ServiceEnabled": True,
        "Status": {"State": "Enabled", "Health": "OK"}, "HttpPushUriOptionsBusy": False,
        "FirmwareInventory": {"@odata.id": FIRMWARE_URI},
        "Actions": {"#UpdateService.SimpleUpdate": {
            "target": SIMPLE_UPDATE_URI, "TransferProtocol@Redfish.AllowableValues": TRANSFER_PROTOCOLS}}})


@wrap_view("UpdateService.update_service_resource")
def update_service_slash():
    return update_service()


@APP.route(FIRMWARE_URI, methods=["GET"])
def firmware_inventory():
    members = [{"@odata.id": "%s/%s" % (FIRMWARE_URI, c)} for c in STORE.data["firmware"]]
    return json_response({"@odata.type": "#SoftwareInventoryCollection.SoftwareInventoryCollection",
                          "@odata.id": FIRMWARE_URI, "Name": "Firmware Inventory Collection",
                          "Members@odata.count": len(members), "Members": members})


@APP.route(FIRMWARE_URI + "/<component_id>", methods=["GET"])
def firmware_item(component_id):
    if component_id not in STORE.data["firmware"]:
        return redfish_error(404, "Base.1.8.ResourceNotFound", "The requested resource was not found.")
    return json_response(_firmware_view(component_id))


def _validate_simple_update(req):
    """(image URI, targets, error response): the SimpleUpdate request checked as a BMC checks it."""
    error = unknown_property(req, {"ImageURI", "TransferProtocol", "Targets", "Username", "Password",
                                   "@Redfish.OperationApplyTime"})
    if error:
        return None, None, error
    if not req.get("ImageURI"):
        return None, None, redfish_error(400, "Base.1.8.PropertyMissing", "The property ImageURI is a required "
                                         "property and must be included in the request.")
    uri, protocol = req["ImageURI"], req.get("TransferProtocol")
    if not isinstance(uri, str):
        return None, None, redfish_error(400, "Base.1.8.PropertyValueTypeError", "The value for the property "
                                         "ImageURI is of a different type than the property can accept.")
    if protocol is not None and protocol not in TRANSFER_PROTOCOLS:
        return None, None, redfish_error(400, "Base.1.8.PropertyValueNotInList", "The value %s for the property "
                                         "TransferProtocol is not in the list of acceptable values." % protocol)
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if not scheme and protocol:
        uri, scheme = protocol.lower() + "://" + uri, protocol.lower()
    if scheme not in ("http", "https") or (protocol and scheme != protocol.lower()):
        return None, None, redfish_error(400, "Base.1.8.PropertyValueFormatError", "The value %s for the property "
                                         "ImageURI is of a different format than the property can accept "
                                         "(an http:// or https:// URI)." % req["ImageURI"])
    targets = req.get("Targets")
    if targets is not None:
        valid = ["%s/%s" % (FIRMWARE_URI, c) for c in STORE.data["firmware"]]
        if not isinstance(targets, list) or not all(t in valid for t in targets):
            return None, None, redfish_error(400, "Base.1.8.PropertyValueNotInList", "The value %s for the property "
                                             "Targets is not in the list of acceptable values." % (targets,))
    return uri, targets, None


@wrap_view("UpdateService.update_service_simple_update")
def simple_update():
    req = body()
    uri, targets, error = _validate_simple_update(req)
    if error is not None:
        return error
    data = STORE.data
    data["next_task"] = data.get("next_task", 0) + 1
    task_id = str(data["next_task"])
    shown = {k: v for k, v in req.items() if k != "Password"}
    data["tasks"][task_id] = {"TaskState": "New", "TaskStatus": "OK", "PercentComplete": 0, "StartTime": now_iso(),
                              "Messages": [_message("TaskEvent.1.0.TaskStarted", "The task with id %s has started."
                                                    % task_id, args=[task_id])],
                              "request": shown, "image_uri": uri, "targets": targets, "component_id": None}
    for old in sorted(data["tasks"], key=int)[:-MAX_TASKS]:
        del data["tasks"][old]
    STORE.event("firmware_update_started", task=task_id, image_uri=uri, targets=targets)
    STORE.save()
    threading.Thread(target=_update_worker, args=(task_id, UPDATE_SETTINGS["duration"]), daemon=True).start()
    resp = json_response(_task_view(task_id), 202)
    resp.headers["Location"] = "%s/%s" % (TASKS_URI, task_id)
    return resp


def fetch_package(uri):
    """Download and parse a firmware package: (package dict, None) or (None, why not)."""
    try:
        with urllib.request.urlopen(uri, timeout=15) as resp:  # nosec - lab repo / test server URIs only
            raw = resp.read(MAX_PACKAGE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "Transfer of image '%s' failed: %s" % (uri, getattr(exc, "reason", exc))
    try:
        pkg = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        pkg = None
    if len(raw) > MAX_PACKAGE_BYTES or not isinstance(pkg, dict) or pkg.get("aifabric_firmware") != 1:
        return None, "The image '%s' is not a valid firmware package." % uri
    return pkg, None


def _check_package(pkg, targets):
    component_id, version = pkg.get("component_id"), pkg.get("version")
    if not isinstance(version, str) or not version:
        return "The firmware package has no version."
    if component_id not in STORE.data["firmware"]:
        return "The firmware package is for component '%s', which this system does not have." % component_id
    if targets and "%s/%s" % (FIRMWARE_URI, component_id) not in targets:
        return "The firmware package is for component '%s', which is not among the update targets." % component_id
    if not STORE.data["firmware"][component_id]["Updateable"]:
        return "The component '%s' is not updateable." % component_id
    return None


def _set_task(task_id, **fields):
    task = STORE.data["tasks"].get(task_id)
    if task is not None:
        task.update(fields)
        STORE.save()
    return task


def _fail_task(task_id, message, component_id=None):
    # the event first: _set_task saves the state file once with both
    STORE.event("firmware_update_failed", task=task_id, component_id=component_id, message=message)
    _set_task(task_id, TaskState="Exception", TaskStatus="Critical", EndTime=now_iso(),
              Messages=STORE.data["tasks"][task_id]["Messages"] + [
                  _message("Update.1.1.ApplyFailed", message, "Critical", [task_id])])


def _update_worker(task_id, duration):
    """Run one SimpleUpdate task: download, check, 'flash' over duration seconds, then apply."""
    steps = 10
    time.sleep(min(0.2, duration / steps))
    with LOCK:
        if task_id not in STORE.data["tasks"]:
            return
        # the state log records the transition, so a test need not catch it by polling
        STORE.event("firmware_task_running", task=task_id)
        task = _set_task(task_id, TaskState="Running", PercentComplete=0)
        uri, targets = task["image_uri"], task["targets"]
    pkg, error = fetch_package(uri)
    with LOCK:
        if error is None:
            error = _check_package(pkg, targets)
        if error is not None:
            _fail_task(task_id, error, pkg.get("component_id") if pkg else None)
            return
        component_id, version = pkg["component_id"], pkg["version"]
        injected = STORE.data["firmware_fail"].pop(component_id, None)
        _set_task(task_id, component_id=component_id, version=version)
    for step in range(1, steps + 1):
        time.sleep(duration / steps)
        with LOCK:
            if injected is not None and step >= steps // 2:
                _fail_task(task_id, injected, component_id)
                return
            if step < steps:
                _set_task(task_id, PercentComplete=step * 100 // steps)
    with LOCK:
        item = STORE.data["firmware"][component_id]
        messages = STORE.data["tasks"][task_id]["Messages"] + [
            _message("Update.1.1.UpdateSuccessful", "Update successful", args=[component_id, uri])]
        pending = component_id == "BIOS"
        if pending:
            item["pending"] = version
            system = next(iter(STORE.data["systems"]), None)
            if system is not None:
                messages.append(_message("Base.1.8.ResetRequired", "In order to complete the operation, a "
                                         "component reset is required with the Reset action URI "
                                         "'/redfish/v1/Systems/%s/Actions/ComputerSystem.Reset' and ResetType "
                                         "'ForceRestart'." % system, "Warning",
                                         ["/redfish/v1/Systems/%s/Actions/ComputerSystem.Reset" % system,
                                          "ForceRestart"]))
        else:
            set_firmware_version(component_id, version)
        STORE.event("firmware_update_completed", task=task_id, component_id=component_id, version=version,
                    pending=pending)
        _set_task(task_id, TaskState="Completed", TaskStatus="OK", PercentComplete=100, EndTime=now_iso(),
                  Messages=messages)


@wrap_view("simple_task_service")
def task_service():
    return json_response({"@odata.type": "#TaskService.v1_2_0.TaskService", "@odata.id": "/redfish/v1/TaskService",
                          "Id": "TaskService", "Name": "Task Service", "ServiceEnabled": True,
                          "CompletedTaskOverWritePolicy": "Oldest", "LifeCycleEventOnTaskStateChange": True,
                          "DateTime": now_iso(), "Status": {"State": "Enabled", "Health": "OK"},
                          "Tasks": {"@odata.id": TASKS_URI}})


@APP.route(TASKS_URI, methods=["GET"])
def tasks():
    members = [{"@odata.id": "%s/%s" % (TASKS_URI, t)} for t in sorted(STORE.data["tasks"], key=int)]
    return json_response({"@odata.type": "#TaskCollection.TaskCollection", "@odata.id": TASKS_URI,
                          "Name": "Task Collection", "Members@odata.count": len(members), "Members": members})


@APP.route(TASKS_URI + "/<task_id>", methods=["GET"])
def task_resource(task_id):
    if task_id not in STORE.data["tasks"]:
        return redfish_error(404, "Base.1.8.ResourceNotFound", "The requested resource was not found.")
    return json_response(_task_view(task_id))


@wrap_view("simple_task")
def task_42():
    return task_resource("42")


def ensure_firmware_state(data, profile):
    """Add the firmware parts to a state (a fresh one, or one written before they existed);
    tasks a restart interrupted end in Exception."""
    data.setdefault("profile", profile)
    data.setdefault("firmware", initial_firmware(data["profile"], data["bmc"]))
    data.setdefault("tasks", {})
    data.setdefault("firmware_fail", {})
    data.setdefault("next_task", 0)
    for task_id, task in data["tasks"].items():
        if task["TaskState"] in ("New", "Running", "Starting", "Pending"):
            task.update(TaskState="Exception", TaskStatus="Critical", EndTime=now_iso(),
                        Messages=task["Messages"] + [_message("Update.1.1.ApplyFailed", "The update was interrupted "
                                                              "by a restart of the BMC.", "Critical", [task_id])])


# Test hooks (not Redfish): read the state, unlock, without credentials; 127.0.0.1 only.


@APP.route(HOOK_PREFIX + "state", methods=["GET"])
def hook_state():
    APP.systems.tick()
    return json_response(STORE.data)


@APP.route(HOOK_PREFIX + "unlock", methods=["POST"])
def hook_unlock():
    for acct in STORE.data["accounts"]:
        acct.update(Locked=False, failures=0)
    STORE.save()
    return json_response({"unlocked": True})


@APP.route(HOOK_PREFIX + "firmware-fail", methods=["POST"])
def hook_firmware_fail():
    req = body()
    component_id = req.get("component_id")
    if component_id not in STORE.data["firmware"] or set(req) - {"component_id", "message"}:
        return redfish_error(400, "Base.1.8.PropertyValueNotInList",
                             "component_id must be one of %s" % sorted(STORE.data["firmware"]))
    message = str(req.get("message") or "Firmware update of %s failed." % component_id)
    STORE.data["firmware_fail"][component_id] = message
    STORE.event("firmware_fail_armed", component_id=component_id, message=message)
    STORE.save()
    return json_response({"armed": component_id, "message": message})


# ---------------------------------------------------------------------------
# State, TLS, server


def initial_state(args):
    name = args.name
    seed = uuidlib.uuid5(uuidlib.NAMESPACE_DNS, "aifabric-bmc." + name)
    rnd = random.Random(seed.int)
    macs = args.mac or ["02:%02x:%02x:%02x:%02x:%02x" % tuple(rnd.randrange(256) for _byte in range(5))]
    accounts = [{"Id": "1", "UserName": args.factory_username, "RoleId": "Administrator", "Enabled": True,
                 "Locked": False, "failures": 0, "password_hash": hash_password(args.factory_password),
                 "factory_default": True}]
    if args.username:
        accounts.append({"Id": "2", "UserName": args.username, "RoleId": "Administrator", "Enabled": True,
                         "Locked": False, "failures": 0, "password_hash": hash_password(args.password)})
    return {
        "version": 1,
        "bmc": {"name": name, "service_uuid": str(uuidlib.uuid5(seed, "service")),
                "manufacturer": args.manufacturer, "product": args.model, "model": args.model,
                "sku": args.sku, "part_number": "PN-" + seed.hex[:8].upper(),
                "serial": args.serial or "SN" + seed.hex[:10].upper(), "bios_version": "2.3.1",
                "manager_model": "AST2600", "firmware_version": "1.14.3", "address": args.listen,
                "mac": "02:%02x:%02x:%02x:%02x:%02x" % tuple(rnd.randrange(256) for _byte in range(5)),
                "hostname": "bmc-" + seed.hex[:6], "domain": "",
                "protocols": {"NTP": {"ProtocolEnabled": False, "NTPServers": []},
                              "HTTPS": {"ProtocolEnabled": True, "Port": 443},
                              "IPMI": {"ProtocolEnabled": True, "Port": 623},
                              "SSH": {"ProtocolEnabled": True, "Port": 22}}},
        "account_service": {"AccountLockoutThreshold": args.lockout_threshold,
                            "AccountLockoutDuration": args.lockout_duration, "MinPasswordLength": 8},
        "accounts": accounts,
        "auth": {"failed_logins": 0, "failed_by_user": {}, "successful_logins": 0},
        "systems": {},
        "events": [],
        "_system": {"uuid": str(uuidlib.uuid5(seed, "system")), "name": name, "power_state": args.power_state,
                    "external_notifier": bool(args.notify_url), "boot_device": "None",
                    "boot_override_enabled": "Disabled", "boot_mode": "UEFI",
                    "nics": [{"mac": m, "ip": ""} for m in macs]},
    }


def make_ca(directory, ips=("127.0.0.1",), names=("localhost",)):
    """A lab CA and a server certificate signed by it (SAN: the IPs and names)."""
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID  # pylint: disable=import-outside-toplevel

    os.makedirs(directory, exist_ok=True)
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    end = start + datetime.timedelta(days=3650)

    def pem_key(key, path):
        with open(path, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        os.chmod(path, 0o600)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aifabric lab"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "aifabric lab BMC CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips] + [x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (list(names) or list(ips))[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    pem_key(ca_key, os.path.join(directory, "ca.key"))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    pem_key(key, os.path.join(directory, "server.key"))
    return {n: os.path.join(directory, n) for n in ("ca.pem", "ca.key", "server.pem", "server.key")}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="aifabric-bmc-sim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd")
    ca = sub.add_parser("make-ca", help="write ca.pem/ca.key and server.pem/server.key into DIR")
    ca.add_argument("--dir", required=True)
    ca.add_argument("--ip", action="append", default=None, help="SAN IP address (repeatable; default 127.0.0.1)")
    ca.add_argument("--dns", action="append", default=None, help="SAN DNS name (repeatable; default localhost)")
    run = sub.add_parser("serve", help="serve one BMC (the default command)")
    run.add_argument("--listen", default="127.0.0.1")
    run.add_argument("--port", type=int, required=True)
    run.add_argument("--state-dir", required=True)
    run.add_argument("--tls-cert", required=True)
    run.add_argument("--tls-key", required=True)
    run.add_argument("--name", default="node", help="system name (a fresh state only)")
    run.add_argument("--model", default="AIF-HGX-8GPU")
    run.add_argument("--manufacturer", default="aifabric lab")
    run.add_argument("--sku", default="AIF-8GPU-H100")
    run.add_argument("--serial", default=None)
    run.add_argument("--mac", action="append", default=None, help="host NIC MAC (repeatable)")
    run.add_argument("--power-state", choices=["On", "Off"], default="Off")
    run.add_argument("--factory-username", default="root")
    run.add_argument("--factory-password", default="calvin")
    run.add_argument("--username", default=None, help="an extra administrator account")
    run.add_argument("--password", default=None)
    run.add_argument("--lockout-threshold", type=int, default=3)
    run.add_argument("--lockout-duration", type=int, default=0, help="seconds; 0 = until unlocked")
    run.add_argument("--power-delay", default="1,3", help="MIN[,MAX] seconds a power transition takes")
    run.add_argument("--notify-url", default=None, help="sushy-tools EXTERNAL_NOTIFICATION_URL")
    run.add_argument("--on-boot", default=None,
                     help="command run (with --source TARGET --mode MODE appended) each time the host boots")
    run.add_argument("--on-power-off", default=None, help="command run each time the host loses power")
    run.add_argument("--profile", choices=PROFILES, default="hgx-h100-8gpu",
                     help="hardware profile shaping the firmware inventory (a fresh state only)")
    run.add_argument("--firmware", action="append", default=[], metavar="ID=VERSION",
                     help="a component's version instead of the profile's (repeatable; a fresh state only)")
    run.add_argument("--update-duration", type=float, default=2.0,
                     help="seconds a SimpleUpdate task runs once its image is fetched")
    run.add_argument("--debug", action="store_true")
    if not argv or argv[0] not in ("make-ca", "serve", "-h", "--help"):
        argv = ["serve"] + list(argv)
    args = parser.parse_args(argv)
    if args.cmd == "serve" and bool(args.username) != bool(args.password):
        parser.error("--username and --password go together")
    return args


def serve(args):
    global STORE  # pylint: disable=global-statement
    STORE = Store(args.state_dir)
    HOOKS.update(boot=args.on_boot, power_off=args.on_power_off)
    fresh = STORE.data is None
    if fresh:
        STORE.data = initial_state(args)
    system = STORE.data.pop("_system", None)
    ensure_firmware_state(STORE.data, args.profile)
    for override in args.firmware if fresh else []:
        component_id, _sep, version = override.partition("=")
        if component_id not in STORE.data["firmware"] or not version:
            raise SystemExit("--firmware %s: want ID=VERSION with ID one of %s" % (
                override, ", ".join(sorted(STORE.data["firmware"]))))
        set_firmware_version(component_id, version)
    UPDATE_SETTINGS["duration"] = max(0.0, args.update_duration)
    STORE.save()
    systems = [system] if system else [copy.deepcopy(s) for s in STORE.data["systems"].values()]
    delay = [float(x) for x in args.power_delay.split(",")]
    config = {"SUSHY_EMULATOR_FAKE_DRIVER": True, "SUSHY_EMULATOR_FAKE_SYSTEMS": systems,
              "SUSHY_EMULATOR_STATE_DIR": args.state_dir, "SUSHY_EMULATOR_FEATURE_SET": "full",
              "AIFABRIC_POWER_DELAY": (delay[0], delay[-1])}
    if args.notify_url:
        config["EXTERNAL_NOTIFICATION_URL"] = args.notify_url
    APP.configure(extra_config=config)
    fakedriver.FakeDriver = LabFakeDriver  # sushy_main.Application.systems instantiates fakedriver.FakeDriver
    APP.wsgi_app = RedfishAuth(APP.wsgi_app)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.debug else logging.WARNING)
    APP.logger.setLevel(logging.DEBUG if args.debug else logging.WARNING)
    with APP.app_context():
        with LOCK:
            APP.systems.tick()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    server = serving.make_server(args.listen, args.port, APP, threaded=True, ssl_context=ctx)

    def ticker():
        while True:
            time.sleep(0.25)
            with LOCK, APP.app_context():
                APP.systems.tick()

    threading.Thread(target=ticker, daemon=True).start()
    print("bmc_sim: %s listening on %s:%d (https)" % (STORE.data["bmc"]["name"], args.listen, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cmd == "make-ca":
        paths = make_ca(args.dir, args.ip or ["127.0.0.1"], args.dns or ["localhost"])
        print(json.dumps(paths, indent=1))
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
