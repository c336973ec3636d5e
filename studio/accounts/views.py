from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts import services
from studio.accounts.forms import JoinForm, SignUpForm
from studio.accounts.middleware import SESSION_KEY
from studio.accounts.models import Invitation


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("gallery:index")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.sign_up(**form.cleaned_data)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("projects:index")
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_POST
def switch_workspace(request: HttpRequest) -> HttpResponse:
    workspace_id = request.POST.get("workspace", "")
    if not any(str(pk) == workspace_id for pk in request.memberships):  # type: ignore[attr-defined]
        raise Http404
    request.session[SESSION_KEY] = workspace_id
    return redirect("gallery:index")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Join a workspace: signed-in people press Join, new people sign up here first."""
    invitation = Invitation.from_token(token)
    if invitation is None:
        raise Http404
    context = {"invitation": invitation, "problem": invitation.problem}
    if invitation.problem:
        return render(request, "accounts/invitation.html", context, status=410)
    form = (
        None
        if request.user.is_authenticated
        else JoinForm(request.POST or None, invitation=invitation)
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if form is None:
                services.accept_invitation(invitation, request.user)
            else:
                user = services.sign_up_invited(
                    invitation,
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except services.MembershipRefused as refusal:
            return render(
                request,
                "accounts/invitation.html",
                {**context, "refusal": refusal.message},
                status=400,
            )
        request.session[SESSION_KEY] = str(invitation.workspace_id)
        messages.success(request, f"Welcome to {invitation.workspace}.")
        return redirect("gallery:index")
    return render(
        request,
        "accounts/invitation.html",
        {**context, "form": form},
        status=400 if form is not None and form.errors else 200,
    )
