"""ФЛК and lifecycle never crash on odd input, and the core never pulls in Textual."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from eln_tui.core.domain import flk, lifecycle
from eln_tui.core.domain.codes import REASONS, V11, V20
from eln_tui.core.domain.model import (
    CareRecord,
    Eln,
    Employer,
    Gender,
    HospitalBreach,
    LnResult,
    Lpu,
    Patient,
    TreatPeriod,
)

dates = st.none() | st.dates(min_value=date(2023, 1, 1), max_value=date(2024, 12, 31))
codes = st.none() | st.sampled_from(
    [
        "",
        "01",
        "05",
        "08",
        "09",
        "12",
        "017",
        "018",
        "020",
        "31",
        "32",
        "34",
        "38",
        "39",
        "99",
        "ПРЕД ВК",
    ]
)
texts = st.none() | st.text(max_size=70)
digits = st.none() | st.text(alphabet="0123456789", min_size=10, max_size=16)

periods = st.builds(
    TreatPeriod,
    dt1=dates,
    dt2=dates,
    doctor=texts,
    doctor_role=texts,
    chairman=texts,
    chairman_role=st.none() | st.just("ПРЕД ВК") | texts,
)
elns = st.builds(
    Eln,
    ln_code=digits,
    written_agreement_flag=st.booleans(),
    patient=st.builds(
        Patient,
        snils=digits,
        surname=texts,
        name=texts,
        birthday=dates,
        gender=st.none() | st.sampled_from(Gender),
    ),
    employer=st.builds(Employer, name=texts),
    lpu=st.builds(Lpu, name=texts, address=texts, ogrn=digits),
    primary_flag=st.booleans(),
    prev_ln_code=digits,
    duplicate_flag=st.booleans(),
    ln_date=dates,
    reason1=codes,
    reason2=codes,
    date1=dates,
    date2=dates,
    voucher_no=texts,
    voucher_ogrn=digits,
    serv_data=st.lists(
        st.builds(
            CareRecord,
            relation_code=codes,
            dt1=dates,
            dt2=dates,
            reason1=codes,
            treatment_type=codes,
            snils=digits,
        ),
        max_size=3,
    ),
    pregn12w_flag=st.none() | st.booleans(),
    hospital_dt1=dates,
    hospital_dt2=dates,
    hospital_breach=st.none() | st.builds(HospitalBreach, code=codes, dt=dates),
    mse_dt1=dates,
    mse_invalid_group=st.none() | st.sampled_from(["1", "2", "3", "9", "7"]),
    treat_periods=st.lists(periods, max_size=4),
    ln_result=st.none()
    | st.builds(
        LnResult, return_date_lpu=dates, mse_result=codes, other_state_dt=dates, next_ln_code=digits
    ),
)


@settings(max_examples=300, deadline=None)
@given(elns, st.sampled_from([V11, V20]), dates, st.booleans())
def test_flk_never_crashes(eln: Eln, version: str, send: date | None, sigs: bool) -> None:
    ctx = flk.CheckContext(
        today=date(2024, 6, 1), version=version, send_date=send, check_signatures=sigs
    )
    found = flk.check(eln, ctx)
    for v in found:
        assert v.rule_id in flk.RULES and v.message and "{" not in v.message
    lifecycle.journal_state(eln)


def test_reason_table_is_complete() -> None:
    assert [c.code for c in REASONS] == [f"{n:02d}" for n in range(1, 16)]


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, eln_tui.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'eln_tui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'textual' or n.startswith(('textual.', "
        "'eln_tui.ui')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
