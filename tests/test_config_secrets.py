"""The stack config's secrets: encrypted offline, refused in plain text, never echoed in a message."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra.config import (
    ConfigError,
    parse_config,
)
from infra.review.stackfile import load_stack_config, read_stack_file
from infra.review.synth import synthesize
from tests.conftest import encode, raw_stack


def test_secret_value_never_appears_in_messages() -> None:
    raw = copy.deepcopy(raw_stack("prod"))
    secret = "http://s3cr3t-t0ken@sentry.example/42"
    raw["python-org:sentryDsn"] = secret
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    assert secret not in str(info.value)
    assert "s3cr3t" not in str(info.value)
    assert "python-org:sentryDsn = [secret]" in str(info.value)
    # A secret of the wrong type is not echoed either.
    raw["python-org:sentryDsn"] = {"token": "s3cr3t"}
    with pytest.raises(ConfigError) as info:
        parse_config(
            "prod", {k: json.dumps(v) if k != "python-org:sentryDsn" else v for k, v in raw.items()}
        )
    assert "s3cr3t" not in str(info.value)


def test_secure_values_are_secrets_offline(tmp_path: Path) -> None:
    text = Path("Pulumi.prod.yaml").read_text()
    text += "  python-org:sentryDsn:\n    secure: v1:AAAABBBBccccDDDD\n"
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    raw, secrets = read_stack_file("prod", tmp_path)
    assert secrets == ["python-org:sentryDsn"]
    cfg = parse_config("prod", raw)
    assert cfg.sentry_dsn is not None
    assert str(cfg.sentry_dsn) == "[secret]"
    assert "v1:AAAA" not in repr(cfg)


def test_the_paging_url_is_validated_and_never_echoed() -> None:
    raw = copy.deepcopy(raw_stack("prod"))
    raw["python-org:pagingUrl"] = "http://events.example/S3cr3tK3y"  # not https
    with pytest.raises(ConfigError) as info:
        parse_config("prod", encode(raw))
    assert "python-org:pagingUrl = [secret]: must be the paging service's https:// endpoint" in str(
        info.value
    )
    assert "S3cr3tK3y" not in str(info.value)
    # With a good paging URL and no email, production has somebody to tell.
    raw["python-org:pagingUrl"] = "https://events.example/S3cr3tK3y"
    raw["python-org:alerts"] = {"emails": []}
    cfg = parse_config("prod", encode(raw))
    assert cfg.oncall.alerts.paging_url is not None
    assert str(cfg.oncall.alerts.paging_url) == "[secret]"
    assert "S3cr3tK3y" not in repr(cfg)


def test_a_secret_key_in_plain_text_is_refused_and_not_echoed(tmp_path: Path) -> None:
    text = Path("Pulumi.prod.yaml").read_text()
    text += "  python-org:pagingUrl: https://events.example/S3cr3tK3y\n"
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_stack_config("prod", tmp_path)
    (problem,) = info.value.problems
    assert problem == (
        "python-org:pagingUrl = [secret]: is set in plain text, readable in Pulumi.prod.yaml and "
        "the state: set it as a secret (pulumi config set --secret python-org:pagingUrl VALUE)"
    )
    assert "S3cr3tK3y" not in str(info.value)
    # The program reads which keys are secret from the engine: the same refusal, before any
    # resource, when the engine passes the key as plain config.
    raw = copy.deepcopy(raw_stack("prod"))
    raw["python-org:sentryDsn"] = "https://k3y@sentry.example/1"
    with pytest.raises(ConfigError, match=r"python-org:sentryDsn = \[secret\]: is set in plain"):
        synthesize("prod", raw_config=encode(raw), preview=True)
