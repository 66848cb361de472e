"""Database fixtures (owned by the store work)."""
