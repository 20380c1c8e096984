"""Word embeddings: offline, and closer for texts that mean the same thing."""

import logging
import subprocess
import sys

import numpy as np
import requests

from innonet.analytics import embeddings
from innonet.matching.history import history_until


def test_the_model_loads_from_the_package_without_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the embedding model tried to download a file")

    monkeypatch.setattr(requests, "get", no_network)
    embeddings._model.cache_clear()
    meanings = embeddings.embed(["hydrogen fuel cells for heavy trucks", "", "   "])
    assert meanings.shape == (3, embeddings.DIMENSIONS) and meanings.dtype == np.float32
    assert np.isclose(np.linalg.norm(meanings[0]), 1.0)
    assert not meanings[1:].any()  # no words, no direction


def test_loading_the_model_leaves_the_logging_set_up_alone():
    # In a fresh process: pytest's own log handlers would hide the library's basicConfig.
    code = ("import logging; from innonet.analytics import embeddings; embeddings.embed(['x']); "
            "root = logging.getLogger(); print(len(root.handlers), root.level)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", str(logging.WARNING)]


def test_texts_that_mean_the_same_are_closer_than_unrelated_ones():
    need, same, other = embeddings.embed([
        "hydrogen fuel cells for heavy-duty trucks",
        "fuel cell powertrains for lorries and buses",
        "sheep milk cheese ripening in mountain dairies"])
    assert need @ same > need @ other + 0.2


def test_a_need_without_words_means_what_the_organisation_does():
    rows = [{"project": p, "org": o, "year": 2017, "coordinator": o == "A", "kind": 0,
             "country": "DE"} for p, o in (("p1", "A"), ("p1", "B"), ("p2", "B"), ("p2", "C"))]
    texts = {"p1": "Solar cells on building facades", "p2": "Dairy cheese ripening"}
    history, keys = history_until(rows, texts, 2017)
    a = keys.index("A")
    assert np.allclose(history.need_meaning("", a), history.profile_meanings[a])
    assert np.allclose(history.need_meaning("photovoltaic glass for buildings", a),
                       embeddings.embed(["photovoltaic glass for buildings"])[0])
    # A's profile is its one project; B's mixes both and is a unit vector.
    assert np.allclose(history.profile_meanings[a], history.project_meanings[0])
    assert np.isclose(np.linalg.norm(history.profile_meanings[keys.index("B")]), 1.0)


def test_a_list_of_texts_is_embedded_once_and_kept_read_only():
    texts = ["bio-based barrier coatings", "offshore wind maintenance", "precision farming"]
    first = embeddings.embed(texts)
    again = embeddings.embed(list(texts))
    assert again is first and not first.flags.writeable
    changed = embeddings.embed(texts[:2] + ["battery recycling"])
    assert changed is not first
    assert np.array_equal(changed[:2], first[:2]) and not np.array_equal(changed[2], first[2])
