"""Go expressions as nested `Node`s: composite literals, calls, selectors, function literals.

`parse_expr(tokens)` parses one expression, `expr_at(tokens, i)` the one starting at `i` (and
where it ends); `returned` and `assignments` find the expressions a function body returns or
assigns to a name; `find_composites` the composite literals of a type under a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.maintain.golang.tokens import BRACKETS, Tok, matching


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
    node, _ = expr_at(toks, 0)
    return node


def _split(toks: list[Tok], sep: str) -> list[list[Tok]]:
    parts: list[list[Tok]] = []
    cur: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text in BRACKETS:
            end = matching(toks, i)
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


def expr_at(toks: list[Tok], i: int) -> tuple[Node, int]:
    """A primary expression with its postfix operators (selector, call, composite, index)."""
    if i >= len(toks):
        return Node("other"), i
    t = toks[i]
    # Unary & and *: transparent.
    if t.kind == "op" and t.text in ("&", "*"):
        return expr_at(toks, i + 1)
    if t.kind == "ident" and t.text == "func":  # function literal
        j = i + 1
        while j < len(toks) and toks[j].text != "{":
            if toks[j].kind == "op" and toks[j].text in ("(", "["):
                j = matching(toks, j)
            j += 1
        if j >= len(toks):
            return Node("other"), j
        end = matching(toks, j)
        return Node("func", body=toks[j + 1 : end]), end + 1
    if t.kind == "op" and t.text == "{":  # elided-type composite
        end = matching(toks, i)
        return Node("composite", "", elements=_elements(toks[i + 1 : end])), end + 1
    if t.kind == "op" and t.text == "(":
        end = matching(toks, i)
        inner, _ = expr_at(toks[i + 1 : end], 0)
        return _postfix(inner, toks, end + 1)
    # A type expression: []T, map[K]V, or a (dotted) name.
    start = i
    text = ""
    if t.kind == "op" and t.text == "[":
        end = matching(toks, i)
        text = "".join(x.text for x in toks[i : end + 1])
        i = end + 1
        while i < len(toks) and toks[i].text in ("*", "&"):
            text += toks[i].text
            i += 1
    elif t.kind == "ident" and t.text == "map" and i + 1 < len(toks) and toks[i + 1].text == "[":
        end = matching(toks, i + 1)
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
        end = matching(toks, i)
        text += "".join(x.text for x in toks[i : end + 1])
        i = end + 1
    return _postfix(Node("name", text), toks, i)


def _postfix(node: Node, toks: list[Tok], i: int) -> tuple[Node, int]:
    while i < len(toks):
        t = toks[i]
        if t.kind == "op" and t.text == "{" and node.kind == "name":
            end = matching(toks, i)
            node = Node("composite", node.text, elements=_elements(toks[i + 1 : end]))
            i = end + 1
        elif t.kind == "op" and t.text == "(":
            end = matching(toks, i)
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
                    j = matching(body, j)
                j += 1
            i = matching(body, j) + 1 if j < len(body) else j
            continue
        if t.kind == "ident" and t.text == "return" and i + 1 < len(body):
            node, end = expr_at(body, i + 1)
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
            node, _ = expr_at(body, i + n + 1)
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
