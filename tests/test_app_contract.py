"""The user data of every region of both stacks, held to docs/app-contract.md and to the app.

The app's facts come from its own repository (`infra/data/app_settings.json`, extracted by
`scripts/extract_app_settings`); the contract page says what each variable is set to; the user
data is what an instance really gets. The three must agree.
"""

from __future__ import annotations

import ast
import re

import pytest

from infra import app_contract
from infra.maintain import appsettings
from tests.app_contract_helpers import APP, ROOT, STACKS, TEMPLATES, _all, _graph

CONTRACT = ROOT / "docs" / "app-contract.md"
OVERLAY = TEMPLATES / "python" / f"{app_contract.OVERLAY_MODULE}.py"
# Variables of this repository's own: the overlay's, and the path that finds it.
OURS = {*appsettings.environ_reads(OVERLAY.read_text()), "PYTHONPATH", "DJANGO_SETTINGS_MODULE"}


def _contract_rows() -> dict[str, str]:
    """The environment table of docs/app-contract.md: variable -> its row."""
    text = CONTRACT.read_text()
    section = text.split("## Environment", 1)[1].split("\n## ", 1)[0]
    return {
        m.group(1): line
        for line in section.splitlines()
        if (m := re.match(r"\| `([A-Z0-9_]+)` \|", line))
    }


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
