"""The OpenSSL gost engine paramsets the oracle tests run over, and our names for them."""

from __future__ import annotations

#: (openssl algorithm, paramset) -> our curve name.
PARAMSETS = {
    ("gost2012_256", "A"): "cryptopro-a",
    ("gost2012_256", "B"): "cryptopro-b",
    ("gost2012_256", "C"): "cryptopro-c",
    ("gost2012_256", "XA"): "cryptopro-xcha",
    ("gost2012_256", "XB"): "cryptopro-xchb",
    ("gost2012_256", "TCA"): "tc26-256-a",
    ("gost2012_256", "TCB"): "tc26-256-b",
    ("gost2012_256", "TCC"): "tc26-256-c",
    ("gost2012_256", "TCD"): "tc26-256-d",
    ("gost2012_512", "A"): "tc26-512-a",
    ("gost2012_512", "B"): "tc26-512-b",
    ("gost2012_512", "C"): "tc26-512-c",
}
IDS = [f"{alg[-3:]}-{p}" for alg, p in PARAMSETS]
