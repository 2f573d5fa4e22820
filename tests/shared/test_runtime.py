"""Tests for pgml.runtime: thread budget and device choice."""

from __future__ import annotations

import os

import pytest
import torch

from pgml import runtime
from pgml.cli import main
from pgml.errors import InputError


def test_threads_default_to_available_cpus_and_follow_configuration() -> None:
    try:
        assert runtime.configure_threads(None) == runtime.available_cpus() == len(os.sched_getaffinity(0))
        assert runtime.configure_threads(1) == 1 and runtime.n_threads() == 1
        assert torch.get_num_threads() == 1
        with pytest.raises(InputError, match="at least 1"):
            runtime.configure_threads(0)
    finally:
        runtime.configure_threads(None)


def _broken_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch says a GPU is there, but placing a tensor on it fails (a stale CUDA_VISIBLE_DEVICES)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    real_zeros = torch.zeros

    def zeros(*args, **kwargs):
        if kwargs.get("device") == "cuda":
            raise RuntimeError("no CUDA GPUs are available")
        return real_zeros(*args, **kwargs)

    monkeypatch.setattr(torch, "zeros", zeros)


def test_auto_falls_back_to_cpu_and_says_so(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    assert runtime.pick_device("cpu").type == "cpu"
    _broken_cuda(monkeypatch)
    with caplog.at_level("INFO"):
        assert runtime.pick_device("auto").type == "cpu"
    assert "no usable GPU visible, running on CPU" in caplog.text


def test_cuda_without_gpu_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _broken_cuda(monkeypatch)
    for pref in ("cuda", "cuda:0"):
        with pytest.raises(InputError, match="no usable GPU is visible"):
            runtime.pick_device(pref)
    with pytest.raises(InputError, match="must be auto, cpu or cuda"):
        runtime.pick_device("tpu")


def test_predict_with_cuda_without_gpu_exits_2(monkeypatch: pytest.MonkeyPatch, tmp_path, capsys) -> None:
    if runtime.cuda_usable():
        pytest.skip("a GPU is usable here")
    structure = tmp_path / "x.pdb"
    structure.write_text("ATOM\n")
    code = main(["bfactor", "predict", "--model", str(tmp_path / "missing.ckpt"), "--device", "cuda",
                 "--output-dir", str(tmp_path / "out"), str(structure)])
    assert code == 2
    assert "no usable GPU is visible" in capsys.readouterr().err


def test_thread_budget_reaches_torch_imported_later() -> None:
    """A `--threads` budget set before torch is imported still caps torch's intra-op threads."""
    import subprocess
    import sys

    code = ("from pgml.runtime import configure_threads; configure_threads(1); "
            "import torch; print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_memory_check_uses_the_override(monkeypatch):
    from pgml.errors import InputError
    from pgml.runtime import GIB, available_memory, check_memory

    monkeypatch.setenv("PGML_MEMORY_LIMIT", "2G")
    assert available_memory() == 2 * GIB
    check_memory(GIB, "couplings", lower_with="--max-length")
    with pytest.raises(InputError, match=r"couplings need about 3\.0 GiB, more than the 2\.0 GiB available; "
                                          r"lower it with --max-length"):
        check_memory(3 * GIB, "couplings", lower_with="--max-length")
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1M")
    with pytest.raises(InputError, match=r"need about 2\.0 MiB, more than the 1\.0 MiB available"):
        check_memory(2 * 1024 ** 2, "graphs", lower_with="--unit")
    monkeypatch.delenv("PGML_MEMORY_LIMIT")
    assert available_memory() > 0
