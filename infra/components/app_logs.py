"""AppLogs: one region's CloudWatch log group for the application's container logs.

Every web server's Docker daemon ships the output of its containers here (the `awslogs` log
driver as the daemon's default, written by the user data; docs.docker.com/engine/logging/drivers/
awslogs/). The driver does not create the group (`awslogs-create-group` false): this component
does, with the retention from `python-org:logs.appRetentionDays`, encrypted with a
customer-managed key of its own that CloudWatch Logs of this region may use. The key is
`protect`ed and `retain_on_delete` (losing it loses the logs). The group itself is not: logs
expire by design, and a region removed takes its logs with it (docs/policies.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.components.network import logs_key_policy
from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class AppLogsArgs:
    region: str
    physical_prefix: str
    group_name: str
    retention_days: int
    base_tags: dict[str, str]


class AppLogs(pulumi.ComponentResource):
    kms_key: aws.kms.Key
    group: aws.cloudwatch.LogGroup

    def __init__(
        self, name: str, args: AppLogsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:logs:AppLogs", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        self.kms_key = aws.kms.Key(
            f"{name}-app-logs-key",
            description=f"{args.physical_prefix}: application logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(lambda a: json.dumps(logs_key_policy(a, args.region))),
            tags=tags(args.base_tags, "logs", f"{name}-app-logs-key"),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, f"{name}-app-logs-key"),
            ),
        )
        self.group = aws.cloudwatch.LogGroup(
            f"{name}-app-logs",
            name=args.group_name,
            retention_in_days=args.retention_days,
            kms_key_id=self.kms_key.arn,
            tags=tags(args.base_tags, "logs", f"{name}-app-logs"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"log_group": self.group.name})
