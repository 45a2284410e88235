"""Canary: one region's CloudWatch Synthetics canary, python.org as a user of that region sees it.

Every five minutes, from the region, it requests the public hostnames (which Cloudflare steers
to the nearest healthy region), the region's own origin hostname (`origin-<stack>-<region>`,
which reaches this region alone), the health path and a static asset, and fails unless each
answers 200 within the latency budget (`python-org:alerts.thresholds.canaryLatencyMs`). The
script is `infra/templates/synthetics_canary.py`, packaged as the runtime expects
(python/<file>.py, handler `<file>.handler`: docs.aws.amazon.com/AmazonSynthetics/latest/
APIReference/API_CanaryCodeInput.html) into a zip whose name is its content hash, so a change of
the script is a change of the canary. Artifacts go to the region's access-log bucket under
`synthetics/` (SSE-S3, expiring with the other logs). The execution role has what CreateCanary
documents for it, scoped to this canary.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from infra.naming import tags

# docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html
RUNTIME = "syn-python-selenium-8.0"
SCHEDULE = "rate(5 minutes)"
ARTIFACT_PREFIX = "synthetics"
MODULE = "pyorg_canary"
_SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "synthetics_canary.py"
_BUILD = Path(".build")  # relative: the program and the provider run in the project directory
# The app's static files (python/pythondotorg: static/favicon.ico under STATIC_URL /static/).
STATIC_ASSET = "/static/favicon.ico"


@dataclass(frozen=True, kw_only=True)
class Check:
    name: str
    url: str


@dataclass(frozen=True, kw_only=True)
class CanaryArgs:
    region: str
    canary_name: str
    checks: Sequence[Check]
    latency_budget_ms: int
    artifact_bucket: pulumi.Input[str]  # name
    artifact_bucket_arn: pulumi.Input[str]
    base_tags: dict[str, str]


def checks_for(
    hostnames: Sequence[str], origin_hostname: str, health_path: str
) -> tuple[Check, ...]:
    """What a region's canary requests: each public name's home page, and through the region's
    own origin hostname the health path, the home page and a static file."""
    public = [Check(name=f"home {h}", url=f"https://{h}/") for h in hostnames]
    origin = f"https://{origin_hostname}"
    return (
        *public,
        Check(name="origin health", url=f"{origin}{health_path}"),
        Check(name="origin home", url=f"{origin}/"),
        Check(name="origin static", url=f"{origin}{STATIC_ASSET}"),
    )


def package() -> Path:
    """The canary's zip (deterministic: fixed timestamps), written once per content."""
    source = _SCRIPT.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    path = _BUILD / f"canary-{digest}.zip"
    if not path.exists():
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo(f"python/{MODULE}.py", date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, source)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(buffer.getvalue())
    return path


class Canary(pulumi.ComponentResource):
    canary: aws.synthetics.Canary

    def __init__(
        self, name: str, args: CanaryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:oncall:Canary", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id

        def t(role: str) -> dict[str, str]:
            return tags(args.base_tags, "oncall", f"{name}-{role}")

        role = aws.iam.Role(
            f"{name}-canary",
            description=f"{args.canary_name}: CloudWatch Synthetics canary",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            tags=t("canary"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-canary",
            role=role.id,
            policy=pulumi.Output.all(args.artifact_bucket_arn, account).apply(
                lambda v: json.dumps(canary_policy(v[0], v[1], args.region, args.canary_name))
            ),
            opts=child,
        )
        self.canary = aws.synthetics.Canary(
            f"{name}-canary",
            name=args.canary_name,
            runtime_version=RUNTIME,
            handler=f"{MODULE}.handler",
            zip_file=str(package()),
            execution_role_arn=role.arn,
            artifact_s3_location=pulumi.Output.concat(
                "s3://", args.artifact_bucket, f"/{ARTIFACT_PREFIX}/"
            ),
            # The access-log bucket is SSE-S3 (the load balancers' log delivery needs it).
            artifact_config=aws.synthetics.CanaryArtifactConfigArgs(
                s3_encryption=aws.synthetics.CanaryArtifactConfigS3EncryptionArgs(
                    encryption_mode="SSE_S3"
                )
            ),
            schedule=aws.synthetics.CanaryScheduleArgs(expression=SCHEDULE),
            run_config=aws.synthetics.CanaryRunConfigArgs(
                timeout_in_seconds=120,
                environment_variables={
                    "CANARY_CHECKS": json.dumps(
                        [{"name": c.name, "url": c.url} for c in args.checks]
                    ),
                    "CANARY_LATENCY_MS": str(args.latency_budget_ms),
                },
            ),
            start_canary=True,
            success_retention_period=7,
            failure_retention_period=31,
            delete_lambda=True,
            tags=t("canary"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"canary": self.canary.name})


def canary_policy(bucket_arn: str, account: str, region: str, canary: str) -> dict[str, object]:
    """What a canary's execution role needs (docs.aws.amazon.com/AmazonSynthetics/latest/
    APIReference/API_CreateCanary.html, ExecutionRoleArn), for this canary's artifacts, metrics
    and logs only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Artifacts",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{ARTIFACT_PREFIX}/*",
            },
            {
                "Sid": "ArtifactBucket",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": bucket_arn,
            },
            {
                # No resource-level permissions exist for these two (Service Authorization
                # Reference: Amazon S3 ListAllMyBuckets, CloudWatch PutMetricData).
                "Sid": "ListBuckets",
                "Effect": "Allow",
                "Action": "s3:ListAllMyBuckets",
                "Resource": "*",
            },
            {
                "Sid": "Metrics",
                "Effect": "Allow",
                "Action": "cloudwatch:PutMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
            },
            {
                # The canary's Lambda function is cwsyn-<canary name>-<id>.
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/cwsyn-{canary}-*",
            },
        ],
    }
