"""Instances of the app: one launch template, instance role and user data for every process.

The web tier and the workers run the same image with the same hardening; only the process, the
security groups and what the role may read differ. Everything here is declared under the
calling component (`parent`), with names the caller gives, so the URNs are the component's own:

- the launch template: the latest Amazon Linux 2023 AMI (resolved by EC2 at each launch), IMDSv2
  only with a hop limit of 2 (the container reaches the role through docker's bridge), an
  encrypted gp3 root volume, detailed monitoring, tags on instances and volumes, and the user
  data `render_user_data` builds from docs/app-contract.md;
- the instance role: SSM Session Manager instead of SSH, read access to the region's secrets
  (`SecretGrant`s), read/write to the region's media bucket.

The user data is gzip-compressed (EC2 takes 16 KB of it, and the boot scripts are more than
that): cloud-init unpacks gzip user data before it runs it ("User-data formats", cloud-init
docs). It is compressed with a fixed timestamp, so the same contract gives the same bytes and
no launch template changes without a reason.
"""

from __future__ import annotations

import ast
import base64
import functools
import gzip
import json
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra import app_contract
from infra.config import Architecture

AMI_PARAMETER = {
    Architecture.ARM64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    Architecture.X86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
TEMPLATES = Path(__file__).resolve().parent / "templates"
USER_DATA = TEMPLATES / "user-data.sh"
SSM_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

Tags = Callable[[str], dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class SecretGrant:
    """A secret the instances read at boot, and the KMS key that encrypts it."""

    arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


def instance_profile(
    name: str,
    *,
    parent: pulumi.Resource,
    tags: Tags,
    secrets: Sequence[SecretGrant],
    media_bucket_arn: pulumi.Input[str],
    app_log_group_arn: pulumi.Input[str],
) -> aws.iam.InstanceProfile:
    """Role `name` (and its policy and profile, same name) for instances of one process."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        name,
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
        tags=tags("role"),
        opts=child,
    )
    # Shell access through SSM Session Manager: no SSH port anywhere.
    aws.iam.RolePolicyAttachment(f"{name}-ssm", role=role.name, policy_arn=SSM_POLICY, opts=child)
    aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.all(
            [s.arn for s in secrets],
            [s.kms_key_arn for s in secrets],
            media_bucket_arn,
            app_log_group_arn,
        ).apply(lambda v: json.dumps(instance_policy(*v))),
        opts=child,
    )
    return aws.iam.InstanceProfile(name, role=role.name, tags=tags("profile"), opts=child)


def instance_policy(
    secrets: list[str], keys: list[str], media: str, app_log_group: str
) -> dict[str, object]:
    """What the app and its boot script may do: read this region's secrets (and decrypt them),
    read and write media (static files are served from the image), and ship the containers'
    output to the region's application log group (the Docker daemon's awslogs driver needs
    logs:CreateLogStream and logs:PutLogEvents there, and nothing else:
    docs.docker.com/engine/logging/drivers/awslogs/#credentials)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadAppSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": secrets,
            },
            {
                "Sid": "Media",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
                "Resource": [media, f"{media}/*"],
            },
            {
                "Sid": "SecretKeys",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sorted(set(keys)),
            },
            {
                "Sid": "AppLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [app_log_group, f"{app_log_group}:*"],
            },
        ],
    }


@dataclass(frozen=True, kw_only=True)
class Machine:
    instance_type: str
    architecture: Architecture


def launch_template(
    name: str,
    *,
    parent: pulumi.Resource,
    tags: Tags,
    machine: Machine,
    profile: aws.iam.InstanceProfile,
    security_group_ids: Sequence[pulumi.Input[str]],
    user_data: pulumi.Output[str],
) -> aws.ec2.LaunchTemplate:
    return aws.ec2.LaunchTemplate(
        name,
        # Resolved by EC2 at each launch: new instances get the latest patched AMI
        # without a change here; an instance refresh rolls them out.
        image_id=f"resolve:ssm:{AMI_PARAMETER[machine.architecture]}",
        instance_type=machine.instance_type,
        update_default_version=True,
        iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
        vpc_security_group_ids=list(security_group_ids),
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
        user_data=user_data.apply(encode_user_data),
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags("instance"))
            for kind in ("instance", "volume")
        ],
        tags=tags("lt"),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def encode_user_data(script: str) -> str:
    """Base64 of the gzip-compressed script (fixed mtime: the same script, the same bytes)."""
    return base64.b64encode(gzip.compress(script.encode(), mtime=0)).decode()


def decode_user_data(encoded: str) -> str:
    """The script a launch template's user data holds (gzip or not)."""
    raw = base64.b64decode(encoded)
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()


@functools.cache
def _compact(path: Path) -> str:
    """A Python template without its docstrings and comments (the user data has 16 KB). Cached:
    every launch template embeds the same six."""
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


def mounts() -> str:
    """What every container of the app gets from the host, read-only: /etc/pythondotorg (the
    scripts, the overlay, the RDS CA; no secrets) and the CA bundle at the settings' path."""
    etc = app_contract.ETC
    return shlex.join(
        [
            "-v",
            f"{etc}:{etc}:ro",
            "-v",
            f"{app_contract.HOST_CA_BUNDLE}:{app_contract.SEARCH_CA}:ro",
        ]
    )


def render_user_data(
    settings: app_contract.Settings,
    process: app_contract.Process,
    app_port: int,
    *,
    app_log_group: str,
) -> str:
    """The user data of one region's instances of `process`: the template with the manifest,
    the boot, release and indexer scripts, the settings overlay and the commands filled in."""
    manifest = {
        **app_contract.manifest(settings, process),
        "image": settings.image,
        "python": app_contract.PYTHON,
        "ca_bundle": app_contract.CA_BUNDLE,
        "ca_bundle_url": app_contract.CA_BUNDLE_URL.format(region=settings.region),
    }
    overlay = TEMPLATES / "python"
    return fill_template(
        USER_DATA.read_text(),
        process=process.value,
        manifest=json.dumps(manifest, indent=1, sort_keys=True),
        env_script="#!/usr/bin/python3\n" + _compact(TEMPLATES / "pythondotorg-env.py"),
        release_script=_compact(TEMPLATES / "release.py"),
        search_script=_compact(TEMPLATES / "search_index.py"),
        singleton_script=_compact(TEMPLATES / "singleton.py"),
        overlay_settings=_compact(overlay / f"{app_contract.OVERLAY_MODULE}.py"),
        overlay_cache=_compact(overlay / "pythondotorg_infra_cache.py"),
        image=settings.image,
        mounts=mounts(),
        command=shlex.join(app_contract.command(process, app_port)),
        release_command=shlex.join(app_contract.release_command()),
        search_command=shlex.join(app_contract.search_index_command()),
        region=settings.region,
        app_log_group=app_log_group,
    )


def fill_template(text: str, **values: str) -> str:
    """Fill `{{name}}` placeholders; every one must be given."""
    missing = set(re.findall(r"{{(\w+)}}", text)) - set(values)
    if missing:
        raise ValueError(f"user data template needs {sorted(missing)}")
    return re.sub(r"{{(\w+)}}", lambda m: values[m.group(1)], text)
