"""Command-line entry points behind scripts/: each `main(argv) -> int`, nothing at import."""
