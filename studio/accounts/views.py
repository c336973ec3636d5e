from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from studio.accounts import services
from studio.accounts.forms import SignUpForm
from studio.accounts.middleware import SESSION_KEY


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
