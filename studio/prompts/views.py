from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts.access import get_for_member, require
from studio.accounts.roles import Action
from studio.billing.services import SpendRefused, preview_spend
from studio.generation import services
from studio.generation.models import Generation
from studio.media.images import ImageRejected, accept_upload, accept_url
from studio.projects.models import Shot
from studio.prompts.compile import compile_prompt
from studio.prompts.fields import PromptFields
from studio.prompts.forms import BuilderForm, initial_from
from studio.prompts.lint import WORDS_PER_SECOND, lint
from studio.providers import catalog
from studio.review.models import with_review


def live_state(form: BuilderForm, *, snap: bool = False, membership=None) -> dict:
    """What the builder shows beside the form while the creator types: the compiled
    prompt against the limit, advice, the price of pressing Generate and, for the
    member, whether that price fits the budget or needs an owner's approval."""
    fields = form.prompt_fields()
    params = form.params(snap=snap)
    offer = form.offer
    compiled = compile_prompt(fields)
    count = form.take_count()
    # An option this offer does not take is listed as a problem; the price shown is that
    # of the nearest option it does take, so the panel never goes blank.
    priced = form.params(snap=True)
    each = offer.price(priced.duration, priced.resolution, priced.audio)
    price = each.times(count)
    problems = catalog.check(
        offer,
        params,
        prompt=compiled,
        negative=fields.negative,
        shots=tuple((s.prompt, s.duration) for s in fields.shots),
    )
    return {
        "compiled": compiled,
        "compiled_length": len(compiled),
        "limit": offer.text_limit,
        "over_limit": len(compiled) > offer.text_limit,
        "warnings": lint(fields, params, offer, compiled),
        "problems": problems,
        "price": price,
        "price_usd": catalog.format_usd(price.usd_micros),
        "price_units": catalog.format_units(price.units, price.unit),
        "take_count": count,
        "offer": offer,
        "params": params,
        "spend_note": preview_spend(membership, each.usd_micros, count) if membership else None,
    }


def _source(request: HttpRequest) -> Generation | None:
    """The take the builder was opened from (``?from=``), to remix or to revise."""
    source = request.GET.get("from")
    if not source:
        return None
    try:
        take_id = uuid.UUID(source)
    except ValueError:
        raise Http404 from None
    return get_for_member(request, Generation.objects.all(), pk=take_id)[0]


def _initial(shot: Shot, take: Generation | None) -> dict:
    """Remix a take or reopen the shot's last draft."""
    if take:
        return initial_from(
            PromptFields.from_dict(take.prompt),
            provider=take.provider,
            model=take.model,
            params=take.params,
        )
    draft = shot.draft or {}
    if draft:
        return initial_from(
            PromptFields.from_dict(draft.get("fields")),
            provider=draft.get("provider", "preview"),
            model=draft.get("model", ""),
            params=draft.get("params", {}),
        )
    return {}


@login_required
@require_http_methods(["GET", "POST"])
def shot(request: HttpRequest, pk) -> HttpResponse:
    shot, membership = get_for_member(request, Shot.objects.select_related("project"), pk=pk)
    source = None
    if request.method == "POST":
        require(membership, Action.GENERATE)
        form = BuilderForm(request.POST, request.FILES, workspace=shot.workspace)
        if form.is_valid() and _order(request, shot, membership, form):
            return redirect(f"{shot.get_absolute_url()}#takes")
        status = 400
    else:
        source = _source(request)
        form = BuilderForm(initial=_initial(shot, source), workspace=shot.workspace)
        status = 200
    takes = with_review(shot.takes.select_related("clip", "created_by").order_by("-number"))
    return render(
        request,
        "prompts/shot.html",
        {
            "shot": shot,
            "source": source,  # the review notes of the take being revised show beside it
            "form": form,
            "takes": takes,
            "membership": membership,
            "can_generate": membership.can(Action.GENERATE),
            "families": catalog.FAMILIES.values(),
            "words_per_second": WORDS_PER_SECOND,
            **live_state(form, membership=membership),
        },
        status=status,
    )


def _order(request: HttpRequest, shot: Shot, membership, form: BuilderForm) -> list[Generation]:
    """Store the images, then order the takes; on a refusal, report it on the form."""
    replayed = Generation.objects.filter(
        workspace_id=shot.workspace_id, request_key=form.cleaned_data["request_key"]
    )
    if replayed:
        return list(replayed)  # a double click: the first click's takes, no second upload
    route = form.route
    images = {}
    for name in ("start_image", "end_image"):
        upload, link = form.cleaned_data.get(name), form.cleaned_data.get(f"{name}_url")
        if not (upload or link):
            continue
        owner = {
            "workspace": shot.workspace,
            "user": request.user,
            "rules": route.offer.image_rules,
        }
        try:
            if upload:
                images[name] = accept_upload(upload=upload, **owner)
            else:
                images[name] = accept_url(url=link, **owner)
        except ImageRejected as error:
            form.add_error(name if upload else f"{name}_url", error.message)
    if form.errors:
        _discard(images.values())
        return []
    order = services.TakeOrder(
        shot=shot,
        membership=membership,
        offer=route.offer,
        account=route.account,
        fields=form.prompt_fields(),
        params=form.params(),
        count=form.cleaned_data["takes"],
        request_key=form.cleaned_data["request_key"],
        **images,
    )
    try:
        return services.order_takes(order)
    except SpendRefused as refusal:
        _discard(images.values())
        form.add_error(None if refusal.field == "__all__" else refusal.field, refusal.message)
        return []


def _discard(images) -> None:
    for image in images:
        image.file.delete(save=False)
        image.delete()


@login_required
@require_POST
def builder_live_hx(request: HttpRequest, pk) -> HttpResponse:
    shot, membership = get_for_member(request, Shot.objects.all(), pk=pk)
    form = BuilderForm(request.POST, workspace=shot.workspace)
    # The options (lengths, resolutions, images, shots) were drawn for one provider and
    # model; when the creator picks another, they are drawn again for the new offer.
    switched = request.POST.get("rendered_offer") != form.offer.key
    return render(
        request,
        "prompts/shot.html#live",
        {
            "shot": shot,
            "form": form,
            "switched": switched,
            "membership": membership,
            "can_generate": membership.can(Action.GENERATE),
            **live_state(form, snap=switched, membership=membership),
        },
    )
