"""Names and tags: the contract between the program, the operations scripts and the cloud.

Logical (Pulumi) names are derived from the component and its role, never from list positions,
so that adding an availability zone or a region never renames what exists. The few physical
names that operations scripts look up (database identifiers, autoscaling groups) are derived
here too, from the stack and the region, so that the scripts and the program agree.
"""

from __future__ import annotations

from collections.abc import Mapping

PROJECT = "python-org"


def prefix(stack: str, region: str) -> str:
    """Physical name prefix of a region's resources: `pyorg-prod-eu-west-1`."""
    return f"pyorg-{stack}-{region}"


def db_identifier(stack: str, region: str) -> str:
    """RDS identifier of a region's database (the primary or a replica)."""
    return f"{prefix(stack, region)}-db"


def asg_name(stack: str, region: str) -> str:
    return f"{prefix(stack, region)}-web"


def load_balancer_name(stack: str, region: str) -> str:
    # ALB names: at most 32 characters; the longest region name (ap-southeast-1) fits.
    return f"{prefix(stack, region)}"[:32]


def origin_hostname(stack: str, region: str, domain: str) -> str:
    """The hostname that reaches one region's load balancer through Cloudflare, bypassing the
    load balancer's steering (one label under the zone, so Cloudflare's edge certificate
    covers it)."""
    return f"origin-{stack}-{region}.{domain}"


def base_tags(stack: str, region: str, environment: str) -> dict[str, str]:
    """Tags every resource carries (policies read `environment` to apply production rules)."""
    return {
        "project": PROJECT,
        "stack": stack,
        "environment": environment,
        "region": region,
        "managed-by": "pulumi",
    }


def tags(base: Mapping[str, str], component: str, name: str, **extra: str) -> dict[str, str]:
    """One resource's tags: the base tags plus its component and a readable Name."""
    return {**base, "component": component, "Name": name, **extra}


REQUIRED_TAGS = ("project", "stack", "environment", "region", "managed-by")
