"""Just enough Go to read Terraform provider schemas: top-level declarations and composite literals.

`declarations(source)` splits a Go file into its top-level functions, methods, types, constants
and variables (by name, with their text). `parse_expr(text)` parses one expression into nested
`Node`s: composite literals (`schema.StringAttribute{...}`, `map[string]*schema.Schema{...}`),
calls, selectors, function literals and plain tokens. It is not a Go compiler: it knows the
shapes schema code is written in, and anything else comes back as an opaque `Node`.
Used only by the maintainer script `scripts/extract_replacements` (`infra.maintain.extract_replacements`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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

_OPEN = {"{": "}", "(": ")", "[": "]"}


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


def _matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at `i`."""
    stack = [_OPEN[toks[i].text]]
    j = i + 1
    while j < len(toks):
        t = toks[j].text if toks[j].kind == "op" else ""
        if t in _OPEN:
            stack.append(_OPEN[t])
        elif stack and t == stack[-1]:
            stack.pop()
            if not stack:
                return j
        j += 1
    return len(toks) - 1


# --- top-level declarations ---------------------------------------------------------------------


@dataclass
class Declarations:
    funcs: dict[str, list[Tok]] = field(default_factory=dict)  # name -> body tokens (inside {})
    methods: dict[tuple[str, str], list[Tok]] = field(default_factory=dict)  # (type, name)
    types: dict[str, list[Tok]] = field(default_factory=dict)  # name -> definition tokens
    consts: dict[str, str] = field(default_factory=dict)  # name -> string value
    aliases: dict[str, str] = field(default_factory=dict)  # const -> other constant's name
    values: dict[str, list[Tok]] = field(default_factory=dict)  # var -> expression tokens

    def update(self, other: Declarations) -> None:
        self.funcs.update(other.funcs)
        self.methods.update(other.methods)
        self.types.update(other.types)
        self.consts.update(other.consts)
        self.aliases.update(other.aliases)
        self.values.update(other.values)


def declarations(source: str) -> Declarations:
    toks = tokens(source)
    out = Declarations()
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "ident" and t.text == "func":
            i = _func_decl(toks, i, out)
            continue
        if t.kind == "ident" and t.text in ("const", "var"):
            i = _value_decl(toks, i + 1, out)
            continue
        if t.kind == "ident" and t.text == "type":
            i = _type_decl(toks, i + 1, out)
            continue
        if t.kind == "ident" and i + 1 < len(toks) and toks[i + 1].text == "=":
            # A bare spec: the index's var.*.goindex files hold one `name = value` each.
            i = _value_decl(toks, i, out)
            continue
        if t.kind == "op" and t.text in _OPEN:
            i = _matching(toks, i) + 1
            continue
        i += 1
    return out


def _func_decl(toks: list[Tok], i: int, out: Declarations) -> int:
    j = i + 1
    recv = None
    if j < len(toks) and toks[j].text == "(":  # method receiver
        end = _matching(toks, j)
        inner = [t.text for t in toks[j + 1 : end] if t.kind == "ident"]
        recv = inner[-1] if inner else None
        j = end + 1
    if j >= len(toks) or toks[j].kind != "ident":
        return j
    name = toks[j].text
    j += 1
    if j < len(toks) and toks[j].text == "[":  # type parameters
        j = _matching(toks, j) + 1
    # Skip the signature up to the body's brace (brackets inside it are balanced groups).
    while j < len(toks) and toks[j].text != "{":
        if toks[j].kind == "op" and toks[j].text in ("(", "["):
            j = _matching(toks, j)
        j += 1
    if j >= len(toks):
        return j
    end = _matching(toks, j)
    body = toks[j + 1 : end]
    if recv is None:
        out.funcs[name] = body
    else:
        out.methods[(recv, name)] = body
    return end + 1


def _value_decl(toks: list[Tok], i: int, out: Declarations) -> int:
    if i < len(toks) and toks[i].text == "(":
        end = _matching(toks, i)
        _specs(toks[i + 1 : end], out)
        return end + 1
    j = i
    while j < len(toks) and toks[j].text not in (";",) and not _starts_decl(toks, j, i):
        if toks[j].kind == "op" and toks[j].text in _OPEN:
            j = _matching(toks, j)
        j += 1
    _specs(toks[i:j], out)
    return j


def _starts_decl(toks: list[Tok], j: int, start: int) -> bool:
    return (
        j > start and toks[j].kind == "ident" and toks[j].text in ("func", "type", "var", "const")
    )


def _specs(toks: list[Tok], out: Declarations) -> None:
    """`Name = value` specs of a const or var block: string constants, constants naming other
    constants (`x = names.AttrY`), and any other value's tokens (a package-level schema map)."""
    k = 0
    while k < len(toks) - 2:
        a, eq = toks[k], toks[k + 1]
        if not (a.kind == "ident" and eq.text == "="):
            k += 1
            continue
        start = end = k + 2
        while end < len(toks):
            t = toks[end]
            if t.kind == "op" and t.text in _OPEN:
                end = _matching(toks, end) + 1
                continue
            if (
                t.kind == "ident"
                and end + 1 < len(toks)
                and toks[end + 1].text in ("=",)
                and end > start
                and toks[end - 1].text not in (".",)
            ):
                break
            end += 1
        value = toks[start:end]
        if len(value) == 1 and value[0].kind == "string":
            out.consts[a.text] = value[0].value
        elif len(value) == 3 and value[1].text == "." and value[0].kind == value[2].kind == "ident":
            out.aliases[a.text] = f"{value[0].text}.{value[2].text}"
        else:
            out.values[a.text] = value
        k = end


def _type_decl(toks: list[Tok], i: int, out: Declarations) -> int:
    if i < len(toks) and toks[i].text == "(":
        return _matching(toks, i) + 1
    if i >= len(toks):
        return i
    name = toks[i].text
    j = i + 1
    if j < len(toks) and toks[j].text == "[":
        j = _matching(toks, j) + 1
    start = j
    while j < len(toks) and toks[j].text != "{" and not _starts_decl(toks, j, start):
        j += 1
    if j < len(toks) and toks[j].text == "{":
        end = _matching(toks, j)
        out.types[name] = toks[start : end + 1]
        return end + 1
    out.types[name] = toks[start:j]
    return j


# --- expressions --------------------------------------------------------------------------------


@dataclass
class Node:
    """`kind`: "composite" (type + elements), "call" (func + args), "func" (a function literal:
    body tokens), "name" (a dotted identifier), "lit" (string/number), "other"."""

    kind: str
    text: str = ""  # the type of a composite, the callee of a call, the name, the literal
    elements: list[tuple[Node | None, Node]] = field(default_factory=list)  # key, value
    args: list[Node] = field(default_factory=list)
    body: list[Tok] = field(default_factory=list)
    tok: Tok | None = None

    def get(self, key: str) -> Node | None:
        """The value of a composite's field `key` (a plain identifier key)."""
        for k, v in self.elements:
            if k is not None and k.kind == "name" and k.text == key:
                return v
        return None

    def is_true(self, key: str) -> bool:
        value = self.get(key)
        return value is not None and value.kind == "name" and value.text == "true"


def parse_expr(toks: list[Tok]) -> Node:
    node, _ = _expr(toks, 0)
    return node


def _split(toks: list[Tok], sep: str) -> list[list[Tok]]:
    parts: list[list[Tok]] = []
    cur: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text in _OPEN:
            end = _matching(toks, i)
            cur += toks[i : end + 1]
            i = end + 1
            continue
        if t.kind == "op" and t.text == sep:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
        i += 1
    if cur:
        parts.append(cur)
    return parts


def _elements(toks: list[Tok]) -> list[tuple[Node | None, Node]]:
    out: list[tuple[Node | None, Node]] = []
    for part in _split(toks, ","):
        pieces = _split(part, ":")
        if len(pieces) >= 2 and pieces[0]:
            key = parse_expr(pieces[0])
            rest = part[len(pieces[0]) + 1 :]
            out.append((key, parse_expr(rest)))
        elif part:
            out.append((None, parse_expr(part)))
    return out


def _expr(toks: list[Tok], i: int) -> tuple[Node, int]:
    """A primary expression with its postfix operators (selector, call, composite, index)."""
    if i >= len(toks):
        return Node("other"), i
    t = toks[i]
    # Unary & and *: transparent.
    if t.kind == "op" and t.text in ("&", "*"):
        return _expr(toks, i + 1)
    if t.kind == "ident" and t.text == "func":  # function literal
        j = i + 1
        while j < len(toks) and toks[j].text != "{":
            if toks[j].kind == "op" and toks[j].text in ("(", "["):
                j = _matching(toks, j)
            j += 1
        if j >= len(toks):
            return Node("other"), j
        end = _matching(toks, j)
        return Node("func", body=toks[j + 1 : end]), end + 1
    if t.kind == "op" and t.text == "{":  # elided-type composite
        end = _matching(toks, i)
        return Node("composite", "", elements=_elements(toks[i + 1 : end])), end + 1
    if t.kind == "op" and t.text == "(":
        end = _matching(toks, i)
        inner, _ = _expr(toks[i + 1 : end], 0)
        return _postfix(inner, toks, end + 1)
    # A type expression: []T, map[K]V, or a (dotted) name.
    start = i
    text = ""
    if t.kind == "op" and t.text == "[":
        end = _matching(toks, i)
        text = "".join(x.text for x in toks[i : end + 1])
        i = end + 1
        while i < len(toks) and toks[i].text in ("*", "&"):
            text += toks[i].text
            i += 1
    elif t.kind == "ident" and t.text == "map" and i + 1 < len(toks) and toks[i + 1].text == "[":
        end = _matching(toks, i + 1)
        text = "map" + "".join(x.text for x in toks[i + 1 : end + 1])
        i = end + 1
        while i < len(toks) and toks[i].text in ("*", "&"):
            text += toks[i].text
            i += 1
    if t.kind in ("string", "number", "rune") and not text:
        return _postfix(Node("lit", t.value, tok=t), toks, i + 1)
    if i < len(toks) and toks[i].kind == "ident":
        text += toks[i].text
        i += 1
        while i + 1 < len(toks) and toks[i].text == "." and toks[i + 1].kind == "ident":
            text += "." + toks[i + 1].text
            i += 2
    if not text:
        return Node("other", tok=toks[start]), start + 1
    if i < len(toks) and toks[i].text == "[" and text and not text.startswith(("[", "map")):
        # Generic instantiation or index: keep it in the name.
        end = _matching(toks, i)
        text += "".join(x.text for x in toks[i : end + 1])
        i = end + 1
    return _postfix(Node("name", text), toks, i)


def _postfix(node: Node, toks: list[Tok], i: int) -> tuple[Node, int]:
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text == "{" and node.kind == "name":
            end = _matching(toks, i)
            node = Node("composite", node.text, elements=_elements(toks[i + 1 : end]))
            i = end + 1
        elif t.kind == "op" and t.text == "(":
            end = _matching(toks, i)
            args = [parse_expr(a) for a in _split(toks[i + 1 : end], ",") if a]
            callee = node.text if node.kind == "name" else f"({node.kind})"
            node = Node("call", callee, args=args)
            i = end + 1
        elif t.kind == "op" and t.text == "." and i + 1 < len(toks) and toks[i + 1].kind == "ident":
            node = Node("name", f"{node.text}.{toks[i + 1].text}") if node.kind != "lit" else node
            i += 2
        else:
            break
    return node, i


def returned(body: list[Tok]) -> list[Node]:
    """The expressions after each `return` of a function body (not of closures inside it)."""
    out: list[Node] = []
    i = 0
    while i < len(body):
        t = body[i]
        if t.kind == "ident" and t.text == "func":
            j = i + 1
            while j < len(body) and body[j].text != "{":
                if body[j].kind == "op" and body[j].text in ("(", "["):
                    j = _matching(body, j)
                j += 1
            i = _matching(body, j) + 1 if j < len(body) else j
            continue
        if t.kind == "ident" and t.text == "return" and i + 1 < len(body):
            node, end = _expr(body, i + 1)
            out.append(node)
            i = max(end, i + 1)
            continue
        i += 1
    return out


def assignments(body: list[Tok], target: str) -> list[Node]:
    """The values assigned to `target` (e.g. `resp.Schema`) in a function body."""
    out: list[Node] = []
    parts = target.split(".")
    n = len(parts) * 2 - 1
    for i in range(len(body) - n):
        seq = [b.text for b in body[i : i + n]]
        if seq == [x for p in parts for x in (p, ".")][:-1] and body[i + n].text in ("=", ":="):
            node, _ = _expr(body, i + n + 1)
            out.append(node)
    return out


def find_composites(node: Node, type_suffix: str) -> list[Node]:
    """Every composite under `node` whose type ends with `type_suffix`, outermost first."""
    found: list[Node] = []

    def walk(n: Node) -> None:
        if n.kind == "composite" and n.text.endswith(type_suffix):
            found.append(n)
            return
        for k, v in n.elements:
            if k is not None:
                walk(k)
            walk(v)
        for a in n.args:
            walk(a)

    walk(node)
    return found
