"""CLI subcommands: one module per step, each with ``register(subparsers)``."""
