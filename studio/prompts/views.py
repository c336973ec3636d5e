from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from studio.accounts.access import get_for_member, require
from studio.accounts.roles import Action
from studio.billing.services import SpendRefused
from studio.generation import services
from studio.generation.models import Generation
from studio.media.images import ImageRejected, accept_upload
from studio.projects.models import Shot
from studio.prompts.compile import compile_prompt
from studio.prompts.fields import PromptFields
from studio.prompts.forms import BuilderForm, initial_from
from studio.prompts.lint import WORDS_PER_SECOND, lint
from studio.providers import catalog


def live_state(form: BuilderForm, *, snap: bool = False) -> dict:
    """What the builder shows beside the form while the creator types: the compiled
    prompt against the limit, advice, and the price of pressing Generate."""
    fields = form.prompt_fields()
    params = form.params(snap=snap)
    offer = form.offer
    compiled = compile_prompt(fields)
    count = form.take_count()
    price = offer.price(params.duration, params.resolution, params.audio).times(count)
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
    }


def _initial(request: HttpRequest, shot: Shot) -> dict:
    """Remix a take (``?from=``) or reopen the shot's last draft."""
    source = request.GET.get("from")
    if source:
        take, _ = get_for_member(request, Generation.objects.all(), pk=source)
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
    if request.method == "POST":
        require(membership, Action.GENERATE)
        form = BuilderForm(request.POST, request.FILES, workspace=shot.workspace)
        if form.is_valid() and _order(request, shot, membership, form):
            return redirect(f"{shot.get_absolute_url()}#takes")
        status = 400
    else:
        form = BuilderForm(initial=_initial(request, shot), workspace=shot.workspace)
        status = 200
    takes = shot.takes.select_related("clip", "created_by").order_by("-number")
    return render(
        request,
        "prompts/shot.html",
        {
            "shot": shot,
            "form": form,
            "takes": takes,
            "membership": membership,
            "can_generate": membership.can(Action.GENERATE),
            "families": catalog.FAMILIES.values(),
            "words_per_second": WORDS_PER_SECOND,
            **live_state(form),
        },
        status=status,
    )


def _order(request: HttpRequest, shot: Shot, membership, form: BuilderForm) -> list[Generation]:
    """Store the images, then order the takes; on a refusal, report it on the form."""
    route = form.route
    images = {}
    for name in ("start_image", "end_image"):
        upload = form.cleaned_data.get(name)
        if upload:
            try:
                images[name] = accept_upload(
                    workspace=shot.workspace,
                    user=request.user,
                    upload=upload,
                    rules=route.offer.image_rules,
                )
            except ImageRejected as error:
                form.add_error(name, error.message)
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
            **live_state(form, snap=switched),
        },
    )
