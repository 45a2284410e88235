"""What the CI roles may do in the AWS account: the IAM policies of the bootstrap project.

Three kinds of role assume these (`infra/components/ci_access.py` declares them):

- the **preview role** (pull requests): reads what `pulumi preview` reads, nothing else;
- a **deploy role per GitHub environment** (`staging`, `production`): creates, changes and deletes
  what the website program declares, and runs the operations around a deploy
  (`scripts/snapshot_db`, `scripts/smoke_test`, `scripts/failover`).

The services come from the website program itself: `WEBSITE_SERVICES` is the set of IAM service
prefixes of the resource types the program declares, and `tests/test_bootstrap_permissions.py`
derives the same set from the synthesized prod and staging graphs (`service_of` each type) and fails
when they differ, naming the type that needs a grant here. (The bootstrap program cannot synthesize
the website while `pulumi up` runs it, so the derived set is checked in, and kept honest by that
test.) Each service gets the write verbs its resources need; reads are `Describe*`/`List*`/named
`Get*` actions. Actions that expose data or escalate privileges (`iam:PassRole`, `kms:Decrypt`,
`secretsmanager:GetSecretValue`, `s3:GetObject`, ...) are never granted on `*`: each names the
resources or carries a condition (the policy pack's `iam-no-privilege-escalation` rule checks it on
the synthesized bootstrap).

Every statement that still applies to every resource of a service (`Resource: *`, or a verb
wildcard such as `ec2:Create*`) says why in its `why`: `statement()` refuses a broad one
without a reason, so the reason is in code next to it.

Sources: the IAM Service Authorization Reference (docs.aws.amazon.com/service-authorization/
latest/reference/) for action names and resource types; the Terraform AWS provider behind
pulumi-aws for which calls each resource makes (it reads with Describe*/List*/Get* and tags in
the create call).

The package: `website` (what the website declares that the grants follow: its IAM services, the
managed policies its roles attach, the services they are passed to, its name prefix),
`statements` (a statement, a policy document, a role's scope), `reads` (the read-only
statement), `writes` (each service's write grants, one module per area of the website) and
`policies` (the preview and deploy policies put together, with the state backend, the
operations around a deploy and the denies).
"""

from infra.ci_permissions.policies import (
    DEPLOY_PARTS,
    MANAGED_POLICY_LIMIT,
    deploy_statements,
    preview_statements,
)
from infra.ci_permissions.reads import reads
from infra.ci_permissions.statements import Scope, StateAccess, Statement, document, statement
from infra.ci_permissions.website import (
    ATTACHABLE_MANAGED_POLICIES,
    NAME_PREFIX,
    PASSED_TO_SERVICES,
    WEBSITE_SERVICES,
    service_of,
)

__all__ = [
    "ATTACHABLE_MANAGED_POLICIES",
    "DEPLOY_PARTS",
    "MANAGED_POLICY_LIMIT",
    "NAME_PREFIX",
    "PASSED_TO_SERVICES",
    "WEBSITE_SERVICES",
    "Scope",
    "StateAccess",
    "Statement",
    "deploy_statements",
    "document",
    "preview_statements",
    "reads",
    "service_of",
    "statement",
]
