"""Property-based checks of the validators, the ФЛК and the JSON import.

Each property names what may come out: the validated value, a ``ValidationError`` /
``ElnJsonError`` / ``FlkFailed`` whose Russian text names the field, or a list of violations.
Anything else (a ``KeyError``, ``TypeError``, a traceback from the CLI) is a defect.
tests/core/test_robustness.py already runs random ELNs through ``flk.check``; here the ФЛК is
driven by ELNs that came through the JSON import and checked for the paths it reports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eln_tui.cli.main import EXIT_INTERNAL, main
from eln_tui.core.domain import flk
from eln_tui.core.domain.codes import Role
from eln_tui.core.domain.model import Eln, field_title
from eln_tui.core.domain.validators import (
    SNILS_UNCHECKED_MAX,
    validate_ogrn,
    validate_snils,
)
from eln_tui.core.errors import ElnError, FlkFailed, ValidationError
from eln_tui.core.exchange.eln_json import ElnJsonError, from_json, to_json
from eln_tui.core.storage import ElnStore, open_database, upgrade
from eln_tui.core.storage.db import database_proxy
from tests.core import factories

CYRILLIC = re.compile("[А-Яа-яЁё]")
CTX = flk.CheckContext(today=factories.TODAY)

# --- reference check digits, written from the rules (domain.md §10), not from the code ---------


def ref_snils_ok(digits: str) -> bool:
    if not (len(digits) == 11 and digits.isascii() and digits.isdigit()):
        return False
    if int(digits[:9]) <= SNILS_UNCHECKED_MAX:
        return True
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    while total > 101:
        total %= 101
    expected = 0 if total in (100, 101) else total
    return int(digits[9:]) == expected


def ref_ogrn_ok(digits: str) -> bool:
    if not (digits.isascii() and digits.isdigit()):
        return False
    if len(digits) == 13 and digits[0] in "15":
        return int(digits[:12]) % 11 % 10 == int(digits[12])
    if len(digits) == 15 and digits[0] == "3":
        return int(digits[:14]) % 13 % 10 == int(digits[14])
    return False


def snils_with_control(body: int) -> str:
    b = f"{body:09d}"
    for c in range(100):
        if ref_snils_ok(f"{b}{c:02d}"):
            return f"{b}{c:02d}"
    raise AssertionError("no control number")  # pragma: no cover


snils_bodies = st.integers(min_value=SNILS_UNCHECKED_MAX + 1, max_value=999_999_999)


@st.composite
def ogrns(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        head = draw(st.sampled_from("15")) + draw(st.text("0123456789", min_size=11, max_size=11))
        return head + str(int(head) % 11 % 10)
    head = "3" + draw(st.text("0123456789", min_size=13, max_size=13))
    return head + str(int(head) % 13 % 10)


def mutate_digits(value: str, data: st.DataObject) -> str:
    """One of: a digit changed, two digits swapped, a digit dropped or added."""
    kind = data.draw(st.sampled_from(["change", "swap", "drop", "add"]))
    i = data.draw(st.integers(0, len(value) - 1))
    if kind == "change":
        d = data.draw(st.sampled_from([c for c in "0123456789" if c != value[i]]))
        return value[:i] + d + value[i + 1 :]
    if kind == "swap":
        j = data.draw(st.integers(0, len(value) - 1))
        chars = list(value)
        chars[i], chars[j] = chars[j], chars[i]
        return "".join(chars)
    if kind == "drop":
        return value[:i] + value[i + 1 :]
    return value[:i] + data.draw(st.sampled_from("0123456789")) + value[i:]


def assert_field_named(exc: ElnError, field: str) -> None:
    assert f"«{field}»" in exc.message, exc.message
    assert CYRILLIC.search(exc.message)


@settings(max_examples=300, deadline=None)
@given(
    snils_bodies, st.sampled_from(["{}", "{0}-{1}-{2} {3}", "{0} {1} {2} {3}", "{0}-{1}-{2}-{3}"])
)
def test_valid_snils_in_any_layout_is_accepted(body: int, layout: str) -> None:
    s = snils_with_control(body)
    text = s if layout == "{}" else layout.format(s[:3], s[3:6], s[6:9], s[9:])
    assert validate_snils(text) == s


@settings(max_examples=400, deadline=None)
@given(snils_bodies, st.data())
def test_mutated_snils_is_judged_as_the_rule_says(body: int, data: st.DataObject) -> None:
    mutated = mutate_digits(snils_with_control(body), data)
    if ref_snils_ok(mutated):  # e.g. a swap of equal digits, or a collision of the mod-101 rule
        assert validate_snils(mutated, "СНИЛС пациента") == mutated
        return
    with pytest.raises(ValidationError) as info:
        validate_snils(mutated, "СНИЛС пациента")
    assert_field_named(info.value, "СНИЛС пациента")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_any_text_as_snils_gives_value_or_russian_error(value: str) -> None:
    try:
        result = validate_snils(value, "СНИЛС")
    except ValidationError as exc:
        assert_field_named(exc, "СНИЛС")
    else:
        assert ref_snils_ok(result)


@settings(max_examples=300, deadline=None)
@given(ogrns())
def test_valid_ogrn_and_ogrnip_are_accepted(value: str) -> None:
    assert validate_ogrn(value) == value
    assert validate_ogrn(f"  {value} ") == value


@settings(max_examples=400, deadline=None)
@given(ogrns(), st.data())
def test_mutated_ogrn_is_judged_as_the_rule_says(value: str, data: st.DataObject) -> None:
    mutated = mutate_digits(value, data)
    if ref_ogrn_ok(mutated):  # mod 11 % 10 folds residue 10 onto 0: some changes survive
        assert validate_ogrn(mutated, "ОГРН МО") == mutated
        return
    with pytest.raises(ValidationError) as info:
        validate_ogrn(mutated, "ОГРН МО")
    assert_field_named(info.value, "ОГРН МО")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20) | st.text("0123456789١٢٣４５", min_size=13, max_size=15))
def test_any_text_as_ogrn_gives_value_or_russian_error(value: str) -> None:
    try:
        result = validate_ogrn(value, "ОГРН")
    except ValidationError as exc:
        assert_field_named(exc, "ОГРН")
    else:
        assert ref_ogrn_ok(result)


def test_mutations_are_mostly_caught() -> None:
    """The properties above would pass for a validator accepting everything the reference
    accepts; make sure the reference itself refuses nearly every one-digit change."""
    base = snils_with_control(112233445)
    changed = [base[:i] + d + base[i + 1 :] for i in range(11) for d in "0123456789"]
    refused = [c for c in changed if c != base and not ref_snils_ok(c)]
    assert len(refused) >= 95
    for c in refused:
        with pytest.raises(ValidationError):
            validate_snils(c)


# --- JSON import ------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["2024-03-11", "2024-02-30", "2024-03-11T10:00:00", "01", "1", "", "\x00"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _valid_json() -> dict[str, Any]:
    data = to_json(factories.valid_eln(ln_code=None, number_from_pool=False))
    for key in ("id", "version", "ln_state", "ln_hash", "source", "transfer_error", "last_sent_at",
                "termination", "mse_sent", "number_from_pool"):  # fmt: skip
        data.pop(key, None)

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in {"sent", "signature",
                    "doctor_signature", "chairman_signature"}}  # fmt: skip
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(data)  # type: ignore[no-any-return]


VALID_JSON = _valid_json()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Another value of the same JSON type (dates as strings stay date-like)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(min_value=-5, max_value=2**63)
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return st.dates().map(date.isoformat) | st.from_regex(r"\A\d{4}-\d\d-\d\d\Z")
    if isinstance(value, str):
        return (
            st.text(max_size=300)
            | st.text("0123456789", max_size=16)
            | st.sampled_from(["Пет\x00ров", "\ud800", "a\x1bb", "\ufffe", "😷 Иванов"])
        )
    return json_values


@st.composite
def eln_documents(draw: st.DrawFn) -> Any:
    """A valid ELN's JSON with a few changes: values replaced, keys dropped or invented."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    doc = json.loads(json.dumps(VALID_JSON))
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        action = draw(st.sampled_from(["same-type", "same-type", "replace", "drop", "add"]))
        if action == "same-type":
            parent[path[-1]] = draw(_like(parent[path[-1]]))
        elif action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            name = draw(st.sampled_from(["sent", "signature", "ln_hash", "x", "id", "Ln_Code"]))
            parent[name] = draw(json_values)
    return doc


def _walk(eln: Eln, path: str) -> None:
    """Resolve a violation's field path on the ELN (raises if it names nothing)."""
    obj: Any = eln
    for part in path.split("."):
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", part)
        assert m, path
        assert dataclasses.is_dataclass(obj) or obj is None, path
        names = {f.name for f in dataclasses.fields(obj)} if obj is not None else set()
        assert obj is None or m[1] in names, path
        obj = getattr(obj, m[1], None)
        if m[2] is not None and obj is not None:
            obj = obj[int(m[2])] if int(m[2]) < len(obj) else None


@settings(max_examples=1000, deadline=None)
@given(eln_documents())
def test_json_import_gives_an_eln_or_a_named_field(doc: Any) -> None:
    try:
        eln = from_json(doc)
    except ElnJsonError as exc:
        assert CYRILLIC.search(exc.message)
        return
    try:
        warnings = flk.ensure_valid(eln, CTX)
    except FlkFailed as exc:
        found = exc.violations
        assert found and exc.message
    else:
        found = warnings
    for v in found:
        assert v.rule_id in flk.RULES and CYRILLIC.search(v.message), v
        _walk(eln, v.field)
        assert field_title(v.field)
        for f in v.fields:
            _walk(eln, f)


def test_the_valid_document_passes() -> None:
    """The base of the generator is valid, so the mutations test the checks, not a broken base."""
    eln = from_json(VALID_JSON)
    eln.ln_code = factories.LN_CODE
    assert flk.errors(flk.check(eln, CTX)) == []


# --- the `eln ln import` path -----------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def import_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("import")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/eln.sqlite3"
    else:
        url = request.getfixturevalue("pg_schema_url")
    db = open_database(url)
    upgrade(db)
    store = ElnStore(db)
    doctor = store.add_user("ivanov", "Иванов Иван Иванович", [Role.DOCTOR])
    store.add_user("nurse", "Кузнецова Мария Ивановна", [Role.NURSE])
    store.pool().add([f"{900_000_000_000 + i:012d}" for i in range(1, 2001)], ogrn=factories.OGRN)
    db.close()
    database_proxy.initialize(None)
    config = tmp / "workstation.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    yield tmp, config, doctor.id
    database_proxy.initialize(None)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(doc=eln_documents(), raw=st.none() | st.binary(max_size=40))
def test_eln_ln_import_never_fails_internally(
    import_env: Any, monkeypatch: pytest.MonkeyPatch, doc: Any, raw: bytes | None
) -> None:
    tmp, config, doctor_id = import_env
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp / "none.toml"))
    if isinstance(doc, dict) and isinstance(doc.get("treat_periods"), list):
        for p in doc["treat_periods"]:
            if isinstance(p, dict) and "doctor_id" in p:
                p["doctor_id"] = doctor_id
    path = Path(tmp) / "eln.json"
    path.write_bytes(raw if raw is not None else json.dumps(doc).encode())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["ln", "import", str(path), "--user", "nurse", "--json"])
    database_proxy.initialize(None)
    text = err.getvalue()
    assert code != EXIT_INTERNAL and "внутренняя ошибка" not in text, text
    assert "Traceback" not in text
    if code == 0:
        assert json.loads(out.getvalue())["action"] in ("создан", "обновлён")
    else:
        assert text.startswith("eln: ") and text.count("\n") == 1 and CYRILLIC.search(text), text


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2023, 1, 1), max_value=date(2025, 12, 31)), st.booleans())
def test_flk_on_a_valid_eln_never_raises_for_any_day(today: date, sigs: bool) -> None:
    """Only the date-dependent rules may fire as the day moves; none crashes."""
    eln = factories.valid_eln()
    ctx = flk.CheckContext(today=today, send_date=today, check_signatures=sigs)
    for v in flk.check(eln, ctx):
        _walk(eln, v.field)


@pytest.mark.parametrize("key", ["doctor_id", "patient_id"])
@pytest.mark.parametrize("value", [0, -1, 99_999, 2**31, 2**63, 2**70])
def test_ids_that_name_nobody_are_refused_by_name(
    import_env: Any, monkeypatch: pytest.MonkeyPatch, key: str, value: int
) -> None:
    """Found by the property above: an unknown doctor_id ended in a foreign-key crash."""
    tmp, config, doctor_id = import_env
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp / "none.toml"))
    doc = json.loads(json.dumps(VALID_JSON))
    doc["treat_periods"][0]["doctor_id"] = doctor_id
    doc[key] = value
    path = Path(tmp) / "ids.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["ln", "import", str(path), "--user", "nurse"])
    database_proxy.initialize(None)
    assert code == 2 and f"«{key}»" in err.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "text", ["[" * 100_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000]
)
def test_deeply_nested_json_is_one_sentence(
    import_env: Any, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    """Found here: Python's json gives up with RecursionError, which ended as an internal
    error (exit 70) of `eln ln import` / `eln ln validate`."""
    tmp, config, _ = import_env
    monkeypatch.setenv("ELN_WORKSTATION_CONFIG", str(config))
    monkeypatch.setenv("ELN_USER_CONFIG", str(tmp / "none.toml"))
    path = Path(tmp) / "deep.json"
    path.write_text(text, encoding="utf-8")
    for command in (["ln", "import", str(path), "--user", "nurse"], ["ln", "validate", str(path)]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(command)
        database_proxy.initialize(None)
        assert code == 2 and "вложенность" in err.getvalue(), err.getvalue()


def test_the_signing_agent_protocol_refuses_deep_json() -> None:
    import socket
    import struct

    from providers import protocol
    from providers.errors import ProviderError

    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        body = b"[" * 200_000
        a.sendall(struct.pack(">I", len(body)) + body)
        with pytest.raises(ProviderError) as info:
            protocol.recv_message(b)
        assert isinstance(info.value, protocol.ProtocolError) and "протокол" in info.value.message


def test_the_emulators_admin_endpoint_refuses_deep_json(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    from fss_emulator import Emulator

    with Emulator(tmp_path / "fss") as emu:
        req = urllib.request.Request(  # noqa: S310 - loopback
            f"{emu.base_url}/_emulator/faults", data=b"[" * 100_000, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(req, timeout=10)  # noqa: S310 - loopback
        assert info.value.code == 400
