"""The plan diff: what applying one synthesized graph over another would do, offline.

`diff_graphs(old, new)` matches custom resources by URN (and a new resource whose `aliases`
name a URN that is gone is the same resource, renamed or moved: an update, not a delete and a
create), compares their inputs and options, and classifies each as a create, update, replace or
delete, as `pulumi preview` would:

- **Replacements** come from the providers' own schemas (`infra/data/replacements.json`, built
  by `scripts/extract_replacements` from the Terraform providers' `ForceNew` / `RequiresReplace`
  at the versions the pinned SDKs bridge), and Pulumi's own rules on top: a changed or replaced
  provider, the resource's `replaceOnChanges`.
- **Unknowns propagate**: an input computed from a resource that this diff creates or replaces
  (the synthesis records each input's `propertyDependencies`) changes to "known after apply";
  if that input forces a replacement, the dependent resource is replaced too, and so on down the
  graph.
- **Dangers**, each with what to do about it, in four classes: data loss (a stateful resource
  deleted or replaced, directly or by cascade), safeguards removed (`protect`,
  `retainOnDelete`, deletion protection, final snapshot, force-destroy), exposure (ingress open
  to the internet, a public bucket or policy), and outage (a serving resource replaced in
  production).

Choices (where Pulumi's own preview could differ):
- Inputs listed in a resource's `ignoreChanges` are still shown when they change, marked
  ignored; they never make a replacement or a danger, since `pulumi up` will not apply them.
- Component resources are not diffed (they have no cloud state); their children are.
- Secret values are never in a Graph (only the `[secret]` mask). When both graphs carry keyed
  digests of their secrets under one key (`scripts/preview --base` gives both revisions the same
  random per-run key), a masked value whose digest differs is a change, shown as `changed
  (secret)`; the digests themselves never leave the diff. Without digests on both sides a change
  of a secret's value alone is invisible here; the real preview in CI shows it, masked.
- Values the mocks invented (ids, ARNs, generated names, the zone id) are marked wherever they
  are shown (`infra.review.placeholders`): they stand for values known only after apply.
- Paths a provider function decides (`conditional` in the data file, e.g. an instance's
  `userData` with `userDataReplaceOnChange`) are marked "may force replacement", not counted.

Pure functions over `infra.review.graph.Graph`: nothing here runs the program or imports Pulumi.
The modules, in the order a diff is made: `model` (what a diff is made of), `matching` (which
resource is which), `values` (tree differences, option paths), `compare` (one resource: update
or replace), `cascade` (unknowns down the graph), `dangers`, `stack` (`diff_graphs`, all of the
above for a stack); for showing it, `display` (values for people) and `json_form` (`to_dict`).
"""

from infra.review.diff.dangers import SERVING
from infra.review.diff.display import decoded_text, holds_placeholder, plain, show
from infra.review.diff.json_form import to_dict
from infra.review.diff.matching import match_resources
from infra.review.diff.model import (
    ABSENT,
    COMPUTED,
    FAILING_CLASSES,
    STATEFUL,
    Absent,
    Change,
    Danger,
    DangerClass,
    DangerCode,
    Kind,
    PropertyChange,
    StackDiff,
    top_level,
)
from infra.review.diff.stack import diff_graphs
from infra.review.diff.values import diff_values

__all__ = [
    "ABSENT",
    "COMPUTED",
    "FAILING_CLASSES",
    "SERVING",
    "STATEFUL",
    "Absent",
    "Change",
    "Danger",
    "DangerClass",
    "DangerCode",
    "Kind",
    "PropertyChange",
    "StackDiff",
    "decoded_text",
    "diff_graphs",
    "diff_values",
    "holds_placeholder",
    "match_resources",
    "plain",
    "show",
    "to_dict",
    "top_level",
]
