"""What the python.org application needs to run, read from its own repository (python/pythondotorg).

Facts about the app are extracted from its source, not typed by hand: `extract(repo, commit)`
reads a git checkout of python/pythondotorg (`scripts/extract_app_settings` is its command line)
and returns the production settings module's environment variables (every `config("NAME", ...)`
call of python-decouple in the module and the base module it star-imports), the Procfile's
processes, the production Dockerfile's start-up facts, the gunicorn config's bind address, the
health URL, the proxy header the settings trust, and what the settings hard-code that the
infrastructure has to meet: the cache backend, the session engine, the search backend and the
CA file it names, mail over TLS. The result is committed as
`infra/data/app_settings.json` with the commit it was read from; `load()` returns it.

The program does not read this file: the tests hold the program's application contract
(`infra/app_contract.py`, `docs/app-contract.md`) to it, so that a new required variable in the
app fails a test here instead of a boot in production.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "app_settings.json"
REPOSITORY = "python/pythondotorg"
SETTINGS_MODULE = "pydotorg.settings.cabotage"  # the production settings (Dockerfile.cabotage)
DOCKERFILE = "Dockerfile.cabotage"  # the production image: `--extra prod` has gunicorn


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool  # read without a default: the app does not import without it
    default: str | None  # the default's source text
    where: str  # file:line


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def _show(repo: Path, commit: str, path: str) -> str:
    return _git(repo, "show", f"{commit}:{path}")


def _module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def settings_variables(sources: dict[str, str]) -> list[Variable]:
    """Every `config("NAME", ...)` call in the given settings files (path -> source text)."""
    found: dict[str, Variable] = {}
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text, filename=path)):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "config"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            default = next((k.value for k in node.keywords if k.arg == "default"), None)
            if default is None and len(node.args) > 1:
                default = node.args[1]
            name = node.args[0].value
            # The production module overrides the base module: its reading wins.
            found[name] = Variable(
                name=name,
                required=default is None,
                default=None if default is None else ast.unparse(default),
                where=f"{path}:{node.lineno}",
            )
    return sorted(found.values(), key=lambda v: v.name)


def _star_imports(text: str) -> list[str]:
    tree = ast.parse(text)
    return [
        node.module
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("pydotorg.settings")
        and any(alias.name == "*" for alias in node.names)
    ]


def _assignment(text: str, name: str) -> Any:
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    return None


def _assigned(texts: list[str], name: str) -> ast.expr | None:
    """The value last assigned to `name` at module level in `texts` (the production module
    last: it overrides the base module)."""
    found = None
    for text in texts:
        for node in ast.parse(text).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                found = node.value
    return found


def _constant_key(value: ast.expr | None, key: str) -> Any:
    """The constant at `key` anywhere inside a dict display (None when absent)."""
    if value is None:
        return None
    for node in ast.walk(value):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == key and isinstance(v, ast.Constant):
                    return v.value
    return None


def hard_coded(texts: list[str]) -> dict[str, Any]:
    """What the settings fix without reading the environment, which the contract must meet."""
    caches = _assigned(texts, "CACHES")
    search = _assigned(texts, "HAYSTACK_CONNECTIONS")
    session = _assigned(texts, "SESSION_ENGINE")
    tls = _assigned(texts, "EMAIL_USE_TLS")
    return {
        "cache_backend": _constant_key(caches, "BACKEND"),
        # Django's default when the settings name none: sessions in the database.
        "session_engine": ast.literal_eval(session) if session is not None else None,
        "search_engine": _constant_key(search, "ENGINE"),
        "search_ca_certs": _constant_key(search, "ca_certs"),
        "email_use_tls": ast.literal_eval(tls) if tls is not None else None,
    }


def environ_reads(text: str) -> list[str]:
    """The variables a module reads with os.environ["NAME"] (this repository's overlay)."""
    return sorted(
        {
            node.slice.value
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "environ"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        }
    )


def _dockerfile(text: str) -> dict[str, Any]:
    lines = [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    instruction = {
        word: [line.split(None, 1)[1] for line in lines if line.upper().startswith(word + " ")]
        for word in ("CMD", "ENTRYPOINT", "WORKDIR", "ENV", "EXPOSE")
    }
    env = {
        m.group(1): m.group(2)
        for value in instruction["ENV"]
        if (m := re.fullmatch(r"(\w+)[= ]\"?([^\"]*)\"?", value))
    }
    return {
        "cmd": instruction["CMD"][-1] if instruction["CMD"] else None,
        "entrypoint": instruction["ENTRYPOINT"][-1] if instruction["ENTRYPOINT"] else None,
        "workdir": instruction["WORKDIR"][-1] if instruction["WORKDIR"] else None,
        "expose": instruction["EXPOSE"],
        "env": env,
        "collectstatic": "collectstatic" in text,
    }


def extract(repo: Path, commit: str) -> dict[str, Any]:
    """Read the app's facts from a git directory of python/pythondotorg at `commit`."""
    commit = _git(repo, "rev-parse", commit).strip()
    files: dict[str, str] = {}
    pending = [SETTINGS_MODULE]
    while pending:  # the production module and the modules it star-imports
        path = _module_path(pending.pop())
        if path not in files:
            files[path] = _show(repo, commit, path)
            pending.extend(_star_imports(files[path]))
    procfile = {
        name.strip(): command.strip()
        for line in _show(repo, commit, "Procfile").splitlines()
        if ":" in line and not line.startswith("#")
        for name, command in [line.split(":", 1)]
    }
    gunicorn = {
        m.group(1): ast.literal_eval(m.group(2))
        for m in re.finditer(
            r"^(\w+)\s*=\s*(.+)$", _show(repo, commit, "gunicorn.conf"), flags=re.MULTILINE
        )
        if m.group(1) in ("bind", "workers", "timeout", "preload_app")
    }
    urls = _show(repo, commit, "pydotorg/urls.py")
    health = re.search(r"re_path\(r\"\^(_health)/\?\",\s*views\.health", urls)
    production_path = _module_path(SETTINGS_MODULE)
    production = files[production_path]
    return {
        "source": {
            "repository": REPOSITORY,
            "commit": commit,
            "date": _git(repo, "show", "-s", "--format=%cI", commit).strip(),
            "rebuild": "scripts/extract_app_settings --repo <git dir of python/pythondotorg>",
        },
        "settings_module": SETTINGS_MODULE,
        "settings_files": sorted(files),
        "variables": {
            v.name: {"required": v.required, "default": v.default, "where": v.where}
            for v in settings_variables(files)
        },
        "secure_proxy_ssl_header": _assignment(production, "SECURE_PROXY_SSL_HEADER"),
        # Base module first, the production module last: the last assignment wins.
        "hard_coded": hard_coded(
            [t for p, t in sorted(files.items()) if p != production_path] + [production]
        ),
        "media_location": _assignment(production, "MEDIAFILES_LOCATION"),
        "procfile": procfile,
        "dockerfile": {"path": DOCKERFILE, **_dockerfile(_show(repo, commit, DOCKERFILE))},
        "gunicorn_conf": gunicorn,
        "health_path": f"/{health.group(1)}/" if health else None,
    }


def load() -> dict[str, Any]:
    """The committed facts (`infra/data/app_settings.json`)."""
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def write(facts: dict[str, Any], path: Path = DATA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
