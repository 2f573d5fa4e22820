"""The grn chain: gene regulatory modules from expression data (GNET2, ported from R to Python).

GNET2 ([dissertation], chapter 3; [gnet2]; Bioconductor package GNET2 1.5.5 is the behavioural reference) finds
regulatory modules: groups of target genes whose expression is explained by a small regression tree
on regulator expression. Modules are initialised by k-means on xgboost importances (``boosting``) or
on expression (``kmeans``), then trees (:mod:`pgml.grn.tree`) and gene assignments
(:mod:`pgml.grn.gnet`) are refined in turn until the assignment no longer changes.

Modules: :mod:`~pgml.grn.data` (input, validation), :mod:`~pgml.grn.likelihood` (eqs 3.15-3.17),
:mod:`~pgml.grn.splits` (low/neutral/high split table), :mod:`~pgml.grn.tree`,
:mod:`~pgml.grn.initialise`, :mod:`~pgml.grn.gnet`, :mod:`~pgml.grn.edges` (eqs 3.18-3.19),
:mod:`~pgml.grn.result` (save/load), :mod:`~pgml.grn.coherence` (section 3.3.4),
:mod:`~pgml.grn.simulate`, :mod:`~pgml.grn.baselines`, :mod:`~pgml.grn.evaluate`, :mod:`~pgml.grn.plots`.
"""
