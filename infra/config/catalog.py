"""What AWS offers, read offline: regions, instance types, classes and versions from the data
that ships with botocore (no network, no credentials), and the Public Suffix List's snapshot."""

from __future__ import annotations

import re
from functools import cache
from typing import Any


@cache
def _botocore_loader() -> Any:
    # The data loader alone: a botocore session would import the whole client machinery.
    from botocore.loaders import Loader

    return Loader()


@cache
def aws_regions() -> frozenset[str]:
    """Commercial AWS regions (partition `aws`) known to the installed botocore (no network)."""
    endpoints = _botocore_loader().load_data("endpoints")
    (aws,) = (p for p in endpoints["partitions"] if p["partition"] == "aws")
    return frozenset(aws["regions"])


@cache
def ec2_instance_types() -> frozenset[str]:
    """EC2 instance types from botocore's EC2 service model (no network)."""
    model = _botocore_loader().load_service_model("ec2", "service-2")
    return frozenset(model["shapes"]["InstanceType"]["enum"])


@cache
def rds_instance_classes() -> frozenset[str]:
    """RDS instance classes: botocore's RDS model has no enumeration of them, so this is
    `db.` + every EC2 instance type botocore knows (RDS classes mirror EC2 types), united with
    the classes pulumi-aws ships in `aws.rds.InstanceType`."""
    from pulumi_aws import rds

    return frozenset(f"db.{t}" for t in ec2_instance_types()) | {c.value for c in rds.InstanceType}


@cache
def cache_node_types() -> frozenset[str]:
    """ElastiCache node types: botocore's ElastiCache model has no enumeration of them (its
    CacheNodeType is a plain string), so this is `cache.` + every EC2 instance type botocore
    knows (node types mirror EC2 types: "Supported node types", ElastiCache User Guide)."""
    return frozenset(f"cache.{t}" for t in ec2_instance_types())


@cache
def opensearch_instance_types() -> frozenset[str]:
    """OpenSearch instance types from botocore's OpenSearch model (no network)."""
    model = _botocore_loader().load_service_model("opensearch", "service-2")
    return frozenset(model["shapes"]["OpenSearchPartitionInstanceType"]["enum"])


@cache
def opensearch_version_pattern() -> str:
    """The engine version form the OpenSearch API accepts (botocore's VersionString, a regular
    expression with its own anchors)."""
    model = _botocore_loader().load_service_model("opensearch", "service-2")
    return str(model["shapes"]["VersionString"]["pattern"])


# Amazon EC2 instance type naming conventions (Amazon EC2 Instance Types guide, "Instance type
# naming conventions"): a type is <family><generation><processor family><capabilities>.<size>,
# and the processor family letter right after the generation is `g` for AWS Graviton (arm64),
# `a` for AMD and `i` for Intel (x86_64; older Intel types have none). a1 is the first Graviton
# generation, named before the convention. mac1 (Intel) and mac2-* (Apple silicon) are EC2 Mac
# instances on dedicated hosts: neither Linux architecture. botocore lists the types but not
# their architecture (only DescribeInstanceTypes answers that, with credentials), so the rule is
# held by tests/test_config.py to the DescribeInstanceTypes answers moto ships, type by type.
_GRAVITON_FAMILY = re.compile(r"[a-z]+\d+g[a-z0-9-]*")


@cache
def instance_architecture(instance_type: str) -> str:
    """The CPU architecture of an EC2 instance type, named as EC2 names it (botocore's
    ArchitectureType: arm64, x86_64, x86_64_mac, arm64_mac), from the naming convention."""
    family = instance_type.split(".", 1)[0]
    if family.startswith("mac"):
        return "x86_64_mac" if family == "mac1" else "arm64_mac"
    if family == "a1" or _GRAVITON_FAMILY.fullmatch(family):
        return "arm64"
    return "x86_64"


@cache
def registered_domain(name: str) -> str:
    """The registrable domain of `name` by the Public Suffix List (the snapshot that ships with
    tldextract: no network, no cache files), which is how Cloudflare tells a zone from a
    subdomain zone."""
    from tldextract import TLDExtract

    extract = TLDExtract(suffix_list_urls=(), cache_dir=None)
    return extract(name).top_domain_under_public_suffix or name


# CloudWatch Logs retention periods (PutRetentionPolicy: retentionInDays).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
     3288, 3653}
)  # fmt: skip
