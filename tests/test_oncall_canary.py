"""On call, on both stacks: a canary per region on the public names and its origin; its script, run
against a local server, and its package."""

from __future__ import annotations

import http.server
import importlib.util
import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import naming
from infra.components import canary
from infra.review.graph import Graph
from infra.review.stackfile import load_stack_config
from policy import tokens as tk
from tests.oncall_helpers import in_region

_SCRIPT = Path(canary.__file__).resolve().parent.parent / "templates" / "synthetics_canary.py"
_spec = importlib.util.spec_from_file_location("synthetics_canary", _SCRIPT)
assert _spec is not None
assert _spec.loader is not None
synthetics_canary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetics_canary)


def test_a_canary_per_region_checks_the_public_names_and_its_origin(graph: Graph) -> None:
    cfg = load_stack_config(graph.stack)
    for r in cfg.regions:
        (c,) = in_region(graph, tk.CANARY, r.name)
        assert c.inputs["name"] == naming.canary_name(cfg.stack, r.name)
        assert c.inputs["runtimeVersion"].startswith("syn-python-selenium-")
        assert c.inputs["handler"] == f"{canary.MODULE}.handler"
        env = c.inputs["runConfig"]["environmentVariables"]
        urls = [check["url"] for check in json.loads(env["CANARY_CHECKS"])]
        origin = f"https://{naming.origin_hostname(cfg.stack, r.name, cfg.domain)}"
        assert urls == [
            *(f"https://{h}/" for h in cfg.hostnames),
            f"{origin}{cfg.web.health_check_path}",
            f"{origin}/",
            f"{origin}{canary.STATIC_ASSET}",
        ]
        assert env["CANARY_LATENCY_MS"] == str(cfg.oncall.alerts.thresholds.canary_latency_ms)
        logs = next(
            b for b in in_region(graph, tk.BUCKET, r.name) if b.name.endswith("-access-logs")
        )
        assert c.inputs["artifactS3Location"] == f"s3://{logs.outputs['bucket']}/synthetics/"
        with zipfile.ZipFile(c.inputs["zipFile"]) as archive:
            assert archive.namelist() == [f"python/{canary.MODULE}.py"]


class _Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(0.3)
        status = 500 if self.path == "/broken" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_canary_script_fails_on_an_error_or_a_slow_answer(site: str) -> None:
    def run(paths: list[str], budget: int) -> str:
        checks = [{"name": p, "url": f"{site}{p}"} for p in paths]
        result: str = synthetics_canary.run(
            {"CANARY_CHECKS": json.dumps(checks), "CANARY_LATENCY_MS": str(budget)}
        )
        return result

    assert run(["/", "/_health/"], 2000) == "2 checks passed"
    with pytest.raises(RuntimeError, match=r"/broken answered 500, not 200"):
        run(["/", "/broken"], 2000)
    with pytest.raises(RuntimeError, match=r"/slow took \d+ ms \(budget 100 ms\)"):
        run(["/slow"], 100)
    nobody = [{"name": "down", "url": "http://127.0.0.1:1/"}]
    with pytest.raises(RuntimeError, match=r"down: http://127.0.0.1:1/ did not answer"):
        synthetics_canary.run({"CANARY_CHECKS": json.dumps(nobody), "CANARY_LATENCY_MS": "500"})


def test_the_canary_package_is_deterministic() -> None:
    first = canary.package().read_bytes()
    canary.package().unlink()
    assert canary.package().read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        source = archive.read(f"python/{canary.MODULE}.py")
    assert source == _SCRIPT.read_bytes()
