"""A stack at a glance: regions, their components and the edge, with what depends on what.

`to_dot(graph)` draws one box per leaf component instance (Network, WebTier, Database, ...),
inside a cluster per AWS region, plus a cluster for what is on no region (the Cloudflare edge,
generated secrets). An arrow A → B means a resource of A takes an input from, or depends on, a
resource of B; arrows between regions (replica → primary, replication → replica buckets) are
drawn bold. Providers are left out: every resource of a region uses its region's provider.

`render(dot, path)` turns it into SVG (or any format Graphviz knows, by the file's suffix) with
Graphviz's `dot` (Debian/Ubuntu package `graphviz`); a `.dot` path gets the DOT text itself.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

from infra.review.graph import Graph, Resource
from infra.review.plan import GLOBAL, region_label, region_of, short_type, sort_regions

_FILL = {
    "Network": "#e8e8e8",
    "WebTier": "#d6e6ff",
    "Database": "#ffe2c6",
    "Assets": "#d9f2d9",
    "SiteCertificate": "#eadcff",
    "MediaReplication": "#cdeeee",
    "Edge": "#fde3c8",
    "DnsValidation": "#fdf0c8",
    "Cache": "#ffd6d6",
    "Search": "#fff3b0",
    "Workers": "#c9e4ff",
    "Mail": "#e6d9c9",
}
_DEFAULT_FILL = "#f5f5f5"
# What a box names of its contents: the resources a reader looks for, not the most numerous.
_HEADLINE = (
    "lb.LoadBalancer",
    "autoscaling.Group",
    "rds.Instance",
    "elasticache.ReplicationGroup",
    "opensearch.Domain",
    "sesv2.EmailIdentity",
    "s3.Bucket",
    "kms.Key",
    "acm.Certificate",
    "ec2.Vpc",
    "ec2.NatGateway",
    "s3.BucketReplicationConfig",
    "RandomPassword",
    "LoadBalancer",
    "LoadBalancerPool",
    "DnsRecord",
    "Ruleset",
)


class DiagramError(Exception):
    pass


def _group_key(graph: Graph, res: Resource) -> str:
    """The leaf component a resource is drawn in (its URN), or the stack's own group."""
    comp = graph.component_of(res)
    return comp.urn if comp else f"(stack)::{region_of(graph, res)}"


def to_dot(graph: Graph) -> str:
    groups: dict[str, list[Resource]] = {}
    for res in graph:
        if res.custom and not res.is_provider:
            groups.setdefault(_group_key(graph, res), []).append(res)

    ids = {key: f"n{i}" for i, key in enumerate(sorted(groups))}
    region_of_group: dict[str, str] = {}
    for key, members in groups.items():
        comp = graph.resources.get(key)
        region_of_group[key] = region_of(graph, comp) if comp else region_of(graph, members[0])

    edges: Counter[tuple[str, str]] = Counter()
    for key, members in groups.items():
        for res in members:
            for dep in res.dependencies:
                if dep not in graph.resources:
                    continue
                target = graph.get(dep)
                if not target.custom or target.is_provider:
                    continue
                other = _group_key(graph, target)
                if other != key and other in groups:
                    edges[(key, other)] += 1

    title = f"{graph.project}/{graph.stack}"
    lines = [
        f"digraph {_quote(title)} {{",
        f"  label={_quote(title + '   (A → B: A depends on B)')};",
        "  labelloc=t; fontname=Helvetica; fontsize=18;",
        "  rankdir=LR; newrank=true; compound=true; nodesep=0.35; ranksep=0.9;",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=11];',
        "  edge [color=gray40, arrowsize=0.7];",
    ]
    regions = sort_regions({region_of_group[k] for k in groups}, graph)
    for index, region in enumerate(regions):
        keys = sorted(k for k in groups if region_of_group[k] == region)
        label = (
            "global: " + _global_label(groups, keys)
            if region == GLOBAL
            else region_label(graph, region)
        )
        lines += [
            f"  subgraph cluster_{index} {{",
            f"    label={_quote(label)};",
            '    style="rounded,dashed"; color=gray50; fontsize=14;',
        ]
        lines += [f"    {ids[k]} {_node(graph, k, groups[k])};" for k in keys]
        lines.append("  }")
    for (src, dst), count in sorted(edges.items()):
        cross = region_of_group[src] != region_of_group[dst]
        style = ' [penwidth=2, color="#b5543c"]' if cross else ""
        lines.append(f"  {ids[src]} -> {ids[dst]}{style};  // {count} dependencies")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _global_label(groups: dict[str, list[Resource]], members: list[str]) -> str:
    types = {r.type.split(":")[0] for k in members for r in groups[k]}
    return "Cloudflare edge" if "cloudflare" in types else "no region"


def _node(graph: Graph, key: str, members: list[Resource]) -> str:
    comp = graph.resources.get(key)
    kind = short_type(comp.type) if comp else "stack"
    name = comp.name if comp else graph.stack
    counts = Counter(short_type(r.type) for r in members)
    top = [t for t in _HEADLINE if t in counts][:3] or [
        t for t, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:2]
    ]
    shown = " · ".join(f"{counts[t]}× {t}" if counts[t] > 1 else t for t in top)
    total = f"{len(members)} resource{'s' if len(members) != 1 else ''}"
    label = f"{kind}\n{name}\n{shown}\n{total}"
    fill = _FILL.get(kind, _DEFAULT_FILL)
    protected = any(r.protect for r in members)
    border = ", penwidth=2, color=black" if protected else ""
    return f'[label={_quote(label)}, fillcolor="{fill}"{border}]'


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render(dot: str, path: Path) -> None:
    """Write `dot` to `path`, rendered by Graphviz in the format of its suffix (`.dot`: as is)."""
    fmt = path.suffix.lstrip(".").lower() or "svg"
    if fmt in ("dot", "gv"):
        path.write_text(dot)
        return
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramError(
            "Graphviz's `dot` is not installed (Debian/Ubuntu: apt-get install graphviz); "
            f"give a .dot file to write the graph source instead of {path.name}"
        )
    proc = subprocess.run(
        [exe, f"-T{fmt}", "-o", str(path)], input=dot, text=True, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise DiagramError(f"dot -T{fmt} failed: {proc.stderr.strip()}")
