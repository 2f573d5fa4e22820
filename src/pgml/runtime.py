"""Threads and device: how much of the machine a step may use (ground floor, shared by every chain).

CPU-heavy steps take ``--threads N`` (added with :func:`add_threads_argument`); the command line
calls :func:`configure_threads` before the step runs, and library code asks :func:`n_threads`.
Without ``--threads`` a step uses the CPUs this process may run on (``sched_getaffinity``: the
cores a SLURM job or ``taskset`` gives it, not the whole node). Rules pass ``--threads {threads}``.

Steps that run torch models take ``--device auto|cpu|cuda[:i]`` (:func:`add_device_argument`):
``auto`` (the default) uses a GPU when one is usable and says so, otherwise the CPU; ``cuda`` when
no GPU is usable is an error rather than a silent fall-back. torch is imported only inside the
device functions, so chains without torch (grn) can use this module.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

from pgml.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import torch

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")
_threads: int | None = None


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def configure_threads(threads: int | None) -> int:
    """Set the thread budget of this process (``None``: all available CPUs); returns it.

    Also caps torch's intra-op threads: directly when torch is already imported, and through
    ``OMP_NUM_THREADS`` (read when torch is imported later) when a budget is given, so numpy,
    xgboost, scikit-learn and torch stay within the budget a scheduler gave the job.
    """
    global _threads
    if threads is not None and threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    _threads = threads
    n = n_threads()
    import sys

    if threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(n)

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return n


def n_threads() -> int:
    """Threads a step may use: the configured budget, else :func:`available_cpus`."""
    return _threads if _threads is not None else available_cpus()


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` on a CPU-heavy step."""
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="CPU threads to use (default: all CPUs this process may run on)")


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """``--device auto|cpu|cuda[:i]`` on a step that runs a torch model."""
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="auto (a GPU when one is usable, else the CPU), cpu, or cuda[:i] (error without a GPU)")


def cuda_usable() -> bool:
    """True when a CUDA device is visible *and* a tensor can actually be placed on it.

    ``torch.cuda.is_available()`` can be true (or raise) where ``CUDA_VISIBLE_DEVICES`` names a
    device that does not exist or the driver is broken; a tiny allocation settles it.
    """
    import torch

    try:
        if not torch.cuda.is_available() or torch.cuda.device_count() < 1:
            return False
        torch.zeros(1, device="cuda")
        return True
    except Exception as exc:  # noqa: BLE001 - driver/runtime errors differ between versions
        log.warning("CUDA reported as available but unusable (%s)", exc)
        return False


def check_device(pref: str) -> str:
    """Normalise a ``--device`` value; :class:`InputError` for an unknown one."""
    pref = (pref or "auto").lower()
    if pref in ("auto", "cpu") or pref == "cuda" or (pref.startswith("cuda:") and pref[5:].isdigit()):
        return pref
    raise InputError(f"--device must be auto, cpu or cuda[:i], got {pref!r}")


def pick_device(pref: str = "auto") -> torch.device:
    """The torch device to train or predict on (see the module docstring)."""
    import torch

    pref = check_device(pref)
    if pref == "cpu":
        return torch.device("cpu")
    if cuda_usable():
        dev = torch.device("cuda" if pref == "auto" else pref)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(f"--device {pref}: only {torch.cuda.device_count()} GPU(s) visible")
        log.info("using %s (%s)", dev, torch.cuda.get_device_name(dev))
        return dev
    if pref == "auto":
        log.info("no usable GPU visible, running on CPU")
        return torch.device("cpu")
    raise InputError(f"--device {pref}: no usable GPU is visible (CUDA_VISIBLE_DEVICES="
                     f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}); use --device auto or cpu")


# ---------------------------------------------------------------- memory

GIB = 1024 ** 3


def _cgroup_limit() -> int | None:
    """The cgroup (v2 or v1) memory limit of this process, if one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(path).read().strip()  # noqa: SIM115 - tiny read
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            return int(text)
    return None


def _slurm_limit() -> int | None:
    """Memory SLURM gives this job (``SLURM_MEM_PER_NODE`` or per CPU x CPUs), in bytes."""
    per_node = os.environ.get("SLURM_MEM_PER_NODE")
    if per_node and per_node.isdigit():
        return int(per_node) * 1024 ** 2
    per_cpu = os.environ.get("SLURM_MEM_PER_CPU")
    if per_cpu and per_cpu.isdigit():
        return int(per_cpu) * 1024 ** 2 * available_cpus()
    return None


def available_memory() -> int:
    """Bytes this step may use: the least of free memory (MemAvailable), the cgroup and the SLURM limit.

    ``PGML_MEMORY_LIMIT`` (bytes, or with a K/M/G suffix) overrides, for tests and for users who share
    a node.
    """
    override = os.environ.get("PGML_MEMORY_LIMIT")
    if override:
        units = {"K": 1024, "M": 1024 ** 2, "G": GIB}
        scale = units.get(override[-1].upper(), 1)
        return int(float(override[:-1] if scale > 1 else override) * scale)
    limits = [limit for limit in (_cgroup_limit(), _slurm_limit()) if limit]
    try:
        for line in open("/proc/meminfo"):  # noqa: SIM115 - tiny read
            if line.startswith("MemAvailable:"):
                limits.append(int(line.split()[1]) * 1024)
                break
    except OSError:  # pragma: no cover - not Linux
        pass
    return min(limits) if limits else 1 << 62


def check_memory(estimate: int, what: str, *, lower_with: str, path: object | None = None) -> None:
    """Refuse (InputError, before any allocation) when ``estimate`` bytes exceed :func:`available_memory`.

    The message gives the estimate, what is available and the option that lowers the need
    (``lower_with``), e.g. ``check_memory(n * l * l * 4, "PLM couplings", lower_with="--max-length")``.
    """
    have = available_memory()
    if estimate > have:
        raise InputError(f"{what} need about {format_bytes(estimate)}, more than the {format_bytes(have)} "
                         f"available; lower it with {lower_with}", path=path)


def format_bytes(n: int) -> str:
    """``n`` bytes in GiB with one decimal, or in MiB / KiB below 1 GiB / 1 MiB (never "0.0 GiB")."""
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    if n >= 1024 ** 2:
        return f"{n / 1024 ** 2:.1f} MiB"
    return f"{n / 1024:.1f} KiB"
