"""An ELN received from another МО (getLNData): its periods were signed there, not here.

Closing or continuing it must not ask for local signatures of periods FSS already accepted
(seed 000: «Закрыть ЭЛН из ЕИИС «Соцстрах»», «Продолжение ЭЛН из ЕИИС «Соцстрах»»).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from eln_tui.core.domain import lifecycle as lc
from eln_tui.core.domain.codes import JournalState, NumberState
from eln_tui.core.domain.model import Eln, Source
from eln_tui.core.errors import TransitionError
from eln_tui.core.storage import ElnStore
from tests.core import factories
from tests.core.conftest import CTX, People


def received() -> Eln:
    eln = factories.open_eln(ln_code="900000000777", source=Source.FSS, ln_state="010")
    for p in eln.treat_periods:
        p.sent = True
    return eln


def test_close_and_extend_a_received_eln_without_local_signatures() -> None:
    eln = received()
    closed = lc.close(eln, date(2024, 3, 16))
    assert closed.ln_result is not None and closed.ln_result.return_date_lpu == date(2024, 3, 16)
    extended = lc.add_period(
        eln,
        date(2024, 3, 16),
        date(2024, 3, 18),
        doctor="Иванов Иван Иванович",
        doctor_role="Врач-терапевт",
    )
    assert len(extended.treat_periods) == 2


def test_unsent_unsigned_period_still_blocks_closing() -> None:
    eln = factories.open_eln()
    with pytest.raises(TransitionError, match="подпишите ЭП врача период № 1"):
        lc.close(eln, date(2024, 3, 16))


def test_continue_a_received_eln(store: ElnStore, people: People) -> None:
    foreign = replace(received(), doctor_id=None)
    stored = store.store_received(foreign, people.operator.signer)
    assert lc.journal_state(stored) is JournalState.RECEIVED
    store.pool().add(["900000000900"])
    assert stored.id is not None
    old, new = store.continue_eln(
        stored.id, people.doctor.signer, ln_date=factories.TODAY, context=CTX
    )
    assert old.ln_result is not None and old.ln_result.next_ln_code == "900000000900"
    assert new.prev_ln_code == stored.ln_code and not new.primary_flag
    assert store.pool().get("900000000900").state is NumberState.RESERVED
    assert new.ln_date == factories.TODAY
    assert old.last_dt2 is not None and old.ln_result.other_state_dt == old.last_dt2 + timedelta(1)
