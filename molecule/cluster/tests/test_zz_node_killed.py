"""A node lost mid-run (issue 18's fault pass for runs): `podman kill` of a GPU node while
the GPU phase (playbooks/gpu.yml, as site.yml imports it) runs on it and another node. The
other node converges, the recap names the lost one unreachable, and after the node is back
(`podman start`, a cold boot) the next site.yml run converges it; the run after that changes
nothing. The phase, not the whole site, for the killed run: what follows the GPU phase on the
surviving node would prove nothing more and cost a minute. Runs last (a fault, and the file
sorts last), on nodes every other test has finished with."""
import re
import subprocess
import time

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
PREFIX = "aifabric-lab-"


def recap(out, host):
    found = re.search(r"^%s\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % re.escape(host), out, re.M)
    assert found, out[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), (int(n) for n in found.groups())))


@pytest.mark.fault
def test_a_node_killed_mid_run_is_converged_by_the_next_run():
    victim, survivor = GPU[0], GPU[1]
    cmd = ["ansible-playbook", "-i", labhosts.ROOT + "/inventories/lab", labhosts.ROOT + "/playbooks/gpu.yml",
           "--limit", "%s,%s" % (victim, survivor)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=labhosts.ROOT)
    lines, killed = [], False
    try:
        for line in proc.stdout:
            lines.append(line)
            # the GPU phase has begun on both nodes: the node dies under the run
            if not killed and line.startswith("TASK [aifabric.cluster.nvidia_driver"):
                subprocess.run(["podman", "kill", PREFIX + victim], check=True, capture_output=True)
                killed = True
        rc = proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
        if killed:
            subprocess.run(["podman", "start", PREFIX + victim], check=False, capture_output=True)
    out = "".join(lines)
    assert killed, out[-3000:]
    assert rc != 0, out[-3000:]
    lost, other = recap(out, victim), recap(out, survivor)
    assert lost["unreachable"] == 1, out.rsplit("PLAY RECAP", maxsplit=1)[-1]
    assert other["unreachable"] == 0 and other["failed"] == 0, out.rsplit("PLAY RECAP", maxsplit=1)[-1]

    # the node is back (a cold boot): wait for its sshd, then the next run converges it
    def answers():
        return subprocess.run(["ansible", victim, "-i", labhosts.ROOT + "/inventories/lab", "-m", "ansible.builtin.ping"],
                              capture_output=True, text=True, cwd=labhosts.ROOT, check=False).returncode == 0
    labhosts.wait_for(answers, timeout=120, interval=2)
    again = labhosts.playbook("site.yml", "--limit", victim)
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again.stdout, victim)["failed"] == 0
    time.sleep(1)
    last = labhosts.playbook("site.yml", "--limit", victim)
    assert last.returncode == 0 and recap(last.stdout, victim)["changed"] == 0, last.stdout[-4000:]
