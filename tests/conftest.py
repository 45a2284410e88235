"""Shared fixtures: each stack is synthesized once per session, in both modes.

`prod` / `staging`: computed values answered by the mocks (as after an apply); `prod` also
records secret digests under the session's `SECRET_DIGEST_KEY`, as `scripts/preview --base` does.
`prod_preview` / `staging_preview`: computed values unknown, as in `pulumi preview`.
`bootstrap` / `bootstrap_preview`: the bootstrap project's stack (bootstrap/), likewise.
`graph`: `prod`, then `staging` (a parametrized fixture).
Synthesis costs about a second per stack after the first imports, so many small tests query
these graphs; tests that need a variant call `synth_variant` with changed config.
"""

from __future__ import annotations

import copy
import gc
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest

from infra.projects import BOOTSTRAP
from infra.review.graph import Graph
from infra.review.stackfile import read_stack_file
from infra.review.synth import synthesize

# One random key per test session, as `scripts/preview --base` draws one per run.
SECRET_DIGEST_KEY = secrets.token_bytes(32)


@pytest.fixture(scope="session")
def prod() -> Graph:
    return synthesize("prod", secret_digest_key=SECRET_DIGEST_KEY)


@pytest.fixture(scope="session")
def staging() -> Graph:
    return synthesize("staging")


@pytest.fixture(scope="session")
def prod_preview() -> Graph:
    return synthesize("prod", preview=True)


@pytest.fixture(scope="session")
def staging_preview() -> Graph:
    return synthesize("staging", preview=True)


@pytest.fixture(scope="session")
def bootstrap() -> Graph:
    return synthesize(BOOTSTRAP.default_stack, project=BOOTSTRAP)


@pytest.fixture(scope="session")
def bootstrap_preview() -> Graph:
    return synthesize(BOOTSTRAP.default_stack, project=BOOTSTRAP, preview=True)


@pytest.fixture(params=["prod", "staging"])
def graph(request: pytest.FixtureRequest) -> Graph:
    """Each stack's session graph in turn (the on-call tests, tests/test_oncall*.py)."""
    g: Graph = request.getfixturevalue(request.param)
    return g


def raw_stack(stack: str) -> dict[str, Any]:
    """A stack file's config with structured values decoded, for tests to edit."""
    raw, _ = read_stack_file(stack)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            out[key] = json.loads(value) if value[:1] in "[{" else value
        except ValueError:
            out[key] = value
    return out


def encode(raw: dict[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


SynthVariant = Callable[..., Graph]


@pytest.fixture
def synth_variant() -> SynthVariant:
    """Synthesize `stack` with `edit(raw_config)` applied first."""

    def run(stack: str, edit: Callable[[dict[str, Any]], None], *, preview: bool = False) -> Graph:
        raw = copy.deepcopy(raw_stack(stack))
        edit(raw)
        return synthesize(stack, raw_config=encode(raw), preview=preview)

    return run


# Collection imports the program and both SDKs (thousands of classes): the cyclic collector's
# full passes over them cost a quarter of it, and they make no garbage cycles. Paused while
# pytest collects, on again for the tests.
gc.disable()


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.enable()
