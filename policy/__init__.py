"""The python.org policy pack: one set of rules, run by the Pulumi CLI and in-process.

- `pulumi preview --policy-pack policy` runs `policy/__main__.py` (the rules as `pulumi_policy`
  policies, `policy.pack`);
- `scripts/validate` and the tests call `policy.runner.evaluate(graph)` on the synthesized graph.

The rules are in one module per family (`databases`, `buckets`, `network`, `compute`, `iam`,
`edge`, ... and the cloud refusals, `refusals`), gathered in `rules`, and listed with the
catalog checks deliberately left out in docs/policies.md.
"""
