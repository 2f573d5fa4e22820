"""The public sources, each with its URL templates written once and configurable base URLs.

A :class:`Source` has mirrors tried in order; a mirror is a base URL and a path template per kind of
file. Mirror names are unique across sources, so config ``fetch.base_urls`` is one mapping. ``--base-url NAME=URL`` (config ``fetch.base_urls``) replaces a mirror's base; a bare ``URL``
replaces the first mirror's. The table printed by ``pgml fetch sources`` (and in the README) comes from
:data:`SOURCES`. Item builders turn identifiers into :class:`~pgml.fetch.core.Item` lists and refuse a
malformed identifier with one line naming the file and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pgml.errors import InputError
from pgml.fetch import params
from pgml.fetch.core import Item


@dataclass(frozen=True)
class Mirror:
    name: str
    base: str
    #: kind of file -> path template after the base ({id}, {ID}, {mid}, {sid}, ...)
    paths: Mapping[str, str]


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    chains: tuple[str, ...]
    mirrors: tuple[Mirror, ...]
    size: str
    login: str
    checksum: str
    licence: str
    #: never fetched unless asked for by name (large sequence databases)
    opt_in: bool = False

    def mirror(self, name: str) -> Mirror:
        for m in self.mirrors:
            if m.name == name:
                return m
        raise InputError(f"{self.name}: no mirror {name!r}; mirrors: {', '.join(m.name for m in self.mirrors)}")


_PDB_DIVIDED = "/pub/pdb/data/structures/divided"
SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("pdb", "PDB entries (RCSB PDB, PDBj, wwPDB archive)", ("bfactor", "fold"), (
        Mirror("rcsb", "https://files.rcsb.org", {"cif": "/download/{ID}.cif.gz", "pdb": "/download/{ID}.pdb.gz"}),
        Mirror("pdbj", "https://ftp.pdbj.org", {"cif": _PDB_DIVIDED + "/mmCIF/{mid}/{id}.cif.gz",
                                                 "pdb": _PDB_DIVIDED + "/pdb/{mid}/pdb{id}.ent.gz"}),
        Mirror("wwpdb", "https://files.wwpdb.org", {"cif": _PDB_DIVIDED + "/mmCIF/{mid}/{id}.cif.gz",
                                                     "pdb": _PDB_DIVIDED + "/pdb/{mid}/pdb{id}.ent.gz"}),
    ), "~0.05-5 MB per entry", "no", "sha256 recorded on first download", "CC0 1.0 (wwPDB)"),
    Source("rcsb-search", "RCSB search API: entry ids matching a query (method, resolution, polymer, date)",
           ("bfactor",), (Mirror("rcsb-search", "https://search.rcsb.org", {"query": "/rcsbsearch/v2/query"}),),
           "a few kB", "no", "none (a query answer)", "CC0 1.0 (wwPDB)"),
    Source("scope", "SCOPe/ASTRAL pdb-style domain files by sid (HomologyTAPE)", ("fold",), (
        Mirror("scope", "https://scop.berkeley.edu",
               {"domain": "/astral/pdbstyle/ver={version}&id={sid}&output=text"}),
    ), "~10-200 kB per domain", "no", "sha256 recorded on first download", "SCOPe terms: free use, cite SCOPe"),
    Source("casp", "CASP prediction center: target list, target structures, server models", ("qa",), (
        Mirror("casp", "https://predictioncenter.org", {
            "target-list": "/casp{round}/targetlist.cgi?type=csv",
            "targets": "/download_area/CASP{round}/targets/{file}",
            "server-models": "/download_area/CASP{round}/server_predictions/{target}.tar.gz",
        }),
    ), "~1-50 MB per target's server models", "no", "sha256 recorded on first download",
        "CASP data: free for research, cite CASP"),
    Source("alphafold", "AlphaFold DB models by UniProt accession (pLDDT-only references)", ("qa",), (
        Mirror("afdb", "https://alphafold.ebi.ac.uk", {"model": "/files/AF-{acc}-F1-model_v{version}.pdb"}),
    ), "~0.1-2 MB per model", "no", "sha256 recorded on first download", "CC BY 4.0"),
    Source("genome", "UCSC hg19 genome, chrom sizes, Duke 35-bp uniqueness, ENCODE DAC blacklist, CpG islands; "
           "GENCODE v19 GTF", ("tfbs",), (
        Mirror("ucsc", "https://hgdownload.soe.ucsc.edu", {
            "hg19": "/goldenPath/hg19/bigZips/hg19.fa.gz",
            "chrom-sizes": "/goldenPath/hg19/bigZips/hg19.chrom.sizes",
            "duke35": "/goldenPath/hg19/encodeDCC/wgEncodeMapability/wgEncodeDukeMapabilityUniqueness35bp.bigWig",
            "blacklist": "/goldenPath/hg19/encodeDCC/wgEncodeMapability/wgEncodeDacMapabilityConsensusExcludable.bed.gz",
            "cpg": "/goldenPath/hg19/database/cpgIslandExt.txt.gz",
        }),
        Mirror("gencode", "https://ftp.ebi.ac.uk", {
            "gencode": "/pub/databases/gencode/Gencode_human/release_19/gencode.v19.annotation.gtf.gz",
        }),
    ), "hg19 0.9 GB, Duke 35-bp 0.2 GB, GTF 40 MB, BEDs < 1 MB", "no", "sha256 recorded on first download",
        "UCSC/ENCODE/GENCODE: free, no restrictions"),
    Source("encode", "ENCODE portal files by accession (DNase BAMs, ChIP IDR peaks)", ("tfbs",), (
        Mirror("encode", "https://www.encodeproject.org", {"metadata": "/files/{acc}/?format=json",
                                                           "file": "/files/{acc}/@@download/{acc}.{ext}"}),
    ), "peaks ~1 MB, BAMs 1-10 GB", "no", "provider md5 (portal metadata)", "ENCODE: free, cite ENCODE"),
    Source("synapse", "Synapse files (ENCODE-DREAM syn6131484, DREAM5 syn2787209)", ("tfbs", "grn"), (
        Mirror("synapse", "https://repo-prod.prod.sagebase.org", {"metadata": "/repo/v1/entity/{syn}/filehandles",
                                                                   "file": "/repo/v1/entity/{syn}/file"}),
    ), "labels ~10-100 MB per TF", f"yes: Synapse account, challenge terms, token in ${params.SYNAPSE_TOKEN_ENV}",
        "provider md5 (Synapse file handle)", "challenge terms of use (Synapse)"),
    Source("uniref", "UniRef90 / UniRef30 sequence databases for MSA search (opt-in)", ("contact", "qa"), (
        Mirror("uniprot", "https://ftp.uniprot.org", {
            "uniref90": "/pub/databases/uniprot/uniref/uniref90/uniref90.fasta.gz"}),
        Mirror("uniprot-ebi", "https://ftp.ebi.ac.uk", {
            "uniref90": "/pub/databases/uniprot/uniref/uniref90/uniref90.fasta.gz"}),
        Mirror("uniclust", "https://wwwuser.gwdg.de", {
            "uniref30": "/~compbiol/uniclust/2023_02/UniRef30_2023_02_hhsuite.tar.gz"}),
    ), "UniRef90 ~40 GB, UniRef30 ~200 GB unpacked", "no", "sha256 recorded on first download",
        "CC BY 4.0", opt_in=True),
    Source("weights", "the authors' published weights by name: deepgrn:<TF>_single|pair, enqa:<method>",
           ("tfbs", "qa"), (
        Mirror("github", "https://raw.githubusercontent.com", {"file": "/{repo}/{commit}/{path}"}),
    ), "1-4 MB per model", "no", "sha256 pinned in pgml.fetch.weights",
        "DeepGRN Apache-2.0, EnQA GPL-3.0 (never stored in pgml)"),
)}


#: every mirror name (unique across sources), in table order
MIRRORS: tuple[str, ...] = tuple(m.name for s in SOURCES.values() for m in s.mirrors)


def parse_base_urls(values: Iterable[str] | None, source: Source) -> dict[str, str]:
    """``["NAME=URL", "URL"]`` -> {mirror: base}; a bare URL sets ``source``'s first mirror's base.

    Any source's mirror may be named (config ``fetch.base_urls`` is passed whole to every fetch rule);
    a name that is no mirror at all is refused.
    """
    bases: dict[str, str] = {}
    for value in values or ():
        name, sep, url = value.partition("=")
        if not sep or "://" in name:
            name, url = source.mirrors[0].name, value
        if name not in MIRRORS:
            raise InputError(f"--base-url {value}: no mirror {name!r}; mirrors: {', '.join(MIRRORS)}")
        if not re.match(r"^https?://", url):
            raise InputError(f"--base-url {value}: not an http(s) URL")
        bases[name] = url.rstrip("/")
    return bases


def mirror_urls(source: Source, kind: str, *, mirrors: Sequence[str] | None = None,
                base_urls: Mapping[str, str] | None = None, **fields: object) -> list[str]:
    """The URLs of one file, one per mirror that serves ``kind``, in order."""
    chosen = [source.mirror(m) for m in mirrors] if mirrors else list(source.mirrors)
    out = []
    for m in chosen:
        if kind in m.paths:
            base = (base_urls or {}).get(m.name, m.base)
            out.append(base + m.paths[kind].format(**fields))
    return out


# ---- identifiers

PDB_ID = re.compile(r"^[0-9][A-Za-z0-9]{3}$")
SCOPE_SID = re.compile(r"^[dg][0-9][a-z0-9]{3}[a-z0-9_.][a-z0-9_]$")
UNIPROT = re.compile(r"^([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9]([A-Z][A-Z0-9]{2}[0-9]){1,2})$")
CASP_TARGET = re.compile(r"^[TRH][0-9]{4}(s[0-9])?$")
ENCODE_ACC = re.compile(r"^ENC[A-Z]{2}[0-9]{3}[A-Z]{3}$")
SYNAPSE_ID = re.compile(r"^syn[0-9]+$")


def read_id_list(path: Path) -> list[tuple[int, str]]:
    """(line number, first column) of every non-empty, non-comment line of a list file."""
    if not path.is_file():
        raise InputError("is a directory, not a list file" if path.is_dir() else "not found", path=path)
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#"):
            out.append((n, text.split()[0]))
    if not out:
        raise InputError("lists no identifiers", path=path)
    return out


def gather_ids(ids: Sequence[str] | None, id_lists: Sequence[Path] | None) -> list[tuple[str, str]]:
    """(where, identifier) from ``--ids`` and the files of ``--id-list``, in order."""
    out = [("--ids", i) for i in ids or ()]
    for path in id_lists or ():
        out += [(f"{path}: line {n}", i) for n, i in read_id_list(Path(path))]
    return out


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def pdb_entry(where: str, value: str) -> str:
    """The 4-character entry of ``1abc``, ``1ABC.A``, ``1abc_A`` or ``1abcA`` (a chain of ProtFunct)."""
    entry = re.split(r"[._:]", value, maxsplit=1)[0]
    if len(entry) == 5 and PDB_ID.match(entry[:4]):
        entry = entry[:4]
    if not PDB_ID.match(entry):
        raise InputError(f"{value!r} is not a PDB id (4 characters, a digit first) or PDB chain (1abc.A)",
                         path=where.split(": line")[0] if ": line" in where else None, record=where)
    return entry.upper()


def pdb_items(ids: Iterable[tuple[str, str]], *, fmt: str = "cif", mirrors: Sequence[str] | None = None,
              base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["pdb"]
    ext = {"cif": "cif.gz", "pdb": "pdb.gz"}[fmt]
    entries = _unique(pdb_entry(w, v) for w, v in ids)
    return [Item("pdb", e, f"{e}.{ext}", mirror_urls(src, fmt, mirrors=mirrors, base_urls=base_urls,
                                                     ID=e, id=e.lower(), mid=e.lower()[1:3]))
            for e in entries]


def _checked(ids: Iterable[tuple[str, str]], pattern: re.Pattern, what: str, normalise=str.strip) -> list[str]:
    out = []
    for where, value in ids:
        value = normalise(value)
        if not pattern.match(value):
            raise InputError(f"{value!r} is not {what}", record=where)
        out.append(value)
    return _unique(out)


def scope_items(ids: Iterable[tuple[str, str]], *, version: str = params.SCOPE_VERSION,
                base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["scope"]
    sids = _checked(ids, SCOPE_SID, "a SCOPe domain sid (d1abca_)", lambda v: v.strip().lower())
    return [Item("scope", sid, f"{version}/{sid}.ent", mirror_urls(src, "domain", base_urls=base_urls,
                                                                   version=version, sid=sid), dest=f"{sid}.ent")
            for sid in sids]


def alphafold_items(ids: Iterable[tuple[str, str]], *, version: int = params.ALPHAFOLD_VERSION,
                    base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["alphafold"]
    accs = _checked(ids, UNIPROT, "a UniProt accession", lambda v: v.strip().upper())
    name = "AF-{acc}-F1-model_v{version}.pdb"
    return [Item("alphafold", a, name.format(acc=a, version=version),
                 mirror_urls(src, "model", base_urls=base_urls, acc=a, version=version)) for a in accs]


def casp_items(kind: str, *, round_: int = params.CASP_ROUND, targets: Iterable[tuple[str, str]] = (),
               files: Sequence[str] = (), base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["casp"]
    if kind == "target-list":
        return [Item("casp", f"CASP{round_} target list", f"casp{round_}/targetlist.csv",
                     mirror_urls(src, kind, base_urls=base_urls, round=round_), dest=f"casp{round_}.targetlist.csv")]
    if kind == "targets":
        if not files:
            raise InputError("casp targets: name the round's target tarball(s) with --files "
                             "(e.g. casp14.targets.T.public_11.29.2020.tar.gz)")
        return [Item("casp", f, f"casp{round_}/{f}", mirror_urls(src, kind, base_urls=base_urls, round=round_, file=f),
                     dest=f) for f in files]
    names = _checked(targets, CASP_TARGET, "a CASP target (T1024)")
    return [Item("casp", t, f"casp{round_}/server/{t}.tar.gz",
                 mirror_urls(src, kind, base_urls=base_urls, round=round_, target=t), dest=f"{t}.tar.gz")
            for t in names]


def genome_items(names: Sequence[str], *, base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["genome"]
    kinds = {k: m for m in src.mirrors for k in m.paths}
    out = []
    for name in names:
        if name not in kinds:
            raise InputError(f"genome: no file {name!r}; files: {', '.join(kinds)}")
        url = mirror_urls(src, name, base_urls=base_urls)
        out.append(Item("genome", name, "hg19/" + url[0].rsplit("/", 1)[1], url,
                        dest=url[0].rsplit("/", 1)[1]))
    return out


GENOME_FILES = tuple(k for m in SOURCES["genome"].mirrors for k in m.paths)


def uniref_items(database: str, *, base_urls: Mapping[str, str] | None = None) -> list[Item]:
    src = SOURCES["uniref"]
    urls = mirror_urls(src, database, base_urls=base_urls)
    if not urls:
        raise InputError(f"uniref: no database {database!r}; databases: uniref90, uniref30")
    return [Item("uniref", database, urls[0].rsplit("/", 1)[1], urls)]
