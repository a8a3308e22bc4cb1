"""The headless ``eln`` command (no Textual here).

Every module of this package that defines ``register(subparsers)`` adds its own subcommand
(``eln crypto`` lives in :mod:`eln_tui.cli.crypto`); :func:`eln_tui.cli.main.main` is the entry
point.
"""
