"""Values as a reviewer reads them: JSON with the masks bare and what the mocks invented shown
as `‹what it stands for›`; base64 user data decoded, JSON documents pretty-printed."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from typing import Any

from infra.review.diff.model import ABSENT, COMPUTED
from infra.review.graph import SECRET, UNKNOWN
from infra.review.placeholders import Placeholders

_QUOTED_LABEL = re.compile(r'"(‹[^"‹›]*›)"')


def show(value: Any, placeholders: Placeholders | None = None) -> str:
    """A value for display: JSON, the masks bare, what the mocks invented as `‹what it stands
    for›` (ids and ARNs by the resource they name). Never shortened: long values are wrapped or
    shown as a text diff by the renderers."""
    if value is ABSENT:
        return "(absent)"
    if value == COMPUTED:
        return COMPUTED
    if value in (SECRET, UNKNOWN):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    if placeholders:
        text = _QUOTED_LABEL.sub(r"\1", placeholders.sub(text))
    return text


def decoded_text(value: Any) -> str | None:
    """A string as a reviewer reads it: base64 user data decoded, JSON pretty-printed (None
    for what is not a string, or only a mask)."""
    if not isinstance(value, str) or value in (UNKNOWN, COMPUTED, SECRET):
        return None
    text = value
    if len(value) >= 16 and "\n" not in value and " " not in value:
        try:
            raw = base64.b64decode(value, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = value
    if text[:1] in "{[":
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2, sort_keys=True)
    return text


def holds_placeholder(value: Any, placeholders: Placeholders) -> bool:
    """Whether a value holds something the mocks invented (also inside base64 text)."""
    if value is ABSENT or not placeholders:
        return False
    if placeholders.found_in(value):
        return True
    text = decoded_text(value)
    return text is not None and text != value and placeholders.found_in(text)


def plain(value: Any) -> Any:
    """A value for JSON output (ABSENT becomes None)."""
    return None if value is ABSENT else value
