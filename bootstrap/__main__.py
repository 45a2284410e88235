"""The bootstrap program: `pulumi up` in bootstrap/ runs this file. Everything is in
stacks/bootstrap.py, which imports from the repository root."""

import sys
from pathlib import Path

# Pulumi runs this directory's __main__.py: the repository (infra/, stacks/) is one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks.bootstrap import main

main()
