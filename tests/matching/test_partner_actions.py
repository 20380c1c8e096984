"""What a member does with a partner result on the page: add it to the relationships
(prefilled, private), keep it on the need's shortlist."""

from innonet.matching import service as matching
from innonet.matching.schemas import NeedIn
from tests.factories import OPERATOR, make_organisation, make_project, make_user, sign_in


def test_add_to_my_relationships_opens_the_form_prefilled_and_private(client, session):
    alpha, beta = make_organisation(session, name="Alpha"), make_organisation(session, name="Beta")
    token = sign_in(client, session, make_user(session, alpha))
    session.commit()
    form = client.get(f"/orgs/{alpha.external_id}/relationships/new",
                      params={"partner": beta.external_id, "notes": "Found for “coatings”."})
    assert form.status_code == 200
    assert f'value="{beta.external_id}"' in form.text
    assert "Found for “coatings”.</textarea>" in form.text
    assert '<option value="private" selected' in form.text
    saved = client.post(f"/orgs/{alpha.external_id}/relationships/new", data={
        "partner": beta.external_id, "kind": "supplier", "direction": "mutual", "strength": "3",
        "visibility": "private", "notes": "Found for “coatings”.", "csrf_token": token},
        follow_redirects=False)
    assert saved.status_code == 303
    hostile = client.get(f"/orgs/{alpha.external_id}/relationships/new", params={"partner": "x" * 65})
    assert hostile.status_code == 422 and "partner" in hostile.text


def test_the_shortlist_of_an_open_need_is_kept_on_the_page(client, session):
    alpha, beta, gamma = (make_organisation(session, name=n, capabilities="barrier coatings")
                          for n in ("Alpha", "Beta", "Gamma"))
    make_project(session, alpha, beta, title="Barrier coatings for food packaging")
    make_project(session, beta, gamma, title="Barrier coatings for paper")
    need = matching.create_need(session, OPERATOR, data=NeedIn(
        organisation=alpha.external_id, title="Coating partner", description="barrier coatings"))
    token = sign_in(client, session, make_user(session, alpha))
    session.commit()
    page = client.get(f"/orgs/{alpha.external_id}/partners", params={"need_id": need.id})
    assert "Shortlist for “Coating partner”" in page.text and "Nobody yet" in page.text
    assert page.text.count("Save to shortlist") >= 1
    added = client.post(f"/needs/{need.id}/shortlist", data={"partner": gamma.external_id,
                                                              "csrf_token": token})
    assert added.status_code == 200 and "Gamma is on the shortlist." in added.text
    assert '<span class="tag">on the shortlist</span>' in added.text
    again = client.post(f"/needs/{need.id}/shortlist", data={"partner": gamma.external_id,
                                                              "csrf_token": token})
    assert "Gamma was on the shortlist already." in again.text
    removed = client.post(f"/needs/{need.id}/shortlist/{gamma.external_id}/remove",
                          data={"csrf_token": token})
    assert "Taken off the shortlist." in removed.text and "Nobody yet" in removed.text
