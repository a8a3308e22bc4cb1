"""Code tables of the ELN (domain.md §7) as data with Russian titles, for pick lists and ФЛК.

A :class:`CodeTable` maps a code (the exact string sent to FSS) to its title. Titles that differ
between protocol versions carry both; codes that exist in one version only say so.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

V11 = "1.1"
V20 = "2.0"
VERSIONS = (V11, V20)


@dataclass(frozen=True)
class Code:
    code: str
    title: str
    title_v11: str | None = None  # v1.1 wording where it differs from v2.0
    versions: tuple[str, ...] = VERSIONS  # protocol versions in which the code exists

    def title_for(self, version: str = V20) -> str:
        return self.title_v11 if version == V11 and self.title_v11 else self.title


class CodeTable:
    """An ordered dictionary of codes with a Russian name (used in messages)."""

    def __init__(self, name: str, codes: list[Code]) -> None:
        self.name = name
        self._codes = {c.code: c for c in codes}

    def __contains__(self, code: object) -> bool:
        return code in self._codes

    def __iter__(self) -> Iterator[Code]:
        return iter(self._codes.values())

    def __len__(self) -> int:
        return len(self._codes)

    def get(self, code: str | None) -> Code | None:
        return self._codes.get(code) if code is not None else None

    def title(self, code: str, version: str = V20) -> str:
        return self._codes[code].title_for(version)

    def valid(self, code: str | None, version: str = V20) -> bool:
        found = self.get(code)
        return found is not None and version in found.versions

    def choices(self, version: str = V20) -> list[tuple[str, str]]:
        """``(code, "code – title")`` pairs for a pick list."""
        return [
            (c.code, f"{c.code} – {c.title_for(version)}") for c in self if version in c.versions
        ]


def _t(name: str, *rows: tuple[str, str] | Code) -> CodeTable:
    return CodeTable(name, [r if isinstance(r, Code) else Code(*r) for r in rows])


# Причина нетрудоспособности (reason1, servFullData/reason1) [S11 §14.1, S20 §14.1].
REASONS = _t(
    "Причина нетрудоспособности",
    ("01", "заболевание"),
    ("02", "травма"),
    ("03", "карантин"),
    ("04", "несчастный случай на производстве или его последствия"),
    ("05", "отпуск по беременности и родам"),
    ("06", "протезирование в стационаре"),
    ("07", "профессиональное заболевание или его обострение"),
    ("08", "долечивание в санатории"),
    ("09", "уход за больным членом семьи"),
    ("10", "иное состояние (отравление, проведение манипуляций и др.)"),
    Code(
        "11",
        "заболевание, указанное в п. 1 Перечня социально значимых заболеваний "
        "(ПП РФ от 01.12.2004 № 715)",
        "заболевание туберкулёзом",
    ),
    Code(
        "12",
        "заболевание ребёнка в возрасте до 7 лет из перечня по ч. 5 ст. 6 255-ФЗ",
        "заболевание ребёнка из перечня Минздравсоцразвития",
    ),
    ("13", "ребёнок-инвалид"),
    ("14", "поствакцинальное осложнение или злокачественное новообразование у ребёнка"),
    ("15", "ВИЧ-инфицированный ребёнок"),
)

# Reasons that are care for a family member: v2.0 carries them per person in servFullData.
CARE_REASONS = frozenset({"09", "12", "13", "14", "15"})
MATERNITY_REASON = "05"

# Дополнительный код (reason2) [§14.2]; always three digits.
ADDITIONAL_CODES = _t(
    "Дополнительный код",
    ("017", "лечение в специализированном санатории"),
    Code(
        "018",
        "медицинская реабилитация в связи с несчастным случаем на производстве в период "
        "временной нетрудоспособности (до направления на МСЭ)",
        "санаторно-курортное лечение в связи с несчастным случаем на производстве в период "
        "временной нетрудоспособности (до направления на МСЭ)",
    ),
    (
        "019",
        "лечение в клинике научно-исследовательского учреждения (института) курортологии, "
        "физиотерапии и реабилитации",
    ),
    ("020", "дополнительный отпуск по беременности и родам"),
    (
        "021",
        "заболевание или травма, наступившие вследствие алкогольного, наркотического, "
        "токсического опьянения или действий, связанных с таким опьянением",
    ),
)
VOUCHER_ADDITIONAL_CODES = frozenset({"017", "018", "019"})
EXTRA_MATERNITY_CODE = "020"

# Родственная связь (servRelationCode) [§14.3].
RELATIONS = _t(
    "Родственная связь",
    ("38", "мать"),
    ("39", "отец"),
    ("40", "опекун"),
    ("41", "попечитель"),
    ("42", "иной родственник, фактически осуществляющий уход за ребёнком"),
)
RELATION_MOTHER = "38"
RELATION_FATHER = "39"

# Нарушение режима (hospitalBreachCode) [§14.4].
BREACHES = _t(
    "Нарушение режима",
    (
        "23",
        "несоблюдение предписанного режима, самовольный уход из стационара, выезд на лечение "
        "в другой административный район без разрешения лечащего врача",
    ),
    ("24", "несвоевременная явка на приём к врачу"),
    ("25", "выход на работу без выписки"),
    ("26", "отказ от направления в учреждение медико-социальной экспертизы"),
    ("27", "несвоевременная явка в учреждение медико-социальной экспертизы"),
    ("28", "другие нарушения"),
)

# «Иное» / статус нетрудоспособного (mseResult) [§14.5].
OTHER_STATES = _t(
    "Иное",
    ("31", "продолжает болеть"),
    ("32", "установлена инвалидность"),
    ("33", "изменена группа инвалидности"),
    ("34", "умер"),
    ("35", "отказ от проведения медико-социальной экспертизы"),
    ("36", "явился трудоспособным"),
    ("37", "долечивание"),
)
OTHER_CONTINUES = "31"
OTHER_DIED = "34"
OTHER_NEEDS_MSE = frozenset({"32", "33"})

# Группа инвалидности (mseInvalidGroup); 9 exists in v2.0 only.
INVALID_GROUPS = _t(
    "Группа инвалидности",
    ("1", "первая"),
    ("2", "вторая"),
    ("3", "третья"),
    Code("9", "установлена утрата профессиональной трудоспособности", versions=(V20,)),
)

# Состояние ЭЛН (lnState) [§14.6]; 000 is not in the FSS dictionary: the MO sends it for a new ELN.
LN_STATES = _t(
    "Состояние ЭЛН",
    ("000", "Новый ЭЛН (ещё не передан в ЕИИС «Соцстрах»)"),
    ("010", "ЭЛН открыт"),
    ("020", "ЭЛН продлен"),
    ("030", "ЭЛН закрыт"),
    ("040", "ЭЛН направление на МСЭ"),
    ("050", "ЭЛН дополнен данными МСЭ"),
    ("060", "ЭЛН заполнен Страхователем"),
    ("070", "ЭЛН заполнен Страхователем (реестр ПВСО)"),
    ("080", "Пособие выплачено"),
    ("090", "Действия прекращены"),
)
STATE_NEW = "000"
STATE_OPEN = "010"
STATE_EXTENDED = "020"
STATE_CLOSED = "030"
STATE_MSE = "040"
STATE_TERMINATED = "090"

# Причина прекращения действия ЛН (disableLn/reasonCode) [S11 §14.8, S20 §14.7]. The seed's third
# reason «Обнаружены расхождения с ЛН» has no code in either spec (domain.md §2 item 12, [open]).
TERMINATION_REASONS = _t(
    "Причина прекращения действия ЛН",
    ("010", "Отмена оформления"),
    ("030", "Выдан ЛН-дубликат"),
)
TERMINATION_CANCEL = "010"
TERMINATION_DUPLICATE = "030"

# Условия оказания медицинской помощи (treatmentType) [S20 §14.8].
TREATMENT_TYPES = _t(
    "Условия оказания медицинской помощи",
    ("1", "Амбулаторный"),
    ("2", "Стационарный"),
    ("3", "Дневной стационар"),
)

# Пол (gender): 0 мужской, 1 женский; kept as strings like every other table.
GENDERS = _t("Пол", ("0", "Мужской"), ("1", "Женский"))

# Fixed position text of the VK chairman in treatChairmanRole [S11 §8.1.2; test XSD `fixed`].
CHAIRMAN_ROLE = "ПРЕД ВК"


class Role(enum.StrEnum):
    """User roles of the workstation (domain.md §1)."""

    DOCTOR = "doctor"
    FELDSHER = "feldsher"
    VK_CHAIRMAN = "vk_chairman"
    NURSE = "nurse"
    ELN_OPERATOR = "eln_operator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES = {
    Role.DOCTOR: "Врач",
    Role.FELDSHER: "Фельдшер",
    Role.VK_CHAIRMAN: "Председатель ВК",
    Role.NURSE: "Медсестра",
    Role.ELN_OPERATOR: "Оператор ЭЛН",
    Role.ADMIN: "Администратор",
}
# Who may sign in the doctor slot (`_doc`): every medical worker with the right to issue ELNs.
DOC_SIGNER_ROLES = frozenset({Role.DOCTOR, Role.FELDSHER, Role.NURSE, Role.VK_CHAIRMAN})
# Who may sign in the VK slot (`_vk`).
VK_SIGNER_ROLES = frozenset({Role.VK_CHAIRMAN})


class SignerSlot(enum.StrEnum):
    """Signature slots of a row block (protocol.md §4.2): actor suffix ``_doc`` or ``_vk``."""

    DOC = "doc"
    VK = "vk"

    @property
    def label(self) -> str:
        return "ЭП врача" if self is SignerSlot.DOC else "ЭП председателя ВК"


class NumberMode(enum.StrEnum):
    """Setting «Способ получения номера для ЭЛН» (seed 000; domain.md §3)."""

    ANY_CURRENT = "any_current"
    ANY_CENTRAL = "any_central"
    ONLY_CURRENT = "only_current"

    @property
    def label(self) -> str:
        return {
            NumberMode.ANY_CURRENT: "Любой свободный с текущего сервера",
            NumberMode.ANY_CENTRAL: "Любой свободный с центрального сервера",
            NumberMode.ONLY_CURRENT: "Свободный только для текущего сервера",
        }[self]


class NumberState(enum.StrEnum):
    """State of a pool number. ``reserved`` is the seed's «Занят» before the ELN is saved."""

    FREE = "free"
    RESERVED = "reserved"
    USED = "used"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return {
            NumberState.FREE: "Свободен",
            NumberState.RESERVED: "Занят",
            NumberState.USED: "Использован",
            NumberState.RETURNED: "Возвращён в ЕИИС «Соцстрах»",
        }[self]


class JournalState(enum.StrEnum):
    """Where an electronic LN stands in the transfer workflow (domain.md §4)."""

    DRAFT = "draft"  # nothing signed and complete waits for sending
    PENDING = "pending"  # «Не передан в ЕИИС «Соцстрах»»
    SENT = "sent"
    ERROR = "error"
    RECEIVED = "received"  # «Получен из ЕИИС Соцстрах», no local step yet
    TERMINATED = "terminated"  # «ЛН прекращен»

    @property
    def label(self) -> str:
        return {
            JournalState.DRAFT: "Заполняется",
            JournalState.PENDING: "Не передан в ЕИИС «Соцстрах»",
            JournalState.SENT: "Передан в ЕИИС «Соцстрах»",
            JournalState.ERROR: "Ошибка передачи в ЕИИС «Соцстрах»",
            JournalState.RECEIVED: "Получен из ЕИИС Соцстрах",
            JournalState.TERMINATED: "ЛН прекращен",
        }[self]


class JournalView(enum.StrEnum):
    """Nested views of «Работа с ЕИИС Соцстрах» (seed 000; domain.md §4)."""

    ALL = "all"
    NOT_SENT = "not_sent"
    SENT = "sent"
    RECEIVED = "received"
    ERRORS = "errors"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        return {
            JournalView.ALL: "Полный список",
            JournalView.NOT_SENT: "Не переданы",
            JournalView.SENT: "Переданы",
            JournalView.RECEIVED: "Получены из ЕИИС Соцстрах",
            JournalView.ERRORS: "Ошибки передачи",
            JournalView.DELETED: "Удаленные ЭЛН",
        }[self]
