# Shared helpers for every chain's rules. Logic lives here (and in src/pgml), never in rule bodies.
import os
from pathlib import Path

PGML = config.get("pgml_command", "pgml")
SEED = config["seed"]
ENVS = "../../envs"


def chain_enabled(chain):
    return chain in config["chains"]


def all_targets():
    """Final outputs of every chain named in config['chains']."""
    targets = []
    if chain_enabled("bfactor"):
        targets += bfactor_targets()
    return targets
