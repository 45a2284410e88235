"""The mocks the synthesis runs the program under (`infra.review.synth`): `CloudMocks` answers
resource registrations (`resources`) and invokes (`invokes`) the way AWS and Cloudflare would,
and keeps what the invokes invented. With `preview=True` computed values stay unknown, as in a
real `pulumi preview`."""

from __future__ import annotations

from typing import Any

from pulumi.runtime.mocks import Mocks

from infra.review.mocks.ids import ACCOUNT_ID, mock_hash
from infra.review.mocks.invokes import (
    CLOUDFLARE_IPV4,
    CLOUDFLARE_IPV6,
    ELB_LOG_ACCOUNTS,
    INVENTED_BY_INVOKE,
    INVOKES,
)
from infra.review.mocks.resources import ANSWERS, generic

__all__ = ["ACCOUNT_ID", "CLOUDFLARE_IPV4", "CLOUDFLARE_IPV6", "ELB_LOG_ACCOUNTS", "CloudMocks"]


class CloudMocks(Mocks):
    """Answers resource registrations and invokes the way AWS and Cloudflare would."""

    def __init__(self, *, preview: bool) -> None:
        self.preview = preview
        self.provider_regions: dict[str, str] = {}
        self.invented: dict[str, str] = {}  # value -> what it stands for (`Graph.placeholders`)

    # pulumi's Mocks interface -----------------------------------------------------------------

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            pid = f"{args.name}-{mock_hash(args.typ, args.name)}"
            if "region" in inputs:
                self.provider_regions[pid] = inputs["region"]
            return pid, inputs
        if self.preview:
            return "", inputs  # ids and computed properties are unknown until applied
        region = inputs.get("region") or self.region_of(args.provider) or "us-east-1"
        answer = ANSWERS.get(args.typ, generic)
        rid, outputs = answer(args.name, inputs, region)
        return rid, {**inputs, **outputs}

    def call(self, args: Any) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        region = args.args.get("region") or self.region_of(args.provider) or "us-east-1"
        answer = INVOKES.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the mocks do not answer the invoke {args.token}")
        result = answer(args.args, region)
        for path, what in INVENTED_BY_INVOKE.get(args.token, {}).items():
            value = _at(result, path)
            if isinstance(value, str) and value:
                self.invented.setdefault(value, what.format(**result))
        return result, []

    def register_transform(self, transform: Any) -> None:
        pass

    def register_invoke_transform(self, transform: Any) -> None:
        pass

    def region_of(self, provider_ref: str | None) -> str | None:
        if not provider_ref:
            return None
        return self.provider_regions.get(provider_ref.rsplit("::", 1)[-1])


def _at(doc: Any, path: str) -> Any:
    for key in path.split("."):
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc
