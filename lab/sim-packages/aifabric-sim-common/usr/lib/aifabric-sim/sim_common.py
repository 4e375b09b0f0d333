"""aifabric lab: what the simulators share (test-side only): this sim host's hardware profile and
the persistent state of a simulator, one JSON file under a lock.

hw_profile() reads the profile the lab harness names in /etc/aifabric-lab/hw_profile (GPU model and
count, NVSwitches, NICs) from this package's /usr/share/aifabric-lab/profiles.

The simulated tools (nvidia-smi, mlnx_qos and the RDMA tree, lctl/lnetctl/mount.lustre) keep what the
real hardware or kernel would hold in JSON files. Every call of a tool is a separate process, and the
tools run side by side (Ansible forks, a systemd unit), so each access takes a flock on the state
directory's .lock: shared to read, exclusive to read-modify-write. A missing, unreadable or stale file
(valid() false) starts from fresh(). A writer's state is saved on close, atomically (a temporary file
renamed over it: no reader sees half a file), when it changed or was fresh; nothing is saved when the
block raised.
"""

import fcntl
import json
import os

ROOT = os.environ.get("AIFABRIC_SIM_ROOT", "")  # test-side path prefix (controller tests)
PROFILE_NAME_FILE = ROOT + "/etc/aifabric-lab/hw_profile"
PROFILE_DIR = ROOT + "/usr/share/aifabric-lab/profiles"


def hw_profile():
    """This sim host's hardware profile (a dict), or None: no profile named, or an unknown or unreadable one."""
    try:
        with open(PROFILE_NAME_FILE) as f:
            name = f.read().strip()
        if not name:
            return None
        with open(os.path.join(PROFILE_DIR, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class JsonState:
    """with JsonState(path, fresh, valid, write) as st: st.data is the state."""

    def __init__(self, path, fresh, valid=None, write=False, indent=1):
        self.path, self.write, self.indent = path, write, indent
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        self.lock = open(os.path.join(directory, ".lock"), "a")  # pylint: disable=consider-using-with
        fcntl.flock(self.lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
        try:
            with open(path) as f:
                self.data = json.load(f)
            if valid is not None and not valid(self.data):
                raise ValueError("stale state")
            self.before = json.dumps(self.data, sort_keys=True)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self.data = fresh()
            self.before = None

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=self.indent, sort_keys=True)
        os.replace(tmp, self.path)

    def close(self, failed=False):
        if self.write and not failed and json.dumps(self.data, sort_keys=True) != self.before:
            self.save()
        self.lock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close(failed=exc[0] is not None)
