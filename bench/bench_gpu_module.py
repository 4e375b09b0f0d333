"""nvidia_smi_info against its floor, on a simulated 8-GPU node (controller side).

Two floors, both with the same nvidia-smi:
- the tool floor: one `nvidia-smi -q -x` call plus the Python start-up (`python3 -c`
  that runs it);
- the module floor, like for like: an empty AnsibleModule run as Ansible runs a module
  (python3 module.py args.json) that imports AnsibleModule, parses its (empty)
  arguments, finds nvidia-smi on PATH, runs `nvidia-smi -q -x` through run_command and
  writes its JSON result. What nvidia_smi_info costs above it is its own parse and
  verdict (issue 17: at most 20 % on an 8-GPU node).
The module run is the real module file executed the same way, with the lab's nvidia-smi
test double on PATH for an hgx-h100-8gpu profile. Prints a table, writes JSON.

    python3 bench/bench_gpu_module.py [--runs 15]
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM = os.path.join(ROOT, "lab", "sim-packages")
# the simulators' shared helpers, which an installed lab keeps beside them in /usr/lib/aifabric-sim
SIM_COMMON = os.path.join(SIM, "aifabric-sim-common", "usr", "lib", "aifabric-sim")


# the like-for-like floor: what every AnsibleModule that runs nvidia-smi pays
EMPTY_MODULE = """
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    smi = module.get_bin_path('nvidia-smi', required=True)
    rc, out, err = module.run_command([smi, '-q', '-x'], environ_update=dict(LANG='C', LC_ALL='C'))
    if rc != 0:
        module.fail_json(msg=err, rc=rc)
    module.exit_json(changed=False)


main()
"""


def timed(cmd, env, runs):
    samples = []
    for dummy in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit("failed: %s\n%s%s" % (" ".join(cmd), proc.stdout[-2000:], proc.stderr[-2000:]))
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--profile", default="hgx-h100-8gpu")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="aifabric-bench-gpu-")
    try:
        simroot = os.path.join(work, "root")
        os.makedirs(os.path.join(simroot, "etc", "aifabric-lab"))
        with open(os.path.join(simroot, "etc", "aifabric-lab", "hw_profile"), "w") as f:
            f.write(args.profile + "\n")
        shutil.copytree(os.path.join(SIM, "aifabric-sim-common", "usr", "share"), os.path.join(simroot, "usr", "share"))
        # the collection importable as ansible_collections.aifabric.cluster
        tree = os.path.join(work, "collections")
        os.makedirs(os.path.join(tree, "ansible_collections", "aifabric"))
        os.symlink(ROOT, os.path.join(tree, "ansible_collections", "aifabric", "cluster"))
        bindir = os.path.join(SIM, "nvidia-utils-580", "usr", "bin")
        env = dict(os.environ, AIFABRIC_SIM_ROOT=simroot, PATH=bindir + os.pathsep + os.environ["PATH"],
                   PYTHONPATH=os.pathsep.join([tree, SIM_COMMON]), LANG="C", LC_ALL="C")
        argsfile = os.path.join(work, "args.json")
        with open(argsfile, "w") as f:
            json.dump({"ANSIBLE_MODULE_ARGS": {}}, f)
        module = os.path.join(ROOT, "plugins", "modules", "nvidia_smi_info.py")
        floor_cmd = [sys.executable, "-c",
                     "import subprocess; subprocess.run(['nvidia-smi', '-q', '-x'], capture_output=True, check=True)"]
        empty = os.path.join(work, "empty_module.py")
        with open(empty, "w") as f:
            f.write(EMPTY_MODULE)
        empty_cmd = [sys.executable, empty, argsfile]
        module_cmd = [sys.executable, module, argsfile]
        out = subprocess.run(module_cmd, env=env, capture_output=True, text=True, check=True).stdout
        gpus = json.loads(out)["gpu_count"]
        for cmd in (floor_cmd, empty_cmd, module_cmd):  # warm caches
            timed(cmd, env, 2)
        floor, empty_floor, mod = [], [], []
        for dummy in range(args.runs):  # interleaved: a load change hits all three alike
            floor += timed(floor_cmd, env, 1)
            empty_floor += timed(empty_cmd, env, 1)
            mod += timed(module_cmd, env, 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
        "profile": args.profile, "gpus": gpus, "runs": args.runs,
        "floor_median_s": round(statistics.median(floor), 4),
        "module_floor_median_s": round(statistics.median(empty_floor), 4),
        "module_median_s": round(statistics.median(mod), 4),
    }
    result["ratio"] = round(result["module_median_s"] / result["floor_median_s"], 2)
    result["ratio_to_module_floor"] = round(result["module_median_s"] / result["module_floor_median_s"], 2)
    print("| profile | GPUs | tool floor (python + nvidia-smi -q -x) | module floor (empty AnsibleModule"
          " + nvidia-smi -q -x) | nvidia_smi_info | / tool floor | / module floor |")
    print("|---|---|---|---|---|---|---|")
    row = (args.profile, gpus, result["floor_median_s"], result["module_floor_median_s"], result["module_median_s"],
           result["ratio"], result["ratio_to_module_floor"])
    print("| %s | %d | %.3f s | %.3f s | %.3f s | %.2f | %.2f |" % row)
    outdir = os.path.join(ROOT, "bench", "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "gpu-module-latest.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
