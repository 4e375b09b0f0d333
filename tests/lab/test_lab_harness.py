"""lab/lab.py's inotify check: a lab whose new sim hosts cannot all start systemd is refused
before anything is created, with the numbers and the command that raises the limit.

The /proc it reads is a fake tree here (pid directories owned by this user, descriptors as
symbolic links to what the kernel names them), and the limit a file of its own.
"""
import os
import sys

import pytest

from labtest import REPO

sys.path.insert(0, str(REPO / "lab"))
import lab  # noqa: E402  pylint: disable=import-error,wrong-import-position


def fake_proc(tmp_path, fds_per_pid):
    proc = tmp_path / "proc"
    for pid, targets in fds_per_pid.items():
        fd_dir = proc / str(pid) / "fd"
        fd_dir.mkdir(parents=True)
        for num, target in enumerate(targets):
            os.symlink(target, str(fd_dir / str(num)))
    (proc / "self").mkdir()  # not a pid: skipped
    return str(proc)


def limit_file(tmp_path, value):
    path = tmp_path / "max_user_instances"
    path.write_text("%d\n" % value)
    return str(path)


def test_counts_only_inotify_descriptors(tmp_path):
    proc = fake_proc(tmp_path, {
        10: ["anon_inode:inotify", "anon_inode:inotify", "/dev/null"],
        11: ["anon_inode:[eventpoll]", "socket:[1234]"],
        12: ["anon_inode:inotify"],
    })
    assert lab.inotify_in_use(os.geteuid(), proc) == 3
    # another user's processes are not counted (the kernel's count is per user)
    assert lab.inotify_in_use(os.geteuid() + 1, proc) == 0


def test_a_lab_that_fits_starts(tmp_path):
    proc = fake_proc(tmp_path, {10: ["anon_inode:inotify"] * 8})
    # 8 in use + 7 hosts' worth fits in 128
    lab.check_inotify(7, proc=proc, limit_path=limit_file(tmp_path, 128))
    # nothing to start (the lab is up): nothing to check, even past the limit
    lab.check_inotify(0, proc=proc, limit_path=limit_file(tmp_path, 1))


def test_a_lab_past_the_limit_is_refused_with_the_numbers(tmp_path):
    proc = fake_proc(tmp_path, {10: ["anon_inode:inotify"] * 20})
    hosts = 33  # a 32-GPU-node lab and its management node
    with pytest.raises(SystemExit) as err:
        lab.check_inotify(hosts, proc=proc, limit_path=limit_file(tmp_path, 128))
    need = hosts * lab.INOTIFY_PER_HOST
    message = str(err.value)
    assert "%d new sim hosts need about %d inotify instances" % (hosts, need) in message
    assert "fs.inotify.max_user_instances is 128 with 20 already in use" in message
    assert "sysctl -w fs.inotify.max_user_instances=" in message
    # the value it suggests is enough for what it counted
    suggested = int(message.split("max_user_instances=")[1].split("`")[0])
    assert suggested >= 20 + need
