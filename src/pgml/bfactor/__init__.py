"""The bfactor chain: per-atom B-factor prediction from X-ray structures.

Reimplements the atom-graph models of [metagnn] (Meta-GNN, i.e. a MetaLayer with an edge MLP update
and a GAT-style node update, plus GCN, GAT, MPN, Graph U-Net, TransformerConv and EGNN).
Steps: select structures -> build atom graphs (sharded) -> split -> train -> predict -> evaluate.
"""
