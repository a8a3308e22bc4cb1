"""Screens of the ELN UI: desks (top-level, see :mod:`eln_tui.ui.registry`) and the editor."""
