"""Work that must wait for the outermost commit (jobs, file deletions) or follow a rollback."""

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from innonet.db import after_commit, after_rollback


def test_after_commit_waits_for_the_outermost_commit_and_follows_its_savepoint():
    session, done = Session(create_engine("sqlite://")), []
    session.execute(text("SELECT 1"))
    with session.begin_nested():
        after_commit(session, lambda: done.append("kept"))
    assert done == []  # a released savepoint is not a commit
    try:
        with session.begin_nested():
            after_commit(session, lambda: done.append("in a savepoint rolled back"))
            raise ValueError
    except ValueError:
        pass
    session.commit()
    assert done == ["kept"]
    session.execute(text("SELECT 1"))
    after_commit(session, lambda: done.append("rolled back"))
    session.rollback()
    session.execute(text("SELECT 1"))
    session.commit()
    assert done == ["kept"]


def test_after_rollback_follows_the_savepoint_or_any_enclosing_one_and_never_a_commit():
    session, undone = Session(create_engine("sqlite://")), []
    session.execute(text("SELECT 1"))
    try:
        with session.begin_nested():
            after_rollback(session, lambda: undone.append("savepoint"))
            raise ValueError
    except ValueError:
        pass
    with session.begin_nested():
        after_rollback(session, lambda: undone.append("released, then the whole"))
    session.rollback()
    assert undone == ["savepoint", "released, then the whole"]
    session.execute(text("SELECT 1"))
    after_rollback(session, lambda: undone.append("committed"))
    session.commit()
    session.execute(text("SELECT 1"))
    session.rollback()
    assert undone == ["savepoint", "released, then the whole"]
