"""Rules for the way in: load balancers, their listeners and target groups, and certificates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from policy import tokens as tk
from policy.framework import ADVISORY, MANDATORY, Registry, Stack
from policy.view import Res, dig, flag, is_production, is_unknown, items, known

rules = Registry()

LOAD_BALANCERS = (tk.LOAD_BALANCER, tk.ALB)
LISTENERS = (tk.LISTENER, tk.ALB_LISTENER)

# TLS 1.2 or later only: the TLS 1.3 policies that floor at 1.2 or 1.3, forward-secret 1.2,
# and the 1.2 policies. (checkov's prefix match would also admit ELBSecurityPolicy-TLS13-1-0-*,
# which still accepts TLS 1.0.)
APPROVED_TLS_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|FS-1-2|TLS-1-2)-")


def _application(res: Res) -> bool:
    kind = res.props.get("loadBalancerType")
    return kind in (None, "application") or is_unknown(kind)


@rules.resource(
    "https-listener-tls-policy",
    MANDATORY,
    types=LISTENERS,
    checks="HTTPS/TLS listeners use an approved policy: TLS 1.2 or later only "
    "(ELBSecurityPolicy-TLS13-1-2-*, -TLS13-1-3-*, -FS-1-2-*, -TLS-1-2-*)",
    fix='set ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06" (web.TLS_POLICY)',
    sources=("CKV_AWS_103", "CKV_AWS_376"),
)
def https_listener_tls_policy(res: Res) -> Iterator[str]:
    if res.props.get("protocol") not in ("HTTPS", "TLS"):
        return
    policy = res.props.get("sslPolicy")
    if is_unknown(policy):
        return
    if policy is None:
        yield "no ssl_policy: the ELB default still accepts TLS 1.0"
    elif not APPROVED_TLS_POLICY.match(str(policy)):
        yield f"ssl_policy {policy!r} is not approved"


def _redirects_to_https(actions: Any) -> bool | None:
    """Whether every action redirects to HTTPS; None if the actions can't be read."""
    if is_unknown(actions):
        return None
    listed = items(actions)
    if not listed:
        return False
    for action in listed:
        kind = dig(action, "type")
        protocol = dig(action, "redirect", "protocol")
        if is_unknown(kind) or is_unknown(protocol):
            return None
        if kind != "redirect" or protocol != "HTTPS":
            return False
    return True


@rules.stack(
    "http-listener-redirects",
    MANDATORY,
    checks="Plain-HTTP listeners (and their listener rules) only redirect to HTTPS",
    fix='make every action of the HTTP listener a redirect with protocol "HTTPS" (port 443, '
    "HTTP_301); serve only on the HTTPS listener",
    sources=("CKV_AWS_2", "CKV2_AWS_20"),
)
def http_listener_redirects(stack: Stack) -> Iterator[tuple[str, str]]:
    http = [r for r in stack.of_type(*LISTENERS) if r.props.get("protocol") == "HTTP"]
    for listener in http:
        if _redirects_to_https(listener.props.get("defaultActions")) is False:
            yield listener.urn, "the HTTP listener serves instead of redirecting to HTTPS"
    http_urns = {listener.urn for listener in http}
    for rule in stack.of_type(tk.LISTENER_RULE):
        targets = stack.referenced(rule, "listenerArn", LISTENERS)
        on_http = any(t.urn in http_urns for t in targets)
        if on_http and _redirects_to_https(rule.props.get("actions")) is False:
            yield rule.urn, "a rule on the HTTP listener serves instead of redirecting"


@rules.resource(
    "alb-drop-invalid-headers",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Application load balancers drop invalid HTTP header fields",
    fix="set drop_invalid_header_fields=True (request smuggling defence)",
    sources=("CKV_AWS_131",),
)
def alb_drop_invalid_headers(res: Res) -> Iterator[str]:
    value = res.props.get("dropInvalidHeaderFields")
    if _application(res) and not is_unknown(value) and flag(value) is not True:
        yield "invalid header fields are passed to the targets"


@rules.resource(
    "alb-deletion-protection-in-production",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Production load balancers have deletion protection on",
    fix="set enable_deletion_protection=True in production (WebTier does, from the environment)",
    sources=("CKV_AWS_150",),
)
def alb_deletion_protection(res: Res) -> Iterator[str]:
    value = res.props.get("enableDeletionProtection")
    if is_production(res) and not is_unknown(value) and flag(value) is not True:
        yield "a production load balancer can be deleted"


@rules.resource(
    "alb-desync-mitigation",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Desync mitigation is defensive or strictest",
    fix='leave desync_mitigation_mode unset ("defensive") or set "strictest"',
    sources=("CKV_AWS_328",),
)
def alb_desync_mitigation(res: Res) -> Iterator[str]:
    mode = res.props.get("desyncMitigationMode")
    if known(mode) and mode not in ("defensive", "strictest"):
        yield f"desync_mitigation_mode is {mode!r}"


@rules.resource(
    "alb-access-logs",
    ADVISORY,
    types=LOAD_BALANCERS,
    checks="Load balancers write access logs",
    fix="set access_logs (enabled, bucket: an SSE-S3 bucket in the region whose policy lets "
    "the ELB service write)",
    sources=("CKV_AWS_91", "AwsSolutions-ELB2"),
)
def alb_access_logs(res: Res) -> Iterator[str]:
    logs = res.props.get("accessLogs")
    if is_unknown(logs):
        return
    if flag(dig(logs, "enabled")) is not True or not dig(logs, "bucket"):
        yield "access logging is off"


@rules.resource(
    "no-classic-load-balancer",
    ADVISORY,
    types=(tk.CLASSIC_ELB,),
    checks="No Classic Load Balancer (so the CLB-only checks have nothing to find)",
    fix="use an application load balancer (aws.lb.LoadBalancer) as WebTier does",
    sources=(
        "AwsSolutions-ELB1",
        "AwsSolutions-ELB3",
        "AwsSolutions-ELB4",
        "AwsSolutions-ELB5",
        "CKV_AWS_92",
        "CKV_AWS_127",
        "CKV_AWS_138",
    ),
)
def no_classic_load_balancer(res: Res) -> Iterator[str]:
    yield "a Classic Load Balancer is declared"


@rules.resource(
    "target-group-health-check",
    ADVISORY,
    types=(tk.TARGET_GROUP,),
    checks="HTTP(S) target groups health-check a path",
    fix="set health_check (enabled, path: the app's health path, matcher)",
    sources=("CKV_AWS_261",),
)
def target_group_health_check(res: Res) -> Iterator[str]:
    if res.props.get("protocol") not in ("HTTP", "HTTPS"):
        return
    check = res.props.get("healthCheck")
    if is_unknown(check):
        return
    if check is None or flag(dig(check, "enabled")) is False:
        yield "the target group has no health check"
    elif dig(check, "path") in (None, ""):
        yield "the health check has no path"


# --- certificates -----------------------------------------------------------------------------


@rules.resource(
    "acm-no-wildcard",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates name their hosts (no wildcard names)",
    fix="list the public hostnames (python-org:hostnames) instead of *.domain",
    sources=("CKV2_AWS_71",),
)
def acm_no_wildcard(res: Res) -> Iterator[str]:
    names = [res.props.get("domainName"), *items(res.props.get("subjectAlternativeNames"))]
    wild = [n for n in names if isinstance(n, str) and n.startswith("*")]
    if wild:
        yield f"wildcard names {', '.join(wild)}"


@rules.resource(
    "acm-create-before-destroy",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="A replaced certificate is created before the old one is deleted",
    fix="leave delete_before_replace unset or False (a listener uses the certificate)",
    sources=("CKV_AWS_233",),
)
def acm_create_before_destroy(res: Res) -> Iterator[str]:
    if res.delete_before_replace is True:
        yield "delete_before_replace is true: the listener would lose its certificate"


@rules.resource(
    "acm-transparency-logging",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates are logged to Certificate Transparency",
    fix="leave options.certificate_transparency_logging_preference unset or ENABLED (browsers "
    "reject unlogged certificates)",
    sources=("CKV_AWS_234",),
)
def acm_transparency_logging(res: Res) -> Iterator[str]:
    if dig(res.props, "options", "certificateTransparencyLoggingPreference") == "DISABLED":
        yield "certificate transparency logging is disabled"


@rules.resource(
    "acm-dns-validation",
    ADVISORY,
    types=(tk.CERTIFICATE,),
    checks="Certificates are validated by DNS (so they renew without anyone)",
    fix='set validation_method="DNS" (the records are declared on Cloudflare)',
    sources=(),
)
def acm_dns_validation(res: Res) -> Iterator[str]:
    method = res.props.get("validationMethod")
    if method == "EMAIL":
        yield "email validation needs a person at every renewal"
