"""The card's text: name, email and source flow from Airtable to the card's title and managed block,
only when they changed in Airtable since the base; a person's own title survives until the name
changes."""

from __future__ import annotations

from dataclasses import dataclass

from leadsync.core.block import DESC_LIMIT, card_title, merge_desc
from leadsync.core.draft import PlanDraft
from leadsync.core.ops import BaseUpdate, PairState, Report, ReportKind

__all__ = ["CardText", "card_text"]


@dataclass(frozen=True, slots=True)
class CardText:
    """The title and description to write (None: unchanged), and the base's new shown fields."""

    title: str | None
    description: str | None
    shown: BaseUpdate


def card_text(state: PairState, draft: PlanDraft) -> CardText | None:
    """What to write to the card's text; None when the shown fields did not change in Airtable, or the
    description is full (then reported)."""
    lead, base, card = state.lead, state.base, state.card
    if (lead.name, lead.email, lead.source) == (base.name, base.email, base.source):
        return None
    merged = merge_desc(card.desc, lead)
    if merged is None:
        reason = f"card description is full ({DESC_LIMIT} characters): block not updated"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id, card.id))
        return None
    title = card_title(lead.name)
    return CardText(
        title if lead.name != base.name and card.name != title else None,
        merged if merged != card.desc else None,
        BaseUpdate(name=lead.name, email=lead.email, source=lead.source),
    )
