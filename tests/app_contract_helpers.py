"""Helpers shared by the app contract tests (tests/test_app_contract*.py): the launch templates'
user data of a stack, decoded, and the boot script's template."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from infra import instances
from infra.maintain import appsettings
from infra.review.graph import Graph, Resource

ROOT = Path(__file__).resolve().parent.parent
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
