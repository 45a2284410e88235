"""Go tokens: the tokenizer, and the bracket closing an opening one (`matching`).

Raw strings come back as interpreted string literals; whitespace and comments are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<raw>`[^`]*`)
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<rune>'(?:\\.|[^'\\\n])+')
  | (?P<number>\d[\w.]*)
  | (?P<ident>[A-Za-z_][\w]*)
  | (?P<op>:=|\.\.\.|&&|\|\||==|!=|<=|>=|<-|[{}()\[\],;:.&*=+\-/%<>!|^])
    """,
    re.VERBOSE | re.DOTALL,
)

BRACKETS = {"{": "}", "(": ")", "[": "]"}


@dataclass(frozen=True)
class Tok:
    kind: str  # ident, string, number, rune, op
    text: str

    @property
    def value(self) -> str:
        """A string literal's value (Go escapes of schema names are plain)."""
        if self.kind == "string":
            return self.text[1:-1].encode().decode("unicode_escape")
        if self.kind == "raw":
            return self.text[1:-1]
        return self.text


def tokens(source: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            pos += 1  # a character outside what schemas use: skip it
            continue
        pos = m.end()
        kind = m.lastgroup or ""
        if kind in ("ws", "comment"):
            continue
        if kind == "raw":
            kind = "string"
            out.append(Tok(kind, '"' + m.group()[1:-1].replace('"', '\\"') + '"'))
            continue
        out.append(Tok(kind, m.group()))
    return out


def matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at `i`."""
    stack = [BRACKETS[toks[i].text]]
    j = i + 1
    while j < len(toks):
        t = toks[j].text if toks[j].kind == "op" else ""
        if t in BRACKETS:
            stack.append(BRACKETS[t])
        elif stack and t == stack[-1]:
            stack.pop()
            if not stack:
                return j
        j += 1
    return len(toks) - 1
