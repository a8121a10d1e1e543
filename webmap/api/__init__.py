"""The JSON and file APIs, one module per resource (each a blueprint ``bp``)."""
