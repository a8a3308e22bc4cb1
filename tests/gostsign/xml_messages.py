"""Fund-style SOAP messages (v2.0) for the XML tests and the benchmark.

Shaped after the Fund's own examples (spec v2.0 §6.1.2, §8.1.3, §7.1.3): ``soapenv`` prefix,
``wsu`` declared on the Envelope, a row whose children are in the ``mo`` namespace and whose
treatPeriod carries the ``com`` namespace as its default (as in §8.1.3). The rows conform to
the bundled v2.0 XSD.
"""

from __future__ import annotations

from gostsign.xml.ns import SOAP11, WSU

MO_NS = "http://www.fss.ru/integration/types/eln/mo/v01"
COM_NS = "http://www.fss.ru/integration/types/eln/v01"

_ENVELOPE_OPEN = (
    f'<soapenv:Envelope xmlns:soapenv="{SOAP11}" xmlns:wsu="{WSU}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
)


def ln_code(i: int) -> str:
    """The i-th test ELN number (12 digits)."""
    return f"9000001{i:05d}"


def get_new_ln_num(ogrn: str) -> bytes:
    """An unsigned getNewLNNumRequest (the Body is signed by the МО)."""
    return (
        _ENVELOPE_OPEN + "<soapenv:Header/>"
        f'<soapenv:Body><v01:getNewLNNumRequest xmlns:v01="{MO_NS}">'
        f"<v01:ogrn>{ogrn}</v01:ogrn></v01:getNewLNNumRequest></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def get_new_ln_num_reply(number: str = "900000000001") -> bytes:
    """An unsigned getNewLNNumResponse of the Fund."""
    return (
        _ENVELOPE_OPEN + "<soapenv:Header/>"
        f'<soapenv:Body><ns3:getNewLNNumResponse xmlns:ns3="{MO_NS}" xmlns:ns2="{COM_NS}">'
        "<ns2:requestId>LNNUMMO_TEST</ns2:requestId><ns2:status>1</ns2:status>"
        f"<ns2:mess>OK</ns2:mess><ns3:data>{number}</ns3:data></ns3:getNewLNNumResponse>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def treat_period(day: int = 20, doctor: str = "ИВАНОВА МП") -> str:
    """A treatPeriod as a doctor signs it: ``com`` as its default namespace (ex §8.1.3)."""
    return (
        f'<treatPeriod xmlns="{COM_NS}"><treatDt1>2020-08-{day:02d}</treatDt1>'
        f"<treatDt2>2020-08-{day + 2:02d}</treatDt2><treatDoctorRole>ТЕРАПЕВТ</treatDoctorRole>"
        f"<treatDoctor>{doctor}</treatDoctor></treatPeriod>"
    )


def row(code: str, ogrn: str, *, periods: int = 1, breach: bool = True) -> str:
    """One v2.0 row (wsu:Id="ELN_<code>"), doctor blocks without Ids."""
    full = "".join(
        f'<treatFullPeriod><treatChairman xmlns="{COM_NS}"/>{treat_period(10 + 3 * k)}'
        "</treatFullPeriod>"
        for k in range(periods)
    )
    hospital = (
        f'<hospitalBreach><hospitalBreachCode xmlns="{COM_NS}">24</hospitalBreachCode>'
        f'<hospitalBreachDt xmlns="{COM_NS}">2020-08-21</hospitalBreachDt></hospitalBreach>'
        if breach
        else ""
    )
    return (
        f'<row wsu:Id="ELN_{code}"><unconditional>false</unconditional><snils>12345394243</snils>'
        "<surname>ТЕСТОВ</surname><name>ТЕСТ</name><patronymic>ТЕСТОВИЧ</patronymic>"
        f"<lnCode>{code}</lnCode><primaryFlag>1</primaryFlag><duplicateFlag>0</duplicateFlag>"
        "<lnDate>2020-08-24</lnDate><lpuName>ГБУЗ «Тестовая поликлиника № 1»</lpuName>"
        "<lpuAddress>г. Москва, ул. Тестовая, д. 1</lpuAddress>"
        f"<lpuOgrn>{ogrn}</lpuOgrn><birthday>1980-08-24</birthday><gender>1</gender>"
        '<reason1>01</reason1><diagnos>J06.9</diagnos><date1 xsi:nil="true"/>'
        f'<date2 xsi:nil="true"/>{hospital}<mseDt1 xsi:nil="true"/><mseDt2 xsi:nil="true"/>'
        '<mseDt3 xsi:nil="true"/><mseInvalidGroup xsi:nil="true"/>'
        f"<treatPeriods>{full}</treatPeriods><lnState>010</lnState>"
        "<writtenAgreementFlag>true</writtenAgreementFlag></row>"
    )


def pr_parse(ogrn: str, rows: int = 1, *, periods: int = 1, breach: bool = True) -> bytes:
    """An unsigned prParseFilelnlpuRequest with ``rows`` rows (codes :func:`ln_code`)."""
    body = "".join(row(ln_code(i), ogrn, periods=periods, breach=breach) for i in range(rows))
    return (
        _ENVELOPE_OPEN + "<soapenv:Header/><soapenv:Body>"
        f'<prParseFilelnlpuRequest xmlns="{MO_NS}" xmlns:ns2="{COM_NS}"><ogrn>{ogrn}</ogrn>'
        '<pXmlFile><rowset ns2:author="Тестов" ns2:email="t@example.test" ns2:phone="0" '
        'ns2:software="gostsign-tests" ns2:version="2.0" ns2:version_software="1">'
        f"{body}</rowset></pXmlFile></prParseFilelnlpuRequest></soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()
