"""nvidia_smi_info against its floor, on a simulated 8-GPU node (controller side).

The floor is one `nvidia-smi -q -x` call plus the Python start-up (`python3 -c` that
runs it). The module run is the real module file executed as Ansible runs it on a host
(python3 module.py args.json), with the lab's nvidia-smi test double on PATH for an
hgx-h100-8gpu profile. Both use the same nvidia-smi, so the ratio is the module's own
cost (imports, argument parsing, XML parsing, JSON out). Prints a table, writes JSON.

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
                   PYTHONPATH=tree, LANG="C", LC_ALL="C")
        argsfile = os.path.join(work, "args.json")
        with open(argsfile, "w") as f:
            json.dump({"ANSIBLE_MODULE_ARGS": {}}, f)
        module = os.path.join(ROOT, "plugins", "modules", "nvidia_smi_info.py")
        floor_cmd = [sys.executable, "-c",
                     "import subprocess; subprocess.run(['nvidia-smi', '-q', '-x'], capture_output=True, check=True)"]
        module_cmd = [sys.executable, module, argsfile]
        out = subprocess.run(module_cmd, env=env, capture_output=True, text=True, check=True).stdout
        gpus = json.loads(out)["gpu_count"]
        timed(floor_cmd, env, 2)  # warm caches
        floor = timed(floor_cmd, env, args.runs)
        mod = timed(module_cmd, env, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()},
        "profile": args.profile, "gpus": gpus, "runs": args.runs,
        "floor_median_s": round(statistics.median(floor), 4),
        "module_median_s": round(statistics.median(mod), 4),
    }
    result["ratio"] = round(result["module_median_s"] / result["floor_median_s"], 2)
    print("| profile | GPUs | floor (python + nvidia-smi -q -x) | nvidia_smi_info | ratio |")
    print("|---|---|---|---|---|")
    row = (args.profile, gpus, result["floor_median_s"], result["module_median_s"], result["ratio"])
    print("| %s | %d | %.3f s | %.3f s | %.2f |" % row)
    outdir = os.path.join(ROOT, "bench", "results")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "gpu-module-latest.json"), "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
