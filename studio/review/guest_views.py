"""Guest review: people with a link (no account) watch and comment on exactly what the
link covers. Unknown links and takes outside the link answer 404; revoked or expired
links answer 410 with a page that says so. Guests never see the workspace's navigation,
other projects, prices, prompts or member emails.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studio.generation.models import Generation
from studio.media.storage import download_url
from studio.review import panel, services
from studio.review.forms import GuestCommentForm, GuestPasswordForm
from studio.review.models import GuestLink

# A link's password can be guessed at most this many times per window, from anywhere:
# the limit protects the link, whoever is guessing.
PASSWORD_TRIES, PASSWORD_WINDOW = 10, 15 * 60
UNLOCKED = "guest_links_unlocked"  # session: ids of password links this visitor opened
GUEST_NAME = "guest_name"  # session: the name a guest comments under


def _unlocked(request: HttpRequest, link: GuestLink) -> bool:
    return not link.has_password or link.pk.hex in request.session.get(UNLOCKED, [])


def guest_link(view: Callable) -> Callable:
    """Resolve the token to a live link (404 unknown, 410 dead) and pass it to the view.
    Behind a password, every page but the link's front page (which asks for it) sends
    the visitor there until they have unlocked the link."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        link = GuestLink.from_token(token)
        if link is None:
            raise Http404
        if link.problem:
            return render(request, "review/guest/gone.html", {"problem": link.problem}, status=410)
        if kwargs and not _unlocked(request, link):  # every page but the front names a take
            return redirect(link.get_absolute_url())
        return view(request, link, *args, **kwargs)

    return wrapper


def _take(link: GuestLink, pk) -> Generation:
    return get_object_or_404(
        link.covered_takes().select_related("clip", "shot", "shot__project"), pk=pk
    )


def _take_page(request: HttpRequest, link: GuestLink, take: Generation, form=None):
    guest_name = request.session.get(GUEST_NAME, "")
    review = panel.for_guest(take, link, guest_name)
    form = form or GuestCommentForm(take=take, initial={"name": guest_name})
    return render(
        request,
        "review/guest/take.html",
        {
            "link": link,
            "take": take,
            "review": review,
            "comment_form": form,
            "no_download": not link.allow_download,
        },
    )


@require_http_methods(["GET", "POST"])
@guest_link
def index(request: HttpRequest, link: GuestLink) -> HttpResponse:
    if not _unlocked(request, link):
        form = GuestPasswordForm(request.POST or None)
        tries = f"guest-link-tries:{link.pk.hex}"
        if request.method == "POST" and form.is_valid():
            if cache.get(tries, 0) >= PASSWORD_TRIES:
                form.add_error("password", "Too many wrong passwords. Try again in 15 minutes.")
            elif link.check_password(form.cleaned_data["password"]):
                request.session[UNLOCKED] = [*request.session.get(UNLOCKED, []), link.pk.hex]
                return redirect(link.get_absolute_url())
            else:
                cache.add(tries, 0, PASSWORD_WINDOW)
                cache.incr(tries)
                form.add_error("password", "That password is not right.")
        return render(
            request,
            "review/guest/password.html",
            {"form": form},
            status=400 if form.errors else 200,
        )
    if request.method == "POST":
        return redirect(link.get_absolute_url())
    if link.take_id:
        return _take_page(request, link, _take(link, link.take_id))
    takes = link.covered_takes().select_related("clip", "shot")
    takes = takes.order_by("shot__created_at", "-number")
    return render(request, "review/guest/project.html", {"link": link, "takes": takes})


@require_GET
@guest_link
def take(request: HttpRequest, link: GuestLink, pk) -> HttpResponse:
    return _take_page(request, link, _take(link, pk))


@require_POST
@guest_link
def comment(request: HttpRequest, link: GuestLink, pk) -> HttpResponse:
    take = _take(link, pk)
    form = GuestCommentForm(request.POST, take=take)
    if not form.is_valid():
        if request.htmx:
            review = panel.for_guest(take, link, request.POST.get("name", ""))
            context = {"take": take, "review": review, "comment_form": form}
            return render(request, "review/_panel.html#comments", context)
        return _take_page(request, link, take, form)
    request.session[GUEST_NAME] = form.cleaned_data["name"]
    posted = services.add_comment(
        take=take,
        body=form.cleaned_data["body"],
        timecode_ms=form.timecode_ms,
        parent=form.cleaned_data["parent"],
        guest_name=form.cleaned_data["name"],
        guest_link=link,
    )
    if not request.htmx:
        page = reverse("guest:take", args=[link.token, take.pk])
        return redirect(f"{page}#comment-{posted.thread_id}")
    review = panel.for_guest(take, link, form.cleaned_data["name"])
    fresh = GuestCommentForm(take=take, initial={"name": form.cleaned_data["name"]})
    return render(
        request,
        "review/_panel.html#comments",
        {"take": take, "review": review, "comment_form": fresh},
    )


@require_GET
@guest_link
def download(request: HttpRequest, link: GuestLink, pk) -> HttpResponse:
    take = _take(link, pk)
    if not link.allow_download:
        raise Http404
    return redirect(download_url(take.clip.file.name, take.download_filename))
