"""Plan diffs for people and machines: a terminal tree, a pull-request comment, JSON.

Every format puts the dangers first, then the changes grouped by stack, region and component.
Values come from the graphs, where secrets are already the `[secret]` mask; nothing here sees a
secret value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from infra.diff import ABSENT, Change, Kind, PropertyChange, StackDiff, show, to_dict

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


def _property_line(prop: PropertyChange) -> str:
    if prop.old is ABSENT:
        marker, text = "+", f"{prop.path}: {show(prop.new)}"
    elif prop.new is ABSENT:
        marker, text = "-", f"{prop.path}: {show(prop.old)}"
    else:
        marker, text = "~", f"{prop.path}: {show(prop.old)} → {show(prop.new)}"
    if prop.forces_replacement:
        text += "  [forces replacement]"
    if prop.ignored:
        text += "  [in ignoreChanges: not applied]"
    return f"{marker} {text}"


def change_lines(change: Change, *, max_props: int | None, verbose: bool = False) -> list[str]:
    """One change as plain lines: the resource, then its notes and property changes (indented).
    `max_props`: at most that many property lines (None: all)."""
    head = f"{change.kind.symbol} {change.label}"
    if change.kind is Kind.REPLACE:
        head += f"  (replace: {', '.join(change.replace_reasons)})"
    lines = [head]
    notes: list[str] = []
    if change.previous_urn:
        notes.append(f"(renamed from {change.previous_urn.rsplit('::', 1)[-1]}: an alias)")
    if change.caused_by:
        causes = ", ".join(u.rsplit("::", 1)[-1] for u in change.caused_by)
        notes.append(f"(inputs computed from replaced {causes})")
    if change.only_ignored:
        notes.append("(all changes are in ignoreChanges: `pulumi up` leaves it alone)")
    props: list[PropertyChange] = []
    if change.kind is not Kind.CREATE or verbose:
        props = [*change.options, *change.properties]
    shown = props if max_props is None else props[:max_props]
    lines += [f"    {n}" for n in notes]
    lines += [f"    {_property_line(p)}" for p in shown]
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
            out.append(
                f"  {paint(_RED, '!')} {diff.stack} {change.region}: {danger.message}"
                f"  [{danger.code.value}]"
            )
        out.append("")
    for diff in diffs:
        out.append(
            paint(_BOLD, f"Plan diff of {diff.stack}: {diff.base} → {diff.head}")
            + paint(_DIM, f"  ({_mode(diff)})")
        )
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
                    lines = change_lines(change, max_props=None if verbose else 25)
                    flag = paint(_RED, " !") if change.dangers else ""
                    out.append(f"        {paint(_COLORS[change.kind], lines[0])}{flag}")
                    out += [f"        {line}" for line in lines[1:]]
            out.append("")
        if diff.outputs:
            out.append("  Outputs:")
            out += [f"      {_property_line(p)}" for p in diff.outputs]
            out.append("")
        out.append(f"  Resources: {summary_text(diff)}; {diff.unchanged} unchanged")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _mode(diff: StackDiff) -> str:
    values = "computed values unknown" if diff.preview else "computed values mocked"
    return f"offline, Pulumi mock runtime; {values}"


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
        f"computed values {'unknown' if all(d.preview for d in diffs) else 'mocked'}). "
        "Replacements are predicted from `infra/replacements.py`; the real `pulumi preview` "
        "is authoritative where it runs." + (f" Reproduce with `{command}`." if command else ""),
        "",
    ]
    dangers = [(d, c, x) for d in diffs for c, x in d.dangers()]
    if dangers:
        parts += [
            f"#### ⚠️ Dangers ({len(dangers)})",
            "",
            "| stack | region | change | resource | why |",
            "|---|---|---|---|---|",
        ]
        for diff, change, danger in dangers[:max_dangers]:
            parts.append(
                f"| {diff.stack} | {change.region} | {change.kind.value} | "
                f"`{_cell(change.label)}` | {_cell(danger.message)} |"
            )
        if len(dangers) > max_dangers:
            parts.append(f"| … | | | | {len(dangers) - max_dangers} more |")
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
                parts += [_code(line) for line in change_lines(change, max_props=max_props)]
        parts += ["```", "", "</details>", ""]
    if diff.outputs:
        parts += [
            "<details>",
            f"<summary><b>{_html(diff.stack)}</b> · stack outputs ({len(diff.outputs)})</summary>",
            "",
            "```diff",
            *(_code(_property_line(p)) for p in diff.outputs[: max(max_props, 5)]),
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
            "version": 1,
            "dangers": sum(len(d.dangers()) for d in diffs),
            "stacks": [to_dict(d) for d in diffs],
        },
        indent=1,
        sort_keys=True,
        default=str,
    )
