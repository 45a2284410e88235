"""Pulumi components, one per file, each named after what it builds."""
