"""User profiles edited by the admin: paging the list, changing name/position/certificate/active,
each change in the audit journal (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from eln_tui.core.domain.codes import Role
from eln_tui.core.errors import ValidationError
from eln_tui.core.storage import ElnStore
from tests.core.conftest import People


def test_list_users_pages_by_id_with_roles(store: ElnStore, people: People) -> None:
    first = store.list_users(limit=2)
    assert [u.login for u in first] == [people.doctor.login, people.chairman.login]
    assert first[1].roles == frozenset({Role.DOCTOR, Role.VK_CHAIRMAN})
    rest = store.list_users(after=first[-1].id, limit=10)
    assert [u.login for u in rest] == [people.nurse.login, people.operator.login]
    assert rest == [store.user(u.id) for u in rest]
    assert store.list_users(after=rest[-1].id) == []


def test_update_user_is_audited(store: ElnStore, people: People) -> None:
    admin = people.operator.signer
    updated = store.update_user(
        people.nurse.id,
        actor=admin,
        full_name=people.nurse.full_name,
        position="Старшая медсестра",
        cert_serial="0A1B",
        active=False,
    )
    assert (updated.position, updated.cert_serial, updated.active) == (
        "Старшая медсестра",
        "0A1B",
        False,
    )
    trail = store.audit_trail(entity="user", entity_id=people.nurse.id, action="update")
    assert len(trail) == 1 and trail[0].login == admin.login
    assert trail[0].details == {
        "position": [people.nurse.position, "Старшая медсестра"],
        "cert_serial": [None, "0A1B"],
        "active": [True, False],
    }
    # nothing changed: no audit line
    store.update_user(
        people.nurse.id,
        actor=admin,
        full_name=updated.full_name,
        position=updated.position,
        cert_serial=updated.cert_serial,
        active=False,
    )
    assert len(store.audit_trail(entity="user", entity_id=people.nurse.id, action="update")) == 1
    with pytest.raises(ValidationError, match="«ФИО» обязательно") as err:
        store.update_user(
            people.nurse.id,
            actor=admin,
            full_name=" ",
            position=None,
            cert_serial=None,
            active=True,
        )
    assert err.value.field == "full_name"
    assert not store.user(people.nurse.id).active
