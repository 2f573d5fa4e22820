"""The authors' published weights by name (``deepgrn:MAX_single``, ``enqa:EGNN_Full``), pinned by sha256.

DeepGRN's Keras 2.2.4 models (jianlin-cheng/DeepGRN, Apache-2.0) and EnQA's torch state dicts
(BioinfoMachineLearning/EnQA, GPL-3.0) are read from the authors' repositories at a fixed commit, so a
name always means the same bytes: each file's sha256 is written here and checked on download, and the
weights are never stored in pgml's repository. EnQA's method names are the ones its ``EnQA.py`` uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pgml.errors import InputError
from pgml.fetch.core import Item
from pgml.fetch.sources import SOURCES, mirror_urls


@dataclass(frozen=True)
class Weights:
    family: str
    name: str
    repo: str
    commit: str
    path: str
    sha256: str
    licence: str

    @property
    def key(self) -> str:
        return f"{self.family}/{self.path.rsplit('/', 1)[1]}"


DEEPGRN = ("jianlin-cheng/DeepGRN", "ac8d98d51258d1db5e2b2aa02d3b9ae2964f46c3", "Apache-2.0")
ENQA = ("BioinfoMachineLearning/EnQA", "b540a46022a143ab73719e9fd55152e6c1a09dec", "GPL-3.0")

_DEEPGRN_SHA256 = {
    "EGR1_pair": "1fbbe4d3ae958a74aefeb8d80d0c67338c58b3effda719115170e4339fba06b9",
    "EGR1_single": "e2bb58efed7eb0e1fd9e56852a3263d6a07d2e93692e8e1405c0a1983e83a0f7",
    "FOXA1_single": "07ed45641432a8166d53973b778dbe9a3bf9d83996781a91c73ab9cd324ad2b8",
    "FOXA2_single": "dd78b65d74777a80defc20dabfd63b23eaf1fadde27192e88766eb6f18f4815a",
    "HNF4A_single": "32b397673338740f320cb57c88e85631cce442934e707de2f8a6b3a49b2bbf3f",
    "MAX_single": "ddaccf4be083a52be8c75b08a3d4832c10084b2067fcbeb93d56efc83ddd5c7c",
    "NANOG_single": "e9f9928aee09c016a7d371c2ec2d227218ccd7c30982ae27a2ef3a355b461607",
    "REST_single": "95701d18468abb99e76c0a1c4b6f3bb87dba04ffe279fd9cd40dd643e791ab14",
}
#: EnQA method -> (file in models/, sha256)
_ENQA_FILES = {
    "EGNN_Full": ("egnn_ne.tar", "d8425ab8a7f90c8ba18a3c13cbb00b167a7a011c279f1da6c107c82e11697e80"),
    "EGNN_esto9": ("egnn_esto9.tar", "49ea99d2f810626bb94fa0d48c0c5ce798111fcbef75311e9aba3d01fece6df3"),
    "EGNN_covariance": ("cov25.pth.tar", "79c220b534f3f4f694abee41a74bd6de2badf4a9fa57bcb9aae97cfc6307b8c7"),
    "se3_Full": ("esto9_se3.tar", "5353879037d9d527417df7663c3ec917b097e9728b810544b9beb3585564ff3e"),
    "EnQA-MSA": ("EnQA-MSA.pth", "1a5fc515f3a356554bc14bdfa860a07de31a40b97ce0fd4162c7893d0512cce6"),
}

WEIGHTS: dict[str, Weights] = {
    **{f"deepgrn:{n}": Weights("deepgrn", n, *DEEPGRN[:2], f"example/models/{n}.h5", sha, DEEPGRN[2])
       for n, sha in _DEEPGRN_SHA256.items()},
    **{f"enqa:{n}": Weights("enqa", n, *ENQA[:2], f"models/{file}", sha, ENQA[2])
       for n, (file, sha) in _ENQA_FILES.items()},
}


def weights_items(names: Iterable[tuple[str, str]], *, base_urls: Mapping[str, str] | None = None) -> list[Item]:
    """One pinned item per ``family:name``; an unknown name is refused with the list of known ones."""
    items = []
    for where, name in names:
        w = WEIGHTS.get(name.strip())
        if w is None:
            raise InputError(f"{name!r} is no published model; known: {', '.join(WEIGHTS)}", record=where)
        urls = mirror_urls(SOURCES["weights"], "file", base_urls=base_urls, repo=w.repo, commit=w.commit,
                           path=w.path)
        items.append(Item("weights", name.strip(), w.key, urls, dest=w.key.rsplit("/", 1)[1], sha256=w.sha256))
    return list({i.key: i for i in items}.values())
