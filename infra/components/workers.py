"""Workers: Celery's worker and its single beat scheduler, in the home region only.

Procfile `worker` and `worker-beat`. Both write to the database, so both run where the primary
is; the app's one task (`pydotorg.celery.run_management_command`) is sent by beat, from the
periodic tasks of django-celery-beat's DatabaseScheduler, and by that app's admin action, under
/admin/, which the edge pins to the home region. No load balancer: nothing connects to them.

Each process has its own launch template (`infra/instances.py`: the web tier's hardening and
user data, with the process as its parameter) and autoscaling group, behind one security group
that admits nothing and lets out HTTPS (AWS APIs, the registry), SMTP to SES, PostgreSQL to
the database, and Redis and search once those components `admit` it.

Exactly one beat, always (a second one sends every periodic task twice):
- its group has exactly one instance (min = max = desired = 1) and is tagged `singleton=true`;
- its instance refresh and its replacements of unhealthy instances terminate before they launch
  (min healthy 0 %, max healthy 100 %: Auto Scaling never runs more than the one), and AZ
  rebalancing, which launches before it terminates, is suspended;
- beat itself runs inside `singleton.py`, which holds a PostgreSQL advisory lock on the primary
  while beat runs: should two instances ever overlap (an operator's launch, a failover that
  leaves the old home running), the second waits for the lock instead of scheduling.
The failover runbook (docs/runbook-regional-failover.md) stops the old home's workers first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import app_contract, instances
from infra.components.web import DatabaseConnection, SettingsFor
from infra.config import WebConfig, WorkersConfig
from infra.naming import tags

HTTPS_PORT = 443
SINGLETON_TAG = ("singleton", "true")  # read by the policy rule asg-singleton-never-two
# The workers' tags of a role (and extra tags): `t` in the constructor.
_Tags = Callable[..., dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class WorkersArgs:
    config: WorkersConfig
    web: WebConfig  # the architecture and the image are the web tier's
    settings: SettingsFor
    settings_inputs: dict[str, pulumi.Input[str]]
    secrets: Sequence[instances.SecretGrant]
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    database: DatabaseConnection
    media_bucket_arn: pulumi.Input[str]
    worker_group_name: str
    beat_group_name: str
    app_log_group_name: pulumi.Input[str]  # the region's AppLogs group (Docker's awslogs)
    app_log_group_arn: pulumi.Input[str]
    base_tags: dict[str, str]


class Workers(pulumi.ComponentResource):
    security_group: aws.ec2.SecurityGroup
    worker_group: aws.autoscaling.Group
    beat_group: aws.autoscaling.Group

    def __init__(
        self, name: str, args: WorkersArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:workers:Workers", name, None, opts)

        def t(role: str, **extra: str) -> dict[str, str]:
            return tags(args.base_tags, "workers", f"{name}-{role}", **extra)

        self._security_group(name, args, t)
        worker = self._launch_template(name, args, t, app_contract.Process.WORKER, "worker")
        beat = self._launch_template(name, args, t, app_contract.Process.BEAT, "beat")
        self.worker_group = self._worker_group(name, args, t, worker)
        self.beat_group = self._beat_group(name, args, t, beat)
        self.register_outputs(
            {"worker_group": self.worker_group.name, "beat_group": self.beat_group.name}
        )

    def _security_group(self, name: str, args: WorkersArgs, t: _Tags) -> None:
        """The workers' group: nothing in; out to HTTPS, SES SMTP and the database, whose group
        admits them."""
        child = pulumi.ResourceOptions(parent=self)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-workers",
            vpc_id=args.vpc_id,
            description="python.org Celery worker and beat: no inbound traffic",
            tags=t("workers-sg"),
            opts=child,
        )
        sg = self.security_group.id
        outbound = (
            ("https", HTTPS_PORT, "AWS APIs and the container registry, through the NAT gateways"),
            ("smtp", app_contract.SMTP_PORT, "SES SMTP (STARTTLS)"),
        )
        for role, port, description in outbound:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-workers-to-{role}",
                security_group_id=sg,
                cidr_ipv4="0.0.0.0/0",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                tags=t(f"workers-to-{role}"),
                opts=child,
            )
        db = args.database
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-workers-to-db",
            security_group_id=sg,
            referenced_security_group_id=db.security_group_id,
            ip_protocol="tcp",
            from_port=db.port,
            to_port=db.port,
            description="PostgreSQL",
            tags=t("workers-to-db"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-workers",
            security_group_id=db.security_group_id,
            referenced_security_group_id=sg,
            ip_protocol="tcp",
            from_port=db.port,
            to_port=db.port,
            description="PostgreSQL from the Celery workers",
            tags=t("db-from-workers"),
            opts=child,
        )

    def _launch_template(
        self, name: str, args: WorkersArgs, t: _Tags, process: app_contract.Process, role: str
    ) -> aws.ec2.LaunchTemplate:
        """`process`'s instance role and profile and its launch template (`infra/instances.py`)."""

        def role_tags(kind: str) -> dict[str, str]:
            return t(role if kind == "instance" else f"{role}-{kind}")

        profile = instances.instance_profile(
            f"{name}-{role}",
            parent=self,
            tags=role_tags,
            secrets=args.secrets,
            media_bucket_arn=args.media_bucket_arn,
            app_log_group_arn=args.app_log_group_arn,
        )
        user_data = pulumi.Output.all(
            pulumi.Output.all(**args.settings_inputs), args.app_log_group_name
        ).apply(
            lambda v: instances.render_user_data(
                args.settings(**v[0]), process, args.web.app_port, app_log_group=v[1]
            )
        )
        return instances.launch_template(
            f"{name}-{role}",
            parent=self,
            tags=role_tags,
            machine=instances.Machine(
                instance_type=args.config.instance_type, architecture=args.web.architecture
            ),
            profile=profile,
            security_group_ids=[self.security_group.id],
            user_data=user_data,
        )

    def _worker_group(
        self, name: str, args: WorkersArgs, t: _Tags, template: aws.ec2.LaunchTemplate
    ) -> aws.autoscaling.Group:
        """The workers' group: `count` instances, replaced launch-before-terminate."""
        return aws.autoscaling.Group(
            f"{name}-worker",
            name=args.worker_group_name,
            vpc_zone_identifiers=args.private_subnet_ids,
            min_size=args.config.count,
            desired_capacity=args.config.count,
            max_size=args.config.count,
            health_check_type="EC2",
            health_check_grace_period=600,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                # As the web tier: launch before terminating, never below the count.
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=100,
                    max_healthy_percentage=200,
                    instance_warmup="300",
                ),
            ),
            enabled_metrics=[aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES],
            tags=[
                aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False)
                for k, v in t("worker-asg").items()
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _beat_group(
        self, name: str, args: WorkersArgs, t: _Tags, template: aws.ec2.LaunchTemplate
    ) -> aws.autoscaling.Group:
        """Beat's group: exactly one instance, replaced terminate-before-launch (module
        docstring)."""
        return aws.autoscaling.Group(
            f"{name}-beat",
            name=args.beat_group_name,
            vpc_zone_identifiers=args.private_subnet_ids,
            min_size=1,
            desired_capacity=1,
            max_size=1,
            health_check_type="EC2",
            health_check_grace_period=600,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            # Terminate, then launch: never two (Auto Scaling User Guide, "Instance refresh"
            # and "Instance maintenance policies": max healthy 100 % allows no extra instance).
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=0,
                    max_healthy_percentage=100,
                    instance_warmup="300",
                ),
            ),
            instance_maintenance_policy=aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
                min_healthy_percentage=0, max_healthy_percentage=100
            ),
            # AZ rebalancing launches the new instance before it terminates the old one.
            suspended_processes=["AZRebalance"],
            enabled_metrics=[aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES],
            tags=[
                aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False)
                for k, v in t("beat-asg", **dict([SINGLETON_TAG])).items()
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
