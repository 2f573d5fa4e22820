"""MkDocs hook: citation keys such as [ieconv] link to their row of the references page.

The code's docstrings and these pages cite papers by the keys of ``docs/references.md``. On the site
each key outside code becomes a link to an anchor set on that key's row of the references table.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

REFERENCES = "references.md"
KEYS = frozenset(re.findall(r"^\| `\[(\w+)\]` \|", (Path(__file__).resolve().parents[1] / REFERENCES).read_text(),
                            re.M))
#: a citation outside code: [key] not followed by ( or [ (already a link) or : (a link definition)
CITATION = re.compile(r"(?<![\[`\w])\[(" + "|".join(sorted(KEYS)) + r")\](?![(\[:])") if KEYS else None


def _outside_code(text: str, replace) -> str:
    """Apply ``replace`` to the text outside fenced blocks and inline code spans."""
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts = line.split("`")
        out.append("`".join(p if i % 2 else replace(p) for i, p in enumerate(parts)))
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CITATION is None:
        return markdown
    src = page.file.src_uri
    if src == REFERENCES:  # an anchor on each key's row
        return re.sub(r"^\| `\[(\w+)\]` \|", r'| <a id="\1"></a>`[\1]` |', markdown, flags=re.M)
    target = posixpath.relpath(REFERENCES, posixpath.dirname(src) or ".")
    return _outside_code(markdown, lambda text: CITATION.sub(rf"[[\1]]({target}#\1)", text))
