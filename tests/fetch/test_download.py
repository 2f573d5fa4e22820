"""The downloader's fault cases, against the local server: every outcome is a whole file or nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fetch_server import FAST, Reply, fake_server, no_internet, pgml_cache  # noqa: F401 (fixtures)

from pgml.cli import main
from pgml.fetch.cache import Cache
from pgml.fetch.core import Item, fetch_items
from pgml.fetch.http import Client, RateLimiter, Settings, looks_like_html

DATA = gzip.compress(b"data_1UBI\n" + bytes(range(256)) * 400, mtime=0)  # ~100 kB of gzip


def fast_client() -> Client:
    return Client(Settings(backoff=0.01, rate=0, retries=3, read_timeout=5, connect_timeout=2))


def item(server, path: str = "/f/1UBI.cif.gz", **kw) -> Item:
    return Item("pdb", "1UBI", "1UBI.cif.gz", [server.url + path], **kw)


def leftovers(*dirs: Path) -> list[Path]:
    return [p for d in dirs if d.exists() for p in d.rglob("*") if p.is_file()]


def test_tests_cannot_reach_the_internet() -> None:
    with pytest.raises(OSError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_success_with_checksum_records_url_size_and_sha256(server, tmp_path: Path) -> None:
    sha = server.file("/f/1UBI.cif.gz", DATA)
    out, cache = tmp_path / "out", Cache(tmp_path / "cache")
    [o] = fetch_items([item(server, sha256=sha)], out, cache=cache, client=fast_client())
    assert o.ok and (out / "1UBI.cif.gz").read_bytes() == DATA
    record = json.loads(cache.record_path("pdb", "1UBI.cif.gz").read_text())
    assert record == {"url": server.url + "/f/1UBI.cif.gz", "size": len(DATA), "sha256": sha, "md5": None}
    assert not list(cache.root.rglob("*.part"))


def test_checksum_mismatch_leaves_nothing(server, tmp_path: Path) -> None:
    server.file("/f/1UBI.cif.gz", DATA)
    out, cache = tmp_path / "out", Cache(tmp_path / "cache")
    [o] = fetch_items([item(server, sha256="0" * 64)], out, cache=cache, client=fast_client())
    assert not o.ok and "sha256" in o.error and server.url + "/f/1UBI.cif.gz" in o.error
    assert leftovers(out, cache.root) == []


def test_provider_md5_mismatch_names_the_provider(server, tmp_path: Path) -> None:
    server.file("/f/1UBI.cif.gz", DATA)
    [o] = fetch_items([item(server, md5="f" * 32)], tmp_path / "out", cache=Cache(tmp_path / "c"),
                      client=fast_client())
    assert not o.ok and "md5" in o.error and "provider" in o.error


def test_503_then_200_is_retried(server, tmp_path: Path) -> None:
    server.add("/f/1UBI.cif.gz", Reply(status=503), Reply(body=DATA))
    [o] = fetch_items([item(server)], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok and (tmp_path / "out" / "1UBI.cif.gz").read_bytes() == DATA
    assert len(server.gets("/f/1UBI.cif.gz")) == 2


def test_429_waits_for_retry_after(server, tmp_path: Path) -> None:
    server.add("/f/1UBI.cif.gz", Reply(status=429, headers={"Retry-After": "1"}), Reply(body=DATA))
    start = time.monotonic()
    [o] = fetch_items([item(server)], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok and time.monotonic() - start >= 0.95  # the header's second, not the 0.01 s backoff


def test_persistent_500_gives_up_and_says_so(server, tmp_path: Path) -> None:
    server.add("/f/1UBI.cif.gz", Reply(status=500))
    [o] = fetch_items([item(server)], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert not o.ok and "500" in o.error
    assert len(server.gets("/f/1UBI.cif.gz")) == 4  # the first try + 3 retries
    assert leftovers(tmp_path / "out") == []


def test_dropped_connection_resumes_with_range(server, tmp_path: Path) -> None:
    half = len(DATA) // 2
    server.add("/f/1UBI.cif.gz", Reply(body=DATA, drop_after=half), Reply(body=DATA))
    [o] = fetch_items([item(server, sha256=hashlib.sha256(DATA).hexdigest())], tmp_path / "out",
                      cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok, o.error
    assert (tmp_path / "out" / "1UBI.cif.gz").read_bytes() == DATA
    first, second = server.gets("/f/1UBI.cif.gz")
    assert "Range" not in first[2]
    resumed_at = int(second[2]["Range"].split("=")[1].rstrip("-"))
    assert 0 < resumed_at <= half  # asked only for the rest


def test_server_without_ranges_restarts_the_body(server, tmp_path: Path) -> None:
    server.add("/f/1UBI.cif.gz", Reply(body=DATA, drop_after=1000, ranges=False), Reply(body=DATA, ranges=False))
    [o] = fetch_items([item(server)], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok and (tmp_path / "out" / "1UBI.cif.gz").read_bytes() == DATA


@pytest.mark.parametrize("reply", [
    Reply(body=b"<!DOCTYPE html><html><body>Please log in</body></html>", headers={"Content-Type": "text/html"}),
    Reply(body=b"\n  <html><head><title>Quota exceeded</title></head></html>"),  # HTML sent as octet-stream
    Reply(body=b""),
    Reply(body=b"plain text, not gzip"),
    Reply(body=b"<!-- portal --><div>Sign in to download</div>", headers={"Content-Type": "text/html; charset=utf-8"}),
])
def test_html_empty_or_wrong_format_body_is_refused(server, tmp_path: Path, reply: Reply) -> None:
    server.add("/f/1UBI.cif.gz", reply)
    [o] = fetch_items([item(server)], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert not o.ok and server.url in o.error
    assert any(word in o.error for word in ("HTML", "empty", "gzip"))
    assert leftovers(tmp_path / "out", tmp_path / "c") == []


def test_text_mislabelled_as_html_still_arrives(server, tmp_path: Path) -> None:
    """A CGI answering a CSV as text/html (the CASP target list) is data: it does not open with a tag."""
    server.add("/casp14/targetlist.cgi?type=csv", Reply(body=b"Target;Type\nT1024;All groups\n",
                                                        headers={"Content-Type": "text/html"}))
    it = Item("casp", "list", "targetlist.csv", [server.url + "/casp14/targetlist.cgi?type=csv"])
    [o] = fetch_items([it], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok, o.error


def test_unrecoverable_drop_keeps_the_part_for_the_next_run_only_from_its_url(server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    server.add("/f/1UBI.cif.gz", Reply(body=DATA, drop_after=len(DATA) // 3, ranges=False))
    client = Client(Settings(backoff=0.01, rate=0, retries=0, resumes=1, read_timeout=5, connect_timeout=2))
    [o] = fetch_items([item(server)], tmp_path / "out", cache=cache, client=client)
    assert not o.ok and "dropped" in o.error and leftovers(tmp_path / "out") == []
    part = cache.part_path("pdb", "1UBI.cif.gz")
    assert 0 < part.stat().st_size < len(DATA)
    assert part.with_name(part.name + ".url").read_text() == server.url + "/f/1UBI.cif.gz"
    # the next run resumes from the same URL with Range
    server.add("/f/1UBI.cif.gz", Reply(body=DATA))
    kept = part.stat().st_size
    [o] = fetch_items([item(server)], tmp_path / "out", cache=cache, client=fast_client())
    assert o.ok and (tmp_path / "out" / "1UBI.cif.gz").read_bytes() == DATA
    assert server.gets()[-1][2]["Range"] == f"bytes={kept}-"
    assert sorted(p.name for p in cache.root.rglob("*")) == ["1UBI.cif.gz", "1UBI.cif.gz.json", "pdb"]


def test_a_part_from_another_mirror_is_not_resumed(server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    part = cache.part_path("pdb", "1UBI.cif.gz")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\x1f\x8b from elsewhere")
    part.with_name(part.name + ".url").write_text("https://other.mirror/1UBI.cif.gz")
    server.file("/f/1UBI.cif.gz", DATA)
    [o] = fetch_items([item(server)], tmp_path / "out", cache=cache, client=fast_client())
    assert o.ok and (tmp_path / "out" / "1UBI.cif.gz").read_bytes() == DATA
    assert "Range" not in server.gets()[-1][2]


def test_html_sniffing() -> None:
    assert looks_like_html(b"  \n<!doctype HTML>")
    assert looks_like_html(b"<html lang='en'>")
    assert not looks_like_html(b"data_1UBI\n#\n")
    assert not looks_like_html(b"\x1f\x8b\x08")


def test_mirrors_are_tried_in_order(server, tmp_path: Path) -> None:
    server.file("/second/1UBI.cif.gz", DATA)
    it = Item("pdb", "1UBI", "1UBI.cif.gz", [server.url + "/first/1UBI.cif.gz", server.url + "/second/1UBI.cif.gz"])
    [o] = fetch_items([it], tmp_path / "out", cache=Cache(tmp_path / "c"), client=fast_client())
    assert o.ok and o.url.endswith("/second/1UBI.cif.gz")
    assert [r[1] for r in server.gets()] == ["/first/1UBI.cif.gz", "/second/1UBI.cif.gz"]


def test_rate_limit_spaces_requests_to_one_host() -> None:
    limiter = RateLimiter(rate=20)
    start = time.monotonic()
    for _ in range(5):
        limiter.wait("http://a.example/x")
    limiter.wait("http://b.example/x")  # another host: no wait of its own
    assert 0.19 <= time.monotonic() - start < 0.5


# ---- through the command line: exit codes, failure lines, offline, Ctrl-C


def pdb_args(server, out: Path, *ids: str) -> list[str]:
    return ["fetch", "pdb", "--ids", *ids, "--output-dir", str(out), "--mirrors", "rcsb",
            "--base-url", f"rcsb={server.url}", *FAST]


def test_404_names_the_id_and_url_and_others_are_written(server, cache, tmp_path: Path, capsys) -> None:
    server.file("/download/1UBI.cif.gz", DATA)
    out = tmp_path / "out"
    code = main(pdb_args(server, out, "1ubi", "9ZZZ") + ["--manifest", str(tmp_path / "m.tsv")])
    err = capsys.readouterr().err
    assert code == 3
    assert (out / "1UBI.cif.gz").read_bytes() == DATA and not (out / "9ZZZ.cif.gz").exists()
    [line] = [x for x in err.splitlines() if "failed" in x]
    assert "9ZZZ" in line and f"{server.url}/download/9ZZZ.cif.gz" in line and "404" in line
    manifest = (tmp_path / "m.tsv").read_text().splitlines()
    assert manifest[0].startswith("name\tfile\turl") and len(manifest) == 3


def test_offline_warm_cache_makes_no_request(server, cache, tmp_path: Path) -> None:
    server.file("/download/1UBI.cif.gz", DATA)
    assert main(pdb_args(server, tmp_path / "a", "1UBI")) == 0
    before = len(server.requests)
    assert main(pdb_args(server, tmp_path / "b", "1UBI") + ["--offline"]) == 0
    assert len(server.requests) == before
    assert (tmp_path / "b" / "1UBI.cif.gz").read_bytes() == DATA
    # the same cache also serves the next online run without a request
    assert main(pdb_args(server, tmp_path / "c", "1UBI")) == 0 and len(server.requests) == before


def test_offline_cold_cache_lists_every_missing_item(server, cache, tmp_path: Path, capsys) -> None:
    code = main(pdb_args(server, tmp_path / "out", "1UBI", "2XHE") + ["--offline"])
    err = capsys.readouterr().err
    assert code == 3 and server.requests == []
    assert "offline: 2 item(s) not in the cache" in err
    for entry in ("1UBI", "2XHE"):
        assert any(entry in line and f"{server.url}/download/{entry}.cif.gz" in line for line in err.splitlines())
    assert leftovers(tmp_path / "out") == []


def test_bad_id_in_a_list_is_one_line_naming_file_and_line(server, cache, tmp_path: Path, capsys) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("1UBI\n# a comment\nnot-an-id\n")
    code = main(["fetch", "pdb", "--id-list", str(ids), "--output-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert str(ids) in err and "line 3" in err and "not-an-id" in err
    assert server.requests == []


def test_ctrl_c_mid_download_leaves_no_partial_file_and_a_rerun_resumes(server, tmp_path: Path) -> None:
    body = gzip.compress(os.urandom(400_000), mtime=0)
    server.add("/download/1UBI.cif.gz", Reply(body=body, slow=0.01))
    out, cache = tmp_path / "out", tmp_path / "cache"
    env = {**os.environ, "PGML_CACHE": str(cache), "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "pgml.cli", *pdb_args(server, out, "1UBI")], env=env,
                            stderr=subprocess.PIPE, text=True)
    part = cache / "pdb" / ".1UBI.cif.gz.part"
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size > 10_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert leftovers(out) == []  # nothing in place
    assert not (cache / "pdb" / "1UBI.cif.gz").exists() and not (cache / "pdb" / "1UBI.cif.gz.json").exists()
    kept = part.stat().st_size
    assert 0 < kept < len(body)
    server.add("/download/1UBI.cif.gz", Reply(body=body))
    done = subprocess.run([sys.executable, "-m", "pgml.cli", *pdb_args(server, out, "1UBI")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (out / "1UBI.cif.gz").read_bytes() == body
    assert server.gets()[-1][2]["Range"] == f"bytes={kept}-"  # the rerun asked only for the rest
