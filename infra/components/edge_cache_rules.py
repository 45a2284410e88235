"""The Edge component's cache and compression rules (part of `infra/components/edge.py`,
declared as its children through `Rulesets`): HTML as the origin's Cache-Control says, a long
edge TTL for static files and path origins with 404s never kept, nothing cached for the bypass
paths or a session cookie (that rule last, so it wins), and Brotli else gzip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi_cloudflare as cloudflare

from infra.components.edge_rulesets import Rulesets, paths_expression, slug

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs

# Preferred response encodings, first match wins.
COMPRESSION = ("brotli", "gzip")


def cache_rules(rules: Rulesets, args: EdgeArgs) -> None:
    cfg = args.config
    cache = cfg.cache
    static = paths_expression(cache.static_paths)
    prefixes = [p.prefix for p in cfg.path_origins]
    not_elsewhere = f" and not ({paths_expression(prefixes)})" if prefixes else ""
    enterprise = cfg.limits.status_code_ttl
    # Every matching cache rule applies and later rules override earlier ones: the
    # bypass rule comes last so that nothing can cache an authenticated page.
    declared = [
        rules.rule(
            "html",
            "Anonymous HTML: as the origin's Cache-Control says (no-store is never kept)",
            "set_cache_settings",
            f'http.request.uri.path.extension in {{"" "html"}} '
            f'and not http.cookie contains "sessionid" and not ({static}){not_elsewhere}',
            args.served,
            action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                cache=True,
                edge_ttl=cloudflare.RulesetRuleActionParametersEdgeTtlArgs(mode="respect_origin"),
                browser_ttl=cloudflare.RulesetRuleActionParametersBrowserTtlArgs(
                    mode="respect_origin"
                ),
            ),
        ),
        rules.rule(
            "static",
            "Static and media files: long edge TTL, 404s never kept"
            if cache.static_edge_ttl
            else "Static and media files: as the origin's Cache-Control says",
            "set_cache_settings",
            static,
            args.served,
            action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                cache=True, edge_ttl=_edge_ttl(cache.static_edge_ttl, enterprise)
            ),
        ),
    ]
    for path in cfg.path_origins:
        declared.append(
            rules.rule(
                f"path_{slug(path.prefix)}",
                f"{path.prefix}: long edge TTL, no query string or cookie in the key",
                "set_cache_settings",
                paths_expression([path.prefix]),
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    cache=True,
                    edge_ttl=_edge_ttl(path.edge_ttl, enterprise),
                    # "Ignore query string" is an Enterprise custom cache key (Cache Rules
                    # settings, Cache Key); the URL rewrite already emptied it.
                    cache_key=cloudflare.RulesetRuleActionParametersCacheKeyArgs(
                        custom_key=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyArgs(
                            query_string=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyQueryStringArgs(
                                exclude=cloudflare.RulesetRuleActionParametersCacheKeyCustomKeyQueryStringExcludeArgs(
                                    all=True
                                )
                            )
                        )
                    ),
                ),
            )
        )
    declared.append(
        rules.rule(
            "bypass",
            "Authenticated, admin and API paths: never cached",
            "set_cache_settings",
            f'{paths_expression(cache.bypass_paths)} or http.cookie contains "sessionid"',
            action_parameters=cloudflare.RulesetRuleActionParametersArgs(cache=False),
        )
    )
    rules.declare("http_request_cache_settings", "python.org cache rules", declared)


def compression(rules: Rulesets, args: EdgeArgs) -> None:
    rules.declare(
        "http_response_compression",
        "python.org compression",
        [
            rules.rule(
                "compression",
                "Brotli, else gzip",
                "compress_response",
                None,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    algorithms=[
                        cloudflare.RulesetRuleActionParametersAlgorithmArgs(name=a)
                        for a in COMPRESSION
                    ]
                ),
            )
        ],
    )


def _edge_ttl(
    ttl: int | None, status_code_ttl: bool
) -> cloudflare.RulesetRuleActionParametersEdgeTtlArgs:
    """`ttl` whatever the origin says, but never for a 404 (a missing file must not stay
    missing for a month); without an override, the origin's Cache-Control decides."""
    if ttl is None:
        return cloudflare.RulesetRuleActionParametersEdgeTtlArgs(mode="respect_origin")
    return cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
        mode="override_origin",
        default=ttl,
        # -1: no-store (Cache Rules settings, Edge TTL, status code TTL; Enterprise only).
        status_code_ttls=[
            cloudflare.RulesetRuleActionParametersEdgeTtlStatusCodeTtlArgs(
                status_code=404, value=-1
            )
        ]
        if status_code_ttl
        else None,
    )
