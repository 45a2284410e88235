"""The Pulumi program: `pulumi up` runs this file. Everything is in stacks/website.py."""

from stacks.website import main

main()
