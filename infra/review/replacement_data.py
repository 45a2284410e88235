"""The providers' replacement facts, as the plan diff reads them (`infra/data/replacements.json`).

For each Pulumi resource type: the input paths whose change forces a new resource (`ForceNew` /
`RequiresReplace` in the bridged Terraform provider's schema), and those a provider function
decides (`conditional`: "may force replacement"). Built from the providers' sources by
`scripts/extract_replacements` (`infra.maintain.extract_replacements`); the file names the source
versions. Paths are camelCase Pulumi property paths; `[*]` stands for any list element.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "replacements.json"

# Pulumi's own providers: the engine replaces every resource a replaced provider manages
# (pulumi/pulumi#2767), and the bridged AWS provider's DiffConfig reports a changed `region` as
# a replacement (pulumi-terraform-bridge).
_PROVIDERS = {"pulumi:providers:aws": ("region",)}


@dataclass(frozen=True)
class Rule:
    type: str
    tf_type: str | None
    replace: tuple[str, ...]
    conditional: tuple[str, ...] = ()


@cache
def document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def rule_for(type_: str) -> Rule | None:
    if type_ in _PROVIDERS:
        return Rule(type_, None, _PROVIDERS[type_])
    entry = document()["types"].get(type_)
    if entry is None:
        return None
    return Rule(type_, entry["tf"], tuple(entry["replace"]), tuple(entry.get("conditional", ())))


def sources() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = document()["sources"]
    return found


_SEGMENT = re.compile(r"\[[^\]]*\]|[^.\[]+")


def segments(path: str) -> list[str]:
    """`ingress[0].cidrBlocks` -> ["ingress", "[0]", "cidrBlocks"]; `tags["a.b"]` keeps the key."""
    return _SEGMENT.findall(path)


def values_at(value: Any, pattern: str) -> list[Any]:
    """Every value at `pattern` in a tree (`[*]` any element), in order; [] if none."""
    found: list[Any] = [value]
    for seg in segments(pattern):
        nxt: list[Any] = []
        for v in found:
            if seg == "[*]":
                if isinstance(v, list):
                    nxt += v
                elif isinstance(v, dict):
                    nxt += [v[k] for k in sorted(v)]
            elif isinstance(v, dict) and seg in v:
                nxt.append(v[seg])
        found = nxt
    return found


def overlaps(path: str, pattern: str) -> bool:
    """Whether a concrete path is at, under or above a pattern's path."""
    a, b = segments(path), segments(pattern)
    for x, y in zip(a, b, strict=False):
        if y == "[*]" and x.startswith("["):
            continue
        if x != y:
            return False
    return True
