"""The migration merging the parties the two ID code lists made twice, run on a copy of the seeded
SQLite database taken back to the revision before it (as tests/test_migrations.py runs `flask db`)."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import DATABASE_URL, TMP

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "5ea4c81d0e7a"
pytestmark = pytest.mark.skipif(not DATABASE_URL.startswith("sqlite"), reason="works on a copy of the SQLite file")


def _flask(url, *args):
    env = {**os.environ, "REGISTRY_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _add_party(con, kind, name, id_type, number):
    cur = con.execute("INSERT INTO party (kind, name, id_type, id_number, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, '2026-01-01', '2026-01-01')", (kind, name, id_type, number))
    return cur.lastrowid


def test_the_parties_made_twice_by_the_old_code_lists_become_one(app):
    path = Path(tempfile.mkdtemp()) / "merge.db"
    shutil.copyfile(TMP / "snapshot.db", path)
    url = f"sqlite:///{path}"
    _flask(url, "downgrade", BEFORE)
    con = sqlite3.connect(path)
    # The developer as the old demo data held it (its credit code under 6, app/vocab.py's code) ...
    dev_id, uscc = con.execute("SELECT p.id, p.id_number FROM party p JOIN institution i ON i.uscc = p.id_number "
                               "WHERE i.kind = 'developer'").fetchone()
    con.execute("UPDATE party SET id_type = '6' WHERE id = ?", (dev_id,))
    # ... and as recording a case created it again under 8 (the rules' code), holding a right and a pre-notice.
    twin = _add_party(con, "organisation", "湖南麓谷置业有限公司", "8", uscc)
    right_id = con.execute("SELECT id FROM ownership WHERE id NOT IN (SELECT right_id FROM right_holder h JOIN party p "
                           "ON p.id = h.party_id WHERE p.kind = 'person' AND h.share = 1) ORDER BY id LIMIT 1").fetchone()[0]
    con.execute("INSERT INTO right_holder (right_id, party_id, share) VALUES (?, ?, 1)", (right_id, twin))
    pn_id, role = con.execute("SELECT pre_notice_id, role FROM pre_notice_party WHERE party_id = ?", (dev_id,)).fetchone()
    con.execute("INSERT INTO pre_notice_party (pre_notice_id, party_id, role) VALUES (?, ?, ?)", (pn_id, twin, role))
    # A person typed twice, once with spaces (one number, two spellings), each holding half of one right.
    person_id, number = con.execute("SELECT p.id, p.id_number FROM party p JOIN right_holder h ON h.party_id = p.id "
                                    "WHERE p.kind = 'person' AND h.share = 1 ORDER BY p.id LIMIT 1").fetchone()
    spaced = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    person_twin = _add_party(con, "person", "重复录入", "1", spaced)
    holder_right = con.execute("SELECT right_id FROM right_holder WHERE party_id = ?", (person_id,)).fetchone()[0]
    con.execute("UPDATE right_holder SET share = 0.5 WHERE party_id = ?", (person_id,))
    con.execute("INSERT INTO right_holder (right_id, party_id, share) VALUES (?, ?, 0.5)", (holder_right, person_twin))
    con.commit()
    parties_before = con.execute("SELECT count(*) FROM party").fetchone()[0]
    con.close()

    _flask(url, "upgrade")

    con = sqlite3.connect(path)
    rows = con.execute("SELECT id, id_type FROM party WHERE id_number = ?", (uscc,)).fetchall()
    assert rows == [(dev_id, "8")]   # the oldest kept, its credit code under the code list's 8
    assert con.execute("SELECT count(*) FROM party").fetchone()[0] == parties_before - 2
    assert con.execute("SELECT count(*) FROM party WHERE id IN (?, ?)", (twin, person_twin)).fetchone()[0] == 0
    assert con.execute("SELECT party_id FROM right_holder WHERE right_id = ? AND party_id = ?",
                       (right_id, dev_id)).fetchone()
    assert con.execute("SELECT count(*) FROM pre_notice_party WHERE pre_notice_id = ? AND role = ?",
                       (pn_id, role)).fetchone()[0] == 1   # the repeat folded into the one already there
    holders = con.execute("SELECT party_id, share FROM right_holder WHERE right_id = ?", (holder_right,)).fetchall()
    assert [(p, Decimal(str(s))) for p, s in holders] == [(person_id, Decimal("1"))]   # the halves added up
    for table in ("right_holder", "mortgage_party", "pre_notice_party"):
        assert con.execute(f"SELECT count(*) FROM {table} WHERE party_id NOT IN (SELECT id FROM party)").fetchone()[0] == 0
    with pytest.raises(sqlite3.IntegrityError):   # from now on one number is one party
        _add_party(con, "organisation", "再录一次", "7", uscc)
    con.close()
