"""Joint projects: who sees and changes them, their parties and people, items, agreements
and IP register, exit criteria and reviews, closing. Services flush, never commit.

Who reads what (docs/security.md):

- a project is read by the admins and members of each of its parties, by the people named
  on it (a party's guests only that way), and by whoever its visibility lets in
  (``private``: nobody else; ``partners``, ``network``, ``public`` as for any record);
- an item (work package, milestone, risk, decision, background IP, result) is read by
  everyone who reads the project, unless it is *narrowed*: then only by the party that
  recorded it and the parties in its audience;
- the lead's administrators manage the project (parties, agreements, exit criteria,
  reviews, closing); the members of every party and the people on it add and change items.

Everything that lists or counts projects or items filters with :func:`project_condition`
and :func:`item_condition`.
"""

from innonet.projects.access import (
    ITEM_COLUMNS,
    ITEM_MODELS,
    LESSONS_JOB,
    acting_for,
    ensure_contributor,
    event_condition,
    get_project,
    item_condition,
    may_manage,
    party_ids,
    project_condition,
)
from innonet.projects.feeds import (
    calendar_entries,
    calendar_ics,
    calendar_owner,
    create_calendar_feed,
    has_calendar_feed,
    revoke_calendar_feed,
)
from innonet.projects.items import add_item, delete_item, get_item, item_values, update_item, visible_items
from innonet.projects.lifecycle import (
    add_party,
    add_person,
    close_project,
    create_project,
    decide_review,
    delete_project,
    idea_title,
    lessons_of,
    list_projects,
    list_projects_by_id,
    may_start_from_idea,
    remove_party,
    remove_person,
    set_agreements,
    set_exit_criteria,
    update_project,
)
from innonet.projects.overview import (
    agreements_of,
    briefing,
    criterion_words,
    events_of,
    export_project,
    late_items,
    project_view,
    summaries,
    timeline,
)

__all__ = [
    "ITEM_COLUMNS",
    "ITEM_MODELS",
    "LESSONS_JOB",
    "acting_for",
    "ensure_contributor",
    "event_condition",
    "get_project",
    "item_condition",
    "may_manage",
    "party_ids",
    "project_condition",
    "add_item",
    "delete_item",
    "get_item",
    "item_values",
    "update_item",
    "visible_items",
    "add_party",
    "add_person",
    "close_project",
    "create_project",
    "decide_review",
    "delete_project",
    "idea_title",
    "lessons_of",
    "list_projects",
    "list_projects_by_id",
    "may_start_from_idea",
    "remove_party",
    "remove_person",
    "set_agreements",
    "set_exit_criteria",
    "update_project",
    "calendar_entries",
    "calendar_ics",
    "calendar_owner",
    "create_calendar_feed",
    "has_calendar_feed",
    "revoke_calendar_feed",
    "agreements_of",
    "briefing",
    "criterion_words",
    "events_of",
    "export_project",
    "late_items",
    "project_view",
    "summaries",
    "timeline",
]

