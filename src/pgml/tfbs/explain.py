"""Interpretation of a trained DeepGRN model (section 2.3.4 and figure 2.7 of [deepgrn]).

For chosen bins (the best-scored bins of a prediction table, or the bins overlapping a region BED):

* the single-attention weights (one per pooled position, eq. 2.10) and the pairwise-attention matrix
  (L' x L', eq. 2.12) of the forward strand;
* saliency: gradient x input of the ensemble probability with respect to the one-hot sequence, summed
  over the four bases (one value per bp);
* feature importance (:func:`feature_importance`, figure 2.6): drop in auPRC when a feature is removed;
* a motif scan of the high-attention subsequences: the bp span of the pooled position with the
  largest single-attention weight in each window is scored with JASPAR matrices (``pyjaspar``
  counts, Biopython log-odds PSSM, both strands), next to spans at random positions of the same
  windows; a motif the model attends to scores higher in the first than in the second.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pgml.fileio import atomic_path
from pgml.tables import write_tsv
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import BIN_STEP
from pgml.tfbs.windows import TfbsWindows

log = logging.getLogger(__name__)


def attention_and_saliency(module: TfbsModule, x: torch.Tensor, z: torch.Tensor) -> dict[str, np.ndarray]:
    """Single and pairwise attention weights (forward strand) and gradient x input saliency."""
    module.eval()
    x = x.clone().requires_grad_(True)
    out = module(x, z)
    out["ensemble"].sum().backward()
    saliency = (x.grad * x)[:, :4].sum(1).detach().numpy()
    with torch.no_grad():
        _, single = module.model.branches["single"](x, z)
        _, pairwise = module.model.branches["pairwise"](x, z)
    return {"single": single.numpy(), "pairwise": pairwise.numpy(), "saliency": saliency,
            "probability": out["ensemble"].detach().numpy()}


def motif_pssm(matrix_id: str):
    """Biopython log-odds PSSM of a JASPAR matrix (from ``pyjaspar``), pseudocount 0.5, uniform background."""
    from Bio import motifs
    from pyjaspar import jaspardb

    from pgml.errors import InputError

    jm = jaspardb().fetch_motif_by_id(matrix_id)
    if jm is None:
        raise InputError(f"JASPAR matrix {matrix_id} not found in pyjaspar")
    motif = motifs.Motif(counts={b: list(jm.counts[b]) for b in "ACGT"})
    return jm.name, motif.counts.normalize(pseudocounts=0.5).log_odds()


def best_score(pssm, seq: str) -> float:
    """Highest log-odds score of ``pssm`` over both strands of ``seq`` (-inf when shorter than the motif)."""
    from Bio.Seq import Seq

    if len(seq) < pssm.length or set(seq) - set("ACGT"):
        seq = "".join(c if c in "ACGT" else "A" for c in seq)
    if len(seq) < pssm.length:
        return float("-inf")
    scores = pssm.calculate(Seq(seq))
    rc = pssm.calculate(Seq(seq).reverse_complement())
    return float(max(np.max(scores), np.max(rc)))


def explain_bins(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, motif_ids: list[str], output_dir: Path,
                 *, seed: int = 0) -> pd.DataFrame:
    """Write attention.npz and motif_scan.tsv in ``output_dir``; return the motif scan table."""
    from tqdm import tqdm

    cfg = module.model.config
    rows, arrays = [], {"single": [], "pairwise": [], "saliency": [], "probability": []}
    spans, randoms = [], []
    rng = np.random.default_rng(seed)
    flank = data.source.flank
    for k in tqdm(keys.tolist(), desc="explain", unit="window"):
        x, z, _ = data[int(k)]
        res = attention_and_saliency(module, x[None], z[None])
        for name in arrays:
            arrays[name].append(res[name][0])
        chrom_i, b, _ = (int(v[0]) for v in data.decode(np.array([k])))
        chrom = data.bins.chroms[chrom_i]
        start = b * BIN_STEP - flank
        pos = int(np.argmax(res["single"][0]))
        other = int(rng.integers(0, res["single"].shape[1]))
        width = cfg.pool + cfg.conv_kernel - 1
        seq = "".join("ACGTN"[i] if x[:4, j].sum() > 0 else "N"
                      for j, i in enumerate(x[:4].argmax(0).tolist()))
        spans.append(seq[pos * cfg.pool: pos * cfg.pool + width])
        randoms.append(seq[other * cfg.pool: other * cfg.pool + width])
        rows.append({"chrom": chrom, "bin_start": b * BIN_STEP, "probability": float(res["probability"][0]),
                     "attention_start": start + pos * cfg.pool, "attention_end": start + pos * cfg.pool + width,
                     "attention_sequence": spans[-1]})
    table = pd.DataFrame(rows)
    summary = []
    for matrix_id in motif_ids:
        name, pssm = motif_pssm(matrix_id)
        top = np.array([best_score(pssm, s) for s in spans])
        rand = np.array([best_score(pssm, s) for s in randoms])
        table[f"{name}_{matrix_id}_score"] = top
        threshold = 0.6 * float(pssm.max)
        summary.append({"motif": f"{name} {matrix_id}", "windows": len(spans),
                        "hits_attention": int((top > threshold).sum()), "hits_random": int((rand > threshold).sum()),
                        "mean_score_attention": float(np.mean(top)), "mean_score_random": float(np.mean(rand))})
        log.info("%s %s: %d of %d high-attention spans score > %.1f, %d of the random spans", name, matrix_id,
                 summary[-1]["hits_attention"], len(spans), threshold, summary[-1]["hits_random"])
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_dir / "attention.npz", suffix=".npz") as tmp:
        np.savez_compressed(tmp, chrom=table["chrom"].to_numpy(), bin_start=table["bin_start"].to_numpy(),
                            **{k: np.stack(v) for k, v in arrays.items()})
    write_tsv(table, output_dir / "windows.tsv", float_format="%.4f")
    result = pd.DataFrame(summary)
    write_tsv(result, output_dir / "motif_scan.tsv", float_format="%.4f")
    return result


#: sequential inputs zeroed one at a time (channels of the L x 6 input)
SEQUENTIAL = {"sequence": [0, 1, 2, 3], "mappability": [4], "dnase": [5]}


@torch.no_grad()
def feature_importance(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, y: np.ndarray, *,
                       batch_size: int = 256, seed: int = 0) -> pd.DataFrame:
    """Drop in auPRC of the ensemble when a feature is removed (figure 2.6 of [deepgrn]).

    Sequential features (one-hot sequence, mappability, DNase) are zeroed; non-sequential ones (each
    annotation flag, the 8 expression components together) are permuted across the windows of a batch
    (a fixed ``seed``-determined permutation per batch). The expression components are the same for
    every window of one cell type, so on a single cell type their permutation has no effect.
    """
    from pgml.metrics import aupr
    from pgml.tfbs.params import ANNOTATIONS

    module.eval()
    nonseq = {name: [k] for k, name in enumerate(ANNOTATIONS)} | {"expression": list(range(len(ANNOTATIONS), 14))}
    scores: dict[str, list[np.ndarray]] = {"none": []} | {f: [] for f in [*SEQUENTIAL, *nonseq]}
    rng = np.random.default_rng(seed)
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=np.asarray(keys).tolist())
    for x, z, _ in loader:
        scores["none"].append(module(x, z)["ensemble"].numpy())
        for name, channels in SEQUENTIAL.items():
            xs = x.clone()
            xs[:, channels] = 0.0
            scores[name].append(module(xs, z)["ensemble"].numpy())
        perm = torch.from_numpy(rng.permutation(x.shape[0]))
        for name, cols in nonseq.items():
            zs = z.clone()
            zs[:, cols] = z[perm][:, cols]
            scores[name].append(module(x, zs)["ensemble"].numpy())
    base = aupr(y, np.concatenate(scores["none"]))
    rows = [{"feature": name, "kind": "sequential" if name in SEQUENTIAL else "non-sequential",
             "auprc": aupr(y, np.concatenate(parts)), "auprc_drop": base - aupr(y, np.concatenate(parts))}
            for name, parts in scores.items() if name != "none"]
    return pd.DataFrame([{"feature": "none", "kind": "", "auprc": base, "auprc_drop": 0.0}, *rows])
