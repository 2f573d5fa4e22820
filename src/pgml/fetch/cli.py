"""``pgml fetch <source>``: public data into a directory, through the shared cache.

Steps: ``sources`` (the table of sources), ``pdb``, ``pdb-query``, ``scope``, ``alphafold``, ``casp``,
``genome``, ``annotation``, ``encode``, ``synapse``, ``weights``, ``uniref``. Every download step takes
``--output-dir``, ``--manifest``, ``--offline``, ``--cache``, ``--base-url`` and ``--plan`` (print the
files, total size, licence and login, then stop). Exit status: 0 when every item arrived, 3 when some
failed (the others are written; each failure is one line naming the item and the URL), 2 on a usage
or input error. Defaults come from :mod:`pgml.fetch.params`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from pgml.cliargs import output_dir, output_file
from pgml.errors import InputError
from pgml.fetch import params

log = logging.getLogger(__name__)

#: exit status when some items failed and the others were written
SOME_FAILED = 3


def _settings(args: argparse.Namespace):
    from pgml.fetch.http import Settings

    return Settings(connect_timeout=args.connect_timeout, read_timeout=args.read_timeout, retries=args.retries,
                    backoff=args.backoff, rate=args.rate)


def _context(args: argparse.Namespace):
    from pgml.fetch.cache import Cache, cache_root
    from pgml.fetch.http import Client

    cache = Cache(cache_root(args.cache))
    client = None if args.offline else Client(_settings(args))
    return cache, client


def _ids(args: argparse.Namespace) -> list[tuple[str, str]]:
    from pgml.fetch.sources import gather_ids

    found = gather_ids(args.ids, args.id_list)
    if not found:
        raise InputError("give identifiers with --ids or list files with --id-list")
    return found


def _bases(args: argparse.Namespace, source: str) -> dict[str, str]:
    from pgml.fetch.sources import SOURCES, parse_base_urls

    return parse_base_urls(args.base_url, SOURCES[source])


def _write_manifest(path: Path, outcomes) -> None:
    import pandas as pd

    from pgml.tables import write_tsv

    rows = []
    for o in outcomes:
        rec = {"name": o.item.name, "file": o.item.out_name if o.ok else "", "url": o.url or "",
               "size": o.path.stat().st_size if o.ok else "", "sha256": o.sha256 or "", "from_cache": o.cached,
               "status": "ok" if o.ok else "failed", "error": o.error or ""}
        rows.append(rec)
    write_tsv(pd.DataFrame(rows, columns=["name", "file", "url", "size", "sha256", "from_cache", "status",
                                          "error"]), path)


def run_items(args: argparse.Namespace, source: str, build: Callable) -> int:
    """Build the items (``build(client, cache)``), then plan or fetch them; the exit status."""
    from pgml.fetch.core import failure_lines, fetch_items
    from pgml.fetch.http import FetchError
    from pgml.fetch.plan import plan_lines
    from pgml.fetch.sources import SOURCES

    if not args.plan and args.output_dir is None:
        raise InputError("--output-dir is required (or --plan to see what would be fetched)")
    cache, client = _context(args)
    try:
        try:
            items = build(client, cache)
        except FetchError as err:
            print(f"pgml fetch {args.step}: failed: {err}", file=sys.stderr)
            return SOME_FAILED
        if args.plan:
            print("\n".join(plan_lines(SOURCES[source], items, cache=cache, client=client, offline=args.offline)))
            return 0
        outcomes = fetch_items(items, args.output_dir, cache=cache, client=client, offline=args.offline)
    finally:
        if client is not None:
            client.close()
    if args.manifest:
        _write_manifest(args.manifest, outcomes)
    failed = failure_lines(outcomes)
    arrived = sum(o.ok for o in outcomes)
    log.info("%s: %d of %d arrived (%d from the cache %s), %d failed", source, arrived, len(outcomes),
             sum(o.cached for o in outcomes), cache.root, len(failed))
    if failed:
        if args.offline:
            print(f"pgml fetch {args.step}: offline: {len(failed)} item(s) not in the cache {cache.root}; "
                  "run once with the network to fill it:", file=sys.stderr)
        for line in failed:
            print(f"pgml fetch {args.step}: failed: {line}", file=sys.stderr)
        if len(failed) > args.max_failures:
            return SOME_FAILED
        print(f"pgml fetch {args.step}: warning: {len(failed)} of {len(outcomes)} item(s) missing, within "
              f"--max-failures {args.max_failures}; the manifest lists them", file=sys.stderr)
    return 0


# ---- steps


def _sources(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import SOURCES

    print("| source | URL templates | size | login | checksum | licence |")
    print("|---|---|---|---|---|---|")
    for s in SOURCES.values():
        templates = "<br>".join(f"`{m.base}{path}`" for m in s.mirrors for path in m.paths.values())
        name = f"{s.name} (opt-in)" if s.opt_in else s.name
        print(f"| {name}: {s.title} | {templates} | {s.size} | {s.login} | {s.checksum} | {s.licence} |")
    return 0


def _pdb(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import pdb_items

    ids, bases = _ids(args), _bases(args, "pdb")
    return run_items(args, "pdb", lambda client, cache: pdb_items(ids, fmt=args.format, mirrors=args.mirrors,
                                                                  base_urls=bases))


def _scope(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import scope_items

    ids, bases = _ids(args), _bases(args, "scope")
    return run_items(args, "scope", lambda client, cache: scope_items(ids, version=args.version, base_urls=bases))


def _alphafold(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import alphafold_items

    ids, bases = _ids(args), _bases(args, "alphafold")
    return run_items(args, "alphafold",
                     lambda client, cache: alphafold_items(ids, version=args.version, base_urls=bases))


def _casp(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import casp_items

    ids = _ids(args) if args.kind == "server-models" else []
    bases = _bases(args, "casp")
    return run_items(args, "casp", lambda client, cache: casp_items(args.kind, round_=args.round, targets=ids,
                                                                    files=args.files or (), base_urls=bases))


def _genome(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import genome_items

    bases = _bases(args, "genome")
    return run_items(args, "genome", lambda client, cache: genome_items(args.files, base_urls=bases))


def _annotation(args: argparse.Namespace) -> int:
    from pgml.fetch.annotation import write_annotation

    for name, path in write_annotation(args.gtf, args.output_dir, prefix=args.prefix, cpg=args.cpg).items():
        log.info("%s: %s", name, path)
    return 0


def _by_accession(args: argparse.Namespace, source: str, build: Callable) -> int:
    """ENCODE and Synapse: metadata online; offline, the cached files of each accession."""
    from pgml.fetch.sources import SOURCES, mirror_urls

    ids, bases = _ids(args), _bases(args, source)

    def items(client, cache):
        if client is None:
            from pgml.fetch.providers import offline_items

            kind_field = {"encode": "acc", "synapse": "syn"}[source]
            return offline_items(cache, source, [v.strip() for _, v in ids],
                                 lambda name: mirror_urls(SOURCES[source], "metadata", base_urls=bases,
                                                          **{kind_field: name})[0])
        return build(client, ids, base_urls=bases)

    return run_items(args, source, items)


def _encode(args: argparse.Namespace) -> int:
    from pgml.fetch.providers import encode_items

    return _by_accession(args, "encode", encode_items)


def _synapse(args: argparse.Namespace) -> int:
    from pgml.fetch.providers import synapse_items

    return _by_accession(args, "synapse", synapse_items)


def _weights(args: argparse.Namespace) -> int:
    from pgml.fetch.weights import weights_items

    ids, bases = _ids(args), _bases(args, "weights")
    return run_items(args, "weights", lambda client, cache: weights_items(ids, base_urls=bases))


def _uniref(args: argparse.Namespace) -> int:
    from pgml.fetch.sources import uniref_items

    bases = _bases(args, "uniref")
    if not args.yes and not args.offline:
        args.plan = True  # the size first; the download only with --yes
        print(f"{args.database} is large: its size follows; pass --yes to download it", file=sys.stderr)
    return run_items(args, "uniref", lambda client, cache: uniref_items(args.database, base_urls=bases))


def _pdb_query(args: argparse.Namespace) -> int:
    from pgml.fetch.cache import Record, hash_file
    from pgml.fetch.http import FetchError
    from pgml.fetch.providers import RcsbQuery, rcsb_search
    from pgml.fetch.sources import SOURCES, mirror_urls
    from pgml.fileio import write_text

    query = RcsbQuery(method=args.method, max_resolution=args.max_resolution, polymer_type=args.polymer_type,
                      released_after=args.released_after, released_before=args.released_before,
                      max_entries=args.max_entries)
    bases = _bases(args, "rcsb-search")
    url = mirror_urls(SOURCES["rcsb-search"], "query", base_urls=bases)[0]
    key = hashlib.sha256(json.dumps(query.body(), sort_keys=True).encode()).hexdigest()[:16] + ".ids"
    cache, client = _context(args)
    hit = cache.lookup("rcsb-search", key)
    if hit is None or not args.offline:
        if client is None:
            print(f"pgml fetch pdb-query: offline: the query answer is not in the cache {cache.root}: POST {url}",
                  file=sys.stderr)
            return SOME_FAILED
        try:
            ids = rcsb_search(client, query, base_urls=bases)
        except FetchError as err:
            print(f"pgml fetch pdb-query: failed: {err}", file=sys.stderr)
            return SOME_FAILED
        finally:
            client.close()
        part = cache.part_path("rcsb-search", key)
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_text("".join(f"{i}\n" for i in ids))
        sha, _ = hash_file(part)
        hit = cache.store("rcsb-search", key, part, Record(url=url, size=part.stat().st_size, sha256=sha))
    ids = hit.read_text().split()
    if not ids:
        raise InputError(f"the RCSB query matched no entries: {json.dumps(query.body()['query'])[:300]}")
    write_text(args.output, "".join(f"{i}\n" for i in ids))
    log.info("pdb-query: %d entries -> %s", len(ids), args.output)
    return 0


# ---- parser


def _network(p: argparse.ArgumentParser, *, ids: bool = True, writes: bool = True) -> None:
    if ids:
        p.add_argument("--ids", nargs="+", default=None, metavar="ID", help="identifiers")
        p.add_argument("--id-list", type=Path, nargs="+", default=None, metavar="FILE",
                       help="list files: the first column of each non-comment line is an identifier")
    if writes:
        output_dir(p, "--output-dir", default=None, help="directory the files are written to")
        output_file(p, "--manifest", default=None, help="TSV written beside: name, file, url, size, sha256, status")
        p.add_argument("--plan", action="store_true",
                       help="print the files, total size, licence and login needed; download nothing")
        p.add_argument("--max-failures", type=int, default=params.MAX_FAILURES,
                       help="failed items tolerated (exit 0 with a warning) before exit status 3")
    p.add_argument("--offline", action="store_true", help="read only the cache; list every missing item")
    p.add_argument("--cache", type=Path, default=None,
                   help="content cache (default: $PGML_CACHE, else the user's cache directory/pgml)")
    p.add_argument("--base-url", nargs="+", default=None, metavar="[MIRROR=]URL",
                   help="replace a mirror's base URL (a bare URL: the first mirror's)")
    p.add_argument("--retries", type=int, default=params.RETRIES, help="retries on connection errors, 429 and 5xx")
    p.add_argument("--backoff", type=float, default=params.BACKOFF, help="backoff factor (s), doubled per retry")
    p.add_argument("--rate", type=float, default=params.RATE, help="requests per second per host (0: no limit)")
    p.add_argument("--connect-timeout", type=float, default=params.CONNECT_TIMEOUT, help="seconds")
    p.add_argument("--read-timeout", type=float, default=params.READ_TIMEOUT, help="seconds")


def register(steps: argparse._SubParsersAction) -> None:
    """Add the sources to ``pgml fetch``."""
    from pgml.fetch.sources import GENOME_FILES

    p = steps.add_parser("sources", help="print the table of sources (URL templates, size, login, checksum, licence)")
    p.set_defaults(func=_sources)

    p = steps.add_parser("pdb", help="PDB entries (or the entries of PDB chains) from RCSB PDB, PDBj, wwPDB")
    _network(p)
    p.add_argument("--format", choices=params.PDB_FORMATS, default="cif", help="mmCIF (default) or PDB format")
    p.add_argument("--mirrors", nargs="+", choices=params.PDB_MIRRORS, default=list(params.PDB_MIRRORS),
                   help="mirrors, tried in this order")
    p.set_defaults(func=_pdb)

    p = steps.add_parser("pdb-query", help="entry ids from the RCSB search API (method, resolution, polymer, date)")
    _network(p, ids=False, writes=False)
    output_file(p, "--output", required=True, help="id list written: one PDB id per line")
    p.add_argument("--method", default=params.RCSB_METHOD, help="experimental method (exptl.method)")
    p.add_argument("--max-resolution", type=float, default=params.RCSB_MAX_RESOLUTION, help="Å, exclusive")
    p.add_argument("--polymer-type", default=params.RCSB_POLYMER_TYPE, help="entity polymer type (Protein)")
    p.add_argument("--released-after", default=None, help="YYYY-MM-DD, inclusive")
    p.add_argument("--released-before", default=None, help="YYYY-MM-DD, exclusive")
    p.add_argument("--max-entries", type=int, default=None, help="the first N ids (sorted)")
    p.set_defaults(func=_pdb_query)

    p = steps.add_parser("scope", help="SCOPe/ASTRAL pdb-style domain files by sid (HomologyTAPE)")
    _network(p)
    p.add_argument("--version", default=params.SCOPE_VERSION, help="SCOPe release")
    p.set_defaults(func=_scope)

    p = steps.add_parser("alphafold", help="AlphaFold DB models by UniProt accession")
    _network(p)
    p.add_argument("--version", type=int, default=params.ALPHAFOLD_VERSION, help="model version")
    p.set_defaults(func=_alphafold)

    p = steps.add_parser("casp", help="CASP prediction center: target list, targets, server models")
    _network(p)
    p.add_argument("--kind", choices=params.CASP_KINDS, default="server-models")
    p.add_argument("--round", type=int, default=params.CASP_ROUND, help="CASP round (14)")
    p.add_argument("--files", nargs="+", default=None, help="target tarball names (--kind targets)")
    p.set_defaults(func=_casp)

    p = steps.add_parser("genome", help="hg19, chrom sizes, Duke 35-bp uniqueness, blacklist, CpG islands, GENCODE GTF")
    _network(p, ids=False)
    p.add_argument("--files", nargs="+", choices=GENOME_FILES, default=list(GENOME_FILES))
    p.set_defaults(func=_genome)

    p = steps.add_parser("annotation", help="GENCODE GTF -> the six annotation BEDs (+ CpG islands BED)")
    p.add_argument("--gtf", type=Path, required=True, help="GENCODE GTF (gzipped or not)")
    p.add_argument("--cpg", type=Path, default=None, help="UCSC cpgIslandExt.txt.gz")
    p.add_argument("--prefix", default="gencode.basic", help="file name prefix")
    output_dir(p, "--output-dir", required=True, help="directory the BEDs are written to")
    p.set_defaults(func=_annotation)

    p = steps.add_parser("encode", help="ENCODE portal files by accession, checked against the portal's md5")
    _network(p)
    p.set_defaults(func=_encode)

    p = steps.add_parser("synapse", help=f"Synapse files (needs ${params.SYNAPSE_TOKEN_ENV})")
    _network(p)
    p.set_defaults(func=_synapse)

    p = steps.add_parser("weights", help="the authors' published weights by name (deepgrn:MAX_single, enqa:EGNN_Full)")
    _network(p)
    p.set_defaults(func=_weights)

    p = steps.add_parser("uniref", help="UniRef90 / UniRef30 (opt-in: prints the size; downloads with --yes)")
    _network(p, ids=False)
    p.add_argument("--database", choices=("uniref90", "uniref30"), required=True)
    p.add_argument("--yes", action="store_true", help="download (without it: print the size and stop)")
    p.set_defaults(func=_uniref)
