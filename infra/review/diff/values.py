"""Differences between value trees, leaf by leaf, and matching property paths against the
paths of resource options (`ignoreChanges`, `replaceOnChanges`).

Inputs are plain trees (`infra.review.graph.Resource.inputs`): dicts, lists, scalars, the masks.
A list is matched element by element; a JSON document held in a string (a policy) is compared
by its structure.
"""

from __future__ import annotations

import json
import re
from typing import Any

from infra.review.diff.model import ABSENT, PropertyChange
from infra.review.graph import SECRET, join_path

_join = join_path


def _normalize(path: str) -> str:
    """Pulumi's property paths allow `a["b"]` for `a.b`."""
    return re.sub(r'\["([A-Za-z_$][\w$:-]*)"\]', r".\1", path)


def matches(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether `path` is at or under one of the resource-option property paths."""
    path = _normalize(path)
    for raw in patterns:
        pattern = _normalize(raw)
        if pattern in ("*", path) or path.startswith((pattern + ".", pattern + "[")):
            return True
    return False


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def leaf_changes(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """The leaf paths where two input trees differ, with the values on each side. Lists are
    matched element by element (an element added or removed is reported by itself, not as
    every later element changing)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            out += leaf_changes(old.get(key, ABSENT), new.get(key, ABSENT), _join(path, str(key)))
        return out
    if isinstance(old, list) and isinstance(new, list):
        return _changed_lists(old, new, path)
    # Policies and other JSON documents arrive as strings: compare their structure.
    parsed = _json_documents(old, new)
    if parsed is not None:
        return leaf_changes(*parsed, path)
    return [(path, old, new)]


def _changed_lists(old: list[Any], new: list[Any], path: str) -> list[tuple[str, Any, Any]]:
    import difflib

    if len(old) == len(new):
        pairs = sum(1 for a, b in zip(old, new, strict=True) if a == b)
        if pairs >= len(old) - 1 or not all(isinstance(x, dict | list) for x in old + new):
            out: list[tuple[str, Any, Any]] = []
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                out += leaf_changes(a, b, f"{path}[{i}]")
            return out
    matcher = difflib.SequenceMatcher(
        a=[_key(x) for x in old], b=[_key(x) for x in new], autojunk=False
    )
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(common):
            out += leaf_changes(old[i1 + k], new[j1 + k], f"{path}[{j1 + k}]")
        for k in range(i1 + common, i2):
            out.append((f"{path}[{k}]", old[k], ABSENT))
        for k in range(j1 + common, j2):
            out.append((f"{path}[{k}]", ABSENT, new[k]))
    return out


def _json_documents(old: Any, new: Any) -> tuple[Any, Any] | None:
    if not (isinstance(old, str) and isinstance(new, str)):
        return None
    if old[:1] not in "{[" or new[:1] not in "{[" or SECRET in (old, new):
        return None
    try:
        return json.loads(old), json.loads(new)
    except ValueError:
        return None


def diff_values(old: Any, new: Any) -> list[PropertyChange]:
    """Differences between two plain trees (stack outputs), leaf by leaf."""
    return [PropertyChange(p, a, b) for p, a, b in leaf_changes(old, new)]
