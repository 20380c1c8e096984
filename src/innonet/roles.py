"""Who is asking (:class:`Viewer`) and what their roles let them change.

What a viewer may *read* is the access policy's to say (``innonet.sharing.policy``); this
module only knows accounts and roles, so that every domain, the web layer and the command
line can ask it without depending on sharing.
"""

from dataclasses import dataclass, field
from datetime import date

from innonet.errors import Forbidden, Unauthorized

WRITING_ROLES = frozenset({"admin", "member"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking, what they may do, and through which path (for the audit log)."""

    today: date
    user_id: int | None = None
    email: str | None = None
    # Organisation id -> role ("admin", "member" or "guest").
    roles: dict[int, str] = field(default_factory=dict)
    is_platform_admin: bool = False
    is_cluster_manager: bool = False
    # False for visitors, read-scoped tokens and cookie sessions on the API.
    can_write: bool = False
    channel: str = "page"
    path: str | None = None
    is_operator: bool = False
    # Notifications in the inbox not seen yet (counted for pages only).
    unread: int = 0

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None or self.is_operator

    @property
    def member_of(self) -> frozenset[int]:
        """Organisations whose non-public records this viewer may read as an insider."""
        return frozenset(o for o, role in self.roles.items() if role in WRITING_ROLES)

    @property
    def is_network_member(self) -> bool:
        return self.is_operator or self.is_platform_admin or self.is_cluster_manager \
            or bool(self.member_of)

    def admin_of(self, organisation_id: int) -> bool:
        return self.is_operator or self.roles.get(organisation_id) == "admin"

    @property
    def actor(self) -> str:
        if self.is_operator:
            return "command line"
        return self.email or "visitor"


def operator(today: date) -> Viewer:
    """The command line on the server: may read and change everything."""
    return Viewer(today=today, can_write=True, channel="cli", is_operator=True)



def ensure_can_write(viewer: Viewer) -> None:
    """Writes need a signed-in user on a page, or a write-scoped token on the API."""
    if not viewer.signed_in:
        raise Unauthorized("Sign in first." if viewer.channel == "page" else
                           "Send 'Authorization: Bearer <token>' with a write-scoped API token.")
    if not viewer.can_write:
        raise Forbidden("Changes through the API need a write-scoped API token (Authorization: Bearer …), made on "
                        "your account page; a read-scoped token, or the sign-in of a page, only reads."
                        if viewer.channel == "api" else "You may not make changes.")


def ensure_insider(viewer: Viewer, organisation_id: int, *, admin: bool = False,
                   platform_admin_too: bool = False) -> None:
    """Writes on an organisation's records need its admins (or also its members)."""
    ensure_can_write(viewer)
    if viewer.is_operator or platform_admin_too and viewer.is_platform_admin:
        return
    role = viewer.roles.get(organisation_id)
    if admin and role != "admin" or not admin and role not in WRITING_ROLES:
        raise Forbidden("Only the organisation's administrators may do this." if admin
                        else "Only the organisation's members may do this.")


def ensure_network_member(viewer: Viewer) -> None:
    ensure_can_write(viewer)
    if not viewer.is_network_member:
        raise Forbidden("Only members of the platform may do this; guests may not.")


def ensure_signed_in(viewer: Viewer) -> None:
    if not viewer.signed_in:
        raise Unauthorized("Sign in first." if viewer.channel == "page" else
                           "Send 'Authorization: Bearer <token>' with an API token.")

