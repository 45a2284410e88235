"""A Go file's top-level declarations: functions, methods, types, constants and variables.

`declarations(source)` returns them by name with their tokens (a function's body, a type's
definition, a variable's value) and the string constants' values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.maintain.golang.tokens import BRACKETS, Tok, matching, tokens


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
        if t.kind == "op" and t.text in BRACKETS:
            i = matching(toks, i) + 1
            continue
        i += 1
    return out


def _func_decl(toks: list[Tok], i: int, out: Declarations) -> int:
    j = i + 1
    recv = None
    if j < len(toks) and toks[j].text == "(":  # method receiver
        end = matching(toks, j)
        inner = [t.text for t in toks[j + 1 : end] if t.kind == "ident"]
        recv = inner[-1] if inner else None
        j = end + 1
    if j >= len(toks) or toks[j].kind != "ident":
        return j
    name = toks[j].text
    j += 1
    if j < len(toks) and toks[j].text == "[":  # type parameters
        j = matching(toks, j) + 1
    # Skip the signature up to the body's brace (brackets inside it are balanced groups).
    while j < len(toks) and toks[j].text != "{":
        if toks[j].kind == "op" and toks[j].text in ("(", "["):
            j = matching(toks, j)
        j += 1
    if j >= len(toks):
        return j
    end = matching(toks, j)
    body = toks[j + 1 : end]
    if recv is None:
        out.funcs[name] = body
    else:
        out.methods[(recv, name)] = body
    return end + 1


def _value_decl(toks: list[Tok], i: int, out: Declarations) -> int:
    if i < len(toks) and toks[i].text == "(":
        end = matching(toks, i)
        _specs(toks[i + 1 : end], out)
        return end + 1
    j = i
    while j < len(toks) and toks[j].text not in (";",) and not _starts_decl(toks, j, i):
        if toks[j].kind == "op" and toks[j].text in BRACKETS:
            j = matching(toks, j)
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
            if t.kind == "op" and t.text in BRACKETS:
                end = matching(toks, end) + 1
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
        return matching(toks, i) + 1
    if i >= len(toks):
        return i
    name = toks[i].text
    j = i + 1
    if j < len(toks) and toks[j].text == "[":
        j = matching(toks, j) + 1
    start = j
    while j < len(toks) and toks[j].text != "{" and not _starts_decl(toks, j, start):
        j += 1
    if j < len(toks) and toks[j].text == "{":
        end = matching(toks, j)
        out.types[name] = toks[start : end + 1]
        return end + 1
    out.types[name] = toks[start:j]
    return j
