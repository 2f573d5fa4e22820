# What every chain's rules share: config validation (short messages, defaults applied), the seed,
# the env path, one helper that turns a config section into command-line flags, and rule all's
# targets. Each chain's helpers live in its own workflow/rules/<chain>.smk, which exports
# <CHAIN>_TARGETS. No logic in rule bodies beyond a command line.
import math
import shlex
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA_FILE = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
CONFIG_SCHEMA = yaml.safe_load(SCHEMA_FILE.read_text())


def _config_error(error):
    """One line for a schema violation: where, the value, and what is allowed."""
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    value = repr(error.instance)
    value = value if len(value) <= 60 else f"{value[:57]}..."
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        unexpected = ", ".join(sorted(set(error.instance) - set(error.schema.get("properties", {}))))
        return f"{where}: unknown key(s) {unexpected}; allowed: {allowed}"
    if error.validator == "enum":
        return f"{where} = {value}: must be one of {', '.join(map(str, error.validator_value))}"
    description = error.schema.get("description", "")
    hint = f" ({description})" if description and len(description) < 90 else ""
    return f"{where} = {value}: {error.message.replace(repr(error.instance), 'value', 1)}{hint}"


def _non_finite(value, where=""):
    """Keys holding NaN or +-Inf (YAML .nan, .inf), which pass every schema bound unnoticed."""
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in _non_finite(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _non_finite(v, f"{where}.{i}")]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where} = {value}: not a finite number"]
    return []


def check_config(cfg):
    """Stop with a few lines naming each bad key, its value and what is allowed; then apply defaults."""
    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path)))
    problems = _non_finite(cfg) + [_config_error(e) for e in errors]
    if problems:
        lines = problems[:10]
        if len(problems) > 10:
            lines.append(f"... and {len(problems) - 10} more")
        raise WorkflowError("\n  ".join(["invalid config:", *lines]))
    validate(cfg, str(SCHEMA_FILE), set_default=True)


check_config(config)

SEED = config["seed"]
ENVS = "../../envs"
#: chains with rules in workflow/rules (the schema also names the chains still to come)
AVAILABLE_CHAINS = ("bfactor", "grn", "tfbs", "contact", "qa", "fold")


def chain_enabled(chain):
    return chain in config["chains"]


def cli_flags(section, keys=None):
    """``{"weight_decay": 0.01, "methods": ["A B"]}`` -> ``--weight-decay 0.01 --methods 'A B'``.

    Config keys and command-line flags share one name, so a rule passes a whole config section
    through this helper. Booleans become bare flags (left out when false); ``None`` is left out.
    """
    parts = []
    for key, value in section.items():
        if keys is not None and key not in keys:
            continue
        flag = f"--{key.replace('_', '-')}"
        if isinstance(value, bool):
            if value:
                parts.append(flag)
        elif value is None:
            continue
        elif isinstance(value, (list, tuple)):
            parts.append(" ".join([flag] + [shlex.quote(str(v)) for v in value]))
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


def all_targets():
    """Final outputs of every chain named in config['chains'] (each chain's <CHAIN>_TARGETS)."""
    missing = [c for c in config["chains"] if c not in AVAILABLE_CHAINS]
    if missing:
        raise WorkflowError(f"chains: {', '.join(missing)} not available yet; available: {', '.join(AVAILABLE_CHAINS)}")
    return [t for chain in config["chains"] for t in globals()[f"{chain.upper()}_TARGETS"]]


# ---- fetch: the network flags every <chain>_fetch_* rule passes to `pgml fetch` (config `fetch`).
# Fetch rules run where the network is: each chain file names them in `localrules:` (on a cluster they
# run on the host that runs snakemake, not on compute nodes) and gives them `resources: net=1`, so
# `--resources net=N` caps parallel downloads.
import os  # the chains' fetch blocks read SYNAPSE_AUTH_TOKEN

FETCH = config["fetch"]


def fetch_flags():
    """``--offline --retries 5 ... --base-url rcsb=URL ...`` from config `fetch`."""
    flags = cli_flags(FETCH, keys=("offline", "cache", "retries", "backoff", "rate", "connect_timeout",
                                   "read_timeout"))
    if FETCH["base_urls"]:
        flags += " --base-url " + " ".join(shlex.quote(f"{k}={v}") for k, v in FETCH["base_urls"].items())
    return flags
