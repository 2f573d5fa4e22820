#!/usr/bin/env bash
# Idempotent setup on Debian/Ubuntu with Python 3.11:
#   1. Debian packages listed in resources/apt-packages.txt, installed with apt-get when missing;
#   2. a project virtualenv .venv with pgml and its Python dependencies from PyPI.
# xgboost: `xgboost-cpu` (same module, no CUDA libraries, ~5 MB) unless an NVIDIA GPU is visible,
# then `xgboost` (~470 MB of CUDA libraries). A second run with nothing changed does nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "[setup] $*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root (or sudo) to run: $*"; return 1; fi
}

apt_updated=0
apt_install() {
    [ $# -gt 0 ] || return 0
    if ! command -v apt-get >/dev/null; then log "apt-get not found; install by hand: $*"; return 1; fi
    if [ $apt_updated -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Debian packages
missing=()
while read -r pkg cmd _; do
    [ -z "${pkg:-}" ] && continue
    case "$pkg" in \#*) continue ;; esac
    if [ -n "${cmd:-}" ]; then command -v "$cmd" >/dev/null && continue; fi
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < resources/apt-packages.txt
apt_install "${missing[@]}"

# 2. Python: 3.11 or newer, with venv
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    for cand in python3.11 python3.12 python3.13 python3; do
        if command -v "$cand" >/dev/null && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            PY="$cand"; break
        fi
    done
fi
[ -n "$PY" ] || { apt_install python3 python3-venv; PY=python3; }
if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv .venv 2>/dev/null; then
        rm -rf .venv
        ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install "python${ver}-venv" || apt_install python3-venv
        "$PY" -m venv .venv
    fi
fi

if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then xgb=grn-gpu; else xgb=grn-cpu; fi
extras="workflow,dev,docs,${xgb},tfbs,contact,qa,fold"
stamp=".venv/.pgml-setup"
want="$(sha256sum pyproject.toml | cut -c1-64) ${extras}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && .venv/bin/python -c 'import pgml' 2>/dev/null; then
    log "Python environment up to date (.venv)"
else
    log "installing pgml[${extras}] into .venv (first run: a few minutes)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[${extras}]"
    echo "$want" > "$stamp"
fi
log "ready: $(.venv/bin/python --version), torch $(.venv/bin/python -c 'import torch; print(torch.__version__)')"
