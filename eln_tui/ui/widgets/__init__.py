"""Reusable widgets of the ELN UI."""
