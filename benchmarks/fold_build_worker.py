"""Time fold graph building per structure, by stage, with whichever ``pgml`` is first on ``sys.path``.

Run by ``benchmarks/fold_speed.py`` twice in one run: once on the current source tree and once on the
anchor commit's ``src`` (``git archive``), so both implementations are timed on the same structures
in the same run. Prints one JSON object per structure: seconds per stage (wall clock), CPU seconds
(of the worker and of the programs it runs, mkdssp),
a SHA-256 of the built samples (arrays and values; the ``hbond_source`` label, which names the program
and so differs by design, is left out and printed apart) and one SHA-256 per sample key, so the two
implementations can be checked for identical output and, where they differ, in what.

``--rounds R`` builds the list R times and ``--start-at T`` waits after the warm-up until the clock reads
T (seconds since the epoch), so that two workers started together build their shards at the same time;
the last line then gives the wall-clock window of all rounds (``{"window": ...}``).

Stages: ``parse`` (read_structure, the numbering check, EC numbers), ``dssp`` (backbone_hbonds),
``bonds`` (covalent_bonds), ``hops`` (hop_pairs), ``pooling`` (atom_clusters, consecutive_pairs,
pooled_edges), ``other`` (the rest of build_sample: atom types and features, H-bond atom pairs),
``save`` (torch.save of the samples). Stage timers wrap the module functions ``pgml.fold.graph``
calls, which both implementations share by name.

    python benchmarks/fold_build_worker.py --threads 1 STRUCTURE ...
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import time
from collections import defaultdict

#: sample keys left out of the identity digest (they name the H-bond program, not what it found)
LABELS = ("hbond_source",)


def digest(samples: list[dict], only: str | None = None) -> str:
    """SHA-256 of the samples' arrays and values (all keys but LABELS, or only the key ``only``)."""
    import numpy as np

    h = hashlib.sha256()

    def feed(value) -> None:
        if isinstance(value, np.ndarray):
            h.update(str(value.dtype).encode() + str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (list, tuple)):
            h.update(b"[")
            for v in value:
                feed(v)
            h.update(b"]")
        elif isinstance(value, dict):
            for k in sorted(value):
                h.update(str(k).encode())
                feed(value[k])
        else:
            h.update(repr(value).encode())

    for s in samples:
        feed({k: v for k, v in s.items() if (k == only if only else k not in LABELS)})
    return h.hexdigest()


def cpu_seconds() -> float:
    """CPU seconds of this process and of the programs it ran (mkdssp), user and system."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("structures", nargs="+")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--start-at", type=float, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    import torch

    torch.set_num_threads(args.threads)
    from pgml.fold import graph

    spent: dict[str, float] = defaultdict(float)

    def timed(stage: str, fn):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[stage] += time.perf_counter() - t
        return wrapper

    for name, stage in (("read_structure", "parse"), ("check_numbering", "parse"), ("ec_numbers", "parse"),
                        ("backbone_hbonds", "dssp"), ("covalent_bonds", "bonds"), ("hop_pairs", "hops"),
                        ("atom_clusters", "pooling"), ("consecutive_pairs", "pooling"),
                        ("pooled_edges", "pooling")):
        setattr(graph, name, timed(stage, getattr(graph, name)))
    graph.structure_samples([*args.structures][0])  # warm-up: imports, tables, mkdssp's dictionary
    if args.start_at is not None:
        time.sleep(max(args.start_at - time.time(), 0.0))
    window, window_cpu = time.time(), cpu_seconds()
    for _ in range(args.rounds):
        for path in args.structures:
            best: dict | None = None
            for _ in range(args.repeats):
                spent.clear()
                cpu = cpu_seconds()
                t = time.perf_counter()
                samples = graph.structure_samples(path)
                built = time.perf_counter() - t
                t = time.perf_counter()
                torch.save(samples, io.BytesIO())
                save = time.perf_counter() - t
                row = dict(spent)
                inner = sum(v for k, v in row.items() if k not in ("parse", "dssp"))
                build_sample_s = built - row.get("parse", 0.0) - row.get("dssp", 0.0)
                row["other"] = max(build_sample_s - inner, 0.0)
                row["save"] = save
                row["total"] = built + save
                row["cpu"] = cpu_seconds() - cpu
                if best is None or row["total"] < best["total"]:
                    best = row
            print(json.dumps({"path": path, "atoms": int(sum(s["n_atoms"] for s in samples)),
                              "hbond_source": samples[0]["hbond_source"], "sha256": digest(samples),
                              "keys": {k: digest(samples, k) for k in samples[0] if k not in LABELS},
                              "n_hbonds": int(sum(s["n_hbonds"] for s in samples)), **best}), flush=True)
    print(json.dumps({"window": [window, time.time()], "cpu": cpu_seconds() - window_cpu}), flush=True)


if __name__ == "__main__":
    main()
