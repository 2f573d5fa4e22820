"""Shared training layer used by every chain: seeding, device choice, optimisers and the
Lightning-based training loop (:func:`pgml.train.loop.fit`)."""
