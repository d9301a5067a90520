"""The CLI commands, one module each; cli.py registers them and turns their errors into messages."""
