"""The batch contracts of ``innonet recommend-batch``, on the bundled 2021 consortia."""

import csv
import gzip
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from innonet.cli import app as cli_app
from tests.conftest import CONSORTIA

runner = CliRunner()


def partners_in_consortia() -> dict[str, set[str]]:
    with gzip.open(CONSORTIA, "rt", encoding="utf-8") as f:
        projects = defaultdict(set)
        for row in csv.DictReader(f):
            projects[row["project_id"]].add(row["pic"])
    partners = defaultdict(set)
    for members in projects.values():
        for pic in members:
            partners[pic] |= members - {pic}
    return partners


def read_rows(path):
    with path.open(encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.slow
@pytest.mark.database_independent
def test_batch_contracts(database_url, tmp_path):
    def run(*args):
        return runner.invoke(cli_app, ["--db", database_url, *map(str, args)])

    assert run("import", "dashboard", CONSORTIA).exit_code == 0
    partners = partners_in_consortia()
    askers = sorted(partners, key=lambda pic: -len(partners[pic]))[:3]
    queries = tmp_path / "queries.csv"
    queries.write_text("org_id\n" + "\n".join([askers[0], "999999999", *askers[1:]]) + "\n")
    out = tmp_path / "out.csv"
    result = run("recommend-batch", "--queries", queries, "--k", 7, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Unknown organisation '999999999'" in result.stderr
    rows = read_rows(out)
    assert rows[0] == ["org_id", "rank", "partner_id", "score"]
    by_asker = defaultdict(list)
    for org, rank, partner, score in rows[1:]:
        by_asker[org].append((int(rank), partner, float(score)))
    assert set(by_asker) == set(askers)
    for asker, ranked in by_asker.items():
        assert [rank for rank, _, _ in ranked] == list(range(1, len(ranked) + 1))
        assert 1 <= len(ranked) <= 7
        found = {partner for _, partner, _ in ranked}
        assert asker not in found and not found & partners[asker]
        assert len(found) == len(ranked)
        scores = [score for _, _, score in ranked]
        assert scores == sorted(scores, reverse=True)

    needs = tmp_path / "needs.csv"
    needs.write_text('query_id,org_id,need\n'
                     f'q1,{askers[0]},"Hydrogen fuel cells for heavy-duty trucks"\n'
                     f'q2,{askers[1]},\n'  # no words: the organisation's profile stands in
                     'q3,123,"Unknown asker"\n')
    result = run("recommend-batch", "--needs", needs, "--k", 5, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Unknown organisation '123'" in result.stderr
    rows = read_rows(out)
    assert rows[0] == ["query_id", "rank", "partner_id", "score"]
    got = defaultdict(list)
    for query, rank, partner, _ in rows[1:]:
        got[query].append(partner)
    assert set(got) == {"q1", "q2"} and all(1 <= len(v) <= 5 for v in got.values())
    assert askers[0] not in got["q1"] and askers[1] not in got["q2"]
    # A consortium may reuse partners: the need-based batch lets them come back.
    assert set(got["q1"]) & partners[askers[0]]

    only_unknown = tmp_path / "unknown.csv"
    only_unknown.write_text("org_id\n42\n")
    result = run("recommend-batch", "--queries", only_unknown, "--k", 5, "--out", out)
    assert result.exit_code == 1 and "Answered 0 of 1" in result.stderr
    result = run("recommend-batch", "--queries", queries, "--k", 201, "--out", out)
    assert result.exit_code == 1 and "k must be between 1 and 200" in result.stderr
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("pic\n1\n")
    result = run("recommend-batch", "--queries", wrong_header, "--k", 5, "--out", out)
    assert result.exit_code == 1 and "org_id" in result.stderr
    result = run("recommend-batch", "--k", 5, "--out", out)
    assert result.exit_code == 2
