"""Helpers shared by the tests/lab test modules (test side): the repository root and ansible-playbook,
the simulated switches (NX-OS, SONiC), the Redfish BMC emulator, the simulated nvidia-smi, and the PKI,
file and kubeconfig helpers of the Kubernetes doubles. Test modules import them from here, never from
one another.
"""
import base64
import datetime
import http.client
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import paramiko
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simpkg import PROFILES
# free_port: the tests import it from here as well
from simproc import SimProcess, free_port  # noqa: F401  pylint: disable=unused-import

try:
    import requests
except ImportError:  # the BMC tests skip themselves without it (pytest.importorskip)
    requests = None

REPO = Path(__file__).resolve().parents[2]


def ansible_playbook():
    for candidate in (REPO / ".venv/bin/ansible-playbook", Path(sys.executable).parent / "ansible-playbook"):
        if candidate.exists():
            return str(candidate)
    return shutil.which("ansible-playbook")


# ---- the simulated Cisco NX-OS switch (lab/simulators/nxos) ---------------------------------------------

NXOS_LAUNCHER = REPO / "lab/simulators/nxos/aifabric-nxos-sim"
NXOS_PASSWORD = "Lab-Pass-1"

# the cisco.nxos terminal plugin's prompt regexes (plugins/terminal/nxos.py)
NXOS_PROMPT_RE = re.compile(r"[\r\n][a-zA-Z_0-9][a-zA-Z0-9-_.]*[>|#]\s*$|[\r\n]?[a-zA-Z0-9][a-zA-Z0-9-_.]*\(.+\)#\s*$")


class Switch(SimProcess):
    """One simulator process on 127.0.0.1 with a state dir that survives restarts."""

    launcher = NXOS_LAUNCHER

    def __init__(self, state_dir, host_key, hostname="leaf-01", authorized_keys=None):
        super().__init__()
        self.state_dir, self.hostname, self.authorized_keys = state_dir, hostname, authorized_keys
        # a pre-made host key (the simulator makes one on first start; RSA generation is slow)
        state_dir.mkdir(parents=True, exist_ok=True)
        if not (state_dir / "ssh_host_rsa_key").exists():
            shutil.copy(host_key, state_dir / "ssh_host_rsa_key")

    def args(self):
        return (["--state-dir", self.state_dir, "--hostname", self.hostname, "--password", NXOS_PASSWORD]
                + (["--authorized-keys", self.authorized_keys] if self.authorized_keys else []))

    def client(self, **kw):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        args = {"username": "admin", "password": NXOS_PASSWORD, "look_for_keys": False, "allow_agent": False, "timeout": 10}
        args.update(kw)
        client.connect("127.0.0.1", port=self.port, **args)
        return client

    def cli(self):
        return Cli(self.client())


class Cli:
    """An interactive session on the NX-OS simulator, read the way network_cli reads it (up to a prompt)."""

    def __init__(self, client):
        self.client = client
        self.chan = client.invoke_shell()
        self.chan.settimeout(10)
        self.banner = self._read()

    def _read(self):
        buf = b""
        while not NXOS_PROMPT_RE.search(buf.decode("utf-8", "replace")):
            data = self.chan.recv(65536)
            assert data, "channel closed; got %r" % buf
            buf += data
        return buf.decode()

    def raw(self, command):
        self.chan.sendall(command + "\r")
        return self._read()

    def run(self, command):
        """Output of one command: without the echoed command line and the prompt."""
        lines = self.raw(command).split("\r\n")
        assert lines[0] == command, lines
        return "\n".join(lines[1:-1])

    @property
    def prompt(self):
        return self.raw("").split("\r\n")[-1]

    def config(self, text):
        """Type a configuration block the way nxos_config sends it (stripped lines); return the outputs."""
        outs = [self.run("configure terminal")]
        outs += [self.run(line.strip()) for line in text.splitlines() if line.strip()]
        outs.append(self.run("end"))
        return outs

    def close(self):
        self.client.close()


# ---- the simulated Dell Enterprise SONiC switch (lab/simulators/sonic) ----------------------------------

SONIC_LAUNCHER = REPO / "lab/simulators/sonic/aifabric-sonic-sim"
SONIC_PASSWORD = "Lab-Pass-1"
QOS = "/restconf/data/openconfig-qos:qos"


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sonic-sim")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    return directory / "cert.pem", directory / "key.pem"


class Sonic(SimProcess):
    """One simulator process on 127.0.0.1 with a state dir that survives restarts."""

    launcher = SONIC_LAUNCHER

    def __init__(self, state_dir, cert, key, hostname="leaf-01", ports=None):
        super().__init__()
        self.state_dir, self.cert, self.key, self.hostname, self.ports = state_dir, cert, key, hostname, ports

    def args(self):
        return (["--state-dir", self.state_dir, "--hostname", self.hostname, "--cert", self.cert, "--key", self.key,
                 "--password", SONIC_PASSWORD] + (["--ports", self.ports] if self.ports else []))

    def request(self, method, path, body=None, user="admin", password=SONIC_PASSWORD):
        """(status, parsed JSON body or None)."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=ssl._create_unverified_context())  # pylint: disable=protected-access
        headers = {"Content-Type": "application/yang-data+json", "Accept": "application/yang-data+json"}
        if user is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data else None)
        finally:
            conn.close()

    def get(self, path):
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def ok(self, method, path, body=None):
        status, answer = self.request(method, path, body)
        assert status in (200, 201, 204), (method, path, status, answer)
        return answer

    def reset(self):
        self.ok("POST", "/aifabric-sim/reset")

    def writes(self):
        """The configuration changes served since the last reset / log clear."""
        return [e for e in self.get("/aifabric-sim/log")["log"] if e["method"] in ("PATCH", "PUT", "POST", "DELETE")
                and e["status"] < 300 and not e["path"].startswith("/aifabric-sim/")]


# ---- the Redfish BMC emulator (lab/simulators/bmc) ------------------------------------------------------

BMC_LAUNCHER = REPO / "lab/simulators/bmc/aifabric-bmc-sim"
BMC_PASSWORD = "Lab-Bmc-Pass-1"
BMC_FACTORY_PASSWORD = "calvin-Factory"


def make_ca(directory):
    subprocess.run([str(BMC_LAUNCHER), "make-ca", "--dir", str(directory)], check=True, capture_output=True,
                   env=dict(os.environ, PYTHON=sys.executable))
    return directory


class Bmc(SimProcess):
    """One emulated BMC process on 127.0.0.1 with a state dir that survives restarts (and its port)."""

    launcher = BMC_LAUNCHER
    keep_port = True

    def __init__(self, state_dir, tls, name="gpu-01", macs=("02:00:0a:e9:00:65",), power_state="Off",
                 delay="0.5,1", username="admin", password=BMC_PASSWORD, extra=()):
        super().__init__()
        self.extra = list(extra)
        self.state_dir, self.tls, self.name, self.macs = Path(state_dir), Path(tls), name, macs
        self.power_state, self.delay, self.username, self.password = power_state, delay, username, password

    @property
    def ca(self):
        return str(self.tls / "ca.pem")

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def args(self):
        cmd = ["--state-dir", self.state_dir, "--tls-cert", self.tls / "server.pem", "--tls-key", self.tls / "server.key",
               "--name", self.name, "--power-state", self.power_state, "--power-delay", self.delay,
               "--factory-password", BMC_FACTORY_PASSWORD, "--username", self.username, "--password", self.password]
        for mac in self.macs:
            cmd += ["--mac", mac]
        return cmd + self.extra

    def get(self, path, auth=None, **kw):
        return requests.get(self.url + path, auth=auth or (self.username, self.password), verify=self.ca,
                            timeout=10, **kw)

    def send(self, method, path, body=None, auth=None):
        return requests.request(method, self.url + path, json=body, auth=auth or (self.username, self.password),
                                verify=self.ca, timeout=10)

    def state(self):
        return requests.get(self.url + "/aifabric-sim/state", verify=self.ca, timeout=10).json()

    def system_path(self, auth=None):
        return self.get("/redfish/v1/Systems", auth=auth).json()["Members"][0]["@odata.id"]

    def wait_power(self, wanted, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.get(self.system_path()).json()["PowerState"]
            if state == wanted:
                return state
            time.sleep(0.2)
        raise AssertionError("power state stayed %s, wanted %s" % (state, wanted))


# ---- the simulated nvidia-smi (package nvidia-utils-580) ------------------------------------------------

NVIDIA_UTILS = REPO / "lab/sim-packages/nvidia-utils-580"
NVIDIA_SMI = NVIDIA_UTILS / "usr/bin/nvidia-smi"
SIM_GPU = NVIDIA_UTILS / "usr/sbin/aifabric-sim-gpu"


class Sim:
    def __init__(self, root, profile, host="gpu-node-01"):
        self.root, self.host = root, host
        (root / "etc/aifabric-lab").mkdir(parents=True, exist_ok=True)
        shutil.copytree(PROFILES, root / "usr/share/aifabric-lab/profiles", dirs_exist_ok=True)
        self.set_profile(profile)

    def set_profile(self, profile):
        (self.root / "etc/aifabric-lab/hw_profile").write_text(profile + "\n")

    @property
    def state_dir(self):
        return self.root / "var/lib/aifabric-sim/gpu"

    def run(self, *args, tool=NVIDIA_SMI, host=None):
        env = dict(os.environ, AIFABRIC_SIM_ROOT=str(self.root), AIFABRIC_SIM_HOSTNAME=host or self.host)
        return subprocess.run([str(tool), *args], capture_output=True, text=True, env=env, timeout=30, check=False)

    def smi(self, *args, **kw):
        return self.run(*args, **kw)

    def ctl(self, *args):
        return self.run(*args, tool=SIM_GPU)

    def xml(self, *args):
        r = self.smi("-q", "-x", *args)
        return r, ET.fromstring(r.stdout.split("\n", 2)[2]) if r.stdout else None

    def csv(self, fields, fmt="csv,noheader,nounits", *args):
        r = self.smi(*args, "--query-gpu=" + fields, "--format=" + fmt)
        assert r.returncode == 0, r
        return [[c.strip() for c in line.split(",")] for line in r.stdout.splitlines()]


# ---- PKI, files and kubeconfigs of the Kubernetes doubles -----------------------------------------------

def x509_name(cn, orgs=()):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def to_pem(cert=None, key=None):
    if cert is not None:
        return cert.public_bytes(serialization.Encoding.PEM)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def issue_cert(subject, key, ca=None, ca_key=None, san=None, eku=None):
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject if ca else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca is None, path_length=None), critical=True))
    if ca is None:
        builder = builder.add_extension(x509.KeyUsage(True, False, True, False, False, True, True, False, False), critical=True)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    return builder.sign(ca_key or key, hashes.SHA256())


def write_file(path, data, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    path.chmod(mode)
    return path


def kubeconfig(server, ca_pem, cert_pem=None, key_pem=None, token=None, user='user'):
    creds = {'token': token} if token else {'client-certificate-data': base64.b64encode(cert_pem).decode(),
                                            'client-key-data': base64.b64encode(key_pem).decode()}
    return yaml.safe_dump({'apiVersion': 'v1', 'kind': 'Config', 'current-context': '%s@kubernetes' % user,
                           'clusters': [{'name': 'kubernetes', 'cluster': {'server': server,
                                                                           'certificate-authority-data': base64.b64encode(ca_pem).decode()}}],
                           'contexts': [{'name': '%s@kubernetes' % user, 'context': {'cluster': 'kubernetes', 'user': user}}],
                           'users': [{'name': user, 'user': creds}]})


# ---- a real etcd (Debian's etcd-server, `make tools`: lab/tools/fetch-etcd.sh) ----------------------------

ETCD = REPO / ".cache/tools/bin/etcd"


class EtcdServer:
    """One real etcd member on 127.0.0.1, plain HTTP, its data dir surviving restarts: what the API
    server double keeps its objects in when it is given --etcd-servers."""

    def __init__(self, data_dir):
        self.data_dir, self.proc = Path(data_dir), None
        self.client_port, self.peer_port = free_port(), free_port()
        self.url = "http://127.0.0.1:%d" % self.client_port

    def start(self):
        assert ETCD.exists(), "%s missing: run `make tools` (lab/tools/fetch-etcd.sh)" % ETCD
        peer = "http://127.0.0.1:%d" % self.peer_port
        log = open(str(self.data_dir) + ".log", "ab")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [str(ETCD), "--name", "test", "--data-dir", str(self.data_dir), "--listen-client-urls", self.url,
             "--advertise-client-urls", self.url, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", "test=" + peer], stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 30
        while True:
            try:
                if json.loads(self.call("GET", "/health")).get("health") == "true":
                    return self
            except (OSError, ValueError):
                pass
            assert self.proc.poll() is None and time.time() < deadline, (
                "etcd did not become healthy:\n" + Path(str(self.data_dir) + ".log").read_text()[-2000:])
            time.sleep(0.2)

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.client_port, timeout=10)
        try:
            conn.request(method, path, None if body is None else json.dumps(body))
            return conn.getresponse().read()
        finally:
            conn.close()

    def get(self, key):
        """(value, mod_revision) of key, or None."""
        answer = json.loads(self.call("POST", "/v3/kv/range", {"key": base64.b64encode(key.encode()).decode()}))
        kvs = answer.get("kvs") or []
        return (base64.b64decode(kvs[0]["value"]), int(kvs[0]["mod_revision"])) if kvs else None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
