"""`pgml grn ...` end to end on a small simulated network, and its error exits."""

from __future__ import annotations

import pandas as pd

from pgml.cli import main


def test_simulate_infer_plot_coherence_baseline_evaluate(tmp_path, capsys):
    sim = tmp_path / "sim"
    assert main(["grn", "simulate", "--output-dir", str(sim), "--n-genes", "40", "--n-samples", "30",
                 "--n-external", "3", "--seed", "1"]) == 0
    expr, regs = str(sim / "expression.tsv"), str(sim / "regulators.txt")
    for init in ("boosting", "kmeans"):
        out = tmp_path / init
        assert main(["grn", "infer", "--expression", expr, "--regulators", regs, "--output-dir", str(out),
                     "--init", init, "--init-group-num", "4"]) == 0
        for name in ("edges.tsv", "gene_modules.tsv", "modules.tsv", "module_regulators.tsv",
                     "leaf_groups.tsv", "result.json", "result.npz"):
            assert (out / name).exists(), name
    assert main(["grn", "plot", "--result", str(tmp_path / "boosting"), "--output-dir", str(tmp_path / "plots")]) == 0
    for name in ("module_heatmaps.pdf", "module_heatmap.png", "module_trees.pdf", "module_correlation.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 1000
    assert main(["grn", "coherence", "--result", str(tmp_path / "boosting"), "--labels",
                 str(sim / "sample_labels.tsv"), "--permutations", "50", "--output", str(tmp_path / "coh.tsv")]) == 0
    assert set(pd.read_csv(tmp_path / "coh.tsv", sep="\t").statistic) == {"adjusted_rand_index"}
    assert main(["grn", "baseline", "--method", "clr", "--expression", expr, "--regulators", regs,
                 "--output", str(tmp_path / "clr.tsv")]) == 0
    assert main(["grn", "evaluate", "--truth", str(sim / "true_edges.tsv"), "--expression", expr,
                 "--regulators", regs, "--method", f"gnet2_boosting={tmp_path / 'boosting' / 'edges.tsv'}",
                 "--baseline", f"clr={tmp_path / 'clr.tsv'}", "--output-dir", str(tmp_path / "eval")]) == 0
    metrics = pd.read_csv(tmp_path / "eval" / "metrics.tsv", sep="\t")
    assert {"gnet2_boosting", "clr", "random"} <= set(metrics.method)
    notes = (tmp_path / "eval" / "metrics.md").read_text()
    assert "the best baseline clr" in notes  # the verdict names the baseline the caller declared
    assert (tmp_path / "eval" / "roc.png").exists()


def test_input_error_exits_2_without_output(tmp_path, capsys):
    expr = tmp_path / "e.tsv"
    expr.write_text("gene\t" + "\t".join(f"s{i}" for i in range(12)) + "\n"
                    + "TF1\t" + "\t".join(["1"] * 11 + ["nan"]) + "\n"
                    + "g1\t" + "\t".join(["2"] * 12) + "\n")
    regs = tmp_path / "r.txt"
    regs.write_text("TF1\n")
    code = main(["grn", "infer", "--expression", str(expr), "--regulators", str(regs),
                 "--output-dir", str(tmp_path / "out")])
    assert code == 2
    assert "impute" in capsys.readouterr().err
    assert not (tmp_path / "out" / "edges.tsv").exists()


def test_output_paths_that_could_clobber_are_refused(tmp_path, capsys, monkeypatch):
    sim = tmp_path / "sim"
    assert main(["grn", "simulate", "--output-dir", str(sim), "--n-genes", "20", "--n-samples", "12",
                 "--n-external", "2", "--seed", "1"]) == 0
    expr, regs = str(sim / "expression.tsv"), str(sim / "regulators.txt")
    monkeypatch.chdir(tmp_path)
    cases = [
        (["grn", "simulate", "--output-dir", "."], "is the current directory"),
        (["grn", "infer", "--expression", expr, "--regulators", regs, "--output-dir", str(sim)],
         "holds input file"),
        (["grn", "baseline", "--method", "clr", "--expression", expr, "--regulators", regs, "--output",
          str(sim)], "is an existing directory, not a file"),
        (["grn", "baseline", "--method", "clr", "--expression", expr, "--regulators", regs, "--output",
          regs], "output file is the input"),
    ]
    before = {p.name: p.read_bytes() for p in sim.iterdir()}
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert {p.name: p.read_bytes() for p in sim.iterdir()} == before
