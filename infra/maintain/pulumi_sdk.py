"""Pulumi's side of the replacement data: the installed SDKs' resource types and property names.

The types come from an SDK's own registration table, the property names and nested input types
from its `...Args` classes; `python_name` finds the SDK's name for a Terraform attribute.
Part of `scripts/extract_replacements` (`infra.maintain.extract_replacements`).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infra.maintain.tf_sources import SourceError


@dataclass(frozen=True)
class PulumiType:
    token: str  # aws:ec2/vpc:Vpc
    module: str  # pulumi_aws.ec2
    cls: str  # Vpc


def pulumi_types(package: str) -> list[PulumiType]:
    """Every resource type of an installed Pulumi SDK (from its registration table)."""
    mod = importlib.import_module(package)
    init = Path(mod.__file__ or "").read_text()
    m = re.search(r'resource_modules="""\s*(\[.*?\])\s*"""', init, re.DOTALL)
    if m is None:
        raise SourceError(f"{package}: no resource registration table in __init__.py")
    out = []
    for entry in json.loads(m.group(1)):
        for token, cls in entry["classes"].items():
            out.append(PulumiType(token, entry["fqn"], cls))
    return sorted(out, key=lambda t: t.token)


@dataclass
class PulumiProps:
    """An input type's properties: python name -> (pulumi name, is list/map, nested type)."""

    props: dict[str, tuple[str, str, type | None]]


def _nested(annotation: Any, module: Any) -> tuple[str, type | None]:
    text = str(annotation)
    m = re.search(r"ForwardRef\('(\w+Args)'\)", text)
    shape = "value"
    head = text.split("ForwardRef", 1)[0]
    if "Sequence[" in head:
        shape = "list"
    elif "Mapping[" in head:
        shape = "map"
    if m is None:
        return shape, None
    inputs = importlib.import_module(module.__name__.rsplit(".", 1)[0] + "._inputs")
    return shape, getattr(inputs, m.group(1), None)


@cache
def props_of(cls: type) -> PulumiProps:
    from pulumi._types import input_type_py_to_pulumi_names

    names = input_type_py_to_pulumi_names(cls)
    annotations = getattr(vars(cls).get("__init__"), "__annotations__", {})
    module = importlib.import_module(cls.__module__)
    out: dict[str, tuple[str, str, type | None]] = {}
    for py, pulumi_name in names.items():
        shape, nested = _nested(annotations.get(py, ""), module)
        out[py] = (pulumi_name, shape, nested)
    return PulumiProps(out)


def args_class(ptype: PulumiType) -> type | None:
    """The resource's own Args class (from its module: the package may export a nested input
    type of the same name, e.g. pulumi_aws.s3.BucketLoggingArgs)."""
    module = importlib.import_module(ptype.module)
    resource = getattr(module, ptype.cls, None)
    if resource is None:
        return None
    own = importlib.import_module(resource.__module__)
    return getattr(own, f"{ptype.cls}InitArgs", None) or getattr(own, f"{ptype.cls}Args", None)


def _plurals(name: str) -> Iterator[str]:
    yield name
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy", "uy")):
        yield name[:-1] + "ies"
    if name.endswith(("s", "x", "ch", "sh")):
        yield name + "es"
    yield name + "s"
    if name.endswith("s"):
        yield name[:-1]


def python_name(tf_name: str, props: PulumiProps, tf_type: str = "") -> str | None:
    """The SDK's name for a Terraform attribute: the same snake_case name, or the bridge's
    plural of a list block (`ingress` stays, `block_device_mapping` -> `block_device_mappings`,
    `tag` -> `tags`), or one of pulumi-aws' renames of a reference (`log_group_name` ->
    `log_group`, `instance_id` -> `instance`) or of the resource's own name (`alarm_name` of
    aws_cloudwatch_metric_alarm -> `name`)."""
    for candidate in _plurals(tf_name):
        if candidate in props.props:
            return candidate
    for suffix in ("_name", "_id", "_arn"):
        stem = tf_name.removesuffix(suffix)
        if stem != tf_name and stem in props.props:
            return stem
    noun = tf_name.removesuffix("_name")
    if noun != tf_name and tf_type.endswith("_" + noun) and "name" in props.props:
        return "name"
    return None
