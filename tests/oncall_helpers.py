"""Helpers shared by the on-call tests (tests/test_oncall*.py)."""

from __future__ import annotations

from infra.review.graph import Graph, Resource


def in_region(g: Graph, type_: str, region: str) -> list[Resource]:
    return [r for r in g.of_type(type_) if r.region == region]
