"""FssWsse as zeep's ``wsse=`` plug-in: zeep's own call path over the bundled WSDL.

zeep calls ``wsse.apply`` last on the way out and ``wsse.verify`` first on the way back, before
its own Fault check (zeep issue #1197): the plug-in must recognise a clear Fault itself and put
the decrypted, verified document in place of the received one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import zeep

from eln_tui.core.fss import FssConfig, FssFault, FssWsse, ProtocolVersion, ReplySignatureError
from eln_tui.core.fss.service import BundledTransport
from fss_emulator import Emulator
from tests.fss.conftest import SoftKey

BINDING = "{http://www.fss.ru/integration/ws/eln/mo/v01}FileOperationsLnBinding"


def zeep_client(emulator: Emulator, wsse: FssWsse) -> Any:
    client = zeep.Client(  # type: ignore[no-untyped-call]
        "bundle://FileOperationsLnService.wsdl",
        transport=BundledTransport(ProtocolVersion.V20),
        wsse=wsse,
        settings=zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True),
    )
    return client.create_service(BINDING, emulator.url)  # type: ignore[no-untyped-call]


def test_zeep_calls_through_the_plugin(
    emulator: Emulator, make_config: Callable[..., FssConfig], mo_key: SoftKey
) -> None:
    wsse = FssWsse(make_config(url=emulator.url), mo_key)
    service = zeep_client(emulator, wsse)
    result = service.GetNewLNNumRange(ogrn=wsse.config.ogrn, cntLnNumbers=3)
    assert result.status == 1 and len(result.data.lnCode) == 3
    reply = wsse.last_reply
    assert reply is not None and reply.encrypted and reply.report.valid
    assert len(emulator.store.numbers()) == 3  # the Fund decrypted, verified and acted


def test_zeep_path_recognises_a_clear_fault_first(
    emulator: Emulator, make_config: Callable[..., FssConfig], mo_key: SoftKey
) -> None:
    wsse = FssWsse(make_config(url=emulator.url), mo_key)
    service = zeep_client(emulator, wsse)
    emulator.inject("soap_fault", message="Внутренняя ошибка сервиса")
    with pytest.raises(FssFault, match="Сервис СФР сообщает"):
        service.GetNewLNNum(ogrn=wsse.config.ogrn)
    emulator.inject("unsigned")
    with pytest.raises(ReplySignatureError):
        service.GetNewLNNum(ogrn=wsse.config.ogrn)


def test_the_wsdl_loader_serves_only_bundled_files() -> None:
    from eln_tui.core.fss import FssConfigError

    transport = BundledTransport(ProtocolVersion.V20)
    wsdl = transport.load(
        "https://docs-test.fss.ru/WSLnV20_2/FileOperationsLnService?wsdl=../Faults.wsdl"
    )
    assert b"internalFault" in wsdl
    for url in ("https://example.org/evil.xsd", "/etc/passwd", "file:///etc/hostname"):
        with pytest.raises(FssConfigError, match="не будет загружен из сети"):
            transport.load(url)
