"""Figures of a GNET2 result ([dissertation] figure 3.1 and the module correlation summary).

- :func:`plot_module_heatmaps`: one page per module: regulator expression bars on top (one row per
  tree regulator), the z-scored target genes below, samples ordered by tree leaf, and a strip of leaf
  groups at the bottom (figure 3.1a).
- :func:`plot_module_trees`: one page per module: the tree, each split labelled with its regulator,
  split kind and threshold, each leaf with its number of samples (figure 3.1b).
- :func:`plot_module_correlation`: the module quality scores (eq. 3.18) with the distribution of
  within-module absolute pairwise correlations (a regulator's activated and repressed targets
  correlate negatively), next to that of a random group of 200 genes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pgml.fileio import atomic_path
from pgml.grn.gnet import GnetFit
from pgml.plots import pyplot, save_figure


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=1, keepdims=True)
    return (x - x.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)


def plot_module_heatmaps(fit: GnetFit, output: str | Path, max_genes: int = 300) -> None:
    """Multi-page PDF (or one PNG of module 1 if ``output`` ends in .png) of module heatmaps."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    ds = fit.dataset
    output = Path(output)
    with atomic_path(output) as tmp:
        pdf = PdfPages(tmp) if output.suffix == ".pdf" else None
        for k, m in enumerate(fit.modules):
            order = np.lexsort((np.arange(len(ds.samples)), m.tree.leaf_labels))
            regs = m.regulators
            genes = np.asarray(m.targets)[:max_genes]
            gx = _zscore(ds.target_expr[genes])[:, order]
            # order genes by their correlation with the module mean
            mean = gx.mean(axis=0)
            gorder = np.argsort(-(gx @ mean))
            rx = _zscore(ds.regulator_expr[regs])[:, order] if regs else np.zeros((1, len(order)))
            fig = plt.figure(figsize=(8, 7))
            grid = fig.add_gridspec(3, 2, height_ratios=[max(1, len(regs)), 8, 0.6], width_ratios=[30, 1],
                                    hspace=0.08, wspace=0.04)
            ax_r = fig.add_subplot(grid[0, 0])
            ax_r.imshow(rx, aspect="auto", cmap="PuOr_r", vmin=-2.5, vmax=2.5, interpolation="nearest")
            ax_r.set_yticks(range(len(regs)), [ds.regulators[r] for r in regs], fontsize=8)
            ax_r.set_xticks([])
            ax_r.set_title(f"module {k + 1}: {len(m.targets)} genes, score {m.score:.3f}")
            ax_g = fig.add_subplot(grid[1, 0])
            im = ax_g.imshow(gx[gorder], aspect="auto", cmap="RdBu_r", vmin=-2.5, vmax=2.5, interpolation="nearest")
            ax_g.set_ylabel(f"target genes ({len(genes)} shown)")
            ax_g.set_xticks([])
            ax_g.set_yticks([])
            ax_l = fig.add_subplot(grid[2, 0])
            ax_l.imshow(m.tree.leaf_labels[order][None, :], aspect="auto", cmap="tab10", vmin=0, vmax=9,
                        interpolation="nearest")
            ax_l.set_yticks([0], ["leaf"])
            ax_l.set_xlabel("samples (ordered by leaf)")
            ax_l.set_xticks([])
            fig.colorbar(im, cax=fig.add_subplot(grid[1, 1]), label="z-score")
            if pdf is not None:
                pdf.savefig(fig)
                plt.close(fig)
            else:
                fig.savefig(tmp, dpi=120, bbox_inches="tight")
                plt.close(fig)
                break
        if pdf is not None:
            if not fit.modules:
                fig = plt.figure()
                fig.text(0.5, 0.5, "no modules", ha="center")
                pdf.savefig(fig)
                plt.close(fig)
            pdf.close()


def _tree_layout(fit: GnetFit, k: int) -> tuple[list[tuple[float, float, str, bool]],
                                                list[tuple[float, float, float, float, str]]]:
    """Node boxes (x, y, label, internal) and edges (x0, y0, x1, y1, label) of module k's tree."""
    m = fit.modules[k]
    names = fit.dataset.regulators
    split_at = {s.node: s for s in m.tree.splits}
    children: dict[int, dict[int, int]] = {}
    for s in m.tree.splits:
        if s.parent >= 0:
            children.setdefault(s.parent, {})[s.side] = s.node
    positions: list[tuple[float, float, str, bool]] = []
    edges: list[tuple[float, float, float, float, str]] = []
    stack = [(m.tree.splits[0].node if m.tree.splits else 0, 0.0, 0.0, 2.0, len(fit.dataset.samples))]
    while stack:
        node, x, y, width, n_samples = stack.pop()
        s = split_at.get(node)
        if s is None:
            positions.append((x, y, f"leaf\n{n_samples} samples", False))
            continue
        positions.append((x, y, f"{names[s.regulator]} ({s.kind} split)\nthreshold {s.threshold:.2f}", True))
        for side, n_child in ((0, len(s.left)), (1, len(s.right))):
            cx = x + (-1 if side == 0 else 1) * width / 2
            edges.append((x, y, cx, y - 1, "<=" if side == 0 else ">"))
            child = children.get(node, {}).get(side)
            if child is not None:
                stack.append((child, cx, y - 1, width / 2, n_child))
            else:
                positions.append((cx, y - 1, f"leaf\n{n_child} samples", False))
    return positions, edges


def plot_module_trees(fit: GnetFit, output: str | Path) -> None:
    """Multi-page PDF: one regulatory tree per module (figure 3.1b)."""
    plt = pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    with atomic_path(output) as tmp, PdfPages(tmp) as pdf:
        for k, m in enumerate(fit.modules):
            positions, edges = _tree_layout(fit, k)
            fig, ax = plt.subplots(figsize=(7, 4.5))
            ax.axis("off")
            ax.set_title(f"module {k + 1}: regulatory tree ({len(m.targets)} genes)")
            for x0, y0, x1, y1, lab in edges:
                ax.plot([x0, x1], [y0, y1], color="0.5", lw=1, zorder=1)
                ax.text((x0 + x1) / 2, (y0 + y1) / 2, lab, fontsize=7, color="0.3", ha="center")
            for x, y, label, internal in positions:
                ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=2,
                        bbox={"boxstyle": "round", "fc": "#cfe2f3" if internal else "#f4f4f4", "ec": "0.4"})
            xs = [p[0] for p in positions]
            ys = [p[1] for p in positions]
            ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
            ax.set_ylim(min(ys) - 0.6, 0.6)
            pdf.savefig(fig)
            plt.close(fig)
        if not fit.modules:
            fig = plt.figure()
            fig.text(0.5, 0.5, "no modules", ha="center")
            pdf.savefig(fig)
            plt.close(fig)


def plot_module_correlation(fit: GnetFit, output: str | Path, seed: int = 0) -> None:
    """Module scores and within-module |correlation| distributions vs a random gene group (PNG)."""
    plt = pyplot()
    ds = fit.dataset
    rng = np.random.default_rng(seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    names = [str(k + 1) for k in range(len(fit.modules))]
    ax1.bar(names, [m.score for m in fit.modules], color="#4a7ab5")
    for i, m in enumerate(fit.modules):
        ax1.text(i, m.score, f"{len(m.targets)}", ha="center", va="bottom", fontsize=7)
    ax1.set_xlabel("module (bar label: genes)")
    ax1.set_ylabel("module score (mean pairwise correlation)")
    ax1.axhline(0, color="0.3", lw=0.8)
    data, labels = [], []
    for k, m in enumerate(fit.modules):
        idx = np.asarray(m.targets)
        if idx.size > 200:
            idx = rng.choice(idx, 200, replace=False)
        if idx.size < 2:
            continue
        c = np.corrcoef(ds.target_expr[idx])
        data.append(np.abs(c[np.triu_indices(idx.size, 1)]))
        labels.append(str(k + 1))
    n = min(200, len(ds.targets))
    ridx = rng.choice(len(ds.targets), n, replace=False)
    c = np.corrcoef(ds.target_expr[ridx])
    data.append(np.abs(c[np.triu_indices(n, 1)]))
    labels.append("random")
    if data:
        ax2.boxplot(data, showfliers=False)
        ax2.set_xticks(range(1, len(labels) + 1), labels)
    ax2.set_xlabel("module")
    ax2.set_ylabel("|pairwise Pearson correlation| of targets")
    fig.tight_layout()
    save_figure(fig, output)
