"""The Edge component's load balancing (part of `infra/components/edge.py`, declared as its
children): the HTTPS health monitor, one origin pool per region and a proxied load balancer per
served hostname, steering by geography or latency with the home region as fallback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_cloudflare as cloudflare

from infra.config import Steering
from infra.geo import by_distance

if TYPE_CHECKING:
    from infra.components.edge import EdgeArgs


def health_monitor(
    parent: pulumi.Resource, name: str, args: EdgeArgs
) -> cloudflare.LoadBalancerMonitor:
    headers: dict[str, pulumi.Input[list[str]]] = {"Host": [args.canonical]}
    if args.origin_secret is not None:
        # The monitor goes to the load balancers directly, past the edge's rules: it sends
        # the secret itself, or every region would look down.
        headers[args.origin_secret.header] = pulumi.Output.secret(
            pulumi.Output.from_input(args.origin_secret.value).apply(lambda v: [v])
        )
    return cloudflare.LoadBalancerMonitor(
        f"{name}-health",
        account_id=args.account_id,
        description=f"python-org {args.stack}: {args.health_check_path} over HTTPS",
        type="https",
        method="GET",
        path=args.health_check_path,
        port=443,
        expected_codes="200",
        # A public name as Host (and SNI): the regional certificate covers it and the app
        # lists it in ALLOWED_HOSTS; never the load balancer's own DNS name.
        header=headers,
        allow_insecure=False,
        follow_redirects=False,
        interval=60,
        timeout=5,
        retries=2,
        consecutive_down=2,
        consecutive_up=2,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def origin_pools(
    parent: pulumi.Resource,
    name: str,
    args: EdgeArgs,
    monitor: cloudflare.LoadBalancerMonitor,
) -> dict[str, cloudflare.LoadBalancerPool]:
    """One pool per region, its origin the region's load balancer."""
    return {
        origin.region: cloudflare.LoadBalancerPool(
            f"{name}-{origin.region}",
            account_id=args.account_id,
            name=f"python-org-{args.stack}-{origin.region}",
            description=f"python.org {args.stack}: the {origin.region} load balancer",
            origins=[
                cloudflare.LoadBalancerPoolOriginArgs(
                    name=origin.region,
                    address=origin.address,
                    enabled=True,
                    weight=1,
                    # No Host header override: requests keep the public Host (which the
                    # regional certificate covers), and a load balancer header override
                    # would take precedence over the write-pinning origin rule.
                )
            ],
            monitor=monitor.id,
            minimum_origins=1,
            # Probe from where the users of this stack are.
            check_regions=sorted(args.config.pool_regions) or None,
            enabled=True,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for origin in args.origins
    }


def steering_map(
    args: EdgeArgs, pools: Mapping[str, cloudflare.LoadBalancerPool]
) -> dict[str, list[str]]:
    """Cloudflare region -> AWS regions in the order their pools are tried."""
    return {
        code: failover_order(region, args.home_region, pools)
        for code, region in sorted(args.config.pool_regions.items())
    }


def load_balancers(
    parent: pulumi.Resource,
    name: str,
    args: EdgeArgs,
    pools: Mapping[str, cloudflare.LoadBalancerPool],
) -> dict[str, cloudflare.LoadBalancer]:
    """A proxied load balancer per served hostname, the home region's pool as fallback."""
    cfg = args.config

    def pool_ids(first: str) -> list[pulumi.Output[str]]:
        """Pool ids: `first`, then the home region, then the others nearest first."""
        return [pools[r].id for r in failover_order(first, args.home_region, pools)]

    return {
        host: cloudflare.LoadBalancer(
            f"{name}-{host}",
            zone_id=args.zone_id,
            name=host,
            description=f"python.org {args.stack}: {host} across regions",
            proxied=True,
            steering_policy=cfg.steering.value,
            default_pools=pool_ids(args.home_region),
            fallback_pool=pools[args.home_region].id,
            region_pools={
                code: pool_ids(region) for code, region in sorted(cfg.pool_regions.items())
            }
            if cfg.steering is Steering.GEO
            else None,
            adaptive_routing=cloudflare.LoadBalancerAdaptiveRoutingArgs(failover_across_pools=True),
            session_affinity="none",
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for host in args.served
    }


def failover_order(first: str, home: str, regions: Sequence[str] | Mapping[str, Any]) -> list[str]:
    """`first`, then the home region, then every other region nearest to `first` first (not
    by name: east-coast US fails over to Ireland before Singapore)."""
    rest = [r for r in regions if r not in (first, home)]
    return list(dict.fromkeys([first, home, *by_distance(first, rest)]))
