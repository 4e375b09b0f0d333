#!/usr/bin/env python3
"""Benchmark the aifabric lab and a converge of playbooks/site.yml on it.

    python3 bench/bench.py --nodes 4 16      (what `make bench` runs)

For each GPU node count N, on a fresh lab:

 1. lab creation: `lab.py down`, then `lab.py up --nodes N` timed; the image/repo
    step (a no-op when cached) and the container creation are reported apart,
    from .cache/lab/state.json;
 2. first converge of site.yml: wall time and controller CPU time (user+sys of
    every process the run started, ssh ControlPersist masters included);
 3. idempotent re-run of site.yml: wall time; PLAY RECAP must show changed=0,
    failed=0 and unreachable=0 on every host, else the bench fails;
 4. tasks per host T in the re-run: from gpu-01's PLAY RECAP line,
    T = ok + changed + failed (skipped tasks are not counted; see bench/README.md);
 4b. the GPU stack alone: a no-op re-run of playbooks/gpu.yml (preflight and the GPU
    phase) on the converged nodes: wall time, changed must be 0, and its tasks per
    GPU host by the same rule;
 5. the Ansible floor: a generated playbook of T ansible.builtin.ping tasks on
    `hosts: cluster` (gather_facts: false), same lab, same connection settings;
    ratio = re-run wall / floor wall;
 5a. a `--limit` run of the last GPU node on the converged cluster: wall and CPU without a
    fact cache, then with a jsonfile one (the first run fills it, the second reads it);
    each must be a no-op;
 5b. with --mitogen: the re-run and the floor again under mitogen's mitogen_linear strategy
    (PyPI mitogen, an optional strategy; the default path is OpenSSH with pipelining and
    ControlPersist), and their ratios to the default re-run and floor;
 6. memory per idle sim host: ~10 s after the converge, each sim host container's
    cgroup v1 memory (usage_in_bytes, working set = usage - total_inactive_file,
    total_rss), mean and max in MiB.

Prints a table, writes bench/results/bench-<date>.json and bench/results/latest.json
(bench/results/ is git-ignored, with the ansible logs under bench/results/logs/).
The lab is shared: the bench waits until no lab exists before it creates one, and
always removes its lab at the end. No timing here is an assertion.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
LAB_PY = os.path.join(ROOT, "lab", "lab.py")
LAB_CACHE = os.environ.get("AIFABRIC_LAB_CACHE", os.path.join(ROOT, ".cache", "lab"))
RESULTS = os.path.join(BENCH, "results")
WORK = os.path.join(ROOT, ".cache", "bench")
LABEL = "aifabric.lab=1"
PREFIX = "aifabric-lab"
MIB = 1024.0 * 1024.0
PR_SET_CHILD_SUBREAPER = 36
OWN_LAB = {"up": False}  # set once this process created the lab: only then is it ours to remove

RECAP_RE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+"
    r"skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)")


def log(msg):
    print("[bench] %s" % msg, flush=True)


def setup_env():
    env = os.environ
    env["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    env.setdefault("CONTAINERS_CONF", os.path.join(ROOT, "lab", "containers.conf"))
    env.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env["PY_COLORS"] = "0"


def sh(cmd, check=True, **kw):
    res = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, **kw)
    if check and res.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s%s" % (
            res.returncode, " ".join(cmd), res.stdout, res.stderr))
    return res


def first_line(cmd):
    try:
        return sh(cmd, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def machine():
    mem_kib = None
    cpu_model = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    cgroup = "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1"
    ansible_core = None
    ver = sh(["ansible", "--version"], check=False).stdout
    m = re.search(r"core ([0-9][^\]\s]*)", ver)
    if m:
        ansible_core = m.group(1)
    return {
        "hostname": platform.node(),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_mib": round(mem_kib / 1024.0) if mem_kib else None,
        "kernel": platform.release(),
        "os": first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "cgroup": cgroup,
        "podman": first_line(["podman", "--version"]),
        "runtime": first_line(["runc", "--version"]),
        "openssh": (sh(["ssh", "-V"], check=False).stderr.strip() or None),
        "ansible_core": ansible_core,
        "python": platform.python_version(),
    }


# ---------------------------------------------------------------- the shared lab

def lab_containers():
    return sh(["podman", "ps", "-a", "--filter", "label=" + LABEL,
               "--format", "{{.Names}}"], check=False).stdout.split()


def wait_lab_free(timeout, poll=30):
    """Another engineer's molecule run may own the lab: wait until none exists."""
    t0 = time.time()
    while True:
        names = lab_containers()
        if not names:
            return round(time.time() - t0, 1)
        if time.time() - t0 > timeout:
            raise RuntimeError("a lab still exists after %d s (%s): not touching it"
                               % (timeout, ", ".join(names)))
        log("a lab exists (%d containers, not ours): waiting %d s" % (len(names), poll))
        time.sleep(poll)


def lab(*args):
    res = subprocess.run([sys.executable, LAB_PY] + list(args), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if res.returncode != 0:
        raise RuntimeError("lab.py %s failed (%d):\n%s" % (" ".join(args), res.returncode,
                                                           res.stdout[-4000:]))
    return res.stdout


# ------------------------------------------------- controller CPU (ssh included)

def set_subreaper(on):
    """While on, orphaned descendants (ssh ControlPersist masters daemonize) are
    re-parented to this process, so their CPU can be read and, once they exit and
    are reaped, lands in RUSAGE_CHILDREN."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap():
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def live_ssh_children_cpu():
    """user+sys seconds of live ssh processes whose parent is this process."""
    me = os.getpid()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] is state (field 3); ppid is field 4; utime/stime fields 14/15
        if comm == "ssh" and int(fields[1]) == me and fields[0] != "Z":
            total += (int(fields[11]) + int(fields[12])) / float(tick)
    return total


def process_cpu(pid, last):
    """user+sys seconds of one process so far (/proc/<pid>/stat), or last when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return last
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def controller_cpu():
    reap()
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime + live_ssh_children_cpu()


def close_masters(cp_dir):
    if not os.path.isdir(cp_dir):
        return
    for sock in os.listdir(cp_dir):
        path = os.path.join(cp_dir, sock)
        sh(["ssh", "-o", "ControlPath=" + path, "-O", "exit", "x"], check=False)
    time.sleep(0.5)
    reap()


# ------------------------------------------------------------------- ansible runs

def parse_recap(text):
    recap = {}
    in_recap = False
    for line in text.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap:
            m = RECAP_RE.match(line.strip())
            if m:
                recap[m.group("host")] = {k: int(v) for k, v in m.groupdict().items()
                                          if k != "host"}
    return recap


def playbook(name, args, env, logdir):
    """Run ansible-playbook; wall and controller CPU seconds, recap, rc."""
    cmd = ["ansible-playbook"] + args
    logfile = os.path.join(logdir, name + ".log")
    load0 = os.getloadavg()[0]
    cpu0 = controller_cpu()
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, env=env, text=True, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        main_cpu = 0.0
        while proc.poll() is None:
            main_cpu = process_cpu(proc.pid, main_cpu)
            time.sleep(0.2)
        out.seek(0)
        stdout = out.read()
    wall = time.monotonic() - t0
    cpu = controller_cpu() - cpu0
    with open(logfile, "w") as f:
        f.write("$ %s\n%s" % (" ".join(cmd), stdout))
    recap = parse_recap(stdout)
    totals = {k: sum(h[k] for h in recap.values())
              for k in ("ok", "changed", "unreachable", "failed", "skipped")}
    # the machine is shared: a high load means other work competed for the CPUs
    # main_cpu_s: the ansible-playbook process alone (its strategy loop, result handling and
    # templating; the forked workers are not in it), last read at most 0.2 s before it exited
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "main_cpu_s": round(main_cpu, 2),
            "rc": proc.returncode,
            "loadavg_1m": [round(load0, 2), round(os.getloadavg()[0], 2)],
            "recap_totals": totals, "recap": recap,
            "log": os.path.relpath(logfile, ROOT)}


def floor_playbook(tasks, path):
    lines = ["---",
             "# generated by bench/bench.py: the Ansible floor, %d no-op tasks per host" % tasks,
             "- name: Floor - %d ping tasks" % tasks,
             "  hosts: cluster",
             "  gather_facts: false",
             "  tasks:"]
    for i in range(1, tasks + 1):
        lines += ["    - name: Ping %d" % i, "      ansible.builtin.ping:"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------- memory

def container_cgroup(name):
    out = sh(["podman", "inspect", "--format", "{{.State.Pid}}\t{{.State.CgroupPath}}",
              name], check=False).stdout.strip()
    pid, _sep, cgpath = out.partition("\t")
    path = None
    if pid and pid != "0":
        try:
            with open("/proc/%s/cgroup" % pid) as f:
                for line in f:
                    _hier, controllers, p = line.rstrip("\n").split(":", 2)
                    if "memory" in controllers.split(","):
                        path = p
        except OSError:
            pass
    if not path and cgpath and not cgpath.startswith("<"):
        path = cgpath
    if not path:
        return None
    # systemd (PID 1) may sit in a sub-cgroup such as init.scope: use the container's
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith("libpod-") and not parts[i].startswith("libpod-conmon"):
            path = "/".join(parts[:i + 1])
            break
    return path


def read_memory(name):
    path = container_cgroup(name)
    if path is None:
        return None
    base = "/sys/fs/cgroup/memory" + path
    row = {"name": name, "cgroup": path}
    try:
        with open(os.path.join(base, "memory.usage_in_bytes")) as f:
            row["usage"] = int(f.read())
        stat = {}
        with open(os.path.join(base, "memory.stat")) as f:
            for line in f:
                k, v = line.split()
                stat[k] = int(v)
    except OSError as exc:
        row["error"] = str(exc)
        return row
    row["total_rss"] = stat.get("total_rss", stat.get("rss"))
    row["total_cache"] = stat.get("total_cache", stat.get("cache"))
    row["total_inactive_file"] = stat.get("total_inactive_file", stat.get("inactive_file", 0))
    row["working_set"] = row["usage"] - row["total_inactive_file"]
    return row


def memory_summary(rows):
    out = {"hosts": len(rows), "rows": rows}
    for key in ("usage", "working_set", "total_rss", "total_cache"):
        vals = [r[key] / MIB for r in rows if r.get(key) is not None]
        if vals:
            out[key + "_mib"] = {"mean": round(statistics.mean(vals), 1),
                                 "max": round(max(vals), 1), "min": round(min(vals), 1)}
    return out


def sim_host_memory():
    names = [n for n in lab_containers() if not n.endswith("-repo")]
    rows = [r for r in (read_memory(n) for n in sorted(names)) if r is not None]
    return memory_summary(rows)


# ---------------------------------------------------------------------- one N

def noop_failure(result, run, what):
    """Record a failure when a run that must be a no-op is not (rc, changed, failed, unreachable)."""
    t = run["recap_totals"]
    if run["rc"] != 0 or t["changed"] or t["failed"] or t["unreachable"]:
        result["failures"].append("%s not a clean no-op (rc=%d, changed=%d, failed=%d)"
                                  % (what, run["rc"], t["changed"], t["failed"]))


def mitogen_env(env):
    """env with mitogen's linear strategy (PyPI mitogen, importable here: bench/README.md), or None."""
    try:
        import ansible_mitogen.plugins.strategy as strategies  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return dict(env, ANSIBLE_STRATEGY_PLUGINS=os.path.dirname(strategies.__file__), ANSIBLE_STRATEGY="mitogen_linear")


def bench_nodes(nodes, stamp, wait_timeout, idle_s, mitogen=False):
    result = {"nodes": nodes, "hosts": nodes + 1, "failures": []}
    logdir = os.path.join(RESULTS, "logs", "%s-N%d" % (stamp, nodes))
    os.makedirs(logdir, exist_ok=True)
    env = dict(os.environ, AIFABRIC_LAB_NODES=str(nodes))
    # a fresh ControlPersist directory per N: no master of an earlier lab is reused
    cp_dir = os.path.join(WORK, "cp-N%d" % nodes)
    shutil.rmtree(cp_dir, ignore_errors=True)
    os.makedirs(cp_dir)
    env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = cp_dir
    site = ["playbooks/site.yml", "-i", "inventories/lab"]

    # 1. lab creation: remove our own lab of the previous N, wait for anyone else's
    if OWN_LAB["up"]:
        lab("down")
        OWN_LAB["up"] = False
    result["waited_for_lab_s"] = wait_lab_free(wait_timeout)
    lab("down")  # no containers: clears leftover lab networks only
    log("N=%d: lab up" % nodes)
    t0 = time.monotonic()
    OWN_LAB["up"] = True
    lab("up", "--nodes", str(nodes))
    up_wall = time.monotonic() - t0
    with open(os.path.join(LAB_CACHE, "state.json")) as f:
        state = json.load(f)
    result["lab_up"] = {"wall_s": round(up_wall, 2),
                        "image_s": state.get("image_seconds"),
                        "create_s": state.get("create_seconds"),
                        "hosts": state.get("nodes")}
    log("N=%d: lab up %.1f s (image step %.1f s, containers %.1f s)" % (
        nodes, up_wall, state.get("image_seconds", 0), state.get("create_seconds", 0)))
    result["memory_fresh"] = sim_host_memory()

    set_subreaper(True)
    try:
        # 2. first converge
        log("N=%d: first converge of site.yml" % nodes)
        conv = playbook("converge", site, env, logdir)
        result["converge"] = conv
        log("N=%d: converge %.1f s wall, %.1f s CPU, rc=%d" % (
            nodes, conv["wall_s"], conv["cpu_s"], conv["rc"]))
        if conv["rc"] != 0:
            result["failures"].append("first converge failed (rc=%d, see %s)"
                                      % (conv["rc"], conv["log"]))
            return result

        # 6. memory per idle sim host, after the converge
        time.sleep(idle_s)
        result["memory_idle"] = sim_host_memory()
        result["memory_idle"]["idle_s"] = idle_s

        # 3. idempotent re-run
        log("N=%d: re-run of site.yml" % nodes)
        rerun = playbook("rerun", site, env, logdir)
        result["rerun"] = rerun
        t = rerun["recap_totals"]
        log("N=%d: re-run %.1f s wall, %.1f s CPU, changed=%d failed=%d unreachable=%d" % (
            nodes, rerun["wall_s"], rerun["cpu_s"], t["changed"], t["failed"], t["unreachable"]))
        if rerun["rc"] != 0 or t["failed"] or t["unreachable"]:
            result["failures"].append("re-run failed (rc=%d, failed=%d, unreachable=%d)"
                                      % (rerun["rc"], t["failed"], t["unreachable"]))
        if t["changed"]:
            changed = {h: r["changed"] for h, r in rerun["recap"].items() if r["changed"]}
            result["failures"].append("not idempotent: re-run changed=%d %s"
                                      % (t["changed"], json.dumps(changed)))

        # 4. tasks per host (rule: gpu-01's recap, ok + changed + failed)
        gpu = sorted(h for h in rerun["recap"] if h.startswith("gpu-"))
        if not gpu:
            result["failures"].append("no gpu host in the re-run's PLAY RECAP")
            return result
        r = rerun["recap"][gpu[0]]
        tasks = r["ok"] + r["changed"] + r["failed"]
        result["tasks_per_host"] = {"host": gpu[0], "tasks": tasks, "skipped": r["skipped"],
                                    "rule": "ok + changed + failed of the first GPU host's "
                                            "re-run PLAY RECAP line (skipped not counted)"}

        # 4b. the GPU stack alone (playbooks/gpu.yml: preflight + the GPU phase), a no-op
        # re-run on the converged nodes; tasks per GPU host by the same rule
        log("N=%d: re-run of gpu.yml" % nodes)
        gpu_rerun = playbook("gpu-rerun", ["playbooks/gpu.yml", "-i", "inventories/lab"], env, logdir)
        g = gpu_rerun["recap"].get(gpu[0], {"ok": 0, "changed": 0, "failed": 0, "skipped": 0})
        gpu_rerun["tasks_per_host"] = {"host": gpu[0], "tasks": g["ok"] + g["changed"] + g["failed"],
                                       "skipped": g["skipped"]}
        result["gpu_rerun"] = gpu_rerun
        gt = gpu_rerun["recap_totals"]
        log("N=%d: gpu.yml re-run %.1f s wall, %.1f s CPU, changed=%d, %d tasks on %s" % (
            nodes, gpu_rerun["wall_s"], gpu_rerun["cpu_s"], gt["changed"],
            gpu_rerun["tasks_per_host"]["tasks"], gpu[0]))
        noop_failure(result, gpu_rerun, "gpu.yml re-run")

        # 5. the Ansible floor
        log("N=%d: floor, %d ping tasks" % (nodes, tasks))
        path = floor_playbook(tasks, os.path.join(WORK, "floor-%d.yml" % tasks))
        floor = playbook("floor", [path, "-i", "inventories/lab"], env, logdir)
        floor["tasks"] = tasks
        result["floor"] = floor
        if floor["rc"] != 0:
            result["failures"].append("floor playbook failed (rc=%d)" % floor["rc"])
        elif floor["wall_s"] > 0:
            result["rerun_over_floor"] = round(rerun["wall_s"] / floor["wall_s"], 2)
        log("N=%d: floor %.1f s wall, %.1f s CPU; re-run/floor %s" % (
            nodes, floor["wall_s"], floor["cpu_s"], result.get("rerun_over_floor")))

        # 5a. a --limit run of one node of the converged cluster, without a fact cache, then
        # with a jsonfile one (a first run fills it, the second reads it); every one a no-op
        last = gpu[-1]
        cache_dir = os.path.join(WORK, "facts-N%d" % nodes)
        shutil.rmtree(cache_dir, ignore_errors=True)
        cenv = dict(env, ANSIBLE_CACHE_PLUGIN="ansible.builtin.jsonfile", ANSIBLE_CACHE_PLUGIN_CONNECTION=cache_dir,
                    ANSIBLE_CACHE_PLUGIN_TIMEOUT="86400")
        limit = {"host": last}
        for key, run_env in (("no_cache", env), ("cache_fill", cenv), ("cached", cenv)):
            limit[key] = playbook("limit-" + key, site + ["--limit", last], run_env, logdir)
            noop_failure(result, limit[key], "--limit %s (%s)" % (last, key))
        result["limit"] = limit
        log("N=%d: --limit %s: %.1f s wall without a fact cache, %.1f s with one (%.1f s filling it)" % (
            nodes, last, limit["no_cache"]["wall_s"], limit["cached"]["wall_s"], limit["cache_fill"]["wall_s"]))

        # 5b. the same re-run and floor under mitogen
        menv = mitogen_env(env) if mitogen else None
        if mitogen and menv is None:
            result["failures"].append("--mitogen: ansible_mitogen is not importable (pip install mitogen)")
        elif menv is not None:
            log("N=%d: re-run of site.yml and the floor under mitogen_linear" % nodes)
            mrerun = playbook("rerun-mitogen", site, menv, logdir)
            mfloor = playbook("floor-mitogen", [path, "-i", "inventories/lab"], menv, logdir)
            noop_failure(result, mrerun, "mitogen re-run")
            result["mitogen"] = {"rerun": mrerun, "floor": mfloor}
            if rerun["wall_s"] > 0 and floor["wall_s"] > 0 and mfloor["wall_s"] > 0:
                result["mitogen"].update(
                    rerun_over_default=round(mrerun["wall_s"] / rerun["wall_s"], 2),
                    floor_over_default=round(mfloor["wall_s"] / floor["wall_s"], 2),
                    rerun_over_floor=round(mrerun["wall_s"] / mfloor["wall_s"], 2))
            log("N=%d: mitogen re-run %.1f s wall, %.1f s CPU; floor %.1f s; %s" % (
                nodes, mrerun["wall_s"], mrerun["cpu_s"], mfloor["wall_s"],
                json.dumps({k: v for k, v in result["mitogen"].items() if k.endswith("default")})))
    finally:
        close_masters(cp_dir)
        set_subreaper(False)
    return result


# ---------------------------------------------------------------------- report

def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def table(results):
    head = ("N", "hosts", "up s", "image s", "create s", "conv s", "conv CPU",
            "rerun s", "rerun CPU", "main CPU", "changed", "T", "gpu rerun s", "gpu T", "floor s", "ratio",
            "mem use", "mem ws", "mem rss", "(mean/max MiB)")
    rows = [head]
    for r in results:
        up = r.get("lab_up", {})
        conv = r.get("converge", {})
        rerun = r.get("rerun", {})
        floor = r.get("floor", {})
        mem = r.get("memory_idle", {})

        def mm(key):
            m = mem.get(key + "_mib")
            return "-" if not m else "%.1f/%.1f" % (m["mean"], m["max"])
        rows.append((str(r["nodes"]), str(r["hosts"]), fmt(up.get("wall_s")),
                     fmt(up.get("image_s")), fmt(up.get("create_s")),
                     fmt(conv.get("wall_s")), fmt(conv.get("cpu_s")),
                     fmt(rerun.get("wall_s")), fmt(rerun.get("cpu_s")), fmt(rerun.get("main_cpu_s")),
                     fmt(rerun.get("recap_totals", {}).get("changed"), "%d"),
                     fmt(r.get("tasks_per_host", {}).get("tasks"), "%d"),
                     fmt(r.get("gpu_rerun", {}).get("wall_s")),
                     fmt(r.get("gpu_rerun", {}).get("tasks_per_host", {}).get("tasks"), "%d"),
                     fmt(floor.get("wall_s")), fmt(r.get("rerun_over_floor"), "%.2f"),
                     mm("usage"), mm("working_set"), mm("total_rss"), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip())
    for r in results:
        lim = r.get("limit")
        if lim:
            print("N=%d --limit %s: %s s wall / %s s CPU without a fact cache, %s s / %s s with one (filling it: %s s)" % (
                r["nodes"], lim["host"], fmt(lim["no_cache"].get("wall_s")), fmt(lim["no_cache"].get("cpu_s")),
                fmt(lim["cached"].get("wall_s")), fmt(lim["cached"].get("cpu_s")), fmt(lim["cache_fill"].get("wall_s"))))
        m = r.get("mitogen")
        if m:
            print("N=%d under mitogen_linear: re-run %s s (x%s of the default), floor %s s (x%s), re-run/floor %s" % (
                r["nodes"], fmt(m["rerun"].get("wall_s")), fmt(m.get("rerun_over_default"), "%.2f"),
                fmt(m["floor"].get("wall_s")), fmt(m.get("floor_over_default"), "%.2f"),
                fmt(m.get("rerun_over_floor"), "%.2f")))
    for r in results:
        for failure in r["failures"]:
            print("FAIL N=%d: %s" % (r["nodes"], failure))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[4, 16],
                    help="GPU node counts to measure (default: 4 16)")
    ap.add_argument("--idle", type=float, default=10.0,
                    help="seconds idle after the converge before reading memory (10)")
    ap.add_argument("--wait-timeout", type=int, default=3600,
                    help="how long to wait for another lab to go away (3600 s)")
    ap.add_argument("--mitogen", action="store_true",
                    help="also time the re-run and the floor under mitogen_linear (PyPI mitogen importable: bench/README.md)")
    args = ap.parse_args()

    setup_env()
    os.makedirs(RESULTS, exist_ok=True)
    os.makedirs(WORK, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    now = datetime.datetime.now()
    stamp = now.strftime("%Y%m%d-%H%M%S")
    report = {"date": now.isoformat(timespec="seconds"), "machine": machine(),
              "command": " ".join(["bench/bench.py"] + sys.argv[1:]),
              "git_commit": first_line(["git", "-C", ROOT, "rev-parse", "HEAD"]),
              "results": []}
    try:
        for n in args.nodes:
            try:
                report["results"].append(bench_nodes(n, stamp, args.wait_timeout, args.idle, args.mitogen))
            except RuntimeError as exc:
                report["results"].append({"nodes": n, "hosts": n + 1,
                                          "failures": ["error: %s" % exc]})
    finally:
        if OWN_LAB["up"]:
            try:
                log("lab down")
                lab("down")
            except RuntimeError as exc:
                log(str(exc))
        if report["results"]:
            path = os.path.join(RESULTS, "bench-%s.json" % stamp)
            for p in (path, os.path.join(RESULTS, "latest.json")):
                with open(p, "w") as f:
                    json.dump(report, f, indent=2)
                    f.write("\n")
            print()
            table(report["results"])
            print("\nwritten: %s (and latest.json)" % os.path.relpath(path, ROOT))
    return 1 if any(r["failures"] for r in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(main())
