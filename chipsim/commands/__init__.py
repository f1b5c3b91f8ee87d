"""Subcommands of the ``chipsim`` CLI, one module each with ``add_parser`` and ``run``."""
