"""pgml: machine-learning methods for proteins and their interactions with the genome.

One subpackage per chain (``bfactor``, ``grn``, ...) plus shared layers: ``structure`` (parsing,
bonds, neighbour search, atom graphs) and ``train`` (training loop, checkpoints, metrics).
"""

__version__ = "0.1.0"
