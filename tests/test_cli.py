"""Whole commands on fresh databases: imports, stats, export/restore, templates."""

import csv
import gzip
import json

import pytest
from typer.testing import CliRunner

from innonet.cli import app
from tests.conftest import CONSORTIA

runner = CliRunner()


def run(url, *args, ok=True):
    result = runner.invoke(app, ["--db", url, *map(str, args)])
    if ok:
        assert result.exit_code == 0, result.stderr + result.stdout
    return result


def export(url, tmp_path, name):
    path = tmp_path / name
    run(url, "export", path)
    return path.read_bytes()


def stats(url):
    return json.loads(run(url, "stats", "--format", "json").stdout)


@pytest.mark.slow
def test_participations_file_import_is_idempotent_and_all_or_nothing(
        database_url, shared_data, tmp_path):
    url = database_url
    run(url, "import", "participations", shared_data / "h2020-participations-2014-2018.csv.gz")
    assert stats(url) == {"organisations": 27411, "projects": 20073, "participations": 91334,
                          "relationships": 0}
    before = export(url, tmp_path, "before.json")

    again = run(url, "import", "participations", shared_data / "h2020-participations-2014-2018.csv.gz")
    assert "Added: 0 organisations, 0 projects, 0 participations; updated: 0 organisations, 0 projects, 0 participations" in " ".join(
        again.stderr.split())
    # The export after the refused file below also shows that this second import changed nothing.

    with gzip.open(shared_data / "h2020-participations-2014-2018.csv.gz", "rt") as f:
        lines = f.read().splitlines(keepends=True)
    fields = lines[45677].split(",")  # line 45,678 of the file
    fields[4] = "12x"  # a contribution that is not a number
    lines[45677] = ",".join(fields)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    refused = run(url, "import", "participations", bad, ok=False)
    assert refused.exit_code == 1
    assert "line 45678, contribution: '12x' is not a number" in refused.stderr
    assert export(url, tmp_path, "after.json") == before

    texts = run(url, "import", "project-texts", shared_data / "h2020-project-texts-2014-2018.csv.gz")
    assert "updated: 7,804 projects" in " ".join(texts.stderr.split())


def test_dry_run_checks_and_counts_but_writes_nothing(database_url):
    result = run(database_url, "import", "dashboard", CONSORTIA, "--dry-run")
    assert "Would add: 2,016 organisations, 131 projects" in result.stderr
    assert stats(database_url)["organisations"] == 0


def test_export_restore_export_is_identical(databases, tmp_path):
    source, target = databases.new(), databases.new()
    run(source, "import", "dashboard", CONSORTIA)
    template = tmp_path / "network.xlsx"
    run(source, "template", "new", template)
    run(source, "import", "template", template)
    assert stats(source)["relationships"] == 1
    first = export(source, tmp_path, "first.json")

    run(target, "restore", tmp_path / "first.json")
    assert export(target, tmp_path, "second.json") == first
    refused = run(target, "restore", tmp_path / "first.json", ok=False)
    assert refused.exit_code == 1 and "not empty" in refused.stderr
    # New rows after a restore get fresh ids (sequences follow the restored ids).
    run(target, "import", "template", template)
    run(target, "orgs", "show", "ACME")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_round_trip(database_url, tmp_path, suffix):
    url = database_url
    template = tmp_path / f"template{suffix}"
    run(url, "template", "new", template)
    first = run(url, "import", "template", template)
    assert "Added: 2 organisations, 1 relationship;" in " ".join(first.stderr.split())
    exported = tmp_path / f"acme{suffix}"
    run(url, "template", "export", exported, "--org", "ACME")
    again = run(url, "import", "template", exported)
    assert "Added: 0 organisations, 0 relationships; updated: 0 organisations, 0 relationships" in " ".join(
        again.stderr.split())
    shown = json.loads(run(url, "orgs", "show", "ACME", "--format", "json").stdout)
    assert shown["relationships"][0]["kind"] == "research_partner"
    assert shown["relationships"][0]["source"] == "import"


def test_template_with_bad_rows_names_each_and_writes_nothing(database_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("record,external_id,name,kind,country,partner,strength\n"
                   "organisation,ME,My SME,company,DE,,\n"
                   "organisation,,No id,company,DE,,\n"
                   "relationship,ME,,supplier,,NOBODY,9\n"
                   "stuff,ME,,,,,\n")
    result = run(database_url, "import", "template", bad, ok=False)
    for expected in ("line 3, external_id", "line 4, partner", "line 4, strength", "line 5, record"):
        assert expected in result.stderr
    assert stats(database_url)["organisations"] == 0


def test_orgs_list_and_show(database_url):
    run(database_url, "import", "dashboard", CONSORTIA)
    listing = json.loads(run(database_url, "orgs", "list", "--q", "space agency",
                             "--format", "json").stdout)
    assert "EUROPEAN SPACE AGENCY" in [o["name"] for o in listing["items"]]
    missing = run(database_url, "orgs", "show", "NOPE", ok=False)
    assert missing.exit_code == 1 and "No organisation with id 'NOPE'" in missing.stderr


def test_recommend_writes_its_results_to_stdout_whole_without_a_terminal(database_url):
    run(database_url, "import", "dashboard", CONSORTIA)
    asked = ["recommend", "--org", "999984059", "--need", "hydrogen fuel cells", "--k", "5"]
    table = run(database_url, *asked)
    assert "Partners for" in table.stdout and "Partners for" not in table.stderr
    as_csv = run(database_url, *asked, "--format", "csv").stdout.splitlines()
    assert as_csv[0].startswith("rank,partner_id,name,kind,country,score")
    assert len(as_csv) == 6
    # Without a terminal no column is cut: every name is there in full, on one line.
    for row in as_csv[1:]:
        name = next(csv.reader([row]))[2]
        assert any(name in line for line in table.stdout.splitlines()), name


def test_an_import_that_changes_the_history_hands_the_learning_to_the_queue(
        database_url, tmp_path, monkeypatch):
    from innonet.config import get_settings
    from innonet.db import make_engine, make_session_factory, transaction
    from innonet.jobs.models import Job

    monkeypatch.setenv("INNONET_QUEUE_URL", "")
    monkeypatch.setenv("INNONET_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = run(database_url, "import", "dashboard", CONSORTIA)
        again = run(database_url, "import", "dashboard", CONSORTIA)
    finally:
        get_settings.cache_clear()
    assert "learns from it in the background (job 1," in " ".join(result.stderr.split())
    assert "background" not in again.stderr  # nothing new: nothing to learn
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine), writes=False) as session:
        assert [(j.kind, j.status) for j in session.query(Job)] == [("matching.train_rankers", "queued")]
    engine.dispose()
    assert (tmp_path / "queue.sqlite3").exists()  # where `innonet worker` will take it from


@pytest.mark.database_independent
def test_long_commands_log_their_progress_without_a_terminal(database_url):
    imported = run(database_url, "import", "dashboard", CONSORTIA)
    assert f"Reading and checking {CONSORTIA.name}" in imported.stderr
    assert "Saving: done in" in imported.stderr
    learned = run(database_url, "train-rankers")
    assert "[1/2] Learning the ranker for" in learned.stderr
    assert "[2/2] Learning the ranker for" in learned.stderr
    analysed = run(database_url, "analyze", "--format", "md")
    assert "Analysing the network: done in" in analysed.stderr
    assert analysed.stdout.startswith("# Network report")  # the data alone on stdout
