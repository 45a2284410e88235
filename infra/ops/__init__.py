"""Operations scripts' library: pre-deploy snapshot, post-deploy smoke test, regional failover.

Everything here reads regions and names from the validated stack config (`infra.config`,
`infra.naming`), the same source the Pulumi program declares them from, and talks to AWS through
boto3 with standard retries (`infra.ops.aws`). The CLIs live in `infra/cli/` and `scripts/`.
"""
