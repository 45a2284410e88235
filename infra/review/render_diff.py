"""Plan diffs for people and machines: a terminal tree, a pull-request comment, JSON.

Every format puts the dangers first, then the changes grouped by stack, region and component.
Values come from the graphs, where secrets are already the `[secret]` mask; nothing here sees a
secret value.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from collections.abc import Callable, Sequence

from infra.review.diff import (
    ABSENT,
    Change,
    DangerClass,
    Kind,
    PropertyChange,
    StackDiff,
    decoded_text,
    show,
    to_dict,
)
from infra.review.placeholders import LEGEND, Placeholders

WIDTH = 100  # the tree fits a 100-column terminal

# GitHub rejects comments over 65,536 characters; leave room for the sticky-comment action.
MARKDOWN_LIMIT = 60_000
MARKER = "<!-- python-org-infra: offline plan diff -->"

_COLORS = {
    Kind.CREATE: "\033[32m",
    Kind.UPDATE: "\033[33m",
    Kind.REPLACE: "\033[35m",
    Kind.DELETE: "\033[31m",
}
_BOLD, _RED, _DIM, _RESET = "\033[1m", "\033[1;31m", "\033[2m", "\033[0m"

_VERBS = {
    Kind.CREATE: "to create",
    Kind.UPDATE: "to update",
    Kind.REPLACE: "to replace",
    Kind.DELETE: "to delete",
}


def summary_text(diff: StackDiff, region: str | None = None) -> str:
    counts = diff.counts(region)
    parts = [f"{counts[k.value]} {_VERBS[k]}" for k in Kind if counts[k.value]]
    return ", ".join(parts) or "no changes"


def _notes(prop: PropertyChange) -> str:
    text = ""
    if prop.forces_replacement:
        text += "  [forces replacement]"
    elif prop.conditional:
        text += "  [may force replacement]"
    if prop.ignored:
        text += "  [in ignoreChanges: not applied]"
    return text


def property_lines(prop: PropertyChange, placeholders: Placeholders | None = None) -> list[str]:
    """One property change as lines: `~ path: old → new`; long text as a unified diff of the
    decoded text (user data, documents); values are never cut; what the mocks invented shows
    as `‹what it stands for›`; a changed secret as `changed (secret)`, nothing of its value."""
    if prop.secret_changed:
        return [f"~ {prop.path}: changed (secret){_notes(prop)}"]
    old, new = decoded_text(prop.old), decoded_text(prop.new)
    if old is not None and new is not None and placeholders:
        old, new = placeholders.sub(old), placeholders.sub(new)
    if old is not None and new is not None and (max(len(old), len(new)) > 60 or "\n" in old + new):
        diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=2))[2:]
        return [f"~ {prop.path}: (text){_notes(prop)}", *(f"    {line}" for line in diff)]
    if prop.old is ABSENT:
        return [f"+ {prop.path}: {show(prop.new, placeholders)}{_notes(prop)}"]
    if prop.new is ABSENT:
        return [f"- {prop.path}: {show(prop.old, placeholders)}{_notes(prop)}"]
    return [
        f"~ {prop.path}: {show(prop.old, placeholders)} → "
        f"{show(prop.new, placeholders)}{_notes(prop)}"
    ]


def fit(line: str, width: int = WIDTH) -> list[str]:
    """A line wrapped to `width` columns (continuations indented under it), never cut."""
    if len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    # A placeholder's label stays on one line: its spaces are not break points.
    protected = _LABEL.sub(lambda m: m.group(0).replace(" ", _NBSP), line)
    wrapped = textwrap.wrap(
        protected,
        width=width,
        subsequent_indent=" " * (indent + 4),
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
    )
    return [w.replace(_NBSP, " ") for w in wrapped]


_LABEL = re.compile("‹[^‹›]*›")
_NBSP = "\u00a0"  # not whitespace to textwrap


def change_lines(
    change: Change,
    *,
    max_props: int | None,
    verbose: bool = False,
    placeholders: Placeholders | None = None,
) -> list[str]:
    """One change as plain lines: the resource, then its notes and property changes (indented).
    `max_props`: at most that many property lines (None: all)."""
    head = f"{change.kind.symbol} {change.label}"
    if change.protected:
        head += " (protected)"
    if change.kind is Kind.REPLACE:
        head += f"  (replace: {', '.join(change.replace_reasons)})"
    lines = [head]
    notes: list[str] = []
    if change.previous_urn:
        notes.append(f"(renamed from {change.previous_urn.rsplit('::', 1)[-1]}: an alias)")
    if change.caused_by:
        causes = ", ".join(u.rsplit("::", 1)[-1] for u in change.caused_by)
        notes.append(f"(inputs computed from created or replaced {causes})")
    if change.only_ignored:
        notes.append("(all changes are in ignoreChanges: `pulumi up` leaves it alone)")
    props: list[PropertyChange] = []
    if change.kind is not Kind.CREATE or verbose:
        props = [*change.options, *change.properties]
    shown = props if max_props is None else props[:max_props]
    lines += [f"    {n}" for n in notes]
    lines += [f"    {line}" for p in shown for line in property_lines(p, placeholders)]
    if len(shown) < len(props):
        lines.append(f"    … {len(props) - len(shown)} more")
    return lines


# --- terminal ---------------------------------------------------------------------------------


def render_tree(diffs: Sequence[StackDiff], *, color: bool = False, verbose: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    out: list[str] = []
    dangers = [(d, c, x) for d in diffs for c, x in d.dangers()]
    if dangers:
        out.append(paint(_RED, f"DANGER: {len(dangers)} to review before merging"))
        for diff, change, danger in dangers:
            text = (
                f"  ! {diff.stack} {change.region}: {danger.message}"
                f"  [{danger.danger_class.value}: {danger.code.value}]"
            )
            wrapped = fit(text)
            out.append(wrapped[0].replace("!", paint(_RED, "!"), 1))
            out += wrapped[1:]
            out += fit(f"      what to do: {danger.remedy}")
        out.append("")
    for diff in diffs:
        out.append(paint(_BOLD, f"Plan diff of {diff.stack}: {diff.base} → {diff.head}"))
        out.append(paint(_DIM, f"  ({_mode(diff)})"))
        if diff.error:
            out += [paint(_RED, f"  synthesis failed: {diff.error}"), ""]
            continue
        if diff.empty:
            out += [f"  no changes ({diff.unchanged} resources unchanged)", ""]
            continue
        for region, comps in diff.by_region().items():
            out.append(f"  {paint(_BOLD, region)}  [{summary_text(diff, region)}]")
            for comp, changes in comps.items():
                out.append(f"      {comp}")
                for change in changes:
                    lines = change_lines(
                        change, max_props=None if verbose else 25, placeholders=diff.placeholders
                    )
                    flag = " !" if change.dangers else ""
                    head = fit(f"        {lines[0]}{flag}")
                    out.append(paint(_COLORS[change.kind], head[0]))
                    out += head[1:]
                    out += [w for line in lines[1:] for w in fit(f"        {line}")]
            out.append("")
        if diff.outputs:
            out.append("  Outputs:")
            out += [
                w
                for p in diff.outputs
                for line in property_lines(p, diff.placeholders)
                for w in fit(f"      {line}")
            ]
            out.append("")
        out.append(f"  Resources: {summary_text(diff)}; {diff.unchanged} unchanged")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _mode(diff: StackDiff) -> str:
    if diff.preview:
        return "offline, Pulumi mock runtime; computed values unknown"
    return "offline, Pulumi mock runtime, both sides as applied; ‹…›: a value the mocks invented"


# --- pull-request comment ---------------------------------------------------------------------


def render_markdown(
    diffs: Sequence[StackDiff], *, limit: int = MARKDOWN_LIMIT, command: str = ""
) -> str:
    """A pull-request comment: dangers, a summary table per stack and region, then the details
    in collapsible sections, shortened until the whole fits in `limit` characters."""
    # From most to least detail; the first that fits wins.
    levels: list[Callable[[StackDiff], list[str]]] = [
        lambda d: _details(d, max_props=30),
        lambda d: _details(d, max_props=5),
        lambda d: _details(d, max_props=0),
        lambda d: [],
    ]
    text = ""
    for level, details in enumerate(levels):
        parts = _markdown_head(diffs, command, max_dangers=200 if level < 3 else 40)
        for diff in diffs:
            parts += details(diff)
        if level:
            parts.append(
                "\n_Details shortened to fit a comment; run the command above locally, or "
                "see the JSON (`--format json`), for every property._"
            )
        text = "\n".join(parts).rstrip() + "\n"
        if len(text) <= limit:
            return text
    return text[: limit - 80] + "\n\n_…cut to fit a comment._\n"


def _markdown_head(diffs: Sequence[StackDiff], command: str, *, max_dangers: int) -> list[str]:
    bases = sorted({d.base for d in diffs})
    heads = sorted({d.head for d in diffs})
    parts = [
        MARKER,
        f"### Offline plan: `{', '.join(bases)}` → `{', '.join(heads)}`",
        "",
        "Synthesized offline under Pulumi's mock runtime (no credentials, no cloud calls; "
        + (
            "computed values unknown). "
            if all(d.preview for d in diffs)
            else f"both sides as applied, {LEGEND}). "
        )
        + "Replacements come from the providers' schemas (`infra/data/replacements.json`); the "
        "real `pulumi preview` is authoritative where it runs."
        + (f" Reproduce with `{command}`." if command else ""),
        "",
    ]
    outage = [(d, c, x) for d in diffs for c, x in d.dangers(DangerClass.OUTAGE)]
    others = [
        (d, c, x) for d in diffs for c, x in d.dangers() if x.danger_class is not DangerClass.OUTAGE
    ]
    for title, found in (
        (f"🚧 Outage ({len(outage)})", outage),
        (f"⚠️ Dangers ({len(others)})", others),
    ):
        if not found:
            continue
        parts += [
            f"#### {title}",
            "",
            "| stack | region | change | resource | why | what to do |",
            "|---|---|---|---|---|---|",
        ]
        for diff, change, danger in found[:max_dangers]:
            parts.append(
                f"| {diff.stack} | {change.region} | {change.kind.value} | "
                f"`{_cell(change.label)}` | {_cell(danger.message)} | {_cell(danger.remedy)} |"
            )
        if len(found) > max_dangers:
            parts.append(f"| … | | | | {len(found) - max_dangers} more | |")
        parts.append("")
    parts += [
        "#### Summary",
        "",
        "| stack | region | create | update | replace | delete | dangers |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for diff in diffs:
        if diff.error:
            parts.append(f"| {diff.stack} | ❌ synthesis failed: {_cell(diff.error)} | | | | | |")
            continue
        if diff.empty:
            parts.append(f"| {diff.stack} | no changes ({diff.unchanged} resources) | | | | | |")
            continue
        for region in diff.by_region():
            c = diff.counts(region)
            parts.append(
                f"| {diff.stack} | {region} | {c['create']} | {c['update']} | {c['replace']} "
                f"| {c['delete']} | {c['danger'] or ''} |"
            )
        if diff.outputs:
            parts.append(f"| {diff.stack} | stack outputs | | {len(diff.outputs)} | | | |")
    parts.append("")
    return parts


def _details(diff: StackDiff, *, max_props: int) -> list[str]:
    parts: list[str] = []
    for region, comps in diff.by_region().items():
        count = sum(len(v) for v in comps.values())
        parts += [
            "<details>",
            f"<summary><b>{_html(diff.stack)}</b> · {_html(region)}: "
            f"{_html(summary_text(diff, region))} ({count})</summary>",
            "",
            "```diff",
        ]
        for comp, changes in comps.items():
            parts.append(f"# {comp}")
            for change in changes:
                lines = change_lines(change, max_props=max_props, placeholders=diff.placeholders)
                parts += [_code(line) for line in lines]
        parts += ["```", "", "</details>", ""]
    if diff.outputs:
        parts += [
            "<details>",
            f"<summary><b>{_html(diff.stack)}</b> · stack outputs ({len(diff.outputs)})</summary>",
            "",
            "```diff",
            *(
                _code(line)
                for p in diff.outputs[: max(max_props, 5)]
                for line in property_lines(p, diff.placeholders)
            ),
            "```",
            "",
            "</details>",
            "",
        ]
    return parts


def _cell(text: str) -> str:
    return _html(text).replace("|", "\\|").replace("\n", " ")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(line: str) -> str:
    """A line inside a fenced block: a value must not close the fence."""
    return line.replace("```", "`\u200b``")


# --- JSON -------------------------------------------------------------------------------------


def render_json(diffs: Sequence[StackDiff]) -> str:
    return json.dumps(
        {
            "format": "python-org-infra/plan-diff",
            "version": 3,
            "dangers": sum(len(d.dangers()) for d in diffs),
            "dangerClasses": {k.value: sum(len(d.dangers(k)) for d in diffs) for k in DangerClass},
            "stacks": [to_dict(d) for d in diffs],
        },
        indent=1,
        sort_keys=True,
        default=str,
    )
