"""Serve the policy pack to the Pulumi CLI: `pulumi preview --policy-pack policy`.

The CLI runs this file as `python policy/` (from the virtualenv named in PulumiPolicy.yaml);
`PolicyPack` then answers the engine over gRPC until the deployment ends.
"""

import sys
from pathlib import Path

# `python policy/` puts policy/ itself first on the path; the rules import as the `policy`
# package from the repository root instead (and nothing in policy/ can shadow a module).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != _HERE)]

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.pack import PACK_NAME, policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    # Each policy sets its own level (mandatory/advisory); this applies to none of them.
    enforcement_level=EnforcementLevel.ADVISORY,
    description="python.org: data-loss guards and security rules (docs/policies.md)",
)
