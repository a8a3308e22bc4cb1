"""Certificates and CRLs against OpenSSL and GnuTLS, both directions, plus refusals."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gostsign import asn1, keys, x509
from gostsign.curves import get_curve
from gostsign.errors import (
    CertificateExpired,
    CertificateNotTrusted,
    CertificateRevoked,
    InvalidInput,
    InvalidKey,
    InvalidSignature,
    UnsupportedAlgorithm,
)
from gostsign.gost3410 import PrivateKey
from gostsign.testpki import (
    create_test_pki,
    inn_le_with_check,
    inn_person_with_check,
    ogrn_with_check,
    snils_with_check,
)
from gostsign.x509 import Certificate, CertificateRevocationList, Extension
from tests.oracles import Tool

OGRN = ogrn_with_check("102770013219")
SNILS = snils_with_check("112233445")
INN = inn_person_with_check("7701234567")
INN_LE = inn_le_with_check("770708389")
NOW = datetime.now(UTC)


def _ca(curve: str = "cryptopro-a", **kwargs: object) -> tuple[PrivateKey, Certificate]:
    key = PrivateKey.generate(get_curve(curve))
    cert = x509.issue_certificate(
        key.public_key(),
        "CN=Тестовый УЦ,O=Тест,C=RU",
        None,
        key,
        ca=True,
        days=3650,
        **kwargs,  # type: ignore[arg-type]
    )
    return key, cert


def _leaf(
    ca_key: PrivateKey, ca_cert: Certificate, curve: str = "cryptopro-a", **kwargs: object
) -> tuple[PrivateKey, Certificate]:
    key = PrivateKey.generate(get_curve(curve))
    params: dict[str, object] = {"snils": SNILS, "inn": INN}
    params.update(kwargs)
    cert = x509.issue_certificate(
        key.public_key(),
        {"CN": "Иванова Мария Петровна", "SN": "Иванова", "G": "Мария Петровна", "T": "Врач"},
        ca_cert,
        ca_key,
        **params,  # type: ignore[arg-type]
    )
    return key, cert


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------------------------
# Our certificates in OpenSSL and GnuTLS
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ca_curve", "leaf_curve"),
    [
        ("cryptopro-a", "cryptopro-xcha"),
        ("tc26-512-a", "tc26-256-b"),
        ("tc26-256-a", "tc26-512-c"),
        ("cryptopro-b", "tc26-256-d"),
    ],
)
def test_openssl_verifies_our_chain(
    openssl: Tool, tmp_path: Path, ca_curve: str, leaf_curve: str
) -> None:
    ca_key, ca = _ca(ca_curve)
    _, leaf = _leaf(ca_key, ca, leaf_curve)
    _, mo = _leaf(ca_key, ca, leaf_curve, snils=None, inn=None, ogrn=OGRN, inn_le=INN_LE)
    ca_path = _write(tmp_path, "ca.pem", ca.pem)
    leaf_path = _write(tmp_path, "leaf.pem", leaf.pem)
    mo_path = _write(tmp_path, "mo.pem", mo.pem)
    out = openssl.run("verify", "-CAfile", ca_path, leaf_path, mo_path).stdout.decode()
    assert "leaf.pem: OK" in out and "mo.pem: OK" in out
    text = openssl.run("x509", "-in", leaf_path, "-noout", "-text").stdout.decode()
    assert f"SNILS = {SNILS}" in text and f"INN = {INN}" in text
    assert "GOST R 34.10-2012 with GOST R 34.11-2012" in text
    assert "CA:FALSE" in text and "Digital Signature, Non Repudiation" in text
    mo_subject = openssl.run(
        "x509", "-in", mo_path, "-noout", "-subject", "-nameopt", "utf8,sep_comma_plus"
    ).stdout.decode()
    assert f"OGRN={OGRN}" in mo_subject and "CN=Иванова Мария Петровна" in mo_subject
    fingerprint = openssl.run("x509", "-in", leaf_path, "-noout", "-fingerprint", "-sha1").stdout
    assert fingerprint.decode().split("=")[1].strip().replace(":", "").lower() == leaf.thumbprint
    # A v3 CA with keyCertSign: OpenSSL's purpose check agrees it is a CA.
    purpose = openssl.run("x509", "-in", ca_path, "-noout", "-purpose").stdout.decode()
    assert "SSL client CA : Yes" in purpose


@pytest.mark.parametrize(
    ("ca_curve", "leaf_curve"),
    [("cryptopro-a", "cryptopro-xcha"), ("tc26-512-a", "tc26-256-b")],
)
def test_certtool_verifies_our_chain(
    certtool: Tool, tmp_path: Path, ca_curve: str, leaf_curve: str
) -> None:
    ca_key, ca = _ca(ca_curve)
    _, leaf = _leaf(ca_key, ca, leaf_curve)
    ca_path = _write(tmp_path, "ca.pem", ca.pem)
    leaf_path = _write(tmp_path, "leaf.pem", leaf.pem)
    out = certtool.run("--verify", "--load-ca-certificate", ca_path, "--infile", leaf_path)
    assert b"Verified. The certificate is trusted." in out.stdout
    chain_path = _write(tmp_path, "chain.pem", leaf.pem + ca.pem)
    out = certtool.run("--verify-chain", "--infile", chain_path)
    assert b"Chain verification output: Verified" in out.stdout


def test_openssl_and_certtool_reject_tampered(
    openssl: Tool, certtool: Tool, tmp_path: Path
) -> None:
    ca_key, ca = _ca()
    _, leaf = _leaf(ca_key, ca)
    der = bytearray(leaf.der)
    der[-1] ^= 1  # last signature byte
    tampered = Certificate(bytes(der))
    with pytest.raises(InvalidSignature):
        x509.verify_issued_by(tampered, ca)
    ca_path = _write(tmp_path, "ca.pem", ca.pem)
    bad_path = _write(tmp_path, "bad.pem", tampered.pem)
    assert openssl.run("verify", "-CAfile", ca_path, bad_path, check=False).returncode != 0
    out = certtool.run(
        "--verify", "--load-ca-certificate", ca_path, "--infile", bad_path, check=False
    )
    assert out.returncode != 0


def test_intermediate_chain(openssl: Tool, tmp_path: Path) -> None:
    root_key, root = _ca()
    inter_key = PrivateKey.generate(get_curve("tc26-256-b"))
    inter = x509.issue_certificate(
        inter_key.public_key(),
        "CN=Промежуточный УЦ,O=Тест",
        root,
        root_key,
        ca=True,
        path_length=0,
    )
    _, leaf = _leaf(inter_key, inter)
    chain = x509.verify_chain(leaf, [inter], [root])
    assert chain == [leaf, inter, root]
    assert x509.build_chain(leaf, [inter], [root]) == chain
    root_path = _write(tmp_path, "root.pem", root.pem)
    inter_path = _write(tmp_path, "inter.pem", inter.pem)
    leaf_path = _write(tmp_path, "leaf.pem", leaf.pem)
    openssl.run("verify", "-CAfile", root_path, "-untrusted", inter_path, leaf_path)
    with pytest.raises(CertificateNotTrusted):
        x509.verify_chain(leaf, [], [root])
    # pathLen 0: the intermediate may not issue another CA.
    sub_key = PrivateKey.generate(get_curve("cryptopro-a"))
    sub = x509.issue_certificate(sub_key.public_key(), "CN=Sub CA", inter, inter_key, ca=True)
    _, deep = _leaf(sub_key, sub)
    with pytest.raises(CertificateNotTrusted, match="path length"):
        x509.verify_chain(deep, [inter, sub], [root])
    deep_path = _write(tmp_path, "deep.pem", deep.pem)
    untrusted = _write(tmp_path, "untrusted.pem", inter.pem + sub.pem)
    refused = openssl.run(
        "verify", "-CAfile", root_path, "-untrusted", untrusted, deep_path, check=False
    )
    assert refused.returncode != 0


# ----------------------------------------------------------------------------------------------
# Their certificates in us
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "paramset", "md"),
    [
        ("gost2012_256", "A", "-md_gost12_256"),
        ("gost2012_256", "TCA", "-md_gost12_256"),
        ("gost2012_256", "XA", "-md_gost12_256"),
        ("gost2012_512", "A", "-md_gost12_512"),
        ("gost2012_512", "C", "-md_gost12_512"),
    ],
)
def test_openssl_certificates_parse_and_verify(
    openssl: Tool, tmp_path: Path, alg: str, paramset: str, md: str
) -> None:
    ca_key = tmp_path / "ca.key"
    openssl.run("genpkey", "-algorithm", alg, "-pkeyopt", f"paramset:{paramset}", "-out", ca_key)
    ca_path = tmp_path / "ca.pem"
    openssl.run(
        "req", "-new", "-x509", "-key", ca_key, md, "-days", "30",
        "-subj", f"/CN=OpenSSL CA/O=Лаборатория/C=RU/OGRN={OGRN}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        "-utf8", "-out", ca_path,
    )  # fmt: skip
    ca = Certificate.load(ca_path.read_bytes())
    # OpenSSL writes NULL parameters in the signature algorithm: accepted.
    sig_alg = asn1.decode(ca.der).children()[1].children()
    assert len(sig_alg) == 2 and sig_alg[1].is_universal(asn1.NULL)
    assert ca.subject.common_name == "OpenSSL CA"
    assert ca.subject.organization == "Лаборатория"
    assert ca.subject.ogrn == OGRN and ca.subject["ОГРН"] == OGRN  # (OpenSSL 3.0 lacks INNLE)
    assert ca.is_ca and ca.key_usage == frozenset({"keyCertSign", "cRLSign", "digitalSignature"})
    assert ca.public_key == keys.load_private_key(ca_key.read_bytes()).public_key()
    # OpenSSL computes the SKI the same way we do.
    assert ca.subject_key_identifier == x509.subject_key_identifier(ca.public_key)
    assert x509.verify_chain(ca, [], [ca]) == [ca]

    # A leaf from an OpenSSL CSR signed by the OpenSSL CA.
    leaf_key = tmp_path / "leaf.key"
    openssl.run("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:B", "-out", leaf_key)
    csr = tmp_path / "leaf.csr"
    openssl.run(
        "req", "-new", "-key", leaf_key, "-md_gost12_256", "-utf8",
        "-subj", f"/CN=Петров/SN=Петров/GN=Сергей/title=Председатель ВК/SNILS={SNILS}/INN={INN}",
        "-out", csr,
    )  # fmt: skip
    ext = _write(tmp_path, "ext.cnf", b"keyUsage=critical,digitalSignature,nonRepudiation\n")
    leaf_path = tmp_path / "leaf.pem"
    openssl.run(
        "x509", "-req", "-in", csr, "-CA", ca_path, "-CAkey", ca_key, md, "-days", "10",
        "-set_serial", "0x1234", "-extfile", ext, "-out", leaf_path,
    )  # fmt: skip
    leaf = Certificate.load(leaf_path.read_bytes())
    assert leaf.serial == 0x1234
    assert leaf.subject.snils == SNILS and leaf.subject.inn == INN
    assert leaf.subject.title == "Председатель ВК" and leaf.subject.given_name == "Сергей"
    assert leaf.key_usage == frozenset({"digitalSignature", "nonRepudiation"})
    assert leaf.authority_key_identifier == ca.subject_key_identifier
    assert x509.verify_chain(leaf, [], [ca]) == [leaf, ca]
    with pytest.raises(CertificateExpired):
        x509.verify_chain(leaf, [], [ca], at=NOW + timedelta(days=20))


def test_openssl_v1_certificate(openssl: Tool, tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    openssl.run("genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", key)
    # Without -addext (and without a [req] section in the configuration): a v1 certificate.
    v1 = openssl.run(
        "req", "-new", "-x509", "-key", key, "-md_gost12_256", "-days", "3",
        "-subj", "/CN=v1/O=lab/C=RU",
    ).stdout  # fmt: skip
    root = Certificate.load(v1)
    assert root.version == 1 and root.extensions == ()
    assert root.is_ca  # a self-issued v1 certificate is a root
    x509.verify_chain(root, [], [root])


def test_certtool_certificates(certtool: Tool, tmp_path: Path) -> None:
    key_path = tmp_path / "k.pem"
    certtool.run(
        "--generate-privkey", "--key-type", "gost12-512", "--curve", "TC26-512-A",
        "--outfile", key_path,
    )  # fmt: skip
    template = _write(
        tmp_path,
        "t.cfg",
        (
            'cn = "УЦ certtool"\norganization = "Лаборатория"\ncountry = RU\nserial = 77\n'
            "expiration_days = 365\nca\ncert_signing_key\ncrl_signing_key\nsigning_key\n"
        ).encode(),
    )
    ca_path = tmp_path / "ca.pem"
    certtool.run(
        "--generate-self-signed", "--load-privkey", key_path, "--template", template,
        "--outfile", ca_path,
    )  # fmt: skip
    ca = Certificate.load(ca_path.read_bytes())
    # certtool leaves the signature algorithm parameters absent (RFC 9215).
    assert len(asn1.decode(ca.der).children()[1].children()) == 1
    assert ca.serial == 77 and ca.subject.common_name == "УЦ certtool"
    assert ca.public_key == keys.load_private_key(key_path.read_bytes()).public_key()
    x509.verify_chain(ca, [], [ca])

    # certtool signs a leaf for our key; its CRL revokes that leaf.
    ours = PrivateKey.generate(get_curve("cryptopro-xcha"))
    pub_path = _write(tmp_path, "pub.pem", keys.dump_public_key(ours.public_key()))
    leaf_template = _write(
        tmp_path, "leaf.cfg", b'cn = "Leaf"\nserial = 78\nexpiration_days = 30\nsigning_key\n'
    )
    leaf_path = tmp_path / "leaf.pem"
    certtool.run(
        "--generate-certificate", "--load-pubkey", pub_path, "--load-ca-privkey", key_path,
        "--load-ca-certificate", ca_path, "--template", leaf_template, "--outfile", leaf_path,
    )  # fmt: skip
    leaf = Certificate.load(leaf_path.read_bytes())
    assert leaf.public_key == ours.public_key()
    x509.verify_chain(leaf, [], [ca])
    crl_template = _write(tmp_path, "crl.cfg", b"crl_next_update = 30\ncrl_number = 5\n")
    crl_path = tmp_path / "crl.pem"
    certtool.run(
        "--generate-crl", "--load-ca-privkey", key_path, "--load-ca-certificate", ca_path,
        "--load-certificate", leaf_path, "--template", crl_template, "--outfile", crl_path,
    )  # fmt: skip
    crl = CertificateRevocationList.load(crl_path.read_bytes())
    crl.verify(ca)
    assert crl.number == 5 and crl.is_revoked(leaf) and not crl.is_revoked(ca)
    with pytest.raises(CertificateRevoked):
        x509.verify_chain(leaf, [], [ca], crls=[crl])


# ----------------------------------------------------------------------------------------------
# CRLs
# ----------------------------------------------------------------------------------------------


def test_our_crl_in_openssl_and_certtool(openssl: Tool, certtool: Tool, tmp_path: Path) -> None:
    ca_key, ca = _ca()
    _, revoked = _leaf(ca_key, ca)
    _, good = _leaf(ca_key, ca)
    crl = x509.issue_crl(ca, ca_key, [(revoked, None, "keyCompromise")], number=42)
    assert crl.is_revoked(revoked) and not crl.is_revoked(good)
    assert crl.revoked[revoked.serial].reason == "keyCompromise" and crl.number == 42
    crl.verify(ca)
    ca_path = _write(tmp_path, "ca.pem", ca.pem)
    crl_path = _write(tmp_path, "crl.pem", crl.pem)
    out = openssl.run("crl", "-in", crl_path, "-CAfile", ca_path, "-noout")
    assert b"verify OK" in out.stderr + out.stdout
    text = openssl.run("crl", "-in", crl_path, "-noout", "-text").stdout.decode()
    assert "Key Compromise" in text and f"{revoked.serial:X}" in text
    revoked_path = _write(tmp_path, "revoked.pem", revoked.pem)
    good_path = _write(tmp_path, "good.pem", good.pem)
    bad = openssl.run(
        "verify", "-crl_check", "-CRLfile", crl_path, "-CAfile", ca_path, revoked_path,
        check=False,
    )  # fmt: skip
    assert bad.returncode != 0 and b"certificate revoked" in bad.stdout + bad.stderr
    openssl.run("verify", "-crl_check", "-CRLfile", crl_path, "-CAfile", ca_path, good_path)
    out = certtool.run("--verify-crl", "--load-ca-certificate", ca_path, "--infile", crl_path)
    assert b"Verified" in out.stdout

    assert x509.verify_chain(good, [], [ca], crls=[crl]) == [good, ca]
    with pytest.raises(CertificateRevoked, match="keyCompromise"):
        x509.verify_chain(revoked, [], [ca], crls=[crl])
    # DER round trip and tampering.
    assert CertificateRevocationList.load(crl.der).revoked == crl.revoked
    tampered = bytearray(crl.der)
    tampered[-3] ^= 0x40
    with pytest.raises(InvalidSignature):
        CertificateRevocationList(bytes(tampered)).verify(ca)
    with pytest.raises(InvalidSignature):
        x509.verify_chain(good, [], [ca], crls=[CertificateRevocationList(bytes(tampered))])
    other_key, other_ca = _ca()
    with pytest.raises(InvalidSignature):
        x509.issue_crl(other_ca, other_key).verify(ca)  # same name, other key


def test_openssl_crl_in_us(openssl: Tool, tmp_path: Path) -> None:
    ca_key, ca = _ca("tc26-512-b")
    _, leaf = _leaf(ca_key, ca)
    ca_path = _write(tmp_path, "ca.pem", ca.pem)
    key_path = _write(tmp_path, "ca.key", keys.dump_private_key(ca_key))
    leaf_path = _write(tmp_path, "leaf.pem", leaf.pem)
    (tmp_path / "index.txt").write_bytes(b"")
    (tmp_path / "crlnumber").write_bytes(b"07\n")
    cnf = _write(
        tmp_path,
        "ca.cnf",
        b"[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\n"
        b"default_md = md_gost12_512\ndefault_crl_days = 30\n",
    )
    common = ("-config", cnf, "-keyfile", key_path, "-cert", ca_path)
    openssl.run("ca", *common, "-revoke", leaf_path, "-crl_reason", "superseded", cwd=tmp_path)
    crl_path = tmp_path / "crl.pem"
    openssl.run("ca", *common, "-gencrl", "-out", crl_path, cwd=tmp_path)
    crl = CertificateRevocationList.load(crl_path.read_bytes())
    crl.verify(ca)
    assert crl.number == 7 and crl.next_update is not None
    assert crl.revoked[leaf.serial].reason == "superseded"
    with pytest.raises(CertificateRevoked, match="superseded"):
        x509.verify_chain(leaf, [], [ca], crls=[crl])


# ----------------------------------------------------------------------------------------------
# Verification failures
# ----------------------------------------------------------------------------------------------


def test_validity_checks() -> None:
    ca_key, ca = _ca(not_before=NOW - timedelta(days=100))
    start = NOW - timedelta(days=10)
    _, leaf = _leaf(ca_key, ca, not_before=start, days=5)
    assert leaf.not_before == start.replace(microsecond=0)
    assert leaf.not_before.tzinfo is not None
    with pytest.raises(CertificateExpired, match="expired"):
        x509.verify_chain(leaf, [], [ca])
    assert x509.verify_chain(leaf, [], [ca], at=start + timedelta(days=1))
    with pytest.raises(CertificateExpired, match="not valid before"):
        x509.verify_chain(leaf, [], [ca], at=start - timedelta(days=1))
    with pytest.raises(CertificateExpired):  # the root itself has expired by then
        x509.verify_chain(ca, [], [ca], at=NOW + timedelta(days=4000))
    with pytest.raises(InvalidInput, match="timezone"):
        x509.verify_chain(leaf, [], [ca], at=datetime(2030, 1, 1))
    _, future = _leaf(ca_key, ca, not_before=NOW + timedelta(days=3))
    with pytest.raises(CertificateExpired, match="not valid before"):
        x509.verify_chain(future, [], [ca])
    assert not future.is_valid_at() and future.is_valid_at(NOW + timedelta(days=4))


def test_untrusted_and_wrong_issuer() -> None:
    ca_key, ca = _ca()
    _, other = _ca()  # same name, different key
    _, leaf = _leaf(ca_key, ca)
    with pytest.raises(CertificateNotTrusted):
        x509.verify_chain(leaf, [], [])
    with pytest.raises(CertificateNotTrusted, match="another key"):
        x509.verify_issued_by(leaf, other)
    with pytest.raises(CertificateNotTrusted):
        x509.verify_chain(leaf, [], [other])
    # Without key identifiers the name matches and the signature is what fails.
    bare_key = PrivateKey.generate(get_curve("cryptopro-a"))
    bare = _without_aki(leaf, ca_key)
    assert bare.authority_key_identifier is None
    with pytest.raises(InvalidSignature):
        x509.verify_chain(bare, [], [other])
    assert x509.verify_chain(bare, [], [ca]) == [bare, ca]
    # A leaf cannot issue.
    # Signed by a leaf key while naming the CA as issuer.
    leaf_key, _ = _leaf(ca_key, ca)
    grandchild = _without_aki(leaf, leaf_key)
    with pytest.raises(InvalidSignature):
        x509.verify_chain(grandchild, [], [ca])
    with pytest.raises(InvalidSignature):
        x509.verify_issued_by(grandchild, ca)
    fake_ca = x509.issue_certificate(
        bare_key.public_key(), "CN=Не УЦ", None, bare_key, key_usage=["digitalSignature"]
    )
    with pytest.raises(CertificateNotTrusted, match="not a CA"):
        x509.issue_certificate(bare_key.public_key(), "CN=x", fake_ca, bare_key)
    with pytest.raises(InvalidKey, match="does not belong"):
        x509.issue_certificate(bare_key.public_key(), "CN=x", ca, bare_key)


def _without_aki(cert: Certificate, issuer_key: PrivateKey) -> Certificate:
    """Re-sign ``cert`` with its AKI/SKI extensions removed."""
    tbs_items = asn1.decode(cert.tbs_der).children()
    exts = [e for e in cert.extensions if e.oid not in (x509.OID_AKI, x509.OID_SKI)]
    new_ext = asn1.explicit(3, asn1.sequence(*(e.encode() for e in exts)))
    tbs = asn1.sequence(*(i.der for i in tbs_items[:-1]), new_ext)
    alg = asn1.decode(cert.der).children()[1].der
    return Certificate(asn1.sequence(tbs, alg, asn1.bit_string(issuer_key.sign(tbs))))


def test_unknown_critical_extension_and_key_usage() -> None:
    ca_key, ca = _ca()
    weird = Extension("1.2.3.4.5", True, asn1.null())
    _, leaf = _leaf(ca_key, ca, extensions=[weird])
    with pytest.raises(CertificateNotTrusted, match=r"1\.2\.3\.4\.5"):
        x509.verify_chain(leaf, [], [ca])
    harmless = Extension("1.2.3.4.5", False, asn1.null())
    _, leaf = _leaf(ca_key, ca, extensions=[harmless])
    x509.verify_chain(leaf, [], [ca])
    # A CA without keyCertSign cannot issue.
    nosign_key, nosign = _ca(key_usage=["digitalSignature", "cRLSign"])
    _, child = _leaf(nosign_key, nosign)
    with pytest.raises(CertificateNotTrusted, match="keyUsage"):
        x509.verify_issued_by(child, nosign)


def test_signature_algorithm_checks() -> None:
    ca_key, ca = _ca()
    _, leaf = _leaf(ca_key, ca)
    top = asn1.decode(leaf.der).children()
    tbs = top[0].der

    def rebuild(alg: bytes, sig: bytes = leaf.signature, inner: bytes | None = None) -> bytes:
        new_tbs = tbs if inner is None else inner
        return asn1.sequence(new_tbs, alg, asn1.bit_string(sig))

    absent = asn1.sequence(asn1.oid("1.2.643.7.1.1.3.2"))
    with_null = asn1.sequence(asn1.oid("1.2.643.7.1.1.3.2"), asn1.null())
    assert Certificate(rebuild(absent)).der == leaf.der  # we write it absent
    Certificate(rebuild(with_null)).verify_signature(ca.public_key)  # NULL accepted outside
    rsa = asn1.sequence(asn1.oid("1.2.840.113549.1.1.11"), asn1.null())
    with pytest.raises(UnsupportedAlgorithm, match="not GOST"):
        Certificate(rebuild(rsa))
    gost2001 = asn1.sequence(asn1.oid("1.2.643.2.2.3"))
    with pytest.raises(UnsupportedAlgorithm, match="2001"):
        Certificate(rebuild(gost2001))
    with pytest.raises(InvalidInput, match="differs"):
        Certificate(rebuild(asn1.sequence(asn1.oid("1.2.643.7.1.1.3.3")), leaf.signature * 2))
    with pytest.raises(InvalidInput, match="64"):
        Certificate(rebuild(absent, leaf.signature[:63]))
    # Zero signature parts.
    n = 32
    for sig in (bytes(n) + leaf.signature[n:], leaf.signature[:n] + bytes(n), bytes(2 * n)):
        with pytest.raises(InvalidSignature, match="r and s"):
            x509.verify_issued_by(Certificate(rebuild(absent, sig)), ca)
    # A 512-bit algorithm OID on a certificate whose issuer key is 256-bit.
    inner_items = asn1.decode(tbs).children()
    alg512 = asn1.sequence(asn1.oid("1.2.643.7.1.1.3.3"))
    tbs512 = asn1.sequence(inner_items[0].der, inner_items[1].der, alg512,
                           *(i.der for i in inner_items[3:]))  # fmt: skip
    odd = Certificate(rebuild(alg512, leaf.signature * 2, tbs512))
    with pytest.raises(InvalidSignature, match="512-bit"):
        x509.verify_issued_by(odd, ca)


def test_malformed_certificates() -> None:
    ca_key, ca = _ca()
    der = ca.der
    for cut in (1, 2, 100, len(der) - 1):
        with pytest.raises(InvalidInput):
            Certificate(der[:-cut])
    with pytest.raises(InvalidInput, match="trailing"):
        Certificate(der + b"\x00")
    oversized = der[:1] + b"\x84\x7f\xff\xff\xff" + der[4:]
    with pytest.raises(InvalidInput):
        Certificate(oversized)
    indefinite = b"\x30\x80" + der[4:] + b"\x00\x00"
    with pytest.raises(InvalidInput, match="indefinite"):
        Certificate(indefinite)
    with pytest.raises(InvalidInput):
        Certificate.load(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(InvalidInput, match="no PEM block CERTIFICATE"):
        Certificate.load(keys.dump_private_key(ca_key))
    # Public key off the curve inside an otherwise well-formed certificate.
    spki = asn1.decode(ca.spki_der)
    raw = bytearray(ca.public_key.to_le())
    raw[0] ^= 1
    bad_spki = asn1.sequence(spki.children()[0].der, asn1.bit_string(asn1.octet_string(bytes(raw))))
    items = asn1.decode(ca.tbs_der).children()
    tbs = asn1.sequence(*(bad_spki if i.der == ca.spki_der else i.der for i in items))
    alg = asn1.decode(der).children()[1].der
    with pytest.raises(InvalidKey, match="not on curve"):
        Certificate(asn1.sequence(tbs, alg, asn1.bit_string(ca.signature)))


# ----------------------------------------------------------------------------------------------
# Names and parsing
# ----------------------------------------------------------------------------------------------


def test_parse_subject() -> None:
    pairs = x509.parse_subject(f'CN=Иванов\\, Иван, O="ГБУЗ, филиал", OGRN={OGRN}, 2.5.4.12=Врач')
    assert pairs == [
        ("2.5.4.3", "Иванов, Иван"),
        ("2.5.4.10", "ГБУЗ, филиал"),
        ("1.2.643.100.1", OGRN),
        ("2.5.4.12", "Врач"),
    ]
    assert x509.parse_subject(f"/CN=a/O=b\\/c/SNILS={SNILS}") == [
        ("2.5.4.3", "a"),
        ("2.5.4.10", "b/c"),
        ("1.2.643.100.3", SNILS),
    ]
    assert x509.parse_subject("СНИЛС=" + SNILS + ";ИНН ЮЛ=" + INN_LE) == [
        ("1.2.643.100.3", SNILS),
        ("1.2.643.100.4", INN_LE),
    ]
    for bad, message in [
        ("", "empty"),
        ("CN", "no '='"),
        ("XX=1", "unknown name attribute"),
        ("CN=", "empty value"),
        ('CN="open', "quotes"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            x509.parse_subject(bad)


def test_name_access_and_display() -> None:
    ca_key, ca = _ca()
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    cert = x509.issue_certificate(
        key.public_key(),
        "CN=ГБУЗ Поликлиника,O=ГБУЗ Поликлиника,OU=Регистратура,L=Москва,ST=77 г. Москва,"
        "street=ул. Тестовая\\, д. 1,E=mo@example.test,C=RU",
        ca,
        ca_key,
        ogrn=OGRN,
        inn_le=INN_LE,
    )
    subject = cert.subject
    assert subject.ogrn == OGRN and subject.inn_le == INN_LE and subject.snils is None
    assert subject.common_name == "ГБУЗ Поликлиника" and subject.organizational_unit
    assert subject.street == "ул. Тестовая, д. 1" and subject.email == "mo@example.test"
    assert subject.country == "RU" and subject.locality == "Москва" and subject.region
    assert subject["ОГРН"] == OGRN and "OGRN" in subject and "SNILS" not in subject
    assert subject.get("1.2.643.100.1") == OGRN
    labels = dict(subject.display())
    assert labels["ОГРН"] == OGRN and labels["ИНН ЮЛ"] == INN_LE
    assert labels["Общее имя"] == "ГБУЗ Поликлиника" and labels["Организация"]
    assert labels["Подразделение"] == "Регистратура" and labels["Страна"] == "RU"
    assert str(subject).startswith("CN=ГБУЗ Поликлиника, O=ГБУЗ Поликлиника")
    assert "street=ул. Тестовая\\, д. 1" in str(subject)
    # DER string types required by the Russian profile.
    types = {a.oid: a.tag for a in subject.attributes()}
    assert types[x509.OID_OGRN] == asn1.NUMERIC_STRING == types[x509.OID_INN_LE]
    assert types[x509.OID_C] == asn1.PRINTABLE_STRING and types[x509.OID_EMAIL] == 22
    assert types[x509.OID_CN] == asn1.UTF8_STRING
    # Name comparison folds case and spaces.
    assert x509.Name.build("CN=Тест  УЦ") == x509.Name.build("cn=тест уц")
    assert x509.Name.build("CN=a,O=b") != x509.Name.build("O=b,CN=a")
    with pytest.raises(InvalidInput, match="digits"):
        x509.Name.build({"OGRN": "12-34"})
    assert cert.thumbprint == hashlib.sha1(cert.der).hexdigest()
    assert cert.pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert Certificate.load(cert.pem) == cert and hash(cert) == hash(Certificate(cert.der))
    assert x509.load_certificates(cert.pem + ca.pem) == [cert, ca]
    assert cert.public_key_algorithm == "1.2.643.7.1.1.1.1"
    assert cert.signature_algorithm == "1.2.643.7.1.1.3.2"


def test_issue_options() -> None:
    ca_key, ca = _ca("tc26-512-a")
    key = PrivateKey.generate(get_curve("cryptopro-a"))
    cert = x509.issue_certificate(
        key.public_key(),
        [("CN", "Фонд")],
        ca,
        ca_key,
        serial=0x0102,
        days=10,
        extended_key_usage=["clientAuth", "1.2.643.2.2.34.6"],
    )
    assert cert.serial == 0x0102 and cert.version == 3
    assert cert.signature_algorithm == "1.2.643.7.1.1.3.3"  # the issuer key is 512-bit
    assert cert.extended_key_usage == ("1.3.6.1.5.5.7.3.2", "1.2.643.2.2.34.6")
    assert cert.not_after - cert.not_before == timedelta(days=10)
    assert cert.basic_constraints == (False, None) and not cert.is_ca
    assert ca.basic_constraints == (True, None) and ca.is_self_issued
    assert cert.authority_key_identifier == ca.subject_key_identifier
    with pytest.raises(InvalidInput, match="serial"):
        x509.issue_certificate(key.public_key(), "CN=x", ca, ca_key, serial=0)
    with pytest.raises(InvalidInput, match="key usage"):
        x509.issue_certificate(key.public_key(), "CN=x", ca, ca_key, key_usage=["fly"])
    with pytest.raises(InvalidInput, match="ends before"):
        x509.issue_certificate(key.public_key(), "CN=x", ca, ca_key, days=-1)
    with pytest.raises(InvalidInput, match="twice"):
        x509.issue_certificate(
            key.public_key(),
            "CN=x",
            ca,
            ca_key,
            extensions=[Extension(x509.OID_KEY_USAGE, True, asn1.named_bits({0}))],
        )


# ----------------------------------------------------------------------------------------------
# Test PKI
# ----------------------------------------------------------------------------------------------


def test_test_pki(openssl: Tool, tmp_path: Path) -> None:
    pki = create_test_pki()
    assert pki.mo.cert.subject.ogrn and pki.mo.cert.subject.inn_le
    assert pki.doctor.cert.subject.snils and pki.chairman.cert.subject.snils
    assert pki.doctor.cert.subject.snils != pki.chairman.cert.subject.snils
    assert "врачебной комиссии" in (pki.chairman.cert.subject.title or "")
    assert pki.fund.cert.subject.ogrn and "Фонд" in (pki.fund.cert.subject.common_name or "")
    for party in pki.parties.values():
        assert x509.verify_chain(party.cert, [], [pki.ca.cert])[-1] == pki.ca.cert
        assert party.cert.public_key == party.key.public_key()
        assert party.cert.public_key.curve.name == "cryptopro-xcha"
    files = pki.write(tmp_path, password="test")
    out = openssl.run(
        "verify", "-CAfile", files["ca"], files["mo"], files["doctor"], files["chairman"],
        files["fund"],
    ).stdout.decode()  # fmt: skip
    assert out.count(": OK") == 4
    openssl.run("pkey", "-in", files["doctor.key"], "-passin", "pass:test", "-noout")
    assert keys.load_private_key(files["mo.key"].read_bytes(), "test").scalar == (pki.mo.key.scalar)
    crl = CertificateRevocationList.load(files["crl"].read_bytes())
    crl.verify(pki.ca.cert)
    assert not crl.revoked
    revoked = pki.crl([pki.doctor.cert])
    with pytest.raises(CertificateRevoked):
        x509.verify_chain(pki.doctor.cert, [], [pki.ca.cert], crls=[revoked])


def test_describe_in_russian() -> None:
    pki = create_test_pki()
    text = x509.describe(pki.mo.cert)
    assert f"ОГРН: {pki.mo.cert.subject.ogrn}" in text
    assert "ИНН ЮЛ: " in text and "Общее имя: ГБУЗ" in text and "Организация: " in text
    assert "Удостоверяющий центр: нет" in text and pki.mo.cert.thumbprint in text
    assert f"Серийный номер: {pki.mo.cert.serial_hex}" in text
    assert "Цифровая подпись" in text and "cryptopro-xcha" in text
    doctor = x509.describe(pki.doctor.cert)
    assert "СНИЛС: " in doctor and "Должность: Врач-терапевт участковый" in doctor
    assert "Фамилия: Иванова" in doctor and "Имя и отчество: Мария Петровна" in doctor
    assert "Удостоверяющий центр: да" in x509.describe(pki.ca.cert)
    assert len(pki.mo.cert.serial_hex) % 2 == 0
    assert int(pki.mo.cert.serial_hex, 16) == pki.mo.cert.serial
    assert x509.load_certificate(pki.mo.cert.pem) == pki.mo.cert
    assert pki.mo.cert.subject_text == str(pki.mo.cert.subject)
    assert pki.mo.cert.issuer_text == str(pki.ca.cert.subject)


def test_name_with_non_string_attribute() -> None:
    der = asn1.sequence(
        asn1.set_of(asn1.sequence(asn1.oid("2.5.4.3"), asn1.utf8_string("x"))),
        asn1.set_of(asn1.sequence(asn1.oid("1.2.3.4"), asn1.integer(5))),
    )
    name = x509.Name.from_element(asn1.decode(der))
    assert str(name) == "CN=x, 1.2.3.4=#020105"
    assert name.der == der and name.get("1.2.3.4") == "#020105"
