"""Values the mocks invented, marked as such wherever a value is shown.

Under the mock runtime an id, an ARN, a generated bucket name, an endpoint or the Cloudflare zone
id is the mocks' invention (`infra.review.mocks.CloudMocks`), not what AWS or Cloudflare will answer. The
synthesis records each one with what it stands for (`Graph.placeholders`); renderers show a value
that is, or contains, one of them as `‹ec2.Vpc us-east-2-vpc›` (the id or ARN of that resource),
`‹rds.Instance us-east-2-db address›` (another attribute) or `‹zone python.org›`, and the JSON
flags the property (`"placeholder": true`) instead of rewriting the value.

Pure functions; nothing here runs the program.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

OPEN, CLOSE = "‹", "›"
LEGEND = f"{OPEN}…{CLOSE} marks a value the mocks invented (the real one is known after apply)"


def label(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


class Placeholders:
    """Invented value -> what it stands for; substitutes them in text, longest first."""

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        self.mapping: dict[str, str] = dict(mapping or {})
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def merged(cls, mappings: Iterable[Mapping[str, str]]) -> Placeholders:
        """Several graphs' records in one (the first to name a value wins)."""
        out: dict[str, str] = {}
        for mapping in mappings:
            for value, what in mapping.items():
                out.setdefault(value, what)
        return cls(out)

    def __bool__(self) -> bool:
        return bool(self.mapping)

    def get(self, value: str) -> str | None:
        what = self.mapping.get(value)
        return label(what) if what is not None else None

    @property
    def pattern(self) -> re.Pattern[str]:
        """One regular expression matching every invented value: a trie of them, so that a
        match costs one pass over the text whatever the number of values (an alternation of
        a thousand ARNs would be tried one by one at every position)."""
        if self._pattern is None:
            self._pattern = re.compile(_trie_regex(self.mapping) or r"(?!x)x")
        return self._pattern

    def sub(self, text: str) -> str:
        """`text` with every invented value in it replaced by its label."""
        if not self.mapping:
            return text
        return self.pattern.sub(lambda m: label(self.mapping[m.group(0)]), text)

    def found_in(self, value: Any) -> bool:
        """Whether a plain value (any depth; strings as they are) holds an invented value."""
        if not self.mapping:
            return False
        if isinstance(value, str):
            return self.pattern.search(value) is not None
        if isinstance(value, dict):
            return any(self.found_in(k) or self.found_in(v) for k, v in value.items())
        if isinstance(value, list):
            return any(self.found_in(v) for v in value)
        return False


def _trie_regex(words: Iterable[str]) -> str:
    trie: dict[str, Any] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True
    return _node_regex(trie)


def _node_regex(node: dict[str, Any]) -> str:
    ends = "" in node
    branches = [
        re.escape(char) + _node_regex(child) for char, child in sorted(node.items()) if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Where a value ends and a longer one continues, the longer one wins (greedy `?`).
    return f"(?:{body})?" if ends else body
