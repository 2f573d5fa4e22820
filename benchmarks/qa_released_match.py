"""EnQA's published models imported into pgml against the authors' own network classes.

For every method of :data:`pgml.qa.params.RELEASED_METHODS`, imports the published file with
``pgml qa import-model`` and runs pgml's released network (:mod:`pgml.qa.released`) on the fixed inputs
of ``tests/qa/fixtures/enqa_released`` (made by the authors' classes; see the README there). Prints the
parameter count and the largest absolute difference of the bin logits, the updated coordinates and the
lDDT against the authors' outputs, or why a method cannot be imported.

    python benchmarks/qa_released_match.py [--weights ../shared/data/published_models/enqa]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from pgml.cli import main as pgml
from pgml.qa.params import RELEASED_METHODS
from pgml.qa.published import load_released

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "qa" / "fixtures" / "enqa_released"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, default=ROOT.parent / "shared" / "data" / "published_models" / "enqa")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "qa"))
    from test_qa_import_model import run  # the fixture inputs through the network, as the test runs them

    torch.set_num_threads(1)
    print("| method | file | parameters | largest absolute difference (logits / coordinates / lDDT) |")
    print("|---|---|---:|---|")
    for name, method in RELEASED_METHODS.items():
        src = args.weights / method.file
        if method.refused is not None:
            print(f"| {name} | {method.file} | | cannot be imported: {method.refused} |")
            continue
        if not src.exists():
            print(f"| {name} | {method.file} | | file absent |")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            with contextlib.redirect_stdout(io.StringIO()):
                assert pgml(["qa", "import-model", "--enqa", str(src), "--method", name,
                             "--output", f"{tmp}/model.ckpt"]) == 0
            model, card = load_released(Path(f"{tmp}/model.ckpt"))
        x = np.load(FIXTURES / f"{name}.npz")
        logits, pos, lddt, _ = run(model, x)
        diffs = [float(np.abs(ours.numpy() - x[key]).max())
                 for ours, key in ((logits, "bin_logits"), (pos, "pos_out"), (lddt, "lddt"))]
        print(f"| {name} | {method.file} | {card.metrics['parameters']:,} | {' / '.join(f'{d:.1e}' for d in diffs)} |")


if __name__ == "__main__":
    main()
