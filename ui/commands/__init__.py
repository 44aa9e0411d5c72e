"""One module per group of CLI commands; each has `register(app)`."""
