"""WebTier: one region's web servers behind an HTTPS application load balancer.

Builds the load balancer in the public subnets (HTTPS only, with a modern TLS policy and the
region's validated ACM certificate), a target group health-checking the site's health path, a
launch template (IMDSv2 required, encrypted root volume, user data that starts the app as
docs/app-contract.md says), an autoscaling group in the private subnets whose instance refresh
launches before it terminates, CPU target tracking, the instance role (SSM Session Manager
instead of SSH, read access to this region's secrets, read/write to the region's media bucket),
the app secret, and security groups: the load balancer accepts 443 only from `ingress_ipv4_cidrs`
(Cloudflare's ranges), instances accept the app port only from the load balancer, and the
database only from the instances.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra import app_contract
from infra.components.access_logs import ALB_PREFIX
from infra.components.origin_auth import OriginCheck, admit_edge, https_default_actions
from infra.config import Architecture, WebConfig
from infra.naming import tags

# TLS 1.3 with TLS 1.2 fallback and only forward-secret AEAD ciphers.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HTTPS_PORT = 443
_AMI_PARAMETER = {
    Architecture.ARM64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    Architecture.X86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_USER_DATA = _TEMPLATES / "web-user-data.sh"


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
    allowed_hosts: tuple[str, ...]  # the Host headers the app answers (ALLOWED_HOSTS)
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
    media_bucket_name: pulumi.Input[str]
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
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "web", f"{name}-{role}")

        # --- security groups: internet (Cloudflare) -> ALB -> instances -> database ----------
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
                    from_port=cfg.app_port,
                    to_port=cfg.app_port,
                    security_groups=[self.instance_security_group.id],
                )
            ],
            tags=t("web-alb"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-web-from-alb",
            security_group_id=self.instance_security_group.id,
            referenced_security_group_id=self.alb_security_group.id,
            ip_protocol="tcp",
            from_port=cfg.app_port,
            to_port=cfg.app_port,
            description="app port from the load balancer",
            tags=t("web-from-alb"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-web-to-https",
            security_group_id=self.instance_security_group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="AWS APIs and the container registry, through the NAT gateways",
            tags=t("web-to-https"),
            opts=child,
        )
        db = args.database
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-web-to-db",
            security_group_id=self.instance_security_group.id,
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
            referenced_security_group_id=self.instance_security_group.id,
            ip_protocol="tcp",
            from_port=db.port,
            to_port=db.port,
            description="PostgreSQL from the web servers",
            tags=t("db-from-web"),
            opts=child,
        )

        # --- load balancer -------------------------------------------------------------------
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

        # --- instances -----------------------------------------------------------------------
        app_secret = aws.secretsmanager.Secret(
            f"{name}-app",
            description="python.org application settings (SECRET_KEY, SENTRY_DSN)",
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
        profile = self._instance_profile(name, args, app_secret.arn, t)
        user_data = pulumi.Output.all(
            pulumi.Output.all(
                db_host=db.host,
                db_secret_id=db.secret_arn,
                app_secret_id=app_secret.arn,
                media_bucket=args.media_bucket_name,
            ),
            args.app_log_group_name,
        ).apply(
            lambda v: render_user_data(
                app_contract.Settings(
                    region=args.region,
                    home=db.primary,
                    allowed_hosts=args.allowed_hosts,
                    image=cfg.app_image,
                    db_port=db.port,
                    db_name=db.name,
                    **v[0],
                ),
                cfg.app_port,
                app_log_group=v[1],
            )
        )
        template = aws.ec2.LaunchTemplate(
            f"{name}-web",
            # Resolved by EC2 at each launch: new instances get the latest patched AMI
            # without a change here; an instance refresh rolls them out.
            image_id=f"resolve:ssm:{_AMI_PARAMETER[cfg.architecture]}",
            instance_type=cfg.instance_type,
            update_default_version=True,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            vpc_security_group_ids=[self.instance_security_group.id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                # 2 hops: the container reaches the instance role through docker's bridge.
                http_put_response_hop_limit=2,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true",
                        volume_size=30,
                        volume_type="gp3",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=user_data.apply(lambda s: base64.b64encode(s.encode()).decode()),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=t("web"))
                for kind in ("instance", "volume")
            ],
            tags=t("web-lt"),
            opts=child,
        )
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
            opts=child,
        )
        self.register_outputs(
            {
                "load_balancer_dns_name": self.load_balancer.dns_name,
                "target_group_arn": self.target_group.arn,
            }
        )

    def _instance_profile(
        self, name: str, args: WebTierArgs, app_secret_arn: pulumi.Output[str], t: object
    ) -> aws.iam.InstanceProfile:
        assert callable(t)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-web",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=t("web-role"),
            opts=child,
        )
        # Shell access through SSM Session Manager: no SSH port anywhere.
        aws.iam.RolePolicyAttachment(
            f"{name}-web-ssm",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-web",
            role=role.id,
            policy=pulumi.Output.all(
                app_secret_arn,
                args.database.secret_arn,
                args.media_bucket_arn,
                args.assets_key_arn,
                args.database.secret_key_arn,
                args.app_log_group_arn,
            ).apply(lambda v: json.dumps(_with_app_logs(_instance_policy(*v[:-1]), v[-1]))),
            opts=child,
        )
        return aws.iam.InstanceProfile(
            f"{name}-web", role=role.name, tags=t("web-profile"), opts=child
        )


def _instance_policy(
    app_secret: str, db_secret: str, media: str, key: str, db_key: str
) -> dict[str, object]:
    """What the app and its boot script may do: read this region's two secrets, and read and
    write media (static files are served from the image)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadAppSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [app_secret, db_secret],
            },
            {
                "Sid": "Media",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                "Resource": [media, f"{media}/*"],
            },
            {
                "Sid": "AssetsKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": key,
            },
            {
                "Sid": "DatabaseSecretKey",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": db_key,
            },
        ],
    }


def _compact(path: Path) -> str:
    """A Python template without its docstrings and comments (the user data has 16 KB)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body.pop(0)
    return ast.unparse(tree)


def _with_app_logs(policy: dict[str, object], log_group_arn: str) -> dict[str, object]:
    """The Docker daemon's awslogs driver writes to the region's application log group (its
    streams): it needs logs:CreateLogStream and logs:PutLogEvents there, and nothing else
    (docs.docker.com/engine/logging/drivers/awslogs/#credentials)."""
    statements = policy["Statement"]
    assert isinstance(statements, list)
    statements.append(
        {
            "Sid": "AppLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        }
    )
    return policy


def render_user_data(settings: app_contract.Settings, app_port: int, *, app_log_group: str) -> str:
    """The user data of one region's web servers: the template with the manifest, the boot
    and release scripts and the commands filled in."""
    manifest = {
        **app_contract.manifest(settings),
        "image": settings.image,
        "python": app_contract.PYTHON,
        "ca_bundle": app_contract.CA_BUNDLE,
        "ca_bundle_url": app_contract.CA_BUNDLE_URL.format(region=settings.region),
    }
    return fill_template(
        _USER_DATA.read_text(),
        manifest=json.dumps(manifest, indent=1, sort_keys=True),
        env_script="#!/usr/bin/python3\n" + _compact(_TEMPLATES / "pythondotorg-env.py"),
        release_script=_compact(_TEMPLATES / "release.py"),
        image=settings.image,
        ca_bundle=app_contract.CA_BUNDLE,
        web_command=shlex.join(app_contract.web_command(app_port)),
        release_command=shlex.join(app_contract.release_command()),
        region=settings.region,
        app_log_group=app_log_group,
    )


def fill_template(text: str, **values: str) -> str:
    """Fill `{{name}}` placeholders; every one must be given."""
    missing = set(re.findall(r"{{(\w+)}}", text)) - set(values)
    if missing:
        raise ValueError(f"user data template needs {sorted(missing)}")
    return re.sub(r"{{(\w+)}}", lambda m: values[m.group(1)], text)
