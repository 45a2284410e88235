"""Terraform onto Pulumi: which Terraform type a Pulumi type bridges, and its forced paths.

`tf_type_for` finds the Terraform resource behind a Pulumi type (pulumi-aws' module and prefix
mappings and renames); `map_paths` turns the replacement-forcing Terraform attributes
(`infra.maintain.tf_schema`) into camelCase Pulumi property paths (`infra.maintain.pulumi_sdk`).
Part of `scripts/extract_replacements` (`infra.maintain.extract_replacements`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.maintain.pulumi_sdk import PulumiProps, PulumiType, props_of, python_name
from infra.maintain.tf_schema import TfAttr


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


# Pulumi modules whose resources live in Terraform packages of another name, and Terraform name
# prefixes the bridge drops (pulumi-aws' provider/resources.go maps e.g. `aws_db_instance` to
# `aws:rds/instance:Instance` and `aws_lb_target_group` to `aws:lb/targetGroup:TargetGroup`).
AWS_PACKAGES = {
    "lb": ("elbv2",),
    "alb": ("elbv2",),
    "vpc": ("ec2",),
    "ec2transitgateway": ("ec2",),
    "ec2clientvpn": ("ec2",),
    "ebs": ("ec2",),
    "ec2": ("ec2", "autoscaling"),
    "cloudwatch": ("cloudwatch", "logs", "events"),
    "lambda_": ("lambda",),
    "cfg": ("configservice",),
    "rds": ("rds",),
    "autoscaling": ("autoscaling",),
    "ses": ("ses",),
}
AWS_PREFIXES = {
    "rds": ("db", "rds"),
    "lb": ("lb", "alb"),
    "ec2": ("", "ec2", "vpc"),
    "vpc": ("vpc",),
    "cloudwatch": ("cloudwatch", "cloudwatch_event", "cloudwatch_log"),
    "lambda_": ("lambda",),
}
# Types whose Pulumi name is not derived from the Terraform one (pulumi-aws resources.go).
AWS_RENAMES: dict[str, str | tuple[str, ...]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("aws_lb", "aws_alb"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
}


def tf_type_for(ptype: PulumiType, provider: str, available: dict[str, Any]) -> str | None:
    """The Terraform type a Pulumi type bridges, among `available` (type -> info)."""
    pkg, rest = ptype.token.split(":", 1)
    module_file, kind = rest.split(":")
    module = module_file.split("/")[0]
    if provider == "aws":
        if ptype.token in AWS_RENAMES:
            names = AWS_RENAMES[ptype.token]
            for name in (names,) if isinstance(names, str) else names:
                if name in available:
                    return name
            return None
        snake = _snake(kind)
        prefixes = AWS_PREFIXES.get(module, (module,))
        packages = AWS_PACKAGES.get(module, (module,))
        candidates = [f"aws_{p}_{snake}" if p else f"aws_{snake}" for p in prefixes]
        candidates += [f"aws_{module}_{snake}", f"aws_{snake}"]
        if snake.endswith("_v2"):
            candidates += [c[: -len("_v2")] for c in candidates]
        for name in candidates:
            info = available.get(name)
            if info is not None and info[0].rsplit("/", 1)[-1] in packages:
                return name
        return None
    snake = _snake(kind)
    for name in (f"{pkg}_{snake}", f"{pkg}_{snake.removeprefix(pkg + '_')}"):
        if name in available:
            return name
    return None


@dataclass
class Mapped:
    replace: list[str] = field(default_factory=list)
    conditional: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # forced TF paths with no Pulumi name


def map_paths(
    attrs: dict[str, TfAttr], props: PulumiProps, prefix: str = "", tf_type: str = ""
) -> Mapped:
    out = Mapped()
    for name, attr in sorted(attrs.items()):
        if not attr.settable and not attr.children:
            continue
        if not (attr.force_new or attr.conditional or _any_forced(attr)):
            continue
        py = python_name(name, props, tf_type if not prefix else "")
        if py is None:
            if name not in ("id", "timeouts"):
                out.unmapped.append(prefix + name)
            continue
        pulumi_name, shape, nested = props.props[py]
        path = prefix + pulumi_name
        if attr.force_new:
            out.replace.append(path)
            continue
        if attr.conditional:
            out.conditional.append(path)
        if attr.children and nested is not None:
            child_prefix = path + ("[*]." if shape in ("list", "map") else ".")
            inner = map_paths(attr.children, props_of(nested), child_prefix, tf_type)
            out.replace += inner.replace
            out.conditional += inner.conditional
            out.unmapped += inner.unmapped
        elif attr.children:
            out.unmapped += [path + " (nested type unknown)"]
    return out


def _any_forced(attr: TfAttr) -> bool:
    return any(c.force_new or c.conditional or _any_forced(c) for c in attr.children.values())
