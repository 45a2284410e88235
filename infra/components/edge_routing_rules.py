"""The Edge component's routing rules (part of `infra/components/edge.py`, declared as its
children through `Rulesets`): where requests go and what reaches the origin. Redirects (the
apex to the canonical hostname, HTTPS only, writes to the home region by 307), origin rules
(writes to the home region, path origins such as /ftp/, media from the home region's bucket),
URL rewrites (no query string to a path origin) and request headers (the origin secret, no
cookies to a path origin).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pulumi
import pulumi_cloudflare as cloudflare

from infra.components.edge_dns import serves_media
from infra.components.edge_rulesets import Rulesets, paths_expression, slug
from infra.config import PathOrigin, WritePinning

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def redirects(rules: Rulesets, args: EdgeArgs) -> None:
    """Single Redirects (phase http_request_dynamic_redirect): the first match redirects."""
    declared = []
    target = args.config.canonical_hostname
    others = [h for h in args.scope.hostnames if h != target] if target else []
    if target and others:
        declared.append(
            rules.rule(
                "canonical",
                f"{', '.join(others)} to https://{target}, path and query kept",
                "redirect",
                None,
                others,
                action_parameters=redirect_to(f'"https://{target}"', 301),
            )
        )
    if not args.scope.owns_zone:
        # The zone's Always Use HTTPS is the owners'; this is the same, for our names.
        declared.append(
            rules.rule(
                "https",
                "HTTPS only",
                "redirect",
                "not ssl",
                action_parameters=redirect_to('"https://", http.host', 301),
            )
        )
    if args.config.write_pinning is WritePinning.REDIRECT:
        home = _home_hostname(args)
        declared.append(
            rules.rule(
                "writes",
                f"Writes to the home region ({args.home_region}): 307 keeps method and body",
                "redirect",
                _write_condition(args),
                args.served,
                action_parameters=redirect_to(f'"https://{home}"', 307),
            )
        )
    rules.declare("http_request_dynamic_redirect", "python.org redirects", declared)


def origin_rules(rules: Rulesets, args: EdgeArgs) -> None:
    declared = []
    if args.config.write_pinning is WritePinning.ORIGIN_RULE:
        declared.append(
            rules.rule(
                "writes",
                f"Writes to the home region ({args.home_region})",
                "route",
                _write_condition(args),
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    # DNS override only: Host and SNI stay the public name, which the home
                    # region's certificate covers.
                    origin=cloudflare.RulesetRuleActionParametersOriginArgs(
                        host=_home_hostname(args)
                    ),
                ),
            )
        )
    for path in args.config.path_origins:
        declared.append(
            rules.rule(
                f"path_{slug(path.prefix)}",
                f"{path.prefix} from {path.host}",
                "route",
                paths_expression([path.prefix]),
                args.served,
                action_parameters=_route(path),
            )
        )
    if args.media is not None and serves_media(rules.parent, args):
        # GET/HEAD only (writes stay with the write rule above, which takes other methods).
        declared.append(
            rules.rule(
                "media",
                "Media from the home region's bucket",
                "route",
                media_condition(),
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    # The Host override also sets SNI: S3's certificate covers the bucket.
                    host_header=args.media.bucket_host,
                    origin=cloudflare.RulesetRuleActionParametersOriginArgs(
                        host=args.media.hostname
                    ),
                ),
            )
        )
    rules.declare("http_request_origin", "python.org origin rules", declared)


def url_rewrites(rules: Rulesets, args: EdgeArgs) -> None:
    # The downloads origin gets no query string (and the cache key has none either).
    declared = [
        rules.rule(
            f"path_{slug(p.prefix)}_query",
            f"{p.prefix}: no query string",
            "rewrite",
            paths_expression([p.prefix]),
            args.served,
            action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                uri=cloudflare.RulesetRuleActionParametersUriArgs(
                    query=cloudflare.RulesetRuleActionParametersUriQueryArgs(value="")
                )
            ),
        )
        for p in args.config.path_origins
    ]
    rules.declare("http_request_transform", "python.org URL rewrites", declared)


def request_headers(rules: Rulesets, args: EdgeArgs) -> None:
    """Request header transform rules (phase http_request_late_transform)."""
    declared = []
    prefixes = [p.prefix for p in args.config.path_origins]
    if args.origin_secret is not None:
        secret = args.origin_secret
        declared.append(
            rules.rule(
                "origin_secret",
                "The secret the load balancers require (never to a path origin)",
                "rewrite",
                f"not ({paths_expression(prefixes)})" if prefixes else None,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    headers={
                        secret.header: cloudflare.RulesetRuleActionParametersHeadersArgs(
                            operation="set", value=pulumi.Output.secret(secret.value)
                        )
                    }
                ),
            )
        )
    for path in args.config.path_origins:
        # Cookies can be removed but not set ("Request Header Transform Rules", remarks).
        declared.append(
            rules.rule(
                f"path_{slug(path.prefix)}_cookies",
                f"{path.prefix}: no cookies",
                "rewrite",
                paths_expression([path.prefix]),
                args.served,
                action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                    headers={
                        "cookie": cloudflare.RulesetRuleActionParametersHeadersArgs(
                            operation="remove"
                        )
                    }
                ),
            )
        )
    rules.declare("http_request_late_transform", "python.org request headers", declared)


def _home_hostname(args: EdgeArgs) -> str:
    return next(o.hostname for o in args.origins if o.region == args.home_region)


def _write_condition(args: EdgeArgs) -> str:
    condition = write_condition(args.config.cache.bypass_paths)
    prefixes = [p.prefix for p in args.config.path_origins]
    return f"({condition}) and not ({paths_expression(prefixes)})" if prefixes else condition


def redirect_to(prefix: str, status: int) -> cloudflare.RulesetRuleActionParametersArgs:
    """A dynamic redirect to `prefix` (a Rules-language expression) + the request's path, the
    query string kept (Single Redirects settings: preserve_query_string)."""
    return cloudflare.RulesetRuleActionParametersArgs(
        from_value=cloudflare.RulesetRuleActionParametersFromValueArgs(
            target_url=cloudflare.RulesetRuleActionParametersFromValueTargetUrlArgs(
                expression=f"concat({prefix}, http.request.uri.path)"
            ),
            status_code=status,
            preserve_query_string=True,
        )
    )


def _route(path: PathOrigin) -> cloudflare.RulesetRuleActionParametersArgs:
    return cloudflare.RulesetRuleActionParametersArgs(
        origin=cloudflare.RulesetRuleActionParametersOriginArgs(host=path.host, port=path.port),
        sni=cloudflare.RulesetRuleActionParametersSniArgs(value=path.sni) if path.sni else None,
    )


def write_condition(write_paths: Sequence[str]) -> str:
    """Requests that write (or may write) go to the home region, where the primary is."""
    methods = "not (http.request.method in {" + " ".join(f'"{m}"' for m in SAFE_METHODS) + "})"
    return f"{methods} or {paths_expression(write_paths)}" if write_paths else methods


def media_condition() -> str:
    """GET/HEAD requests for the app's media (MEDIA_URL /media/)."""
    return 'http.request.method in {"GET" "HEAD"} and starts_with(http.request.uri.path, "/media/")'
