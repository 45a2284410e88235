"""The app's proxy settings behind the load balancer, for real: Django and gunicorn at the app's
pinned versions, started with the contract's own command-line flags.

The app (python/pythondotorg) trusts `SECURE_PROXY_SSL_HEADER = ("HTTP_FASTLY_SSL", "1")` and
validates `Host` against `ALLOWED_HOSTS`. Behind an ALB, what reaches gunicorn is the ALB's
`X-Forwarded-Proto: https` from a VPC address, and health checks with the target's IP as `Host`.
A minimal Django project with those two settings, served by gunicorn with the flags
`infra.app_contract.web_command` gives, must: answer the health check with 200, and see HTTPS.
Without `--forwarded-allow-ips` it would see HTTP: the test shows that too, so it can fail.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import app_contract
from infra.maintain import appsettings

pytest.importorskip("django")
pytest.importorskip("gunicorn")

# A peer that is not gunicorn's default trusted address (127.0.0.1), as the ALB is not.
PEER = "127.0.0.2"
INSTANCE_IP = "127.0.0.1"

SETTINGS = """
SECRET_KEY = "test"
DEBUG = False
ROOT_URLCONF = "probe.urls"
ALLOWED_HOSTS = {allowed!r}
SECURE_PROXY_SSL_HEADER = {header!r}
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
INSTALLED_APPS = []
DATABASES = {{}}
"""

URLS = """
from django.http import HttpResponse
from django.urls import re_path

def health(request):
    return HttpResponse("OK")

def scheme(request):
    return HttpResponse(request.build_absolute_uri("/next/"))

urlpatterns = [re_path(r"^_health/?", health), re_path(r"^scheme$", scheme)]
"""

WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "probe.settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((INSTANCE_IP, 0))
        port: int = s.getsockname()[1]
        return port


def _project(tmp: Path, allowed: list[str]) -> Path:
    app = appsettings.load()
    package = tmp / "probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        SETTINGS.format(allowed=allowed, header=tuple(app["secure_proxy_ssl_header"]))
    )
    (package / "urls.py").write_text(URLS)
    (package / "wsgi.py").write_text(WSGI)
    return tmp


def _start(project: Path, flags: list[str], port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), *flags, f"--bind={INSTANCE_IP}:{port}", "--workers=1", "probe.wsgi"]
    with (project / f"gunicorn-{port}.log").open("w") as out:
        return subprocess.Popen(
            command,
            cwd=project,
            env={**os.environ, "PYTHONPATH": str(project)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait(project: Path, port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((INSTANCE_IP, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    log = (project / f"gunicorn-{port}.log").read_text()
    raise AssertionError(f"gunicorn did not start:\n{log}")


def _get(port: int, path: str, host: str, headers: dict[str, str]) -> tuple[int, str]:
    # From PEER, as the load balancer connects from its own address, not from loopback's first.
    conn = http.client.HTTPConnection(INSTANCE_IP, port, timeout=5, source_address=(PEER, 0))
    conn.request("GET", path, headers={"Host": host, **headers})
    response = conn.getresponse()
    return response.status, response.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(port with the contract's flags, port without --forwarded-allow-ips)."""
    allowed = ["python.org", "www.python.org", "origin-prod-us-east-2.python.org", INSTANCE_IP]
    project = _project(tmp_path_factory.mktemp("app"), allowed)
    contract = [
        f for f in app_contract.web_command(8000)[1:-1] if not f.startswith(("--bind", "--config"))
    ]
    assert "--forwarded-allow-ips=*" in contract
    bare = [f for f in contract if not f.startswith("--forwarded-allow-ips")]
    ports = (_free_port(), _free_port())
    servers = [
        _start(project, flags, port) for flags, port in zip((contract, bare), ports, strict=True)
    ]
    try:
        for port in ports:
            _wait(project, port)
        yield ports
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def test_the_load_balancers_health_check_passes(served: tuple[int, int]) -> None:
    port, _ = served
    # ELB health checks send the target's IP and port as Host.
    status, body = _get(port, "/_health/", f"{INSTANCE_IP}:{port}", {})
    assert (status, body) == (200, "OK")
    # Without the instance's IP in ALLOWED_HOSTS Django refuses it: the reason it is added.
    status, _ = _get(port, "/_health/", f"10.9.9.9:{port}", {})
    assert status == 400


def test_the_app_sees_https_behind_the_load_balancer(served: tuple[int, int]) -> None:
    port, bare = served
    alb = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert _get(port, "/scheme", "www.python.org", alb) == (200, "https://www.python.org/next/")
    # Without --forwarded-allow-ips gunicorn ignores the header from a non-local peer, and the
    # app builds http:// URLs, which Cloudflare redirects back to https: a loop.
    assert _get(bare, "/scheme", "www.python.org", alb) == (200, "http://www.python.org/next/")
