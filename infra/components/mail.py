"""Mail: the app's outgoing mail through Amazon SES in the home region, and its DNS records.

The app sends through SMTP (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD with
EMAIL_USE_TLS: pydotorg/settings/cabotage.py) from @<domain> addresses (DEFAULT_FROM_EMAIL and
the addresses base.py hard-codes: jobs@, events@, sponsors@). So the SES identity is the domain
itself. Builds:

- the domain identity with Easy DKIM (2048-bit), whose default configuration set requires TLS
  to the receiving servers, suppresses addresses that bounced or complained, and sends bounces
  and complaints to an SNS topic encrypted with a key of its own;
- a custom MAIL FROM domain (a subdomain of the identity: SPF then aligns with the From domain
  for DMARC, relaxed) with its MX and SPF records;
- the DNS records in the Cloudflare zone, DNS-only, under names this stack owns: the three DKIM
  CNAMEs (`<token>._domainkey.<domain>`: new names), the MAIL FROM domain's MX and TXT, and
  `_dmarc.<domain>` only where the config says the stack owns it. The zone apex's own SPF and
  MX (python.org's, which mail.python.org uses) are never touched;
- the SMTP credentials: SES's SMTP interface takes only an IAM user's access key, whose secret
  converts into the SMTP password by AWS's documented algorithm (`smtp_password`). The user may
  do one thing, ses:SendRawEmail from this identity with this configuration set (what the SMTP
  interface needs); it is tagged `purpose=ses-smtp`, which the `iam-no-users` policy rule
  accepts for exactly that. The key and the password are secrets in the state and go only into
  every region's app secret, never into an output or the user data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

from infra.config import MailConfig
from infra.naming import tags

SES_SMTP_TAG = ("purpose", "ses-smtp")  # the iam-no-users rule's allowlist tag
DKIM_RECORDS = 3  # Easy DKIM: always three CNAMEs ("Easy DKIM in Amazon SES", SES Developer Guide)
SPF = (
    '"v=spf1 include:amazonses.com ~all"'  # SES Developer Guide, "Using a custom MAIL FROM domain"
)
FEEDBACK_EVENTS = ("BOUNCE", "COMPLAINT")
# The mail's tags of a role (and extra tags): `t` in the constructor.
_Tags = Callable[..., dict[str, str]]


def smtp_password(secret_access_key: str, region: str) -> str:
    """The SES SMTP password of an IAM secret access key in `region` ("Obtaining Amazon SES SMTP
    credentials by converting existing AWS credentials", SES Developer Guide)."""

    def sign(key: bytes, message: str) -> bytes:
        return hmac.new(key, message.encode(), hashlib.sha256).digest()

    signature = ("AWS4" + secret_access_key).encode()
    for part in ("11111111", region, "ses", "aws4_request", "SendRawEmail"):
        signature = sign(signature, part)
    return base64.b64encode(bytes([0x04]) + signature).decode()


def dmarc_record(policy: str, domain: str) -> str:
    return f'"v=DMARC1; p={policy}; rua=mailto:dmarc-reports@{domain}; adkim=r; aspf=r"'


@dataclass(frozen=True, kw_only=True)
class MailArgs:
    stack: str
    region: str  # the home region
    config: MailConfig
    zone_id: pulumi.Input[str]
    base_tags: dict[str, str]


class Mail(pulumi.ComponentResource):
    identity: aws.sesv2.EmailIdentity
    topic: aws.sns.Topic
    smtp_username: pulumi.Output[str]  # secret
    smtp_password: pulumi.Output[str]  # secret

    def __init__(
        self, name: str, args: MailArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("python-org:mail:Mail", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)

        def t(role: str, **extra: str) -> dict[str, str]:
            return tags(args.base_tags, "mail", f"{name}-{role}", **extra)

        invoke = pulumi.InvokeOutputOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        config_set, feedback = self._configuration_set(name, args, t, account)
        self.identity = aws.sesv2.EmailIdentity(
            f"{name}-mail",
            email_identity=cfg.domain,
            # Messages sent without a configuration set header get this one.
            configuration_set_name=config_set.configuration_set_name,
            dkim_signing_attributes=aws.sesv2.EmailIdentityDkimSigningAttributesArgs(
                next_signing_key_length="RSA_2048_BIT"
            ),
            tags=t("mail-identity"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[feedback]),
        )
        aws.sesv2.EmailIdentityMailFromAttributes(
            f"{name}-mail",
            email_identity=self.identity.email_identity,
            mail_from_domain=cfg.mail_from_domain,
            # Until the MX record resolves, bounces go through amazonses.com (SPF still passes).
            behavior_on_mx_failure="USE_DEFAULT_VALUE",
            opts=child,
        )
        self._dns(name, args)
        self._smtp_credentials(name, args, t, account, config_set.arn)
        self.register_outputs({"identity": self.identity.arn, "feedback_topic": self.topic.arn})

    def _configuration_set(
        self, name: str, args: MailArgs, t: _Tags, account: pulumi.Output[str]
    ) -> tuple[aws.sesv2.ConfigurationSet, aws.sesv2.ConfigurationSetEventDestination]:
        """The configuration set (TLS required, bounces and complaints suppressed) and its
        event destination: the feedback topic, on a key of its own."""
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-mail-key",
            description=f"python.org {args.stack}: SES bounce and complaint notifications",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account.apply(lambda a: json.dumps(_key_policy(a))),
            tags=t("mail-key"),
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.topic = aws.sns.Topic(
            f"{name}-mail-feedback",
            name=f"pyorg-{args.stack}-mail-feedback",
            display_name=f"python.org {args.stack}: mail bounces and complaints",
            kms_master_key_id=key.arn,
            tags=t("mail-feedback"),
            opts=child,
        )
        config_set = aws.sesv2.ConfigurationSet(
            f"{name}-mail",
            configuration_set_name=f"pyorg-{args.stack}-mail",
            delivery_options=aws.sesv2.ConfigurationSetDeliveryOptionsArgs(tls_policy="REQUIRE"),
            reputation_options=aws.sesv2.ConfigurationSetReputationOptionsArgs(
                reputation_metrics_enabled=True
            ),
            sending_options=aws.sesv2.ConfigurationSetSendingOptionsArgs(sending_enabled=True),
            suppression_options=aws.sesv2.ConfigurationSetSuppressionOptionsArgs(
                suppressed_reasons=list(FEEDBACK_EVENTS)
            ),
            tags=t("mail-configuration-set"),
            opts=child,
        )
        aws.sns.TopicPolicy(
            f"{name}-mail-feedback",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, account, config_set.arn).apply(
                lambda v: json.dumps(_topic_policy(*v))
            ),
            opts=child,
        )
        feedback = aws.sesv2.ConfigurationSetEventDestination(
            f"{name}-mail-feedback",
            configuration_set_name=config_set.configuration_set_name,
            event_destination_name="bounces-and-complaints",
            event_destination=aws.sesv2.ConfigurationSetEventDestinationEventDestinationArgs(
                enabled=True,
                matching_event_types=list(FEEDBACK_EVENTS),
                sns_destination=aws.sesv2.ConfigurationSetEventDestinationEventDestinationSnsDestinationArgs(
                    topic_arn=self.topic.arn
                ),
            ),
            opts=child,
        )
        return config_set, feedback

    def _dns(self, name: str, args: MailArgs) -> None:
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        tokens: pulumi.Output[list[str]] = self.identity.dkim_signing_attributes.apply(
            lambda a: list(a.tokens or []) if a else []
        )

        def nth(i: int) -> pulumi.Output[str]:
            return tokens.apply(lambda ts: ts[i] if len(ts) > i else "")

        for i in range(DKIM_RECORDS):
            token = nth(i)
            cloudflare.DnsRecord(
                f"{name}-dkim-{i + 1}",
                zone_id=args.zone_id,
                name=token.apply(lambda v: f"{v}._domainkey.{cfg.domain}"),
                type="CNAME",
                content=token.apply(lambda v: f"{v}.dkim.amazonses.com"),
                proxied=False,
                ttl=1,
                comment=f"SES Easy DKIM for {cfg.domain} (python-org-infra)",
                opts=child,
            )
        cloudflare.DnsRecord(
            f"{name}-mail-from-mx",
            zone_id=args.zone_id,
            name=cfg.mail_from_domain,
            type="MX",
            content=f"feedback-smtp.{args.region}.amazonses.com",
            priority=10,
            proxied=False,
            ttl=1,
            comment="SES custom MAIL FROM: bounces (python-org-infra)",
            opts=child,
        )
        cloudflare.DnsRecord(
            f"{name}-mail-from-spf",
            zone_id=args.zone_id,
            name=cfg.mail_from_domain,
            type="TXT",
            content=SPF,
            proxied=False,
            ttl=1,
            comment="SES custom MAIL FROM: SPF (python-org-infra)",
            opts=child,
        )
        if cfg.dmarc_policy is not None:
            cloudflare.DnsRecord(
                f"{name}-dmarc",
                zone_id=args.zone_id,
                name=f"_dmarc.{cfg.domain}",
                type="TXT",
                content=dmarc_record(cfg.dmarc_policy, cfg.domain),
                proxied=False,
                ttl=1,
                comment="DMARC for mail the site sends (python-org-infra)",
                opts=child,
            )

    def _smtp_credentials(
        self,
        name: str,
        args: MailArgs,
        t: _Tags,
        account: pulumi.Output[str],
        config_set_arn: pulumi.Output[str],
    ) -> None:
        child = pulumi.ResourceOptions(parent=self)
        user = aws.iam.User(
            f"{name}-ses-smtp",
            name=f"pyorg-{args.stack}-ses-smtp",
            tags=t("ses-smtp", **dict([SES_SMTP_TAG])),
            opts=child,
        )
        aws.iam.UserPolicy(
            f"{name}-ses-smtp",
            user=user.name,
            policy=pulumi.Output.all(self.identity.arn, config_set_arn).apply(
                lambda v: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "SendThroughSmtp",
                                "Effect": "Allow",
                                "Action": "ses:SendRawEmail",
                                "Resource": list(v),
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        key = aws.iam.AccessKey(f"{name}-ses-smtp", user=user.name, opts=child)
        region = args.region
        self.smtp_username = pulumi.Output.secret(key.id)
        self.smtp_password = pulumi.Output.secret(
            key.secret.apply(lambda s: smtp_password(s, region))
        )


def _key_policy(account: str) -> dict[str, object]:
    """The account administers the key; SES may use it to publish to the encrypted topic
    ("Encrypting SNS topics that SES publishes to", SES Developer Guide)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "SesPublishes",
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            },
        ],
    }


def _topic_policy(topic: str, account: str, config_set: str) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SesPublishesFeedback",
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account, "aws:SourceArn": config_set}
                },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
