"""Demo data for the tfbs chain: a small genome with planted JASPAR motifs, DNase-seq BAMs and peaks.

:func:`simulate` writes, from a seed, every input the chain reads (section 2.2 of [deepgrn] lists the
real ones):

* ``genome.fa`` (+ ``.fai``) and ``chrom.sizes``: random DNA (GC 42%) on chromosomes named so the
  challenge split applies; CpG islands (GC 65%) around the transcription start of most genes;
* ``annotation/{cds,intron,promoter,utr5,utr3,cpg}.bed``: gene models (5'UTR, exons of 150 bp split by
  600-bp introns, 3'UTR; promoter = 1 kb upstream + 500 bp downstream of the TSS) and the CpG islands;
* ``blacklist.bed``: one 1-kb region per chromosome and one on a contig that is not in the genome
  (the chain filters it and says so);
* ``mappability.bw``: 35-bp uniqueness, 1 except for 500-bp low-mappability segments;
* for each TF (a JASPAR matrix fetched from the ``pyjaspar`` package, e.g. CTCF MA0139.1): sites
  carrying a motif instance sampled from the position frequency matrix, a third of them within 2 kb of
  a TSS, and as many decoy motif instances that are never bound; each site is bound in each cell type
  with probability ``bound_fraction`` and a strength U(0.2, 1);
* ``peaks/<TF>.<cell>.{conservative,relaxed}.narrowPeak.gz``: bound sites of strength > 0.45 give
  conservative peaks, every bound site a relaxed peak (wider);
* ``dnase/<cell>.rep<N>.bam`` (+ ``.bai``, coordinate-sorted): 36-bp reads whose 5' ends (the DNase
  cuts) are uniform background, plus Poisson(``site_reads`` x strength) cuts N(site, 60 bp) around bound
  sites and open promoters of expressed genes (accessible but not bound: DNase alone is not enough);
  the first cell type has two replicates;
* ``tpm.tsv``: genes x cell types TPM (log-normal, with a cell-type-specific program), over the chain's
  cell types and three more; ``sites.tsv``: the truth (site, TF, bound cells, decoy or not).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd

from pgml.errors import InputError
from pgml.fileio import atomic_dir
from pgml.tfbs.params import SimulateConfig

READ_LENGTH = 36
BASES = np.array(list("ACGT"))


def parse_pairs(text: str, what: str) -> list[tuple[str, str]]:
    """``a:1,b:2`` or ``a=1,b=2`` -> [(a, 1), (b, 2)]."""
    out = []
    for item in text.split(","):
        sep = ":" if ":" in item else "="
        name, _, value = item.partition(sep)
        if not name or not value:
            raise InputError(f"{what}: expected NAME{sep}VALUE items separated by commas, got {item!r}")
        out.append((name.strip(), value.strip()))
    return out


def jaspar_pfm(matrix_id: str) -> np.ndarray:
    """Position frequency matrix (length x 4, rows sum to 1) of a JASPAR matrix from ``pyjaspar``."""
    from pyjaspar import jaspardb

    motif = jaspardb().fetch_motif_by_id(matrix_id)
    if motif is None:
        raise InputError(f"JASPAR matrix {matrix_id} not found in pyjaspar")
    counts = np.array([motif.counts[b] for b in "ACGT"], dtype=float).T + 0.01
    return counts / counts.sum(axis=1, keepdims=True)


def _random_seq(rng: np.random.Generator, n: int, gc: float) -> np.ndarray:
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    return rng.choice(4, size=n, p=p).astype(np.int8)


def _genes(rng: np.random.Generator, sizes: dict[str, int], n_genes: int) -> pd.DataFrame:
    chroms = list(sizes)
    weights = np.array([sizes[c] for c in chroms], dtype=float)
    rows = []
    for g in range(n_genes):
        chrom = chroms[rng.choice(len(chroms), p=weights / weights.sum())]
        n_exons = int(rng.integers(2, 6))
        length = 150 + n_exons * 150 + (n_exons - 1) * 600 + 300
        if sizes[chrom] < length + 3000:
            continue
        tss = int(rng.integers(1500, sizes[chrom] - length - 1500))
        rows.append({"gene": f"G{g:04d}", "chrom": chrom, "tss": tss, "n_exons": n_exons, "cpg": rng.random() < 0.6})
    return pd.DataFrame(rows)


def _gene_features(genes: pd.DataFrame) -> dict[str, list[tuple[str, int, int]]]:
    """BED intervals of every annotation (all genes on the + strand, which the chain does not use)."""
    feats: dict[str, list[tuple[str, int, int]]] = {k: [] for k in ("cds", "intron", "promoter", "utr5", "utr3", "cpg")}
    for g in genes.itertuples():
        pos = g.tss
        feats["promoter"].append((g.chrom, max(0, pos - 1000), pos + 500))
        if g.cpg:
            feats["cpg"].append((g.chrom, max(0, pos - 400), pos + 400))
        feats["utr5"].append((g.chrom, pos, pos + 150))
        pos += 150
        for e in range(g.n_exons):
            feats["cds"].append((g.chrom, pos, pos + 150))
            pos += 150
            if e < g.n_exons - 1:
                feats["intron"].append((g.chrom, pos, pos + 600))
                pos += 600
        feats["utr3"].append((g.chrom, pos, pos + 300))
    return feats


def _write_bed(rows: list[tuple[str, int, int]], path: Path) -> None:
    frame = pd.DataFrame(rows, columns=["chrom", "start", "end"]).sort_values(["chrom", "start"])
    frame.to_csv(path, sep="\t", header=False, index=False)


def _write_bam(path: Path, sizes: dict[str, int], cuts: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    import pysam

    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c, "LN": n} for c, n in sizes.items()]}
    with pysam.AlignmentFile(str(path), "wb", header=header) as bam:
        for tid, chrom in enumerate(sizes):
            pos = cuts[chrom]
            reverse = rng.random(pos.size) < 0.5
            # a reverse-strand read ends at the cut: its leftmost base is cut - 35
            start = np.where(reverse, pos - READ_LENGTH + 1, pos)
            ok = (start >= 0) & (start + READ_LENGTH <= sizes[chrom])
            order = np.argsort(start[ok], kind="stable")
            for k, (s, rev) in enumerate(zip(start[ok][order], reverse[ok][order], strict=True)):
                read = pysam.AlignedSegment(bam.header)
                read.query_name = f"{chrom}_{k}"
                read.reference_id = tid
                read.reference_start = int(s)
                read.cigarstring = f"{READ_LENGTH}M"
                read.flag = 16 if rev else 0
                read.mapping_quality = 60
                read.query_sequence = "N" * READ_LENGTH
                bam.write(read)
    pysam.index(str(path))


def _narrowpeak(rows: list[tuple[str, int, int, float]], path: Path, tf: str) -> None:
    rows = sorted(rows)
    with gzip.open(path, "wt") as handle:
        for k, (chrom, start, end, strength) in enumerate(rows):
            summit = (end - start) // 2
            handle.write(f"{chrom}\t{start}\t{end}\t{tf}_peak{k}\t{int(1000 * strength)}\t.\t{20 * strength:.3f}"
                         f"\t{30 * strength:.3f}\t{25 * strength:.3f}\t{summit}\n")


def simulate(output_dir: str | os.PathLike, config: SimulateConfig | None = None, seed: int = 0) -> dict:
    """Write the demo inputs (see the module docstring) into ``output_dir``; return a small summary."""
    import pyBigWig
    import pysam

    config = config or SimulateConfig()
    rng = np.random.default_rng(seed)
    sizes = {name: int(length) for name, length in parse_pairs(config.chroms, "chroms")}
    cells = [c.strip() for c in config.cells.split(",") if c.strip()]
    tfs = parse_pairs(config.tfs, "tfs")
    if len(cells) < 2:
        raise InputError("simulate: at least two cell types are needed")
    seqs = {c: _random_seq(rng, n, 0.42) for c, n in sizes.items()}
    genes = _genes(rng, sizes, config.n_genes)
    feats = _gene_features(genes)
    for chrom, start, end in feats["cpg"]:
        seqs[chrom][start:end] = _random_seq(rng, end - start, 0.65)
    expressed = {cell: rng.random(len(genes)) < 0.5 for cell in cells}

    site_rows = []
    for tf, matrix_id in tfs:
        pfm = jaspar_pfm(matrix_id)
        width = pfm.shape[0]
        total = sum(sizes.values())
        n_sites = max(4, int(config.site_density * total / 10_000))
        chroms = list(sizes)
        weights = np.array([sizes[c] for c in chroms], dtype=float) / total
        for k in range(2 * n_sites):
            decoy = k >= n_sites
            if not decoy and k % 3 == 0 and len(genes):
                g = genes.iloc[int(rng.integers(len(genes)))]
                chrom, center = g.chrom, int(g.tss + rng.integers(-2000, 2000))
            else:
                chrom = chroms[rng.choice(len(chroms), p=weights)]
                center = int(rng.integers(600, sizes[chrom] - 600))
            center = min(max(center, 600), sizes[chrom] - 600)
            motif = np.array([rng.choice(4, p=row) for row in pfm], dtype=np.int8)
            if rng.random() < 0.5:
                motif = (3 - motif)[::-1]
            seqs[chrom][center - width // 2: center - width // 2 + width] = motif
            bound = [] if decoy else [c for c in cells if rng.random() < config.bound_fraction]
            site_rows.append({"tf": tf, "chrom": chrom, "center": center, "decoy": decoy,
                              "strength": float(rng.uniform(0.2, 1.0)), "bound_cells": ",".join(bound)})
    sites = pd.DataFrame(site_rows)

    with atomic_dir(output_dir) as out:
        fasta = out / "genome.fa"
        with open(fasta, "w") as handle:
            for chrom, seq in seqs.items():
                handle.write(f">{chrom}\n")
                text = "".join(BASES[seq])
                handle.writelines(text[i:i + 60] + "\n" for i in range(0, len(text), 60))
        pysam.faidx(str(fasta))
        (out / "chrom.sizes").write_text("".join(f"{c}\t{n}\n" for c, n in sizes.items()))
        black = [(c, n // 2, n // 2 + 1000) for c, n in sizes.items()] + [("chrUn_demo", 0, 5000)]
        _write_bed(black, out / "blacklist.bed")
        (out / "annotation").mkdir()
        for name, rows in feats.items():
            _write_bed(rows, out / "annotation" / f"{name}.bed")
        bw = pyBigWig.open(str(out / "mappability.bw"), "w")
        bw.addHeader(list(sizes.items()))
        for chrom, n in sizes.items():
            low = np.sort(rng.choice(n // 500, size=max(1, n // 20_000), replace=False)) * 500
            edges = sorted({0, n, *low.tolist(), *(low + 500).tolist()})
            edges = [e for e in edges if 0 <= e <= n]
            starts, ends, values = edges[:-1], edges[1:], []
            for s in starts:
                values.append(float(rng.uniform(0.0, 0.5)) if s in set(low.tolist()) else 1.0)
            bw.addEntries([chrom] * len(starts), starts, ends=ends, values=values)
        bw.close()

        (out / "peaks").mkdir()
        for tf, _ in tfs:
            for cell in cells:
                rows = sites[(sites["tf"] == tf) & sites["bound_cells"].str.split(",").apply(lambda b, c=cell: c in b)]
                cons, relax = [], []
                for r in rows.itertuples():
                    half = int(rng.integers(60, 150))
                    summit = r.center + int(rng.integers(-20, 21))
                    if r.strength > 0.45:
                        cons.append((r.chrom, max(0, summit - half), summit + half, r.strength))
                    relax.append((r.chrom, max(0, summit - half - 50), summit + half + 50, r.strength))
                _narrowpeak(cons, out / "peaks" / f"{tf}.{cell}.conservative.narrowPeak.gz", tf)
                _narrowpeak(relax, out / "peaks" / f"{tf}.{cell}.relaxed.narrowPeak.gz", tf)

        (out / "dnase").mkdir()
        for i, cell in enumerate(cells):
            for rep in range(2 if i == 0 else 1):
                cuts = {}
                for chrom, n in sizes.items():
                    parts = [rng.integers(0, n, size=rng.poisson(config.background_reads * n / 1000))]
                    here = sites[(sites["chrom"] == chrom)
                                 & sites["bound_cells"].str.split(",").apply(lambda b, c=cell: c in b)]
                    for r in here.itertuples():
                        k = rng.poisson(config.site_reads * r.strength / (2 if i == 0 else 1))
                        parts.append(np.rint(rng.normal(r.center, 60, size=k)).astype(np.int64))
                    open_genes = genes[(genes["chrom"] == chrom).to_numpy() & expressed[cell]]
                    for g in open_genes.itertuples():
                        k = rng.poisson(config.site_reads * 0.6 / (2 if i == 0 else 1))
                        parts.append(np.rint(rng.normal(g.tss - 200, 80, size=k)).astype(np.int64))
                    pos = np.concatenate(parts)
                    cuts[chrom] = pos[(pos >= 0) & (pos < n)]
                _write_bam(out / "dnase" / f"{cell}.rep{rep + 1}.bam", sizes, cuts, rng)

        extra = [f"Other{k}" for k in range(1, 4)]
        all_cells = cells + extra
        base = rng.lognormal(2.0, 1.5, size=len(genes))
        tpm = {}
        for cell in all_cells:
            program = expressed[cell] if cell in expressed else rng.random(len(genes)) < 0.5
            tpm[cell] = base * np.where(program, 4.0, 0.25) * rng.lognormal(0, 0.3, size=len(genes))
        pd.DataFrame(tpm, index=genes["gene"]).rename_axis("gene").to_csv(out / "tpm.tsv", sep="\t",
                                                                           float_format="%.4f")
        sites.to_csv(out / "sites.tsv", sep="\t", index=False)
    return {"chroms": len(sizes), "bp": sum(sizes.values()), "sites": int((~sites["decoy"]).sum()),
            "cells": len(cells), "genes": len(genes)}
