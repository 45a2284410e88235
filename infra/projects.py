"""The Pulumi projects of this repository: the website, and the bootstrap an administrator runs
once per AWS account (GitHub's OIDC provider, the CI roles, the self-managed state backend).

Each project is a directory with its own `Pulumi.yaml`, its stack files and a `__main__.py` that
calls one program function. The offline tools (`scripts/preview --project`, `scripts/validate`,
the tests) run that same function under the mock runtime, so a project is named here once:
what its `Pulumi.yaml` calls it, where its stack files are, and which function is its program.

Pure data and paths: nothing heavy is imported (the plan diff's subprocess reads this too).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    key: str  # what --project takes
    name: str  # `name:` of its Pulumi.yaml: the config namespace and the URNs' project part
    subdir: str  # its directory, relative to the repository root ("" for the root)
    program: str  # "module:function", the function its __main__.py calls
    config: str  # "module:function(stack, raw)" that validates a stack's config, offline
    default_stack: str  # what `scripts/preview --project KEY` shows without a stack name

    def directory(self, root: Path = ROOT) -> Path:
        return root / self.subdir if self.subdir else root

    def stack_file(self, stack: str) -> str:
        """The stack file's path as people write it (`bootstrap/Pulumi.account.yaml`)."""
        return f"{self.subdir}/Pulumi.{stack}.yaml" if self.subdir else f"Pulumi.{stack}.yaml"

    def stack_names(self, root: Path = ROOT) -> list[str]:
        return sorted(
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in self.directory(root).glob("Pulumi.*.yaml")
        )

    def load_program(self) -> Callable[[], None]:
        program: Callable[[], None] = _load(self.program)
        return program

    def parse_config(self, stack: str, raw: Mapping[str, Any]) -> Any:
        """Validate `raw` as the program would before declaring anything (raises ConfigError)."""
        return _load(self.config)(stack, raw)


def _load(target: str) -> Any:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


WEBSITE = Project(
    key="website",
    name="python-org",
    subdir="",
    program="stacks.website:main",
    config="infra.config:parse_config",
    default_stack="prod",
)
BOOTSTRAP = Project(
    key="bootstrap",
    name="python-org-bootstrap",
    subdir="bootstrap",
    program="stacks.bootstrap:main",
    config="infra.bootstrap_config:parse_bootstrap_config",
    default_stack="account",
)
PROJECTS: dict[str, Project] = {p.key: p for p in (WEBSITE, BOOTSTRAP)}
