"""Interpretation of a trained DeepGRN model (sections 2.3.4 and 2.4.4, figure 2.7 of [deepgrn]).

For chosen bins (the best-scored bins without a DNase peak, :func:`bins_without_dnase_peak`):

* the single-attention weights (one per pooled position, eq. 2.10) and the pairwise-attention matrix
  (L' x L', eq. 2.12) of the forward strand;
* saliency: the plain gradient of the ensemble probability with respect to the input (no
  multiplication by the input), as absolute values averaged over the 6 input channels, one value per bp
  (the chapter's saliency maps; the full gradient is kept too);
* the motif analysis of section 2.4.4: in each window the pooled position with the largest column sum
  of the pairwise-attention matrix (:func:`attended_position`: the position the others attend to
  most) gives a bp span (its receptive field: ``pool + kernel - 1`` bp); the sites overlapping it are
  scanned with JASPAR matrices by the FIMO-like scan of :mod:`pgml.tfbs.motifs` (p-values from the
  score distribution), next to the spans of random positions of the same windows; a motif the model
  attends to has more hits (p < 1e-4) at the attended spans than at random ones. The hits are drawn as
  sequence logos beside the JASPAR profile;
* feature importance (:func:`feature_importance`, figure 2.6): drop in auPRC when a feature is removed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pgml.errors import InputError
from pgml.fileio import atomic_path
from pgml.tables import write_tsv
from pgml.tfbs.model import TfbsModule
from pgml.tfbs.params import BIN_STEP, DNASE_PEAK_FOLD, MOTIF_PVALUE
from pgml.tfbs.windows import TfbsWindows

log = logging.getLogger(__name__)


def attention_and_saliency(module: TfbsModule, x: torch.Tensor, z: torch.Tensor) -> dict[str, np.ndarray]:
    """Single and pairwise attention weights (forward strand), the gradient and the saliency.

    ``gradient``: d(ensemble probability) / d(input), (batch, 6, L); ``saliency``: its absolute value
    averaged over the 6 channels, (batch, L).
    """
    if "single" not in module.model.branches:
        raise InputError("explain needs a DeepGRN model with attention modules; this one is the noattention variant")
    module.eval()
    x = x.clone().requires_grad_(True)
    out = module(x, z)
    out["ensemble"].sum().backward()
    gradient = x.grad.detach()
    with torch.no_grad():
        _, single = module.model.branches["single"](x, z)
        _, pairwise = module.model.branches["pairwise"](x, z)
    return {"single": single.numpy(), "pairwise": pairwise.numpy(), "gradient": gradient.numpy(),
            "saliency": gradient.abs().mean(1).numpy(), "probability": out["ensemble"].detach().numpy()}


def attended_position(pairwise: np.ndarray) -> int:
    """The pooled position with the largest column sum of a pairwise-attention matrix (rows: queries)."""
    return int(np.argmax(np.asarray(pairwise).sum(axis=0)))


def dnase_peak_bins(frame: pd.DataFrame, dnase: str, sizes: dict[str, int], peaks: pd.DataFrame | None = None, *,
                    fold: float = DNASE_PEAK_FOLD) -> np.ndarray:
    """Whether each bin of ``frame`` (chrom, start) has a DNase peak.

    With ``peaks`` (chrom, start, end: the cell type's DNase peak calls), a bin has one when it overlaps
    a peak; otherwise when its max DNase coverage reaches ``fold`` x the chromosome's mean coverage.
    """
    import pyBigWig

    from pgml.tfbs.baselines import dnase_max_at
    from pgml.tfbs.bins import overlap_mask

    out = np.zeros(len(frame), dtype=bool)
    for chrom, part in frame.groupby("chrom", sort=False):
        pos = frame.index.get_indexer(part.index)
        bins = part["start"].to_numpy(dtype=np.int64) // BIN_STEP
        if peaks is not None:
            p = peaks[peaks["chrom"] == chrom]
            count = int(bins.max()) + 1
            out[pos] = overlap_mask(p["start"].to_numpy(), p["end"].to_numpy(), count)[bins]
            continue
        bw = pyBigWig.open(str(dnase))
        try:
            mean = bw.stats(chrom, type="mean", exact=True)[0] or 0.0
        finally:
            bw.close()
        out[pos] = dnase_max_at(dnase, chrom, sizes[chrom], bins) >= fold * max(mean, 1e-9)
    return out


def bins_without_dnase_peak(frame: pd.DataFrame, top: int, dnase: str, sizes: dict[str, int],
                            peaks: pd.DataFrame | None = None, *, fold: float = DNASE_PEAK_FOLD) -> pd.DataFrame:
    """The ``top`` best-scored bins (``ensemble``) of ``frame`` that have no DNase peak."""
    ranked = frame.sort_values("ensemble", ascending=False, kind="stable")
    chosen = []
    for lo in range(0, len(ranked), max(4 * top, 1000)):
        part = ranked.iloc[lo:lo + max(4 * top, 1000)]
        chosen.append(part[~dnase_peak_bins(part, dnase, sizes, peaks, fold=fold)])
        if sum(len(c) for c in chosen) >= top:
            break
    out = pd.concat(chosen).head(top) if chosen else ranked.head(0)
    log.info("%d best-scored bins without a DNase peak (of %d predicted)", len(out), len(frame))
    return out


def explain_bins(module: TfbsModule, data: TfbsWindows, keys: np.ndarray, motif_ids: list[str], output_dir: Path,
                 *, pvalue: float = MOTIF_PVALUE, seed: int = 0) -> pd.DataFrame:
    """Write attention.npz, windows.tsv, motif_scan.tsv and logos/<motif>.png; return the motif scan table."""
    from tqdm import tqdm

    from pgml.tfbs.motifs import best_site, load_motif, plot_logos

    cfg = module.model.config
    motifs = [load_motif(m) for m in motif_ids]
    width = cfg.pool + cfg.conv_kernel - 1
    rows, arrays = [], {"single": [], "pairwise": [], "gradient": [], "saliency": [], "probability": []}
    scans: dict[str, dict[str, list]] = {m.matrix_id: {"attention": [], "random": [], "sites": []} for m in motifs}
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
        pos = attended_position(res["pairwise"][0])
        other = int(rng.integers(0, res["pairwise"].shape[-1]))
        seq = "".join("ACGT"[i] if x[:4, j].sum() > 0 else "N" for j, i in enumerate(x[:4].argmax(0).tolist()))
        row = {"chrom": chrom, "bin_start": b * BIN_STEP, "probability": float(res["probability"][0]),
               "attention_start": start + pos * cfg.pool, "attention_end": start + pos * cfg.pool + width,
               "attention_sequence": seq[pos * cfg.pool: pos * cfg.pool + width]}
        for motif in motifs:
            # sites overlapping the span of the attended position (and of a random position)
            p, site_at, strand, site = best_site(motif, seq, pos * cfg.pool - motif.width + 1, pos * cfg.pool + width)
            p_rand, *_ = best_site(motif, seq, other * cfg.pool - motif.width + 1, other * cfg.pool + width)
            scan = scans[motif.matrix_id]
            scan["attention"].append(p)
            scan["random"].append(p_rand)
            if p < pvalue:
                scan["sites"].append(site)
            tag = f"{motif.name}_{motif.matrix_id}"
            row |= {f"{tag}_pvalue": p, f"{tag}_site": site, f"{tag}_strand": strand,
                    f"{tag}_site_start": start + site_at if site_at >= 0 else -1}
        rows.append(row)
    table = pd.DataFrame(rows)
    summary = []
    for motif in motifs:
        scan = scans[motif.matrix_id]
        att, rand = np.array(scan["attention"]), np.array(scan["random"])
        summary.append({"motif": f"{motif.name} {motif.matrix_id}", "windows": len(att),
                        "hits_attention": int((att < pvalue).sum()), "hits_random": int((rand < pvalue).sum()),
                        "median_pvalue_attention": float(np.median(att)) if att.size else float("nan"),
                        "median_pvalue_random": float(np.median(rand)) if rand.size else float("nan")})
        log.info("%s %s: %d of %d attended spans hold a site at p < %g, %d of the random spans", motif.name,
                 motif.matrix_id, summary[-1]["hits_attention"], len(att), pvalue, summary[-1]["hits_random"])
        plot_logos(motif, scan["sites"], output_dir / "logos" / f"{motif.name}_{motif.matrix_id}.png",
                   title="attended spans")
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_dir / "attention.npz", suffix=".npz") as tmp:
        np.savez_compressed(tmp, chrom=table["chrom"].to_numpy() if rows else np.zeros(0, dtype=str),
                            bin_start=table["bin_start"].to_numpy() if rows else np.zeros(0, dtype=np.int64),
                            **{k: np.stack(v) for k, v in arrays.items() if v})
    write_tsv(table, output_dir / "windows.tsv", float_format="%.4g")
    result = pd.DataFrame(summary)
    write_tsv(result, output_dir / "motif_scan.tsv", float_format="%.4g")
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
