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
from gostsign.testpki import Pki
from tests.fss.conftest import SoftKey
from tests.fss.fakefund import FakeFund, FundServer

BINDING = "{http://www.fss.ru/integration/ws/eln/mo/v01}FileOperationsLnBinding"


def zeep_client(server: FundServer, wsse: FssWsse) -> Any:
    client = zeep.Client(  # type: ignore[no-untyped-call]
        "bundle://FileOperationsLnService.wsdl",
        transport=BundledTransport(ProtocolVersion.V20),
        wsse=wsse,
        settings=zeep.Settings(strict=False, forbid_dtd=True, forbid_entities=True),
    )
    return client.create_service(BINDING, server.url)  # type: ignore[no-untyped-call]


def test_zeep_calls_through_the_plugin(
    server: FundServer,
    fund: FakeFund,
    make_config: Callable[..., FssConfig],
    mo_key: SoftKey,
    pki: Pki,
) -> None:
    wsse = FssWsse(make_config(url=server.url), mo_key)
    service = zeep_client(server, wsse)
    result = service.GetNewLNNumRange(ogrn=wsse.config.ogrn, cntLnNumbers=3)
    assert result.status == 1 and len(result.data.lnCode) == 3
    reply = wsse.last_reply
    assert reply is not None and reply.encrypted and reply.report.valid
    assert fund.requests  # the fake Fund decrypted and verified what zeep sent


def test_zeep_path_recognises_a_clear_fault_first(
    server: FundServer, fund: FakeFund, make_config: Callable[..., FssConfig], mo_key: SoftKey
) -> None:
    wsse = FssWsse(make_config(url=server.url), mo_key)
    service = zeep_client(server, wsse)
    fund.fault = "fault"
    with pytest.raises(FssFault, match="Сервис СФР сообщает"):
        service.GetNewLNNum(ogrn=wsse.config.ogrn)
    fund.fault = "unsigned"
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
