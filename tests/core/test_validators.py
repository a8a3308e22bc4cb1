"""SNILS, ОГРН/ОГРНИП and ИНН check digits against known numbers and the written rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eln_tui.core.domain.validators import (
    is_valid_inn,
    is_valid_ogrn,
    is_valid_snils,
    snils_control,
    snils_warning,
    validate_inn,
    validate_ogrn,
    validate_snils,
)
from eln_tui.core.errors import ElnError, ValidationError

# domain.md §10: the worked example and the SNILS of the FSS examples.
VALID_SNILS = ["11223344595", "12345394243", "12345618542", "00100199965"]
# Numbers up to 001-001-998 have no checksum rule: any control number is accepted.
UNCHECKED_SNILS = ["00100199800", "00100199899", "00000000100", "00100100042"]
INVALID_SNILS = ["11223344596", "12345394244", "00100199900", "1122334459", "112233445950", ""]

# The FSS examples (domain.md §10) and two public ОГРНИП.
VALID_OGRN = [
    "1027739443236",
    "1027500716143",
    "1021900520410",
    "1025401011833",
    "1023101681745",
    "304500116000157",
    "316861700133226",
]
INVALID_OGRN = [
    "1027739443237",  # wrong control digit
    "2027739443235",  # ОГРН must start with 1 or 5
    "104500116000157",  # ОГРНИП must start with 3
    "304500116000158",
    "102773944323",
    "10277394432361",
    "10277394432З6",  # Cyrillic З
]


def spec_control(body: str) -> int:
    """domain.md §10 read literally, independent of the implementation."""
    s = sum(int(d) * w for d, w in zip(body, [9, 8, 7, 6, 5, 4, 3, 2, 1], strict=True))
    if s < 100:
        return s
    if s in (100, 101):
        return 0
    r = s % 101
    return 0 if r == 100 else r


@pytest.mark.parametrize("snils", VALID_SNILS + UNCHECKED_SNILS)
def test_valid_snils(snils: str) -> None:
    assert validate_snils(snils) == snils
    assert is_valid_snils(snils)


@pytest.mark.parametrize("snils", INVALID_SNILS)
def test_invalid_snils(snils: str) -> None:
    assert not is_valid_snils(snils)
    with pytest.raises(ValidationError):
        validate_snils(snils)


def test_snils_worked_example() -> None:
    assert snils_control("112233445") == 95
    assert snils_control("123453942") == 43  # S = 144 -> 144 mod 101
    assert snils_control("123456185") == 42  # S = 143


def test_snils_separators_and_messages_name_the_field() -> None:
    assert validate_snils("112-233-445 95") == "11223344595"
    with pytest.raises(ValidationError) as err:
        validate_snils("11223344596", field="СНИЛС члена семьи")
    assert (
        err.value.message == "Поле «СНИЛС члена семьи» содержит неверное контрольное число СНИЛС."
    )
    assert isinstance(err.value, ElnError)
    with pytest.raises(ValidationError) as err:
        validate_snils("123")
    assert err.value.message == "Поле «СНИЛС» должно содержать 11 цифр."


@given(st.integers(min_value=1_001_999, max_value=999_999_999))
def test_snils_control_matches_the_written_rule(number: int) -> None:
    body = f"{number:09d}"
    control = spec_control(body)
    assert snils_control(body) == control
    assert is_valid_snils(f"{body}{control:02d}")
    assert not is_valid_snils(f"{body}{(control + 1) % 100:02d}")


def test_snils_special_sums() -> None:
    # S = 100 and S = 101 both give 00; find such bodies by search, check against the rule.
    bodies = [f"{n:09d}" for n in range(100_000_000, 100_100_000)]
    hits = {
        spec_control(b)
        for b in bodies
        if sum(int(d) * (9 - i) for i, d in enumerate(b)) in (100, 101)
    }
    assert hits == {0}
    body = next(b for b in bodies if sum(int(d) * (9 - i) for i, d in enumerate(b)) == 101)
    assert is_valid_snils(body + "00")


def test_snils_triple_repeat_is_a_warning_only() -> None:
    assert is_valid_snils("11122233372")
    assert snils_warning("11122233372") is not None
    assert snils_warning("11223344595") is None


@pytest.mark.parametrize("ogrn", VALID_OGRN)
def test_valid_ogrn(ogrn: str) -> None:
    assert validate_ogrn(ogrn) == ogrn


@pytest.mark.parametrize("ogrn", INVALID_OGRN)
def test_invalid_ogrn(ogrn: str) -> None:
    assert not is_valid_ogrn(ogrn)


def test_ogrn_messages_name_the_field() -> None:
    with pytest.raises(ValidationError) as err:
        validate_ogrn("1027739443237", field="ОГРН МО")
    assert err.value.message == "Поле «ОГРН МО» содержит неверное контрольное число ОГРН."
    with pytest.raises(ValidationError) as err:
        validate_ogrn("12345", field="ОГРН санатория или клиники НИИ")
    assert (
        err.value.message
        == "Поле «ОГРН санатория или клиники НИИ» должно содержать 13 или 15 цифр."
    )


@given(st.integers(min_value=10**11, max_value=10**12 - 1))
def test_ogrn_control_rule(first12: int) -> None:
    body = "1" + str(first12)[1:]
    control = int(body) % 11 % 10
    assert is_valid_ogrn(f"{body}{control}")
    assert not is_valid_ogrn(f"{body}{(control + 1) % 10}")


@pytest.mark.parametrize("inn", ["7707083893", "7736050003", "7830002293", "500100732259"])
def test_valid_inn(inn: str) -> None:
    assert validate_inn(inn) == inn


@pytest.mark.parametrize("inn", ["7707083894", "500100732258", "500100732269", "77070838", ""])
def test_invalid_inn(inn: str) -> None:
    assert not is_valid_inn(inn)
