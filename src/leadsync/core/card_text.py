"""The card's text: name, email, source and the block's extra fields flow from Airtable to the card's
title and managed block, only when they changed in Airtable since the base; a person's own title
survives until the title the lead gives changes."""

from __future__ import annotations

from dataclasses import dataclass

from leadsync.core.block import DESC_LIMIT, lead_title, merge_desc
from leadsync.core.draft import PlanDraft
from leadsync.core.ops import BaseUpdate, PairState, Report, ReportKind
from leadsync.core.values import Lead, MergeBase

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
    if _shown(lead) == _shown(base):
        return None
    merged = merge_desc(card.desc, lead)
    if merged is None:
        reason = f"card description is full ({DESC_LIMIT} characters): block not updated"
        draft.reports.append(Report(ReportKind.SKIPPED, reason, lead.id, card.id))
        return None
    title = lead_title(lead)
    title_changed = (lead.name, lead.title) != (base.name, base.title)
    return CardText(
        title if title_changed and card.name != title else None,
        merged if merged != card.desc else None,
        BaseUpdate(
            name=lead.name,
            email=lead.email,
            source=lead.source,
            title=lead.title if lead.title != base.title else None,
            extra=lead.extra if lead.extra != base.extra else None,
        ),
    )


def _shown(side: Lead | MergeBase) -> tuple[object, ...]:
    """What the card shows of a lead: compared between the lead and the base."""
    return (side.name, side.email, side.source, side.title, side.extra)
