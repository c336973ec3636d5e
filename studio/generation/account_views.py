"""Workspace settings: the provider accounts owners manage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts.access import current_membership, get_for_member
from studio.accounts.roles import Action
from studio.generation import accounts
from studio.generation.account_forms import ProviderAccountForm, key_labels
from studio.generation.models import ProviderAccount
from studio.providers import registry


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request, Action.MANAGE_PROVIDERS)
    form = ProviderAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account = _save(membership, form, form.cleaned_data["provider"])
        ok, message = accounts.check_connection(account)
        (messages.success if ok else messages.warning)(
            request, f"{account.label} saved. {'Connected.' if ok else message}"
        )
        return redirect("providers:index")
    return render(request, "workspace/providers.html", _context(membership, form))


def _save(membership, form: ProviderAccountForm, provider: str, **extra) -> ProviderAccount:
    data = form.cleaned_data
    return accounts.save_account(
        workspace=membership.workspace,
        provider=provider,
        api_key=data["api_key"],
        secret_key=data["secret_key"],
        webhook_secret=data["webhook_secret"],
        base_url=data["base_url"],
        enabled=data["enabled"],
        **extra,
    )


def _context(membership, form) -> dict:
    rows = ProviderAccount.objects.for_workspace(membership.workspace).order_by("provider")
    return {
        "membership": membership,
        "form": form,
        "accounts": rows,
        "labels": {slug: key_labels(slug) for slug in registry.PROVIDERS if slug != "preview"},
        "can_add_sandbox": bool(accounts.sandbox_base()),
    }


@login_required
@require_POST
def update(request: HttpRequest, pk) -> HttpResponse:
    account, membership = get_for_member(
        request, ProviderAccount.objects.all(), Action.MANAGE_PROVIDERS, pk=pk
    )
    form = ProviderAccountForm(request.POST, account=account)
    if form.is_valid():
        _save(membership, form, account.provider, is_sandbox=account.is_sandbox)
        messages.success(request, f"{account.label} updated.")
        return redirect("providers:index")
    return render(
        request,
        "workspace/providers.html",
        _context(membership, form) | {"editing": account},
        status=400,
    )


@login_required
@require_POST
def check(request: HttpRequest, pk) -> HttpResponse:
    account, _ = get_for_member(
        request, ProviderAccount.objects.all(), Action.MANAGE_PROVIDERS, pk=pk
    )
    accounts.check_connection(account)
    if request.htmx:
        return render(request, "workspace/providers.html#check", {"account": account})
    return redirect("providers:index")


@login_required
@require_POST
def add_sandbox(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request, Action.MANAGE_PROVIDERS)
    added = accounts.add_sandbox_accounts(membership.workspace)
    messages.success(request, f"{len(added)} sandbox accounts point at the bundled fake provider.")
    return redirect("providers:index")
