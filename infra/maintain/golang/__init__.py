"""Just enough Go to read Terraform provider schemas: top-level declarations and composite literals.

`declarations(source)` splits a Go file into its top-level functions, methods, types, constants
and variables (by name, with their text). `parse_expr(text)` parses one expression into nested
`Node`s: composite literals (`schema.StringAttribute{...}`, `map[string]*schema.Schema{...}`),
calls, selectors, function literals and plain tokens. It is not a Go compiler: it knows the
shapes schema code is written in, and anything else comes back as an opaque `Node`.
Used only by the maintainer script `scripts/extract_replacements` (`infra.maintain.extract_replacements`).

The package: `tokens` (the tokenizer and bracket matching), `declarations` (a file's top-level
declarations) and `expressions` (an expression's `Node`s, and the `return`s and assignments of a
function body).
"""

from infra.maintain.golang.declarations import Declarations, declarations
from infra.maintain.golang.expressions import (
    Node,
    assignments,
    expr_at,
    find_composites,
    parse_expr,
    returned,
)
from infra.maintain.golang.tokens import Tok, tokens

__all__ = [
    "Declarations",
    "Node",
    "Tok",
    "assignments",
    "declarations",
    "expr_at",
    "find_composites",
    "parse_expr",
    "returned",
    "tokens",
]
