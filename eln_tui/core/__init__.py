"""UI-free core of the ELN workstation: domain model, ФЛК, lifecycle and storage.

Nothing under ``eln_tui.core`` may import Textual; the UI is a thin shell over this package.
"""
