"""EdgeNotifications: Cloudflare tells on-call when a region's pool or origin changes health.

Two account-level notification policies, filtered to this stack's pools (`Edge.pools`): load
balancing health (a pool or its origin turning unhealthy or healthy again) and pool enablement
(a pool disabled or enabled, by hand or by API). They go to the same people as the AWS alarms:
the alert emails, and the paging endpoint as a Cloudflare webhook destination, its URL a secret.
Alert types and filters: developers.cloudflare.com/notifications/notification-available/
(Load Balancing); pulumi-cloudflare 6.x spells the filters in the plural (`pool_ids`,
`event_sources`, `new_healths`, `enableds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

HEALTH_ALERT = "load_balancing_health_alert"
ENABLEMENT_ALERT = "load_balancing_pool_enablement_alert"


@dataclass(frozen=True, kw_only=True)
class EdgeNotificationsArgs:
    stack: str
    account_id: pulumi.Input[str]
    pools: Mapping[str, pulumi.Input[str]]  # region -> pool id
    emails: tuple[str, ...]
    paging_url: pulumi.Input[str] | None  # secret


class EdgeNotifications(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: EdgeNotificationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:edge:EdgeNotifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        webhooks: list[cloudflare.NotificationPolicyMechanismsWebhookArgs] = []
        if args.paging_url is not None:
            hook = cloudflare.NotificationPolicyWebhooks(
                f"{name}-paging",
                account_id=args.account_id,
                name=f"python-org {args.stack} paging",
                url=pulumi.Output.secret(args.paging_url),
                opts=child,
            )
            webhooks.append(cloudflare.NotificationPolicyMechanismsWebhookArgs(id=hook.id))
        mechanisms = cloudflare.NotificationPolicyMechanismsArgs(
            emails=[cloudflare.NotificationPolicyMechanismsEmailArgs(id=e) for e in args.emails]
            or None,
            webhooks=webhooks or None,
        )
        pool_ids = [args.pools[region] for region in sorted(args.pools)]
        self.policies = {
            HEALTH_ALERT: cloudflare.NotificationPolicy(
                f"{name}-pool-health",
                account_id=args.account_id,
                name=f"python-org {args.stack}: pool or origin health",
                description="A region's pool or its origin changed health (Cloudflare monitor)",
                alert_type=HEALTH_ALERT,
                enabled=True,
                filters=cloudflare.NotificationPolicyFiltersArgs(
                    pool_ids=pool_ids,
                    event_sources=["pool", "origin"],
                    new_healths=["Unhealthy", "Healthy"],
                ),
                mechanisms=mechanisms,
                opts=child,
            ),
            ENABLEMENT_ALERT: cloudflare.NotificationPolicy(
                f"{name}-pool-enablement",
                account_id=args.account_id,
                name=f"python-org {args.stack}: pool enabled or disabled",
                description="A region's pool was disabled or enabled",
                alert_type=ENABLEMENT_ALERT,
                enabled=True,
                filters=cloudflare.NotificationPolicyFiltersArgs(
                    pool_ids=pool_ids, enableds=["true", "false"]
                ),
                mechanisms=mechanisms,
                opts=child,
            ),
        }
        self.register_outputs({})
