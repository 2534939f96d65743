"""Placeholder: filled in by the module-system change."""
