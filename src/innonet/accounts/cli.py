"""``innonet users …`` and ``innonet tokens …``: accounts from the command line."""

from typing import TYPE_CHECKING, Annotated

import typer

from innonet.errors import Conflict, InnonetError

if TYPE_CHECKING:
    from innonet.terminal import Runtime

users = typer.Typer(help="Accounts: create admins and users, make reset links.", no_args_is_help=True)
tokens = typer.Typer(help="Personal API tokens for /api/v1.", no_args_is_help=True)


def _password(set_password: bool) -> str | None:
    if not set_password:
        return None
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create-admin")
def create_admin(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(prompt=True, help="The admin's e-mail address")],
    cluster_manager: Annotated[bool, typer.Option(help=(
        "A cluster manager instead (reads only consenting members' aggregates; not a platform admin)"))] = False,
) -> None:
    """Create a platform admin, or with --cluster-manager a cluster manager (or give an
    existing user that role); asks for the password. The two roles are separate."""
    from innonet.accounts import service
    from innonet.terminal import console, fail, runtime

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with runtime(ctx).sessions.begin() as session:
            user = service.find_or_create_user(session, email=email)
            if cluster_manager:
                user.is_cluster_manager = True
            else:
                user.is_platform_admin = True
            service.set_password(session, user=user, password=password)
    except InnonetError as error:
        fail(error)
    console.print(f"{'Cluster manager' if cluster_manager else 'Platform admin'} {user.email} is ready; "
                  "sign in at /login.")


@users.command("create")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="The person's e-mail address")],
    org: Annotated[str | None, typer.Option(help="External id of their organisation")] = None,
    role: Annotated[str, typer.Option(help="admin, member or guest in --org")] = "member",
    cluster_manager: Annotated[bool, typer.Option(help="Make them cluster manager")] = False,
    set_password: Annotated[bool, typer.Option("--set-password", help="Ask for a password "
                                               "instead of printing an invitation link")] = False,
    base_url: Annotated[str, typer.Option(help="Start of the printed link (INNONET_BASE_URL)")] = "",
) -> None:
    """Add a person to an organisation: prints an invitation link, or sets a password."""
    from innonet.accounts import service
    from innonet.organisations import service as organisations
    from innonet.terminal import console, fail, runtime

    rt = runtime(ctx)
    password = _password(set_password)
    if org is None and not cluster_manager:
        fail(InnonetError("Give --org (with --role) or --cluster-manager."))
    link = None
    try:
        with rt.sessions.begin() as session:
            organisation = organisations.get_organisation(session, external_id=org) if org else None
            if password is None and organisation is not None:
                invitation, secret = service.invite(session, rt.viewer, organisation_id=organisation.id,
                                                    email=email, role=role)
                link = f"{(base_url or rt.settings.base_url or _default_base(rt)).rstrip('/')}/invitations/{secret}"
            else:
                user = service.find_or_create_user(session, email=email)
                user.is_cluster_manager = user.is_cluster_manager or cluster_manager
                if organisation is not None:
                    if role not in ("admin", "member", "guest"):
                        raise InnonetError("role: choose admin, member or guest.")
                    service.set_membership(session, user=user, organisation_id=organisation.id, role=role)
                if password is not None:
                    service.set_password(session, user=user, password=password)
    except InnonetError as error:
        fail(error)
    if link:
        console.print(f"Invitation for {email} ({role} of {org}); valid for 14 days:")
        typer.echo(link)
    else:
        console.print(f"{email} is ready" + (f": {role} of {org}" if org else "") + ".")


def _default_base(rt: "Runtime") -> str:
    return f"http://{rt.settings.host}:{rt.settings.port}"


@users.command("reset-link")
def reset_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="The account's e-mail address")],
    base_url: Annotated[str, typer.Option(help="Start of the printed link (INNONET_BASE_URL)")] = "",
) -> None:
    """Print a one-hour password reset link for an account (for use without a mail server)."""
    from innonet.accounts import service
    from innonet.terminal import fail, runtime

    rt = runtime(ctx)
    try:
        with rt.sessions.begin() as session:
            service.get_user(session, email=email)
            reset = service.request_password_reset(session, email=email)
            if reset is None:
                raise Conflict("Three reset links were made for this account in the last hour; "
                               "use one of them or wait.")
            _, secret = reset
    except InnonetError as error:
        fail(error)
    typer.echo(f"{(base_url or rt.settings.base_url or _default_base(rt)).rstrip('/')}/password/reset/{secret}")


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose token")],
    scope: Annotated[str, typer.Option(help="read or write")] = "read",
    name: Annotated[str, typer.Option(help="What the token is for")] = "command line",
) -> None:
    """Create a personal API token and print it (it is stored only hashed)."""
    from innonet.accounts import service
    from innonet.terminal import console, fail, runtime

    try:
        with runtime(ctx).sessions.begin() as session:
            user = service.get_user(session, email=email)
            token, secret = service.create_token(session, user=user, name=name, scope=scope)
    except InnonetError as error:
        fail(error)
    console.print(f"Token {token.id} ({scope}) for {user.email}; send it as 'Authorization: Bearer …':")
    typer.echo(secret)


@tokens.command("list")
def list_tokens(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose tokens")],
) -> None:
    """A user's tokens: id, scope, name, created, last used, revoked."""
    from innonet.accounts import service
    from innonet.terminal import fail, runtime

    try:
        with runtime(ctx).sessions() as session:
            user = service.get_user(session, email=email)
            rows = service.tokens_of(session, user_id=user.id)
    except InnonetError as error:
        fail(error)
    for t in rows:
        typer.echo(f"{t.id}\t{t.scope}\t{t.name}\t{t.created_at:%Y-%m-%d}\t"
                   f"{t.last_used_at and f'{t.last_used_at:%Y-%m-%d}' or 'never'}\t"
                   f"{'revoked' if t.revoked_at else 'active'}")


@tokens.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see tokens list)")],
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from innonet.accounts import service
    from innonet.terminal import console, fail, runtime

    try:
        with runtime(ctx).sessions.begin() as session:
            service.revoke_token(session, user_id=None, token_id=token_id)
    except InnonetError as error:
        fail(error)
    console.print(f"Token {token_id} revoked.")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
    app.add_typer(tokens, name="tokens")
