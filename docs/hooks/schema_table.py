"""MkDocs hook: the configuration page's key table, generated from workflow/schemas/config.schema.yaml.

Defaults, allowed values and descriptions are written once, in the schema; the page holds only the
marker ``<!-- config-schema -->``, replaced at build time by one table per top-level section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MARKER = "<!-- config-schema -->"
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        merged = dict(defs[ref.split("/")[-1]])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return merged
    return node


def _cell(text: Any) -> str:
    """Table-safe text: pipes escaped, and ``<...>`` outside code spans shown, not read as HTML."""
    parts = str(text).replace("|", "\\|").replace("\n", " ").strip().split("`")
    return "`".join(p if i % 2 else _plain(p) for i, p in enumerate(parts))


def _plain(text: str) -> str:
    """Text outside code spans: no HTML tags, no emphasis from ``*`` or ``_``."""
    for char, escaped in (("<", "&lt;"), (">", "&gt;"), ("*", "\\*"), ("_", "\\_")):
        text = text.replace(char, escaped)
    return text


def _allowed(node: dict[str, Any], defs: dict[str, Any]) -> str:
    parts = []
    if "enum" in node:
        parts.append(", ".join(f"`{v}`" for v in node["enum"]))
    items = node.get("items")
    if isinstance(items, dict):
        items = _resolve(items, defs)
        if "enum" in items:
            parts.append("each of " + ", ".join(f"`{v}`" for v in items["enum"]))
    for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<")):
        if key in node:
            parts.append(f"{sign} {node[key]}")
    return "; ".join(parts)


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if "enum" in node and not kind:
        kind = "choice"
    return kind


def _rows(node: dict[str, Any], defs: dict[str, Any], prefix: str) -> list[str]:
    rows = []
    for name, child in node.get("properties", {}).items():
        child = _resolve(child, defs)
        key = f"{prefix}.{name}" if prefix else name
        default = f"`{yaml.safe_dump(child['default'], default_flow_style=True).strip().removesuffix('...').strip()}`" if "default" in child else ""
        if child.get("type") == "object" and "properties" in child:
            if child.get("description"):
                rows.append(f"| `{key}` | section | | | {_cell(child['description'])} |")
            rows.extend(_rows(child, defs, key))
            continue
        rows.append(
            f"| `{key}` | {_type(child)} | {_cell(default)} | {_cell(_allowed(child, defs))} | {_cell(child.get('description', ''))} |"
        )
    return rows


def schema_markdown(schema_path: Path = SCHEMA) -> str:
    """One table per top-level section of the schema: key, type, default, allowed values, description."""
    schema = yaml.safe_load(schema_path.read_text())
    defs = schema.get("$defs", {})
    header = ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    out = [_cell(schema.get("description", "")), ""]
    top = {k: _resolve(v, defs) for k, v in schema["properties"].items()}
    general = {k: v for k, v in top.items() if not (v.get("type") == "object" and "properties" in v)}
    out += ["### General", "", *header, *_rows({"properties": general}, defs, ""), ""]
    for name, node in top.items():
        if name in general:
            continue
        out += [f"### `{name}`", ""]
        if node.get("description"):
            out += [_cell(node["description"]), ""]
        out += [*header, *_rows(node, defs, name), ""]
    return "\n".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, schema_markdown())
    return markdown
