"""The role table, enforced.

The README prints the table of what each role may do; it must equal ``GRANTS`` in
studio/accounts/roles.py. Then every URL of the app is asked, with GET and with POST,
by a member of each role, by a guest holding a review link, and by a stranger, and
each answer must match what the URL needs (ROUTES below). A new URL fails
``test_every_url_is_in_the_table`` until it is added to ROUTES with what it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from studio.accounts.roles import GRANTS, Action, Role
from studio.accounts.roles import Action as A
from studio.accounts.services import invite
from studio.generation.models import Generation, ProviderAccount, Status
from studio.media.storage import sign
from studio.review import services as review
from studio.review.models import Kind, Notification
from tests import factories
from tests.review.helpers import finish

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"

# What a URL needs, besides an Action of the table.
PUBLIC = "public"  # anyone: log in, sign up, reset a password, open an invitation
SIGNED = "signed"  # the URL's own signature or token decides; nobody's role matters
GUEST = "guest"  # a guest review link: whoever holds the token may use it
SIGNED_IN = "signed in"  # any signed-in person, about their own things (inbox, switcher)
NOT_ALLOWED = "405"  # the URL does not take this method

Need = Action | str


@dataclass(frozen=True)
class Route:
    GET: Need
    POST: Need
    args: tuple[str, ...] = ()  # keys of the world to put in the URL, in order
    query: str = ""  # appended to the URL, formatted with the world
    data: dict = field(default_factory=dict)  # POST body, formatted with the world


def route(get: Need = NOT_ALLOWED, post: Need = NOT_ALLOWED, *args: str, **extra) -> Route:
    return Route(get, post, args, **extra)


NO = NOT_ALLOWED

ROUTES: dict[str, Route] = {
    "gallery:index": route(A.VIEW, A.VIEW),
    "projects:index": route(A.VIEW, A.EDIT),
    "projects:detail": route(A.VIEW, A.VIEW, "project"),
    "projects:rename": route(NO, A.EDIT, "project"),
    "projects:archive": route(NO, A.EDIT, "project"),
    "projects:create_shot": route(NO, A.EDIT, "project"),
    "projects:new_shot": route(A.EDIT, A.EDIT),
    "projects:shot": route(A.VIEW, A.GENERATE, "shot"),
    "projects:builder_live_hx": route(NO, A.VIEW, "shot"),
    "takes:detail": route(A.VIEW, A.VIEW, "take"),
    "takes:card_hx": route(A.VIEW, A.VIEW, "take"),
    "takes:status_hx": route(A.VIEW, A.VIEW, "take"),
    "takes:cancel": route(NO, A.GENERATE, "take"),
    "takes:download": route(A.VIEW, A.VIEW, "take"),
    "providers:index": route(A.MANAGE_PROVIDERS, A.MANAGE_PROVIDERS),
    "providers:add_sandbox": route(NO, A.MANAGE_PROVIDERS),
    "providers:update": route(NO, A.MANAGE_PROVIDERS, "account"),
    "providers:check": route(NO, A.MANAGE_PROVIDERS, "account"),
    "budget:index": route(A.MANAGE_BUDGET, A.MANAGE_BUDGET),
    # Every member sees their own spend there; owners (view_spend) see everyone's.
    "spend:dashboard": route(A.VIEW, A.VIEW),
    "spend:export": route(A.VIEW_SPEND, A.VIEW_SPEND),
    "spend:approvals": route(A.MANAGE_BUDGET, A.MANAGE_BUDGET),
    "spend:approve": route(NO, A.MANAGE_BUDGET, "waiting_take"),
    "spend:decline": route(NO, A.MANAGE_BUDGET, "waiting_take"),
    "members:index": route(A.VIEW, A.MANAGE_MEMBERS),
    "members:change_role": route(NO, A.MANAGE_MEMBERS, "target"),
    "members:remove": route(NO, A.MANAGE_MEMBERS, "target"),
    "members:transfer": route(NO, A.MANAGE_MEMBERS, "target"),
    "members:revoke_invitation": route(NO, A.MANAGE_MEMBERS, "invitation"),
    "review:comment": route(NO, A.COMMENT, "take", data={"body": "Hi", "at": "1"}),
    "review:resolve": route(NO, A.COMMENT, "comment"),
    "review:decide": route(NO, A.DECIDE, "take", data={"verdict": "approved"}),
    "review:select": route(NO, A.EDIT, "take"),
    "review:share_take": route(NO, A.SHARE, "take", data={"days": "7"}),
    "review:share_project": route(NO, A.SHARE, "project", data={"days": "7"}),
    "review:revoke_link": route(NO, A.SHARE, "link"),
    "review:compare": route(A.VIEW, NO, query="a={take.pk}&b={other_take.pk}"),
    "review:inbox": route(SIGNED_IN, NO),
    "review:mark_all_read": route(NO, SIGNED_IN),
    "review:digest_settings": route(NO, SIGNED_IN, data={"digest": "daily"}),
    "review:open_notification": route(SIGNED_IN, NO, "notification"),
    "guest:index": route(GUEST, GUEST, "guest_token"),
    "guest:take": route(GUEST, NO, "guest_token", "take"),
    "guest:comment": route(NO, GUEST, "guest_token", "take", data={"name": "Ann", "body": "Hi"}),
    "guest:download": route(GUEST, NO, "guest_token", "take"),
    "webhooks:receive": route(NO, SIGNED, "provider", "webhook_token"),
    "media:serve": route(SIGNED, NO, "clip_name", query="sig={clip_sig}"),
    "media:for_provider": route(SIGNED, NO, "image_token"),
    "signup": route(PUBLIC, PUBLIC),
    "login": route(PUBLIC, PUBLIC),
    "logout": route(NO, PUBLIC),
    "password_reset": route(PUBLIC, PUBLIC),
    "password_reset_done": route(PUBLIC, NO),
    "password_reset_confirm": route(PUBLIC, PUBLIC, "uid", "reset_token"),
    "password_reset_complete": route(PUBLIC, NO),
    "switch_workspace": route(NO, SIGNED_IN, data={"workspace": "{workspace.pk}"}),
    "invitation": route(PUBLIC, PUBLIC, "invitation_token"),
}

MEMBERS = [Role.VIEWER, Role.REVIEWER, Role.EDITOR, Role.OWNER]  # least to most rights
PRINCIPALS = ["stranger", "guest", *MEMBERS]


# --- the README table ---------------------------------------------------------------------


def readme_table() -> dict[Role, frozenset[Action]]:
    text = README.read_text()
    table = text.split("<!-- roles:start -->", 1)[1].split("<!-- roles:end -->", 1)[0]
    rows = [line for line in table.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    columns = {Role(name.lower()): i for i, name in enumerate(header) if name.lower() in Role}
    grants: dict[Role, set[Action]] = {role: set() for role in columns}
    for line in rows[2:]:  # after the header and the |---| line
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        action = Action(re.fullmatch(r"`(\w+)`", cells[1]).group(1))
        for role, i in columns.items():
            assert cells[i] in ("✓", "—"), f"{action}: unclear cell {cells[i]!r}"
            if cells[i] == "✓":
                grants[role].add(action)
    return {role: frozenset(actions) for role, actions in grants.items()}


def test_the_readme_table_is_the_code_table():
    assert readme_table() == GRANTS


def test_the_readme_table_has_a_row_for_every_action_and_a_column_for_every_role():
    text = README.read_text().split("<!-- roles:start -->", 1)[1].split("<!-- roles:end -->")[0]
    assert {Action(code) for code in re.findall(r"`(\w+)`", text)} == set(Action)
    assert set(readme_table()) == set(Role)


# --- every URL ------------------------------------------------------------------------------


def _names(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin: staff only, outside the workspace roles (see below)
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _names(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern):
            yield f"{prefix}{entry.name}"


def url_names() -> list[str]:
    return sorted(set(_names(get_resolver().url_patterns)))


def test_every_url_is_in_the_table():
    missing = [name for name in url_names() if name not in ROUTES]
    assert missing == [], f"say what these URLs need in ROUTES in {__file__}: {missing}"
    gone = [name for name in ROUTES if name not in url_names()]
    assert gone == [], f"these URLs no longer exist: {gone}"


def test_every_action_of_the_table_guards_some_url():
    needed = {need for r in ROUTES.values() for need in (r.GET, r.POST)}
    assert set(Action) <= needed


def test_the_admin_is_not_open_to_workspace_owners(client):
    owner = factories.owner()
    client.force_login(owner.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.fixture
def world(db) -> dict:
    """A workspace with one member of each role and one of everything a URL can name."""
    owner = factories.owner()
    workspace = owner.workspace
    members = {Role.OWNER: owner}
    for role in (Role.EDITOR, Role.REVIEWER, Role.VIEWER):
        members[role] = factories.member(workspace, role)
    take = finish(factories.take(owner))
    other_take = finish(factories.take(owner, shot_=take.shot))
    waiting_take = factories.take(owner, shot_=take.shot)
    Generation.objects.filter(pk=waiting_take.pk).update(status=Status.AWAITING_APPROVAL)
    link = review.create_guest_link(
        created_by=owner.user, project=take.shot.project, allow_download=True
    )
    return {
        "workspace": workspace,
        "members": members,
        "project": take.shot.project,
        "shot": take.shot,
        "take": take,
        "other_take": other_take,
        "waiting_take": waiting_take,
        "account": ProviderAccount.objects.create(workspace=workspace, provider="preview"),
        "target": factories.member(workspace, Role.VIEWER),
        "invitation": invite(workspace=workspace, invited_by=owner.user, role=Role.VIEWER),
        "invitation_token": invite(
            workspace=workspace, invited_by=owner.user, role=Role.VIEWER
        ).token,
        "comment": review.add_comment(take=take, body="Hi", timecode_ms=0, author=owner.user),
        "link": review.create_guest_link(created_by=owner.user, take=take),
        "guest_token": link.token,
        "notifications": {
            role: Notification.objects.create(
                workspace=workspace, recipient=m.user, kind=Kind.TAKE_READY, take=take
            )
            for role, m in members.items()
        },
        "provider": "preview",
        "webhook_token": "not-a-take-token",
        "clip_name": take.clip.file.name,
        "clip_sig": sign(take.clip.file.name),
        "image_token": "not-a-provider-link",
        "uid": "MQ",
        "reset_token": "set-password",
    }


def _client(world: dict, principal: str) -> Client:
    client = Client()
    if principal == "guest":
        # Someone who opened the project's review link (no account).
        assert client.get(reverse("guest:index", args=[world["guest_token"]])).status_code == 200
    elif principal != "stranger":
        client.force_login(world["members"][Role(principal)].user)
    return client


def _url(name: str, spec: Route, world: dict, principal: str) -> str:
    args = []
    for key in spec.args:
        value = world["notifications"] if key == "notification" else world[key]
        if key == "notification":
            value = value.get(principal, value[Role.OWNER])  # one's own; strangers try the owner's
        args.append(getattr(value, "pk", value))
    url = reverse(name, args=args)
    return f"{url}?{spec.query.format(**world)}" if spec.query else url


def _to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _check(need: Need, principal: str, response) -> str:
    """What is wrong with the answer, or "" when it is what the table says."""
    status = response.status_code
    member = principal in Role.values
    allowed = not (_to_login(response) or status in (403, 404, 405))
    if need == NOT_ALLOWED:
        return "" if status == 405 or (not member and _to_login(response)) else "expected 405"
    if need == PUBLIC:  # (logging out does send you to the login page)
        return "" if status not in (403, 404, 405) else "expected to be let in"
    if need == GUEST:
        return "" if allowed else "expected to be let in"
    if need == SIGNED:
        return ""  # compared across principals by the caller
    if not member:
        return "" if _to_login(response) else "expected a redirect to the login page"
    if need == SIGNED_IN or Action(need) in GRANTS[Role(principal)]:
        return "" if allowed else "expected to be let in"
    return "" if status == 403 else "expected 403"


CASES = [(name, method) for name in sorted(ROUTES) for method in ("GET", "POST")]


@pytest.mark.parametrize(("name", "method"), CASES)
def test_every_url_answers_every_role_as_the_table_says(name, method, world, settings):
    settings.STUDIO_FAKE_PROVIDER_URL = ""  # no sandbox accounts to reach
    spec = ROUTES[name]
    need = getattr(spec, method)
    wrong, statuses = [], set()
    # Least rights first: a refused request changes nothing for the ones after it.
    for principal in PRINCIPALS:
        client = _client(world, principal)
        url = _url(name, spec, world, principal)
        data = {k: v.format(**world) for k, v in spec.data.items()}
        response = client.get(url) if method == "GET" else client.post(url, data)
        statuses.add(response.status_code)
        problem = _check(need, principal, response)
        if problem:
            wrong.append(f"{principal}: {response.status_code} ({problem})")
    if need == SIGNED:
        assert len(statuses) == 1, f"{method} {name}: the answer depends on who asks {statuses}"
    assert wrong == [], f"{method} {name} needs {need}: " + "; ".join(wrong)
