"""qa chain: protein model quality assessment with AlphaFold2-derived features and an E(n)-equivariant
graph network (EnQA, [enqa]): per-residue lDDT of a model without its native structure."""
