"""A minimal МО side for the emulator's tests, built on gostsign directly (not on eln_tui).

It writes requests the way the spec's examples do (``soapenv``/``wsu`` on the Envelope, v2.0 rows
whose doctor blocks carry the ``com`` namespace as their default), signs them with
:mod:`gostsign.xml.profile`, encrypts to the Fund's certificate, posts with urllib, and reads the
reply as protocol.md §5.6 says: a clear Fault first, then decrypt, verify the Fund's signature,
validate against the XSD.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal

from lxml import etree

from gostsign.signer import SoftwareSigner
from gostsign.testpki import Party
from gostsign.x509 import Certificate
from gostsign.xml import profile, schema, xmlenc
from gostsign.xml.errors import FundFault
from gostsign.xml.parse import parse as parse_xml
from gostsign.xml.soap import find_fault
from gostsign.xml.wssec import VerificationReport, body_of

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MO = "http://www.fss.ru/integration/types/eln/mo/v01"
COM = "http://www.fss.ru/integration/types/eln/v01"
V11 = "http://ru/ibs/fss/ln/ws/FileOperationsLn.wsdl"

Version = Literal["2.0", "1.1"]

_OPEN = f'<soapenv:Envelope xmlns:soapenv="{SOAP}" xmlns:wsu="{WSU}" xmlns:xsi="{XSI}">'


def envelope(payload: str) -> bytes:
    return (
        _OPEN + f"<soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def action(op: str, version: Version) -> str:
    if version == "1.1":
        return f"{V11}/{op}"
    name = "parseFileNumberslpu" if op == "prParseFileNumberslpu" else op
    return f"http://www.fss.ru/integration/ws/eln/mo/{name}/v01"


def simple_request(op: str, version: Version = "2.0", /, **params: str) -> bytes:
    """A request of a non-row operation with its parameters in XSD order."""
    if version == "2.0":
        inner = "".join(f"<v01:{k}>{v}</v01:{k}>" for k, v in params.items())
        return envelope(f'<v01:{op}Request xmlns:v01="{MO}">{inner}</v01:{op}Request>')
    inner = "".join(f"<ns1:{k}>{v}</ns1:{k}>" for k, v in params.items())
    return envelope(f'<ns1:{op} xmlns:ns1="{V11}">{inner}</ns1:{op}>')


def numbers_request(ogrn: str, codes: list[str], version: Version = "2.0") -> bytes:
    if version == "2.0":
        items = "".join(f"<ns2:lnCode>{c}</ns2:lnCode>" for c in codes)
        return envelope(
            f'<prParseFileNumberslpuRequest xmlns="{MO}" xmlns:ns2="{COM}"><ogrn>{ogrn}</ogrn>'
            f"<pXmlNumFile><data>{items}</data></pXmlNumFile></prParseFileNumberslpuRequest>"
        )
    items = "".join(f"<ns1:LNNum>{c}</ns1:LNNum>" for c in codes)
    return envelope(
        f'<ns1:prParseFileNumberslpu xmlns:ns1="{V11}"><ns1:request><ns1:ogrn>{ogrn}</ns1:ogrn>'
        f"<ns1:pXmlNumFile><ns1:DATA>{items}</ns1:DATA></ns1:pXmlNumFile></ns1:request>"
        "</ns1:prParseFileNumberslpu>"
    )


# ----------------------------------------------------------------------------------------------
# ELN rows
# ----------------------------------------------------------------------------------------------


@dataclass
class Period:
    dt1: str
    dt2: str
    chairman: bool = False
    doctor: str = "ИВАНОВА М П"


@dataclass
class Row:
    ln: str
    ogrn: str
    periods: list[Period]
    state: str = "000"
    ln_hash: str | None = None
    snils: str = "12345394243"
    gender: str = "1"
    reason1: str = "01"
    ln_date: str = "2020-08-20"
    breach: tuple[str, str] | None = None  # (code, date)
    result: dict[str, str] | None = None  # lnResult children
    mse_dt1: str | None = None
    extra: str = ""
    surname: str = "ТЕСТОВА"
    prev: str | None = None  # a continuation of this ELN

    def v20(self) -> str:
        def nil(name: str, value: str | None = None) -> str:
            if value is None:
                return f'<{name} xsi:nil="true"/>'
            return f"<{name}>{value}</{name}>"

        periods = "".join(
            "<treatFullPeriod>"
            + (
                f'<treatChairman xmlns="{COM}">ПЕТРОВ С Н</treatChairman>'
                f'<treatChairmanRole xmlns="{COM}">ПРЕД ВК</treatChairmanRole>'
                if p.chairman
                else ""
            )
            + f'<treatPeriod xmlns="{COM}"><treatDt1>{p.dt1}</treatDt1><treatDt2>{p.dt2}</treatDt2>'
            f"<treatDoctorRole>ТЕРАПЕВТ</treatDoctorRole><treatDoctor>{p.doctor}</treatDoctor>"
            "</treatPeriod></treatFullPeriod>"
            for p in self.periods
        )
        breach = (
            f'<hospitalBreach><hospitalBreachCode xmlns="{COM}">{self.breach[0]}'
            f'</hospitalBreachCode><hospitalBreachDt xmlns="{COM}">{self.breach[1]}'
            "</hospitalBreachDt></hospitalBreach>"
            if self.breach
            else ""
        )
        result = (
            "<lnResult>"
            + "".join(f'<{k} xmlns="{COM}">{v}</{k}>' for k, v in self.result.items())
            + "</lnResult>"
            if self.result
            else ""
        )
        ln_hash = f"<lnHash>{self.ln_hash}</lnHash>" if self.ln_hash else ""
        return (
            f"<row><unconditional>true</unconditional><snils>{self.snils}</snils>"
            f"<surname>{self.surname}</surname><name>МАРИЯ</name><patronymic>ИВАНОВНА</patronymic>"
            f"<lnCode>{self.ln}</lnCode>"
            + (f"<prevLnCode>{self.prev}</prevLnCode>" if self.prev else "")
            + f"<primaryFlag>{'false' if self.prev else 'true'}</primaryFlag>"
            f"<duplicateFlag>false</duplicateFlag><lnDate>{self.ln_date}</lnDate>"
            "<lpuName>ГБУЗ «Тестовая поликлиника № 1»</lpuName>"
            f"<lpuAddress>г. Москва, ул. Тестовая, д. 1</lpuAddress><lpuOgrn>{self.ogrn}</lpuOgrn>"
            f"<birthday>1985-03-15</birthday><gender>{self.gender}</gender>"
            f"<reason1>{self.reason1}</reason1><diagnos>J06.9</diagnos>"
            + nil("date1")
            + nil("date2")
            + breach
            + nil("mseDt1", self.mse_dt1)
            + nil("mseDt2")
            + nil("mseDt3")
            + nil("mseInvalidGroup")
            + f"<treatPeriods>{periods}</treatPeriods>{result}<lnState>{self.state}</lnState>"
            f"{ln_hash}<writtenAgreementFlag>true</writtenAgreementFlag>{self.extra}</row>"
        )

    def v11(self) -> str:
        def t(name: str, value: str | None) -> str:
            if value is None:
                return f'<ns1:{name} xsi:nil="true"/>'
            return f"<ns1:{name}>{value}</ns1:{name}>"

        periods = "".join(
            "<ns1:TREAT_FULL_PERIOD>"
            + (
                "<ns1:TREAT_CHAIRMAN_ROLE>ПРЕД ВК</ns1:TREAT_CHAIRMAN_ROLE>"
                "<ns1:TREAT_CHAIRMAN>ПЕТРОВ С Н</ns1:TREAT_CHAIRMAN>"
                if p.chairman
                else ""
            )
            + f"<ns1:TREAT_PERIOD><ns1:TREAT_DT1>{p.dt1}</ns1:TREAT_DT1>"
            f"<ns1:TREAT_DT2>{p.dt2}</ns1:TREAT_DT2>"
            "<ns1:TREAT_DOCTOR_ROLE>ТЕРАПЕВТ</ns1:TREAT_DOCTOR_ROLE>"
            f"<ns1:TREAT_DOCTOR>{p.doctor}</ns1:TREAT_DOCTOR></ns1:TREAT_PERIOD>"
            "</ns1:TREAT_FULL_PERIOD>"
            for p in self.periods
        )
        result = (
            "<ns1:LN_RESULT>"
            + "".join(t(k, v) for k, v in self.result.items())
            + "</ns1:LN_RESULT>"
            if self.result
            else ""
        )
        return (
            "<ns1:ROW>"
            + t("SNILS", self.snils)
            + t("SURNAME", self.surname)
            + t("NAME", "МАРИЯ")
            + t("BOZ_FLAG", "0")
            + t("LPU_EMPL_FLAG", "1")
            + t("LN_CODE", self.ln)
            + t("PRIMARY_FLAG", "1")
            + t("DUPLICATE_FLAG", "0")
            + t("LN_DATE", self.ln_date)
            + t("LPU_NAME", "ГБУЗ ТЕСТ")
            + t("LPU_OGRN", self.ogrn)
            + t("BIRTHDAY", "1985-03-15")
            + t("GENDER", self.gender)
            + t("REASON1", self.reason1)
            + "".join(
                t(n, None)
                for n in (
                    "DATE1 DATE2 SERV1_AGE SERV1_MM SERV2_AGE SERV2_MM PREGN12W_FLAG "
                    "HOSPITAL_DT1 HOSPITAL_DT2 MSE_DT1 MSE_DT2 MSE_DT3 MSE_INVALID_GROUP"
                ).split()
            )
            + f"<ns1:TREAT_PERIODS>{periods}</ns1:TREAT_PERIODS>{result}"
            + t("LN_STATE", self.state)
            + (t("LN_HASH", self.ln_hash) if self.ln_hash else "")
            + "</ns1:ROW>"
        )


def rows_request(ogrn: str, rows: list[Row], version: Version = "2.0") -> bytes:
    if version == "2.0":
        return envelope(
            f'<prParseFilelnlpuRequest xmlns="{MO}" xmlns:ns2="{COM}"><ogrn>{ogrn}</ogrn>'
            '<pXmlFile><rowset ns2:author="Тестов Т.Т." ns2:email="t@example.test" '
            'ns2:phone="+74950000000" ns2:software="emulator-tests" ns2:version="2.0" '
            f'ns2:version_software="1.0">{"".join(r.v20() for r in rows)}</rowset></pXmlFile>'
            "</prParseFilelnlpuRequest>"
        )
    return envelope(
        f'<ns1:prParseFilelnlpu xmlns:ns1="{V11}"><ns1:request><ns1:ogrn>{ogrn}</ns1:ogrn>'
        '<ns1:pXmlFile><ns1:ROWSET ns1:version="1.1" ns1:software="emulator-tests" '
        'ns1:version_software="1.0" ns1:author="Тестов" ns1:phone="0" ns1:email="t@e.test">'
        f"{''.join(r.v11() for r in rows)}</ns1:ROWSET></ns1:pXmlFile></ns1:request>"
        "</ns1:prParseFilelnlpu>"
    )


@dataclass
class Signers:
    mo: Party
    doctor: Party
    chairman: Party

    @staticmethod
    def of(party: Party) -> SoftwareSigner:
        return SoftwareSigner(party.key, party.cert)


def sign_rows(
    doc: etree._ElementTree,
    ogrn: str,
    rows: list[Row],
    signers: Signers,
    *,
    new_periods: dict[str, list[int]] | None = None,
    blocks: dict[str, list[int]] | None = None,
    mo_ogrn: str | None = None,
) -> None:
    """Doctor, VK and МО signatures, in the order they are made in practice.

    ``new_periods[ln]``: the periods (1-based) signed by the doctor (and the VK chairman when
    the period has one); default: the last one. ``blocks[ln]``: doctor blocks 1 (breach) and 2
    (closing) to sign; default: those present.
    """
    doctor = Signers.of(signers.doctor)
    chairman = Signers.of(signers.chairman)
    for r in rows:
        periods = (new_periods or {}).get(r.ln, [len(r.periods)] if r.periods else [])
        for k in periods:
            profile.sign_doctor_block(doc, r.ln, k + 2, doctor)
            if r.periods[k - 1].chairman:
                profile.sign_vk_block(doc, r.ln, k + 2, chairman)
        default_blocks = [b for b, present in ((1, r.breach), (2, r.result)) if present]
        for b in (blocks or {}).get(r.ln, default_blocks):
            profile.sign_doctor_block(doc, r.ln, b, doctor)
        profile.sign_row(doc, mo_ogrn or ogrn, r.ln, Signers.of(signers.mo))


# ----------------------------------------------------------------------------------------------
# Exchange
# ----------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    raw: bytes
    content_type: str
    document: etree._ElementTree | None = None
    fault: FundFault | None = None
    report: VerificationReport | None = None
    payload: etree._Element | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def find(self, *path: str) -> etree._Element | None:
        """The first descendant element of the payload with these local names in sequence."""
        node = self.payload
        for name in path:
            if node is None:
                return None
            node = next(
                (e for e in node.iter(etree.Element) if etree.QName(e).localname == name), None
            )
        return node

    def text(self, *path: str) -> str | None:
        el = self.find(*path)
        return el.text if el is not None else None

    def all(self, name: str) -> list[etree._Element]:
        assert self.payload is not None
        return [e for e in self.payload.iter(etree.Element) if etree.QName(e).localname == name]


def post(url: str, data: bytes, soap_action: str | None = None) -> tuple[int, bytes, str]:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if soap_action is not None:
        headers["SOAPAction"] = f'"{soap_action}"'
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback test URL
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


class Mo:
    """An МО talking to the emulator: sign, encrypt, post, decrypt, verify, validate."""

    def __init__(
        self,
        url: str,
        fund_cert: Certificate,
        signers: Signers,
        *,
        version: Version = "2.0",
        encrypted: bool = True,
        trusted: list[Certificate] | None = None,
    ) -> None:
        self.url = url
        self.fund_cert = fund_cert
        self.signers = signers
        self.version = version
        self.encrypted = encrypted
        self.trusted = trusted
        self.ogrn = signers.mo.cert.subject.ogrn or ""

    def seal(self, doc: etree._ElementTree, *, layout: str | None = None) -> bytes:
        if not self.encrypted:
            return etree.tostring(doc, encoding="UTF-8", xml_declaration=True)
        return xmlenc.encrypt(
            doc,
            self.fund_cert,
            sender_certificate=self.signers.mo.cert,
            layout=layout or ("v2.0" if self.version == "2.0" else "v1.1"),  # type: ignore[arg-type]
        )

    def body_call(self, op: str, *, ogrn: str | None = None, **params: str) -> Reply:
        ogrn = ogrn or self.ogrn
        fields = {"ogrn": ogrn, **params}
        if self.version == "1.1" and op == "getLNListByDate":
            fields = {"date": params["date"], "ogrn": ogrn}  # v1.1 XSD order
        doc = parse_xml(simple_request(op, self.version, **fields))
        profile.sign_body(doc, ogrn, Signers.of(self.signers.mo))
        return self.send(self.seal(doc), op)

    def send_rows(self, rows: list[Row], **sign_options: Any) -> Reply:
        doc = parse_xml(rows_request(self.ogrn, rows, self.version))
        sign_rows(doc, self.ogrn, rows, self.signers, **sign_options)
        return self.send(self.seal(doc), "prParseFilelnlpu")

    def send(self, data: bytes, op: str, *, soap_action: str | None = None) -> Reply:
        status, raw, ctype = post(self.url, data, soap_action or action(op, self.version))
        return self.read(status, raw, ctype)

    def read(self, status: int, raw: bytes, ctype: str) -> Reply:
        reply = Reply(status, raw, ctype)
        if "xml" not in ctype:
            return reply
        doc = parse_xml(raw, what="the reply")
        reply.fault = find_fault(doc.getroot())
        if reply.fault is not None:
            return reply
        if self.encrypted:
            doc = xmlenc.decrypt(doc, self.signers.mo.key).document
        reply.document = doc
        reply.report = profile.verify_reply(doc, self.fund_cert, trusted=self.trusted)
        payload = next(c for c in body_of(doc.getroot()) if isinstance(c.tag, str))
        schema.validate(payload, self.version)
        reply.payload = payload
        return reply
