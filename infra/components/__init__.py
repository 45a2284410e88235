"""Pulumi components, one per file, each named after what it builds.

A region's components are composed in `region.py` (one `Region` per entry of
`python-org:regions`); the per-stack ones (the edge, the dashboard, media replication, the
certificates' validation) in `stacks/website.py`. A component too big for one file keeps its
parts beside it as `<name>_<part>.py` (the edge's `edge_*.py`), declared as its children.
"""
