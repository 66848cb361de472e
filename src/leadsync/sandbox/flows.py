"""Many flows in one sandbox (``leadsync sandbox --flows N``): a base and a board per flow, tokens shared.

Flow ``i`` gets its own Airtable base (a ``Leads`` table like the first one's; the documented limit of
5 requests a second holds per base) and its own Trello board (a list per status). Flows come in groups
of ``flows_per_token``: each group has an identity of its own, whose Airtable token and Trello key and
token serve the group's flows, so Trello's per-token limit (100 requests per 10 s) is shared within a
group, as it would be by flows on one Trello account. The person (the second identity) is a member of
every board. Every group's Trello key signs its webhooks with the one secret the sandbox prints as
``TRELLO_API_SECRET`` (a sandbox simplification: Trello gives each key its own).

:func:`provision_flows` returns the ``leadsync.toml`` text and the variables it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsync.sandbox.airtable.model import STATUS_CHOICES, AirtableWorld
from leadsync.sandbox.identities import Identity
from leadsync.sandbox.state import SandboxState
from leadsync.sandbox.trello.rows import ListRow

__all__ = ["ProvisionedFlow", "ProvisionedFlows", "provision_flows"]


@dataclass(frozen=True, slots=True)
class ProvisionedFlow:
    """One flow's base, board, lists and the group (of token sharers) it belongs to."""

    name: str
    base_id: str
    board_id: str
    list_ids: dict[str, str]
    group: int


@dataclass
class ProvisionedFlows:
    """Every provisioned flow, the mapping file naming them, and the variables that file names."""

    flows: list[ProvisionedFlow] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    toml: str = ""


def _group_identity(state: SandboxState, group: int) -> Identity:
    if group == 1:  # the first group is leadsync's own identity (the one the plain settings name)
        return state.leadsync
    name = f"leadsync{group}"
    if name not in state.identities:
        identity = state._make_identity(name, f"leadsync bot {group}", f"leadsync{group}@example.com")
        state.identities[name] = identity
        state.trello_secrets[identity.trello_key] = state.trello_secrets[state.leadsync.trello_key]
        for world in (state.airtable, *state.bases.values()):
            world.scopes[name] = set(world.scopes[state.leadsync.name])
            world.oauth_identities.add(name)
    return state.identities[name]


def provision_flows(state: SandboxState, count: int, *, flows_per_token: int = 2) -> ProvisionedFlows:
    """Add ``count`` flows to ``state`` (before it serves requests); the file and variables to use them."""
    result = ProvisionedFlows()
    sections: list[str] = []
    for i in range(1, count + 1):
        group = (i - 1) // max(1, flows_per_token) + 1
        identity = _group_identity(state, group)
        world = AirtableWorld(state)
        world.base_name = f"Leads {i:02d}"
        for name in state.identities:
            world.scopes.setdefault(name, set(world.scopes[state.leadsync.name]))
        state.bases[world.base_id] = world
        state.airtable.other_bases.append(
            {"id": world.base_id, "name": world.base_name, "permissionLevel": "create"}
        )
        board = state.trello.add_board(f"Leads {i:02d}", [identity, state.person])
        lists: dict[str, str] = {}
        for pos, status in enumerate(STATUS_CHOICES, start=1):
            row = ListRow(state.trello.new_id()[0], status, board.id, 16384.0 * pos)
            state.trello.lists[row.id] = row
            lists[status] = row.id
        flow = ProvisionedFlow(f"flow-{i:02d}", world.base_id, board.id, lists, group)
        result.flows.append(flow)
        suffix = "" if group == 1 else f"_{group}"
        result.variables.update(
            {
                f"AIRTABLE_API_KEY{suffix}": identity.airtable_token,
                f"TRELLO_API_KEY{suffix}": identity.trello_key,
                f"TRELLO_TOKEN{suffix}": identity.trello_token,
            }
        )
        sections.append(
            f'[[flow]]\nname = "{flow.name}"\n\n'
            f'[flow.airtable]\nbase = "{flow.base_id}"\ntable = "{world.table_name}"\n'
            f'token_env = "AIRTABLE_API_KEY{suffix}"\n\n'
            f'[flow.trello]\nboard = "{flow.board_id}"\nkey_env = "TRELLO_API_KEY{suffix}"\n'
            f'token_env = "TRELLO_TOKEN{suffix}"\n'
        )
    header = f"# {count} flows provisioned by 'leadsync sandbox --flows {count}' ({flows_per_token} per Trello token)\n\n"
    result.toml = header + "\n".join(sections)
    return result
