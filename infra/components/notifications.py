"""Notifications: one region's SNS topic for its alarms, and who it tells.

The topic is encrypted with a customer-managed key of its own whose policy lets CloudWatch
alarms use it: an alarm publishing to an SSE topic needs kms:Decrypt and kms:GenerateDataKey* on
the topic's key, which the AWS-managed aws/sns key cannot grant
(docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
Subscriptions come from config: an email subscription per address (each address confirms once,
from the mail SNS sends), and the paging service's HTTPS endpoint, whose URL is a secret
(`python-org:pagingUrl`) and stays one in the state. The key is `protect`ed and `retain_on_delete`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.aliases import inherited_aliases
from infra.naming import tags


@dataclass(frozen=True, kw_only=True)
class NotificationsArgs:
    physical_prefix: str
    topic_name: str
    emails: tuple[str, ...]
    paging_url: pulumi.Input[str] | None  # secret
    base_tags: dict[str, str]


class Notifications(pulumi.ComponentResource):
    kms_key: aws.kms.Key
    topic: aws.sns.Topic

    def __init__(
        self, name: str, args: NotificationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:oncall:Notifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "oncall", f"{name}-{role}")

        self.kms_key = aws.kms.Key(
            f"{name}-alerts-key",
            description=f"{args.physical_prefix}: the alarm topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(lambda a: json.dumps(topic_key_policy(a))),
            tags=t("alerts-key"),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=True,
                retain_on_delete=True,
                aliases=inherited_aliases(self, f"{name}-alerts-key"),
            ),
        )
        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            name=args.topic_name,
            display_name="python.org alerts",
            kms_master_key_id=self.kms_key.arn,
            tags=t("alerts"),
            opts=child,
        )
        for address in args.emails:
            aws.sns.TopicSubscription(
                f"{name}-alerts-{address}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        if args.paging_url is not None:
            aws.sns.TopicSubscription(
                f"{name}-alerts-paging",
                topic=self.topic.arn,
                protocol="https",
                endpoint=pulumi.Output.secret(args.paging_url),
                # Paging services (PagerDuty, Opsgenie, ...) confirm SNS subscriptions themselves.
                endpoint_auto_confirms=True,
                opts=child,
            )
        self.register_outputs({"topic_arn": self.topic.arn})


def topic_key_policy(account_id: str) -> dict[str, object]:
    """The account administers the key; CloudWatch (alarm actions) may use it to publish to the
    topic (docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
    "encrypted SNS topics")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                # No condition: the statement AWS documents for alarms on SSE topics has none,
                # and the topic's own policy already limits who may publish.
            },
        ],
    }
