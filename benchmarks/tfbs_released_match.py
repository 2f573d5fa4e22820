"""DeepGRN's published models imported into pgml against the authors' own network.

Every ``<TF>_{single,pair}.h5`` of ``../shared/data/published_models/deepgrn`` is imported with
``pgml tfbs import-model`` and run on the reference windows of ``tests/tfbs/fixtures/deepgrn_released``;
the table gives its released architecture, its parameter count (the file's tensors, equal to Keras'
``count_params``) and the largest absolute difference from the authors' network (TensorFlow 2.15, see the
fixtures' README) on the merged probability, the per-strand probabilities and the input of the output
layer, plus pgml's time per window (both strands, a batch of 64, one CPU thread).

    python benchmarks/tfbs_released_match.py [--models ../shared/data/published_models/deepgrn]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "tfbs" / "fixtures" / "deepgrn_released"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=Path, default=ROOT.parent / "shared" / "data" / "published_models" / "deepgrn")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "tfbs"))
    from test_tfbs_import_model import fixture_inputs

    from pgml.cli import main as pgml
    from pgml.tfbs.predict import load_model
    from pgml.tfbs.windows import reverse_complement

    torch.set_num_threads(1)
    x, z = fixture_inputs()
    reference = json.loads((FIXTURES / "reference.json").read_text())["models"]
    print("| model | attention | conv filters/kernel, pool | BiLSTM | dense (+extra) | merge | reads | parameters "
          "| max abs diff: probability | per strand | output layer's input | ms/window |")
    print("|---|---|---|---|---|---|---|---:|---:|---:|---:|---:|")
    for name in sorted(reference):
        src = args.models / f"{name}.h5"
        if not src.exists():
            print(f"| {name} | file absent | | | | | | | | | | |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with contextlib.redirect_stdout(io.StringIO()):
                assert pgml(["tfbs", "import-model", "--keras", str(src), "--output", f"{tmp}/model.ckpt"]) == 0
            card = json.loads(Path(f"{tmp}/model.json").read_text())
            net = load_model(Path(f"{tmp}/model.ckpt"), released=True).model
        ref = np.load(FIXTURES / f"{name}.npz")
        with torch.no_grad():
            prob = net(x, z)["ensemble"].numpy()
            start = time.perf_counter()
            net(x.repeat(16, 1, 1), z.repeat(16, 1))                  # a batch of 64 windows, timed
            ms = (time.perf_counter() - start) * 1000 / (16 * x.shape[0])
            swapped = net(reverse_complement(x), z)["ensemble"].numpy()
            strands = net.strands(x, z).numpy()
            hidden = np.stack([net.branch.penultimate(x, z).numpy(),
                               net.branch.penultimate(reverse_complement(x), z).numpy()])
        c = net.config
        d_prob = max(np.abs(prob - ref["prob"]).max(), np.abs(swapped - ref["prob_swapped"]).max())
        reads = ("seq+map+DNase" if c.mappability else "seq+DNase") + (", 14 features" if c.features else "")
        print(f"| {name} | {c.attention} | {c.conv_filters}/{c.conv_kernel}, {c.pool} | 2x{c.lstm_hidden} | "
              f"{c.dense} (+{c.extra_dense}) | {c.merge} | {reads} | {card['metrics']['parameters']:,} | "
              f"{d_prob:.1e} | {np.abs(strands - ref['strands']).max():.1e} | "
              f"{np.abs(hidden - ref['hidden']).max():.1e} | {ms:.1f} |")


if __name__ == "__main__":
    main()
