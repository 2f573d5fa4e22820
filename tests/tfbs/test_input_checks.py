"""Input checks that the bad-input table cannot express: folders left behind, files never written next to
the user's inputs, the split check in the library and in the workflow, and accepted UCSC header lines."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import snakemake_executable, venv_env

from pgml.cli import main
from pgml.errors import InputError
from pgml.tfbs.bins import bin_genome, read_bed
from pgml.tfbs.training import split_chroms
from pgml.tfbs.windows import fasta_sizes, open_fasta

ROOT = Path(__file__).resolve().parents[2]


def test_split_refuses_typos_and_overlaps_and_never_trains_on_held_out() -> None:
    bins = bin_genome({"chr1": 1000, "chr8": 1000, "chr11": 1000, "chr2": 1000}, None, None)
    assert split_chroms(bins, ["chr11"], ["chr1", "chr8"]) == (["chr2"], ["chr11"], ["chr1", "chr8"])
    with pytest.raises(InputError, match=r"--test-chroms: Chr8 is not among .*did you mean chr8\?"):
        split_chroms(bins, ["chr11"], ["chr1", "Chr8"])
    with pytest.raises(InputError, match=r"chr11 is in both --valid-chroms and --test-chroms"):
        split_chroms(bins, ["chr11"], ["chr11"])
    with pytest.raises(InputError, match=r"--valid-chroms: chr11 is listed twice"):
        split_chroms(bins, ["chr11", "chr11"], ["chr1"])


def test_fasta_without_index_is_indexed_outside_the_users_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "ro"
    folder.mkdir()
    fasta = folder / "g.fa"
    fasta.write_text(">chr1\nACGTACGTNN\nACG\n>chr2\nNNNN\n")
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)  # read-only (root ignores it: the check below still holds)
    try:
        assert fasta_sizes(fasta) == {"chr1": 13, "chr2": 4}
        handle = open_fasta(fasta)
        assert handle["chr1"][8:12] == "NNAC"
        handle.close()
        assert sorted(p.name for p in folder.iterdir()) == ["g.fa"]
        assert len(list((tmp_path / "cache" / "pgml" / "fai").glob("*.fai"))) == 1
    finally:
        folder.chmod(0o755)
    # the user's own index is used when present
    (folder / "g.fa.fai").write_text("chr1\t13\t6\t10\t11\nchr2\t4\t26\t4\t5\n")
    assert fasta_sizes(fasta) == {"chr1": 13, "chr2": 4}


def test_narrowpeak_track_and_browser_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.narrowPeak"
    path.write_text('track type=narrowPeak name="x"\nbrowser position chr1:1-100\n# note\nchr1\t10\t20\t.\nchr1\t30\t40\t.\n')
    frame = read_bed(path)
    assert frame[["start", "end"]].to_numpy().tolist() == [[10, 20], [30, 40]]


def test_coverage_error_leaves_no_new_folder(tmp_path: Path) -> None:
    import pyBigWig

    track = tmp_path / "zero.bw"
    bw = pyBigWig.open(str(track), "w")
    bw.addHeader([("chr1", 2000)])
    bw.addEntries(["chr1"], [0], ends=[2000], values=[0.0])
    bw.close()
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("chr1\t2000\n")
    bins = tmp_path / "bins.npz"
    bin_genome({"chr1": 2000}, None, None).save(bins)
    out = tmp_path / "new" / "deeper" / "cov.bw"
    assert main(["tfbs", "dnase-coverage", "--bigwig", str(track), "--genome", str(sizes), "--bins", str(bins),
                 "--output", str(out)]) == 2
    assert not (tmp_path / "new").exists()


def test_bigwig_signal_check_accepts_values_below_one_and_refuses_zeros(tmp_path: Path) -> None:
    """RPGC coverage is mostly below 1 (the bigWig header's integer min/max read 0 for it)."""
    import pyBigWig

    from pgml.tfbs.coverage import check_bigwig

    def track(name: str, values: list[float]) -> Path:
        path = tmp_path / name
        bw = pyBigWig.open(str(path), "w")
        bw.addHeader([("chr1", 2000), ("chr2", 1000)])
        bw.addEntries(["chr2"] * len(values), [100 * i for i in range(len(values))],
                      ends=[100 * i + 100 for i in range(len(values))], values=values)
        bw.close()
        return path

    sizes = {"chr1": 2000, "chr2": 1000}
    check_bigwig(track("low.bw", [0.3, 0.5, 0.0]), sizes, ["chr1", "chr2"])
    with pytest.raises(InputError, match=r"low2\.bw: no signal \(no finite value\) on chr1"):
        check_bigwig(track("low2.bw", [0.3]), sizes, ["chr1"])
    with pytest.raises(InputError, match=r"zero\.bw: every value is 0"):
        check_bigwig(track("zero.bw", [0.0, 0.0]), sizes, ["chr1", "chr2"])
    with pytest.raises(InputError, match=r"neg\.bw: holds negative values \(min -0\.5\)"):
        check_bigwig(track("neg.bw", [0.2, -0.5]), sizes, ["chr2"])


def test_bin_memory_is_estimated_before_allocating(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1M")
    with pytest.raises(InputError, match=r"g\.sizes: 1,999,997 bins need about 26\.7 MiB, more than the 1\.0 MiB"):
        bin_genome({"chr1": 100_000_000}, None, None, sizes_path=tmp_path / "g.sizes")
    monkeypatch.setenv("PGML_MEMORY_LIMIT", "1G")
    assert bin_genome({"chr1": 100_000_000}, None, None).blacklist["chr1"].dtype == np.bool_


@pytest.mark.workflow
@pytest.mark.parametrize(("change", "expected"), [
    ({"test_chroms": ["chr1", "Chr8"]}, r"tfbs\.test_chroms: Chr8 is not a chromosome of the genome \(did you mean chr8\?\)"),
    ({"valid_chroms": ["chr11"], "test_chroms": ["chr1", "chr11"]},
     r"tfbs\.valid_chroms and tfbs\.test_chroms: chr11 is in both"),
    ({"chroms": ["chr1", "chr2", "chr11"], "test_chroms": ["chr1", "chr8"]},
     r"tfbs\.test_chroms: chr8 is not a chromosome of tfbs\.chroms"),
])
def test_workflow_refuses_bad_split_at_parse_time(tmp_path: Path, change: dict, expected: str) -> None:
    config = yaml.safe_load((ROOT / "tests" / "configs" / "tfbs.yaml").read_text())
    config["tfbs"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run([snakemake_executable(), "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path / "run"),
                             "-n", "--cores", "1", "--configfile", str(path)], capture_output=True, text=True,
                            timeout=180, env=venv_env(), cwd=tmp_path)
    assert result.returncode != 0
    assert re.search(expected, result.stdout + result.stderr), (result.stdout + result.stderr)[-2000:]
    assert not os.path.exists(tmp_path / "run" / "results")
