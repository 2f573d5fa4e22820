"""The fold chain: intrinsic-extrinsic convolution and pooling on protein multigraphs [ieconv]."""
