"""Readable plans of a synthesized graph: resources grouped by region and component.

Pure functions over `infra.review.graph.Graph`; nothing here runs the program.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from infra.review.graph import UNKNOWN, Graph, Resource, join_path
from infra.review.placeholders import LEGEND, Placeholders

GLOBAL = "global"  # resources on no AWS region: the Cloudflare edge, generated secrets


def short_type(type_: str) -> str:
    """`aws:ec2/subnet:Subnet` -> `ec2.Subnet`; `python-org:web:WebTier` -> `WebTier`."""
    pkg, _, rest = type_.partition(":")
    module, _, kind = rest.partition(":")
    if pkg == "python-org":
        return kind
    if pkg == "pulumi" and module.startswith("providers"):
        return f"provider:{kind}"
    module = module.split("/")[0]
    return f"{module}.{kind}" if module and module != "index" else kind


def region_of(graph: Graph, res: Resource) -> str:
    """The AWS region a resource (or component) belongs to, or GLOBAL."""
    if res.region:
        return res.region
    if res.is_provider:
        region = res.inputs.get("region")
        return region if isinstance(region, str) else GLOBAL
    if not res.custom:
        regions = {region_of(graph, c) for c in graph.children(res.urn)}
        regions.discard(GLOBAL)
        if len(regions) == 1:
            return regions.pop()
    return GLOBAL


@dataclass
class Group:
    """One component instance and the custom resources directly or indirectly in it."""

    component: str  # short type of the component, or "(stack)"
    name: str
    resources: list[Resource] = field(default_factory=list)

    @property
    def counts(self) -> Counter[str]:
        return Counter(short_type(r.type) for r in self.resources)


def grouped(graph: Graph) -> dict[str, list[Group]]:
    """Region -> component groups (leaf components: Network, WebTier, ...), in stable order."""
    groups: dict[tuple[str, str], Group] = {}
    by_region: dict[str, list[Group]] = defaultdict(list)
    for res in graph:
        if not res.custom:
            continue
        comp = graph.component_of(res)
        key = (comp.urn, "") if comp else ("", "")
        if key not in groups:
            group = Group(
                component=short_type(comp.type) if comp else "(stack)",
                name=comp.name if comp else graph.stack,
            )
            groups[key] = group
            region = region_of(graph, comp) if comp else region_of(graph, res)
            if comp is None and res.is_provider:
                region = GLOBAL
            by_region[region].append(group)
        groups[key].resources.append(res)
    for group in groups.values():  # registrations complete in no fixed order
        group.resources.sort(key=lambda r: (short_type(r.type), r.name, r.urn))
    order = region_order(graph)
    return {
        region: sorted(by_region[region], key=lambda g: (g.component, g.name))
        for region in sorted(by_region, key=lambda r: (r not in order, order.get(r, 0), r))
    }


def region_order(graph: Graph) -> dict[str, int]:
    """Region -> position: the home region first, then the stack's regions in config order (the
    `region_order` output; mappings such as the `regions` output come back with their keys
    reordered, and registrations complete in no fixed order)."""
    home = graph.outputs.get("home_region")
    ordered = graph.outputs.get("region_order")
    names = list(ordered) if isinstance(ordered, list) else []
    names += sorted(
        r.inputs["region"] for r in graph.of_type("pulumi:providers:aws") if "region" in r.inputs
    )
    regions = graph.outputs.get("regions")
    names += list(regions) if isinstance(regions, dict) else []
    names = list(dict.fromkeys(n for n in names if isinstance(n, str)))
    names.sort(key=lambda n: n != home)
    return {n: i for i, n in enumerate(names)}


def sort_regions(regions: set[str] | list[str], *graphs: Graph) -> list[str]:
    """Regions in the stack's order (home first), then any others by name, GLOBAL last."""
    order: dict[str, int] = {}
    for graph in graphs:
        for name in region_order(graph):
            order.setdefault(name, len(order))
    return sorted(regions, key=lambda r: (r == GLOBAL, r not in order, order.get(r, 0), r))


def component_label(graph: Graph, res: Resource) -> str:
    """`WebTier us-east-2` for a resource in a component, `(stack)` for one outside any."""
    comp = graph.component_of(res)
    return f"{short_type(comp.type)} {comp.name}" if comp else "(stack)"


def region_label(graph: Graph, region: str) -> str:
    return _region_label(graph, region)


def _region_label(graph: Graph, region: str) -> str:
    if region == GLOBAL:
        return "global (Cloudflare edge, generated secrets, providers)"
    regions = graph.outputs.get("regions")
    info = regions.get(region, {}) if isinstance(regions, dict) else {}
    role = info.get("database_role") if isinstance(info, dict) else None
    if region == graph.outputs.get("home_region"):
        return f"{region} (home: database primary, media origin)"
    return f"{region} (database {role})" if role else region


def render_tree(graph: Graph, *, verbose: bool = False, color: bool = False) -> str:
    """The offline preview as `pulumi preview` would list it, grouped by region and component."""
    green = "\033[32m" if color else ""
    bold = "\033[1m" if color else ""
    reset = "\033[0m" if color else ""
    mode = "computed values unknown" if graph.preview else "computed values mocked"
    lines = [
        f"{bold}Offline preview of {graph.project}/{graph.stack}{reset}  "
        f"(mock runtime, no cloud calls; {mode})",
        "",
    ]
    total = 0
    for region, groups in grouped(graph).items():
        count = sum(len(g.resources) for g in groups)
        total += count
        lines.append(f"{green}+{reset} {bold}{_region_label(graph, region)}{reset}  [{count}]")
        for group in groups:
            counts = ", ".join(f"{t} {n}" for t, n in sorted(group.counts.items()))
            lines.append(
                f"    {green}+{reset} {group.component} {group.name}  [{len(group.resources)}]"
            )
            lines += textwrap.wrap(
                counts, width=100, initial_indent=" " * 8, subsequent_indent=" " * 8
            )
            if verbose:
                for res in group.resources:
                    flags = " (protected)" if res.protect else ""
                    lines.append(
                        f"        {green}+{reset} {short_type(res.type)} {res.name}{flags}"
                    )
        lines.append("")
    protected = sum(1 for r in graph if r.protect)
    lines.append(f"Resources: {green}+ {total} to create{reset} ({protected} protected)")
    if graph.outputs:
        marks = Placeholders(graph.placeholders)
        lines += ["", "Outputs:", *_outputs(graph.outputs, "    ", region_order(graph), marks)]
        if placeholder_outputs(graph):
            lines += ["", f"({LEGEND}.)"]
    return "\n".join(lines)


def _outputs(
    value: Any,
    indent: str,
    order: dict[str, int] | None = None,
    marks: Placeholders | None = None,
) -> list[str]:
    """Stack outputs as `pulumi preview` shows them: sorted (regions in stack order), values
    computed at apply time as `(known after apply)`, the mocks' inventions as `‹…›`."""
    order = order or {}
    marks = marks or Placeholders()
    lines = []
    for key in sorted(value, key=lambda k: (k not in order, order.get(k, 0), k)):
        val = value[key]
        if isinstance(val, dict):
            lines.append(f"{indent}{key}:")
            lines += _outputs(val, indent + "    ", order, marks)
        elif val == UNKNOWN:
            lines.append(f"{indent}{key}: (known after apply)")
        elif isinstance(val, str) and marks.get(val):
            lines.append(f"{indent}{key}: {marks.get(val)}")
        else:
            lines.append(f"{indent}{key}: {marks.sub(json.dumps(val))}")
    return lines


def placeholder_outputs(graph: Graph) -> list[str]:
    """Paths of the stack outputs whose values hold something the mocks invented."""
    marks = Placeholders(graph.placeholders)
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                walk(value[key], join_path(path, str(key)))
        elif marks.found_in(value):
            found.append(path)

    if marks:
        walk(graph.outputs, "")
    return found


def summary(graph: Graph) -> dict[str, Any]:
    """Machine-readable counts by region and component."""
    return {
        "project": graph.project,
        "stack": graph.stack,
        "resources": len([r for r in graph if r.custom]),
        "regions": {
            region: {f"{g.component} {g.name}": dict(sorted(g.counts.items())) for g in groups}
            for region, groups in grouped(graph).items()
        },
        "outputs": graph.outputs,
        # Outputs holding a value the mocks invented (an endpoint, a generated name): not real.
        "placeholderOutputs": placeholder_outputs(graph),
    }
