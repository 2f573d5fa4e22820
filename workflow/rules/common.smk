# Shared helpers for every chain's rules. Logic lives here (and in src/pgml), never in rule bodies.
import os
from pathlib import Path

SEED = config["seed"]
ENVS = "../../envs"


# ---- bfactor ----
BF = config["bfactor"]
BF_SHARDS = list(range(BF["shards"]))
BF_RUNS = list(range(BF["n_runs"]))
BF_OUT = "results/bfactor"
BF_LOG = "logs/bfactor"


def bfactor_targets():
    targets = [f"{BF_OUT}/evaluation/metrics.tsv", f"{BF_OUT}/evaluation/per_protein.tsv"]
    if BF.get("explain"):
        targets.append(f"{BF_OUT}/explain/{BF['explain']['architecture']}/feature_importance.tsv")
    return targets


def bfactor_structure_args():
    return " ".join(str(p) for p in BF["structures"])


def grn_targets():
    """Final outputs of the grn chain (GRN_TARGETS is built from config in workflow/rules/grn.smk)."""
    return GRN_TARGETS


def chain_enabled(chain):
    return chain in config["chains"]


def all_targets():
    """Final outputs of every chain named in config['chains']."""
    targets = []
    if chain_enabled("bfactor"):
        targets += bfactor_targets()
    if chain_enabled("grn"):
        targets += grn_targets()
    return targets
