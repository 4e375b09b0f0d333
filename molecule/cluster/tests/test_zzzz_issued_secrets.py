"""The bootstrap tokens and certificate keys kubeadm made during the scenario (the init, the joins,
the re-uploads and the rejoin before this file), collected for the secret search
of `make test`: the kubeadm double records every token and key it makes in the lab-only file
/var/lib/aifabric-sim/kubeadm/issued on the host that made it. They go to
.cache/lab-secrets/cluster.issued (mode 0600, not a log), and after the last stage
`tests/suite.py secrets` fails if any log of the run (the Molecule output of every step, the
Ansible log, the verify's playbook runs) holds one of them. Marked final and named last: it runs
after every test that makes a token."""
import os

import pytest

import labhosts

GPU = labhosts.group("gpu_nodes")
CONTROL = labhosts.group("kube_control_plane")
RECORD = "/var/lib/aifabric-sim/kubeadm/issued"
ISSUED = os.path.join(labhosts.ROOT, ".cache", "lab-secrets")

pytestmark = pytest.mark.final


def test_every_token_and_key_kubeadm_made_goes_to_the_secret_search():
    lines = []
    for name in sorted(set(CONTROL) | set(GPU)):
        h = labhosts.host(name)
        if h.file(RECORD).exists:
            lines.extend(h.check_output("cat %s" % RECORD).splitlines())
    kinds = [line.split(" ", 1)[0] for line in lines]
    # at least the init's token and key, a token per worker join, and the rejoin's token
    assert kinds.count("token") >= len(GPU) + 2, kinds
    assert kinds.count("certificate-key") >= 1, kinds
    os.makedirs(ISSUED, exist_ok=True)
    path = os.path.join(ISSUED, "cluster.issued")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
