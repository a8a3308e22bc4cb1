"""Check digits of СНИЛС, ОГРН/ОГРНИП and ИНН (domain.md §10).

Each ``validate_*`` returns the normalised value (digits only) or raises
:class:`~eln_tui.core.errors.ValidationError` whose Russian message names the field;
``is_valid_*`` are the boolean forms.
"""

from __future__ import annotations

import re

from eln_tui.core.errors import ValidationError

# SNILS numbers up to 001-001-998 were issued before the checksum rule and are not checked.
SNILS_UNCHECKED_MAX = 1_001_998

_SEPARATORS = re.compile(r"[\s\-]")
_TRIPLE = re.compile(r"(\d)\1\1")


def _digits(value: str | None) -> str:
    return _SEPARATORS.sub("", value or "")


def is_digits(value: str | None, *lengths: int) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts other scripts), of one of ``lengths``."""
    if not value:
        return False
    return value.isascii() and value.isdigit() and len(value) in lengths


def snils_control(number9: str) -> int:
    """Control number (0..99) of the 9-digit SNILS body, per the Pension Fund rule."""
    if not is_digits(number9, 9):
        raise ValueError("SNILS body must be 9 digits")
    total = sum(int(d) * w for d, w in zip(number9, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def validate_snils(value: str | None, field: str = "СНИЛС") -> str:
    """Return the 11 SNILS digits; separators (``-`` and spaces) are accepted and dropped."""
    digits = _digits(value)
    if not is_digits(digits, 11):
        raise ValidationError(f"Поле «{field}» должно содержать 11 цифр.")
    body, control = digits[:9], int(digits[9:])
    if int(body) > SNILS_UNCHECKED_MAX and snils_control(body) != control:
        raise ValidationError(f"Поле «{field}» содержит неверное контрольное число СНИЛС.")
    return digits


def is_valid_snils(value: str | None) -> bool:
    try:
        validate_snils(value)
    except ValidationError:
        return False
    return True


def snils_warning(value: str | None, field: str = "СНИЛС") -> str | None:
    """Soft check some registries apply (a digit three times in a row); a warning, not an error."""
    digits = _digits(value)
    if len(digits) == 11 and _TRIPLE.search(digits[:9]):
        return (
            f"В поле «{field}» цифра повторяется три раза подряд; "
            "проверьте номер (некоторые реестры такие СНИЛС не принимают)."
        )
    return None


def ogrn_control(number: str) -> int:
    """Control digit of a 13-digit ОГРН or a 15-digit ОГРНИП."""
    if is_digits(number, 13):
        return int(number[:12]) % 11 % 10
    if is_digits(number, 15):
        return int(number[:14]) % 13 % 10
    raise ValueError("OGRN must be 13 or 15 digits")


def validate_ogrn(value: str | None, field: str = "ОГРН") -> str:
    """ОГРН (13 digits, starts with 1 or 5) or ОГРНИП (15 digits, starts with 3)."""
    digits = (value or "").strip()
    if not is_digits(digits, 13, 15):
        raise ValidationError(f"Поле «{field}» должно содержать 13 или 15 цифр.")
    if len(digits) == 13 and digits[0] not in "15":
        raise ValidationError(f"Поле «{field}»: ОГРН должен начинаться с цифры 1 или 5.")
    if len(digits) == 15 and digits[0] != "3":
        raise ValidationError(f"Поле «{field}»: ОГРНИП должен начинаться с цифры 3.")
    if ogrn_control(digits) != int(digits[-1]):
        raise ValidationError(f"Поле «{field}» содержит неверное контрольное число ОГРН.")
    return digits


def is_valid_ogrn(value: str | None) -> bool:
    try:
        validate_ogrn(value)
    except ValidationError:
        return False
    return True


_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def validate_inn(value: str | None, field: str = "ИНН") -> str:
    """ИНН of an organisation (10 digits) or of a person (12 digits) with its check digits."""
    digits = (value or "").strip()
    if not is_digits(digits, 10, 12):
        raise ValidationError(f"Поле «{field}» должно содержать 10 или 12 цифр.")
    if len(digits) == 10:
        ok = _inn_digit(digits, _INN10) == int(digits[9])
    else:
        ok = _inn_digit(digits, _INN12_1) == int(digits[10]) and _inn_digit(
            digits, _INN12_2
        ) == int(digits[11])
    if not ok:
        raise ValidationError(f"Поле «{field}» содержит неверное контрольное число ИНН.")
    return digits


def is_valid_inn(value: str | None) -> bool:
    try:
        validate_inn(value)
    except ValidationError:
        return False
    return True


def is_ln_code(value: str | None) -> bool:
    """ELN number: exactly 12 digits (XSD length 12, ФЛК rule 1)."""
    return is_digits(value, 12)
