"""``pgml report summary``: the headline comparison of each chain's metrics table, on hand-made tables."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pgml.cli import main
from pgml.errors import InputError
from pgml.report.summary import BEATS, DOES_NOT_BEAT, HEADLINES, UNDEFINED, compare, summary_rst

# the bfactor demo's evaluation/metrics.tsv (cc_mean as written): both models lose to 1/WCN
BFACTOR = """method\tn_runs\tcc_mean\tstrongest_baseline\tbeats_baseline
meta\t1\t0.5387\tbaseline_wcn\tno
gcn\t1\t0.5604\tbaseline_wcn\tno
baseline\t1\t0.4128\t\t
baseline_wcn\t1\t0.5881\t\t
"""
TFBS = """tf\tcell\tmethod\tauprc
CTCF\tCellA\tensemble\t0.391
CTCF\tCellA\tsingle\t0.9
CTCF\tCellA\tdnase_max\t0.232
CTCF\tCellA\tlogreg\t0.330
REST\tCellB\tensemble\t0.362
REST\tCellB\tdnase_max\t0.193
REST\tCellB\tlogreg\t0.369
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_best_model_against_strongest_baseline(tmp_path: Path) -> None:
    [c] = compare("bfactor", _write(tmp_path, "b.tsv", BFACTOR))
    assert (c.model, c.model_value, c.baseline, c.baseline_value) == ("gcn", 0.5604, "baseline_wcn", 0.5881)
    assert c.verdict == DOES_NOT_BEAT


def test_groups_are_compared_separately_and_only_the_headline_model_counts(tmp_path: Path) -> None:
    """tfbs: one comparison per TF x cell; the single-attention module (0.9) is not the headline model."""
    a, b = compare("tfbs", _write(tmp_path, "t.tsv", TFBS))
    assert (a.group, a.model_value, a.baseline, a.verdict) == ("CTCF, CellA", 0.391, "logreg", BEATS)
    assert (b.group, b.model_value, b.baseline, b.verdict) == ("REST, CellB", 0.362, "logreg", DOES_NOT_BEAT)


def test_a_tie_does_not_beat_and_nan_gives_no_verdict(tmp_path: Path) -> None:
    fold = "test_set\tmethod\taccuracy\nt\tieconv\t0.455\nt\tmajority_class\t0.455\nt\tcomposition_ss_logreg\t0.4\n"
    [c] = compare("fold", _write(tmp_path, "f.tsv", fold))
    assert c.verdict == DOES_NOT_BEAT
    qa = "method\tresidue_pearson\nenqa\t0.5\naf2_consensus\tn/a\naf2_plddt\tn/a\n"
    [c] = compare("qa", _write(tmp_path, "q.tsv", qa))
    assert math.isnan(c.baseline_value) and c.verdict == UNDEFINED


def test_the_chains_own_verdict_wins(tmp_path: Path) -> None:
    """qa: EnQA ahead on per-residue r but stated not to beat AF2Consensus (per-model r) does not beat it."""
    qa = ("method\tresidue_pearson\tenqa_beats_af2_consensus\tenqa_beats_af2_plddt\n"
          "enqa\t0.6\tno\tyes\naf2_consensus\t0.5\t\t\naf2_plddt\t0.1\t\t\n")
    [c] = compare("qa", _write(tmp_path, "q.tsv", qa))
    assert (c.baseline, c.verdict) == ("af2_consensus", DOES_NOT_BEAT)


def test_every_chain_has_a_headline() -> None:
    from pgml.cli import CHAINS

    assert set(HEADLINES) == set(CHAINS)


def test_missing_baseline_gives_no_verdict_and_missing_columns_are_refused(tmp_path: Path) -> None:
    [c] = compare("contact", _write(tmp_path, "c.tsv", "method\tlong_L/5\nattcontact\t0.3\n"))
    assert (c.baseline, c.verdict) == ("none", UNDEFINED)
    with pytest.raises(InputError, match="missing column"):
        compare("grn", _write(tmp_path, "g.tsv", "method\taupr\ngnet2_boosting\t0.7\n"))


def test_rst_renders_with_the_report_link_targets(tmp_path: Path) -> None:
    """The summary is valid reStructuredText once Snakemake's per-category link targets are appended."""
    publish_parts = pytest.importorskip("docutils.core").publish_parts
    comparisons = compare("bfactor", _write(tmp_path, "b.tsv", BFACTOR)) + compare("tfbs", _write(tmp_path, "t.tsv", TFBS))
    text = summary_rst(comparisons, ["bfactor", "tfbs"])
    assert "- bfactor_: the model does not beat the baseline." in text
    assert "- tfbs_: the model beats the baseline in 1 of 2 comparisons." in text
    links = "\n.. _bfactor: javascript:app.showCategory('bfactor')\n.. _tfbs: javascript:app.showCategory('tfbs')\n"
    html = publish_parts(text + links, writer="html", settings_overrides={"halt_level": 2})["html_body"]
    assert "gcn 0.560" in html and "baseline_wcn 0.588" in html and "showCategory('tfbs')" in html


def test_cli_writes_the_summary_and_refuses_bad_input(tmp_path: Path, capsys) -> None:
    metrics = _write(tmp_path, "b.tsv", BFACTOR)
    out = tmp_path / "summary.rst"
    assert main(["report", "summary", "--metrics", f"bfactor={metrics}", "--output", str(out)]) == 0
    assert DOES_NOT_BEAT in out.read_text()
    assert main(["report", "summary", "--metrics", f"bfactor={metrics}", "--output", str(metrics)]) == 2
    bad = tmp_path / "bad.rst"
    assert main(["report", "summary", "--metrics", f"nochain={metrics}", "--output", str(bad)]) == 2
    assert "unknown chain 'nochain'" in capsys.readouterr().err
    assert not bad.exists()
