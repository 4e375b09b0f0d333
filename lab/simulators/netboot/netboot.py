"""aifabric lab test double of a bare server's boot path: PXE ROM, iPXE and installer.

It runs inside a lab "bare node" container, started by the node's BMC emulator
(simulators/bmc, ``--on-boot`` / ``--on-power-off``) whenever the BMC powers the host:

    netboot.py --mac MAC boot --source Pxe --mode UEFI    # the host boots
    netboot.py --mac MAC power-off [--wipe]               # the host loses power

A boot from the network really does what the firmware does, on the wire, against the
lab's pxe_server (dnsmasq, nginx):

1. PXE ROM: DHCP (busybox udhcpc) as a PXEClient with the client architecture of the
   boot mode (option 93: 7 = x86-64 UEFI, 0 = BIOS); no offer = no network boot, the
   host falls through to its disk, as real firmware does.
2. The leased address on the NIC, then TFTP (RFC 1350) of the boot file the offer names.
3. iPXE: DHCP again, now with option 175 and user class "iPXE", which must name an HTTP
   boot script; the script is fetched and interpreted (chain, kernel, initrd, boot, goto,
   echo, exit; ${net0/mac} and ${net0/mac:hexhyp}).
4. The installer the kernel command line names, fetching its install data over HTTP and
   "installing": it writes what the data asks for to the simulated disk.
   - Debian's installer with a preseed (``auto=true priority=critical url=URL``): the
     ``d-i`` answers of URL (static address of the interface chosen by MAC, host name,
     user and password hash, mirror) and the SSH keys its ``preseed/late_command`` writes.
   - Ubuntu autoinstall (``autoinstall ds=nocloud-net;s=URL``): URL/user-data and
     URL/meta-data.
   The OS the lab image carries is Debian 12: only a preseed install is the OS that boots
   (the others are recorded, and their nodes are not handed on to site.yml by the tests).
5. The installed OS boots: the addresses of the NIC with the matching MAC, the host name,
   the user's authorized keys, sshd started.

A boot from disk boots the installed OS, or records "no bootable device". Everything
the host sent and received is recorded in /var/lib/aifabric-sim/netboot/: boots.jsonl
(one JSON record per boot: "netboot" says how the network boot ended, "result" what
booted) and disk/installed.json (the "disk"). Test-side only.
"""
import argparse
import base64
import fcntl
import hashlib
import json
import os
import shlex
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

STATE = "/var/lib/aifabric-sim/netboot"
DISK = os.path.join(STATE, "disk", "installed.json")
ARCH = {"UEFI": "0007", "Legacy": "0000"}
UDHCPC_SCRIPT = "#!/bin/sh\n[ \"$1\" = bound ] && env > \"$AIFABRIC_DHCP_OUT\"\nexit 0\n"


class BootError(Exception):
    pass


def run(cmd, check=True):
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if check and res.returncode != 0:
        raise BootError("%s: rc %d %s" % (" ".join(cmd), res.returncode, res.stderr.strip()))
    return res


def nic_by_mac(mac):
    for name in sorted(os.listdir("/sys/class/net")):
        try:
            with open("/sys/class/net/%s/address" % name) as f:
                if f.read().strip().lower() == mac.lower():
                    return name
        except OSError:
            continue
    raise BootError("no NIC with MAC %s" % mac)


def dhcp(nic, options, vendor=None, timeout=3):
    """One DHCP exchange with busybox udhcpc; returns the offer's fields or None."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "script")
        out = os.path.join(tmp, "lease")
        with open(script, "w") as f:
            f.write(UDHCPC_SCRIPT)
        os.chmod(script, 0o755)
        cmd = ["busybox", "udhcpc", "-i", nic, "-f", "-q", "-n", "-B", "-t", str(timeout), "-T", "1", "-A", "1",
               "-s", script]
        if vendor:
            cmd += ["-V", vendor]
        for opt in options:
            cmd += ["-x", opt]
        env = dict(os.environ, AIFABRIC_DHCP_OUT=out)
        subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=60)
        if not os.path.exists(out):
            return None
        with open(out) as f:
            lease = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    keep = ("ip", "subnet", "mask", "router", "siaddr", "sname", "boot_file", "serverid", "lease", "hostname")
    return {k: lease[k] for k in keep if k in lease}


def prefixlen(lease):
    if lease.get("mask"):
        return int(lease["mask"])
    return sum(bin(int(o)).count("1") for o in lease.get("subnet", "255.255.255.0").split("."))


def tftp_get(server, filename, timeout=3.0):
    """RFC 1350 read request, octet mode; returns the file's bytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        sock.sendto(struct.pack("!H", 1) + filename.encode() + b"\0octet\0", (server, 69))
        data, expected, peer = b"", 1, None
        while True:
            try:
                pkt, addr = sock.recvfrom(4 + 65464)
            except socket.timeout as exc:
                raise BootError("tftp %s:%s: timeout" % (server, filename)) from exc
            opcode = struct.unpack("!H", pkt[:2])[0]
            if opcode == 5:
                raise BootError("tftp %s:%s: error %d %s" % (server, filename, struct.unpack("!H", pkt[2:4])[0],
                                                             pkt[4:].rstrip(b"\0").decode(errors="replace")))
            if opcode != 3:
                continue
            peer = peer or addr
            block = struct.unpack("!H", pkt[2:4])[0]
            sock.sendto(struct.pack("!HH", 4, block), peer)  # a duplicate is acknowledged again
            if block == expected:
                data += pkt[4:]
                expected = (expected + 1) % 65536
                if len(pkt) - 4 < 512:
                    return data
    finally:
        sock.close()


def http_get(url, record):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # nosec - lab-internal URLs only
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = b"", exc.code
    except (urllib.error.URLError, OSError) as exc:
        record["http"].append({"url": url, "error": str(exc)})
        raise BootError("GET %s: %s" % (url, exc)) from exc
    record["http"].append({"url": url, "status": status, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()})
    return status, body


def expand(text, mac):
    return (text.replace("${net0/mac:hexhyp}", mac.replace(":", "-")).replace("${net0/mac}", mac)
            .replace("${mac:hexhyp}", mac.replace(":", "-")).replace("${mac}", mac))


def ipxe(url, mac, record, depth=0):
    """Fetch and interpret an iPXE script; returns (kernel_url, kernel_args) or None (exit)."""
    if depth > 5:
        raise BootError("iPXE: chain loop")
    status, body = http_get(url, record)
    if status != 200:
        return ("failed", status)
    text = body.decode()
    if not text.startswith("#!ipxe"):
        raise BootError("iPXE: %s is not an iPXE script" % url)
    lines = [ln.strip() for ln in text.splitlines()]
    kernel = None
    i = 0
    while i < len(lines):
        line = expand(lines[i], mac)
        i += 1
        if not line or line.startswith("#") or line.startswith(":"):
            continue
        words = shlex.split(line, posix=False)
        fallback = None
        if "||" in words:
            fallback = words[words.index("||") + 1:]
            words = words[:words.index("||")]
        cmd = words[0]
        if cmd == "chain":
            result = ipxe(words[-1], mac, record, depth + 1)
            if isinstance(result, tuple) and result and result[0] == "failed":
                if fallback and fallback[0] == "goto":
                    i = lines.index(":" + fallback[1]) + 1
                    continue
                raise BootError("iPXE: chain %s failed (HTTP %s)" % (words[-1], result[1]))
            return result
        if cmd == "goto":
            i = lines.index(":" + words[1]) + 1
        elif cmd == "echo":
            record["ipxe_echo"].append(" ".join(words[1:]))
        elif cmd == "exit":
            return None
        elif cmd == "kernel":
            args = [w for w in words[1:] if not w.startswith("--")]
            status = http_get(args[0], record)[0]
            if status != 200:
                raise BootError("iPXE: kernel %s: HTTP %d" % (args[0], status))
            kernel = (args[0], args[1:])
        elif cmd == "initrd":
            target = [w for w in words[1:] if not w.startswith("--")][-1]
            status = http_get(target, record)[0]
            if status != 200:
                raise BootError("iPXE: initrd %s: HTTP %d" % (target, status))
        elif cmd == "boot":
            if not kernel:
                raise BootError("iPXE: boot without a kernel")
            return kernel
        else:
            raise BootError("iPXE: command %r is not simulated" % cmd)
    return kernel


def autoinstall(args, record):
    """Ubuntu's installer with autoinstall from a NoCloud datasource over HTTP."""
    source = [a.split(";s=", 1)[1] for a in args if a.startswith("ds=nocloud-net;s=") or a.startswith("ds=nocloud;s=")]
    if "autoinstall" not in args or not source:
        raise BootError("installer: kernel args %r have no autoinstall ds=nocloud-net;s=URL" % " ".join(args))
    base = source[0] if source[0].endswith("/") else source[0] + "/"
    status, user_data = http_get(base + "user-data", record)
    if status != 200:
        raise BootError("installer: user-data: HTTP %d" % status)
    status, meta_data = http_get(base + "meta-data", record)
    if status != 200:
        raise BootError("installer: meta-data: HTTP %d" % status)
    text = user_data.decode()
    record["user_data"] = text
    record["meta_data"] = meta_data.decode()
    if not text.startswith("#cloud-config"):
        raise BootError("installer: user-data does not start with #cloud-config")
    config = (yaml.safe_load(text) or {}).get("autoinstall")
    if not isinstance(config, dict) or config.get("version") != 1:
        raise BootError("installer: user-data has no autoinstall: version: 1")
    identity = config.get("identity") or {}
    for key in ("hostname", "username", "password"):
        if not identity.get(key):
            raise BootError("installer: autoinstall.identity.%s is missing" % key)
    return {"installer": "ubuntu-autoinstall", "hostname": identity["hostname"], "username": identity["username"],
            "authorized_keys": (config.get("ssh") or {}).get("authorized-keys") or [],
            "network": config.get("network") or {}, "storage": config.get("storage") or {},
            "installed_at": time.time()}


def preseed_answers(text):
    """``d-i owner/question type value`` lines -> {question: value} (continuations joined)."""
    answers = {}
    for line in text.replace("\\\n", " ").splitlines():
        parts = line.strip().split(None, 3)
        if len(parts) >= 3 and not parts[0].startswith("#"):
            answers[parts[1]] = parts[3] if len(parts) == 4 else ""
    return answers


def preseed(args, record, mac):
    """Debian's installer, fully automated from a preseed file over HTTP (auto=true url=URL)."""
    url = [a.split("=", 1)[1] for a in args if a.startswith("url=") or a.startswith("preseed/url=")]
    if "auto=true" not in args or not url:
        raise BootError("installer: kernel args %r have no auto=true url=URL" % " ".join(args))
    status, body = http_get(url[0], record)
    if status != 200:
        raise BootError("installer: preseed %s: HTTP %d" % (url[0], status))
    text = body.decode()
    record["preseed"] = text
    d = preseed_answers(text)
    for key in ("netcfg/get_ipaddress", "netcfg/get_netmask", "netcfg/hostname", "passwd/username",
                "passwd/user-password-crypted", "netcfg/choose_interface"):
        if not d.get(key):
            raise BootError("installer: the preseed has no answer for %s" % key)
    if d["netcfg/choose_interface"].lower() != mac.lower():
        raise BootError("installer: netcfg/choose_interface %s is not this host's NIC %s" % (d["netcfg/choose_interface"], mac))
    prefix = sum(bin(int(octet)).count("1") for octet in d["netcfg/get_netmask"].split("."))
    keys = []
    late = d.get("preseed/late_command", "")
    if "base64 -d" in late:
        encoded = late.split("echo ", 1)[1].split(" |", 1)[0]
        keys = [k for k in base64.b64decode(encoded).decode().splitlines() if k.strip()]
    return {"installer": "debian-preseed", "hostname": d["netcfg/hostname"], "username": d["passwd/username"],
            "authorized_keys": keys,
            "network": {"ethernets": {"nic": {"match": {"macaddress": mac},
                                              "addresses": ["%s/%d" % (d["netcfg/get_ipaddress"], prefix)]}}},
            "mirror": "%s://%s%s" % (d.get("mirror/protocol", "http"), d.get("mirror/http/hostname", ""),
                                     d.get("mirror/http/directory", "")),
            "installed_at": time.time()}


def os_boot(mac, record):
    """Boot the installed OS from the simulated disk, or find nothing to boot."""
    if not os.path.exists(DISK):
        record["result"] = "no bootable device"
        return
    with open(DISK) as f:
        disk = json.load(f)
    nic = nic_by_mac(mac)
    run(["ip", "-4", "addr", "flush", "dev", nic])
    ethernets = (disk["network"].get("network", disk["network"]) or {}).get("ethernets") or {}
    for eth in ethernets.values():
        if str((eth.get("match") or {}).get("macaddress", "")).lower() == mac.lower():
            for addr in eth.get("addresses") or []:
                run(["ip", "addr", "add", addr, "dev", nic])
    with open("/etc/hostname", "w") as f:
        f.write(disk["hostname"] + "\n")
    # as the Ubuntu installer writes it: the host's own name resolves
    with open("/etc/hosts", "w") as f:
        f.write("127.0.0.1 localhost\n127.0.1.1 %s\n" % disk["hostname"])
    run(["hostname", disk["hostname"]])
    home = "/home/%s" % disk["username"]
    if os.path.isdir(home):
        os.makedirs(home + "/.ssh", mode=0o700, exist_ok=True)
        with open(home + "/.ssh/authorized_keys", "w") as f:
            f.write("".join(k.strip() + "\n" for k in disk["authorized_keys"]))
        run(["chown", "-R", "%s:%s" % (disk["username"], disk["username"]), home + "/.ssh"])
    run(["systemctl", "start", "ssh.service"])
    record["result"] = "os booted"
    record["os"] = {"hostname": disk["hostname"], "addresses": run(["ip", "-4", "-o", "addr", "show", "dev", nic]).stdout}


def net_boot(mac, mode, record):
    nic = nic_by_mac(mac)
    arch = ARCH.get(mode, "0007")
    run(["ip", "-4", "addr", "flush", "dev", nic])
    lease = dhcp(nic, ["0x5d:" + arch], vendor="PXEClient:Arch:%s:UNDI:003016" % arch.rjust(5, "0"))
    record["dhcp_pxe"] = lease
    if not lease or not lease.get("ip"):
        record["netboot"] = "no DHCP offer"
        return False
    run(["ip", "addr", "add", "%s/%d" % (lease["ip"], prefixlen(lease)), "dev", nic])
    if not lease.get("boot_file"):
        record["netboot"] = "no boot file in the offer"
        return False
    server = lease.get("siaddr") or lease.get("serverid")
    image = tftp_get(server, lease["boot_file"])
    record["tftp"] = {"server": server, "file": lease["boot_file"], "size": len(image),
                      "sha256": hashlib.sha256(image).hexdigest()}
    # the iPXE just loaded asks again, as iPXE (option 175, user class "iPXE")
    lease2 = dhcp(nic, ["0x5d:" + arch, "0xaf:130101", "0x4d:69505845"])
    record["dhcp_ipxe"] = lease2
    if not lease2 or not str(lease2.get("boot_file", "")).startswith("http"):
        record["netboot"] = "iPXE got no HTTP boot script"
        return False
    kernel = ipxe(lease2["boot_file"], mac, record)
    if not kernel or kernel[0] == "failed":
        record["netboot"] = "iPXE exit"
        return False
    record["kernel"] = {"url": kernel[0], "args": kernel[1]}
    disk = autoinstall(kernel[1], record) if "autoinstall" in kernel[1] else preseed(kernel[1], record, mac)
    os.makedirs(os.path.dirname(DISK), exist_ok=True)
    with open(DISK + ".tmp", "w") as f:
        json.dump(disk, f, indent=1)
    os.replace(DISK + ".tmp", DISK)
    record["installed"] = disk["hostname"]
    record["netboot"] = "installed"
    return True


def power_off(mac, wipe):
    run(["systemctl", "stop", "ssh.service", "ssh.socket"], check=False)
    run(["ip", "-4", "addr", "flush", "dev", nic_by_mac(mac)], check=False)
    if wipe:
        # a new server: empty disk, no OS user keys, factory host name
        if os.path.exists(DISK):
            os.remove(DISK)
        for home in os.listdir("/home"):
            try:
                os.remove("/home/%s/.ssh/authorized_keys" % home)
            except FileNotFoundError:
                pass
        run(["hostname", "localhost"], check=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mac", required=True, help="the host NIC that boots (its MAC)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    boot = sub.add_parser("boot")
    boot.add_argument("--source", default="Hdd")
    boot.add_argument("--mode", default="UEFI")
    off = sub.add_parser("power-off")
    off.add_argument("--wipe", action="store_true", help="also empty the disk (a new bare server)")
    args = ap.parse_args(argv)
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if args.cmd == "power-off":
            power_off(args.mac, args.wipe)
            return 0
        record = {"time": time.time(), "source": args.source, "mode": args.mode, "http": [], "ipxe_echo": []}
        try:
            if args.source in ("Pxe", "UefiHttp"):
                net_boot(args.mac, args.mode, record)
            os_boot(args.mac, record)
        except (BootError, OSError, ValueError, subprocess.SubprocessError) as exc:
            record["error"] = str(exc)
        with open(os.path.join(STATE, "boots.jsonl"), "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
