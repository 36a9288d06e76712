"""Subcommands of `cpap-server`, one module per group."""
