"""The user data of every region of both stacks points the app at its region's own services: Redis,
search, mail, media, database, bucket and secrets, and the hosts it answers."""

from __future__ import annotations

import pytest

from infra import app_contract
from tests.app_contract_helpers import APP, BOOT, STACKS, _all, _graph, _regions, _template

SECRETS = {
    "app": {
        "secret_key": "k",
        "sentry_dsn": "",
        "smtp_username": "AKIAEXAMPLE",
        "smtp_password": "smtp+pass/word=",
    },
    "database": {"username": "pythondotorg_g1", "password": "p@ss/word"},
    "cache": {"auth_token": "token"},
    "search": {"app_username": "pythondotorg", "app_password": "s!p~w"},
}


def _filled(env: dict[str, str]) -> dict[str, str]:
    """The env file the boot script writes (with made-up secrets)."""
    return dict(
        line.split("=", 1) for line in BOOT.render(env, "10.1.2.3", SECRETS).split("\n") if line
    )


@pytest.mark.parametrize("stack", STACKS)
def test_redis_is_the_regions_own_and_the_broker_only_at_home(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    home = g.outputs["home_region"]
    for region, manifest, _ in _all(g):
        env = manifest["env"]
        endpoint = g.outputs["regions"][region]["redis_endpoint"]
        cache = env["PYTHONDOTORG_CACHE_URL"]
        assert cache == (
            f"rediss://:${{secret:cache:auth_token|url}}@{endpoint}:6379/1?ssl_cert_reqs=required"
        )
        if region == home:
            # kombu falls back to CERT_NONE on a rediss:// URL without ssl_cert_reqs.
            assert env["REDIS_URL"] == cache.replace(":6379/1?", ":6379/0?")
        else:
            assert env["REDIS_URL"] == app_contract.NO_BROKER
            assert app_contract.NO_BROKER.split("/")[2].split(":")[0].endswith(".invalid")
        assert manifest["secrets"]["cache"].split(":")[3] == region
        # redis.cacheMaxTimeoutSeconds
        assert env["PYTHONDOTORG_CACHE_MAX_TIMEOUT"] == str(300 if stack == "prod" else 60)


@pytest.mark.parametrize("stack", STACKS)
def test_search_is_the_regions_own_domain_with_the_ca_where_the_settings_look(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    for region, manifest, script in _all(g):
        env = _filled(manifest["env"])
        endpoint = g.outputs["regions"][region]["search_endpoint"]
        assert env["SEARCHBOX_SSL_URL"] == f"https://pythondotorg:s%21p~w@{endpoint}:443/"
        assert (
            f"-v {app_contract.HOST_CA_BUNDLE}:{APP['hard_coded']['search_ca_certs']}:ro" in script
        )
        # The indexer runs beside the web servers of every region, with the master user.
        if manifest["process"] == "web":
            search = manifest["search_env"]
            assert search["SEARCH_ENDPOINT"] == f"https://{endpoint}"
            assert search["SEARCH_INDEX"] == app_contract.SEARCH_INDEX
            assert "MASTER" not in "".join(manifest["env"])  # never in the app's environment
        else:
            assert manifest["search_env"] is None


def test_the_apps_search_role_cannot_call_get_root() -> None:
    """elasticsearch-py 7.17 refuses OpenSearch unless GET / is refused with 401/403: the
    app's role holds its index and the bulk/multi actions, never cluster:monitor/main."""
    indexer = _template("search_index.py")
    role = indexer.app_role(app_contract.SEARCH_INDEX)
    assert role["index_permissions"] == [
        {"index_patterns": [app_contract.SEARCH_INDEX], "allowed_actions": ["indices_all"]}
    ]
    # cluster_composite_ops: bulk, mget, msearch, aliases (OpenSearch's action groups), not
    # cluster:monitor/* nor cluster_all.
    assert role["cluster_permissions"] == ["cluster_composite_ops"]
    paths = [p for p, _ in indexer.security_requests("pythondotorg", "pw", "haystack-prod")]
    assert paths == [
        "/_plugins/_security/api/roles/pythondotorg_app",
        "/_plugins/_security/api/internalusers/pythondotorg",
        "/_plugins/_security/api/rolesmapping/pythondotorg_app",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_mail_goes_through_ses_smtp_in_the_home_region(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    home = g.outputs["home_region"]
    for _, manifest, _ in _all(g):
        env = manifest["env"]
        assert env["EMAIL_HOST"] == f"email-smtp.{home}.amazonaws.com"
        assert env["EMAIL_PORT"] == "587"  # STARTTLS: the settings set EMAIL_USE_TLS = True
        assert env["EMAIL_HOST_USER"] == "${secret:app:smtp_username}"
        assert env["EMAIL_HOST_PASSWORD"] == "${secret:app:smtp_password}"
        domain = "python.org" if stack == "prod" else "staging.python.org"
        assert env["DEFAULT_FROM_EMAIL"] == f"noreply@{domain}"


@pytest.mark.parametrize("stack", STACKS)
def test_media_urls_point_at_the_public_hostname(
    stack: str, request: pytest.FixtureRequest
) -> None:
    """The canonical public name (the others redirect to it), which the edge's media rule
    serves (tests/test_edge_origins.py)."""
    from infra.review.stackfile import load_stack_config

    cfg = load_stack_config(stack)
    canonical = cfg.edge.canonical_hostname or cfg.hostnames[0]
    assert canonical in cfg.hostnames
    for _, manifest, _ in _all(_graph(request, stack)):
        assert manifest["env"]["PYTHONDOTORG_MEDIA_DOMAIN"] == canonical


@pytest.mark.parametrize("stack", STACKS)
def test_each_region_talks_to_its_own_database_bucket_and_secrets(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    home = g.outputs["home_region"]
    for region, manifest, _ in _regions(g):
        out = g.outputs["regions"][region]
        env = manifest["env"]
        host = out["database_endpoint"].rsplit(":", 1)[0]
        assert f"@{host}:5432/pythondotorg?" in env["DATABASE_URL"]
        assert "sslmode=verify-full" in env["DATABASE_URL"]
        assert f"sslrootcert={app_contract.CA_BUNDLE}" in env["DATABASE_URL"]
        assert manifest["ca_bundle_url"] == (
            f"https://truststore.pki.rds.amazonaws.com/{region}/{region}-bundle.pem"
        )
        assert env["AWS_STORAGE_BUCKET_NAME"] == out["media_bucket"]
        assert env["AWS_S3_REGION_NAME"] == region
        assert env["AWS_S3_ENDPOINT_URL"] == f"https://s3.{region}.amazonaws.com"
        assert {arn.split(":")[3] for arn in manifest["secrets"].values()} == {region}
        # Migrations only where the database is the primary.
        assert (manifest["release_env"] is not None) == (region == home)


@pytest.mark.parametrize("stack", STACKS)
def test_the_app_answers_every_host_cloudflare_and_the_load_balancer_send(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    hostnames = [r.inputs["domainName"] for r in g.of_type("aws:acm/certificate:Certificate")]
    for region, manifest, _ in _regions(g):
        env = _filled(manifest["env"])
        allowed = env["ALLOWED_HOSTS"].split(",")
        # The ALB health check's Host is the target's IP.
        assert "10.1.2.3" in allowed
        assert f"origin-{stack}-{region}." in ",".join(allowed)
        assert set(hostnames) <= set(allowed) | {h for h in hostnames if "origin-" in h}
        assert "p%40ss%2Fword@" in env["DATABASE_URL"]  # URL-quoted where the URL needs it
        assert "${" not in "".join(env.values())
