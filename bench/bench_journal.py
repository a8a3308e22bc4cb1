"""The journal «Работа с ЕИИС Соцстрах» at 100 000 ELNs on SQLite and PostgreSQL.

Run: python bench/bench_journal.py [--backend sqlite|postgresql|both] [--elns 100000]
                                   [--pg-url URL]

1. fills a throw-away database with ``--elns`` ELN rows in bulk (``insert_many`` in
   transactions of 1 000 rows; the derived columns the views page on are filled as the store
   would: journal_state, surname_key, first_dt1, last_dt2) spread over 20 doctors and the
   journal states (sent 80 %, pending 5 %, errors 2 %, received 5 %, terminated 3 %,
   drafts 5 %);
2. measures in a fresh child process (so that the figures are those of a process that only
   opens the journal): opening each of the six views (first page of 50, ``journal_page``),
   the same with the total count, «Мои ЭЛН» of one doctor, keyset paging through 100 pages,
   one ``offset`` page half-way for comparison, and searches by number, SNILS and surname;
   every figure is the median of 5 runs after one warm-up run, the very first query of the
   process is reported separately;
3. the child's peak memory: its peak RSS (VmHWM) at start and at the end, and tracemalloc's
   peak of Python allocations while opening all views and paging 100 pages.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdb import PG_ADMIN_URL, temp_database

FIRST_CODE = 910_000_000_000
DOCTORS = 20
CHUNK = 1000
SURNAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Федоров Морозов "
    "Волков Алексеев Лебедев Семенов Егоров Павлов Козлов Степанов Николаев Орлов Андреев "
    "Макаров Никитин Захаров Зайцев Соловьев Борисов Яковлев Григорьев Романов Воробьев "
    "Сергеев Кузьмин Фролов Александров Дмитриев Королев Гусев Киселев Ильин Максимов Поляков "
    "Сорокин Виноградов Ковалев Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров "
    "Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов "
    "Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов "
    "Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин "
    "Исаев Чернышев Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарев "
    "Голубев Кудрявцев Прохоров Наумов Потапов Журавлев Овчинников Трофимов Леонов Соболев "
    "Ермаков Колесников Гончаров Емельянов Никифоров Грачев Котов Гришин Ефремов Архипов "
    "Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов "
    "Еремин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев "
    "Харитонов Князев Цветков Левин Митрофанов Воронов Аксенов Софронов Мальцев Логинов Горшков"
).split()
NAMES = "Александр Сергей Дмитрий Андрей Алексей Иван Михаил Николай Владимир Павел".split()
PATRONYMICS = "Александрович Сергеевич Дмитриевич Андреевич Иванович Петрович".split()
STATES = (
    ("sent", 80, "030"),
    ("pending", 5, "010"),
    ("error", 2, "010"),
    ("received", 5, "010"),
    ("terminated", 3, "090"),
    ("draft", 5, "000"),
)


def snils(n: int) -> str:
    from gostsign.testpki import snils_with_check

    return snils_with_check(f"{100_000_000 + n * 7:09d}")


def make_rows(count: int, doctor_ids: list[int], seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    weights = [w for _, w, _ in STATES]
    now = datetime(2026, 12, 4, 9, 0)
    rows = []
    for i in range(count):
        state, _, ln_state = rng.choices(STATES, weights)[0]
        surname = rng.choice(SURNAMES)
        dt1 = date(2025, 1, 1) + timedelta(days=i * 700 // count)
        dt2 = dt1 + timedelta(days=rng.randint(3, 20))
        code = str(FIRST_CODE + i)
        rows.append(
            {
                "ln_code": None if state == "draft" and i % 2 else code,
                "electronic": True,
                "snils": snils(i),
                "surname": surname,
                "name": rng.choice(NAMES),
                "patronymic": rng.choice(PATRONYMICS),
                "surname_key": surname.upper(),
                "birthday": date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000)),
                "gender": 0,
                "lpu_name": "ГБУЗ «Городская поликлиника № 1»",
                "lpu_ogrn": "1027700000001",
                "ln_date": dt1,
                "reason1": "01",
                "diagnos": "J06.9",
                "ln_state": ln_state,
                "source": "fss" if state == "received" else "local",
                "number_from_pool": True,
                "doctor": doctor_ids[i % len(doctor_ids)],
                "transfer_error": "Ошибка ФЛК: неверный СНИЛС" if state == "error" else None,
                "last_sent_at": now if state in ("sent", "terminated") else None,
                "term_reason_code": "010" if state == "terminated" else None,
                "journal_state": state,
                "first_dt1": dt1,
                "last_dt2": dt2,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def fill(url: str, count: int) -> float:
    """Create the schema and ``count`` ELNs; returns rows inserted per second."""
    from eln_tui.core.storage import models as m
    from eln_tui.core.storage import open_database, upgrade

    db = open_database(url)
    upgrade(db)
    with db.atomic():
        m.User.insert_many(
            [
                {"login": f"doctor{k}", "full_name": f"Врач {k}", "created_at": datetime.now()}
                for k in range(DOCTORS)
            ]
        ).execute()
    doctor_ids = [u.id for u in m.User.select(m.User.id).order_by(m.User.id)]
    rows = make_rows(count, doctor_ids)
    start = time.perf_counter()
    for first in range(0, count, CHUNK):
        with db.atomic():
            m.Eln.insert_many(rows[first : first + CHUNK]).execute()
    elapsed = time.perf_counter() - start
    db.execute_sql("ANALYZE")  # as autovacuum / a DBA would; plans depend on statistics
    db.close()
    return count / elapsed


def median_ms(fn: Callable[[], object], runs: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def peak_rss_mb() -> float:
    """This process's peak resident set size.

    VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec, so a child would report the
    parent's peak at fork time (here: the parent held 100 000 rows to insert).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, count: int) -> dict[str, object]:
    """Runs in the child process: every timing and the memory figures."""
    import tracemalloc

    from eln_tui.core.domain.codes import JournalView
    from eln_tui.core.storage import journal_page, open_database

    out: dict[str, object] = {}
    rss_start = peak_rss_mb()
    db = open_database(url)
    start = time.perf_counter()
    first = journal_page(JournalView.ALL, limit=50)
    out["first query of the process"] = (time.perf_counter() - start) * 1000
    assert len(first.rows) == 50 and first.next_after is not None

    for view in JournalView:
        page = journal_page(view, limit=50)
        assert page.rows, f"view {view} is empty"
        out[f"open «{view.label}»"] = median_ms(lambda v=view: journal_page(v, limit=50))
    for view in JournalView:
        total = journal_page(view, limit=50, count=True).total
        out[f"open «{view.label}» with count ({total})"] = median_ms(
            lambda v=view: journal_page(v, limit=50, count=True)
        )
    out["open «Мои ЭЛН» (one doctor of 20)"] = median_ms(lambda: journal_page(doctor_id=3))

    def walk(view: JournalView, pages: int) -> None:
        after = None
        for _ in range(pages):
            page = journal_page(view, after=after, limit=50)
            after = page.next_after
            assert after is not None

    out["keyset paging «Полный список», per page (100 pages)"] = (
        median_ms(lambda: walk(JournalView.ALL, 100), runs=3) / 100
    )
    out["keyset paging «Переданы», per page (100 pages)"] = (
        median_ms(lambda: walk(JournalView.SENT, 100), runs=3) / 100
    )
    deep = journal_page(offset=count // 2, limit=50).rows[0].id
    out["keyset page half-way down «Полный список»"] = median_ms(
        lambda: journal_page(after=deep, limit=50)
    )
    out["offset page half-way down «Полный список»"] = median_ms(
        lambda: journal_page(offset=count // 2, limit=50)
    )

    code = str(FIRST_CODE + count // 3)
    searches = {
        f"search number {code}": (JournalView.ALL, code, 1),
        f"search number prefix {code[:9]}": (JournalView.ALL, code[:9], 50),
        f"search SNILS {snils(count // 3)}": (JournalView.ALL, snils(count // 3), 1),
        "search surname «Иванов» (common)": (JournalView.ALL, "Иванов", 50),
        "search surname prefix «Горш»": (JournalView.ALL, "Горш", 50),
        "search surname «Иванов» in «Ошибки передачи»": (JournalView.ERRORS, "Иванов", 1),
        "search surname with no match «Щукин»": (JournalView.ALL, "Щукин", 0),
    }
    for label, (view, text, at_least) in searches.items():
        found = journal_page(view, search=text, limit=50)
        assert len(found.rows) >= at_least, (label, len(found.rows))
        out[label] = median_ms(lambda v=view, t=text: journal_page(v, search=t, limit=50))

    out["peak RSS at start (interpreter + imports), MB"] = rss_start
    out["peak RSS after all of the above, MB"] = peak_rss_mb()
    tracemalloc.start()
    for view in JournalView:
        journal_page(view, limit=50, count=True)
    walk(JournalView.ALL, 100)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["tracemalloc peak: six views + 100 pages, MB"] = peak / 1e6
    db.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--elns", type=int, default=100_000)
    ap.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server (admin database)")
    ap.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.elns)))
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results: dict[str, dict[str, object]] = {}
    for backend in backends:
        with temp_database(backend, args.pg_url) as url:
            rate = fill(url, args.elns)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", url, "--elns", str(args.elns)],
                check=True,
                capture_output=True,
                text=True,
            )
            results[backend] = {
                f"bulk insert, ELNs/s ({args.elns} rows)": rate,
                **json.loads(child.stdout),
            }
        print(f"{backend}: done", file=sys.stderr, flush=True)
    keys = list(next(iter(results.values())))
    print("| " + " | ".join(["measure (ms unless stated)", *backends]) + " |")
    print("|---|" + "---:|" * len(backends))
    for key in keys:
        cells = [f"{float(results[b][key]):.1f}" for b in backends]  # type: ignore[arg-type]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
