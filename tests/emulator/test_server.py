"""The emulator as a server: service descriptions, the data directory, the command, threads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zeep
from lxml import etree

from fss_emulator import Emulator
from gostsign.testpki import Pki, make_fund
from gostsign.x509 import Certificate
from tests.emulator.messages import Mo, Signers

WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback
        data: bytes = resp.read()
        return data


@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_wsdl_points_at_the_emulator(emulator: Emulator, version: str) -> None:
    url = emulator.endpoint_url(version)  # type: ignore[arg-type]
    wsdl = etree.fromstring(get(url + "?wsdl"))
    (address,) = wsdl.iter(f"{{{WSDL_SOAP}}}address")
    assert address.get("location") == url
    text = get(url + "?wsdl").decode()
    assert "docs-test.fss.ru" not in text
    links = re.findall(r'(?:schemaLocation|location)="([^"]+\?(?:xsd|wsdl)=[^"]+)"', text)
    assert links and all(link.startswith(url + "?") for link in links)
    for link in links:
        assert etree.fromstring(get(link)) is not None
    client = zeep.Client(url + "?wsdl")  # type: ignore[no-untyped-call]
    (service,) = client.wsdl.services.values()
    (port,) = service.ports.values()
    assert port.binding_options["address"] == url
    assert len(port.binding._operations) == 9


def test_the_data_directory_keeps_identity_and_state(
    tmp_path: Path, pki: Pki, signers: Signers
) -> None:
    with Emulator(tmp_path / "fss", trust=[pki.ca.cert]) as first:
        assert first.identity.created
        files = first.paths
        for name in ("ca", "ca.key", "fund", "fund.key", "demo/mo", "demo/mo.key", "demo/doctor"):
            assert files[name].is_file(), name
        assert oct(files["fund.key"].stat().st_mode & 0o777) == "0o600"
        assert first.fund_cert.subject.ogrn == "1027739443236"
        assert "keyAgreement" in (first.fund_cert.key_usage or set())
        mo = Mo(first.url, first.fund_cert, signers, trusted=[first.ca_cert])
        number = mo.body_call("getNewLNNum").text("data")
        fund = first.fund_cert
    with Emulator(tmp_path / "fss", trust=[pki.ca.cert]) as second:
        assert not second.identity.created
        assert second.fund_cert == fund
        mo = Mo(second.url, second.fund_cert, signers, trusted=[second.ca_cert])
        existing = mo.body_call("getExistingLNNumRange")
        assert [e.text for e in existing.all("lnCode")] == [number]
        assert mo.body_call("getNewLNNum").text("data") != number


def test_the_demo_mo_of_the_data_directory_works_out_of_the_box(emulator: Emulator) -> None:
    from gostsign.keys import load_private_key
    from gostsign.testpki import Party

    def party(name: str) -> Party:
        return Party(
            load_private_key(emulator.paths[f"demo/{name}.key"].read_bytes()),
            Certificate.load(emulator.paths[f"demo/{name}"].read_bytes()),
        )

    demo = Signers(party("mo"), party("doctor"), party("chairman"))
    mo = Mo(emulator.url, emulator.fund_cert, demo, trusted=[emulator.ca_cert])
    assert mo.body_call("getNewLNNum").text("status") == "1"


def test_given_fund_key_and_certificate(tmp_path: Path, pki: Pki, signers: Signers) -> None:
    fund = make_fund(pki.ca)
    with Emulator(
        tmp_path / "fss",
        fund_key=fund.key,
        fund_cert=fund.cert,
        ca_cert=pki.ca.cert,
        trust=[pki.ca.cert],
    ) as emu:
        assert emu.fund_cert == fund.cert
        assert not (tmp_path / "fss" / "fund.pem").exists()
        assert emu.fund_actor.endswith(fund.cert.subject.ogrn or "")
        mo = Mo(emu.url, fund.cert, signers, trusted=[pki.ca.cert])
        assert mo.body_call("getNewLNNum").text("status") == "1"


def test_info_and_certificates_over_http(emulator: Emulator) -> None:
    info = json.loads(get(emulator.base_url + "/_emulator/info"))
    assert info["mode"] == "encrypted"
    assert info["fund"]["actor"] == emulator.fund_actor
    url = info["endpoints"]["/WSLnCryptoV20/FileOperationsLnService"]["url"]
    assert url == emulator.url
    assert Certificate.load(get(emulator.base_url + "/_emulator/fund.pem")) == emulator.fund_cert
    assert Certificate.load(get(emulator.base_url + "/_emulator/ca.pem")) == emulator.ca_cert
    assert "WSLnCryptoV20" in get(emulator.base_url + "/").decode()


def test_concurrent_requests_get_distinct_numbers(mo: Mo, emulator: Emulator) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: mo.body_call("getNewLNNum"), range(16)))
    numbers = [r.text("data") for r in replies]
    assert len(set(numbers)) == 16
    ids = [r.text("requestId") for r in replies]
    assert len(set(ids)) == 16
    assert len(emulator.store.numbers()) == 16


def test_the_command(tmp_path: Path) -> None:
    data = tmp_path / "cli"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fss_emulator", "--port", "0", "--data", str(data), "--plain"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "demo chairman" in line:
                break
        out = "".join(lines)
        assert f"Created the Fund's key and certificate and a test CA in {data}" in out
        assert str(data / "fund.pem") in out
        match = re.search(r"v2\.0 plain\s+(http://127\.0\.0\.1:\d+/WSLnCryptoV20/\S+)", out)
        assert match, out
        assert b"FileOperationsLnService" in get(match.group(1) + "?wsdl")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert (data / "state.sqlite3").is_file()


def test_the_command_refuses_half_a_fund_identity(tmp_path: Path) -> None:
    from fss_emulator.server import main

    assert main(["--data", str(tmp_path), "--fund-cert", str(tmp_path / "x.pem")]) == 2
