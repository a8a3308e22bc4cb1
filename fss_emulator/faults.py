"""Fault injection, switchable at run time (API and ``POST /_emulator/faults``).

A fault says what goes wrong with the reply, for which operation (None: any), and how often
(``times``: one-shot by default, ``None`` = until cleared). ``commit`` says whether the Fund keeps
the request's effect although the caller never gets a usable reply; by default it does not
(``delay`` excepted, which is only slow), so a test sees "clear error, no partial state", and
``commit=True`` models the harder case of an answer lost after the Fund acted.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from fss_emulator.dialects import OPERATIONS

FaultKind = Literal[
    "delay",  # sleep `seconds`, then answer normally
    "http500",  # HTTP `status` (500) with a non-SOAP body, as a broken proxy would
    "soap_fault",  # a clear-text SOAP Fault with `message`
    "unsigned",  # a reply without the Fund's signature
    "stranger",  # a reply signed by a certificate that is not the Fund's
    "corrupt",  # the reply's ciphertext damaged (plain mode: the signed Body altered)
    "replay",  # an earlier reply of the Fund, signed and valid, sent again
    "plain",  # the reply signed but sent unencrypted although the request was encrypted
]
KINDS: tuple[str, ...] = get_args(FaultKind)
DEFAULT_FAULT_MESSAGE = "Внутренняя ошибка сервиса"  # Errors.xsd E0010


@dataclass
class Fault:
    kind: FaultKind
    operation: str | None = None
    times: int | None = 1
    seconds: float = 0.0
    status: int = 500
    message: str = DEFAULT_FAULT_MESSAGE
    code: str = "E_0000"
    commit: bool | None = None
    id: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.operation is not None and self.operation not in OPERATIONS:
            raise ValueError(
                f"unknown operation {self.operation!r}; known: {', '.join(OPERATIONS)}"
            )
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or null for a persistent fault)")
        if self.kind == "delay" and self.seconds <= 0:
            raise ValueError("a delay fault needs seconds > 0")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")

    @property
    def commits(self) -> bool:
        return self.commit if self.commit is not None else self.kind == "delay"

    def matches(self, operation: str | None) -> bool:
        return self.operation is None or self.operation == operation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        allowed = {"kind", "operation", "times", "seconds", "status", "message", "code", "commit"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        return cls(**data)


class FaultInjector:
    """The active faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1
        self.fired: list[tuple[str, str | None]] = []  # (kind, operation), for tests

    def add(self, fault: Fault | FaultKind, **options: Any) -> Fault:
        """Activate a fault (a :class:`Fault` or a kind plus its options); return it."""
        f = fault if isinstance(fault, Fault) else Fault(kind=fault, **options)
        with self._lock:
            f.id = self._next_id
            self._next_id += 1
            self._faults.append(f)
        return f

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if f.id != fault_id]
            return len(self._faults) != before

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def _consume(self, f: Fault) -> None:
        if f.times is not None:
            f.times -= 1
            if f.times <= 0:
                self._faults = [x for x in self._faults if x is not f]
        self.fired.append((f.kind, f.operation))

    def take(
        self, operation: str | None, *, replay_possible: bool = True
    ) -> tuple[float, Fault | None]:
        """For one request: the total delay and the (first) other fault that fires."""
        delay = 0.0
        chosen: Fault | None = None
        with self._lock:
            for f in list(self._faults):
                if not f.matches(operation):
                    continue
                if f.kind == "delay":
                    delay += f.seconds
                    self._consume(f)
                elif chosen is None and (f.kind != "replay" or replay_possible):
                    chosen = f
                    self._consume(f)
        return delay, chosen
