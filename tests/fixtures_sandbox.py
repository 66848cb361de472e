"""Sandbox fixtures (owned by the sandbox core)."""
