"""`scripts/extract_replacements`: rebuild `infra/data/replacements.json` from provider sources.

Reads the Terraform providers' schemas at the versions the pinned Pulumi SDKs bridge (git
directories: `git clone --bare` of the public repositories, or the `fetch` mirrors), maps them
onto the installed SDKs' property names, and writes the data file the plan diff reads. Every
type the program declares (both stacks, synthesized offline) must come out with an entry.

Exit status: 0 written (or, with --check, up to date); 1 problems (unmapped types or paths,
or --check found the file stale); 2 bad arguments or a source that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "infra" / "data" / "replacements.json"

# pulumi-aws modules covered besides whatever the program declares: those the program and the
# streams beside it use or are likely to (databases, secrets, keys, IAM, storage, network, load
# balancing, scaling, certificates, monitoring and notification, canaries, backup, cache,
# search, mail, parameters).
AWS_MODULES = (
    "acm", "autoscaling", "backup", "cloudwatch", "ec2", "elasticache", "iam", "kms", "lb",
    "opensearch", "rds", "s3", "secretsmanager", "ses", "sesv2", "sns", "ssm", "synthetics",
    "vpc",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/extract_replacements",
        description="Rebuild infra/data/replacements.json from the Terraform providers' sources.",
        epilog=(
            "example (the versions the pinned SDKs bridge; see README 'Reviewing changes'):\n"
            "  scripts/extract_replacements \\\n"
            "    --aws-index terraform-provider-aws-index.git --aws-ref v6.58.0 \\\n"
            "    --cloudflare terraform-provider-cloudflare.git --cloudflare-ref v5.22.0 \\\n"
            "    --random terraform-provider-random.git --random-ref v3.9.0"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    aws = parser.add_mutually_exclusive_group(required=True)
    aws.add_argument("--aws", type=Path, metavar="GITDIR", help="hashicorp/terraform-provider-aws")
    aws.add_argument(
        "--aws-index",
        type=Path,
        metavar="GITDIR",
        help="lonegunmanb/terraform-provider-aws-index (terraform-provider-aws by release tag)",
    )
    parser.add_argument("--aws-ref", required=True, metavar="TAG")
    parser.add_argument("--cloudflare", type=Path, required=True, metavar="GITDIR")
    parser.add_argument("--cloudflare-ref", required=True, metavar="TAG")
    parser.add_argument("--random", type=Path, required=True, metavar="GITDIR")
    parser.add_argument("--random-ref", required=True, metavar="TAG")
    parser.add_argument("--out", type=Path, default=DATA, help=f"default: {DATA.relative_to(ROOT)}")
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if the file would change"
    )
    return parser


def declared_types() -> set[str]:
    """Every custom resource type the program declares, in every stack."""
    from infra.review.stackfile import stack_names
    from infra.review.synth import synthesize

    found: set[str] = set()
    for stack in stack_names(ROOT):
        found |= {r.type for r in synthesize(stack, preview=True) if r.custom}
    return {t for t in found if not t.startswith("pulumi:providers:")}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from infra.maintain import extract_replacements as ex
    from infra.maintain import tf_sources

    try:
        if args.aws_index:
            aws: tf_sources.Source = tf_sources.AwsIndexSource(args.aws_index, args.aws_ref)
        else:
            aws = tf_sources.GitSource(
                args.aws, args.aws_ref, "hashicorp/terraform-provider-aws", ("internal/", "names")
            )
        cloudflare = tf_sources.GitSource(
            args.cloudflare,
            args.cloudflare_ref,
            "cloudflare/terraform-provider-cloudflare",
            ("internal/",),
        )
        random = tf_sources.GitSource(
            args.random, args.random_ref, "hashicorp/terraform-provider-random", ("internal/",)
        )
    except tf_sources.SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    providers = [
        ex.Provider("aws", "pulumi_aws", aws, AWS_MODULES),
        ex.Provider("cloudflare", "pulumi_cloudflare", cloudflare, None),
        ex.Provider("random", "pulumi_random", random, None),
    ]
    doc, report = ex.build(providers, required=declared_types())
    text = ex.dump(doc)
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(
        f"{len(doc['types'])} types, {sum(len(e['replace']) for e in doc['types'].values())} "
        f"replacement-forcing paths; {len(report.problems)} warnings",
        file=sys.stderr,
    )
    declared_missing = [p for p in report.problems if "declared by the program" in p]
    if args.check:
        current = args.out.read_text() if args.out.is_file() else ""
        if current != text:
            print(f"error: {args.out} is out of date: rerun without --check", file=sys.stderr)
            return 1
        return 1 if declared_missing else 0
    args.out.write_text(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if declared_missing else 0
