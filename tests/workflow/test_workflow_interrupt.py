"""Integration: a training job interrupted by SIGINT or SIGTERM reruns to the uninterrupted outputs.

A copy of the workflow with a tiny bfactor config (five small demo structures, a GCN, a few epochs)
builds ``model.ckpt`` once without interruption (the reference). Each test then starts the same
target in a fresh copy that already holds the graphs and the split, signals Snakemake's whole
process group (as Ctrl-C in a terminal does) once training has written ``last.ckpt``, and reruns
with ``--rerun-incomplete``: the rerun must succeed, resume from ``last.ckpt`` and end with the
reference's ``model.ckpt`` weights and ``metrics.tsv``. Targets are files, not rule names.

The ``plateau`` case trains with a learning rate too small to move the weights, so no epoch after
the first beats it: the rerun must restore ``model.ckpt`` from the kept best epoch instead of waiting
for a better one.

Runtime on 2 cores: ~1.5 min for the module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from helpers import snakemake_executable, venv_env

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "structures"
STRUCTURES = ["1A8O.pdb.gz", "1UBI.pdb.gz", "3JQH.cif.gz", "1EJG.pdb.gz", "4CUP.cif.gz"]
WORKFLOW_PARTS = ("Snakefile", "workflow", "config", "envs", "resources", "profiles")
MODEL_DIR = "results/bfactor/models/gcn/run0"
TARGET = f"{MODEL_DIR}/model.ckpt"
CONFIG = "tiny.yaml"
EPOCHS = 8

pytestmark = [pytest.mark.workflow, pytest.mark.slow]


def tiny_config(lr: float) -> dict:
    """Every key the schema requires, sized to train a GCN for EPOCHS short epochs."""
    return {
        "chains": ["bfactor"],
        "seed": 0,
        "bfactor": {
            "structures": [str(DEMO / name) for name in STRUCTURES],
            "shards": 1,
            "methods": ["X-RAY DIFFRACTION"],
            "max_resolution": 3.0,
            "target": "zscore",
            "neighbour_radius": 5.0,
            "architectures": ["gcn"],
            "n_runs": 1,
            "split": {"val_fraction": 0.2, "test_fraction": 0.2},
            "train": {"epochs": EPOCHS, "hidden": 16, "layers": 2, "dropout": 0.1, "optimizer": "adamw",
                      "lr": lr, "weight_decay": 0.0001, "batch_size": 1, "patience": 100},
        },
    }


def snakemake_args(*extra: str) -> list[str]:
    return [snakemake_executable(), TARGET, "--cores", "1", "--configfile", CONFIG, *extra]


def run_to_end(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_args(*extra), cwd=workdir, env=venv_env(), capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def train_log(workdir: Path) -> str:
    """The training job's log (found by name: the log folder follows the rule's name)."""
    logs = sorted((workdir / "logs" / "bfactor").rglob("gcn_run0.log"))
    return "\n".join(p.read_text() for p in logs)


@pytest.fixture(scope="module")
def learning(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow copy after an uninterrupted run to ``TARGET``."""
    wd = tmp_path_factory.mktemp("learning")
    for part in WORKFLOW_PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, wd / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, wd / part)
    (wd / CONFIG).write_text(yaml.safe_dump(tiny_config(lr=1e-3), sort_keys=False))
    proc = run_to_end(wd)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return wd


@pytest.fixture(scope="module")
def plateau(learning: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like ``learning``, trained with lr 1e-12: updates below float32 resolution, CC flat from epoch 0."""
    wd = fresh_copy(learning, tmp_path_factory.mktemp("plateau") / "wf")
    (wd / CONFIG).write_text(yaml.safe_dump(tiny_config(lr=1e-12), sort_keys=False))
    proc = run_to_end(wd)
    assert proc.returncode == 0, proc.stderr[-4000:]
    cc = pd.read_csv(wd / MODEL_DIR / "metrics.tsv", sep="\t")["val_cc"]
    assert len(cc) == EPOCHS and (cc == cc.iloc[0]).all(), cc
    return wd


def fresh_copy(reference: Path, dest: Path) -> Path:
    """The reference with its graphs and split but without the model (and without Snakemake's state)."""
    shutil.copytree(reference, dest, ignore=shutil.ignore_patterns(".snakemake", "logs"))
    shutil.rmtree(dest / MODEL_DIR)
    return dest


def wait_for_group(pgid: int, timeout: float) -> None:
    """Wait until no process of the group is left (the training job may outlive Snakemake briefly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail(f"processes of group {pgid} still running {timeout:.0f} s after the signal")


@pytest.mark.parametrize(
    ("sig", "case"),
    [(signal.SIGINT, "learning"), (signal.SIGTERM, "learning"), (signal.SIGINT, "plateau")],
    ids=["SIGINT", "SIGTERM", "SIGINT-plateau"],
)
def test_interrupted_training_reruns_to_uninterrupted_outputs(request, tmp_path: Path, sig, case) -> None:
    reference = request.getfixturevalue(case)
    wd = fresh_copy(reference, tmp_path / "wf")
    last = wd / MODEL_DIR / "last.ckpt"
    with (tmp_path / "first.log").open("w") as out:
        run = subprocess.Popen(snakemake_args(), cwd=wd, env=venv_env(), stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 180
            while not last.exists() and run.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert last.exists() and run.poll() is None, "training never got to its first checkpoint"
            os.killpg(run.pid, sig)  # Snakemake and its jobs, as Ctrl-C in a terminal
            run.wait(timeout=120)
            wait_for_group(run.pid, 60)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
    first = (tmp_path / "first.log").read_text()
    assert run.returncode != 0, first[-4000:]
    epoch = torch.load(last, map_location="cpu", weights_only=False)["epoch"]
    assert epoch < EPOCHS - 1, "training ended before the signal; the test needs longer epochs"
    assert (wd / MODEL_DIR / ".best.ckpt").exists()

    rerun = run_to_end(wd, "--rerun-incomplete")
    assert rerun.returncode == 0, f"{first[-3000:]}\n----- rerun -----\n{rerun.stderr[-4000:]}"
    assert "resuming from" in train_log(wd)
    assert (wd / MODEL_DIR / "metrics.tsv").read_text() == (reference / MODEL_DIR / "metrics.tsv").read_text()
    ours = torch.load(wd / TARGET, map_location="cpu", weights_only=False)["state_dict"]
    theirs = torch.load(reference / TARGET, map_location="cpu", weights_only=False)["state_dict"]
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    assert (wd / MODEL_DIR / "learning_curve.png").exists()
    assert not list((wd / "results").rglob(".*.tmp*")), "temporary files left behind"
