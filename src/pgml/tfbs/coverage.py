"""DNase-seq BAM -> 1x-normalised, 1-bp bigWig with deeptools ``bamCoverage`` [deeptools] (section 2.2.1 of [deepgrn]).

Replicates are merged with ``samtools merge`` (through pysam); a BAM without an index is indexed in a
scratch directory (never next to the user's file), and one that is not coordinate-sorted is refused.
``bamCoverage`` runs with RPGC normalisation (effective genome size from the config), ``--Offset 1``
(the read's 5' end, the DNase cut), the blacklist (restricted to the genome's contigs, others reported)
and chrX/chrM left out of the normalisation. A ready bigWig can be given instead; either way the
output is checked (non-empty, chromosomes of the genome) before the next step reads it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from pgml.errors import InputError
from pgml.fileio import atomic_path, copy_file
from pgml.tfbs.bins import check_contigs, match_contigs, read_bed, require_file
from pgml.tfbs.params import IGNORE_FOR_NORMALIZATION

log = logging.getLogger(__name__)


def _has_index(bam: Path) -> bool:
    return any(Path(f"{bam}{ext}").is_file() for ext in (".bai", ".csi")) or bam.with_suffix(".bai").is_file()


def indexed_bam(bam: Path, scratch: Path) -> Path:
    """``bam`` itself when it has an index, else a link to it in ``scratch`` with a fresh index."""
    import pysam

    require_file(bam, "BAM file")
    if _has_index(bam):
        return bam
    try:
        with pysam.AlignmentFile(str(bam), "rb") as handle:
            order = handle.header.to_dict().get("HD", {}).get("SO", "unknown")
    except (ValueError, OSError) as exc:
        raise InputError(f"not a readable BAM file ({exc})", path=bam) from None
    if order not in ("coordinate", "unknown"):
        raise InputError(f"BAM is sorted by {order}, not by coordinate; run samtools sort", path=bam)
    link = scratch / f"{len(list(scratch.iterdir()))}_{bam.name}"
    link.symlink_to(bam.resolve())
    try:
        pysam.index(str(link))
    except pysam.utils.SamtoolsError as exc:
        raise InputError(f"BAM has no index and cannot be indexed (is it coordinate-sorted? {exc})".replace("\n", " "),
                         path=bam) from None
    log.info("%s: no index; indexed a link to it in a scratch directory", bam)
    return link


def check_bam_contigs(bam: Path, sizes: dict[str, int], chroms: list[str]) -> None:
    """Refuse, before bamCoverage runs, a BAM whose header lacks (or misnames, or sizes otherwise) the
    chromosomes of the bins: its coverage would be missing there."""
    import pysam

    require_file(bam, "BAM file")
    try:
        with pysam.AlignmentFile(str(bam), "rb") as handle:
            have = dict(zip(handle.references, handle.lengths, strict=True))
    except (ValueError, OSError) as exc:
        raise InputError(f"not a readable BAM file ({exc})", path=bam) from None
    check_contigs(have, {c: sizes[c] for c in chroms}, bam, where="the BAM header",
                  advice="realign or rename to the genome's names", length_in=" in the BAM header",
                  reference="the genome says")


def merged_bam(bams: list[Path], scratch: Path) -> Path:
    """One indexed BAM of all replicates (``samtools merge``)."""
    import pysam

    ready = [indexed_bam(b, scratch) for b in bams]
    if len(ready) == 1:
        return ready[0]
    out = scratch / "merged.bam"
    pysam.merge("-f", str(out), *map(str, ready))
    pysam.index(str(out))
    log.info("merged %d replicates", len(ready))
    return out


def check_bigwig(path: str | os.PathLike, sizes: dict[str, int], chroms: list[str], *,
                 name: str | os.PathLike | None = None, signal: bool = True) -> None:
    """Refuse a bigWig that lacks (or misnames) the ``chroms`` of the genome or, with ``signal``, holds no
    signal there (no interval, or only zeros: the README's signal check). ``name`` is the file named in
    messages (the user's input when ``path`` is a temporary)."""
    import pyBigWig

    name = path if name is None else name
    path = require_file(path, "bigWig file")
    try:
        bw = pyBigWig.open(str(path))
    except RuntimeError:
        bw = None
    if bw is None or not bw.isBigWig():
        raise InputError("not a readable bigWig file", path=name)
    try:
        have = bw.chroms()
        missing = [c for c in chroms if c not in have]
        if missing:
            hint = ""
            other = missing[0][3:] if missing[0].startswith("chr") else f"chr{missing[0]}"
            if other in have:
                hint = f" (it names them like {other!r}: use the genome's chromosome names)"
            raise InputError(f"chromosome(s) {', '.join(missing)} missing{hint}", path=name)
        wrong = [c for c in chroms if have[c] != sizes[c]]
        if wrong:
            raise InputError(f"length of {wrong[0]} is {have[wrong[0]]}, the genome says {sizes[wrong[0]]}", path=name)
        if signal:  # per-chromosome summaries (zoom levels: fast on a genome-wide track)
            maxes = [v for c in chroms if (v := bw.stats(c, 0, sizes[c], type="max")[0]) is not None]
            mins = [v for c in chroms if (v := bw.stats(c, 0, sizes[c], type="min")[0]) is not None]
            if not maxes:
                raise InputError(f"no signal (no finite value) on {', '.join(chroms[:6])}", path=name)
            if not np.isfinite(maxes + mins).all():
                raise InputError("holds NaN or infinite values", path=name)
            if max(maxes) == 0 and min(mins) == 0:
                raise InputError("every value is 0 (no signal): check the reads or the coverage step", path=name)
            if min(mins) < 0:
                raise InputError(f"holds negative values (min {min(mins):g}); expected coverage", path=name)
    finally:
        bw.close()


def find_bamcoverage() -> str:
    """``bamCoverage`` on PATH, else beside the running Python (a virtualenv that is not activated)."""
    exe = shutil.which("bamCoverage") or shutil.which("bamCoverage", path=str(Path(sys.executable).parent))
    if exe is None:
        raise InputError("bamCoverage (deeptools) is not on PATH")
    return exe


def dnase_coverage(bams: list[Path], output: Path, *, sizes: dict[str, int], chroms: list[str],
                   blacklist: Path | None, effective_genome_size: int, threads: int = 1,
                   normalize: str = "RPGC") -> None:
    """Merge ``bams``, run ``bamCoverage`` into ``output`` (bigWig) and check the result.

    Each BAM's header is checked against the genome first, so a BAM on other contig names is named
    before bamCoverage runs. The scratch space (index links, the merged BAM) is a hidden directory
    beside ``output``, removed when the step ends.
    """
    for bam in bams:
        check_bam_contigs(bam, sizes, chroms)
    exe = find_bamcoverage()
    with tempfile.TemporaryDirectory(prefix=".tfbs_cov_", dir=output.parent) as tmp:
        scratch = Path(tmp)
        bam = merged_bam(bams, scratch)
        cmd = [exe, "-b", str(bam), "--binSize", "1", "--Offset", "1", "-p", str(threads)]
        if normalize == "RPGC":
            cmd += ["--normalizeUsing", "RPGC", "--effectiveGenomeSize", str(effective_genome_size),
                    "--ignoreForNormalization", *IGNORE_FOR_NORMALIZATION]
        if blacklist is not None:
            bl = match_contigs(read_bed(blacklist), sizes, blacklist, what="blacklist regions")
            bl_path = scratch / "blacklist.bed"
            bl.sort_values(["chrom", "start"]).to_csv(bl_path, sep="\t", header=False, index=False)
            if len(bl):
                cmd += ["--blackListFileName", str(bl_path)]
        with atomic_path(output, suffix=".bw") as out:
            result = subprocess.run([*cmd, "-o", str(out)], capture_output=True, text=True)
            if result.returncode != 0:
                tail = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
                raise InputError(f"bamCoverage failed: {tail}", path=bams[0])
            check_bigwig(out, sizes, chroms, name=bams[0] if len(bams) == 1 else f"coverage of {', '.join(map(str, bams))}")


def accept_bigwig(source: Path, output: Path, *, sizes: dict[str, int], chroms: list[str]) -> None:
    """Use a ready DNase bigWig: check it, then copy it to ``output``."""
    check_bigwig(source, sizes, chroms)
    copy_file(source, output)
