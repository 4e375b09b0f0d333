"""The CI path against the converged lab: extensions/ci/aifabric_ci.py (ansible-runner) runs
playbooks/acceptance.yml on inventories/lab as a pipeline does - check, apply, re-run with no
change - with the extra vars an AWX survey gives (strings "true"/"false"), then a --tags and a
--limit variant; the verdicts come from runner's stats and job events, the JUnit files and the
acceptance report. Then a GPU fault on exactly one node must turn the run, its JUnit cases and
the report red for that node only, with exit code 2. About 2-3 minutes of lab time."""
import glob
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

import labhosts

ROOT = labhosts.ROOT
CI = os.path.join(ROOT, "extensions", "ci", "aifabric_ci.py")
INVENTORY = os.path.join(ROOT, "inventories", "lab")
PLAYBOOK = os.path.join(ROOT, "playbooks", "acceptance.yml")
GPU = labhosts.group("gpu_nodes")
SWITCHES = labhosts.group("leaf_switches")
MGMT = labhosts.group("mgmt_nodes")
CHECKS = ["gpu_health", "rdma", "fabric", "firmware", "storage_nfs", "storage_lustre"]
CASE = "[%s] Acceptance - verdict per node and check: Acceptance %s"
START = time.time()


def survey():
    """Extra vars as an AWX survey sends them: every boolean a string. The lab's GPU nodes have
    no BMC emulator in this scenario (firmware_collect_redfish "false"); the Xid window starts with
    this module, so Xids that earlier fault passes logged do not count."""
    return {"acceptance_print": "true", "firmware_collect_redfish": "false", "gpu_health_fail": "false",
            "fabric_validate_fail": "false", "gpu_health_xid_since": "-%ds" % (int(time.time() - START) + 10)}


class Run:
    def __init__(self, base, ident, *args):
        self.base = os.path.join(str(base), ident)
        self.junit = os.path.join(self.base, "junit")
        self.report_dir = os.path.join(self.base, "report")
        proc = subprocess.run(
            [sys.executable, CI, "--private-data-dir", os.path.join(self.base, "pdd"), "--inventory", INVENTORY,
             "--playbook", PLAYBOOK, "--ident", ident, "--junit-dir", self.junit, "--junit-test-case-prefix", "Acceptance",
             "--report-dir", self.report_dir, "--quiet", "-e", json.dumps(survey())] + list(args),
            capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
        self.rc, self.out = proc.returncode, proc.stdout + proc.stderr
        artifacts = os.path.join(self.base, "pdd", "artifacts", ident)
        with open(os.path.join(artifacts, "aifabric_ci.json")) as f:
            self.result = json.load(f)
        self.stats = self.result["stats"]
        self.events = []
        for path in glob.glob(os.path.join(artifacts, "job_events", "*.json")):
            with open(path) as f:
                self.events.append(json.load(f))
        self.events.sort(key=lambda e: e["counter"])
        with open(os.path.join(self.report_dir, "report.json")) as f:
            self.report = json.load(f)

    def changed(self):
        return dict((h, n) for h, n in (self.stats.get("changed") or {}).items() if n)

    def verdicts(self, node):
        return dict((c, v["verdict"]) for c, v in self.report["nodes"][node]["checks"].items())

    def cases(self):
        files = [p for p in glob.glob(os.path.join(self.junit, "acceptance-*.xml")) if not p.endswith("-hosts.xml")]
        assert len(files) == 1, files
        return dict((c.get("name"), c) for c in ET.parse(files[0]).getroot().iter("testcase"))

    def red_cases(self):
        return sorted(n for n, c in self.cases().items() if c.find("failure") is not None or c.find("error") is not None)

    def task_hosts(self, task, event="runner_on_ok"):
        return sorted(e["event_data"]["host"] for e in self.events
                      if e["event"] == event and e["event_data"].get("task") == task)

    def artifact_data(self):
        return [e for e in self.events if e["event"] == "playbook_on_stats"][0]["event_data"]["artifact_data"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ci-runner")
    out = {}
    out["check"] = Run(base, "check", "--check", "--diff")
    out["apply"] = Run(base, "apply")
    out["rerun"] = Run(base, "rerun")
    return out


def assert_all_green(run):
    assert run.rc == 0, run.out[-4000:]
    assert run.result["exit_code"] == 0 and run.result["why"] == "every host ok"
    assert not run.stats.get("failures") and not run.stats.get("dark"), run.stats
    assert run.report["verdict"] == "pass", [
        (n, c, v["reasons"]) for n, d in run.report["nodes"].items() for c, v in d["checks"].items()
        if v["verdict"] == "fail"]
    for name in GPU:
        assert run.verdicts(name) == dict((c, "pass") for c in CHECKS), (name, run.report["nodes"][name])
    for name in MGMT:
        assert set(run.verdicts(name).values()) == {"n-a"}, run.report["nodes"][name]
        assert run.report["nodes"][name]["checks"]["gpu_health"]["reasons"] == ["no GPUs: not in gpu_nodes"]
    for name in SWITCHES:
        assert run.verdicts(name)["fabric"] == "pass"


def test_check_apply_rerun_all_green_and_nothing_left_to_change(runs):
    for name in ("check", "apply", "rerun"):
        assert_all_green(runs[name])
    # check mode predicted exactly what the apply run changed (the firmware check's ConnectX
    # tools where they were missing); the re-run changes nothing
    assert runs["check"].changed() == runs["apply"].changed(), (runs["check"].changed(), runs["apply"].changed())
    assert set(runs["apply"].changed()) <= set(GPU)
    assert runs["rerun"].changed() == {}, runs["rerun"].changed()
    # every host of the inventory line in the output, with its status
    for name in GPU + MGMT + SWITCHES:
        assert "aifabric_ci: %s" % name in runs["rerun"].out


def test_job_events_junit_and_set_stats(runs):
    run = runs["rerun"]
    assert run.task_hosts("Acceptance gpu_health") == GPU
    assert run.task_hosts("Acceptance fabric") == sorted(GPU + SWITCHES)
    assert run.task_hosts("Acceptance gpu_health", "runner_on_skipped") == sorted(MGMT + SWITCHES)
    assert run.task_hosts("Acceptance verdict", "runner_on_failed") == []
    cases = run.cases()
    for name in GPU:
        for check in CHECKS:
            case = cases[CASE % (name, check)]
            assert case.find("skipped") is None and case.find("failure") is None and case.find("error") is None
    assert cases[CASE % (MGMT[0], "gpu_health")].find("skipped") is not None
    assert run.red_cases() == []
    data = run.artifact_data()["aifabric_acceptance"]
    assert data["verdict"] == "pass" and data["failed_nodes"] == []
    assert data["nodes"][GPU[0]] == dict((c, "pass") for c in CHECKS)
    # acceptance_print "true" (a survey string): one line per node and check
    stdout = open(os.path.join(run.base, "pdd", "artifacts", "rerun", "stdout")).read()
    for name in GPU:
        assert sum(1 for line in stdout.splitlines() if line.split()[:1] == [name] and "PASS" in line) == len(CHECKS)
    assert "acceptance: PASS" in stdout


def test_tags_and_limit_variants(tmp_path):
    tagged = Run(tmp_path, "tags", "--tags", "gpu_health,storage")
    assert tagged.rc == 0, tagged.out[-4000:]
    for name in GPU:
        v = tagged.verdicts(name)
        assert v["gpu_health"] == v["storage_nfs"] == v["storage_lustre"] == "pass"
        assert v["rdma"] == v["fabric"] == v["firmware"] == "n-a", v
        assert "not run in this run" in tagged.report["nodes"][name]["checks"]["firmware"]["reasons"][0]
    assert tagged.task_hosts("Find the fabric netdev by its MAC") == []
    node = GPU[-1]
    limited = Run(tmp_path, "limit", "--limit", node, "--tags", "gpu_health")
    assert limited.rc == 0, limited.out[-4000:]
    assert sorted(limited.report["nodes"]) == [node]
    assert sorted(limited.result["hosts"]) == [node]
    assert limited.task_hosts("Check the GPUs against the node's hardware profile") == [node]


@pytest.mark.fault
def test_fault_gpu_ecc_turns_exactly_one_node_red(tmp_path):
    node = GPU[0]
    h = labhosts.host(node)
    try:
        assert h.run("aifabric-sim-gpu fault 2 ecc-uncorrectable").rc == 0
        run = Run(tmp_path, "fault", "--tags", "gpu_health")
        assert run.rc == 2, run.out[-4000:]
        assert run.result["exit_code"] == 2
        assert sorted(h for h, n in run.stats["failures"].items() if n) == [node]
        assert not run.stats.get("dark")
        assert run.result["hosts"][node] == "failed"
        assert all(s == "ok" for h, s in run.result["hosts"].items() if h != node), run.result["hosts"]
        assert run.report["verdict"] == "fail" and run.report["failed_nodes"] == [node]
        reasons = run.report["nodes"][node]["checks"]["gpu_health"]["reasons"]
        assert any(r.startswith("GPU 2:") and "uncorrectable" in r.lower() for r in reasons), reasons
        for other in GPU[1:]:
            assert run.verdicts(other)["gpu_health"] == "pass"
        assert run.red_cases() == [CASE % (node, "gpu_health"), CASE % (node, "verdict")]
        assert run.task_hosts("Acceptance verdict", "runner_on_failed") == [node]
        assert run.artifact_data()["aifabric_acceptance"]["failed_nodes"] == [node]
        hosts = ET.parse(os.path.join(run.junit, "acceptance-hosts.xml")).getroot()
        assert [c.get("name") for c in hosts.iter("testcase") if c.find("failure") is not None] == ["%s - run" % node]
    finally:
        h.run("aifabric-sim-gpu fault 2 clear")
