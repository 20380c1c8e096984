"""The link-prediction validation protocol and its classic predictors."""

import io

import pytest

from innonet.errors import InvalidInput
from innonet.matching.evaluation import (evaluate_baselines, link_prediction_split,
                                         read_participations)


def csv_file(lines):
    return io.BytesIO(("rcn,pic,type,start_year\n" + "\n".join(lines) + "\n").encode())


def test_split_follows_the_protocol_on_a_hand_made_history():
    rows = read_participations(csv_file([
        "1,A,PRC,2016.0", "1,B,HES,2016.0",       # history: A–B
        "2,B,HES,2017.0", "2,C,REC,2017.0",       # history: B–C
        "3,A,PRC,2018.0", "3,C,REC,2018.0", "3,B,HES,2018.0", "3,N,PRC,2018.0",
    ]))
    split = link_prediction_split(rows, queries=1)
    a, b, c = (split.pics.index(p) for p in "ABC")
    assert split.pics == ["A", "B", "C"]  # N is new in 2018: not in the history
    assert split.queries.tolist() == [a]  # the only PRC with a history partner and news
    assert split.truths == [{c}]  # B was already a partner; N never appeared before
    assert sorted(split.known_partners(b).tolist()) == [a, c]


def test_too_few_queries_and_bad_years_are_named():
    rows = read_participations(csv_file(["1,A,PRC,2017", "1,B,PRC,2017"]))
    with pytest.raises(InvalidInput, match="Only 0 organisations qualify"):
        link_prediction_split(rows, queries=5)
    with pytest.raises(InvalidInput, match="Line 3: start_year: not a year: 'soon'") as error:
        read_participations(csv_file(["1,A,PRC,2017", "1,B,PRC,soon"]))
    assert error.value.problems[0].line == 3


@pytest.mark.slow
def test_classic_predictors_reproduce_the_reference_figures(shared_data):
    with (shared_data / "h2020-participations-2014-2018.csv.gz").open("rb") as file:
        split = link_prediction_split(read_participations(file))
    assert len(split.pics) == 22_787 and split.history.nnz == 2 * 416_754
    figures = evaluate_baselines(split)
    # The reference figures of the protocol, to the digits it gives.
    reference = {"common neighbours": (0.0935, 0.242, 0.486),
                 "Adamic–Adar": (0.0972, 0.245, 0.493),
                 "preferential attachment": (0.0767, 0.236, 0.443)}
    for name, (recall, mrr, hits) in reference.items():
        got = figures[name]
        assert round(got["recall@20"], 4) == recall, name
        assert round(got["mrr@50"], 3) == mrr, name
        assert round(got["hits@10"], 3) == hits, name
    assert figures["personalised PageRank"]["recall@20"] > figures["Adamic–Adar"]["recall@20"]
