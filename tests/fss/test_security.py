"""Every way a reply can be bad ends in one precise error, no result and a journal record;
retries only for read-only operations; the journal holds clear forms and no secrets.

The bad replies come from the Fund's emulator (``fss_emulator``) through its fault injection,
over a real socket."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import date

import pytest

from eln_tui.core.fss import (
    ExchangeRecord,
    FssClient,
    FssConfig,
    FssFault,
    FssServiceError,
    FssTimeout,
    FssTransportError,
    Operation,
    Outcome,
    ReplayError,
    ReplyDecryptError,
    ReplySignatureError,
)
from fss_emulator import Emulator
from gostsign.testpki import Pki
from tests.fss import elns
from tests.fss.conftest import SoftKey

SNILS = "12345394243"
MakeClient = Callable[..., tuple[FssClient, list[ExchangeRecord]]]
FAULT_TEXT = (
    "ru.fss.integration.ws.fault.v01.InternalException: Не удалось расшифровать сообщение. "
    "Возможно сообщение зашифровано на ключе отличном от ключа уполномоченного лица ФСС."
)


def still_works(client: FssClient, emulator: Emulator) -> None:
    """After a failure the client has no stuck state: the next exchange succeeds."""
    emulator.clear_faults()
    assert client.get_new_ln_num().number is not None


@pytest.mark.parametrize(
    ("fault", "error", "text"),
    [
        ("unsigned", ReplySignatureError, "не подписан"),
        ("stranger", ReplySignatureError, "а не сертификатом уполномоченного лица СФР"),
        ("corrupt", ReplyDecryptError, "не удалось расшифровать"),
        ("plain", ReplyDecryptError, "незашифрованным"),
    ],
)
def test_bad_replies_are_refused_precisely(
    make_client: MakeClient, emulator: Emulator, fault: str, error: type[Exception], text: str
) -> None:
    client, records = make_client()
    emulator.inject(fault)  # type: ignore[arg-type]
    with pytest.raises(error, match=text) as info:
        client.get_new_ln_num_range(3)
    exc = info.value
    assert exc.message == str(exc)  # type: ignore[attr-defined]
    (record,) = records
    assert record.outcome is Outcome.ERROR
    assert record.error == exc.message  # type: ignore[attr-defined]
    assert record.error_type == type(exc).__name__
    assert record.http_status == 200 and record.response  # what arrived is kept
    assert emulator.store.numbers() == []  # the Fund kept nothing of it (commit=False)
    still_works(client, emulator)


def test_a_reply_of_another_operation_is_refused(
    make_client: MakeClient, emulator: Emulator
) -> None:
    client, records = make_client()
    client.get_ln_list_by_snils(SNILS)
    emulator.inject("replay")  # no earlier getNewLNNumRange reply: the getLNListBySnils one
    with pytest.raises(ReplayError, match="другой операции"):
        client.get_new_ln_num_range(3)
    assert [r.outcome for r in records] == [Outcome.OK, Outcome.ERROR]
    still_works(client, emulator)


def test_replayed_reply_is_refused(make_client: MakeClient, emulator: Emulator) -> None:
    client, records = make_client()
    first = client.get_new_ln_num_range(2)
    emulator.inject("replay")  # the previous reply again (re-encrypted): a valid Fund signature
    with pytest.raises(ReplayError, match="повторяет ранее полученный"):
        client.get_new_ln_num_range(2)
    assert [r.outcome for r in records] == [Outcome.OK, Outcome.ERROR]
    still_works(client, emulator)
    assert first.numbers  # the first result stands; nothing of the replay was used


def test_clear_fault_gives_the_funds_text(make_client: MakeClient, emulator: Emulator) -> None:
    client, records = make_client()
    emulator.inject("soap_fault", message=FAULT_TEXT, code="E_0000")
    with pytest.raises(FssFault) as info:
        client.get_ln_data("900000000101", SNILS)  # read-only, yet a Fault is not retried
    fault = info.value
    assert fault.text == FAULT_TEXT and fault.code == "E_0000"
    assert fault.faultcode == "S:Server" and fault.http_status == 500
    assert fault.uuid is not None and len(fault.uuid) == 36
    assert fault.message == f"Сервис СФР сообщает: {FAULT_TEXT}"
    (record,) = records
    assert record.outcome is Outcome.FAULT and record.response_clear
    assert record.response is not None and b"internalFault" in record.response
    still_works(client, emulator)


def test_status_zero(make_client: MakeClient, emulator: Emulator, pki: Pki) -> None:
    client, records = make_client()
    with pytest.raises(FssServiceError, match="СФР отказал в выполнении запроса: ЭЛН"):
        client.get_ln_data("900000000101", SNILS)  # the Fund does not know it
    ogrn = client.config.ogrn
    result = client.pr_parse_filelnlpu([elns.row_input(elns.new_eln("900000000201", ogrn), pki)])
    assert result.status == 0 and not result.ok  # returned: its rows say what failed
    (row,) = result.rows
    assert row.ln_code == "900000000201" and not row.ok and "не выдавался" in row.errors[0].message
    assert all(r.outcome is Outcome.OK for r in records)  # the exchange itself worked


def test_ln_data_of_another_eln_is_refused(make_client: MakeClient, emulator: Emulator) -> None:
    first, _ = make_client()
    ogrn = first.config.ogrn
    emulator.seed_eln("900000000999", SNILS, ogrn)
    emulator.seed_eln("900000000101", SNILS, ogrn)
    first.get_ln_data("900000000999", SNILS)
    emulator.inject("replay")  # the Fund answers with the getLNData reply of the other ELN
    other, _ = make_client()  # another workstation: no memory of the first reply
    with pytest.raises(ReplayError, match="прислал данные ЭЛН 900000000999"):
        other.get_ln_data("900000000101", SNILS)


# -- transport: a real socket ------------------------------------------------------------------


def test_http_500_is_retried_only_for_read_only_operations(
    make_client: MakeClient, emulator: Emulator
) -> None:
    client, records = make_client(retries=2)
    emulator.inject("http500", times=None)
    with pytest.raises(FssTransportError, match="HTTP 500") as info:
        client.get_ln_list_by_snils(SNILS)
    assert info.value.http_status == 500
    assert len(emulator.faults.fired) == 3
    assert [r.attempt for r in records] == [1, 2, 3]
    assert len({r.request_nonce for r in records}) == 1  # the same message each time
    not_repeated: list[Callable[[], object]] = [
        lambda: client.get_new_ln_num_range(2),
        lambda: client.get_new_ln_num(),
        lambda: client.disable_ln("900000000101", SNILS, "010", "x"),
        lambda: client.pr_parse_file_numberslpu(["900000000101"]),
    ]
    for op_call in not_repeated:
        hits = len(emulator.faults.fired)
        with pytest.raises(FssTransportError):
            op_call()
        assert len(emulator.faults.fired) == hits + 1  # never repeated automatically
    still_works(client, emulator)


def test_a_transient_failure_of_a_read_is_overcome(
    make_client: MakeClient, emulator: Emulator
) -> None:
    client, records = make_client(retries=2)
    emulator.inject("http500", status=503)  # once, then the Fund answers normally
    result = client.get_ln_list_by_date(date.today())
    assert result.status == 1
    assert [(r.attempt, r.outcome) for r in records] == [(1, Outcome.ERROR), (2, Outcome.OK)]
    assert records[0].http_status == 503


def test_delay_beyond_the_timeout(make_client: MakeClient, emulator: Emulator) -> None:
    client, records = make_client(read_timeout=0.5, retries=1)
    emulator.inject("delay", seconds=1.5, times=None)
    with pytest.raises(FssTimeout, match=r"не ответил за 0\.5 с"):
        client.get_new_ln_num()
    assert len(records) == 1 and records[0].response is None
    with pytest.raises(FssTimeout):
        client.get_ln_data("900000000101", SNILS)
    assert len(records) == 3  # read-only: one retry
    emulator.clear_faults()
    # the exchange after a timeout is a normal one (a fresh, patient client: the emulator's
    # abandoned slow answers may still be on their way)
    patient, _ = make_client()
    still_works(patient, emulator)


def test_no_connection(make_config: Callable[..., FssConfig], mo_key: SoftKey) -> None:
    client = FssClient(make_config(url="http://127.0.0.1:9/x", retries=0), mo_key)
    with pytest.raises(FssTransportError, match="Нет связи с сервисом СФР") as info:
        client.get_new_ln_num()
    assert info.value.http_status is None and not isinstance(info.value, FssTimeout)


def test_concurrent_calls_from_threads(make_client: MakeClient) -> None:
    client, _ = make_client()
    results: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(client.get_ln_list_by_snils(SNILS))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 6
    assert len({r.request_id for r in results}) == 6  # type: ignore[attr-defined]


# -- the journal ---------------------------------------------------------------------------------


def test_journal_records_clear_forms_and_no_secrets(
    make_client: MakeClient, emulator: Emulator, pki: Pki
) -> None:
    client, records = make_client()
    client.get_new_ln_num_range(2)
    emulator.inject("corrupt")
    with pytest.raises(ReplyDecryptError):
        client.get_new_ln_num_range(2)
    ok, bad = records
    assert ok.operation is Operation.GET_NEW_LN_NUM_RANGE and ok.ok
    assert ok.request is not None and b"<wsse:Security" in ok.request
    assert b"EncryptedData" not in ok.request
    assert ok.response is not None and ok.response_clear
    assert b"http://eln.fss.ru/actor/fss/ca/" in ok.response and ok.request_id
    assert ok.request_id is not None and ok.request_id.encode() in ok.response
    assert ok.status == 1 and ok.endpoint == client.config.endpoint
    assert (ok.contour, ok.version, ok.ogrn) == ("emulator", "2.0", client.config.ogrn)
    assert not bad.response_clear and bad.response is not None  # as received: not decryptable
    d = pki.mo.key.to_le()
    secrets = [d, d[::-1], base64.b64encode(d), base64.b64encode(d[::-1]), d.hex().encode()]
    for record in records:
        dumped = json.dumps(record.to_dict(), ensure_ascii=False).encode()
        assert not any(s in dumped for s in secrets)
        assert not any(s in (record.request or b"") for s in secrets)


def test_a_failing_journal_does_not_lose_the_reply(
    make_config: Callable[..., FssConfig], mo_key: SoftKey, emulator: Emulator
) -> None:
    def broken(record: ExchangeRecord) -> None:
        raise RuntimeError("disk full")

    client = FssClient(make_config(url=emulator.url), mo_key, audit=broken)
    assert len(client.get_new_ln_num_range(3).numbers) == 3
