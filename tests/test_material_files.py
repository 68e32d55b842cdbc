"""Material files follow the database transaction: written under a temporary name and renamed into
place on commit; a failed or rolled back save leaves no file; a delete happens only once committed."""
import shutil

import pytest
from sqlalchemy.exc import IntegrityError

from app import rulebook
from app.services import files, materials
from models import Case, CaseParty, Material
from tests import factories
from tests.test_desk import tiny_pdf


@pytest.fixture
def draft(app, db):
    with app.test_request_context():
        case = factories.case(db, "bank_a_op", business_key="mortgage_first",
                              rules_version_id=rulebook.get("mortgage_first").version_id)
        db.session.commit()
        # Case ids restart with each module's database, DATA_DIR does not: files under this id are
        # another module's leftovers.
        shutil.rmtree(_folder(case), ignore_errors=True)
        yield case


def _folder(case):
    return materials.storage_root() / str(case.id)


def _on_disk(case):
    folder = _folder(case)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _add(db, case, tag):
    spec = rulebook.get("mortgage_first").materials[0]
    return materials.add(case, spec, f"{tag}.pdf", tiny_pdf(tag), factories.user(db, "bank_a_op").id)


def test_a_committed_save_renames_the_temporary_file_into_place(db, draft):
    material = _add(db, draft, "committed")
    final = materials.file_path(material)
    (temp,) = _on_disk(draft)
    assert temp.startswith(".") and temp.endswith(files.TEMP_SUFFIX) and not final.exists()
    db.session.commit()
    assert _on_disk(draft) == [final.name]
    assert final.read_bytes() == tiny_pdf("committed")


def test_a_save_whose_transaction_fails_leaves_no_file(db, draft):
    _add(db, draft, "doomed")
    # A row the database refuses (a party without its required name) in the same transaction.
    db.session.add(CaseParty(case_id=draft.id, role="debtor", name=None, id_type="1", id_number="x", phone="1"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _on_disk(draft) == []
    assert db.session.query(Material).filter_by(case_id=draft.id).count() == 0


def test_a_save_never_committed_leaves_no_file_when_the_session_closes(db, draft):
    _add(db, draft, "abandoned")
    assert len(_on_disk(draft)) == 1
    db.session.close()
    assert _on_disk(draft) == []


def test_a_rolled_back_delete_keeps_the_file(db, draft):
    material = _add(db, draft, "kept")
    db.session.commit()
    path = materials.file_path(material)
    case = db.session.get(Case, draft.id)
    materials.remove(case, material)
    assert path.exists()  # not before the commit
    db.session.rollback()
    assert path.exists() and db.session.get(Material, material.id) is not None


def test_a_committed_delete_removes_the_file(db, draft):
    material = _add(db, draft, "gone")
    db.session.commit()
    path = materials.file_path(material)
    materials.remove(db.session.get(Case, draft.id), material)
    db.session.commit()
    assert not path.exists() and _on_disk(draft) == []


def test_replacing_a_file_with_the_same_content_keeps_it(db, draft):
    material = _add(db, draft, "same")
    db.session.commit()
    path = materials.file_path(material)
    spec = rulebook.get("mortgage_first").materials[0]
    materials.add(db.session.get(Case, draft.id), spec, "again.pdf", tiny_pdf("same"),
                  factories.user(db, "bank_a_op").id, replacing=material)
    db.session.commit()
    assert path.read_bytes() == tiny_pdf("same") and _on_disk(draft) == [path.name]


def test_a_file_staged_in_a_rolled_back_savepoint_is_dropped(db, draft):
    kept = _add(db, draft, "outer")
    savepoint = db.session.begin_nested()
    _add(db, draft, "inner")
    savepoint.rollback()
    db.session.commit()
    assert _on_disk(draft) == [materials.file_path(kept).name]
