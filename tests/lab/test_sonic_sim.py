"""Tests of the lab's simulated Dell Enterprise SONiC switch (lab/simulators/sonic), on the controller.

The simulator is a test double of the RESTCONF API the unmodified dellemc.enterprise_sonic
modules use (httpapi, HTTPS, basic auth, openconfig / sonic YANG JSON). These tests pin the
protocol: auth, GET/PATCH/PUT/POST/DELETE semantics, RESTCONF errors, validation, persistence
and the test hooks. Everything listens on 127.0.0.1 only.
"""
import http.client
import json

import pytest

from labtest import QOS, Sonic, make_cert

PORTS = ["Ethernet%d" % n for n in range(0, 249, 8)]


def error_message(body):
    return body["ietf-restconf:errors"]["error"][0]["error-message"]


@pytest.fixture(name="sonic_cert", scope="session")
def sonic_cert_fixture(tmp_path_factory):
    pytest.importorskip("cryptography")
    return make_cert(tmp_path_factory.mktemp("sonic-tls"))


@pytest.fixture(name="sonic", scope="module")
def sonic_fixture(tmp_path_factory, sonic_cert):
    sw = Sonic(tmp_path_factory.mktemp("sonic") / "state", *sonic_cert).start()
    yield sw
    sw.stop()


def test_tls_and_basic_auth(sonic):
    status, body = sonic.request("GET", QOS, password="wrong")
    assert status == 401 and body["ietf-restconf:errors"]["error"][0]["error-tag"] == "access-denied"
    assert sonic.request("GET", QOS, user=None)[0] == 401
    assert sonic.request("PATCH", QOS + "/pfc-watchdog", {"openconfig-qos:pfc-watchdog": {}}, password="wrong")[0] == 401
    assert sonic.request("GET", QOS + "/pfc-watchdog")[0] == 200
    # plain HTTP is not served
    conn = http.client.HTTPConnection("127.0.0.1", sonic.port, timeout=5)
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        conn.request("GET", QOS)
        conn.getresponse().read()
    conn.close()


def test_factory_configuration(sonic):
    sonic.reset()
    intfs = sonic.get("/restconf/data/openconfig-interfaces:interfaces")["openconfig-interfaces:interfaces"]["interface"]
    eth = [i for i in intfs if i["name"].startswith("Ethernet")]
    assert [i["name"] for i in eth] == PORTS
    assert all(i["config"]["mtu"] == 9100 for i in eth)
    assert eth[0]["openconfig-if-ethernet:ethernet"]["config"]["port-speed"] == "openconfig-if-ethernet:SPEED_400GB"
    dscp = sonic.get(QOS + "/openconfig-qos-maps-ext:dscp-maps")["openconfig-qos-maps-ext:dscp-maps"]["dscp-map"]
    azure = dict((e["dscp"], e["config"]["fwd-group"]) for e in dscp[0]["dscp-map-entries"]["dscp-map-entry"])
    assert dscp[0]["name"] == "AZURE" and len(azure) == 64
    assert azure[26] == "1" and azure[48] == "6" and azure[3] == "3"  # RoCE DSCP 26 is lossy by default
    ports = sonic.get(QOS + "/interfaces/interface")["openconfig-qos:interface"]
    assert ports[0]["openconfig-qos-maps-ext:interface-maps"]["config"] == {"dscp-to-forwarding-group": "AZURE"}
    meta = sonic.get("/restconf/data/sonic-device-metadata:sonic-device-metadata/DEVICE_METADATA/DEVICE_METADATA_LIST=localhost")
    assert meta["sonic-device-metadata:DEVICE_METADATA_LIST"][0]["hostname"] == "leaf-01"
    # absent resources: 404 with a RESTCONF error body, as SONiC answers
    status, body = sonic.request("GET", QOS + "/wred-profiles")
    assert status == 404 and error_message(body) == "Resource not found"
    assert sonic.request("GET", QOS + "/scheduler-policies/scheduler-policy=NOPE")[0] == 404


def test_patch_merges_put_replaces_delete_removes(sonic):
    sonic.reset()
    wred = QOS + "/wred-profiles/wred-profile"
    sonic.ok("PATCH", wred, {"openconfig-qos:wred-profile": [{"name": "W", "config": {
        "name": "W", "ecn": "ECN_GREEN", "green-min-threshold": "972800", "wred-green-enable": True}}]})
    sonic.ok("PATCH", wred, {"openconfig-qos:wred-profile": [{"name": "W", "config": {"name": "W", "green-max-threshold": 3072000}}]})
    got = sonic.get(wred + "=W")["openconfig-qos:wred-profile"][0]["config"]
    # merged; uint64 as a JSON string (RFC 7951)
    assert got == {"name": "W", "ecn": "ECN_GREEN", "green-min-threshold": "972800", "wred-green-enable": True,
                   "green-max-threshold": "3072000"}
    assert sonic.get(wred + "=W/config/ecn") == {"openconfig-qos:ecn": "ECN_GREEN"}
    # PUT replaces the resource
    sonic.ok("PUT", wred + "=W", {"openconfig-qos:wred-profile": [{"name": "W", "config": {"name": "W", "ecn": "ECN_NONE"}}]})
    assert sonic.get(wred + "=W")["openconfig-qos:wred-profile"][0]["config"] == {"name": "W", "ecn": "ECN_NONE"}
    # DELETE a leaf, then the entry; a list entry that is not there is 404
    sonic.ok("DELETE", wred + "=W/config/ecn")
    assert sonic.request("GET", wred + "=W/config/ecn")[0] == 404
    sonic.ok("DELETE", wred + "=W")
    assert sonic.request("GET", wred + "=W")[0] == 404
    assert sonic.request("DELETE", wred + "=W")[0] == 404
    # POST creates; a second POST of the same entry conflicts
    body = {"openconfig-qos:scheduler-policy": [{"name": "S", "config": {"name": "S"}}]}
    assert sonic.request("POST", QOS + "/scheduler-policies", body)[0] == 201
    status, answer = sonic.request("POST", QOS + "/scheduler-policies", body)
    assert status == 409 and answer["ietf-restconf:errors"]["error"][0]["error-tag"] == "resource-denied"
    # interface names are URL-encoded by the modules
    sonic.ok("PATCH", "/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet8/config",
             {"openconfig-interfaces:config": {"mtu": 9216}})
    assert sonic.get("/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet8/config/mtu") == {
        "openconfig-interfaces:mtu": 9216}


@pytest.mark.parametrize("method,path,body,text", [
    ("PATCH", QOS + "/bogus", {"openconfig-qos:bogus": {}}, 'unknown element "bogus"'),
    ("PATCH", QOS + "/pfc-watchdog", {"openconfig-qos:pfc-watchdog": {"flex": {"config": {"counter-poll": "MAYBE"}}}},
     "expected one of ENABLE, DISABLE"),
    ("PATCH", QOS + "/pfc-watchdog", {"openconfig-qos:pfc-watchdog": {"poll": {"config": {"poll-interval": 5}}}}, "out of range"),
    ("PATCH", QOS + "/pfc-watchdog", {"openconfig-qos:wred-profiles": {}}, "does not match the target"),
    ("PATCH", QOS + "/pfc-watchdog", {"openconfig-interfaces:pfc-watchdog": {}}, "does not match the target"),
    ("PATCH", "/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet8/config",
     {"openconfig-interfaces:config": {"mtu": 9300}}, "out of range"),
    ("PATCH", "/restconf/data/openconfig-interfaces:interfaces/interface=Ethernet9/config",
     {"openconfig-interfaces:config": {"mtu": 9216}}, "cannot be created"),
    ("PATCH", QOS + "/interfaces", {"openconfig-qos:interfaces": {"interface": [{"interface-id": "Ethernet0", "openconfig-qos-maps-ext:interface-maps": {
        "config": {"dscp-to-forwarding-group": "NOPE"}}}]}}, "dscp-map NOPE does not exist"),
    ("PATCH", QOS + "/queues", {"openconfig-qos:queues": {"queue": [{"name": "Ethernet0:3", "wred": {"config": {"wred-profile": "NOPE"}}}]}},
     "WRED profile NOPE does not exist"),
    ("DELETE", QOS + "/openconfig-qos-maps-ext:dscp-maps/dscp-map=AZURE", None, "in use"),
    ("PATCH", "/restconf/data/qos", {"qos": {}}, "must be qualified"),
])
def test_errors_are_restconf_errors_and_change_nothing(sonic, method, path, body, text):
    sonic.reset()
    before = sonic.get("/aifabric-sim/state")
    status, answer = sonic.request(method, path, body)
    assert status == 400, (status, answer)
    error = answer["ietf-restconf:errors"]["error"][0]
    assert error["error-type"] == "application" and error["error-tag"] == "invalid-value"
    assert text in error["error-message"], error
    assert sonic.get("/aifabric-sim/state") == before


def test_state_survives_a_restart_and_hooks(tmp_path, sonic_cert):
    sw = Sonic(tmp_path / "state", *sonic_cert, hostname="leaf-02", ports="Ethernet0,Ethernet4").start()
    try:
        sw.ok("PATCH", QOS + "/pfc-watchdog", {"openconfig-qos:pfc-watchdog": {"poll": {"config": {"poll-interval": 100}}}})
        sw.restart()
        assert sw.get(QOS + "/pfc-watchdog/poll/config/poll-interval") == {"openconfig-qos:poll-interval": 100}
        intfs = sw.get("/restconf/data/openconfig-interfaces:interfaces/interface")["openconfig-interfaces:interface"]
        assert [i["name"] for i in intfs] == ["eth0", "Ethernet0", "Ethernet4"]
        # hooks: fault injection refuses matching writes, state can be replaced, reset is the factory
        assert sw.ok("POST", "/aifabric-sim/fault", {"reject": "poll-interval"}) == {"reject": "poll-interval", "count": None}
        body = {"openconfig-qos:pfc-watchdog": {"poll": {"config": {"poll-interval": 200}}}}
        status, answer = sw.request("PATCH", QOS + "/pfc-watchdog", body)
        assert status == 400 and "rejected" in error_message(answer)
        sw.ok("POST", "/aifabric-sim/fault", {"clear": True})
        sw.ok("POST", "/aifabric-sim/fault", {"reject": "poll-interval", "count": 1})  # a one-shot fault
        assert sw.request("PATCH", QOS + "/pfc-watchdog", body)[0] == 400
        assert sw.request("PATCH", QOS + "/pfc-watchdog", body)[0] == 204
        state = sw.get("/aifabric-sim/state")
        assert state["config"]["openconfig-qos:qos"]["pfc-watchdog"]["poll"]["config"]["poll-interval"] == 200
        state["config"]["openconfig-qos:qos"]["pfc-watchdog"]["poll"]["config"]["poll-interval"] = 300
        sw.ok("PUT", "/aifabric-sim/state", state)
        assert sw.get(QOS + "/pfc-watchdog/poll/config/poll-interval") == {"openconfig-qos:poll-interval": 300}
        sw.reset()
        assert sw.request("GET", QOS + "/pfc-watchdog/poll")[0] == 404
        assert json.loads((tmp_path / "state/state.json").read_text())["ports"] == ["Ethernet0", "Ethernet4"]
    finally:
        sw.stop()
