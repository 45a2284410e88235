"""Every rule of the policy pack, and every catalog check deliberately not implemented.

One set of rule functions, two runners: `policy.runner.evaluate` (in-process, over the
synthesized graph: `scripts/validate` and the tests) and `policy/__main__.py` (the Pulumi CLI:
`pulumi preview --policy-pack policy`). The rule functions live in `databases`, `buckets`,
`guards`, `keys_secrets_logs` (where data lives), `security_groups`, `network`,
`load_balancers` (the network and the way in), `compute`, `iam`, `edge`, `oncall`, `services`
and the cloud refusals (`refusals`, which gathers `refusals_*`); `docs/policies.md` is the table
of both lists below, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass

from policy import (
    buckets,
    compute,
    databases,
    edge,
    guards,
    iam,
    keys_secrets_logs,
    load_balancers,
    network,
    oncall,
    refusals,
    security_groups,
    services,
)
from policy.framework import ADVISORY, MANDATORY, Rule, Severity

RULES: tuple[Rule, ...] = (
    *databases.rules.rules,
    *buckets.rules.rules,
    *guards.rules.rules,
    *keys_secrets_logs.rules.rules,
    *security_groups.rules.rules,
    *network.rules.rules,
    *load_balancers.rules.rules,
    *compute.rules.rules,
    *iam.rules.rules,
    *edge.rules.rules,
    *oncall.rules.rules,
    *services.rules.rules,
    *refusals.RULES,
)
# The mandatory group whose every rule states what the cloud refuses, with its document.
CLOUD_REFUSALS: tuple[Rule, ...] = refusals.RULES
BY_NAME = {rule.name: rule for rule in RULES}
if len(BY_NAME) != len(RULES):
    raise RuntimeError("two rules share a name")


@dataclass(frozen=True)
class Skipped:
    """A catalog check that applies to a type this repository uses, not implemented, and why."""

    source: str
    what: str
    reason: str


SKIPPED: tuple[Skipped, ...] = (
    Skipped(
        "CKV2_AWS_28",
        "public ALB protected by AWS WAF",
        "the WAF is Cloudflare's job: the load balancers admit only Cloudflare's ranges, and "
        "every request passes Cloudflare's managed rulesets first (cloudflare-waf-managed)",
    ),
    Skipped(
        "CKV2_AWS_76",
        "AWS WAF on the ALB has the Log4j rule set",
        "no AWS WAF (see CKV2_AWS_28); Cloudflare's managed ruleset carries the Log4j rules",
    ),
    Skipped(
        "CKV_AWS_378",
        "load balancer target groups don't use plain HTTP",
        "TLS terminates at the ALB; the hop to the instances stays inside the VPC, between "
        "security groups that admit only the ALB, and the app would need its own certificates",
    ),
    Skipped(
        "CKV_AWS_152",
        "cross-zone load balancing on network/gateway load balancers",
        "only application load balancers here, and they are always cross-zone",
    ),
    Skipped(
        "CKV_AWS_144",
        "every bucket replicates to another region",
        "replication is per bucket by design: media replicates from the home region to every "
        "other (bucket-replication-encrypted, tests/test_stacks_data.py); static files are rebuilt in "
        "each region from the app image, so copying them would only cost",
    ),
    Skipped(
        "CKV_AWS_143",
        "S3 Object Lock",
        "users delete their uploads and the site must honour it; versioning, protect and "
        "retain_on_delete already guard against accidental loss",
    ),
    Skipped(
        "CKV2_AWS_62",
        "S3 event notifications",
        "nothing consumes bucket events; a notification without a consumer is noise",
    ),
    Skipped(
        "CKV2_AWS_64",
        "KMS keys have an explicit key policy",
        "the default key policy delegates to IAM, and the IAM policies scope every use (the web "
        "role may Decrypt only its region's keys); a hand-written key policy risks locking the "
        "account out of its own data. An explicit one is still checked "
        "(kms-key-policy-no-wildcard-principal)",
    ),
    Skipped(
        "AwsSolutions-RDS11",
        "RDS on a non-default port",
        "obscurity: the database has no public address, and only the web servers' security "
        "group reaches it; a non-default port would complicate every client",
    ),
    Skipped(
        "AwsSolutions-SMG4",
        "Secrets Manager rotation scheduled",
        "the master password is an RDS-managed secret that RDS rotates itself; the app secret "
        "(Django SECRET_KEY) can't rotate without logging every user out, so it rotates by "
        "runbook",
    ),
    Skipped("CKV2_AWS_57", "Secrets Manager automatic rotation", "as AwsSolutions-SMG4"),
    Skipped("CKV_AWS_304", "rotation within 90 days", "as AwsSolutions-SMG4"),
    Skipped(
        "AwsSolutions-AS3",
        "autoscaling notifications for every scaling event",
        "scaling is visible in the group's activity history and the CloudWatch metrics it "
        "publishes; paging on scaling events is the monitoring system's job, not this stack's",
    ),
    Skipped(
        "CKV_AWS_250",
        "PostgreSQL not on a log_fdw-vulnerable version",
        "affects only 10.x-13.x minors before the 2022 fix; the stacks run 16 with automatic "
        "minor upgrades (database-minor-upgrades)",
    ),
    Skipped(
        "CKV_AWS_106",
        "EBS encryption by default (account setting)",
        "an account-wide setting outside this stack; volumes-encrypted requires every volume "
        "declared here to be encrypted explicitly instead",
    ),
    Skipped(
        "CKV_AWS_135",
        "EC2 instances are EBS-optimized",
        "instances come from launch templates of Nitro types, which are always EBS-optimized",
    ),
    Skipped(
        "AwsSolutions-AEC5",
        "ElastiCache on a non-default port",
        "obscurity, as AwsSolutions-RDS11: Redis has no public address, its security group "
        "admits only the app's instances, and it requires TLS and AUTH",
    ),
    Skipped(
        "CKV_AWS_318",
        "OpenSearch domains have three dedicated master nodes",
        "the index is derived data that each region's indexer rebuilds from the database within "
        "an hour; a small domain's data nodes elect a master among themselves, and three more "
        "instances per region would cost more than the whole domain",
    ),
    Skipped("CKV2_AWS_59", "OpenSearch dedicated master nodes", "as CKV_AWS_318"),
    Skipped("AwsSolutions-OS4", "OpenSearch dedicated master nodes", "as CKV_AWS_318"),
    Skipped(
        "AwsSolutions-OS3",
        "OpenSearch access only from allowlisted IP addresses",
        "a VPC domain has no public endpoint: its security group admits only the app's "
        "instances, and fine-grained access control authenticates every request",
    ),
    Skipped(
        "CKV_AWS_317",
        "OpenSearch audit logs",
        "audit logging records every request of the app's search traffic; the domain holds "
        "only public pages' text, and its application and slow logs are published",
    ),
    Skipped(
        "CKV_AWS_189",
        "EBS volumes encrypted with a customer-managed key",
        "the root volumes hold no data (the OS and the app image); the AWS-managed EBS key is "
        "enough, and a CMK would need grants for the autoscaling service role",
    ),
)


__all__ = [
    "ADVISORY",
    "BY_NAME",
    "MANDATORY",
    "RULES",
    "SKIPPED",
    "Rule",
    "Severity",
    "Skipped",
]
