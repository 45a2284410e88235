"""Shared start-up of the scripts: run under the project's .venv, with the project importable."""

from __future__ import annotations

import gc
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(module: str) -> None:
    venv = ROOT / ".venv"
    python = venv / "bin" / "python"
    if python.exists() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(python, [str(python), *sys.argv])  # noqa: S606 (re-exec under .venv)
    sys.path.insert(0, str(ROOT))
    status = importlib.import_module(module).main()
    # The process is about to exit: the Pulumi SDKs leave ~550,000 objects behind, and the
    # interpreter's final garbage collection over them takes over a second (a quarter of a prod
    # preview). Frozen, they are left to the OS.
    gc.freeze()
    raise SystemExit(status)
