"""What the website declares that the CI roles' grants follow.

`WEBSITE_SERVICES` (the IAM services of the website's resource types, checked against the
synthesized stacks by tests/test_bootstrap_permissions.py through `service_of`), the AWS-managed
policies its roles attach and the services its roles are passed to (the deploy role may attach and
pass no others), and the prefix of its physical names (infra/naming.py), which scopes most grants to
a stack's own resources.
"""

from __future__ import annotations

from collections.abc import Iterable

# pulumi-aws modules whose IAM service prefix is not the module name.
_MODULE_SERVICES = {
    "lb": "elasticloadbalancing",
    "alb": "elasticloadbalancing",
    "vpc": "ec2",  # aws.vpc.SecurityGroupIngressRule and friends are EC2 API calls
    "ebs": "ec2",
    "opensearch": "es",  # OpenSearch Service's IAM prefix is still es
    "sesv2": "ses",
}
# Types whose service differs from their module's.
_TYPE_SERVICES = {
    "aws:cloudwatch/logGroup:LogGroup": "logs",
    "aws:cloudwatch/logStream:LogStream": "logs",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "logs",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "logs",
}


def service_of(type_token: str) -> str | None:
    """The IAM service prefix of a pulumi-aws resource type; None for non-AWS types."""
    package, _, rest = type_token.partition(":")
    if package != "aws":
        return None
    if type_token in _TYPE_SERVICES:
        return _TYPE_SERVICES[type_token]
    module = rest.partition(":")[0].partition("/")[0]
    return _MODULE_SERVICES.get(module, module)


# The IAM services of every AWS resource type the website declares (prod and staging), as
# `service_of` derives them from the synthesized graphs; tests/test_bootstrap_permissions.py
# checks it.
WEBSITE_SERVICES = frozenset(
    {
        "acm",
        "autoscaling",
        "backup",
        "cloudwatch",
        "ec2",
        "elasticache",
        "elasticloadbalancing",
        "es",
        "iam",
        "kms",
        "logs",
        "rds",
        "s3",
        "secretsmanager",
        "ses",
        "sns",
        "synthetics",
    }
)

# AWS-managed policies the website attaches to its roles (infra/components/web.py,
# database.py); the deploy role may attach these and no other (tests check the graph).
ATTACHABLE_MANAGED_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    # The AWS Backup service role (infra/components/backups.py).
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
)
# The services the website's roles are for (EC2 instance profiles, VPC flow logs, RDS Enhanced
# Monitoring, S3 replication): the only services the deploy role may pass a role to.
PASSED_TO_SERVICES = (
    "ec2.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "monitoring.rds.amazonaws.com",
    "s3.amazonaws.com",
    "backup.amazonaws.com",  # the backup plan's selection role
    "lambda.amazonaws.com",  # a Synthetics canary runs as a Lambda function with its role
)
# The website's physical names start with this (infra/naming.py: pyorg-<stack>-<region>...).
NAME_PREFIX = "pyorg"


def stack_prefixes(stacks: Iterable[str]) -> list[str]:
    """The physical-name prefix of each stack's resources: `pyorg-<stack>-`."""
    return [f"{NAME_PREFIX}-{stack}-" for stack in stacks]
