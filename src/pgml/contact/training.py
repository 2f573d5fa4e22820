"""Features, the Lightning module and the training entry point of ATTContact [attcontact].

One target = 1D features (sigmoid of the PSSM scores and the query one-hot, 40 x L), the PLM
couplings (441 x L x L) with the APC-corrected score map as channel 442 (standardised per target),
and the native 8 Å contact map. Each network has its own loss, the binary cross-entropy over pairs at
separation >= 6 with a known distance: ``attcontact`` sums the sequence-attention and the
regional-attention networks' losses (they share no parameter, so each is trained as the chapter
trains it alone; the ensemble, their mean, is logged as ``train_loss_attcontact``), ``noattention``
has one. Training follows section 4.2.4 of [dissertation]:
batch size 1, Adam (lr 1e-3) and, from epoch ``sgd_epoch``, SGD (lr 0.01, momentum 0.9) — both
optimisers are kept by Lightning (manual optimisation) so a resumed run continues with the right one
— and model selection on the validation long-range top-L/2 precision, through
:func:`pgml.train.loop.fit` (checkpoints, resume after a kill).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch

from pgml.contact.alignment import ALPHABET
from pgml.contact.contacts import CONTACT_CUTOFF, precision_table
from pgml.contact.model import ATTContact, ContactOutput
from pgml.contact.params import TrainParams
from pgml.errors import InputError

log = logging.getLogger(__name__)
MIN_SEPARATION = 6


@dataclass
class Target:
    name: str
    sequence: str
    x: np.ndarray  # (40, L)
    plm: np.ndarray  # (442, L, L) float16: couplings and the standardised APC map
    apc: np.ndarray  # (L, L)
    neff: float
    distances: np.ndarray | None  # (L, L), NaN where unknown


def features_1d(sequence: str, pssm: np.ndarray) -> np.ndarray:
    """``(40, L)``: sigmoid of the PSSM scores (bits) and the query one-hot (ambiguous: zero)."""
    onehot = np.zeros((len(sequence), 20), dtype=np.float32)
    for i, a in enumerate(sequence):
        k = ALPHABET.find(a)
        if 0 <= k < 20:
            onehot[i, k] = 1.0
    return np.concatenate([1.0 / (1.0 + np.exp(-pssm)), onehot], axis=1).T.astype(np.float32)


def load_target(plm_path: Path, pssm_path: Path, structure: Path | None) -> Target:
    """Read one target's PLM ``.npz``, PSSM TSV and (when given) native structure."""
    from pgml.contact.contacts import check_query, native_contacts
    from pgml.contact.pssm import read_pssm

    with np.load(plm_path) as data:
        sequence, neff = str(data["query"]), float(data["neff"])
        couplings, apc = data["couplings"], data["apc"]
    pssm = read_pssm(pssm_path)
    if pssm.shape[0] != len(sequence):
        raise InputError(f"PSSM has {pssm.shape[0]} rows, the alignment's query {len(sequence)} residues",
                         path=pssm_path)
    distances = None
    if structure is not None:
        native = native_contacts(structure)
        check_query(sequence, native, str(plm_path))
        distances = native.distances
    scaled = (apc - apc.mean()) / (apc.std() + 1e-6)
    plm = np.concatenate([couplings.transpose(2, 0, 1), scaled[None].astype(np.float16)], axis=0)
    return Target(plm_path.name.split(".")[0], sequence, features_1d(sequence, pssm), np.ascontiguousarray(plm),
                  apc, neff, distances)


class TargetDataset(torch.utils.data.Dataset):
    def __init__(self, targets: list[Target]) -> None:
        self.targets = targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:
        t = self.targets[k]
        dist = np.nan_to_num(t.distances, nan=np.inf) if t.distances is not None else None
        length = len(t.sequence)
        sep = np.abs(np.subtract.outer(np.arange(length), np.arange(length)))
        known = (~np.isnan(t.distances)) & (sep >= MIN_SEPARATION) if t.distances is not None else None
        item = {"x": torch.from_numpy(t.x), "plm": torch.from_numpy(t.plm.astype(np.float32))}
        if dist is not None:
            item["y"] = torch.from_numpy((dist < CONTACT_CUTOFF).astype(np.float32))
            item["mask"] = torch.from_numpy(known)
            item["distances"] = torch.from_numpy(t.distances.astype(np.float32))
        return item


def _unbatched(batch: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Batch size 1: add the batch axis to the one target."""
    (item,) = batch
    return {k: v[None] for k, v in item.items()}


def module_losses(out: ContactOutput, y: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """Binary cross-entropy of every map of ``out`` over the masked pairs, by module name."""
    return {name: torch.nn.functional.binary_cross_entropy(prob[mask].clamp(1e-6, 1 - 1e-6), y[mask])
            for name, prob in out.maps.items()}


class ContactModule(pl.LightningModule):
    """ATTContact with Adam then SGD (manual optimisation) and validation long-range top-L/2 precision."""

    def __init__(self, hidden: int = TrainParams.hidden, heads: int = TrainParams.heads,
                 width: int = TrainParams.width, blocks: tuple[int, ...] = TrainParams.blocks,
                 maxout: int = TrainParams.maxout, lr_adam: float = TrainParams.lr_adam,
                 lr_sgd: float = TrainParams.lr_sgd, sgd_epoch: int = TrainParams.sgd_epoch,
                 variant: str = TrainParams.variant) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.model = ATTContact(hidden=hidden, heads=heads, width=width, blocks=tuple(blocks), maxout=maxout,
                                variant=variant)
        self._val: list[float] = []

    def forward(self, x: torch.Tensor, plm: torch.Tensor) -> ContactOutput:
        return self.model(x, plm)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        adam, sgd = self.optimizers()
        opt = adam if self.current_epoch < self.hparams.sgd_epoch else sgd
        out = self(batch["x"], batch["plm"])
        losses = module_losses(out, batch["y"], batch["mask"])
        # each network its own loss; the ensemble's ("attcontact") is logged, not trained on
        loss = sum(v for k, v in losses.items() if k != "attcontact")
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=1)
        for name, value in losses.items():
            self.log(f"train_loss_{name}", value, on_step=False, on_epoch=True, batch_size=1)
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        prob = self(batch["x"], batch["plm"]).prob[0].detach().float().cpu().numpy()
        table = precision_table(prob, batch["distances"][0].cpu().numpy())
        self._val.append(table["long_L/2"])

    def on_validation_epoch_end(self) -> None:
        if self._val:
            self.log("val_long_L2", float(np.nanmean(self._val)) if not np.all(np.isnan(self._val)) else 0.0,
                     prog_bar=True)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        hp = self.hparams
        return [torch.optim.Adam(self.parameters(), lr=hp.lr_adam),
                torch.optim.SGD(self.parameters(), lr=hp.lr_sgd, momentum=0.9)]


def train_model(train: list[Target], val: list[Target], out: Path, params: TrainParams, seed: int,
                device: str = "auto") -> Path:
    """Train through :func:`pgml.train.loop.fit`; returns the best checkpoint (``model.ckpt``)."""
    from pgml.train.loop import fit
    from pgml.train.seed import seed_everything

    seed_everything(seed)
    module = ContactModule(hidden=params.hidden, heads=params.heads, width=params.width, blocks=params.blocks,
                           maxout=params.maxout, lr_adam=params.lr_adam, lr_sgd=params.lr_sgd,
                           sgd_epoch=params.sgd_epoch, variant=params.variant)
    generator = torch.Generator().manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(TargetDataset(train), batch_size=1, shuffle=True,
                                               collate_fn=_unbatched, generator=generator)
    val_loader = torch.utils.data.DataLoader(TargetDataset(val), batch_size=1, collate_fn=_unbatched)
    result = fit(module, train_loader, val_loader, out, max_epochs=params.epochs, monitor="val_long_L2",
                 mode="max", patience=params.patience, seed=seed, device=device)
    log.info("best validation long-range top-L/2 precision %.3f after %d epochs", result.best_score, result.epochs_run)
    return result.best_path


def load_module(path: Path) -> ContactModule:
    """The trained module of a ``model.ckpt``; :class:`InputError` naming the file for anything else."""
    import pickle

    if not Path(path).is_file():
        raise InputError("model checkpoint not found", path=path)
    try:
        return ContactModule.load_from_checkpoint(path, map_location="cpu")
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise InputError(f"not an ATTContact checkpoint: {type(exc).__name__}: {str(exc)[:200]}", path=path) from None


@dataclass
class Prediction:
    """Maps ``(L, L)`` by module name (the variant's own first), and the attention weights when any."""

    maps: dict[str, np.ndarray]
    sequence_weights: np.ndarray | None  # (L, L)
    regional_weights: np.ndarray | None  # (L, L, n^2)


@torch.no_grad()
def predict(module: ContactModule, target: Target, device: torch.device,
            attention_off: tuple[str, ...] = ()) -> Prediction:
    """Every module's contact probabilities and the attention weights of one target."""
    module.eval().to(device)
    x = torch.from_numpy(target.x)[None].to(device)
    plm = torch.from_numpy(target.plm.astype(np.float32))[None].to(device)
    out = module.model(x, plm, attention_off=attention_off)

    def numpy(t: torch.Tensor | None) -> np.ndarray | None:
        return None if t is None else t.float().cpu().numpy()

    return Prediction({k: v[0].float().cpu().numpy() for k, v in out.maps.items()}, numpy(out.sequence_weights),
                      numpy(out.regional_weights))
