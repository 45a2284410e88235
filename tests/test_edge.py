"""The Cloudflare edge: a good neighbour in a shared zone, the real site's behaviour, the plan's
limits, DNS hygiene, origin authentication and failover order."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from infra.components.edge import ZONE_SETTINGS
from infra.components.edge_dns import CAA_ISSUERS
from infra.components.edge_security_rules import CLOUDFLARE_MANAGED_RULESET, OWASP_CORE_RULESET
from infra.components.origin_auth import OriginSecret, OriginSecretArgs
from infra.review.graph import SECRET, UNKNOWN, Graph, Resource
from infra.review.mocks import CLOUDFLARE_IPV4, CLOUDFLARE_IPV6
from infra.review.mocks.resources import _random_password
from infra.review.stackfile import load_stack_config, stack_names
from infra.review.synth import synthesize
from infra.zone_scope import scoped_hosts
from tests import alb_rules
from tests.conftest import SynthVariant

POOL = "cloudflare:index/loadBalancerPool:LoadBalancerPool"
LB = "cloudflare:index/loadBalancer:LoadBalancer"
MONITOR = "cloudflare:index/loadBalancerMonitor:LoadBalancerMonitor"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
DNSSEC = "cloudflare:index/zoneDnssec:ZoneDnssec"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
PASSWORD = "random:index/randomPassword:RandomPassword"
FTP = 'starts_with(http.request.uri.path, "/ftp/")'


def pools_by_region(g: Graph) -> dict[str, Resource]:
    return {p.inputs["origins"][0]["name"]: p for p in g.of_type(POOL)}


def pool_region_by_id(g: Graph) -> dict[str, str]:
    return {p.outputs["id"]: region for region, p in pools_by_region(g).items()}


def alb_dns(g: Graph, region: str) -> str:
    dns: str = g.outputs["regions"][region]["load_balancer_dns_name"]
    return dns


def _ruleset(g: Graph, phase: str) -> dict[str, Any]:
    (ruleset,) = [r for r in g.of_type(RULESET) if r.inputs["phase"] == phase]
    return ruleset.inputs


def _rule(g: Graph, phase: str, ref: str) -> dict[str, Any]:
    (rule,) = [r for r in _ruleset(g, phase)["rules"] if r["ref"] == f"pyorg_{g.stack}_{ref}"]
    found: dict[str, Any] = rule
    return found


# --- 1. scope: only the stack's names, zone-wide settings only when owned ----------------------


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_rule_of_every_ruleset_is_limited_to_the_stacks_hostnames(
    stack: str, prod: Graph, staging: Graph
) -> None:
    g = prod if stack == "prod" else staging
    cfg = load_stack_config(stack)
    owned = {*cfg.hostnames, *(f"origin-{stack}-{r}.{cfg.domain}" for r in cfg.region_names)}
    assert set(g.outputs["edge"]["hostnames"]) == owned
    rulesets = g.of_type(RULESET)
    assert len(rulesets) >= 8
    for ruleset in rulesets:
        assert ruleset.inputs["kind"] == "zone"
        assert ruleset.inputs["rules"], ruleset.name  # an empty entry point would wipe others'
        for rule in ruleset.inputs["rules"]:
            hosts = scoped_hosts(rule["expression"])
            assert hosts, (ruleset.name, rule["expression"])
            assert hosts <= owned, (ruleset.name, hosts - owned)


def test_prod_changes_no_zone_wide_setting_staging_owns_its_zone(
    prod: Graph, staging: Graph
) -> None:
    assert prod.of_type(SETTING) == []
    assert prod.outputs["edge"]["owns_zone"] is False
    assert prod.outputs["edge"]["zone_settings"] == {}
    settings = {s.inputs["settingId"]: s.inputs["value"] for s in staging.of_type(SETTING)}
    assert settings == ZONE_SETTINGS
    assert settings["ssl"] == "strict"
    assert "brotli" not in settings  # retired by Cloudflare: a compression rule instead


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_ssl_strict_and_https_per_host(stack: str, prod: Graph, staging: Graph) -> None:
    g = prod if stack == "prod" else staging
    names = frozenset(g.outputs["edge"]["hostnames"])
    (config,) = _ruleset(g, "http_config_settings")["rules"]
    assert config["action"] == "set_config"
    assert config["actionParameters"] == {"ssl": "strict", "automaticHttpsRewrites": True}
    assert scoped_hosts(config["expression"]) == names
    phases = {r.inputs["phase"]: r.inputs["rules"] for r in g.of_type(RULESET)}
    redirects = {r["ref"]: r for r in phases.get("http_request_dynamic_redirect", [])}
    https = redirects.get(f"pyorg_{stack}_https")
    if stack == "prod":  # the zone's Always Use HTTPS is not ours: a rule for our names
        assert https is not None
        assert https["expression"].endswith(" and (not ssl)")
        assert scoped_hosts(https["expression"]) == names
    else:
        assert https is None  # the owned zone's always_use_https setting does it


def test_every_stack_has_a_zone_or_leaves_it_alone(prod: Graph, staging: Graph) -> None:
    """A zone's phase rulesets exist once per zone: two stacks in one zone would overwrite each
    other's rules on every deploy. The stacks' zones differ."""
    stacks = {name: load_stack_config(name) for name in stack_names()}
    domains = [cfg.domain for cfg in stacks.values()]
    assert len(set(domains)) == len(domains), domains
    assert len({g.outputs["edge"]["zone_id"] for g in (prod, staging)}) == 2


# --- 2. the real site's edge behaviour --------------------------------------------------------


def test_apex_answers_301_to_www_keeping_path_and_query(prod: Graph) -> None:
    rules = _ruleset(prod, "http_request_dynamic_redirect")["rules"]
    apex = rules[0]  # Single Redirects: the first match wins
    assert apex["ref"] == "pyorg_prod_canonical"
    assert scoped_hosts(apex["expression"]) == frozenset({"python.org"})
    assert apex["expression"] == '(http.host in {"python.org"})'  # every path, both schemes
    assert apex["action"] == "redirect"
    assert apex["actionParameters"]["fromValue"] == {
        "targetUrl": {"expression": 'concat("https://www.python.org", http.request.uri.path)'},
        "statusCode": 301,
        "preserveQueryString": True,
    }
    # The apex has a record (so the redirect can answer) but no load balancer of its own.
    assert {lb.inputs["name"] for lb in prod.of_type(LB)} == {"www.python.org"}
    assert any(
        r.inputs["name"] == "python.org" and r.inputs["proxied"] for r in prod.of_type(RECORD)
    )


def test_hsts_header_values_are_the_real_sites(prod: Graph, staging: Graph) -> None:
    def hsts(g: Graph) -> dict[frozenset[str] | None, str]:
        rules = _ruleset(g, "http_response_headers_transform")["rules"]
        return {
            scoped_hosts(r["expression"]): r["actionParameters"]["headers"][
                "Strict-Transport-Security"
            ]["value"]
            for r in rules
            if r["action"] == "rewrite"
        }

    # python/pythondotorg infra/cdn/main.tf: "HSTS w/ subdomains" and "HSTS w/o subdomains".
    assert hsts(prod) == {
        frozenset({"www.python.org"}): "max-age=63072000; includeSubDomains; preload",
        frozenset({"python.org"}): "max-age=315360000; preload",
    }
    assert hsts(staging) == {frozenset({"staging.python.org"}): "max-age=86400"}


def test_ftp_goes_to_the_downloads_origin_without_cookies_or_query(prod: Graph) -> None:
    route = _rule(prod, "http_request_origin", "path_ftp")
    assert route["expression"] == f'(http.host in {{"www.python.org"}}) and ({FTP})'
    assert route["actionParameters"] == {
        "origin": {"host": "lb.nyc1.psf.io", "port": 20004},
        "sni": {"value": "lb.psf.io"},
    }
    rewrite = _rule(prod, "http_request_transform", "path_ftp_query")
    assert rewrite["actionParameters"] == {"uri": {"query": {"value": ""}}}
    cookies = _rule(prod, "http_request_late_transform", "path_ftp_cookies")
    assert cookies["actionParameters"] == {"headers": {"cookie": {"operation": "remove"}}}
    cache = _rule(prod, "http_request_cache_settings", "path_ftp")
    params = cache["actionParameters"]
    assert params["cache"] is True
    assert params["edgeTtl"]["mode"] == "override_origin"
    assert params["edgeTtl"]["default"] >= 86400 * 7  # long TTLs
    assert params["cacheKey"] == {"customKey": {"queryString": {"exclude": {"all": True}}}}
    # Neither the write pinning nor the origin secret applies to the downloads origin.
    assert f"not ({FTP})" in _rule(prod, "http_request_origin", "writes")["expression"]
    assert (
        f"not ({FTP})" in _rule(prod, "http_request_late_transform", "origin_secret")["expression"]
    )
    html = _rule(prod, "http_request_cache_settings", "html")
    assert f"not ({FTP})" in html["expression"]


def test_cache_rules_honour_no_store_never_cache_admin_api_or_static_404s(prod: Graph) -> None:
    rules = _ruleset(prod, "http_request_cache_settings")["rules"]
    by_ref = {r["ref"].removeprefix("pyorg_prod_"): r for r in rules}
    # HTML: the origin's Cache-Control decides, so no-store / no-cache / private are honoured
    # (an override would ignore them: Cache Rules settings, Edge TTL).
    html = by_ref["html"]["actionParameters"]
    assert html["edgeTtl"] == {"mode": "respect_origin"}
    assert 'not http.cookie contains "sessionid"' in by_ref["html"]["expression"]
    # Static files: a long override, but a 404 is never stored (-1: no-store).
    static = by_ref["static"]["actionParameters"]["edgeTtl"]
    assert static["mode"] == "override_origin"
    assert static["default"] == 2592000
    assert static["statusCodeTtls"] == [{"statusCode": 404, "value": -1}]
    assert 'starts_with(http.request.uri.path, "/static/")' in by_ref["static"]["expression"]
    # Later cache rules override earlier ones: the bypass comes last.
    bypass = rules[-1]
    assert bypass["ref"] == "pyorg_prod_bypass"
    assert bypass["actionParameters"] == {"cache": False}
    for path in ("/admin/", "/api/", "/accounts/", "/users/"):
        assert f'starts_with(http.request.uri.path, "{path}")' in bypass["expression"]


def test_writes_are_pinned_to_the_home_regions_origin_by_an_origin_rule(prod: Graph) -> None:
    rule = _rule(prod, "http_request_origin", "writes")
    assert rule["action"] == "route"
    assert rule["actionParameters"] == {"origin": {"host": "origin-prod-us-east-2.python.org"}}
    assert 'not (http.request.method in {"GET" "HEAD" "OPTIONS"})' in rule["expression"]
    assert 'starts_with(http.request.uri.path, "/admin/")' in rule["expression"]
    # Load balancer rules are ignored under geo steering: none are declared.
    assert all("rules" not in lb.inputs for lb in prod.of_type(LB))


def test_without_enterprise_writes_are_redirected_to_the_home_region(
    synth_variant: SynthVariant,
) -> None:
    """The working alternative where an origin rule may not override the DNS record."""

    def business(raw: dict[str, Any]) -> None:
        edge = raw["python-org:edge"]
        edge["plan"] = "business"
        edge["addOns"] = ["loadBalancing", "advancedCertificateManager"]
        del edge["pathOrigins"], edge["cache"]["staticEdgeTtlSeconds"]

    g = synth_variant("prod", business)
    # With Advanced Certificate Manager the stack's names get their own minimum TLS version
    # (the shared zone's setting stays its owners').
    tls = g.of_type("cloudflare:index/hostnameTlsSetting:HostnameTlsSetting")
    assert {t.inputs["hostname"] for t in tls} == set(g.outputs["edge"]["hostnames"])
    assert {(t.inputs["settingId"], t.inputs["value"]) for t in tls} == {("min_tls_version", "1.2")}
    assert g.of_type(SETTING) == []
    assert [r.inputs["phase"] for r in g.of_type(RULESET)].count("http_request_origin") == 0
    writes = _rule(g, "http_request_dynamic_redirect", "writes")
    params = writes["actionParameters"]["fromValue"]
    assert params["statusCode"] == 307  # method and body kept
    assert params["targetUrl"]["expression"] == (
        'concat("https://origin-prod-us-east-2.python.org", http.request.uri.path)'
    )
    assert params["preserveQueryString"] is True
    assert scoped_hosts(writes["expression"]) == frozenset({"www.python.org"})
    # Without status code TTLs the origin decides for static files too: a 404 is not kept.
    static = _rule(g, "http_request_cache_settings", "static")["actionParameters"]["edgeTtl"]
    assert static == {"mode": "respect_origin"}


def test_brotli_is_preferred_by_a_compression_rule(prod: Graph) -> None:
    (rule,) = _ruleset(prod, "http_response_compression")["rules"]
    assert rule["action"] == "compress_response"
    assert [a["name"] for a in rule["actionParameters"]["algorithms"]] == ["brotli", "gzip"]


def test_waf_deploys_the_managed_rulesets(prod: Graph) -> None:
    rules = _ruleset(prod, "http_request_firewall_managed")["rules"]
    executed = {r["actionParameters"]["id"] for r in rules if r["action"] == "execute"}
    assert executed == {CLOUDFLARE_MANAGED_RULESET, OWASP_CORE_RULESET}


def test_rate_limits_on_login_and_upload_from_config(prod: Graph, staging: Graph) -> None:
    rules = _ruleset(prod, "http_ratelimit")["rules"]
    by_path = {re.search(r'"(/[^"]*)"\)\)$', r["expression"]).group(1): r for r in rules}  # type: ignore[union-attr]
    login, upload = by_path["/accounts/login/"], by_path["/uploads/"]
    assert login["action"] == upload["action"] == "block"
    assert login["ratelimit"]["requestsPerPeriod"] == 10
    assert login["ratelimit"]["period"] == 60
    assert upload["ratelimit"]["requestsPerPeriod"] == 30
    assert login["ratelimit"]["characteristics"] == ["cf.colo.id", "ip.src"]
    (staging_login,) = _ruleset(staging, "http_ratelimit")["rules"]
    assert staging_login["ratelimit"]["requestsPerPeriod"] == 20


# --- 5. DNS hygiene ------------------------------------------------------------------------


def _caa(g: Graph) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for r in g.of_type(RECORD):
        if r.inputs["type"] == "CAA":
            data = r.inputs["data"]
            assert data["flags"] == 0
            found.setdefault(r.inputs["name"], set()).add((data["tag"], data["value"]))
    return found


def test_caa_allows_exactly_acm_and_cloudflares_cas_never_at_a_shared_apex(
    prod: Graph, staging: Graph
) -> None:
    expected = {("issue", v) for v in CAA_ISSUERS.values()} | {
        ("iodef", "mailto:infrastructure-staff@python.org")
    }
    assert ("issue", "amazon.com") in expected
    assert ("issue", "pki.goog; cansignhttpexchanges=yes") in expected
    caa = _caa(prod)
    # The apex of the shared zone is left alone: a CAA there would bind docs, mail, wiki...
    assert set(caa) == set(prod.outputs["edge"]["hostnames"]) - {"python.org"}
    assert all(records == expected for records in caa.values())
    assert set(_caa(staging)) == set(staging.outputs["edge"]["hostnames"])  # owned: apex too


def test_dnssec_only_where_the_zone_is_owned_with_the_ds_record_as_output(
    prod: Graph, staging: Graph
) -> None:
    assert prod.of_type(DNSSEC) == []
    assert "dnssec_ds" not in prod.outputs["edge"]
    (dnssec,) = staging.of_type(DNSSEC)
    assert dnssec.inputs["status"] == "active"
    assert re.fullmatch(
        r"\S+ 3600 IN DS \d+ 13 2 [0-9A-F]{64}", staging.outputs["edge"]["dnssec_ds"]
    )


def test_hostnames_have_proxied_records_and_validation_records_are_dns_only(
    prod: Graph,
) -> None:
    records = [r for r in prod.of_type(RECORD) if r.inputs["type"] == "CNAME"]
    proxied = {r.inputs["name"]: r.inputs["content"] for r in records if r.inputs["proxied"]}
    home = alb_dns(prod, "us-east-2")
    assert proxied == {
        "python.org": home,
        "www.python.org": home,
        **{f"origin-prod-{r}.python.org": alb_dns(prod, r) for r in prod.outputs["regions"]},
    }
    edge_records = [r for r in records if r.name.startswith(("acm-validation", "edge-"))]
    validation = [
        r for r in edge_records if not r.inputs["proxied"] and r.name != "edge-media-origin"
    ]
    assert len(validation) == 2 + 3  # the public names once, each region's origin name
    expected = {
        (o["resourceRecordName"].rstrip("."), o["resourceRecordValue"].rstrip("."))
        for c in prod.of_type("aws:acm/certificate:Certificate")
        for o in c.outputs["domainValidationOptions"]
    }
    assert {(r.inputs["name"], r.inputs["content"]) for r in validation} == expected


def test_every_regions_certificate_validation_waits_on_the_cloudflare_records(
    prod: Graph,
) -> None:
    records = {
        r.inputs["name"]: r
        for r in prod.of_type(RECORD)
        if r.inputs["type"] == "CNAME" and not r.inputs["proxied"]
    }
    certs = {c.region: c for c in prod.of_type("aws:acm/certificate:Certificate")}
    checks = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert len(checks) == 3
    for check in checks:
        assert check.region
        names = {
            o["resourceRecordName"].rstrip(".")
            for o in certs[check.region].outputs["domainValidationOptions"]
        }
        assert set(check.inputs["validationRecordFqdns"]) == names
        assert {records[n].urn for n in names} <= set(check.dependencies)


# --- 6. origin authentication ------------------------------------------------------------------


def _secrets(g: Graph) -> dict[str, str]:
    """What the mocks generated for the two origin secrets (the graph masks them)."""
    return {
        r.name.removeprefix("origin-secret-"): _random_password(r.name, r.inputs, "")[1]["result"]
        for r in g.of_type(PASSWORD)
        if r.name.startswith("origin-secret-")
    }


def test_a_request_without_the_edges_secret_is_refused_by_every_listener(prod: Graph) -> None:
    secrets = _secrets(prod)
    assert set(secrets) == {"a", "b"}
    assert secrets["a"] != secrets["b"]
    assert all(re.fullmatch("[a-z0-9]{64}", s) for s in secrets.values())  # no ALB wildcards
    passwords = {r.urn for r in prod.of_type(PASSWORD) if r.name.startswith("origin-secret-")}
    listeners = [lst for lst in prod.of_type(LISTENER) if lst.inputs["protocol"] == "HTTPS"]
    assert len(listeners) == 3
    for listener in listeners:
        rules = [
            r
            for r in prod.of_type(LISTENER_RULE)
            if r.inputs["listenerArn"] == listener.outputs["arn"]
        ]
        (rule,) = rules
        assert rule.inputs["conditions"][0]["httpHeader"]["values"] == SECRET  # kept secret
        assert passwords <= set(rule.dependencies)  # ...and made of the two passwords
        declared = json.loads(json.dumps(rule.inputs))
        declared["conditions"][0]["httpHeader"]["values"] = [secrets["a"], secrets["b"]]
        default = listener.inputs["defaultActions"]

        def send(headers: dict[str, str], default: Any = default, rule: Any = declared) -> Any:
            return dict(alb_rules.route(default, [rule], headers))

        refused = {"type": "fixed-response", "fixedResponse": {"contentType": "text/plain",
                   "messageBody": "Forbidden\n", "statusCode": "403"}}  # fmt: skip
        assert send({}) == refused
        assert send({"X-Python-Org-Edge": "guess"}) == refused
        assert send({"X-Python-Org-Edge": "*"}) == refused
        assert send({"X-Other": secrets["a"]}) == refused
        for value in secrets.values():  # both accepted: rotation without downtime
            assert send({"x-python-org-edge": value})["type"] == "forward"
            assert send({"X-Python-Org-Edge": value.upper()})["type"] == "forward"


def test_the_edge_and_the_monitor_send_the_active_secret(prod: Graph) -> None:
    rule = _rule(prod, "http_request_late_transform", "origin_secret")
    header = rule["actionParameters"]["headers"]["X-Python-Org-Edge"]
    assert header == {"operation": "set", "value": SECRET}
    active = next(r for r in prod.of_type(PASSWORD) if r.name == "origin-secret-a")
    ruleset = prod.one(RULESET, "edge-request-headers")
    assert active.urn in ruleset.dependencies
    (monitor,) = prod.of_type(MONITOR)
    # The app's ALLOWED_HOSTS holds the public names: the monitor sends the canonical one.
    assert monitor.inputs["header"] == {"Host": ["www.python.org"], "X-Python-Org-Edge": SECRET}
    assert active.urn in monitor.dependencies


def test_rotation_switches_what_the_edge_sends_and_regenerates_only_the_bumped_secret() -> None:
    def program() -> None:
        secret = OriginSecret(
            "origin-secret",
            OriginSecretArgs(header="X-Python-Org-Edge", active="b", generations={"a": 2, "b": 1}),
        )
        aws.ssm.Parameter("probe-active", type="SecureString", value=secret.active)
        aws.ssm.Parameter(
            "probe-accepted",
            type="SecureString",
            value=secret.check.accepted.apply(",".join),
        )
        pulumi.export("header", secret.check.header)

    g = synthesize("prod", raw_config={}, program=program)
    passwords = {r.name: r for r in g.of_type(PASSWORD)}
    assert passwords["origin-secret-a"].inputs["keepers"] == {"generation": "2"}
    assert passwords["origin-secret-b"].inputs["keepers"] == {"generation": "1"}
    assert all(
        p.inputs["upper"] is False and p.inputs["special"] is False for p in passwords.values()
    )
    active = g.one("aws:ssm/parameter:Parameter", "probe-active")
    accepted = g.one("aws:ssm/parameter:Parameter", "probe-accepted")
    assert set(active.dependencies) & {p.urn for p in passwords.values()} == {
        passwords["origin-secret-b"].urn
    }
    assert {p.urn for p in passwords.values()} <= set(accepted.dependencies)
    assert active.inputs["value"] == SECRET


# --- 7. load balancing and failover by distance ----------------------------------------------


def test_one_pool_per_region_whose_origin_is_that_regions_load_balancer(prod: Graph) -> None:
    pools = pools_by_region(prod)
    assert set(pools) == set(prod.outputs["regions"])
    for region, pool in pools.items():
        (origin,) = pool.inputs["origins"]
        assert origin["address"] == alb_dns(prod, region)
        assert origin["address"].endswith(f".{region}.elb.amazonaws.com")
        assert "header" not in origin  # would override the write-pinning origin rule
        assert pool.inputs["name"] == f"python-org-prod-{region}"


def test_https_monitor_on_health_path_is_attached_to_every_pool(prod: Graph) -> None:
    (monitor,) = prod.of_type(MONITOR)
    i = monitor.inputs
    assert (i["type"], i["method"], i["path"], i["port"]) == ("https", "GET", "/_health/", 443)
    assert i["expectedCodes"] == "200"
    assert i["allowInsecure"] is False
    assert {p.inputs["monitor"] for p in prod.of_type(POOL)} == {monitor.outputs["id"]}


def test_failover_after_the_mapped_pool_and_home_goes_by_distance(prod: Graph) -> None:
    cfg = load_stack_config("prod")
    names = pool_region_by_id(prod)
    (lb,) = prod.of_type(LB)
    i = lb.inputs
    assert i["proxied"] is True
    assert i["steeringPolicy"] == "geo"
    assert names[i["fallbackPool"]] == "us-east-2"
    assert set(i["regionPools"]) == set(cfg.edge.pool_regions)
    order = {code: [names[p] for p in pools] for code, pools in i["regionPools"].items()}
    # East-coast US: Ohio, then Ireland (5,600 km), then Singapore (15,000 km); by name the
    # last two were the other way round.
    assert order["ENAM"] == ["us-east-2", "eu-west-1", "ap-southeast-1"]
    assert order["WEU"] == ["eu-west-1", "us-east-2", "ap-southeast-1"]
    assert order["SEAS"] == ["ap-southeast-1", "us-east-2", "eu-west-1"]
    assert prod.outputs["edge"]["region_pools"]["ENAM"] == order["ENAM"]
    assert i["adaptiveRouting"] == {"failoverAcrossPools": True}


def test_adding_a_region_adds_its_pool_and_steering_entry(synth_variant: SynthVariant) -> None:
    def add(raw: dict[str, Any]) -> None:
        raw["python-org:regions"]["us-west-2"] = {
            "vpcCidr": "10.40.0.0/16",
            # Three, as prod's search.zones asks of every region.
            "availabilityZones": ["us-west-2a", "us-west-2b", "us-west-2c"],
        }
        raw["python-org:edge"]["poolRegions"]["WNAM"] = "us-west-2"

    g = synth_variant("prod", add)
    names = pool_region_by_id(g)
    assert set(pools_by_region(g)) == {"us-east-2", "eu-west-1", "ap-southeast-1", "us-west-2"}
    (lb,) = g.of_type(LB)
    assert [names[p] for p in lb.inputs["regionPools"]["WNAM"]] == [
        "us-west-2", "us-east-2", "eu-west-1", "ap-southeast-1"
    ]  # fmt: skip
    # Ohio's users now fail over to Oregon before Ireland.
    assert [names[p] for p in lb.inputs["regionPools"]["ENAM"]][:3] == [
        "us-east-2", "us-west-2", "eu-west-1"
    ]  # fmt: skip
    assert "origin-prod-us-west-2.python.org" in g.outputs["edge"]["hostnames"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_edge_declares_in_preview_with_unknown_origins(
    stack: str, prod_preview: Graph, staging_preview: Graph
) -> None:
    g = prod_preview if stack == "prod" else staging_preview
    pools = g.of_type(POOL)
    assert pools
    assert all(p.inputs["origins"][0]["address"] == UNKNOWN for p in pools)
    assert g.outputs["edge"]["fallback_pool"] == "us-east-2"
    for ruleset in g.of_type(RULESET):
        for rule in ruleset.inputs["rules"]:
            assert scoped_hosts(rule["expression"]), rule


def test_media_comes_from_the_home_regions_bucket_through_the_edge(prod: Graph) -> None:
    """The app's media URLs are https://<public host>/media/... (the settings overlay): GET and
    HEAD of /media/ on the public names go to the home region's media bucket, whose policy lets
    only Cloudflare's addresses read it."""
    rule = _rule(prod, "http_request_origin", "media")
    bucket = prod.outputs["regions"]["us-east-2"]["media_bucket"]
    bucket_host = f"{bucket}.s3.us-east-2.amazonaws.com"
    assert rule["action"] == "route"
    assert rule["actionParameters"] == {
        "hostHeader": bucket_host,  # S3 needs its own name as Host (and SNI, which follows)
        "origin": {"host": "media-origin-prod.python.org"},
    }
    # On the names that serve (the apex redirects to www), GET and HEAD only.
    assert scoped_hosts(rule["expression"]) == frozenset({"www.python.org"})
    assert rule["expression"].endswith(
        '(http.request.method in {"GET" "HEAD"} and starts_with(http.request.uri.path, "/media/"))'
    )
    # After the write rule: the later rule wins where both match (they never do: other methods).
    refs = [r["ref"] for r in _ruleset(prod, "http_request_origin")["rules"]]
    assert refs.index("pyorg_prod_writes") < refs.index("pyorg_prod_media")
    # The resolve override names a DNS-only record of the zone that points at the bucket.
    (record,) = [
        r for r in prod.of_type(RECORD) if r.inputs["name"] == "media-origin-prod.python.org"
    ]
    assert record.inputs["content"] == bucket_host
    assert record.inputs["proxied"] is False
    policy = prod.one("aws:s3/bucketPolicy:BucketPolicy", "us-east-2-media")
    (read,) = [
        s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Effect"] == "Allow"
    ]
    assert read["Condition"]["IpAddress"]["aws:SourceIp"] == sorted(
        CLOUDFLARE_IPV4 + CLOUDFLARE_IPV6
    )
