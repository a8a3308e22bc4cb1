"""Helpers of the end-to-end tests: key backends, the client for an emulator, and the
workstation's side of an ELN (sign the due blocks, send, apply the Fund's verdict)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eln_tui.core.domain import lifecycle
from eln_tui.core.domain.codes import SignerSlot
from eln_tui.core.domain.model import Block, Eln
from eln_tui.core.fss import (
    Contour,
    ExchangeRecord,
    FssClient,
    FssConfig,
    MoKey,
    RegistryResult,
    RowInput,
    sign_block,
)
from gostsign.signer import Signer
from gostsign.testpki import create_test_pki
from gostsign.x509 import Certificate

PASSWORD = "пароль-теста"
SNILS = "11223344595"


@dataclass
class Parties:
    """The МО key as the client uses it, the people who sign blocks, their CA."""

    name: str
    mo: MoKey
    doctor: Signer
    chairman: Signer
    ca: Certificate
    ogrn: str
    token: Any = None  # tests.fss.softhsm.Token for the PKCS#11 backend


def software_parties(tmp: Path, curve: str) -> Generator[Parties, None, None]:
    from providers.base import Pin
    from providers.software import SoftwareProvider, create_test_set

    kit = create_test_set(tmp / "keys", PASSWORD, curve=curve, iterations=1000)
    provider = SoftwareProvider({"key_dir": kit.directory})
    mo = provider.open_session("label:mo", Pin(PASSWORD))
    doctor = provider.open_session("label:doctor1", Pin(PASSWORD))
    chairman = provider.open_session("label:vk-chairman", Pin(PASSWORD))
    ogrn = mo.certificate.subject.ogrn
    assert ogrn is not None and mo.bits == (512 if "512" in curve else 256)
    try:
        yield Parties(f"software-{mo.bits}", mo, doctor, chairman, kit.ca_certificate, ogrn)
    finally:
        for s in (mo, doctor, chairman):
            s.close()


def pkcs11_parties(tmp: Path) -> Generator[Parties, None, None]:
    from gostsign.signer import SoftwareSigner
    from tests.fss.softhsm import TokenSignsSoftwareAgrees, softhsm_token

    pki = create_test_pki(curve="cryptopro-a")
    with softhsm_token(tmp / "softhsm", pki.ca) as token:
        session = token.open(token.imported)
        mo = TokenSignsSoftwareAgrees(session, token.imported_key)
        ogrn = session.certificate.subject.ogrn
        assert ogrn is not None
        try:
            yield Parties(
                "pkcs11-256",
                mo,
                SoftwareSigner(pki.doctor.key, pki.doctor.cert),
                SoftwareSigner(pki.chairman.key, pki.chairman.cert),
                pki.ca.cert,
                ogrn,
                token,
            )
        finally:
            session.close()
        assert mo.signatures > 0  # every request was signed on the token


BACKENDS: dict[str, Callable[[Path], Generator[Parties, None, None]]] = {
    "software-256": lambda tmp: software_parties(tmp, "cryptopro-a"),
    "software-512": lambda tmp: software_parties(tmp, "tc26-512-a"),
    "pkcs11-256": pkcs11_parties,
}


def make_client(
    emu: Any, parties: Parties, *, version: str = "2.0", **kw: Any
) -> tuple[FssClient, list[ExchangeRecord]]:
    url = kw.pop("url", None) or (emu.url if version == "2.0" else emu.url_v11)
    config = FssConfig(
        ogrn=parties.ogrn,
        version=version,  # type: ignore[arg-type]
        contour=Contour.EMULATOR,
        url=url,
        fund_certificates={Contour.EMULATOR: emu.fund_cert},
        author="Иванова М. П.",
        phone="+7 495 000-00-00",
        email="eln@example.test",
        **kw,
    )
    records: list[ExchangeRecord] = []
    return FssClient(config, parties.mo, audit=records.append), records


# ----------------------------------------------------------------------------------------------
# The workstation's side of an ELN: sign the due blocks, send, apply the Fund's verdict
# ----------------------------------------------------------------------------------------------


def sign_due(eln: Eln, parties: Parties, version: str, fragments: dict[str, Any]) -> None:
    """Sign what the next send carries and is not signed yet (as doctors and VK do)."""
    for path in lifecycle.next_send_blocks(eln):
        if path == "hospital_breach":
            blocks = [Block("breach")]
        elif path == "ln_result":
            blocks = [Block("result")]
        elif path.startswith("treat_periods["):
            i = int(path[len("treat_periods[") : -1])
            blocks = [Block("period", SignerSlot.DOC, i)]
            if eln.treat_periods[i].chairman:
                blocks.append(Block("period", SignerSlot.VK, i))
        else:
            continue
        for b in blocks:
            if b.suffix in fragments:
                continue
            signer = parties.chairman if b.slot is SignerSlot.VK else parties.doctor
            doc = fragments.get(f"{b.number}_doc") if b.slot is SignerSlot.VK else None
            fragments[b.suffix] = sign_block(eln, b, signer, version, doctor_fragment=doc)


def send(
    client: FssClient, eln: Eln, parties: Parties, fragments: dict[str, Any]
) -> tuple[Eln, RegistryResult]:
    sign_due(eln, parties, client.version, fragments)
    result = client.pr_parse_filelnlpu([RowInput(eln, dict(fragments))])
    (row,) = result.rows
    assert row.ok, row.error_text
    sent = result.sent_row(eln.ln_code or "")
    assert sent is not None
    assert row.ln_state is not None
    updated = lifecycle.mark_sent(
        eln, ln_state=row.ln_state, ln_hash=row.ln_hash, blocks=list(sent.blocks), at=client.clock()
    )
    return updated, result


def fresh_numbers(client: FssClient, n: int) -> list[str]:
    numbers = list(client.get_new_ln_num_range(n).numbers)
    assert len(numbers) == n
    return numbers
