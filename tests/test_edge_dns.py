"""The Cloudflare edge's DNS hygiene: CAA, DNSSEC, proxied records and certificate validation
records."""

from __future__ import annotations

import re

from infra.components.edge_dns import CAA_ISSUERS
from infra.review.graph import Graph
from tests.edge_helpers import RECORD, alb_dns

DNSSEC = "cloudflare:index/zoneDnssec:ZoneDnssec"


def _caa(g: Graph) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for r in g.of_type(RECORD):
        if r.inputs["type"] == "CAA":
            data = r.inputs["data"]
            assert data["flags"] == 0
            found.setdefault(r.inputs["name"], set()).add((data["tag"], data["value"]))
    return found


def test_caa_allows_exactly_acm_and_cloudflares_cas_never_at_a_shared_apex(
    prod: Graph, staging: Graph
) -> None:
    expected = {("issue", v) for v in CAA_ISSUERS.values()} | {
        ("iodef", "mailto:infrastructure-staff@python.org")
    }
    assert ("issue", "amazon.com") in expected
    assert ("issue", "pki.goog; cansignhttpexchanges=yes") in expected
    caa = _caa(prod)
    # The apex of the shared zone is left alone: a CAA there would bind docs, mail, wiki...
    assert set(caa) == set(prod.outputs["edge"]["hostnames"]) - {"python.org"}
    assert all(records == expected for records in caa.values())
    assert set(_caa(staging)) == set(staging.outputs["edge"]["hostnames"])  # owned: apex too


def test_dnssec_only_where_the_zone_is_owned_with_the_ds_record_as_output(
    prod: Graph, staging: Graph
) -> None:
    assert prod.of_type(DNSSEC) == []
    assert "dnssec_ds" not in prod.outputs["edge"]
    (dnssec,) = staging.of_type(DNSSEC)
    assert dnssec.inputs["status"] == "active"
    assert re.fullmatch(
        r"\S+ 3600 IN DS \d+ 13 2 [0-9A-F]{64}", staging.outputs["edge"]["dnssec_ds"]
    )


def test_hostnames_have_proxied_records_and_validation_records_are_dns_only(
    prod: Graph,
) -> None:
    records = [r for r in prod.of_type(RECORD) if r.inputs["type"] == "CNAME"]
    proxied = {r.inputs["name"]: r.inputs["content"] for r in records if r.inputs["proxied"]}
    home = alb_dns(prod, "us-east-2")
    assert proxied == {
        "python.org": home,
        "www.python.org": home,
        **{f"origin-prod-{r}.python.org": alb_dns(prod, r) for r in prod.outputs["regions"]},
    }
    edge_records = [r for r in records if r.name.startswith(("acm-validation", "edge-"))]
    validation = [
        r for r in edge_records if not r.inputs["proxied"] and r.name != "edge-media-origin"
    ]
    assert len(validation) == 2 + 3  # the public names once, each region's origin name
    expected = {
        (o["resourceRecordName"].rstrip("."), o["resourceRecordValue"].rstrip("."))
        for c in prod.of_type("aws:acm/certificate:Certificate")
        for o in c.outputs["domainValidationOptions"]
    }
    assert {(r.inputs["name"], r.inputs["content"]) for r in validation} == expected


def test_every_regions_certificate_validation_waits_on_the_cloudflare_records(
    prod: Graph,
) -> None:
    records = {
        r.inputs["name"]: r
        for r in prod.of_type(RECORD)
        if r.inputs["type"] == "CNAME" and not r.inputs["proxied"]
    }
    certs = {c.region: c for c in prod.of_type("aws:acm/certificate:Certificate")}
    checks = prod.of_type("aws:acm/certificateValidation:CertificateValidation")
    assert len(checks) == 3
    for check in checks:
        assert check.region
        names = {
            o["resourceRecordName"].rstrip(".")
            for o in certs[check.region].outputs["domainValidationOptions"]
        }
        assert set(check.inputs["validationRecordFqdns"]) == names
        assert {records[n].urn for n in names} <= set(check.dependencies)
