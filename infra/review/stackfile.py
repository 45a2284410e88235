"""Reading `Pulumi.<stack>.yaml` without the Pulumi CLI (for the offline preview, CI validation,
the tests and the operations scripts). The program itself reads config from the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra.config import (
    NAMESPACE,
    SECRET_KEYS,
    ConfigError,
    NoSuchStackError,
    StackConfig,
    parse_config,
)
from infra.projects import ROOT, WEBSITE, Project

# Encrypted values (`secure: v1:...`) cannot be decrypted offline. They are replaced by a
# placeholder of the right shape, still marked secret, so that the same program runs.
OFFLINE_SECRET_PLACEHOLDERS = {
    "sentryDsn": "https://offline-placeholder@sentry.invalid/1",
    "pagingUrl": "https://paging.invalid/offline-placeholder",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that rejects a key repeated in one mapping (such as a region listed twice),
    which plain YAML loaders resolve silently by keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def stack_names(root: Path = ROOT, project: Project = WEBSITE) -> list[str]:
    return project.stack_names(root)


def read_stack_file(
    stack: str, root: Path = ROOT, project: Project = WEBSITE
) -> tuple[dict[str, Any], list[str]]:
    """Return the stack's config as the engine would pass it (`project:key` -> string) and the
    list of secret keys. Raises NoSuchStackError for a missing file, ConfigError for bad YAML or
    repeated keys."""
    path = project.directory(root) / f"Pulumi.{stack}.yaml"
    shown = project.stack_file(stack)

    def error(problem: str) -> ConfigError:
        return ConfigError(stack, [problem], file=shown)

    if not path.is_file():
        raise NoSuchStackError(stack, shown, project.stack_names(root))
    try:
        doc = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader) or {}
    except yaml.YAMLError as exc:
        raise error(f"{shown} is not valid YAML: {exc}") from None
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise error(f"{shown}: 'config' must be a mapping")
    raw: dict[str, Any] = {}
    secrets: list[str] = []
    for key, value in config.items():
        name = str(key).rpartition(":")[2]
        if isinstance(value, dict) and set(value) == {"secure"}:
            secrets.append(key)
            raw[key] = OFFLINE_SECRET_PLACEHOLDERS.get(name, "offline-secret-placeholder")
        else:
            raw[key] = _engine_string(value)
    return raw, secrets


def _engine_string(value: Any) -> str:
    """Config values reach a program as strings; structured ones as JSON text."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def load_stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    raw, secrets = read_stack_file(stack, root)
    return parse_config(stack, raw, secret_keys=secrets)


__all__ = [
    "NAMESPACE",
    "ROOT",
    "SECRET_KEYS",
    "load_stack_config",
    "read_stack_file",
    "stack_names",
]
