"""The people who use both services in the sandbox: their credentials and ids on each side."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Identity"]


@dataclass(frozen=True)
class Identity:
    """One user of both services: leadsync's integration account, or a person editing by hand."""

    name: str
    full_name: str
    email: str
    airtable_token: str
    airtable_user_id: str
    trello_key: str
    trello_token: str
    trello_member_id: str
    trello_username: str
