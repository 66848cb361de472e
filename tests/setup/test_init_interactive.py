"""The interactive ``leadsync init`` at a real terminal (pexpect): a person types the tokens at hidden
prompts, picks the base and board from numbered lists, says yes to what init offers to create, and ends
with a setup that ``leadsync doctor`` passes."""

from __future__ import annotations

import sys

import pexpect

from tests.setup.conftest import Setup


def test_a_person_answers_init_at_its_prompts_and_gets_a_working_setup(empty: Setup) -> None:
    s = empty.settings
    env = empty.env(with_settings=False, NO_COLOR="1")  # the URLs only: every answer is typed
    child = pexpect.spawn(
        sys.executable, ["-m", "leadsync", "init"], cwd=str(empty.workdir), env=env, encoding="utf-8", timeout=60,
        dimensions=(50, 200),
    )  # fmt: skip
    try:
        child.expect("Airtable personal access token: ")
        child.sendline(s["AIRTABLE_API_KEY"])
        child.expect("Trello API key: ")
        child.sendline(s["TRELLO_API_KEY"])
        child.expect("Trello token: ")
        child.sendline(s["TRELLO_TOKEN"])
        child.expect(r"Lead tracking \(app")
        child.expect(r"Number \(1-1\) \[1\]: ")
        child.sendline("")
        child.expect(r"Table of leads \(an existing one, or a new name\) \[Leads\]: ")
        child.sendline("")
        child.expect(r"Create the table 'Leads' with the fields .*\? \[Y/n\]: ")
        child.sendline("y")
        child.expect("created Airtable table 'Leads'")
        child.expect(r"1\. Lead Tasks .*\(default\)")  # the board named like the one init would make
        child.expect(r"Number \(1-2\) \[1\]: ")
        child.sendline("")
        for name in ("NEW", "CONTACTED", "QUALIFIED", "LOST"):
            child.expect(rf"The board has no list '{name}'\. Create it\? \[Y/n\]: ")
            child.sendline("")
        child.expect(r"Done\S*: 5 created, 2 file")  # "Done" is bold
        child.expect(pexpect.EOF)
        transcript = (child.before or "") + str(child.buffer or "")
    finally:
        child.close()
    assert child.exitstatus == 0
    assert "leadsync doctor" in transcript
    board = (empty.workdir / "leadsync.toml").read_text()
    assert empty.settings["TRELLO_BOARD_ID"] in board
    doctor = empty.run("doctor")
    assert doctor.code == 0, doctor.output


def test_tokens_typed_at_init_are_never_echoed(empty: Setup) -> None:
    s = empty.settings
    env = empty.env(with_settings=False, NO_COLOR="1")
    child = pexpect.spawn(
        sys.executable, ["-m", "leadsync", "init"], cwd=str(empty.workdir), env=env, encoding="utf-8", timeout=60,
        dimensions=(50, 200),
    )  # fmt: skip
    seen: list[str] = []
    try:
        for prompt, secret in (
            ("Airtable personal access token: ", s["AIRTABLE_API_KEY"]),
            ("Trello API key: ", s["TRELLO_API_KEY"]),
            ("Trello token: ", s["TRELLO_TOKEN"]),
        ):
            child.expect(prompt)
            seen.append(child.before or "")
            child.sendline(secret)
        child.expect(r"Number \(1-1\) \[1\]: ")
        seen.append(child.before or "")
        child.sendcontrol("c")
        child.expect(pexpect.EOF)
        seen.append(child.before or "")
    finally:
        child.close()
    transcript = "".join(seen)
    for secret in empty.secrets():
        assert secret not in transcript
    assert not (empty.workdir / ".env").exists()  # stopped before the end: no file written
