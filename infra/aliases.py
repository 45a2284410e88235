"""Aliases that keep stateful children's URNs when their component is renamed or moved."""

from __future__ import annotations

import pulumi


def inherited_aliases(parent: pulumi.Resource, child_name: str) -> list[pulumi.Input[pulumi.Alias]]:
    """Where a child of `parent` was before, for each alias of `parent`: under the parent's old
    URN, with the parent's old name in place of the new one where the child's name starts with
    it (the `{component}-{role}` convention of every component here).

    The engine infers the same from the parent's aliases; saying it on the children keeps a
    rename or re-parent of a component from replacing its stateful children even where that
    inference doesn't reach, and shows in the synthesized graph (tests/test_data_loss.py)."""
    parent_name = parent._name

    def alias(parent_urn: str) -> pulumi.Alias:
        name = child_name
        if child_name.startswith(parent_name):
            name = parent_urn.rsplit("::", 1)[1] + child_name[len(parent_name) :]
        return pulumi.Alias(name=name, parent=parent_urn)

    return [pulumi.Output.from_input(urn).apply(alias) for urn in parent._aliases]
