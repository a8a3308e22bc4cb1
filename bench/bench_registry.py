"""A day's registry of 1 000 ELN periods end to end against the embedded Fund emulator.

Run: python bench/bench_registry.py [--rows 1000] [--backend auto|pure|both] [--curve C]

The default (1 000 rows, accelerated only) takes about 3 minutes on 2 cores; ``--backend both``
adds the pure path (about 5 more); ``--rows 60`` is a quick check.

What a clinic does in a day, through the product's own services (``ElnStore``,
``ExchangeService``, ``FssClient`` over the real WSDL) against ``fss_emulator.Emulator`` in the
same process (its HTTP server runs in a thread, so the Fund's work competes for the same
cores and is part of the total):

* numbers: getNewLNNumRange for ``--rows`` numbers into the pool (setup, reported apart);
* build: ``--rows`` new ELNs (one period ending on the registry day, a different patient each),
  each taking a pool number and saved with the ФЛК (``ElnStore.take_number`` + ``save``);
* sign: the treating doctor signs each period block (``sign_block`` with the doctor's software
  key, then ``ElnStore.sign`` stores the fragment);
* send: ``ExchangeService.send(day)`` — preview (ФЛК of every ELN), then messages of 30 rows:
  build the registry, the МО signs every row and encrypts for the Fund (``wsse.secure``), HTTP
  to the emulator, which decrypts, checks every signature and certificate, applies, signs and
  encrypts its reply (``round trip``), the workstation decrypts and verifies the reply
  (``open reply``) and applies the verdict to the journal.

Afterwards it checks that every ELN was accepted, is «Передан» in the journal and open
(state 010) at the emulator with the same lnHash; any difference exits with status 1. ``auto``
is the accelerated path (Streebog through OpenSSL's gost engine when present), ``pure`` forces
the pure path (``GOSTSIGN_ACCEL=0``), ``both`` runs the two, each in its own process; the
journal is a throw-away SQLite file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PHASES = (
    "numbers (setup)",
    "build (take number + save with ФЛК)",
    "sign (doctor, period block)",
    "send: preview (ФЛК of every ELN)",
    "send: МО signs rows + encrypts",
    "send: round trip (emulator: decrypt, verify, apply, reply)",
    "send: decrypt + verify the reply",
    "send: apply the verdicts to the journal",
    "send: rest (load ELNs, build XML, outbox)",
    "send: total",
    "build + sign + send",
    "of which the workstation (all but the round trip)",
)


class Timer:
    """Accumulates seconds per label; wraps bound methods on instances."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, obj: object, name: str, label: str) -> None:
        real: Callable[..., Any] = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - start)

        setattr(obj, name, timed)

    def add(self, label: str, seconds: float) -> None:
        self.seconds[label] = self.seconds.get(label, 0.0) + seconds


def run(rows: int, curve: str, work: Path) -> dict[str, Any]:
    """One full day in this process; returns seconds per phase and the hash backend."""
    from eln_tui.core.domain.codes import JournalState, Role, SignerSlot
    from eln_tui.core.domain.lifecycle import journal_state
    from eln_tui.core.domain.model import Block, Employer, Gender, Patient
    from eln_tui.core.exchange import ExchangeService
    from eln_tui.core.fss import sign_block
    from eln_tui.core.storage import ElnStore, open_database, upgrade
    from fss_emulator import Emulator
    from gostsign import streebog
    from gostsign.testpki import snils_with_check
    from tests.fss import elns
    from tests.fss.e2e import make_client, software_parties

    gen = software_parties(work, curve)
    parties = next(gen)
    db = open_database(f"sqlite:///{work}/eln.sqlite3")
    upgrade(db)
    store = ElnStore(db)
    doctor = store.add_user("ivanov", "Иванов Иван Иванович", [Role.DOCTOR], position="Терапевт")
    nurse = store.add_user("kuznetsova", "Кузнецова Мария Ивановна", [Role.NURSE])
    operator = store.add_user("operator", "Оператор Олег Олегович", [Role.ELN_OPERATOR])
    day = date.today() - timedelta(days=1)
    start_day = day - timedelta(days=4)  # elns.new_eln: one 5-day period
    timer = Timer()
    with Emulator(work / "fss", trust=[parties.ca]) as emu:
        client, _ = make_client(emu, parties)
        svc = ExchangeService(store, client, operator.signer)

        t0 = time.perf_counter()
        numbers: list[str] = []
        while len(numbers) < rows:
            numbers += svc.request_numbers(min(1000, rows - len(numbers)))
        timer.add(PHASES[0], time.perf_counter() - t0)

        t0 = time.perf_counter()
        ids = []
        for i in range(rows):
            draft = elns.new_eln(
                "000000000000",
                parties.ogrn,
                start=start_day,
                ln_date=start_day,
                employer=Employer(name="ООО «Ромашка»"),
                patient=Patient(
                    snils=snils_with_check(f"{200_000_000 + i * 13:09d}"),
                    surname=f"Петров{'аеиоу'[i % 5]}",
                    name="Пётр",
                    patronymic="Петрович",
                    birthday=date(1970, 1, 1) + timedelta(days=i * 7),
                    gender=Gender.MALE,
                ),
            )
            draft.ln_code, draft.number_from_pool = None, False
            draft.doctor_id = doctor.id
            for p in draft.treat_periods:
                p.doctor_id = doctor.id
                p.doctor = doctor.full_name
            saved = store.save(store.take_number(draft, nurse.signer), nurse.signer)
            assert saved.id is not None
            ids.append(saved.id)
        timer.add(PHASES[1], time.perf_counter() - t0)

        t0 = time.perf_counter()
        block = Block("period", SignerSlot.DOC, 0)
        for eln_id in ids:
            eln = store.load(eln_id)
            frag = sign_block(eln, block, parties.doctor, "2.0")
            store.sign(eln_id, block, doctor.signer, frag.element, security=frag.security)
        timer.add(PHASES[2], time.perf_counter() - t0)

        # the send's parts (wrapped only now: requesting numbers uses the same calls)
        timer.wrap(client.wsse, "secure", PHASES[4])
        timer.wrap(client.transport, "post", PHASES[5])
        timer.wrap(client.wsse, "open_reply", PHASES[6])
        timer.wrap(svc, "_apply", PHASES[7])
        timer.wrap(svc, "preview", PHASES[3])
        t0 = time.perf_counter()
        report = svc.send(day)
        timer.add(PHASES[9], time.perf_counter() - t0)

        problems = []
        if len(report.accepted) != rows or report.rejected or report.unknown or report.blocked:
            problems.append(
                f"accepted {len(report.accepted)} of {rows}; rejected {dict(report.rejected)}; "
                f"unknown {report.unknown}; blocked {[b.reasons for b in report.blocked][:3]}"
            )
        for eln_id in ids:
            eln = store.load(eln_id)
            if journal_state(eln) is not JournalState.SENT or eln.ln_state != "010":
                problems.append(f"ELN {eln.ln_code}: {journal_state(eln)}, {eln.ln_state}")
                break
            fund = emu.eln(eln.ln_code)
            if fund is None or fund.state != "010" or fund.ln_hash != eln.ln_hash:
                problems.append(f"ELN {eln.ln_code} at the emulator: {fund}")
                break
        messages = len(report.messages)
    db.close()
    gen.close()
    if problems:
        print("FAIL: " + "; ".join(problems), file=sys.stderr)
        sys.exit(1)
    sec = timer.seconds
    sec[PHASES[8]] = sec[PHASES[9]] - sum(sec.get(p, 0.0) for p in PHASES[3:8])
    sec[PHASES[10]] = sec[PHASES[1]] + sec[PHASES[2]] + sec[PHASES[9]]
    sec[PHASES[11]] = sec[PHASES[10]] - sec[PHASES[5]]
    return {"backend": streebog.backend(), "messages": messages, "seconds": sec}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="ELN periods in the registry")
    ap.add_argument("--backend", choices=("auto", "pure", "both"), default="auto")
    ap.add_argument("--curve", default="cryptopro-a", help="key curve (tc26-512-a: 512 bits)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="eln-bench-registry-") as tmp:
            print(json.dumps(run(args.rows, args.curve, Path(tmp))))
        return
    backends = ("auto", "pure") if args.backend == "both" else (args.backend,)
    results = []
    for backend in backends:
        env = dict(os.environ)
        if backend == "pure":
            env["GOSTSIGN_ACCEL"] = "0"
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--rows", str(args.rows), "--curve", args.curve],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            sys.exit(child.returncode)
        results.append(json.loads(child.stdout))
        print(f"{backend}: done", file=sys.stderr, flush=True)
    messages = results[0]["messages"]
    print(f"{args.rows} ELN periods, {messages} messages, keys {args.curve}\n")
    head = " | ".join(f"{r['backend']}: total | per row" for r in results)
    print(f"| phase | {head} |")
    print("|---|" + "---:|---:|" * len(results))
    for phase in PHASES:
        cells = []
        for r in results:
            s = r["seconds"].get(phase, 0.0)
            cells.append(f"{s:.2f} s | {s / args.rows * 1000:.1f} ms")
        print(f"| {phase} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
