"""What running through SLURM costs: wall time under the local SLURM vs ``--cores 2``, and sbatch calls.

Runs, each in a fresh copy of the workflow under a temporary directory:
  1. ``tests/workflows/trivial`` with N trivial jobs (plus one GPU probe and one gather job):
     ``--cores 2``; ``--profile profiles/slurm-local``; the same with ``--slurm-array-jobs=make_item``;
  2. the bfactor chain up to its graphs with many shards (``--shards``, default 16: one job per
     structure), as plain jobs and with ``--slurm-array-jobs=select_structures,build_graphs``;
  3. the demo (``config/config.yaml``), ``--cores 2`` vs ``--profile profiles/slurm-local``
     (skip with ``--no-demo``).
SLURM is the one-node cluster of scripts/slurm_local.sh (2 CPUs, like ``--cores 2``): started here
when it is not running, and stopped again at the end. Root only.

    sudo .venv/bin/python benchmarks/cluster_overhead.py [--items 20] [--shards 16] [--no-demo]

Prints one table: wall seconds, the ratio to ``--cores 2`` on the same work, the sbatch calls made
and the SLURM jobs (array tasks counted one by one) they created.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SLURM_LOCAL = REPO / "scripts" / "slurm_local.sh"
PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources")
PROFILE = "profiles/slurm-local"
JOBS = 200


@dataclass
class Row:
    workload: str
    mode: str
    seconds: float
    sbatch_calls: int | None = None
    slurm_jobs: int | None = None


def copy_workflow(dest: Path, snakefile: Path | None = None) -> Path:
    dest.mkdir(parents=True)
    for part in PARTS:
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, dest / part)
    if snakefile is not None:
        shutil.copy2(snakefile, dest / "Snakefile")
    return dest


def run(workdir: Path, args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed in {workdir}:\n{proc.stdout[-5000:]}")
    return seconds, proc.stdout


def count_submissions(log: str) -> tuple[int, int]:
    """(sbatch calls, SLURM jobs) from the SLURM plugin's log lines."""
    single = len(re.findall(r"has been submitted with SLURM jobid", log))
    arrays = re.findall(r"Submitted array job with Snakemake IDs ([\d,]+) and SLURM job ID", log)
    tasks = sum(len(ids.split(",")) for ids in arrays)
    return single + len(arrays), single + tasks


def measure(
    rows: list[Row],
    tmp: Path,
    name: str,
    snakefile: Path | None,
    extra: list[str],
    env_local,
    env_slurm,
    array_rules: str | None,
) -> None:
    def one(mode: str, args: list[str], env: dict[str, str]) -> None:
        wd = copy_workflow(tmp / f"{name}-{mode}".replace(" ", "_").replace("=", "-"), snakefile)
        seconds, log = run(wd, [*args, *extra], env)
        calls, jobs = count_submissions(log) if "--profile" in args else (None, None)
        rows.append(Row(name, mode, seconds, calls, jobs))
        print(f"  {name:<28} {mode:<34} {seconds:7.1f} s", file=sys.stderr, flush=True)

    one("--cores 2", ["--cores", "2"], env_local)
    # --jobs above the largest array: the plugin (2.8.0) submits an array only once all of a rule's
    # ready jobs are in one batch, and Snakemake hands over at most --jobs jobs per batch
    slurm = ["--profile", PROFILE, "--jobs", str(JOBS)]
    one("slurm", slurm, env_slurm)
    if array_rules:
        one(f"slurm, arrays: {array_rules}", [*slurm, f"--slurm-array-jobs={array_rules}"], env_slurm)


def sharded_config(tmp: Path, shards: int) -> Path:
    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    cfg["bfactor"]["shards"] = shards
    path = tmp / f"shards{shards}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def print_table(rows: list[Row]) -> None:
    base = {r.workload: r.seconds for r in rows if r.mode == "--cores 2"}
    header = f"| {'workload':<30} | {'mode':<44} | {'wall s':>7} | {'vs --cores 2':>12} | {'sbatch calls':>12} | {'SLURM jobs':>10} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        ratio = r.seconds / base[r.workload] if r.workload in base else float("nan")
        calls = "" if r.sbatch_calls is None else str(r.sbatch_calls)
        jobs = "" if r.slurm_jobs is None else str(r.slurm_jobs)
        print(
            f"| {r.workload:<30} | {r.mode:<44} | {r.seconds:7.1f} | {ratio:11.2f}x | {calls:>12} | {jobs:>10} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20, help="trivial jobs (default 20)")
    parser.add_argument(
        "--shards", type=int, default=16, help="bfactor shards for the array runs (default 16)"
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the full demo runs")
    args = parser.parse_args()
    if max(args.items, args.shards) >= JOBS:
        sys.exit(f"--items and --shards must stay below {JOBS} (see JOBS)")
    if os.geteuid() != 0:
        sys.exit("cluster_overhead.py needs root: it starts a local SLURM with scripts/slurm_local.sh")

    tmp = Path(tempfile.mkdtemp(prefix="pgml-cluster-bench-"))
    env_local = dict(os.environ)
    env_local["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env_local.get("PATH", "")])
    env_local.pop("SLURM_CONF", None)
    env_slurm = dict(env_local)
    env_slurm["PGML_SLURM_DIR"] = str(tmp / "slurm")
    env_slurm["PATH"] = os.pathsep.join([env_local["PATH"], "/usr/sbin"])
    env_slurm["SLURM_CONF"] = str(tmp / "slurm" / "etc" / "slurm.conf")
    started = subprocess.run(
        ["bash", str(SLURM_LOCAL), "start"], env=env_slurm, capture_output=True, text=True
    )
    if started.returncode != 0:
        sys.exit(f"could not start the local SLURM:\n{started.stderr}")
    rows: list[Row] = []
    try:
        trivial = REPO / "tests" / "workflows" / "trivial" / "Snakefile"
        measure(
            rows,
            tmp,
            f"trivial, {args.items} jobs",
            trivial,
            ["--config", f"items={args.items}"],
            env_local,
            env_slurm,
            "make_item",
        )
        cfg = sharded_config(tmp, args.shards)
        graphs = [f"results/bfactor/graphs/shard_{i}.pt" for i in range(args.shards)]
        measure(
            rows,
            tmp,
            f"bfactor graphs, {args.shards} shards",
            None,
            ["--configfile", str(cfg), "--", *graphs, "results/bfactor/split.tsv"],
            env_local,
            env_slurm,
            "select_structures,build_graphs",
        )
        if not args.no_demo:
            measure(rows, tmp, "demo (config/config.yaml)", None, [], env_local, env_slurm, None)
    finally:
        subprocess.run(["bash", str(SLURM_LOCAL), "stop"], env=env_slurm, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
