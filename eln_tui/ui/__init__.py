"""The Textual terminal UI: a thin shell over eln_tui.core."""
