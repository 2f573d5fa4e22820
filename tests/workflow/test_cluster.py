"""The workflow under a live SLURM controller (scripts/slurm_local.sh), with faults.

Marked ``cluster``: a session fixture installs ``slurm-wlm`` and ``munge`` with apt-get when they are
missing (root only), starts a one-node SLURM with one fake GPU (scripts/slurm_local.sh, state in a
temporary directory) and stops it at the end. Without root or apt-get, or with another SLURM running
on the machine, the tests skip and say why. Each test runs a copy of
the workflow (Snakefile, workflow/, config/, envs/, profiles/, resources/) in its own temporary
directory with ``--profile profiles/slurm-local``, so the repository's results/ is never touched.

What they show:
- the trivial test workflow and every chain's tiny test config (tests/configs/<chain>.yaml, training at
  ``EPOCHS`` epochs) run through sbatch to completion, and their metrics equal those of a local
  ``--cores 2`` run with the same seed (both runs go at once to save wall time);
- rules with ``resources: gpu=1`` are submitted with a GPU request (``TresPerJob=gres:gpu:1``), see
  ``CUDA_VISIBLE_DEVICES`` inside the job, and still train on CPU when that "GPU" is not real;
- a training job killed with ``scancel`` is reported with its log, and the same command resumes from
  its last checkpoint to the same metrics as an uninterrupted run, with no partial output left;
- Ctrl-C (SIGINT to Snakemake's process group) during training cancels the job, and
  ``--rerun-incomplete`` ends with the uninterrupted run's ``model.ckpt`` weights and ``metrics.tsv``;
- a job over its memory limit fails with a message naming the rule and the limit, and the retry with
  resources scaled by ``attempt`` passes; the same for a time limit (opt-in, PGML_TEST_TIME_LIMIT=1:
  SLURM limits are whole minutes, so it takes ~3.5 min).

Runtime on the 2-core machine: ~7 min (the demo pair ~3.5 min, scancel and Ctrl-C ~1 min each, the
rest ~1.5 min).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SLURM_LOCAL = REPO / "scripts" / "slurm_local.sh"
WORKFLOW_PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources", "tests/configs")
TEST_WORKFLOWS = REPO / "tests" / "workflows"
PROFILE = "profiles/slurm-local"

pytestmark = [pytest.mark.cluster, pytest.mark.workflow]


# --------------------------------------------------------------------------------------------------
# the cluster
# --------------------------------------------------------------------------------------------------


def _missing_slurm_tools() -> list[str]:
    tools = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scancel", "scontrol")
    return [t for t in tools if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]


def _install_slurm() -> None:
    """apt-get install slurm-wlm munge (root only); skip with the reason when that cannot work."""
    if not _missing_slurm_tools():
        return
    if shutil.which("apt-get") is None:
        pytest.skip(f"local SLURM needs {', '.join(_missing_slurm_tools())} and apt-get is not available")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "slurm-wlm", "munge"],
    )
    for cmd in steps:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
        )
        if proc.returncode != 0:
            msg = f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr.strip()[-500:]}"
            if os.environ.get("CI"):
                pytest.fail(msg)  # CI runs as root with the package mirror: this is a real failure
            pytest.skip(msg)


def _slurm_local(action: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SLURM_LOCAL), action],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def slurm() -> dict[str, str]:
    """A running one-node SLURM; yields the environment (SLURM_CONF, PATH) clients need."""
    if os.geteuid() != 0:
        pytest.skip("local SLURM needs root (to install slurm-wlm/munge and start slurmctld, slurmd, munged)")
    _install_slurm()
    # Not under pytest's basetemp, which a concurrent pytest session may prune while the daemons run;
    # a short path, since the munge socket lives under it (unix socket paths are limited to 107 bytes).
    state = Path(tempfile.mkdtemp(prefix="pgml-slurm-"))
    env = dict(os.environ)
    env["PGML_SLURM_DIR"] = str(state)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin", env.get("PATH", "")])
    started = _slurm_local("start", env)
    if started.returncode == 3:  # another SLURM on this machine
        pytest.skip(f"cannot start a local SLURM: {started.stderr.strip()}")
    assert started.returncode == 0, f"slurm_local.sh start failed:\n{started.stdout}\n{started.stderr}"
    env["SLURM_CONF"] = str(state / "etc" / "slurm.conf")
    # idempotent: a second start leaves the running cluster alone
    again = _slurm_local("start", env)
    assert again.returncode == 0 and "already running" in again.stderr
    try:
        yield env
    finally:
        stopped = _slurm_local("stop", env)
        assert stopped.returncode == 0, stopped.stderr
        assert _slurm_local("status", env).returncode == 3
        shutil.rmtree(state, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def copy_workflow(dest: Path, extra: Path | None = None) -> Path:
    """The repository's workflow (and optionally a test workflow's Snakefile) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / part)
    if extra is not None:
        shutil.copy2(extra, dest / "Snakefile")
    return dest


def start_snakemake(
    workdir: Path, args: list[str], env: dict[str, str], *, new_session: bool = False
) -> subprocess.Popen:
    """Start snakemake in ``workdir`` without waiting; stdout and stderr together.

    ``new_session``: in a process group of its own, which a test can signal as a terminal would.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=new_session,
    )


def snakemake(
    workdir: Path, args: list[str], env: dict[str, str], timeout: int = 600
) -> subprocess.CompletedProcess:
    """Run snakemake in ``workdir`` to the end; stdout and stderr together in ``.stdout``."""
    proc = start_snakemake(workdir, args, env)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def local_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("SLURM_CONF", None)
    return env


def slurm_jobs(env: dict[str, str]) -> list[dict[str, str]]:
    """Every job slurmctld still remembers (MinJobAge is 1 h), as ``scontrol -o show job`` fields."""
    out = subprocess.run(
        ["scontrol", "-o", "show", "job"], env=env, capture_output=True, text=True, check=True
    ).stdout
    jobs = []
    for line in out.splitlines():
        fields = dict(m.groups() for m in re.finditer(r"(\w+)=(\S*)", line))
        if "JobId" in fields:
            jobs.append(fields)
    return jobs


def jobs_of_rule(env: dict[str, str], rule: str, since: int = 0) -> list[dict[str, str]]:
    """Jobs the Snakemake SLURM plugin submitted for ``rule`` (it names the rule in --comment)."""
    return [
        j
        for j in slurm_jobs(env)
        if j.get("Comment", "").startswith(f"rule_{rule}") and int(j["JobId"]) > since
    ]


def last_job_id(env: dict[str, str]) -> int:
    return max((int(j["JobId"]) for j in slurm_jobs(env)), default=0)


def assert_ok(proc: subprocess.CompletedProcess, what: str) -> None:
    assert proc.returncode == 0, f"{what} failed ({proc.returncode}):\n{proc.stdout[-6000:]}"


# --------------------------------------------------------------------------------------------------
# the trivial workflow: the plumbing
# --------------------------------------------------------------------------------------------------


def test_trivial_workflow_runs_through_sbatch(slurm, tmp_path):
    wd = copy_workflow(tmp_path / "wf", TEST_WORKFLOWS / "trivial" / "Snakefile")
    before = last_job_id(slurm)
    proc = snakemake(wd, ["--profile", PROFILE, "--config", "items=4"], slurm, timeout=300)
    assert_ok(proc, "trivial workflow under SLURM")

    assert (wd / "results/trivial/items.txt").read_text().split("\n")[:4] == [f"item {i}" for i in range(4)]
    # every job went through sbatch: 4 items + probe + gather
    assert len(jobs_of_rule(slurm, "make_item", before)) == 4
    assert all(j["JobState"] == "COMPLETED" for j in slurm_jobs(slurm) if int(j["JobId"]) > before)
    # the gpu=1 rule asked SLURM for a GPU and saw the fake one
    (probe,) = jobs_of_rule(slurm, "probe_gpu", before)
    assert "gpu:1" in probe.get("TresPerJob", ""), probe
    seen = (wd / "results/trivial/gpu.txt").read_text()
    assert "CUDA_VISIBLE_DEVICES=0" in seen and f"SLURM_JOB_ID={probe['JobId']}" in seen
    # the other rules did not
    assert all("gpu" not in j.get("TresPerJob", "") for j in jobs_of_rule(slurm, "make_item", before))


# --------------------------------------------------------------------------------------------------
# resource limits
# --------------------------------------------------------------------------------------------------


def error_block(out: str, rule: str) -> str:
    """Snakemake's report of the first failed ``rule`` job, with the logs --show-failed-logs prints."""
    lines = out[out.index(f"Error in rule {rule}") :].splitlines()
    block, i = [lines[0]], 1
    while i < len(lines):
        if lines[i].startswith("    "):
            block.append(lines[i])
            i += 1
        elif lines[i].startswith("Logfile "):
            block.append(lines[i])
            i += 1
            if i < len(lines) and re.fullmatch(r"=+", lines[i]):  # a fenced log follows
                fence = lines[i]
                end = lines.index(fence, i + 1) if fence in lines[i + 1 :] else len(lines) - 1
                block += lines[i : end + 1]
                i = end + 1
        else:
            break
    return "\n".join(block)


def test_memory_limit_fails_with_rule_and_limit_then_retry_passes(slurm, tmp_path):
    wd = copy_workflow(tmp_path / "wf", TEST_WORKFLOWS / "limits" / "Snakefile")
    before = last_job_id(slurm)
    proc = snakemake(
        wd, ["--profile", PROFILE, "--retries", "1", "--config", "hold_mb=600"], slurm, timeout=300
    )
    assert_ok(proc, "limits workflow with one retry")
    out = proc.stdout

    # attempt 1 (mem_mb=300) was killed by SLURM; the report names the rule, its logs, and the limit
    assert "Error in rule grab_memory" in out, out[-4000:]
    block = error_block(out, "grab_memory")
    assert "logs/limits/grab_memory.log" in block and "logs/slurm/rule_grab_memory/" in block, block
    assert re.search(r"exceeded memory limit \(\d+ > 314572800\)", block), block  # 300 MB in bytes
    assert "Trying to restart job" in out
    # attempt 2 (mem_mb=1200) passed
    jobs = jobs_of_rule(slurm, "grab_memory", before)
    assert [j["JobState"] for j in jobs] == ["FAILED", "COMPLETED"], jobs
    assert [j["MinMemoryNode"] for j in jobs] == ["300M", "1200M"], jobs
    assert (wd / "results/limits/memory.txt").read_text().strip() == "held 600 MB with mem_mb=1200"


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("PGML_TEST_TIME_LIMIT"),
    reason="takes ~3.5 min (SLURM limits are whole minutes); set PGML_TEST_TIME_LIMIT=1 to run it",
)
def test_time_limit_fails_with_rule_and_limit_then_retry_passes(slurm, tmp_path):
    wd = copy_workflow(tmp_path / "wf", TEST_WORKFLOWS / "limits" / "Snakefile")
    before = last_job_id(slurm)
    proc = snakemake(
        wd,
        ["--profile", PROFILE, "--retries", "1", "--config", "sleep_s=65", "--", "results/limits/time.txt"],
        slurm,
        timeout=420,
    )
    assert_ok(proc, "time-limit workflow with one retry")
    out = proc.stdout
    block = error_block(out, "sleep_past")
    assert "SLURM status is: 'TIMEOUT'" in block, block
    assert "logs/limits/sleep_past.log" in block and "logs/slurm/rule_sleep_past/" in block, block
    # the limit itself: SLURM's state says which one, the job's resources line its value
    assert re.search(r"resources: .*runtime=1\b", out), out[-4000:]
    jobs = jobs_of_rule(slurm, "sleep_past", before)
    assert [(j["JobState"], j["TimeLimit"]) for j in jobs] == [
        ("TIMEOUT", "00:01:00"),
        ("COMPLETED", "00:02:00"),
    ]
    assert (wd / "results/limits/time.txt").read_text().strip() == "slept 65 s with runtime=2"


# --------------------------------------------------------------------------------------------------
# the demo's chains
# --------------------------------------------------------------------------------------------------

TIMING_COLUMN = re.compile(r"time|seconds|duration|wall|elapsed", re.I)
TRAIN_LOG = "logs/bfactor/train_model/{arch}_run0.log"
MODEL_DIR = "results/bfactor/models/{arch}/run0"


def read_table(path: Path) -> list[dict[str, str]]:
    """A TSV as rows, without columns that measure time (they differ between any two runs)."""
    lines = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
    header = lines[0]
    keep = [i for i, name in enumerate(header) if not TIMING_COLUMN.search(name)]
    return [{header[i]: row[i] for i in keep} for row in lines[1:]]


def metrics_files(workdir: Path) -> list[Path]:
    """Every metrics table the run wrote, relative to its working directory."""
    return sorted(p.relative_to(workdir) for p in (workdir / "results").rglob("metrics*.tsv"))


def assert_same_metrics(reference: Path, other: Path, files: list[Path]) -> None:
    assert files, f"no metrics tables under {reference}/results"
    for rel in files:
        assert (other / rel).exists(), f"{rel} missing"
        assert read_table(other / rel) == read_table(reference / rel), f"{rel} differs"


def leftovers(directory: Path) -> list[str]:
    """Temporary files of atomic writes (pgml.fileio: '.<name>.<random>.tmp<suffix>')."""
    return sorted(p.name for p in directory.rglob(".*.tmp*"))


#: training epochs in the cluster tests' tiny config (longer than its own 2 epochs); enough for
#: a scancel to land between two checkpoints
EPOCHS = 6
CONFIG = "config/cluster_test.yaml"


#: optional extras of the tiny configs left out of the cluster run: each is a job that goes through
#: sbatch like any other (tests/workflow/test_workflow.py runs them locally), and leaving them out keeps
#: the two demo runs that share the machine's cores short
CLUSTER_TRIM = {
    "tfbs": {"noattention": False, "predict_cells": []},
    "grn": {"baselines": ["correlation"], "inits": ["boosting"]},
}


def tiny_config(workdir: Path) -> None:
    """Every chain's tiny test config (tests/configs/<chain>.yaml) in one file, as ``CONFIG``, with
    training at EPOCHS epochs so a kill can land between two checkpoints, less ``CLUSTER_TRIM``."""
    cfg: dict = {"chains": [], "seed": 0}
    for path in sorted((REPO / "tests" / "configs").glob("*.yaml")):
        part = yaml.safe_load(path.read_text())
        cfg["chains"] += part.pop("chains")
        part.pop("seed", None)
        cfg.update(part)
    for chain, overrides in CLUSTER_TRIM.items():
        cfg[chain].update(overrides)
    cfg["bfactor"].pop("explain", None)
    for section in cfg.values():
        if isinstance(section, dict) and isinstance(section.get("train"), dict):
            section["train"]["epochs"] = EPOCHS
    (workdir / CONFIG).write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """One copy of the workflow (with ``CONFIG``) that every run in this module copies again."""
    wd = copy_workflow(tmp_path_factory.mktemp("snapshot"))
    tiny_config(wd)
    return wd


def clone(source: Path, dest: Path, *, results: bool = False) -> Path:
    """A copy of a workflow directory, without Snakemake's state (and without results unless asked)."""
    skip = [".snakemake"] if results else [".snakemake", "results", "logs"]
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*skip))
    return dest


class DemoRuns:
    """The demo (``CONFIG``) run twice from one snapshot: locally with ``--cores 2`` and under SLURM."""

    def __init__(self, local: Path, cluster: Path, first_job: int) -> None:
        self.local, self.cluster, self.first_job = local, cluster, first_job


@pytest.fixture(scope="module")
def demo_runs(slurm, snapshot, tmp_path_factory) -> DemoRuns:
    """Both runs at once (results do not depend on load; the 2 cores are used while SLURM polls)."""
    local = clone(snapshot, tmp_path_factory.mktemp("local") / "wf")
    cluster = clone(snapshot, tmp_path_factory.mktemp("cluster") / "wf")
    first_job = last_job_id(slurm) + 1
    runs = {
        "the demo with --cores 2": (local, ["--cores", "2"], local_env()),
        "the demo under SLURM": (cluster, ["--profile", PROFILE], slurm),
    }
    procs = {
        what: start_snakemake(wd, [*args, "--configfile", CONFIG], env)
        for what, (wd, args, env) in runs.items()
    }
    try:
        outputs = {what: proc.communicate(timeout=1200)[0] for what, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for what, proc in procs.items():
        assert_ok(subprocess.CompletedProcess(proc.args, proc.returncode, outputs[what]), what)
    return DemoRuns(local, cluster, first_job)


@pytest.mark.slow
def test_demo_chains_under_slurm_match_local_run(slurm, demo_runs):
    wd, before = demo_runs.cluster, demo_runs.first_job - 1

    # every rule but `all` went through sbatch, and all of it completed
    jobs = [j for j in slurm_jobs(slurm) if int(j["JobId"]) > before]
    rules = {re.sub(r"_wildcards_.*", "", j["Comment"]).removeprefix("rule_") for j in jobs}
    assert {"bfactor_shard_structures", "bfactor_build_graphs", "bfactor_train_model", "bfactor_evaluate_models",
            "grn_infer_modules", "grn_evaluate_networks"} <= rules, rules
    # every job completed; one that SLURM ended (say over its --mem) must have completed on Snakemake's
    # retry (the profile's `retries: 1`), and is named in a warning so the profile's resources get raised
    last = {}
    for j in sorted(jobs, key=lambda j: int(j["JobId"])):
        last[j["Comment"]] = j
    assert all(j["JobState"] == "COMPLETED" for j in last.values()), [
        (j["Comment"], j["JobState"]) for j in last.values() if j["JobState"] != "COMPLETED"]
    retried = sorted({f'{j["Comment"]} ({j["JobState"]})' for j in jobs if j["JobState"] != "COMPLETED"})
    if retried:
        warnings.warn(f"jobs that completed only on Snakemake's retry: {retried}", stacklevel=1)

    # same seed, same metrics as the local run, for every chain in the demo
    assert_same_metrics(demo_runs.local, wd, metrics_files(demo_runs.local))

    # the GPU-tagged training rule asked SLURM for a GPU, got the fake one, and trained on CPU
    bf = yaml.safe_load((wd / CONFIG).read_text())["bfactor"]
    train_jobs = jobs_of_rule(slurm, "bfactor_train_model", before)
    assert len(train_jobs) == len(bf["architectures"]) * bf.get("n_runs", 1)
    for job in train_jobs:
        assert "gpu:1" in job.get("TresPerJob", ""), job
    for job in jobs_of_rule(slurm, "bfactor_shard_structures", before):
        assert "gpu" not in job.get("TresPerJob", ""), job
    for arch in bf["architectures"]:
        log = (wd / TRAIN_LOG.format(arch=arch)).read_text()
        assert "no usable GPU visible, running on CPU" in log, log[-2000:]


@pytest.mark.slow
def test_scancel_during_training_then_rerun_resumes(slurm, demo_runs, tmp_path):
    """Kill a running train_model job; the rerun resumes from last.ckpt to the uninterrupted metrics."""
    arch = "gcn"
    model_dir = MODEL_DIR.format(arch=arch)
    # the finished cluster run without this model: its graphs and split are there, only training runs
    wd = clone(demo_runs.cluster, tmp_path / "wf", results=True)
    shutil.rmtree(wd / model_dir)
    target = f"{model_dir}/metrics.tsv"
    # the same command twice; no automatic retry, so the kill surfaces as a failure
    args = ["--profile", PROFILE, "--configfile", CONFIG, "--retries", "0", target]
    before = last_job_id(slurm)
    run = start_snakemake(wd, args, slurm)
    try:
        last = wd / model_dir / "last.ckpt"
        deadline = time.monotonic() + 600
        job = None
        while time.monotonic() < deadline and run.poll() is None:
            running = [j for j in jobs_of_rule(slurm, "bfactor_train_model", before) if j["JobState"] == "RUNNING"]
            if running and last.exists():  # at least one epoch done, training still running
                job = running[0]
                break
            time.sleep(0.2)
        assert job is not None, "training never ran long enough to be cancelled"
        subprocess.run(["scancel", job["JobId"]], env=slurm, check=True)
        out, _ = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert [j["JobId"] for j in jobs_of_rule(slurm, "bfactor_train_model", before)] == [job["JobId"]]

    # Snakemake reports the failure, names the job's logs
    assert run.returncode != 0, out[-4000:]
    block = error_block(out, "bfactor_train_model")
    assert f"SLURM-job '{job['JobId']}' failed, SLURM status is: 'CANCELLED'" in block, block
    assert TRAIN_LOG.format(arch=arch) in block and "logs/slurm/rule_bfactor_train_model/" in block, block
    # no partial output: the declared outputs are gone, no temporary file is left, the checkpoint stays
    for name in ("model.ckpt", "metrics.tsv", "learning_curve.png"):
        assert not (wd / model_dir / name).exists(), name
    assert leftovers(wd / model_dir) == []
    assert (wd / model_dir / "last.ckpt").exists()

    # the same command again resumes from the checkpoint and ends where an uninterrupted run ends
    rerun = snakemake(wd, args, slurm)
    assert_ok(rerun, "the rerun after scancel")
    assert "resuming from" in (wd / TRAIN_LOG.format(arch=arch)).read_text()
    assert_same_metrics(demo_runs.local, wd, [Path(target)])
    assert leftovers(wd / model_dir) == []


@pytest.mark.slow
def test_ctrl_c_during_training_then_rerun_incomplete_resumes(slurm, demo_runs, tmp_path):
    """Ctrl-C to Snakemake while a training job runs; ``--rerun-incomplete`` ends as the uninterrupted run.

    Snakemake cancels its SLURM jobs on SIGINT and the job's declared outputs count as incomplete; the
    rerun resumes from last.ckpt and must produce the uninterrupted run's model.ckpt and metrics.tsv.
    """
    import torch

    model_dir = MODEL_DIR.format(arch="gcn")
    wd = clone(demo_runs.cluster, tmp_path / "wf", results=True)
    shutil.rmtree(wd / model_dir)
    target = f"{model_dir}/model.ckpt"  # a file, not a rule name
    args = ["--profile", PROFILE, "--configfile", CONFIG, "--retries", "0", target]
    before = last_job_id(slurm)
    run = start_snakemake(wd, args, slurm, new_session=True)
    try:
        last = wd / model_dir / "last.ckpt"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and run.poll() is None and not last.exists():
            time.sleep(0.2)
        assert last.exists() and run.poll() is None, "training never got to its first checkpoint"
        os.killpg(run.pid, signal.SIGINT)
        out, _ = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode != 0, out[-4000:]
    # the cancelled job is gone before the rerun starts (it would otherwise write into the same folder)
    deadline = time.monotonic() + 120
    active = ("PENDING", "RUNNING", "COMPLETING")
    while any(j["JobState"] in active for j in slurm_jobs(slurm) if int(j["JobId"]) > before):
        assert time.monotonic() < deadline, "SLURM job still running after Ctrl-C"
        time.sleep(1)
    epoch = torch.load(last, map_location="cpu", weights_only=False)["epoch"]
    assert epoch < EPOCHS - 1, "training ended before Ctrl-C"

    rerun = snakemake(wd, [*args[:-1], "--rerun-incomplete", target], slurm)
    assert_ok(rerun, "the rerun after Ctrl-C")
    assert_same_metrics(demo_runs.cluster, wd, [Path(model_dir) / "metrics.tsv"])
    ours = torch.load(wd / target, map_location="cpu", weights_only=False)["state_dict"]
    theirs = torch.load(demo_runs.cluster / target, map_location="cpu", weights_only=False)["state_dict"]
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert leftovers(wd / model_dir) == []
