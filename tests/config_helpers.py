"""Config edits shared by the config tests (tests/test_config*.py): builders of functions that
change a raw stack config in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """Edit that sets python-org:a.b.c (creating nothing: the parents must exist)."""

    def edit(raw: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        if not rest:
            raw[f"python-org:{top}"] = value
            return
        node = raw[f"python-org:{top}"]
        for key in rest[:-1]:
            node = node[key]
        node[rest[-1]] = value

    return edit


def _rename_key(path: str, new: str) -> Edit:
    """Edit that renames the key at python-org:a.b to `new` (a typo of it), keeping its value."""

    def edit(raw: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        if not rest:
            raw[f"python-org:{new}"] = raw.pop(f"python-org:{top}")
            return
        node = raw[f"python-org:{top}"]
        for key in rest[:-1]:
            node = node[key]
        node[new] = node.pop(rest[-1])

    return edit


def _delete(path: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        if not rest:
            del raw[f"python-org:{top}"]
            return
        node = raw[f"python-org:{top}"]
        for key in rest[:-1]:
            node = node[key]
        del node[rest[-1]]

    return edit


def _edge(*path: str, value: Any = None, delete: bool = False) -> Edit:
    """Set (or delete) python-org:edge[path...]; keys may hold dots (hostnames)."""

    def edit(raw: dict[str, Any]) -> None:
        node = raw["python-org:edge"]
        for key in path[:-1]:
            node = node[key]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return edit


def _all(*edits: Edit) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        for e in edits:
            e(raw)

    return edit


def _plan(plan: str) -> Edit:
    """Prod on another plan, without what only Enterprise has (so one problem shows)."""
    return _all(
        _edge("plan", value=plan),
        _edge("pathOrigins", delete=True),
        _edge("cache", "staticEdgeTtlSeconds", delete=True),
    )


def _limit(**fields: Any) -> dict[str, Any]:
    return {"path": "/accounts/login/", "requests": 5, "periodSeconds": 60, **fields}


def _add_region(name: str, cidr: str, zones: list[str]) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw["python-org:regions"][name] = {"vpcCidr": cidr, "availabilityZones": zones}

    return edit


def _rename_region(old: str, new: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        regions = raw["python-org:regions"]
        raw["python-org:regions"] = {new if k == old else k: v for k, v in regions.items()}

    return edit
