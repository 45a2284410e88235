"""Which inputs force a replacement, read from the Terraform providers' own sources.

pulumi-aws, pulumi-cloudflare and pulumi-random bridge Terraform providers, and the bridge
reports a replacement exactly when the Terraform schema says so: `ForceNew: true` on an SDKv2
attribute (terraform-provider-aws' older resources), a `RequiresReplace` plan modifier on a
plugin-framework attribute or block (terraform-provider-aws' newer resources, all of
terraform-provider-cloudflare v5 and terraform-provider-random). This script reads those
schemas from the Go sources (`infra.maintain.golang`), maps Terraform attribute names onto the
Pulumi property names of the installed SDKs (snake_case to camelCase, the bridge's pluralized
list names and flattened single-item blocks, read from the SDKs' own input types), and builds the
data file `infra/data/replacements.json` that the plan diff reads
(`infra.review.replacement_data`).

Sources are git directories (a bare mirror or a clone) read at a tag with `git`, never a work
tree, so any maintainer can rebuild the file from public repositories:
- `GitSource`: a provider repository (terraform-provider-cloudflare, terraform-provider-random,
  or terraform-provider-aws itself, whose resources carry `@SDKResource`/`@FrameworkResource`
  annotations);
- `AwsIndexSource`: lonegunmanb/terraform-provider-aws-index, which republishes every function,
  method and type of terraform-provider-aws at each release tag, one file each (used where the
  full terraform-provider-aws repository is too large to fetch).

Run through `scripts/extract_replacements` (`infra.cli.extract_replacements`). Nothing here is
imported by the program, the preview or the diff.

Its modules under `infra/maintain/`: `tf_sources` (the git sources), `tf_schema` (the schema
reader), `pulumi_sdk` (the installed SDKs' types and property names), `tf_to_pulumi` (the
mapping); this one builds the data file from them (`build`) and writes it (`dump`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infra.maintain.pulumi_sdk import args_class, props_of, pulumi_types
from infra.maintain.tf_schema import SchemaReader
from infra.maintain.tf_sources import Source
from infra.maintain.tf_to_pulumi import map_paths, tf_type_for


@dataclass
class Provider:
    name: str  # aws, cloudflare, random (the Pulumi package name)
    sdk: str  # pulumi_aws
    source: Source
    modules: tuple[str, ...] | None  # Pulumi modules to cover (None: every one)


@dataclass
class Report:
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def build(
    providers: Iterable[Provider], required: Iterable[str] = ()
) -> tuple[dict[str, Any], Report]:
    """The data file's content, and what could not be mapped."""
    report = Report()
    sources: dict[str, Any] = {}
    packages: dict[str, str] = {}
    required = set(required)
    for provider in providers:
        from importlib.metadata import version

        sources[provider.name] = provider.source.provenance()
        packages[provider.name] = version(provider.sdk.replace("_", "-"))
        available = provider.source.resources()
        reader = SchemaReader(provider.source)
        for ptype in pulumi_types(provider.sdk):
            module = ptype.token.split(":")[1].split("/")[0]
            wanted = provider.modules is None or module in provider.modules
            if not wanted and ptype.token not in required:
                continue
            tf_type = tf_type_for(ptype, provider.name, available)
            if tf_type is None:
                report.problems.append(f"{ptype.token}: no Terraform resource found")
                continue
            cls = args_class(ptype)
            if cls is None:
                report.problems.append(f"{ptype.token}: no {ptype.cls}Args in {ptype.module}")
                continue
            resource = reader.read(tf_type, available[tf_type])
            props = props_of(cls)
            mapped = map_paths(resource.attrs, props, tf_type=tf_type)
            if (
                provider.name == "aws"
                and "region" in props.props
                and "region" not in resource.attrs
            ):
                # terraform-provider-aws v6 adds `region` to every regional resource and forces
                # a new resource when it changes (internal/provider/sdkv2 forceNewIfRegionChanges,
                # internal/provider/framework resourceForceNewIfRegionChangesInterceptor).
                mapped.replace.append("region")
            report.problems += [f"{ptype.token} ({tf_type}): {w}" for w in resource.warnings]
            report.problems += [
                f"{ptype.token} ({tf_type}): forced {p} has no Pulumi property"
                for p in mapped.unmapped
            ]
            entry: dict[str, Any] = {"tf": tf_type, "replace": sorted(set(mapped.replace))}
            if mapped.conditional:
                entry["conditional"] = sorted(set(mapped.conditional) - set(mapped.replace))
            report.entries[ptype.token] = entry
    missing = sorted(required - set(report.entries))
    report.problems += [f"{t}: declared by the program but not extracted" for t in missing]
    doc = {
        "about": (
            "Input paths whose change forces a replacement, per Pulumi resource type, read from "
            "the bridged Terraform providers' schemas (ForceNew, RequiresReplace). Generated by "
            "scripts/extract_replacements; do not edit by hand."
        ),
        "paths": "camelCase Pulumi property paths; [*] is any element of a list or map",
        "sources": sources,
        "packages": packages,
        "types": dict(sorted(report.entries.items())),
    }
    return doc, report


def dump(doc: dict[str, Any]) -> str:
    """The data file's text: stable, one line per type (small, readable diffs)."""
    head = {k: v for k, v in doc.items() if k != "types"}
    lines = ["{"]
    for key, value in head.items():
        lines.append(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)},")
    lines.append('  "types": {')
    items = list(doc["types"].items())
    for i, (token, entry) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(token)}: {json.dumps(entry, sort_keys=True)}{comma}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)
