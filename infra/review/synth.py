"""Run the real program in-process under Pulumi's mock runtime and return its resource graph.

No CLI, no plugins, no credentials: `pulumi.runtime` talks to an in-process `MockMonitor`
instead of the engine. The program is the very function `__main__.py` runs (`stacks.website.main`)
reading the very config the engine would hand it (from `Pulumi.<stack>.yaml`).

`CloudMocks` (`infra.review.mocks`) answers as a cloud would: ARNs, DNS names and endpoints in
the resource's own region, ACM validation records, availability zones of the asked region,
Cloudflare's IP ranges. With `preview=True` computed values stay unknown, as in a real
`pulumi preview`.

Besides what the program declared, the graph records (`infra.review.recording`) what the mocks
invented (`placeholders`: each id, ARN, generated name or endpoint they answered, and the zone
and account ids of their invokes, with what it stands for) so that no renderer shows one as if
it were real; and, given a `secret_digest_key`, a keyed hash of every secret input value beside
its `[secret]` mask.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import stack as pulumi_stack

from infra.projects import WEBSITE, Project
from infra.review.graph import Graph
from infra.review.mocks import CloudMocks
from infra.review.recording import RecordingMonitor
from infra.review.stackfile import ROOT, read_stack_file

PROJECT = WEBSITE.name


@contextlib.contextmanager
def _linear_output_wait() -> Iterator[None]:
    """Make the SDK's final wait for outstanding outputs linear instead of quadratic.

    `pulumi.runtime.stack.wait_for_rpcs` (pulumi 3.272) loops `asyncio.wait(pending,
    FIRST_COMPLETED)` over every pending output task, re-registering a callback on all of them
    each time one completes: about n^2/10 callbacks, more than half of the synthesis time of the
    prod stack (measured: 1.47 s -> 0.67 s). Waiting for ALL_COMPLETED gives the same result
    (the loop still awaits every task, and re-checks for new ones) with one callback per task.
    Only this harness is patched; the real CLI runs the SDK unchanged."""
    original = pulumi_stack.asyncio  # type: ignore[attr-defined]
    shim = types.ModuleType("asyncio_all_completed")
    shim.__dict__.update(asyncio.__dict__)

    async def wait_all(fs: Any, *, timeout: float | None = None, return_when: Any = None) -> Any:
        return await asyncio.wait(fs, timeout=timeout, return_when=asyncio.ALL_COMPLETED)

    shim.wait = wait_all  # type: ignore[attr-defined]
    pulumi_stack.asyncio = shim  # type: ignore[attr-defined]
    try:
        yield
    finally:
        pulumi_stack.asyncio = original  # type: ignore[attr-defined]


@contextlib.contextmanager
def _no_source_positions() -> Iterator[None]:
    """Skip the SDK's source positions: every registration walks the Python stack with
    `traceback.extract_stack()` (which reads each frame's source line) so that the engine can point
    at the line that declared the resource (pulumi 3.272, `runtime.resource._get_stack_trace`).
    The mock monitor never shows them; an empty trace is what the SDK sends when it finds no user
    frame. This harness only, like `_linear_output_wait`."""
    from pulumi.runtime import resource as pulumi_resource
    from pulumi.runtime.proto import source_pb2

    original = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = original


def synthesize(
    stack: str,
    *,
    preview: bool = False,
    project: Project = WEBSITE,
    root: Path = ROOT,
    raw_config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    program: Callable[[], None] | None = None,
    secret_digest_key: bytes | None = None,
) -> Graph:
    """Run the program for `stack` under the mocks and return what it declared.

    `project` names the Pulumi project (the website by default; `infra.projects.BOOTSTRAP`):
    its stack files under `root`, its program, its name in the URNs. `raw_config` replaces the
    stack file (tests use it to try variants); `program` replaces the project's program (tests
    use it to build a single component). `secret_digest_key` (random, one per run, never
    stored) records a keyed hash of every secret input value beside its mask, so that two
    syntheses under the same key can be compared (`scripts/preview --base`). A ConfigError
    from the program propagates unchanged."""

    if raw_config is None:
        raw_config, secret_keys = read_stack_file(stack, root, project)
    # The cyclic garbage collector's full passes walk every object the SDKs keep alive: during
    # the first import of the program (pulumi_cloudflare alone defines thousands of classes:
    # 1.95 s -> 1.52 s for stacks.website) and during a synthesis (about 40%: prod 1.71 s ->
    # 0.99 s CPU, staging 1.17 s -> 0.62 s). Both make few cycles, so the collector is paused
    # for them and resumed after. This harness only: the CLI runs the SDK unchanged.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if program is None:
            program = project.load_program()
        return _run(stack, preview, project, raw_config, secret_keys, program, secret_digest_key)
    finally:
        if collecting:
            gc.enable()


def _run(
    stack: str,
    preview: bool,
    project: Project,
    raw_config: Mapping[str, Any],
    secret_keys: list[str] | None,
    program: Callable[[], None],
    secret_digest_key: bytes | None,
) -> Graph:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    mocks = CloudMocks(preview=preview)
    monitor = RecordingMonitor(mocks, stack, project.name, secret_digest_key)
    settings.ROOT.set(None)
    settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=pulumi_mocks.MockEngine(logging.getLogger("pulumi")),
            project=project.name,
            stack=stack,
            dry_run=preview,
            organization="organization",
            callbacks=None,
        )
    )
    pulumi.runtime.set_all_config(dict(raw_config), secret_keys or [])
    try:
        with _linear_output_wait(), _no_source_positions():
            _sync_await(run_in_stack(program))
    finally:
        pulumi.runtime.set_all_config({}, [])
        settings.ROOT.set(None)
    return Graph(
        project=project.name,
        stack=stack,
        resources=dict(monitor.recorded),
        outputs=monitor.stack_outputs,
        preview=preview,
        placeholders=dict(sorted(mocks.invented.items())),
    )
