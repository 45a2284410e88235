"""The one error bad config raises, and the one a missing stack raises."""

from __future__ import annotations

from pulumi.errors import RunError


class ConfigError(RunError):
    """Invalid stack config. `problems` holds one line per bad key.

    A `pulumi.RunError`, so that `pulumi preview`/`up` print the message alone, without the
    Python traceback an unexpected exception gets."""

    def __init__(self, stack: str, problems: list[str], *, file: str | None = None) -> None:
        self.stack = stack
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid config for stack '{stack}' ({file or f'Pulumi.{stack}.yaml'}), "
            f"nothing was declared:\n{lines}"
        )


class NoSuchStackError(ConfigError):
    """The stack has no stack file: one line naming the stacks that exist, not a config problem."""

    def __init__(self, stack: str, file: str, known: list[str]) -> None:
        self.known = known
        problem = (
            f"no such stack '{stack}': there is no {file} "
            f"(stacks here: {', '.join(known) or 'none'})"
        )
        super().__init__(stack, [problem], file=file)
        # RunError's text is what `pulumi` and the CLIs print: the one line, no "invalid config".
        self.args = (problem,)

    def __str__(self) -> str:
        return str(self.args[0])
