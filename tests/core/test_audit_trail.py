"""ElnStore.audit_trail filters and keyset paging (the audit screen), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from eln_tui.core.domain.codes import TERMINATION_CANCEL
from eln_tui.core.storage import ElnStore
from tests.core.conftest import People, make_saved_eln

T0 = datetime(2024, 3, 11, 8, 0, tzinfo=UTC)


def test_filters_and_paging_newest_first(store: ElnStore, people: People) -> None:
    now = [T0]
    store.clock = lambda: now[0]
    first = make_saved_eln(store, people)
    now[0] = T0 + timedelta(days=2)
    second = make_saved_eln(store, people)
    store.terminate(second.id, people.doctor.signer, TERMINATION_CANCEL)  # type: ignore[arg-type]

    everything = store.audit_trail()
    assert [r.id for r in everything] == sorted(r.id for r in everything)  # default: oldest first
    newest = store.audit_trail(newest_first=True)
    assert [r.id for r in newest] == [r.id for r in reversed(everything)]

    # keyset paging: pages of 2 walk the whole trail newest first without repeats
    seen: list[int] = []
    before = None
    while True:
        page = store.audit_trail(newest_first=True, before=before, limit=2)
        if not page:
            break
        seen += [r.id for r in page]
        before = page[-1].id
    assert seen == [r.id for r in newest]

    by_login = store.audit_trail(login=people.doctor.login)
    assert [r.action for r in by_login] == ["terminate"]
    assert {r.login for r in store.audit_trail(login=people.nurse.login)} == {people.nurse.login}

    assert [r.ln_code for r in store.audit_trail(action="terminate")] == [second.ln_code]
    assert {r.ln_code for r in store.audit_trail(ln_code=first.ln_code, entity="eln")} == {
        first.ln_code
    }

    day1 = store.audit_trail(since=T0 - timedelta(hours=1), until=T0 + timedelta(days=1))
    assert day1 and all(r.at < T0 + timedelta(days=1) for r in day1)
    assert second.ln_code not in {r.ln_code for r in day1}
    later = store.audit_trail(since=T0 + timedelta(days=1))
    assert later and all(r.at >= T0 + timedelta(days=1) for r in later)
    assert {r.id for r in day1} | {r.id for r in later} == {r.id for r in everything}
