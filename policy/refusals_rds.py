"""Cloud refusals for RDS: replicas of managed-password sources, replicas' lifecycle, master
passwords.

One part of the cloud-refusal group (`policy.refusals`): each rule is mandatory, states one
thing the API refuses and names the document that says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from policy import tokens as tk
from policy.framework import MANDATORY, Registry, Stack
from policy.view import Res, flag, is_unknown, number

rules = Registry()

# Characters RDS refuses in a master password: "/", '"', "@" and space (CreateDBInstance,
# MasterUserPassword: "Can include any printable ASCII character except ...").
RDS_PASSWORD_REFUSED = frozenset('/"@ ')
RDS_POSTGRES_PASSWORD_LENGTH = (8, 128)  # MasterUserPassword, RDS for PostgreSQL


def _replica(res: Res) -> bool:
    """A read replica (its source may be unknown in a preview: it is still a replica)."""
    return res.props.get("replicateSourceDb") not in (None, "")


@rules.stack(
    "rds-replica-of-managed-password-source",
    MANDATORY,
    checks="No read replica of a source whose master password RDS manages in Secrets Manager",
    fix="give the primary a password of the program's own (pulumi-random, kept as a secret) "
    "instead of manage_master_user_password",
    document="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"
    "#rds-secrets-manager-limitations",
)
def replica_of_managed_password(stack: Stack) -> Iterator[tuple[str, str]]:
    sources = [
        r
        for r in stack.of_type(tk.RDS_INSTANCE)
        if flag(r.props.get("manageMasterUserPassword")) is True
    ]
    if not sources:
        return
    for replica in filter(_replica, stack.of_type(tk.RDS_INSTANCE)):
        for source in stack.referenced(replica, "replicateSourceDb", (tk.RDS_INSTANCE,)):
            if source in sources:
                yield (
                    replica.urn,
                    f"its source {source.name} manages its master password in Secrets Manager: "
                    "RDS refuses to create the replica",
                )


@rules.resource(
    "rds-replica-lifecycle",
    MANDATORY,
    types=(tk.RDS_INSTANCE,),
    checks="A read replica sets no final snapshot, skips it on delete, and has no automated "
    "backups (PostgreSQL)",
    fix="on a replica leave final_snapshot_identifier, backup_retention_period and "
    "backup_window unset and set skip_final_snapshot=True; after a promotion, declare it a "
    "primary (backups and final snapshot on)",
    document="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html"
    " ; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.html"
    "#USER_ReadRepl.Overview.Differences",
)
def replica_lifecycle(res: Res) -> Iterator[str]:
    if not _replica(res):
        return
    props = res.props
    if props.get("finalSnapshotIdentifier") not in (None, ""):
        yield (
            "final_snapshot_identifier is set: RDS refuses it when deleting a read replica, so "
            "removing this region would fail"
        )
    if flag(props.get("skipFinalSnapshot")) is False or (
        "skipFinalSnapshot" not in props and "finalSnapshotIdentifier" in props
    ):
        yield "skip_final_snapshot is false: DeleteDBInstance requires it for a read replica"
    engine = props.get("engine")
    postgres = engine in (None, "postgres") or is_unknown(engine)
    backups = number(props.get("backupRetentionPeriod"))
    if postgres and backups is not None and backups > 0:
        yield (
            f"backup_retention_period is {backups}: PostgreSQL read replicas can't have "
            "automated backups"
        )
    if postgres and props.get("backupWindow") not in (None, ""):
        yield "backup_window is set: PostgreSQL read replicas have no automated backups"


@rules.stack(
    "rds-master-password",
    MANDATORY,
    checks="A master password is either managed by RDS or given, never both, and a generated "
    'one uses only characters RDS accepts (8-128 long, none of / " @ space)',
    fix="generate it with random.RandomPassword(special=False) (or an override_special without "
    '/, ", @ and space), length 8 to 128',
    document="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
)
def master_password(stack: Stack) -> Iterator[tuple[str, str]]:
    passwords = stack.of_type(tk.RANDOM_PASSWORD)
    for db in stack.of_type(tk.RDS_INSTANCE):
        given = db.props.get("password") is not None
        if flag(db.props.get("manageMasterUserPassword")) is True and given:
            yield db.urn, "both password and manage_master_user_password are set: RDS refuses"
        for generated in (p for p in passwords if p.urn in db.dependencies):
            yield from (
                (generated.urn, f"feeds {db.name}'s master password: {problem}")
                for problem in _password_problems(generated)
            )


def _password_problems(res: Res) -> Iterator[str]:
    props = res.props
    length = number(props.get("length"))
    low, high = RDS_POSTGRES_PASSWORD_LENGTH
    if length is not None and not low <= length <= high:
        yield f"length {length} is outside {low}-{high}"
    special_flag = props.get("special")
    if flag(special_flag) is False or is_unknown(special_flag):
        return
    special = props.get("overrideSpecial")
    if is_unknown(special):
        return
    # pulumi-random's default special characters include "/", "@" and '"'.
    chars = set(special) if isinstance(special, str) else set('!@#$%&*()-_=+[]{}<>:?/"')
    refused = sorted(chars & RDS_PASSWORD_REFUSED)
    if refused:
        yield f"its special characters include {' '.join(refused)}, which RDS refuses"
