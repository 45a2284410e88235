"""Cloud refusals for what runs the app: launch templates' user data, auto scaling groups'
instance refresh, target groups' health checks.

One part of the cloud-refusal group (`policy.refusals`): each rule is mandatory, states one
thing the API refuses and names the document that says so.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator

from policy import tokens as tk
from policy.compute import refresh_percentages
from policy.framework import MANDATORY, Registry
from policy.view import Res, dig, known, number

rules = Registry()

USER_DATA_LIMIT = 16 * 1024


@rules.resource(
    "user-data-size",
    MANDATORY,
    types=(tk.LAUNCH_TEMPLATE,),
    checks=f"Launch template user data is base64 and at most {USER_DATA_LIMIT} bytes decoded",
    fix="move what the boot needs into files the boot script fetches (an S3 object, SSM), or "
    "trim the embedded scripts",
    document="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
)
def user_data_size(res: Res) -> Iterator[str]:
    raw = res.props.get("userData")
    if not isinstance(raw, str) or not known(raw):
        return
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        yield "user_data is not base64: a launch template takes base64-encoded user data"
        return
    if len(decoded) > USER_DATA_LIMIT:
        yield f"user data is {len(decoded)} bytes; EC2 accepts {USER_DATA_LIMIT} (16 KB) raw"


@rules.resource(
    "asg-instance-refresh-percentages",
    MANDATORY,
    types=(tk.ASG,),
    checks="Instance refresh percentages are ones Auto Scaling accepts (minimum 0-100, maximum "
    "100-200, at most 100 apart)",
    fix="min_healthy_percentage=100 and max_healthy_percentage=200 (launch before terminate)",
    document="https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html",
)
def asg_instance_refresh_percentages(res: Res) -> Iterator[str]:
    percentages = refresh_percentages(res, defaults=False)
    if percentages is None:
        return
    low, high = percentages
    if low is not None and not 0 <= low <= 100:
        yield f"min_healthy_percentage {low} is outside 0-100"
    if high is not None and not 100 <= high <= 200:
        yield f"max_healthy_percentage {high} is outside 100-200"
    if low is not None and high is not None and high - low > 100:
        yield f"max_healthy_percentage {high} is more than 100 above the minimum {low}"


@rules.resource(
    "target-group-health-check-timing",
    MANDATORY,
    types=(tk.TARGET_GROUP,),
    checks="A target group's health check timeout is shorter than its interval",
    fix="make health_check.timeout smaller than health_check.interval",
    document="https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/"
    "API_CreateTargetGroup.html",
)
def target_group_health_check_timing(res: Res) -> Iterator[str]:
    timeout = number(dig(res.props, "healthCheck", "timeout"))
    interval = number(dig(res.props, "healthCheck", "interval"))
    if timeout is not None and interval is not None and timeout >= interval:
        yield f"timeout {timeout} s is not shorter than the interval {interval} s"
