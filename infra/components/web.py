"""WebTier: one region's web servers behind an HTTPS application load balancer.

Builds the load balancer in the public subnets (HTTPS only, with a modern TLS policy and the
region's validated ACM certificate), a target group health-checking the site's health path, a
launch template and instance role (`infra/instances.py`, shared with the workers: IMDSv2
required, encrypted root volume, user data that starts the app as docs/app-contract.md says),
an autoscaling group in the private subnets whose instance refresh launches before it
terminates, CPU target tracking, the app secret, and security groups: the load balancer accepts
443 only from `ingress_ipv4_cidrs` (Cloudflare's ranges), instances accept the app port only
from the load balancer, and the database only from the instances. Redis and search open their
own ports to the instances (`admit` in cache.py and search.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import app_contract, instances
from infra.components.access_logs import ALB_PREFIX
from infra.components.origin_auth import OriginCheck, admit_edge, https_default_actions
from infra.config import WebConfig
from infra.naming import tags

# TLS 1.3 with TLS 1.2 fallback and only forward-secret AEAD ciphers.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTPS_PORT = 443
# The web tier's tag names, as they were before the launch template moved to instances.py.
_TAG_ROLES = {"role": "web-role", "profile": "web-profile", "lt": "web-lt", "instance": "web"}

# What the program knows of the region when it renders the user data, but the outputs it
# waits for (the database endpoint, the secrets' ARNs, ...): app_contract.Settings minus those.
SettingsFor = Callable[..., app_contract.Settings]


@dataclass(frozen=True, kw_only=True)
class DatabaseConnection:
    host: pulumi.Input[str]
    port: int
    name: str
    security_group_id: pulumi.Input[str]
    secret_arn: pulumi.Input[str]  # this region's copy of the credentials
    secret_key_arn: pulumi.Input[str]  # the KMS key that encrypts that secret
    primary: bool  # the home region's primary: the release step (migrations) runs here


@dataclass(frozen=True, kw_only=True)
class WebTierArgs:
    region: str
    config: WebConfig
    settings: SettingsFor  # the region's app_contract.Settings from the awaited outputs
    settings_inputs: dict[str, pulumi.Input[str]]  # what `settings` waits for, by keyword
    secrets: Sequence[instances.SecretGrant]  # what the instances read besides the app secret
    load_balancer_name: str
    asg_name: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    certificate_arn: pulumi.Input[str]
    validation_record_fqdns: pulumi.Input[list[str]]
    ingress_ipv4_cidrs: pulumi.Input[list[str]]
    database: DatabaseConnection
    media_bucket_arn: pulumi.Input[str]
    assets_key_arn: pulumi.Input[str]
    app_secret: pulumi.Input[str]  # JSON, secret
    access_log_bucket: pulumi.Input[str]  # the region's AccessLogs bucket, once writable
    deletion_protection: bool
    base_tags: dict[str, str]
    # The region's AppLogs group: the Docker daemon ships every container's output there.
    app_log_group_name: pulumi.Input[str]
    app_log_group_arn: pulumi.Input[str]
    # The edge's secret header the HTTPS listener requires (None: it forwards everything).
    origin_check: OriginCheck | None = None


class WebTier(pulumi.ComponentResource):
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    group: aws.autoscaling.Group
    alb_security_group: aws.ec2.SecurityGroup
    instance_security_group: aws.ec2.SecurityGroup

    def __init__(
        self, name: str, args: WebTierArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:web:WebTier", name, None, opts)

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "web", f"{name}-{role}")

        self._security_groups(name, args, t)
        self._instance_rules(name, args, t)
        self._load_balancer(name, args, t)
        app_secret = self._app_secret(name, args, t)
        template = self._launch_template(name, args, t, app_secret)
        self._autoscaling(name, args, t, template)
        self.register_outputs(
            {
                "load_balancer_dns_name": self.load_balancer.dns_name,
                "target_group_arn": self.target_group.arn,
            }
        )

    def _security_groups(self, name: str, args: WebTierArgs, t: instances.Tags) -> None:
        """The instances' and the load balancer's groups: internet (Cloudflare) -> ALB ->
        instances."""
        child = pulumi.ResourceOptions(parent=self)
        app_port = args.config.app_port
        self.instance_security_group = aws.ec2.SecurityGroup(
            f"{name}-web-instances",
            vpc_id=args.vpc_id,
            description="python.org web servers: app port from the load balancer only",
            tags=t("web-instances"),
            opts=child,
        )
        # HTTPS only: Cloudflare's SSL mode "Full (strict)" always connects to the origin on
        # 443, and HTTP is redirected to HTTPS at the edge, so a port-80 listener would never
        # see a request. IPv4 only: the load balancer is IPv4 (no AAAA for its name).
        self.alb_security_group = aws.ec2.SecurityGroup(
            f"{name}-web-alb",
            vpc_id=args.vpc_id,
            description="python.org load balancer: HTTPS from Cloudflare only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from Cloudflare",
                    protocol="tcp",
                    from_port=HTTPS_PORT,
                    to_port=HTTPS_PORT,
                    cidr_blocks=args.ingress_ipv4_cidrs,
                )
            ],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="to the web servers' app port",
                    protocol="tcp",
                    from_port=app_port,
                    to_port=app_port,
                    security_groups=[self.instance_security_group.id],
                )
            ],
            tags=t("web-alb"),
            opts=child,
        )

    def _instance_rules(self, name: str, args: WebTierArgs, t: instances.Tags) -> None:
        """The instances' rules: the app port from the load balancer; out to HTTPS, SES SMTP and
        the database, whose group admits them."""
        child = pulumi.ResourceOptions(parent=self)
        app_port = args.config.app_port
        sg = self.instance_security_group.id
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-web-from-alb",
            security_group_id=sg,
            referenced_security_group_id=self.alb_security_group.id,
            ip_protocol="tcp",
            from_port=app_port,
            to_port=app_port,
            description="app port from the load balancer",
            tags=t("web-from-alb"),
            opts=child,
        )
        outbound = (
            ("https", HTTPS_PORT, "AWS APIs and the container registry, through the NAT gateways"),
            ("smtp", app_contract.SMTP_PORT, "SES SMTP (STARTTLS) in the home region"),
        )
        for role, port, description in outbound:
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-web-to-{role}",
                security_group_id=sg,
                cidr_ipv4="0.0.0.0/0",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                description=description,
                tags=t(f"web-to-{role}"),
                opts=child,
            )
        db = args.database
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-web-to-db",
            security_group_id=sg,
            referenced_security_group_id=db.security_group_id,
            ip_protocol="tcp",
            from_port=db.port,
            to_port=db.port,
            description="PostgreSQL",
            tags=t("web-to-db"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-web",
            security_group_id=db.security_group_id,
            referenced_security_group_id=sg,
            ip_protocol="tcp",
            from_port=db.port,
            to_port=db.port,
            description="PostgreSQL from the web servers",
            tags=t("db-from-web"),
            opts=child,
        )

    def _load_balancer(self, name: str, args: WebTierArgs, t: instances.Tags) -> None:
        """The load balancer, the target group, and the HTTPS listener on the validated
        certificate (behind the edge's origin check, when there is one)."""
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=args.load_balancer_name,
            load_balancer_type="application",
            internal=False,
            subnets=args.public_subnet_ids,
            security_groups=[self.alb_security_group.id],
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=60,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(
                bucket=args.access_log_bucket, prefix=ALB_PREFIX, enabled=True
            ),
            tags=t("alb"),
            opts=child,
        )
        self.target_group = aws.lb.TargetGroup(
            f"{name}-web",
            port=cfg.app_port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=args.vpc_id,
            deregistration_delay=30,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=cfg.health_check_path,
                protocol="HTTP",
                matcher="200",
                interval=15,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=t("web-tg"),
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-cert",
            certificate_arn=args.certificate_arn,
            validation_record_fqdns=args.validation_record_fqdns,
            opts=child,
        )
        https = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            # The validated ARN: the listener waits until the certificate is issued.
            certificate_arn=validation.certificate_arn,
            default_actions=https_default_actions(self.target_group.arn, args.origin_check),
            tags=t("https"),
            opts=child,
        )
        if args.origin_check is not None:
            admit_edge(
                name,
                listener_arn=https.arn,
                target_group_arn=self.target_group.arn,
                check=args.origin_check,
                tags=t("from-edge"),
                parent=self,
            )

    def _app_secret(
        self, name: str, args: WebTierArgs, t: instances.Tags
    ) -> aws.secretsmanager.Secret:
        """The app's settings secret (SECRET_KEY, SENTRY_DSN, SES SMTP), on the assets key."""
        child = pulumi.ResourceOptions(parent=self)
        app_secret = aws.secretsmanager.Secret(
            f"{name}-app",
            description="python.org application settings (SECRET_KEY, SENTRY_DSN, SES SMTP)",
            recovery_window_in_days=30,
            # The region's assets key, which the instance role may already decrypt with.
            kms_key_id=args.assets_key_arn,
            tags=t("app-secret"),
            opts=child,
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-app",
            secret_id=app_secret.id,
            secret_string=pulumi.Output.secret(args.app_secret),
            opts=child,
        )
        self.app_secret_arn = app_secret.arn
        return app_secret

    def _launch_template(
        self,
        name: str,
        args: WebTierArgs,
        t: instances.Tags,
        app_secret: aws.secretsmanager.Secret,
    ) -> aws.ec2.LaunchTemplate:
        """The instance role and profile (the secrets it reads) and the launch template whose
        user data starts the app's web process (`infra/instances.py`)."""
        cfg = args.config
        db = args.database

        def web_tags(role: str) -> dict[str, str]:
            return t(_TAG_ROLES[role])

        # Every secret of the region an instance of the app reads (the workers read the same).
        self.secret_grants = (
            instances.SecretGrant(arn=app_secret.arn, kms_key_arn=args.assets_key_arn),
            instances.SecretGrant(arn=db.secret_arn, kms_key_arn=db.secret_key_arn),
            *args.secrets,
        )
        profile = instances.instance_profile(
            f"{name}-web",
            parent=self,
            tags=web_tags,
            secrets=self.secret_grants,
            media_bucket_arn=args.media_bucket_arn,
            app_log_group_arn=args.app_log_group_arn,
        )
        user_data = pulumi.Output.all(
            pulumi.Output.all(app_secret_id=app_secret.arn, **args.settings_inputs),
            args.app_log_group_name,
        ).apply(
            lambda v: instances.render_user_data(
                args.settings(**v[0]), app_contract.Process.WEB, cfg.app_port, app_log_group=v[1]
            )
        )
        return instances.launch_template(
            f"{name}-web",
            parent=self,
            tags=web_tags,
            machine=instances.Machine(
                instance_type=cfg.instance_type, architecture=cfg.architecture
            ),
            profile=profile,
            security_group_ids=[self.instance_security_group.id],
            user_data=user_data,
        )

    def _autoscaling(
        self, name: str, args: WebTierArgs, t: instances.Tags, template: aws.ec2.LaunchTemplate
    ) -> None:
        """The autoscaling group in the private subnets (its instance refresh launches before it
        terminates) and its CPU target tracking."""
        cfg = args.config
        self.group = aws.autoscaling.Group(
            f"{name}-web",
            name=args.asg_name,
            vpc_zone_identifiers=args.private_subnet_ids,
            min_size=cfg.min_size,
            desired_capacity=cfg.desired_capacity,
            max_size=cfg.max_size,
            target_group_arns=[self.target_group.arn],
            health_check_type="ELB",
            # Boot: docker, the image pull, the CA bundle, the release step in the home region.
            health_check_grace_period=600,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                # Launch before terminating: never below the desired capacity, also with one
                # instance (90% of 1 rounds down to 0, and the refresh would terminate first).
                # MaxHealthyPercentage: 100-200, at most 100 above the minimum (Auto Scaling
                # User Guide, "Instance refresh: minimum and maximum healthy percentage").
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=100,
                    max_healthy_percentage=200,
                    instance_warmup="600",
                ),
            ),
            enabled_metrics=[
                aws.autoscaling.Metric.GROUP_IN_SERVICE_INSTANCES,
                aws.autoscaling.Metric.GROUP_DESIRED_CAPACITY,
            ],
            tags=[
                aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=False)
                for k, v in t("web-asg").items()
            ],
            # Target tracking moves the desired capacity; a deploy must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )
        aws.autoscaling.Policy(
            f"{name}-web-cpu",
            autoscaling_group_name=self.group.name,
            policy_type="TargetTrackingScaling",
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                predefined_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ASGAverageCPUUtilization"
                ),
                target_value=50,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
