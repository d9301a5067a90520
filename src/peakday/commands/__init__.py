"""CLI commands beyond run/validate/report, one module each; cli.py registers them."""
