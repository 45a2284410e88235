"""Rules for the web servers: launch templates, instances, volumes, autoscaling groups."""

from __future__ import annotations

import base64
import binascii
import gzip
import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import SECRET, Res, dig, flag, is_unknown, items, number, shown, tags

rules = Registry()

MACHINES = (tk.LAUNCH_TEMPLATE, tk.INSTANCE)
# What a hard-coded credential looks like in a boot script.
SECRET_PATTERNS = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an AWS secret access key": re.compile(
        r"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}", re.IGNORECASE
    ),
    "a private key": re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----"),
    # A literal: quoted, or a shell assignment of a non-expansion. Not `password = f(...)`.
    "a literal password": re.compile(
        r"""(\b\w*(password|passwd|secret_key)\w*\s*[=:]\s*(['"])[^'"${]{8,}\3)"""
        r"""|(\b[A-Z_]*(PASSWORD|PASSWD|SECRET_KEY)[A-Z_]*=(?![$"'{(])\S{8,})""",
        re.IGNORECASE,
    ),
}
MAX_HOP_LIMIT = 2


@rules.resource(
    "launch-template-imdsv2",
    MANDATORY,
    types=MACHINES,
    checks="Instances require IMDSv2 (session tokens) for the metadata service",
    fix='set metadata_options.http_tokens="required"',
    sources=("CKV_AWS_79",),
)
def imdsv2(res: Res) -> Iterator[str]:
    options = res.props.get("metadataOptions")
    if is_unknown(options):
        return
    tokens = dig(options, "httpTokens")
    if dig(options, "httpEndpoint") == "disabled" or is_unknown(tokens):
        return
    if tokens != "required":
        yield f"http_tokens is {shown(tokens)}: IMDSv1 lets an SSRF read the instance role's keys"


@rules.resource(
    "imds-hop-limit",
    ADVISORY,
    types=MACHINES,
    checks=f"The metadata response hop limit is at most {MAX_HOP_LIMIT}",
    fix=f"set metadata_options.http_put_response_hop_limit to 1, or {MAX_HOP_LIMIT} where a "
    "container on docker's bridge network must reach the instance role",
    sources=("CKV_AWS_341",),
)
def imds_hop_limit(res: Res) -> Iterator[str]:
    limit = number(dig(res.props, "metadataOptions", "httpPutResponseHopLimit"))
    if limit is not None and limit > MAX_HOP_LIMIT:
        yield f"hop limit {limit} lets tokens reach nested network namespaces"


def _unencrypted_volumes(res: Res) -> Iterator[str]:
    props = res.props
    if res.type == tk.EBS_VOLUME:
        if flag(props.get("encrypted")) is not True and not is_unknown(props.get("encrypted")):
            yield "the volume is not encrypted"
        return
    if res.type == tk.LAUNCH_TEMPLATE:
        mappings = props.get("blockDeviceMappings")
        if is_unknown(mappings):
            return
        ebs = [m for m in items(mappings) if dig(m, "ebs") is not None]
        if not ebs:
            yield "no block device mapping says the root volume is encrypted"
        for mapping in ebs:
            encrypted = dig(mapping, "ebs", "encrypted")
            # The launch template API takes this flag as the string "true".
            if not is_unknown(encrypted) and flag(encrypted) is not True:
                yield f"volume {dig(mapping, 'deviceName')} is not encrypted"
        return
    root = props.get("rootBlockDevice")
    if not is_unknown(root) and flag(dig(root, "encrypted")) is not True:
        yield "the root volume is not encrypted"
    for device in items(props.get("ebsBlockDevices")):
        if flag(dig(device, "encrypted")) is False:
            yield f"volume {dig(device, 'deviceName')} is not encrypted"


@rules.resource(
    "volumes-encrypted",
    MANDATORY,
    types=(*MACHINES, tk.EBS_VOLUME),
    checks="Every EBS volume (launch template mappings, instance volumes, volumes) is encrypted",
    fix='declare the root volume\'s block device mapping with ebs.encrypted="true"',
    sources=("CKV_AWS_8", "CKV_AWS_3", "AwsSolutions-EC26"),
)
def volumes_encrypted(res: Res) -> Iterator[str]:
    yield from _unencrypted_volumes(res)


def _user_data(res: Res) -> str | None:
    raw = res.props.get("userData")
    encoded = res.type == tk.LAUNCH_TEMPLATE
    if raw is None:
        raw, encoded = res.props.get("userDataBase64"), True
    if not isinstance(raw, str) or is_unknown(raw):
        return None
    if encoded:
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return raw
        if data[:2] == b"\x1f\x8b":  # gzip, which cloud-init unpacks before it runs it
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                return data.decode("utf-8", "replace")
        return data.decode("utf-8", "replace")
    return raw


@rules.resource(
    "user-data-no-secrets",
    MANDATORY,
    types=MACHINES,
    checks="User data holds no credentials (and no Pulumi secret flows into it)",
    fix="have the boot script fetch secrets from Secrets Manager with the instance role "
    "(as web-user-data.sh does); user data is readable by anyone who can describe the instance",
    sources=("CKV_AWS_46",),
)
def user_data_no_secrets(res: Res) -> Iterator[str]:
    if SECRET in (res.props.get("userData"), res.props.get("userDataBase64")):
        yield "a secret value is part of the user data"
        return
    script = _user_data(res)
    if script is None:
        return
    for what, pattern in SECRET_PATTERNS.items():
        if pattern.search(script):
            yield f"the user data contains {what}"


@rules.resource(
    "no-public-ip-on-instances",
    ADVISORY,
    types=MACHINES,
    checks="Instances get no public IP address",
    fix="leave associate_public_ip_address unset/false; instances live in the private subnets",
    sources=("CKV_AWS_88",),
)
def no_public_ip(res: Res) -> Iterator[str]:
    flags = [res.props.get("associatePublicIpAddress")]
    flags += [dig(n, "associatePublicIpAddress") for n in items(res.props.get("networkInterfaces"))]
    if any(flag(f) is True for f in flags):
        yield "instances get a public IP address"


@rules.resource(
    "detailed-monitoring",
    ADVISORY,
    types=MACHINES,
    checks="Instances have detailed (1-minute) CloudWatch monitoring",
    fix="set monitoring.enabled=True (launch template) / monitoring=True (instance)",
    sources=("CKV_AWS_126", "AwsSolutions-EC28"),
)
def detailed_monitoring(res: Res) -> Iterator[str]:
    value = res.props.get("monitoring")
    enabled = dig(value, "enabled") if isinstance(value, Mapping) else value
    if not is_unknown(enabled) and flag(enabled) is not True:
        yield "detailed monitoring is off"


@rules.resource(
    "instance-profile-attached",
    ADVISORY,
    types=MACHINES,
    checks="Instances run with an IAM role (no keys on the machine)",
    fix="set iam_instance_profile to a profile whose role grants what the app needs",
    sources=("CKV2_AWS_41",),
)
def instance_profile_attached(res: Res) -> Iterator[str]:
    if res.props.get("iamInstanceProfile") in (None, "", {}):
        yield "no instance profile"


@rules.resource(
    "instance-termination-protection",
    ADVISORY,
    types=(tk.INSTANCE,),
    checks="A standalone instance (outside an autoscaling group) has termination protection",
    fix="set disable_api_termination=True, or run it from a launch template in an "
    "autoscaling group",
    sources=("AwsSolutions-EC29",),
)
def instance_termination_protection(res: Res) -> Iterator[str]:
    value = res.props.get("disableApiTermination")
    if not is_unknown(value) and flag(value) is not True:
        yield "the instance can be terminated by any API call"


@rules.resource(
    "asg-launch-template",
    ADVISORY,
    types=(tk.ASG,),
    checks="Autoscaling groups launch from a launch template",
    fix="set launch_template (launch configurations get no new instance types or features)",
    sources=("CKV_AWS_315",),
)
def asg_launch_template(res: Res) -> Iterator[str]:
    if res.props.get("launchTemplate") is None and res.props.get("mixedInstancesPolicy") is None:
        yield "the group uses a launch configuration"


@rules.resource(
    "asg-elb-health-check",
    ADVISORY,
    types=(tk.ASG,),
    checks="Groups behind a load balancer replace instances the load balancer finds unhealthy",
    fix='set health_check_type="ELB"',
    sources=("CKV2_AWS_15", "AwsSolutions-AS2"),
)
def asg_elb_health_check(res: Res) -> Iterator[str]:
    behind = items(res.props.get("targetGroupArns")) or items(res.props.get("loadBalancers"))
    kind = res.props.get("healthCheckType")
    if behind and not is_unknown(kind) and kind != "ELB":
        yield f"health_check_type is {kind or 'EC2'}: unhealthy-but-running instances stay"


@rules.resource(
    "asg-cooldown",
    ADVISORY,
    types=(tk.ASG,),
    checks="Autoscaling groups keep a cooldown between scaling activities",
    fix="leave default_cooldown unset (300 s) or give it a positive value",
    sources=("AwsSolutions-AS1",),
)
def asg_cooldown(res: Res) -> Iterator[str]:
    if number(res.props.get("defaultCooldown")) == 0:
        yield "default_cooldown is 0"


def refresh_percentages(res: Res, *, defaults: bool) -> tuple[int | None, int | None] | None:
    """(minimum, maximum) healthy percentage of a group's instance refresh; None without a
    refresh; with `defaults`, Auto Scaling's (90, 100) where the input is absent."""
    prefs = dig(res.props, "instanceRefresh", "preferences")
    if not isinstance(prefs, Mapping):
        return None
    low = number(prefs.get("minHealthyPercentage"))
    high = number(prefs.get("maxHealthyPercentage"))
    if defaults:
        low = 90 if "minHealthyPercentage" not in prefs else low
        high = 100 if "maxHealthyPercentage" not in prefs else high
    return low, high


@rules.resource(
    "asg-refresh-keeps-capacity",
    MANDATORY,
    types=(tk.ASG,),
    checks="An instance refresh never takes a group below its desired capacity: it launches "
    "new instances before it terminates old ones",
    fix="instance_refresh.preferences: min_healthy_percentage=100, max_healthy_percentage "
    "above 100 (200 replaces everything at once, then terminates)",
    sources=(),
)
def asg_refresh_keeps_capacity(res: Res) -> Iterator[str]:
    if _singleton(res):
        return  # the opposite rule holds: asg-singleton-never-two
    # Auto Scaling's defaults are 90 and 100: terminate first, which takes a group of one to
    # zero (90% of 1 instance rounds down to none).
    percentages = refresh_percentages(res, defaults=True)
    if percentages is None:
        return
    low, high = percentages
    if low is not None and low < 100:
        yield f"min_healthy_percentage is {low}: the refresh terminates before it launches"
    elif high is not None and high <= 100:
        yield f"max_healthy_percentage is {high}: there is no room to launch before terminating"


SINGLETON_TAG = ("singleton", "true")  # infra/components/workers.py: the beat group


def _singleton(res: Res) -> bool:
    return (tags(res) or {}).get(SINGLETON_TAG[0]) == SINGLETON_TAG[1]


@rules.resource(
    "asg-singleton-never-two",
    MANDATORY,
    types=(tk.ASG,),
    checks="A group tagged singleton=true (Celery beat) never runs two instances: exactly one, "
    "refreshes and replacements terminate before they launch, no AZ rebalancing",
    fix="min_size = max_size = desired_capacity = 1; instance_refresh and "
    "instance_maintenance_policy with min_healthy_percentage=0, max_healthy_percentage=100; "
    'suspended_processes=["AZRebalance"]',
    sources=(),
)
def asg_singleton_never_two(res: Res) -> Iterator[str]:
    if not _singleton(res):
        return
    props = res.props
    for key in ("minSize", "maxSize", "desiredCapacity"):
        value = number(props.get(key))
        if value is not None and value != 1:
            yield f"{key} is {value}: a singleton group has exactly one instance"
    for where, what in (
        (dig(props, "instanceRefresh", "preferences"), "instance refresh"),
        (props.get("instanceMaintenancePolicy"), "replacement of unhealthy instances"),
    ):
        if is_unknown(where):
            continue
        high = number(dig(where, "maxHealthyPercentage"))
        if not isinstance(where, Mapping) or high is None or high > 100:
            yield f"the {what} may launch before it terminates (max_healthy_percentage " + (
                f"{high})" if high is not None else "unset)"
            )
    suspended = props.get("suspendedProcesses")
    if not is_unknown(suspended) and "AZRebalance" not in items(suspended):
        yield "AZ rebalancing launches a new instance before it terminates the old one"


def _tags_instances(template: Res) -> bool | None:
    specs = template.props.get("tagSpecifications")
    if is_unknown(specs):
        return None
    return any(
        dig(s, "resourceType") == "instance" and isinstance(dig(s, "tags"), Mapping)
        for s in items(specs)
    )


def _propagates(asg: Res) -> bool:
    listed: Any = asg.props.get("tags")
    return any(
        isinstance(t, Mapping) and flag(t.get("propagateAtLaunch")) is True for t in items(listed)
    )


@rules.stack(
    "asg-tags-instances",
    ADVISORY,
    checks="Instances an autoscaling group launches are tagged (by the group or the template)",
    fix="give the launch template tag_specifications for instances and volumes, or "
    "propagate_at_launch the group's tags",
    sources=("CKV_AWS_153",),
)
def asg_tags_instances(stack: Stack) -> Iterator[tuple[str, str]]:
    for asg in stack.of_type(tk.ASG):
        if _propagates(asg) or (tags(asg) is None and is_unknown(asg.props.get("tags"))):
            continue
        templates = stack.referenced(asg, "launchTemplate.id", (tk.LAUNCH_TEMPLATE,))
        verdicts = [_tags_instances(t) for t in templates]
        if not any(v is None or v for v in verdicts):
            yield asg.urn, "its instances are launched without tags"
