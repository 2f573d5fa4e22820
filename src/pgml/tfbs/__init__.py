"""tfbs: transcription-factor binding sites from genome, DNase-seq, ChIP-seq and RNA-seq (DeepGRN [deepgrn]).

Preprocessing (:mod:`~pgml.tfbs.bins`, :mod:`~pgml.tfbs.labels`, :mod:`~pgml.tfbs.coverage`,
:mod:`~pgml.tfbs.expression`, :mod:`~pgml.tfbs.annotate`), the window dataset
(:mod:`~pgml.tfbs.windows`), the model (:mod:`~pgml.tfbs.attention`, :mod:`~pgml.tfbs.model`),
training, prediction and evaluation, and the demo simulator (:mod:`~pgml.tfbs.simulate`).
"""
