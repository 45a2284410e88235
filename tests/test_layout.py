"""The layout is the architecture: what is deployed apart from the tooling around it.

Imports run one way only. The program (`stacks/`, `infra/components/`, `infra/config/` and the
pure helpers at `infra/*.py`) imports only the program: a real `pulumi up` loads it without the
offline tooling. The policy pack (`policy/`, but its offline runner) imports only itself: the
CLI runs it on its own. What runs on the instances (`infra/templates/`) imports nothing of this
repository. The tooling imports the program and the layers below it: review (synthesis, graph,
plan, diff) under ops and maintain, all of them under the CLIs. Every import counts, also one
inside a function.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Layer of a module, by its longest matching prefix; what each layer may import (itself too).
LAYERS: dict[str, str] = {
    "stacks": "program",
    "infra": "program",
    "infra.templates": "instance",
    "infra.review": "review",
    "infra.ops": "ops",
    "infra.maintain": "maintain",
    "infra.cli": "cli",
    "policy": "pack",
    "policy.runner": "review",
}
MAY_IMPORT: dict[str, set[str]] = {
    "program": {"program"},
    "pack": {"pack"},
    "instance": set(),
    "review": {"review", "program", "pack"},
    "ops": {"ops", "review", "program"},
    "maintain": {"maintain", "review", "program"},
    "cli": {"cli", "ops", "maintain", "review", "program", "pack"},
}
SOURCES = ("infra", "stacks", "policy")


def layer(module: str) -> str | None:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def imports(source: str, module: str, known: frozenset[str]) -> frozenset[str]:
    """Every module of this repository (`known`) that `source` imports, lazily or not: for
    `from infra import naming` the module infra.naming, not the package infra."""
    found: set[str] = set()
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # (the repository has no package __init__ with relative imports)
                base = ".".join(package[: len(package) - node.level])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return frozenset(name for name in found if name in known)


def violations(sources: dict[str, str]) -> list[str]:
    """`module imports target` for each import against the direction, from {module: source}."""
    known = frozenset(sources)
    found = []
    for module, source in sorted(sources.items()):
        mine = layer(module)
        assert mine is not None, f"{module}: in no layer of LAYERS"
        for target in sorted(imports(source, module, known)):
            theirs = layer(target)
            if theirs is not None and theirs not in MAY_IMPORT[mine] | {mine}:
                found.append(f"{module} ({mine}) imports {target} ({theirs})")
    return found


@functools.cache
def _read_sources() -> tuple[tuple[str, str], ...]:
    paths = [p for top in SOURCES for p in (ROOT / top).rglob("*.py")]
    return tuple((module_name(p), p.read_text()) for p in paths)


def repository_sources() -> dict[str, str]:
    """{module: source} of every module of the program, the pack and the tooling."""
    return dict(_read_sources())


def test_imports_run_one_way() -> None:
    sources = repository_sources()
    assert violations(sources) == []


def test_every_layer_is_populated() -> None:
    layers = {layer(m) for m in repository_sources()}
    assert layers >= set(MAY_IMPORT)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "infra.components.web",
            "def f():\n    from infra.review import synth\n",
            "infra.components.web (program) imports infra.review.synth (review)",
        ),
        ("stacks.website", "import infra.cli.preview\n", "stacks.website (program) imports"),
        ("policy.storage", "from infra import naming\n", "policy.storage (pack) imports"),
        ("infra.templates.release", "from infra.naming import x\n", "(instance) imports"),
        ("infra.review.diff", "from infra.ops import aws\n", "(review) imports infra.ops.aws"),
        ("infra.naming", "from .review.graph import Graph\n", "imports infra.review.graph"),
    ],
)
def test_an_import_against_the_direction_is_found(module: str, source: str, expected: str) -> None:
    sources = repository_sources()
    sources[module] = source
    found = violations(sources)
    assert len(found) == 1, found
    assert expected in found[0]


def test_the_tooling_may_import_the_program() -> None:
    sources = repository_sources()
    sources["infra.review.synth"] = "from infra.config import parse_config\nimport stacks.website\n"
    sources["infra.cli.preview"] = "from infra.ops import aws\nfrom policy import rules\n"
    assert violations(sources) == []


# --- no room too big ---------------------------------------------------------------------------

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# path (or path::function) -> why it stays bigger. Empty is the goal; a new entry needs a reason.
TOO_BIG_BUT: dict[str, str] = {}
SIZED = ("infra", "stacks", "policy", "tests", "benchmarks", "bootstrap")


def _python_files() -> list[Path]:
    return sorted(p for top in SIZED for p in (ROOT / top).rglob("*.py"))


def too_big(path: Path, source: str) -> list[str]:
    """`path: N lines` and `path::function: N lines` over the limits."""
    name = str(path.relative_to(ROOT)) if path.is_absolute() else str(path)
    found = []
    lines = source.count("\n")
    if lines > MAX_FILE_LINES:
        found.append(f"{name}: {lines} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}::{node.name}: {length} lines")
    return found


def test_no_file_or_function_too_big() -> None:
    found = [f for p in _python_files() for f in too_big(p, p.read_text())]
    unexplained = [f for f in found if f.rsplit(": ", 1)[0] not in TOO_BIG_BUT]
    assert unexplained == [], "split by concern, or say in TOO_BIG_BUT why not"
    # An exception that no longer applies goes.
    stale = set(TOO_BIG_BUT) - {f.rsplit(": ", 1)[0] for f in found}
    assert not stale


def test_too_big_is_found() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert too_big(Path("m.py"), f"def f():\n{body}") == ["m.py::f: 81 lines"]
    assert too_big(Path("m.py"), "x = 1\n" * (MAX_FILE_LINES + 1)) == ["m.py: 401 lines"]
    assert too_big(Path("m.py"), "x = 1\n" * MAX_FILE_LINES) == []
