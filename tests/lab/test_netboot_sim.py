"""Tests of the lab's network-boot simulator (lab/simulators/netboot), on the
controller: its TFTP client against a minimal RFC 1350 server, its iPXE interpreter
(chain by MAC, the "|| goto" fallback, kernel/initrd/boot) and its Ubuntu autoinstall
step, against a web server on 127.0.0.1. The DHCP and the install on a node run in the
provision scenario, in the lab's bare nodes.
"""
import functools
import http.server
import importlib.util
import socket
import struct
import threading
from pathlib import Path

import pytest

pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("netboot", REPO / "lab/simulators/netboot/netboot.py")
netboot = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(netboot)

MAC = "0a:af:01:00:00:66"


@pytest.fixture(name="web")
def web_fixture(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def record():
    return {"http": [], "ipxe_echo": []}


def write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def lay_out(root, url):
    write(root, "boot.ipxe", "#!ipxe\nchain %s/ipxe/${net0/mac:hexhyp}.ipxe || goto unknown\n:unknown\n"
          "echo No install is defined for ${net0/mac}\nexit\n" % url)
    write(root, "ipxe/0a-af-01-00-00-66.ipxe", "#!ipxe\n# gpu-02\nkernel %s/images/u/vmlinuz initrd=initrd ip=dhcp "
          "autoinstall ds=nocloud-net;s=%s/install/gpu-02/\ninitrd --name initrd %s/images/u/initrd\nboot\n"
          % (url, url, url))
    write(root, "images/u/vmlinuz", "kernel")
    write(root, "images/u/initrd", "initrd")


def test_ipxe_chains_to_the_mac_script_and_boots_its_kernel(web):
    root, url = web
    lay_out(root, url)
    rec = record()
    kernel = netboot.ipxe(url + "/boot.ipxe", MAC, rec)
    assert kernel == (url + "/images/u/vmlinuz",
                      ["initrd=initrd", "ip=dhcp", "autoinstall", "ds=nocloud-net;s=%s/install/gpu-02/" % url])
    assert [h["url"] for h in rec["http"]] == [url + "/boot.ipxe", url + "/ipxe/0a-af-01-00-00-66.ipxe",
                                               url + "/images/u/vmlinuz", url + "/images/u/initrd"]


def test_ipxe_unknown_mac_takes_the_fallback_and_exits(web):
    root, url = web
    lay_out(root, url)
    rec = record()
    assert netboot.ipxe(url + "/boot.ipxe", "0a:af:09:00:00:01", rec) is None
    assert rec["ipxe_echo"] == ["No install is defined for 0a:af:09:00:00:01"]
    assert rec["http"][1]["status"] == 404


def test_ipxe_rejects_what_is_not_a_script(web):
    root, url = web
    write(root, "boot.ipxe", "<html>not a script</html>\n")
    with pytest.raises(netboot.BootError, match="not an iPXE script"):
        netboot.ipxe(url + "/boot.ipxe", MAC, record())


def test_autoinstall_reads_the_nodes_user_data(web):
    root, url = web
    write(root, "install/gpu-02/user-data", "#cloud-config\nautoinstall:\n  version: 1\n  identity:\n"
          "    hostname: gpu-02\n    username: aifabric\n    password: $6$salt$hash\n  ssh:\n"
          "    authorized-keys: [ssh-ed25519 AAAA lab]\n  network:\n    version: 2\n    ethernets:\n"
          "      mgmt0:\n        match: {macaddress: '%s'}\n        addresses: [10.231.0.102/24]\n" % MAC)
    write(root, "install/gpu-02/meta-data", "instance-id: gpu-02\n")
    rec = record()
    disk = netboot.autoinstall(["autoinstall", "ds=nocloud-net;s=%s/install/gpu-02/" % url], rec)
    assert (disk["hostname"], disk["username"], disk["authorized_keys"]) == ("gpu-02", "aifabric", ["ssh-ed25519 AAAA lab"])
    assert disk["network"]["ethernets"]["mgmt0"]["addresses"] == ["10.231.0.102/24"]
    assert rec["meta_data"] == "instance-id: gpu-02\n"


def test_autoinstall_refuses_incomplete_user_data(web):
    root, url = web
    write(root, "install/gpu-02/user-data", "#cloud-config\nautoinstall:\n  version: 1\n  identity: {hostname: gpu-02}\n")
    write(root, "install/gpu-02/meta-data", "instance-id: gpu-02\n")
    with pytest.raises(netboot.BootError, match="identity.username is missing"):
        netboot.autoinstall(["autoinstall", "ds=nocloud-net;s=%s/install/gpu-02/" % url], record())
    with pytest.raises(netboot.BootError, match="no autoinstall"):
        netboot.autoinstall(["quiet"], record())


# as roles/pxe_server/templates/preseed.cfg.j2 renders it (the parts the installer double reads)
PRESEED = """# managed by aifabric.cluster.pxe_server: Debian installer preseed of gpu-02 (debian-12)
d-i debian-installer/locale string en_US.UTF-8
d-i netcfg/choose_interface select %s
d-i netcfg/disable_autoconfig boolean true
d-i netcfg/get_ipaddress string 10.231.0.102
d-i netcfg/get_netmask string 255.255.255.0
d-i netcfg/get_gateway string
d-i netcfg/hostname string gpu-02
d-i mirror/protocol string http
d-i mirror/http/hostname string 10.231.0.3
d-i mirror/http/directory string /debian
d-i passwd/username string aifabric
d-i passwd/user-password-crypted password $6$salt$hash
d-i preseed/late_command string in-target sh -c 'mkdir -p /home/aifabric/.ssh && \
echo c3NoLWVkMjU1MTkgQUFBQSBsYWIK | base64 -d > /home/aifabric/.ssh/authorized_keys'
d-i finish-install/reboot_in_progress note
""" % MAC


def test_preseed_reads_the_nodes_answers(web):
    root, url = web
    write(root, "install/gpu-02/preseed.cfg", PRESEED)
    rec = record()
    args = ["initrd=initrd", "auto=true", "priority=critical", "url=%s/install/gpu-02/preseed.cfg" % url,
            "interface=auto", "netcfg/choose_interface=%s" % MAC]
    disk = netboot.preseed(args, rec, MAC)
    assert (disk["installer"], disk["hostname"], disk["username"]) == ("debian-preseed", "gpu-02", "aifabric")
    assert disk["authorized_keys"] == ["ssh-ed25519 AAAA lab"]
    assert disk["network"]["ethernets"]["nic"] == {"match": {"macaddress": MAC}, "addresses": ["10.231.0.102/24"]}
    assert disk["mirror"] == "http://10.231.0.3/debian"
    assert rec["preseed"] == PRESEED


def test_preseed_refuses_what_is_not_this_nodes(web):
    root, url = web
    write(root, "install/gpu-02/preseed.cfg", PRESEED.replace(MAC, "0a:af:01:00:00:67"))
    args = ["auto=true", "url=%s/install/gpu-02/preseed.cfg" % url]
    with pytest.raises(netboot.BootError, match="not this host's NIC"):
        netboot.preseed(args, record(), MAC)
    write(root, "install/gpu-02/preseed.cfg", PRESEED.replace("d-i netcfg/hostname string gpu-02\n", ""))
    with pytest.raises(netboot.BootError, match="no answer for netcfg/hostname"):
        netboot.preseed(args, record(), MAC)
    with pytest.raises(netboot.BootError, match="no auto=true url=URL"):
        netboot.preseed(["quiet"], record(), MAC)


def tftp_server(payload, block=512):
    """A one-transfer RFC 1350 server on 127.0.0.1: answers the read request from a new port."""
    listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listen.bind(("127.0.0.1", 0))

    def serve():
        request, client = listen.recvfrom(1024)
        assert struct.unpack("!H", request[:2])[0] == 1
        name = request[2:].split(b"\0")[0].decode()
        data = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        data.bind(("127.0.0.1", 0))
        if name != "snponly.efi":
            data.sendto(struct.pack("!HH", 5, 1) + b"File not found\0", client)
            return
        chunks = [payload[i:i + block] for i in range(0, len(payload) + 1, block)]
        for number, chunk in enumerate(chunks, start=1):
            data.sendto(struct.pack("!HH", 3, number) + chunk, client)
            ack = data.recvfrom(16)[0]
            assert struct.unpack("!HH", ack) == (4, number)

    threading.Thread(target=serve, daemon=True).start()
    return listen


@pytest.mark.parametrize("size", [0, 511, 512, 1300])
def test_tftp_client_reads_the_whole_file(monkeypatch, size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    server = tftp_server(payload)
    monkeypatch.setattr(netboot.socket, "socket", _to_port(server.getsockname()[1]))
    try:
        assert netboot.tftp_get("127.0.0.1", "snponly.efi") == payload
    finally:
        server.close()


def test_tftp_client_reports_the_servers_error(monkeypatch):
    server = tftp_server(b"")
    monkeypatch.setattr(netboot.socket, "socket", _to_port(server.getsockname()[1]))
    try:
        with pytest.raises(netboot.BootError, match="error 1 File not found"):
            netboot.tftp_get("127.0.0.1", "missing.efi")
    finally:
        server.close()


def _to_port(port):
    """socket.socket whose sendto to port 69 goes to the test server's port instead."""
    real = socket.socket

    class Redirect(real):
        def sendto(self, data, address):  # pylint: disable=arguments-differ
            if address[1] == 69:
                address = (address[0], port)
            return super().sendto(data, address)

    return Redirect
