"""The stack diagram: one cluster per region, one box per component, dependencies as arrows."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from infra.review.diagram import DiagramError, render, to_dot
from infra.review.graph import Graph

PROD_REGIONS = ("us-east-2", "eu-west-1", "ap-southeast-1")


def clusters(dot: str) -> dict[str, list[str]]:
    """Cluster label -> the labels of the boxes in it."""
    out: dict[str, list[str]] = {}
    for body in re.findall(r"subgraph cluster_\d+ \{(.*?)\n  \}", dot, re.S):
        label = re.search(r'label="([^"]*)";', body)
        assert label
        out[label.group(1)] = re.findall(r'n\d+ \[label="([^"]*)"', body)
    return out


def node_ids(dot: str) -> dict[str, str]:
    """First two label lines (`Database\\nus-east-2`) -> node id."""
    return {
        "/".join(label.split("\\n")[:2]): node
        for node, label in re.findall(r'(n\d+) \[label="([^"]*)"', dot)
    }


def edges(dot: str) -> set[tuple[str, str, bool]]:
    return {
        (a, b, "penwidth" in rest)
        for a, b, rest in re.findall(r"^  (n\d+) -> (n\d+)(.*);", dot, re.M)
    }


def test_each_region_is_a_cluster_of_its_components(prod: Graph) -> None:
    found = clusters(to_dot(prod))
    by_region = {label.split(" ")[0]: boxes for label, boxes in found.items()}
    assert set(PROD_REGIONS) <= set(by_region)
    assert next(k for k in found if k.startswith("us-east-2")).endswith(
        "(home: database primary, media origin)"
    )
    for region in PROD_REGIONS:
        kinds = {box.split("\\n")[0] for box in by_region[region]}
        assert {"Network", "WebTier", "Database", "Assets", "SiteCertificate"} <= kinds
        assert all(f"\\n{region}\\n" in box for box in by_region[region])
    assert "MediaReplication" in {b.split("\\n")[0] for b in by_region["us-east-2"]}


def test_the_edge_is_drawn_with_its_dependencies_on_the_regions(prod: Graph) -> None:
    dot = to_dot(prod)
    found = clusters(dot)
    edge = next((label for label in found if "Cloudflare" in label), None)
    if not any(r.type.startswith("cloudflare:") for r in prod):
        pytest.skip("this program declares no Cloudflare edge")
    assert edge is not None
    ids = node_ids(dot)
    edge_nodes = {ids["/".join(b.split("\\n")[:2])] for b in found[edge]}
    webs = {ids[f"WebTier/{r}"] for r in PROD_REGIONS}
    arrows = edges(dot)
    # The edge's pools point at every region's load balancer.
    assert webs <= {b for a, b, _ in arrows if a in edge_nodes}


def test_dependencies_become_arrows_and_cross_region_ones_stand_out(prod: Graph) -> None:
    dot = to_dot(prod)
    ids = node_ids(dot)
    arrows = edges(dot)
    assert (ids["WebTier/us-east-2"], ids["Network/us-east-2"], False) in arrows
    assert (ids["Database/us-east-2"], ids["Network/us-east-2"], False) in arrows
    for replica in ("eu-west-1", "ap-southeast-1"):
        # A replica depends on the primary in the home region.
        assert (ids[f"Database/{replica}"], ids["Database/us-east-2"], True) in arrows
        # Media replication writes to every other region's buckets.
        assert (ids["MediaReplication/us-east-2"], ids[f"Assets/{replica}"], True) in arrows
    assert not [a for a, b, _ in arrows if a == b]


def test_providers_are_left_out_and_every_resource_is_counted(prod: Graph) -> None:
    dot = to_dot(prod)
    assert "provider" not in dot
    counted = sum(int(n) for n in re.findall(r"\\n(\d+) resources?\"", dot))
    assert counted == sum(1 for r in prod if r.custom and not r.is_provider)


def test_dot_source_and_svg(prod: Graph, tmp_path: Path) -> None:
    dot = to_dot(prod)
    render(dot, tmp_path / "prod.dot")
    assert (tmp_path / "prod.dot").read_text() == dot
    if shutil.which("dot") is None:
        with pytest.raises(DiagramError, match="apt-get install graphviz"):
            render(dot, tmp_path / "prod.svg")
        pytest.skip("Graphviz is not installed: DOT checked, SVG not drawn")
    render(dot, tmp_path / "prod.svg")
    svg = ET.parse(tmp_path / "prod.svg").getroot()  # noqa: S314 (Graphviz output of ours)
    assert svg.tag.endswith("svg")
    text = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    for region in PROD_REGIONS:
        assert region in text
    assert "Database" in text
