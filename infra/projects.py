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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Project:
    key: str  # what --project takes
    name: str  # `name:` of its Pulumi.yaml: the config namespace and the URNs' project part
    subdir: str  # its directory, relative to the repository root ("" for the root)
    program: str  # "module:function", the function its __main__.py calls

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
        module, _, function = self.program.partition(":")
        program: Callable[[], None] = getattr(importlib.import_module(module), function)
        return program


WEBSITE = Project(key="website", name="python-org", subdir="", program="stacks.website:main")
BOOTSTRAP = Project(
    key="bootstrap",
    name="python-org-bootstrap",
    subdir="bootstrap",
    program="stacks.bootstrap:main",
)
PROJECTS: dict[str, Project] = {p.key: p for p in (WEBSITE, BOOTSTRAP)}
