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


def worker_asg_name(stack: str, region: str) -> str:
    return f"{prefix(stack, region)}-worker"


def beat_asg_name(stack: str, region: str) -> str:
    return f"{prefix(stack, region)}-beat"


def redis_group_id(stack: str, region: str) -> str:
    """ElastiCache replication group id of a region's Redis."""
    return f"{prefix(stack, region)}-redis"


def search_domain_name(stack: str, region: str) -> str:
    """OpenSearch domain name of a region (28 characters at most: the prefix alone fits)."""
    return prefix(stack, region)


def media_origin_hostname(stack: str, domain: str) -> str:
    """The DNS-only name the edge's media rule resolves to: the home region's media bucket."""
    return f"media-origin-{stack}.{domain}"


def load_balancer_name(stack: str, region: str) -> str:
    # Never truncated: two regions cut to the same 32 characters would collide. The config
    # refuses a stack whose names would exceed AWS's limits (`name_length_problems`).
    return prefix(stack, region)


# AWS's length limits on the physical names derived above, with the document that sets each.
NAME_LIMITS: dict[str, tuple[int, str]] = {
    # "Load balancer name: ... a maximum of 32 characters" (CreateLoadBalancer, ELBv2 API).
    "load balancer": (32, "ELBv2 CreateLoadBalancer: Name"),
    # "DBInstanceIdentifier: ... Must contain from 1 to 63 letters, numbers, or hyphens".
    "database identifier": (63, "RDS CreateDBInstance: DBInstanceIdentifier"),
    # "AutoScalingGroupName: Length Constraints: Minimum length of 1. Maximum length of 255".
    "autoscaling group": (255, "Auto Scaling CreateAutoScalingGroup: AutoScalingGroupName"),
    # "ReplicationGroupId: ... Must contain from 1 to 40 alphanumeric characters or hyphens".
    "replication group": (40, "ElastiCache CreateReplicationGroup: ReplicationGroupId"),
    # "DomainName: ... Length Constraints: Minimum length of 3. Maximum length of 28."
    "search domain": (28, "OpenSearch CreateDomain: DomainName"),
}


def physical_names(stack: str, region: str) -> dict[str, str]:
    """Every physical name this module derives for one region, by what it names."""
    return {
        "load balancer": load_balancer_name(stack, region),
        "database identifier": db_identifier(stack, region),
        "autoscaling group": worker_asg_name(stack, region),  # the longest group name
        "replication group": redis_group_id(stack, region),
        "search domain": search_domain_name(stack, region),
    }


def name_length_problems(stack: str, region: str) -> list[str]:
    """What AWS would refuse of this region's physical names (empty when every name fits)."""
    problems = []
    for what, name in physical_names(stack, region).items():
        limit, source = NAME_LIMITS[what]
        if len(name) > limit:
            problems.append(
                f"the {what} name {name!r} is {len(name)} characters; AWS allows {limit} ({source})"
            )
    return problems


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


# --- on call: names the runbooks, the dashboard and scripts/restore_drill refer to ----------

_COMPASS = (("north", "n"), ("south", "s"), ("east", "e"), ("west", "w"), ("central", "c"))
CANARY_NAME_MAX = 21  # CloudWatch Synthetics: the canary's Lambda is cwsyn-<name>-<36-char id>


def region_code(region: str) -> str:
    """A short region code: us-east-2 -> use2, ap-southeast-1 -> apse1, eu-central-1 -> euc1."""
    area, direction, number = region.split("-")
    for word, letter in _COMPASS:
        direction = direction.replace(word, letter)
    return f"{area}{direction}{number}"


def canary_name(stack: str, region: str) -> str:
    name = f"pyorg-{stack}-{region_code(region)}"
    if len(name) > CANARY_NAME_MAX:
        raise ValueError(f"canary name {name!r} is longer than {CANARY_NAME_MAX} characters")
    return name


def app_log_group(stack: str, region: str) -> str:
    """The application's container logs in a region (CloudWatch Logs)."""
    return f"/python-org/{stack}/{region}/web"


def alerts_topic(stack: str, region: str) -> str:
    return f"{prefix(stack, region)}-alerts"


def backup_vault(stack: str, region: str) -> str:
    return f"{prefix(stack, region)}-backups"


def dashboard(stack: str) -> str:
    return f"pyorg-{stack}"
