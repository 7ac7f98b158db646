"""ID numbers and phones at rest: AES-GCM, bound to their field and key; keyed lookup hashes;
the key file is created once, with care, and never over encrypted rows."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.errors import EnvironmentProblem
from gis.people.crypto import (
    KeyMismatch,
    PeopleCipher,
    SealedField,
    read_key_file,
    write_new_key_file,
)
from gis.people.registry import ensure_people_key
from tests.people_world import add_person, citizen_id

NUMBER = citizen_id("110105", date(1990, 3, 7), 31)


def test_a_sealed_value_opens_only_with_its_key_and_field(cipher: PeopleCipher) -> None:
    sealed = cipher.seal(NUMBER, field=SealedField.ID_NUMBER)
    assert NUMBER.encode() not in sealed
    assert cipher.open(sealed, field=SealedField.ID_NUMBER) == NUMBER
    assert cipher.seal(NUMBER, field=SealedField.ID_NUMBER) != sealed  # a fresh nonce each time
    with pytest.raises(KeyMismatch, match="another field"):
        cipher.open(sealed, field=SealedField.PHONE)
    with pytest.raises(KeyMismatch, match="another key"):
        PeopleCipher(os.urandom(32)).open(sealed, field=SealedField.ID_NUMBER)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(KeyMismatch, match="altered"):
        cipher.open(tampered, field=SealedField.ID_NUMBER)


def test_lookup_hashes_are_keyed_and_field_bound(cipher: PeopleCipher) -> None:
    digest = cipher.lookup_hash(NUMBER, field=SealedField.ID_NUMBER)
    assert digest == cipher.lookup_hash(NUMBER, field=SealedField.ID_NUMBER)
    assert digest != cipher.lookup_hash(NUMBER, field=SealedField.PHONE)
    assert digest != PeopleCipher(os.urandom(32)).lookup_hash(NUMBER, field=SealedField.ID_NUMBER)
    assert cipher.hash_many([NUMBER, None], field=SealedField.ID_NUMBER) == [digest, None]
    opened = [
        cipher.open(v, field=SealedField.PHONE) if v else None
        for v in cipher.seal_many(["13800000001", None], field=SealedField.PHONE)
    ]
    assert opened == ["13800000001", None]


def test_the_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "people.key"
    first = write_new_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = write_new_key_file(path)
    assert again.key_id == first.key_id == read_key_file(path).key_id
    with pytest.raises(EnvironmentProblem, match="missing"):
        read_key_file(tmp_path / "nothing.key")
    (tmp_path / "bad.key").write_text("# header\nnot base64!\n")
    with pytest.raises(EnvironmentProblem, match="malformed"):
        read_key_file(tmp_path / "bad.key")


def test_a_lost_key_is_never_replaced_over_encrypted_rows(
    db: Session, cipher: PeopleCipher, tmp_path: Path
) -> None:
    db.execute(text("SAVEPOINT before_people"))
    fresh = tmp_path / "fresh.key"
    if db.scalar(text("SELECT count(*) FROM people WHERE id_number_enc IS NOT NULL")) == 0:
        _, was_created = ensure_people_key(db, path=fresh)
        assert was_created and fresh.exists()
    add_person(db, cipher, name="加密者", id_number=NUMBER, phone=None, birth=date(1990, 3, 7))
    db.flush()
    with pytest.raises(EnvironmentProblem, match="restore the key file"):
        ensure_people_key(db, path=tmp_path / "lost.key")
    assert not (tmp_path / "lost.key").exists()


def test_rows_hold_no_plaintext(db: Session, cipher: PeopleCipher) -> None:
    add_person(
        db, cipher, name="密文", id_number=NUMBER, phone="13812345678", birth=date(1990, 3, 7)
    )
    db.flush()
    row = db.execute(text("SELECT p::text AS whole FROM people p WHERE name = '密文'")).scalar_one()
    assert NUMBER not in row and "13812345678" not in row
    assert "110105********0316" in row or "110105" in row  # the masked form is stored
