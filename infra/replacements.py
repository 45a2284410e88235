"""Which input changes make the provider replace a resource, for the types where that matters.

The one data table of the plan diff (`infra.diff`): for each stateful type (a resource whose
replacement loses data or breaks what holds it: databases and their replicas, buckets, KMS keys,
secrets) the engine property names (camelCase, as in `Graph` inputs) whose change forces a new
resource. pulumi-aws bridges terraform-provider-aws, so the source of truth is that provider's
schema (`ForceNew: true`); each entry names the file and the registry page. A few non-stateful
types are listed too, so that the diff shows their replacement as one (it is never a danger by
itself): the AWS provider (its replacement replaces everything it manages), ACM certificates (a
new certificate must validate again) and the Cloudflare edge resources bound to a zone.

Checked against terraform-provider-aws v5/v6 (pulumi-aws 7.x) and terraform-provider-random
v3 (pulumi-random 4.x). When pulumi-aws is upgraded, re-check the entries against the schema:
a property missing here shows as an in-place update in the offline diff, while the real
`pulumi preview` in CI still reports the replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

_TF_AWS = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service/"
_TF_CLOUDFLARE = (
    "https://github.com/cloudflare/terraform-provider-cloudflare/blob/main/internal/services/"
)
_REGISTRY = "https://www.pulumi.com/registry/packages/"

# `region` is in every AWS entry: terraform-provider-aws v6 gives each regional resource a
# `region` argument (registry: docs/guides/enhanced-region-support), and a resource moved to
# another region is a new resource.


@dataclass(frozen=True)
class ReplacementRule:
    """How one resource type is replaced.

    `stateful`: what is lost by a delete or replacement ("database", "bucket", ...), or None for
    a type listed only because its replacement cascades. `forces_replacement`: top-level engine
    property names; a change anywhere under one of them forces a new resource. `source`: where
    the list comes from, to re-check on provider upgrades."""

    stateful: str | None
    forces_replacement: frozenset[str]
    source: str
    docs: str


def _rule(stateful: str | None, props: str, source: str, docs: str) -> ReplacementRule:
    return ReplacementRule(stateful, frozenset(props.split()), source, docs)


REPLACEMENT_RULES: dict[str, ReplacementRule] = {
    # aws_db_instance. `identifier` is NOT here: since terraform-provider-aws v5 it is renamed in
    # place (ModifyDBInstance NewDBInstanceIdentifier); only the endpoint changes. `engine` is
    # (postgres -> aurora is a new instance); engineVersion, instanceClass, storage and multiAz
    # are modified in place. `replicateSourceDb` is not ForceNew: removing it promotes a replica.
    "aws:rds/instance:Instance": _rule(
        "database",
        "availabilityZone backupTarget characterSetName customIamInstanceProfile dbName engine "
        "kmsKeyId ncharCharacterSetName restoreToPointInTime s3Import snapshotIdentifier "
        "storageEncrypted timezone username region",
        _TF_AWS + "rds/instance.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/rds/instance/",
    ),
    # aws_s3_bucket (pulumi-aws 7 `aws.s3.Bucket`, formerly BucketV2).
    "aws:s3/bucket:Bucket": _rule(
        "bucket",
        "bucket bucketPrefix objectLockEnabled region",
        _TF_AWS + "s3/bucket.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/s3/bucket/",
    ),
    # The same resource under its pulumi-aws 6 name (still an alias of aws:s3/bucket:Bucket).
    "aws:s3/bucketV2:BucketV2": _rule(
        "bucket",
        "bucket bucketPrefix objectLockEnabled region",
        _TF_AWS + "s3/bucket.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/s3/bucketv2/",
    ),
    # aws_kms_key. A replaced key is a new key: whatever the old one encrypted (RDS storage,
    # snapshots, S3 objects, secrets) is unreadable once the old key's deletion window ends.
    "aws:kms/key:Key": _rule(
        "KMS key",
        "customKeyStoreId customerMasterKeySpec keyUsage multiRegion xksKeyId region",
        _TF_AWS + "kms/key.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/kms/key/",
    ),
    # aws_secretsmanager_secret: a new secret has no versions; the value is gone.
    "aws:secretsmanager/secret:Secret": _rule(
        "secret",
        "name namePrefix region",
        _TF_AWS + "secretsmanager/secret.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/secretsmanager/secret/",
    ),
    # random_password: every argument has a RequiresReplace plan modifier. Replacing the Django
    # secret key signs everyone out and invalidates signed links.
    "random:index/randomPassword:RandomPassword": _rule(
        "generated secret",
        "keepers length lower minLower minNumeric minSpecial minUpper number numeric "
        "overrideSpecial special upper",
        "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/provider/"
        "resource_password.go (plan modifiers: RequiresReplace)",
        _REGISTRY + "random/api-docs/randompassword/",
    ),
    # --- not stateful: shown as replacements, never dangers by themselves --------------------
    # aws_acm_certificate: a new certificate, validated again before listeners can use it.
    "aws:acm/certificate:Certificate": _rule(
        None,
        "domainName subjectAlternativeNames validationMethod keyAlgorithm "
        "certificateAuthorityArn region",
        _TF_AWS + "acm/certificate.go (schema: ForceNew)",
        _REGISTRY + "aws/api-docs/acm/certificate/",
    ),
    # pulumi-cloudflare 6 bridges terraform-provider-cloudflare v5, whose zone-scoped resources
    # take the zone as a path parameter: a new zone is a new resource (RequiresReplace).
    "cloudflare:index/dnsRecord:DnsRecord": _rule(
        None,
        "zoneId",
        _TF_CLOUDFLARE + "dns_record/schema.go (plan modifiers: RequiresReplace)",
        _REGISTRY + "cloudflare/api-docs/dnsrecord/",
    ),
    "cloudflare:index/ruleset:Ruleset": _rule(
        None,
        "zoneId accountId",
        _TF_CLOUDFLARE + "ruleset/schema.go (plan modifiers: RequiresReplace)",
        _REGISTRY + "cloudflare/api-docs/ruleset/",
    ),
    "cloudflare:index/loadBalancer:LoadBalancer": _rule(
        None,
        "zoneId",
        _TF_CLOUDFLARE + "load_balancer/schema.go (plan modifiers: RequiresReplace)",
        _REGISTRY + "cloudflare/api-docs/loadbalancer/",
    ),
    "cloudflare:index/zoneSetting:ZoneSetting": _rule(
        None,
        "zoneId settingId",
        _TF_CLOUDFLARE + "zone_setting/schema.go (plan modifiers: RequiresReplace)",
        _REGISTRY + "cloudflare/api-docs/zonesetting/",
    ),
    # The AWS provider itself: the bridged provider's DiffConfig reports a change of `region` as
    # a replacement, and the engine replaces every resource whose provider is replaced
    # (pulumi/pulumi#2767). The offline diff follows that; the real preview in CI confirms it.
    "pulumi:providers:aws": _rule(
        None,
        "region",
        "https://github.com/pulumi/pulumi-terraform-bridge (DiffConfig) and "
        "https://github.com/pulumi/pulumi/pull/2767 (replacement through a replaced provider)",
        _REGISTRY + "aws/api-docs/provider/",
    ),
}


def rule_for(type_: str) -> ReplacementRule | None:
    return REPLACEMENT_RULES.get(type_)


def stateful_kind(type_: str) -> str | None:
    """What a resource of this type holds ("database", "bucket", ...), or None."""
    rule = REPLACEMENT_RULES.get(type_)
    return rule.stateful if rule else None


def forces_replacement(type_: str, prop: str) -> bool:
    """Whether a change to top-level input `prop` of `type_` forces a new resource."""
    rule = REPLACEMENT_RULES.get(type_)
    return rule is not None and prop in rule.forces_replacement
