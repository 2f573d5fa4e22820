"""The SLURM profiles and scripts/slurm_local.sh, checked without a cluster (no root, no SLURM needed).

- profiles/slurm keeps working as a dry run on a machine without SLURM;
- profiles/slurm-local (the test cluster's profile) differs from it only where a one-node cluster
  without accounting must: same options, same rules sized, same GPU rules, resources scaled by attempt;
- every rule that declares ``gpu`` in the workflow is a GPU rule in both profiles;
- scripts/slurm_local.sh refuses clearly when not root and on a bad command.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SLURM = REPO / "profiles" / "slurm" / "config.yaml"
LOCAL = REPO / "profiles" / "slurm-local" / "config.yaml"
SLURM_LOCAL = REPO / "scripts" / "slurm_local.sh"

# options the local profile may add or change, and why
LOCAL_ONLY = {
    "slurm-status-command",  # no slurmdbd: sacct is disabled, squeue must be used
    "slurm-init-seconds-before-status-checks",  # seconds-long test jobs
}
LOCAL_MAY_DIFFER = LOCAL_ONLY | {
    "jobs",  # one 2-CPU node
    "latency-wait",  # one machine, no network file system
    "default-resources",
    "set-resources",
    "slurm-array-jobs",  # the demo's 2 shards gain nothing from arrays
}


SLURM_CLIENTS = {
    "sbatch",
    "srun",
    "salloc",
    "squeue",
    "scancel",
    "sinfo",
    "sacct",
    "sacctmgr",
    "scontrol",
    "sshare",
    "sstat",
    "sprio",
    "sreport",
    "sdiag",
    "sattach",
    "sbcast",
    "scrontab",
    "strigger",
    "sview",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_local_profile_differs_only_where_it_must():
    slurm, local = load(SLURM), load(LOCAL)
    assert slurm["executor"] == local["executor"] == "slurm"
    assert set(local) - set(slurm) <= LOCAL_ONLY, set(local) - set(slurm)
    missing = set(slurm) - set(local) - LOCAL_MAY_DIFFER
    assert not missing, f"profiles/slurm-local lacks {missing}"
    for key in set(slurm) & set(local) - LOCAL_MAY_DIFFER:
        assert slurm[key] == local[key], key
    # same resource kinds by default and the same rules sized
    assert set(slurm["default-resources"]) - {"slurm_account"} == set(local["default-resources"])
    assert set(slurm["set-resources"]) == set(local["set-resources"])
    for rule, res in slurm["set-resources"].items():
        assert set(res) - {"cpus_per_task"} <= set(local["set-resources"][rule]), rule
        assert res.get("gpu") == local["set-resources"][rule].get("gpu"), rule


@pytest.mark.parametrize("profile", [SLURM, LOCAL], ids=["slurm", "slurm-local"])
def test_memory_and_time_scale_with_attempt(profile):
    """A job killed for memory or time gets more on its retry (the profile retries once)."""
    cfg = load(profile)
    assert cfg["retries"] >= 1
    sized = [cfg["default-resources"], *cfg["set-resources"].values()]
    for res in sized:
        for key in ("mem_mb", "runtime"):
            if key in res:
                assert re.fullmatch(r"\d+ \* attempt", str(res[key])), (profile.parent.name, key, res[key])


def test_rules_declaring_gpu_are_gpu_rules_in_both_profiles():
    declared = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        # rule NAME: ... resources: ... gpu=1 (before the next rule)
        for name, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", smk.read_text(), re.M):
            if re.search(r"^\s+resources:\n(?:\s+\w+=.*\n)*?\s+gpu=\d", body, re.M):
                declared.add(name)
    assert "bfactor_train_model" in declared
    for profile in (SLURM, LOCAL):
        sized = load(profile)["set-resources"]
        for rule in declared:
            assert sized.get(rule, {}).get("gpu") == 1, (profile.parent.name, rule)


@pytest.mark.workflow
@pytest.mark.parametrize("profile", ["profiles/slurm", "profiles/slurm-local"])
def test_dry_run_with_slurm_profile_needs_no_slurm(profile, tmp_path):
    """`snakemake -n --profile profiles/slurm` on a machine without SLURM (no sbatch on PATH)."""
    for part in ("Snakefile", "workflow", "config", "envs", "profiles", "resources"):
        src = REPO / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp_path / part)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM")}
    # the system's commands minus SLURM's clients (they may be installed here, e.g. by the cluster tests)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for sysdir in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(sysdir).iterdir() if Path(sysdir).is_dir() else ():
            if not (tool.name in SLURM_CLIENTS or (bindir / tool.name).exists()):
                (bindir / tool.name).symlink_to(tool)
    env["PATH"] = f"{Path(sys.executable).parent}:{bindir}"
    assert not any(shutil.which(t, path=env["PATH"]) for t in SLURM_CLIENTS)
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--profile", profile],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"train_model\s+\d+", proc.stdout + proc.stderr)


def test_slurm_local_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(SLURM_LOCAL)], check=True)


def test_slurm_local_refuses_bad_command():
    proc = subprocess.run(["bash", str(SLURM_LOCAL), "restart"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage:" in proc.stderr


def test_slurm_local_refuses_when_not_root(tmp_path):
    cmd = ["bash", str(SLURM_LOCAL), "start"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root without setpriv: cannot drop privileges to test the refusal")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    env = dict(os.environ, PGML_SLURM_DIR=str(tmp_path / "slurm"))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "must run as root" in proc.stderr
    assert not (tmp_path / "slurm").exists()  # refused before writing anything
