"""Stack compositions: config in, components out."""
