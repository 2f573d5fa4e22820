"""Sources whose items need a metadata request first: the RCSB search API, the ENCODE portal, Synapse.

- RCSB search (``POST {base}/rcsbsearch/v2/query``): a query held in config (experimental method,
  resolution cut-off, polymer type, release dates) becomes the entry-id list of the bfactor set.
- ENCODE portal: ``GET {base}/files/{acc}/?format=json`` gives the file's download path, size and the
  portal's md5, which the download is checked against.
- Synapse: an optional adapter. With a personal access token in ``$SYNAPSE_AUTH_TOKEN`` the file
  handle (name, size, md5) is read and the file downloaded with ``Authorization: Bearer``; without one,
  :func:`synapse_items` refuses, naming every file that needs it and how to get access.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pgml.errors import InputError
from pgml.fetch import params
from pgml.fetch.cache import Cache
from pgml.fetch.core import Item
from pgml.fetch.http import Client, FetchError
from pgml.fetch.sources import ENCODE_ACC, SOURCES, SYNAPSE_ID, _checked, mirror_urls


@dataclass
class RcsbQuery:
    """The bfactor set's RCSB search: entries by method, resolution, polymer type and release date."""

    method: str = params.RCSB_METHOD
    max_resolution: float | None = params.RCSB_MAX_RESOLUTION
    polymer_type: str | None = params.RCSB_POLYMER_TYPE
    released_after: str | None = None
    released_before: str | None = None
    max_entries: int | None = None

    def body(self) -> dict:
        """The search API's JSON query (all terminals joined with ``and``; ids sorted, all hits)."""
        def term(attribute: str, operator: str, value: object) -> dict:
            return {"type": "terminal", "service": "text",
                    "parameters": {"attribute": attribute, "operator": operator, "value": value}}

        nodes = [term("exptl.method", "exact_match", self.method)]
        if self.max_resolution is not None:
            nodes.append(term("rcsb_entry_info.resolution_combined", "less", self.max_resolution))
        if self.polymer_type:
            nodes.append(term("entity_poly.rcsb_entity_polymer_type", "exact_match", self.polymer_type))
        if self.released_after:
            nodes.append(term("rcsb_accession_info.initial_release_date", "greater_or_equal", self.released_after))
        if self.released_before:
            nodes.append(term("rcsb_accession_info.initial_release_date", "less", self.released_before))
        return {"query": {"type": "group", "logical_operator": "and", "nodes": nodes},
                "return_type": "entry",
                "request_options": {"return_all_hits": True,
                                    "sort": [{"sort_by": "rcsb_entry_container_identifiers.entry_id",
                                              "direction": "asc"}]}}


def rcsb_search(client: Client, query: RcsbQuery, *, base_urls: Mapping[str, str] | None = None) -> list[str]:
    """Entry ids matching ``query``, sorted; the first ``max_entries`` when given."""
    url = mirror_urls(SOURCES["rcsb-search"], "query", base_urls=base_urls)[0]
    resp = client.request("POST", url, json=query.body())
    if resp.status_code == 204:  # the search API's answer when nothing matches
        return []
    if resp.status_code >= 400:
        raise FetchError(f"{url}: HTTP {resp.status_code} {resp.reason}: {resp.text[:200]}")
    try:
        hits = [hit["identifier"] for hit in resp.json().get("result_set", [])]
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"{url}: the answer is not a search result set") from None
    hits = sorted(set(hits))
    return hits[: query.max_entries] if query.max_entries else hits


def encode_items(client: Client, ids, *, base_urls: Mapping[str, str] | None = None) -> list[Item]:
    """One item per accession, with the portal's md5 and size; raises FetchError naming a failed lookup."""
    src = SOURCES["encode"]
    items = []
    for acc in _checked(ids, ENCODE_ACC, "an ENCODE file accession (ENCFF000AAA)", lambda v: v.strip().upper()):
        meta_url = mirror_urls(src, "metadata", base_urls=base_urls, acc=acc)[0]
        try:
            meta = client.json("GET", meta_url, headers={"Accept": "application/json"})
            href, md5 = meta["href"], meta["md5sum"]
        except FetchError as err:
            items.append(Item("encode", acc, f"{acc}/(metadata)", [meta_url], error=f"metadata: {err}"))
            continue
        except (KeyError, TypeError):
            items.append(Item("encode", acc, f"{acc}/(metadata)", [meta_url],
                              error=f"{meta_url}: no href/md5sum in the portal's answer"))
            continue
        base = (base_urls or {}).get("encode", src.mirrors[0].base)
        name = href.rsplit("/", 1)[1]
        items.append(Item("encode", acc, f"{acc}/{name}", [base + href], dest=name, md5=md5, size=meta.get("file_size")))
    return items


def synapse_access_help(ids: Sequence[str]) -> str:
    return (f"synapse: {', '.join(ids)} need(s) a Synapse login: create an account at https://www.synapse.org, "
            "accept the challenge's terms of use on its page (ENCODE-DREAM: syn6131484, DREAM5: syn2787209), "
            "create a personal access token (Account Settings > Personal Access Tokens, scope 'download') and "
            f"export {params.SYNAPSE_TOKEN_ENV}=<token>")


def synapse_items(client: Client | None, ids, *, base_urls: Mapping[str, str] | None = None,
                  token: str | None = None) -> list[Item]:
    """One item per Synapse file entity; without a token, one InputError naming every file and the way in."""
    syn_ids = _checked(ids, SYNAPSE_ID, "a Synapse id (syn1234567)", lambda v: v.strip().lower())
    token = token or os.environ.get(params.SYNAPSE_TOKEN_ENV)
    if not token:
        raise InputError(synapse_access_help(syn_ids))
    src = SOURCES["synapse"]
    auth = {"Authorization": f"Bearer {token}"}
    items = []
    for syn in syn_ids:
        meta_url = mirror_urls(src, "metadata", base_urls=base_urls, syn=syn)[0]
        try:
            handle = client.json("GET", meta_url, headers=auth)["list"][0]
            name, md5, size = handle["fileName"], handle.get("contentMd5"), handle.get("contentSize")
        except FetchError as err:
            items.append(Item("synapse", syn, f"{syn}/(metadata)", [meta_url], error=f"metadata: {err}"))
            continue
        except (KeyError, IndexError, TypeError):
            items.append(Item("synapse", syn, f"{syn}/(metadata)", [meta_url],
                              error=f"{meta_url}: no file handle in the answer"))
            continue
        items.append(Item("synapse", syn, f"{syn}/{name}", mirror_urls(src, "file", base_urls=base_urls, syn=syn),
                          dest=name, md5=md5, size=size, headers=auth))
    return items


def offline_items(cache: Cache, source: str, names: Sequence[str], url_of) -> list[Item]:
    """Offline items of ``source`` by accession: the cached file under ``<source>/<name>/``, else a miss."""
    items = []
    for name in names:
        folder = cache.root / source / name
        found = sorted(p for p in folder.glob("*") if p.is_file() and not p.name.endswith(".json")
                       and not p.name.startswith(".")) if folder.is_dir() else []
        record = cache.record(source, f"{name}/{found[0].name}") if found else None
        if record is not None:
            items.append(Item(source, name, f"{name}/{found[0].name}", [record.url], dest=found[0].name,
                              md5=record.md5))
        else:
            items.append(Item(source, name, f"{name}/(not cached)", [url_of(name)]))
    return items
