"""The Cloudflare edge: a good neighbour in a shared zone, the real site's behaviour and the plan's
limits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.components.edge import ZONE_SETTINGS
from infra.components.edge_security_rules import CLOUDFLARE_MANAGED_RULESET, OWASP_CORE_RULESET
from infra.review.graph import Graph
from infra.review.stackfile import load_stack_config, stack_names
from infra.zone_scope import scoped_hosts
from tests.conftest import SynthVariant
from tests.edge_helpers import LB, RECORD, RULESET, _rule, _ruleset

SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
FTP = 'starts_with(http.request.uri.path, "/ftp/")'


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
