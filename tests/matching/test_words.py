"""How the partner finder reads the words of a need: compounds, stems, generic words,
phrases, meaning, and what it says when nothing matches."""

from datetime import date

from innonet.analytics import words
from tests.factories import make_organisation, make_project
from tests.matching.test_recommendations import by_id, world  # noqa: F401 - the fixture


def test_compounds_stay_whole_stems_join_forms_and_generic_words_drop():
    terms = words.terms("A novel bio-based system for packaging; packages based on hydrogen fuel cells")
    assert "bio-base" in terms and "bio" in terms
    assert "base" not in terms and "novel" not in terms and "system" not in terms
    assert terms.count("packag") == 2  # packaging and packages are one term
    assert "fuel cell" in terms and "hydrogen fuel" in terms
    # A phrase never spans a removed word or a punctuation mark.
    assert "packag packag" not in terms and "bio-base packag" not in terms
    # A generic word counts in a phrase with a distinctive one, never alone or with another.
    grids = words.terms("Cybersecurity for smart grids: a novel system approach")
    assert "smart grid" in grids and "smart" not in grids
    assert "novel system" not in grids and "system approach" not in grids
    forms = words.Forms([words.terms_and_forms("food packaging, packaging films, packages")])
    assert forms["packag"] == "packaging"


def test_a_partner_is_matched_on_the_distinctive_compound_not_the_generic_word(client, session):
    # Two candidates: one knows bio-based materials, the other only says "based".
    asker = make_organisation(session, external_id="asker", name="Asker", country="AT")
    biobased = make_organisation(session, external_id="biobased", name="Biobased Lab", country="DE")
    generic = make_organisation(session, external_id="generic", name="Generic Works", country="DE")
    other = make_organisation(session, external_id="other", name="Other", country="FR")
    titles = [(biobased, other, "Bio-based barrier films for food packaging"),
              (generic, other, "Cloud based logistics planning"),
              (asker, other, "Bio-based composites for car interiors"),
              (generic, asker, "Web based ordering for retail")]
    for number, (a, b, title) in enumerate(titles):
        make_project(session, a, b, external_id=f"W-{number}", title=title,
                     start_date=date(2020 + number % 2, 1, 1))
    session.commit()
    answer = client.get("/api/v1/orgs/asker/recommendations",
                        params={"need": "bio-based packaging", "k": 10}).json()
    found = by_id(answer)
    assert "bio-based" in answer["matched_words"] and "based" not in answer["matched_words"]
    fit = {name: {f["name"]: f for f in r["factors"]}["capability_fit"] for name, r in found.items()}
    assert fit["biobased"]["score"] > fit["generic"]["score"]
    assert "bio-based" in fit["biobased"]["reason"]
    assert "based" not in fit["generic"]["reason"].replace("bio-based", "")


def test_a_need_whose_words_the_data_lacks_is_not_answered_with_another_question(client, world):
    answer = client.get("/api/v1/orgs/sme/recommendations",
                        params={"need": "quantum cryptography", "k": 5}).json()
    assert answer["need_source"] == "need" and answer["need"] == "quantum cryptography"
    assert answer["matched_words"] == []
    # By meaning alone, and with words of the data to try instead.
    assert answer["suggested_words"]
    for result in answer["results"]:
        reason = {f["name"]: f for f in result["factors"]}["capability_fit"]["reason"]
        assert "none of the need's distinctive words" in reason
    page = client.get("/orgs/sme/partners", params={"need": "quantum cryptography"}).text
    assert "None of the words of your need is in the data" in page
    assert answer["suggested_words"][0] in page


def test_complementarity_never_claims_the_asker_lacks_its_own_words(client, world):
    # The SME's own projects speak of food packaging films.
    answer = client.get("/api/v1/orgs/sme/recommendations",
                        params={"need": "food packaging film with a cellulose barrier coating",
                                "k": 10}).json()
    claims = []
    for result in answer["results"]:
        reason = {f["name"]: f for f in result["factors"]}["complementarity"]["reason"]
        if "lacks:" in reason:
            claims += [w.strip(" .") for w in reason.split("lacks:")[1].split(",")]
    assert claims  # the coating words are what the SME lacks
    assert {"cellulose", "barrier"} & set(claims)
    assert not {"food", "packaging", "film", "food packaging", "packaging film"} & set(claims)


def test_the_stop_words_are_the_ones_the_rankers_learned_with():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from innonet.analytics.stop_words import ENGLISH

    assert ENGLISH == ENGLISH_STOP_WORDS


def test_term_weights_equal_scikit_learns_on_the_cordis_texts():
    """The finder's own TF-IDF gives the weights its validation figures were measured with
    (scikit-learn's, sublinear tf), on every H2020 project text of 2014-2018."""
    import csv
    import gzip

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    from tests.conftest import PROJECT_TEXTS

    with gzip.open(PROJECT_TEXTS, "rt", encoding="utf-8") as raw:
        texts = [words.terms(f"{row['title']} {row['topic_description']}") for row in csv.DictReader(raw)]
    texts += [[], ["unseen"]]  # a text without words, and one whose only word is in no other
    ours = words.TfIdf(texts, min_texts=2)
    reference = TfidfVectorizer(analyzer=lambda terms: terms, sublinear_tf=True, min_df=2).fit(texts)
    assert list(ours.terms) == list(reference.get_feature_names_out()) and len(ours.terms) > 5000
    mine, theirs = ours.transform(texts), reference.transform(texts)
    assert mine.shape == theirs.shape and abs(mine - theirs).max() < 1e-12
    assert mine[-1].nnz == 0 and mine[-2].nnz == 0
    lengths = np.asarray(mine.multiply(mine).sum(axis=1)).ravel()
    assert np.allclose(lengths[np.diff(mine.indptr) > 0], 1.0)
    assert words.TfIdf([["alone"], ["single"]]).terms.size == 0  # no term in two texts
