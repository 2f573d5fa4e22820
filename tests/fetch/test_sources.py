"""Each source's URL layout, metadata and refusals, served by the local server."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from fetch_server import FAST, Reply, fake_server, no_internet, pgml_cache  # noqa: F401 (fixtures)

from pgml.cli import main
from pgml.errors import InputError
from pgml.fetch.sources import SOURCES, mirror_urls, parse_base_urls, pdb_entry

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "structures"


def test_pdb_urls_follow_each_mirror_layout() -> None:
    src = SOURCES["pdb"]
    fields = {"ID": "1UBI", "id": "1ubi", "mid": "ub"}
    assert mirror_urls(src, "cif", **fields) == [
        "https://files.rcsb.org/download/1UBI.cif.gz",
        "https://ftp.pdbj.org/pub/pdb/data/structures/divided/mmCIF/ub/1ubi.cif.gz",
        "https://files.wwpdb.org/pub/pdb/data/structures/divided/mmCIF/ub/1ubi.cif.gz"]
    assert mirror_urls(src, "pdb", mirrors=["wwpdb"], **fields) == [
        "https://files.wwpdb.org/pub/pdb/data/structures/divided/pdb/ub/pdb1ubi.ent.gz"]
    bases = parse_base_urls(["http://127.0.0.1:1/", "pdbj=http://mirror.test/x"], src)
    assert bases == {"rcsb": "http://127.0.0.1:1", "pdbj": "http://mirror.test/x"}
    with pytest.raises(InputError, match="no mirror 'nope'"):
        parse_base_urls(["nope=http://x"], src)
    # another source's mirror is accepted (config passes one mapping to every rule) and not used here
    assert mirror_urls(src, "cif", base_urls=parse_base_urls(["scope=http://x"], src), **fields)[0].startswith(
        "https://files.rcsb.org")


@pytest.mark.parametrize(("value", "entry"), [("1ubi", "1UBI"), ("2pmo.X", "2PMO"), ("1abc_A", "1ABC"),
                                              ("1abcA", "1ABC"), ("101M", "101M")])
def test_pdb_entry_of_ids_and_chains(value: str, entry: str) -> None:
    assert pdb_entry("--ids", value) == entry


def test_pdb_chains_fetch_each_entry_once_in_pdb_format(server, cache, tmp_path: Path) -> None:
    body = (DEMO / "1UBI.pdb.gz").read_bytes()
    server.file("/download/1UBI.pdb.gz", body)
    chains = tmp_path / "chains.txt"
    chains.write_text("1ubi.A\n1ubi.B\n")  # ProtFunct-style chain list
    code = main(["fetch", "pdb", "--id-list", str(chains), "--format", "pdb", "--output-dir", str(tmp_path / "o"),
                 "--mirrors", "rcsb", "--base-url", server.url, *FAST])
    assert code == 0 and (tmp_path / "o" / "1UBI.pdb.gz").read_bytes() == body
    assert len(server.gets()) == 1


def test_pdb_query_posts_the_config_query_and_writes_sorted_ids(server, cache, tmp_path: Path) -> None:
    answer = {"total_count": 3, "result_set": [{"identifier": i, "score": 1} for i in ("4CUP", "1UBI", "1A8O")]}
    server.add("/rcsbsearch/v2/query", Reply(body=json.dumps(answer).encode(), headers={"Content-Type": "application/json"}))
    args = ["fetch", "pdb-query", "--output", str(tmp_path / "ids.txt"), "--base-url", server.url,
            "--max-resolution", "2.0", "--released-before", "2020-01-01", "--max-entries", "2", *FAST]
    assert main(args) == 0
    assert (tmp_path / "ids.txt").read_text() == "1A8O\n1UBI\n"
    [(method, _, _, body)] = server.requests
    query = json.loads(body)
    terms = {n["parameters"]["attribute"]: (n["parameters"]["operator"], n["parameters"]["value"])
             for n in query["query"]["nodes"]}
    assert terms == {"exptl.method": ("exact_match", "X-RAY DIFFRACTION"),
                     "rcsb_entry_info.resolution_combined": ("less", 2.0),
                     "entity_poly.rcsb_entity_polymer_type": ("exact_match", "Protein"),
                     "rcsb_accession_info.initial_release_date": ("less", "2020-01-01")}
    assert method == "POST" and query["return_type"] == "entry"
    # offline: the cached answer, no request
    assert main(args + ["--offline"]) == 0 and len(server.requests) == 1


def test_pdb_query_without_hits_is_an_error(server, cache, tmp_path: Path, capsys) -> None:
    server.add("/rcsbsearch/v2/query", Reply(status=204))
    code = main(["fetch", "pdb-query", "--output", str(tmp_path / "ids.txt"), "--base-url", server.url, *FAST])
    assert code == 2 and "matched no entries" in capsys.readouterr().err
    assert not (tmp_path / "ids.txt").exists()


def test_scope_domains_by_sid(server, cache, tmp_path: Path) -> None:
    text = b"HEADER    d1ubia_\nATOM      1  N   MET A   1      27.340  24.430   2.614  1.00  9.67           N\nEND\n"
    server.file("/astral/pdbstyle/ver=1.75&id=d1ubia_&output=text", text)
    sids = tmp_path / "training.txt"
    sids.write_text("d1ubia_\ta.1\ta.1\n")  # HomologyTAPE's list layout: sid, fold, ...
    code = main(["fetch", "scope", "--id-list", str(sids), "--output-dir", str(tmp_path / "o"),
                 "--base-url", server.url, *FAST])
    assert code == 0 and (tmp_path / "o" / "d1ubia_.ent").read_bytes() == text


def test_alphafold_and_casp_layouts(server, cache, tmp_path: Path) -> None:
    server.file("/files/AF-P0CG48-F1-model_v4.pdb", b"ATOM      1  N   MET A   1\n")
    assert main(["fetch", "alphafold", "--ids", "P0CG48", "--output-dir", str(tmp_path / "af"),
                 "--base-url", server.url, *FAST]) == 0
    assert (tmp_path / "af" / "AF-P0CG48-F1-model_v4.pdb").exists()
    tarball = gzip.compress(b"T1024 models", mtime=0)
    server.file("/download_area/CASP14/server_predictions/T1024.tar.gz", tarball)
    server.file("/casp14/targetlist.cgi?type=csv", b"Target;Type\nT1024;All groups\n")
    assert main(["fetch", "casp", "--ids", "T1024", "--output-dir", str(tmp_path / "casp"), "--base-url", server.url,
                 *FAST]) == 0
    assert main(["fetch", "casp", "--kind", "target-list", "--output-dir", str(tmp_path / "casp"),
                 "--base-url", server.url, *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "casp").iterdir()) == ["T1024.tar.gz", "casp14.targetlist.csv"]


def test_genome_files_by_name(server, cache, tmp_path: Path) -> None:
    server.file("/goldenPath/hg19/bigZips/hg19.chrom.sizes", b"chr1\t249250621\n")
    gtf = gzip.compress(b"chr1\tHAVANA\tgene\t1\t10\t.\t+\t.\tgene_id \"g\";\n", mtime=0)
    server.file("/pub/databases/gencode/Gencode_human/release_19/gencode.v19.annotation.gtf.gz", gtf)
    code = main(["fetch", "genome", "--files", "chrom-sizes", "gencode", "--output-dir", str(tmp_path / "g"),
                 "--base-url", f"ucsc={server.url}", f"gencode={server.url}", *FAST])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["gencode.v19.annotation.gtf.gz", "hg19.chrom.sizes"]


def test_encode_checks_the_portal_md5(server, cache, tmp_path: Path, capsys) -> None:
    peaks = gzip.compress(b"chr1\t100\t200\tp\t0\t.\t5\t-1\t3\t50\n", mtime=0)
    for acc, md5 in (("ENCFF000AAA", hashlib.md5(peaks).hexdigest()), ("ENCFF000BBB", "0" * 32)):
        meta = {"href": f"/files/{acc}/@@download/{acc}.bed.gz", "md5sum": md5, "file_size": len(peaks)}
        server.add(f"/files/{acc}/?format=json", Reply(body=json.dumps(meta).encode(),
                                                        headers={"Content-Type": "application/json"}))
        server.file(f"/files/{acc}/@@download/{acc}.bed.gz", peaks)
    code = main(["fetch", "encode", "--ids", "ENCFF000AAA", "ENCFF000BBB", "ENCFF000CCC", "--output-dir",
                 str(tmp_path / "e"), "--base-url", server.url, *FAST])
    err = capsys.readouterr().err
    assert code == 3
    assert (tmp_path / "e" / "ENCFF000AAA.bed.gz").read_bytes() == peaks
    assert not (tmp_path / "e" / "ENCFF000BBB.bed.gz").exists()
    failed = [line for line in err.splitlines() if "failed" in line]
    assert len(failed) == 2
    assert "ENCFF000BBB" in failed[0] and "md5" in failed[0] and f"{server.url}/files/ENCFF000BBB/@@download" in failed[0]
    # an accession the portal does not know: its metadata URL and status, the others still written
    assert "ENCFF000CCC" in failed[1] and f"{server.url}/files/ENCFF000CCC/?format=json" in failed[1] and "404" in failed[1]
    # offline: the cached accession is found without its metadata; the other is listed as missing
    requests = len(server.requests)
    code = main(["fetch", "encode", "--ids", "ENCFF000AAA", "--output-dir", str(tmp_path / "e2"), "--offline",
                 "--base-url", server.url])
    assert code == 0 and len(server.requests) == requests and (tmp_path / "e2" / "ENCFF000AAA.bed.gz").exists()


def test_synapse_without_token_names_every_file_and_the_way_in(server, cache, tmp_path: Path, capsys,
                                                               monkeypatch) -> None:
    monkeypatch.delenv("SYNAPSE_AUTH_TOKEN", raising=False)
    code = main(["fetch", "synapse", "--ids", "syn6131484", "syn2787209", "--output-dir", str(tmp_path / "s"),
                 "--base-url", server.url, *FAST])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    for word in ("syn6131484", "syn2787209", "https://www.synapse.org", "SYNAPSE_AUTH_TOKEN", "terms"):
        assert word in err
    assert server.requests == [] and not (tmp_path / "s").exists()


def test_synapse_with_token_sends_it_and_checks_md5(server, cache, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SYNAPSE_AUTH_TOKEN", "secret-token")
    labels = gzip.compress(b"chr\tstart\tstop\tHeLa-S3\nchr10\t600\t800\tU\n", mtime=0)
    handle = {"list": [{"fileName": "CTCF.train.labels.tsv.gz", "contentMd5": hashlib.md5(labels).hexdigest(),
                        "contentSize": len(labels)}]}
    server.add("/repo/v1/entity/syn6181337/filehandles", Reply(body=json.dumps(handle).encode(),
                                                              headers={"Content-Type": "application/json"}))
    server.file("/repo/v1/entity/syn6181337/file", labels)
    code = main(["fetch", "synapse", "--ids", "syn6181337", "--output-dir", str(tmp_path / "s"),
                 "--base-url", server.url, *FAST])
    assert code == 0 and (tmp_path / "s" / "CTCF.train.labels.tsv.gz").read_bytes() == labels
    assert all(r[2].get("Authorization") == "Bearer secret-token" for r in server.requests)


def test_plan_prints_files_size_licence_and_login_without_downloading(server, cache, tmp_path: Path,
                                                                      capsys) -> None:
    head = gzip.compress(b"x", mtime=0)
    for entry, size in (("1UBI", 3000), ("1A8O", 5000)):
        server.file(f"/download/{entry}.cif.gz", head + b"\0" * (size - len(head)))
    code = main(["fetch", "pdb", "--ids", "1UBI", "1A8O", "--plan", "--mirrors", "rcsb", "--base-url", server.url,
                 *FAST])
    out = capsys.readouterr().out
    assert code == 0 and server.gets() == []
    assert "files: 2" in out and "licence: CC0 1.0 (wwPDB)" in out and "login needed: no" in out
    assert "total size: 8.0 kB" in out  # HEAD Content-Length of both


def test_uniref_is_opt_in_size_first(server, cache, tmp_path: Path, capsys) -> None:
    server.add("/pub/databases/uniprot/uniref/uniref90/uniref90.fasta.gz",
               Reply(body=gzip.compress(b">UniRef90_A\nMK\n", mtime=0)))
    code = main(["fetch", "uniref", "--database", "uniref90", "--output-dir", str(tmp_path / "u"),
                 "--base-url", f"uniprot={server.url}", *FAST])
    captured = capsys.readouterr()
    assert code == 0 and "pass --yes" in captured.err and "total size:" in captured.out
    assert server.gets() == [] and not (tmp_path / "u").exists()
    assert main(["fetch", "uniref", "--database", "uniref90", "--yes", "--output-dir", str(tmp_path / "u"),
                 "--base-url", f"uniprot={server.url}", "uniprot-ebi=http://127.0.0.1:9", *FAST]) == 0
    assert (tmp_path / "u" / "uniref90.fasta.gz").exists()


def test_sources_table_has_every_source(capsys) -> None:
    assert main(["fetch", "sources"]) == 0
    out = capsys.readouterr().out
    for name in SOURCES:
        assert f"| {name}" in out
    assert "(opt-in)" in out.split("| uniref")[1].split("\n")[0]


def test_docs_table_is_the_sources_table(capsys) -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "fetching.md").read_text()
    block = readme.split("<!-- fetch-sources -->\n", 1)[1].split("<!-- /fetch-sources -->", 1)[0]
    assert main(["fetch", "sources"]) == 0
    assert block.strip() == capsys.readouterr().out.strip(), "docs/fetching.md table differs: paste `pgml fetch sources`"
