"""Modal dialogs; each carries its own default CSS (frogmouth style)."""
