"""Spend pages: the owners' dashboard and export, members' own spend, approvals, limits."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts.access import current_membership, get_for_member
from studio.accounts.models import Membership
from studio.accounts.roles import Action
from studio.billing import reports, services
from studio.billing.forms import LimitsForm, PeriodForm, to_micros
from studio.billing.models import Budget, MemberCap
from studio.generation import services as takes
from studio.generation.models import Generation
from studio.review.models import Outcome
from studio.review.services import spend_by_outcome


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Owners see the workspace's spend; everyone else sees their own."""
    membership = current_membership(request)
    form = PeriodForm(request.GET or None)
    period = form.chosen()
    workspace_now, member_now = reports.workspace_standing(membership)
    context = {
        "membership": membership,
        "form": form,
        "period": period,
        "workspace_now": workspace_now,
        "member_now": member_now,
    }
    if not membership.can(Action.VIEW_SPEND):
        context["spend"] = reports.spend(membership.workspace, period, user=membership.user)
        context["recent"] = reports.recent_takes(membership.workspace, user=membership.user)
        return render(request, "billing/mine.html", context)
    context["spend"] = reports.spend(membership.workspace, period)
    context["budget"] = Budget.objects.filter(workspace=membership.workspace).first()
    context["outcome"] = spend_by_outcome(membership.workspace, period.start, period.end)
    context["outcome_rows"] = [
        (o.value, o.label, context["outcome"].micros[o], context["outcome"].takes[o])
        for o in Outcome
    ]
    return render(request, "billing/dashboard.html", context)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


@login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    membership = current_membership(request, Action.VIEW_SPEND)
    period = PeriodForm(request.GET or None).chosen()
    writer = csv.writer(_Echo())
    rows = reports.ledger_rows(membership.workspace, period)
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    name = f"studio-ledger-{period.first:%Y-%m-%d}-to-{period.last:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _waiting(membership) -> dict:
    """The takes that still wait, and what they cost together."""
    waiting = list(reports.awaiting_approval(membership.workspace_id))
    return {"waiting": waiting, "total": sum(take.estimate_micros for take in waiting)}


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request, Action.MANAGE_BUDGET)
    budget = Budget.objects.filter(workspace=membership.workspace).first()
    context = {"membership": membership, "budget": budget, **_waiting(membership)}
    return render(request, "billing/approvals.html", context)


@login_required
@require_POST
def approve(request: HttpRequest, pk) -> HttpResponse:
    return _decide(request, pk, approved=True)


@login_required
@require_POST
def decline(request: HttpRequest, pk) -> HttpResponse:
    return _decide(request, pk, approved=False)


def _decide(request: HttpRequest, pk, *, approved: bool) -> HttpResponse:
    take, membership = get_for_member(
        request,
        Generation.objects.select_related("shot__project", "created_by"),
        Action.MANAGE_BUDGET,
        pk=pk,
    )
    done = takes.approve(take) if approved else takes.decline(take)
    take.refresh_from_db()
    if request.htmx:
        context = {"take": take, "done": done, "decided": True, **_waiting(membership)}
        return render(request, "billing/approvals.html#decided", context)
    if not done:
        messages.info(request, f"{take} was already decided: it is {take.get_status_display()}.")
    elif approved:
        messages.success(request, f"Approved: {take} is on its way to the provider.")
    else:
        messages.success(request, f"Declined: {take}. Its reservation was released.")
    return redirect("spend:approvals")


@login_required
@require_http_methods(["GET", "POST"])
def limits(request: HttpRequest) -> HttpResponse:
    """The workspace budget, the approval rules and members' monthly limits."""
    membership = current_membership(request, Action.MANAGE_BUDGET)
    workspace = membership.workspace
    budget = Budget.objects.filter(workspace=workspace).first() or Budget(workspace=workspace)
    members = list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("role", "user__name")
    )
    caps = dict(
        MemberCap.objects.for_workspace(workspace).values_list(
            "membership_id", "monthly_cap_micros"
        )
    )
    form = LimitsForm(request.POST or None, budget=budget, memberships=members, caps=caps)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.set_limits(
            workspace,
            monthly_budget_micros=to_micros(data["monthly_budget"]),
            approval_threshold_micros=to_micros(data["approval_threshold"]),
            editors_need_approval=data["editors_need_approval"],
            caps=form.caps(),
        )
        messages.success(request, "Spending rules saved. They apply from the next order.")
        return redirect("budget:index")
    workspace_now, _ = reports.workspace_standing(membership)
    used = reports.committed_by_member(workspace)
    return render(
        request,
        "billing/limits.html",
        {
            "membership": membership,
            "form": form,
            "workspace_now": workspace_now,
            "caps": [(m, field, used.get(m.user_id, 0)) for m, field in form.cap_fields()],
        },
        status=400 if form.is_bound else 200,
    )
