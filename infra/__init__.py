"""python.org infrastructure: config model, naming and tagging helpers, components, synthesis."""
