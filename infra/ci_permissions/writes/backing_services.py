"""The deploy role's writes for the application's backing services: the cache (ElastiCache
Redis), search (OpenSearch, IAM prefix `es`) and mail (SES).

Each function takes a deploy role's `Scope` and returns its statements for one IAM
service; `WRITES` maps the service to it (`infra.ci_permissions.writes`).
"""

from __future__ import annotations

from collections.abc import Callable

from infra.ci_permissions.statements import Scope, Statement, statement
from infra.ci_permissions.website import stack_prefixes


def elasticache(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
    return [
        statement(
            "Redis",
            [
                "elasticache:CreateReplicationGroup",
                "elasticache:ModifyReplicationGroup",
                "elasticache:DeleteReplicationGroup",
                "elasticache:CreateCacheSubnetGroup",
                "elasticache:ModifyCacheSubnetGroup",
                "elasticache:DeleteCacheSubnetGroup",
                "elasticache:CreateCacheCluster",  # the group's nodes
                "elasticache:AddTagsToResource",
                "elasticache:RemoveTagsFromResource",
            ],
            [
                *(
                    f"arn:aws:elasticache:*:{account}:{kind}:{p}*"
                    for kind in ("replicationgroup", "cluster")
                    for p in ours_prefixed
                ),
                f"arn:aws:elasticache:*:{account}:subnetgroup:*",
                f"arn:aws:elasticache:*:{account}:parametergroup:default.*",
                f"arn:aws:elasticache:*:{account}:snapshot:*",
            ],
            why="subnet groups and snapshots are auto-named; the groups and their nodes are "
            "this stack's prefix",
        )
    ]


def es(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
    return [
        statement(
            "SearchDomains",
            [
                "es:CreateDomain",
                "es:UpdateDomainConfig",
                "es:DeleteDomain",
                "es:AddTags",
                "es:RemoveTags",
            ],
            [f"arn:aws:es:*:{account}:domain/{p}*" for p in ours_prefixed],
        )
    ]


def ses(scope: Scope) -> list[Statement]:
    account = scope.account
    ours_prefixed = stack_prefixes(scope.stacks)
    return [
        statement(
            "Mail",
            [
                "ses:CreateEmailIdentity",
                "ses:DeleteEmailIdentity",
                "ses:PutEmailIdentityDkimSigningAttributes",
                "ses:PutEmailIdentityMailFromAttributes",
                "ses:PutEmailIdentityConfigurationSetAttributes",
                "ses:CreateConfigurationSet",
                "ses:DeleteConfigurationSet",
                "ses:PutConfigurationSet*",
                "ses:CreateConfigurationSetEventDestination",
                "ses:UpdateConfigurationSetEventDestination",
                "ses:DeleteConfigurationSetEventDestination",
                "ses:TagResource",
                "ses:UntagResource",
            ],
            [
                f"arn:aws:ses:*:{account}:identity/*",
                *(f"arn:aws:ses:*:{account}:configuration-set/{p}*" for p in ours_prefixed),
            ],
            why="an identity is named by its domain, which the config chooses",
        )
    ]


WRITES: dict[str, Callable[[Scope], list[Statement]]] = {
    "elasticache": elasticache,
    "es": es,
    "ses": ses,
}
