"""The dashboard in real Chromium against a real ``leadsync serve`` and the sandbox: logging in, live
activity, settling a ``manual`` conflict by a click, "Sync now", and the login limit as a person sees it.

Each test photographs the pages it shows (see ``screenshot_dir``): the README's pictures come from here.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from leadsync.sandbox.person import Person
from tests.dashboard.conftest import open_dashboard, screenshot_dir, serve_dashboard
from tests.fixtures_sandbox import Leadsync
from tests.fixtures_server import Served, wait_until


def lead_status(person: Person, lead_id: str) -> str | None:
    lead = next(r for r in person.leads() if r["id"] == lead_id)
    value = lead["fields"].get("Status")
    return str(value) if value else None


def card_status(person: Person, lead_id: str) -> str | None:
    cards = [c for c in person.cards() if f"Lead ID: {lead_id}" in c["desc"]]
    return person.status_of_list(cards[0]["idList"]) if len(cards) == 1 else None


def snap(page: Page, tmp_path: Path, name: str) -> None:
    folder = screenshot_dir(tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 1000


def sync_now(page: Page) -> None:
    page.goto("/")
    page.click("section[data-flow=default] button:has-text('Sync now')")
    expect(page.locator(".notice")).to_contain_text("A full cycle of flow default is queued")


def test_logging_in_shows_every_flow(board: Served, browser: Browser, tmp_path: Path) -> None:
    page = open_dashboard(browser, board.url)
    flow = page.locator("section[data-flow=default]")
    expect(flow.locator("h2")).to_have_text("Flow default")
    expect(flow.locator(".state")).to_have_text("idle")
    expect(flow.locator("svg.chart")).to_be_visible()
    phone = open_dashboard(browser, board.url, phone=True)
    expect(phone.locator("section[data-flow=default] .state")).to_be_visible()
    snap(phone, tmp_path, "overview-phone")
    phone.click("text=Log out")
    phone.wait_for_url(f"{board.url}/login")
    phone.goto("/activity")
    assert phone.url.endswith("/login")  # logged out: no page any more


def test_a_persons_edit_appears_in_the_activity_page_without_a_reload(
    leadsync: Leadsync, person: Person, browser: Browser, tmp_path: Path
) -> None:
    server = serve_dashboard(leadsync, webhooks=True)
    try:
        page = open_dashboard(browser, server.url)
        page.goto("/activity")
        page.evaluate("window.stillTheSamePage = true")
        lead = person.add_lead("Grace Hopper", email="grace@example.com", status="NEW")
        created = page.locator("tr", has_text="Grace Hopper").filter(has_text="created")
        expect(created).to_be_visible()
        expect(created).to_contain_text("Airtable → Trello")
        expect(created).to_contain_text("in list 'NEW'")  # the list's name, not its id
        wait_until(lambda: card_status(person, lead) == "NEW")
        person.move_card(person.card_for(lead)["id"], "QUALIFIED")
        moved = page.locator("tr", has_text="Grace Hopper").filter(has_text="Trello → Airtable")
        expect(moved).to_be_visible()
        expect(moved).to_contain_text("Status -> QUALIFIED")
        assert page.evaluate("window.stillTheSamePage") is True  # no reload happened
        card = person.card_for(lead)["id"]
        expect(page.locator(f"a[href='https://trello.com/c/{card}']").first).to_be_visible()
        snap(page, tmp_path, "activity")
        page.goto("/")
        expect(page.locator("section[data-flow=default] .facts")).to_contain_text("Webhook: Trello")
        snap(page, tmp_path, "overview")
        page.goto("/leads")
        page.fill("input[name=q]", "grace@")
        page.click("button:has-text('Search')")
        expect(page.locator("td", has_text="grace@example.com")).to_be_visible()
        snap(page, tmp_path, "leads")
        page.click("a:has-text('Grace Hopper')")
        expect(page.locator("h1")).to_have_text("Grace Hopper")
        expect(page.locator("table")).to_contain_text("Status -> QUALIFIED")
        snap(page, tmp_path, "lead")
    finally:
        server.stop()


def test_sync_now_runs_a_full_cycle(board: Served, person: Person, browser: Browser) -> None:
    page = open_dashboard(browser, board.url)
    cycles = board.health()["worker"]["cycles"]
    lead = person.add_lead("Ada Lovelace", status="NEW")  # no webhook: only a cycle brings its card
    sync_now(page)
    wait_until(lambda: card_status(person, lead) == "NEW", timeout=30)
    assert board.health()["worker"]["cycles"] > cycles
    # The overview refreshes itself: the cycle's count shows up without a reload.
    expect(page.locator("section[data-flow=default] .facts")).to_contain_text("created 1", timeout=15_000)


def test_a_manual_conflict_settled_by_a_click_reaches_both_sides(
    leadsync: Leadsync, person: Person, browser: Browser, tmp_path: Path
) -> None:
    server = serve_dashboard(leadsync, webhooks=False, LEADSYNC_CONFLICT_POLICY="manual")
    try:
        page = open_dashboard(browser, server.url)
        lead = person.add_lead("Katherine Johnson", email="kj@example.com", status="NEW")
        sync_now(page)
        wait_until(lambda: card_status(person, lead) == "NEW", timeout=30)
        person.edit_lead(lead, Status="QUALIFIED")
        person.move_card(person.card_for(lead)["id"], "CONTACTED")
        sync_now(page)
        conflict = page.locator(f"section.conflict[data-lead={lead}]")

        def shown() -> bool:
            page.goto("/conflicts")
            return conflict.count() == 1

        wait_until(shown, timeout=30, interval=0.5)
        expect(conflict).to_contain_text("QUALIFIED")
        expect(conflict).to_contain_text("CONTACTED")
        snap(page, tmp_path, "conflicts")
        conflict.locator("button:has-text('Keep Trello')").click()
        expect(page.locator(".notice")).to_contain_text(f"Settled the conflict of lead {lead}")
        wait_until(lambda: lead_status(person, lead) == "CONTACTED", timeout=30)
        assert card_status(person, lead) == "CONTACTED"
        page.goto("/conflicts")
        expect(page.locator("table")).to_contain_text("manual: kept trello")
        expect(page.locator("section.conflict")).to_have_count(0)
    finally:
        server.stop()


def test_a_wrong_password_is_refused_then_rate_limited(
    board: Served, browser: Browser, tmp_path: Path
) -> None:
    page = browser.new_context(base_url=board.url).new_page()
    page.goto("/login")
    snap(page, tmp_path, "login")
    for _ in range(5):
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit]")
        expect(page.locator(".notice")).to_have_text("Wrong password.")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.locator(".notice")).to_contain_text("Too many login attempts")
    page.goto("/")
    assert page.url.endswith("/login")
