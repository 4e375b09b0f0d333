"""Shared helper for the tests of the lab's network simulators (test side): one simulator
process on 127.0.0.1, started from its launcher, that announces
``listening on 127.0.0.1:PORT`` as its first line (the NX-OS and SONiC switches, the BMC).
"""
import os
import socket
import subprocess
import sys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimProcess:
    """Start, stop and restart one simulator; its state dir (in the subclass's arguments)
    survives restarts. A subclass sets ``launcher`` and returns its own options from
    ``args()``; ``keep_port`` keeps the port across restarts (else each start takes a new one)."""

    launcher = None
    keep_port = False

    def __init__(self):
        self.port, self.proc = None, None

    def args(self):
        raise NotImplementedError

    def start(self):
        self.port = self.port if self.keep_port and self.port else free_port()
        cmd = [str(self.launcher), "--listen", "127.0.0.1", "--port", str(self.port)] + [str(a) for a in self.args()]
        env = dict(os.environ, PYTHON=sys.executable)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # pylint: disable=consider-using-with
        line = self.proc.stdout.readline()
        if "listening on 127.0.0.1:%d" % self.port not in line and self.proc.poll() is not None:
            line += self.proc.stdout.read()  # it exited: the rest of what it said
        assert "listening on 127.0.0.1:%d" % self.port in line, line
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc:
            self.proc.stdout.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()
