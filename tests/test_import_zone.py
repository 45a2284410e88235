"""scripts/import_zone against recorded Cloudflare API responses, served on 127.0.0.1.

The responses are shaped as Cloudflare's API documents them (the `success`/`errors`/`messages`/
`result`/`result_info` envelope, page-numbered lists, a 404 for a phase without an entry point,
a 403 for a token without permission, a 429 with Retry-After), from
tests/fixtures/cloudflare/python.org.json. The official client talks to them over real HTTP; no
traffic leaves loopback.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from infra.cli import import_zone
from infra.components.edge_rulesets import PHASES
from infra.ops import zone_import
from infra.review.graph import Graph

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "cloudflare" / "python.org.json").read_text()
)
ZONE_ID = FIXTURE["zone"]["id"]


@dataclass
class FakeCloudflare:
    """The API's answers for one scenario, and the requests it saw."""

    records: list[dict[str, Any]] = field(default_factory=lambda: list(FIXTURE["records"]))
    entrypoints: dict[str, Any] = field(default_factory=lambda: dict(FIXTURE["entrypoints"]))
    forbidden: bool = False
    throttle_first: int = 0  # this many requests get 429 first
    seen: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, method: str, url: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        self.seen.append((method, url))
        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        path = parsed.path.removeprefix("/client/v4")
        if self.throttle_first > 0:
            self.throttle_first -= 1
            return 429, {"Retry-After": "1"}, _error(971, "Please wait and consider throttling your request speed")  # fmt: skip
        if self.forbidden:
            return 403, {}, _error(10000, "Authentication error")
        if method != "GET":
            return 405, {}, _error(10405, "Method not allowed")
        if path == "/zones":
            zones = [FIXTURE["zone"]] if query.get("name") == FIXTURE["zone"]["name"] else []
            return 200, {}, _page(zones, int(query.get("page", 1)), int(query.get("per_page", 20)))
        if path == f"/zones/{ZONE_ID}/dns_records":
            return (
                200,
                {},
                _page(self.records, int(query.get("page", 1)), int(query.get("per_page", 100))),
            )
        prefix = f"/zones/{ZONE_ID}/rulesets/phases/"
        if path.startswith(prefix) and path.endswith("/entrypoint"):
            phase = path.removeprefix(prefix).removesuffix("/entrypoint")
            if phase in self.entrypoints:
                return 200, {}, {"success": True, "errors": [], "messages": [], "result": self.entrypoints[phase]}  # fmt: skip
            return 404, {}, _error(10003, f"could not find entrypoint ruleset in the {phase} phase")
        return 404, {}, _error(7003, "Could not route to " + path)


def _error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}  # fmt: skip


def _page(items: list[dict[str, Any]], page: int, per_page: int) -> dict[str, Any]:
    """A page of a list, as GET /zones and GET /zones/{id}/dns_records answer."""
    chunk = items[(page - 1) * per_page : page * per_page]
    return {
        "success": True,
        "errors": [],
        "messages": [],
        "result": chunk,
        "result_info": {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(items),
            "total_pages": max(1, -(-len(items) // per_page)),
        },
    }


@contextlib.contextmanager
def serve(fake: FakeCloudflare) -> Iterator[str]:
    """Serve `fake` on 127.0.0.1 (a free port); yields the API base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            self._reply()

        def _reply(self) -> None:
            status, headers, body = fake.answer(self.command, self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/client/v4"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api() -> Iterator[tuple[FakeCloudflare, str]]:
    fake = FakeCloudflare()
    with serve(fake) as url:
        yield fake, url


def _client(url: str) -> Any:
    return zone_import.client("test-token", url, max_retries=2)


def test_reads_every_page_and_only_reads(api: tuple[FakeCloudflare, str]) -> None:
    fake, url = api
    zone = zone_import.read_zone(
        _client(url), ZONE_ID, "python.org", ["http_request_origin"], per_page=5
    )
    assert len(zone.records) == len(FIXTURE["records"]) == 13
    pages = [u for m, u in fake.seen if "/dns_records" in u]
    assert [parse_qs(urlparse(u).query).get("page", ["1"])[0] for u in pages] == [
        "1",
        "2",
        "3",
        "4",
    ]
    assert all("per_page=5" in u for u in pages)  # 5: the API's smallest page
    # The library stops at the first empty page (page 4 of 3).
    assert zone.entrypoints == {}  # 404: no entry point in that phase
    assert {m for m, _ in fake.seen} == {"GET"}


def test_the_client_cannot_write_to_the_zone(api: tuple[FakeCloudflare, str]) -> None:
    import cloudflare

    fake, url = api
    with pytest.raises(cloudflare.APIConnectionError) as info:
        zone_import.client("test-token", url, max_retries=0).dns.records.create(zone_id=ZONE_ID, name="x.python.org", type="A", content="192.0.2.1", ttl=1)  # fmt: skip
    assert isinstance(info.value.__cause__, zone_import.WriteRefusedError)
    assert fake.seen == []  # refused before it left the process


def test_a_429_is_retried_after_the_delay_it_asks_for(api: tuple[FakeCloudflare, str]) -> None:
    fake, url = api
    fake.throttle_first = 1
    assert zone_import.find_zone_id(_client(url), "python.org") == ZONE_ID
    assert fake.seen[0] == fake.seen[1]  # the same request again, after the 429


def test_plan_imports_what_exists_and_reports_what_a_deploy_would_replace(
    api: tuple[FakeCloudflare, str], prod: Graph
) -> None:
    _, url = api
    zone = zone_import.read_zone(_client(url), ZONE_ID, "python.org", PHASES)
    result = zone_import.plan(zone_import.wanted(prod), zone)
    doc = result.document()["resources"]
    assert doc[0] == {"type": "python-org:edge:Edge", "name": "edge", "component": True}
    adopted = {r["name"]: r for r in doc[1:]}
    # www's CNAME (same name and type): adopted, and the deploy turns it to the load balancer.
    assert adopted["edge-www.python.org"] == {
        "type": "cloudflare:index/dnsRecord:DnsRecord",
        "name": "edge-www.python.org",
        "id": f"{ZONE_ID}/b2d2a4f6f9e2a8f3c4d5e6f7a8b9c0d1",
        "parent": "edge",
    }
    # The CAA record for a CA the stack also allows is adopted; globalsign.com is not ours.
    assert adopted["edge-caa-www.python.org-issue-letsencrypt"]["id"].endswith("a4b5")
    assert adopted["edge-cache"]["id"] == f"zones/{ZONE_ID}/7e1b4d9a0c2f4e6a8b0d1c3e5f7a9b1d"
    assert adopted["edge-redirects"]["id"] == f"zones/{ZONE_ID}/8f2c5e0b1d3a5f7b9c1e2d4f6a8c0e2f"
    assert all(r["parent"] == "edge" for r in adopted.values())
    assert sorted(adopted) == [  # and nothing else: the neighbours' records stay theirs
        "edge-caa-www.python.org-issue-letsencrypt",
        "edge-cache",
        "edge-redirects",
        "edge-www.python.org",
    ]
    # The apex holds A records (Fastly): a CNAME cannot be created next to them. And a CAA
    # record for a CA the stack does not use would go on authorizing it.
    apex = [c for c in result.conflicts if c.startswith("python.org: ")]
    assert len(apex) == 2
    assert all("declares a CNAME but a A record" in c for c in apex)
    (caa,) = [c for c in result.conflicts if c.startswith("www.python.org: ")]
    assert 'CAA 0 issue "globalsign.com"' in caa
    assert len(result.conflicts) == 3
    # Every existing rule of an adopted phase would be replaced: all three are reported.
    replaced = {(r.phase, r.description) for r in result.replaced_rules}
    assert replaced == {
        ("http_request_cache_settings", "docs: cache a day"),
        ("http_request_dynamic_redirect", "pypi.python.org to pypi.org"),
        ("http_request_dynamic_redirect", "old download link"),
    }
    text = zone_import.report(result)
    assert "REPLACE (3)" in text
    assert "[http_request_dynamic_redirect] pypi.python.org to pypi.org" in text
    assert "old download link (disabled)" in text
    assert "ruleset http_request_origin" in text  # created: no entry point yet
    assert "Not checked (5)" in text  # the ACM validation records


def test_an_empty_zone_imports_nothing(api: tuple[FakeCloudflare, str], prod: Graph) -> None:
    fake, url = api
    fake.records, fake.entrypoints = [], {}
    zone = zone_import.read_zone(_client(url), ZONE_ID, "python.org", PHASES)
    result = zone_import.plan(zone_import.wanted(prod), zone)
    assert result.document() == {"resources": []}
    assert result.replaced_rules == []
    assert result.conflicts == []
    assert "CNAME www.python.org" in result.created
    assert "nothing: the zone has none" in zone_import.report(result)


def test_cli_writes_the_import_document_and_the_report(
    api: tuple[FakeCloudflare, str],
    prod: Graph,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, url = api
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "test-token")
    # The CLI synthesizes the stack; the session's synthesis of it is the same graph.
    monkeypatch.setattr("infra.review.synth.synthesize", lambda stack, **_: prod)
    out = tmp_path / "import-prod.json"
    assert import_zone.main(["prod", "--api-url", url, "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["resources"][0]["name"] == "edge"
    assert "Zone python.org, stack prod:" in capsys.readouterr().out
    assert {m for m, _ in fake.seen} == {"GET"}


def test_cli_names_the_permissions_a_refused_token_lacks(
    api: tuple[FakeCloudflare, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, url = api
    fake.forbidden = True
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "test-token")
    out = tmp_path / "import.json"
    assert (
        import_zone.main(["prod", "--api-url", url, "--out", str(out)]) == import_zone.EXIT_FAILED
    )
    err = capsys.readouterr().err
    assert "Cloudflare refused the token (403: 10000 Authentication error)" in err
    assert "DNS:Read" in err
    assert "zone python.org" in err
    assert not out.exists()
    assert len(fake.seen) == 1  # a 403 is not retried


def test_cli_without_a_token_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert import_zone.main(["prod"]) == import_zone.EXIT_USAGE
    assert "set CLOUDFLARE_API_TOKEN" in capsys.readouterr().err
    assert import_zone.main(["nosuchstack"]) == import_zone.EXIT_USAGE
