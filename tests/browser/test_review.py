"""Review in a real browser, on real clips rendered by Preview through the real pipeline:
comment at a timecode and find the moment again, approve a take, compare two takes."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from playwright.sync_api import expect

from studio.accounts.roles import Role
from studio.generation import pipeline
from studio.review.models import Comment
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYER = "document.querySelector('#player')"


def rendered_take(membership, **kwargs):
    with transaction.atomic():
        take = factories.take(membership, **kwargs)
    pipeline.advance(str(take.pk))  # Preview renders the clip here, in about a second
    take.refresh_from_db()
    assert take.video is not None, take.failure_detail
    return take


def wait_for_video(page, selector: str = "#player") -> None:
    page.wait_for_function(f"() => document.querySelector('{selector}').readyState >= 2")


def seek(page, seconds: float) -> None:
    page.evaluate(
        """([selector, t]) => new Promise((done) => {
            const video = document.querySelector(selector);
            video.addEventListener('seeked', done, { once: true });
            video.currentTime = t;
        })""",
        ["#player", seconds],
    )


def test_a_comment_is_stamped_at_the_paused_frame_and_takes_the_player_back(page):
    owner = factories.owner()
    take = rendered_take(owner)
    fps = take.video.fps
    log_in(page, owner.user.email, factories.PASSWORD)
    page.goto(take.get_absolute_url())
    wait_for_video(page)

    seek(page, 2.5)
    page.get_by_role("button", name="Comment", exact=True).click()
    assert page.locator("#comment-at").input_value() == "2.500"
    page.locator("#comment-body").fill("The cup slides too fast here")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#comments .comment-body", has_text="The cup slides too fast").wait_for()
    assert Comment.objects.get().timecode_ms == 2500

    page.reload()
    wait_for_video(page)
    seek(page, 0.4)
    page.locator('[data-seek-ms="2500"]').click()
    page.wait_for_function(f"() => Math.abs({PLAYER}.currentTime - 2.5) < {1 / fps}")
    assert abs(page.evaluate(f"{PLAYER}.currentTime") - 2.5) <= 1 / fps
    assert page.evaluate(f"{PLAYER}.paused")
    expect(page.locator("[data-timecode]")).to_have_text("00:00:02:12")

    # → steps exactly one frame, ← back again; typing in the form does not.
    page.locator("body").press("ArrowRight")
    expect(page.locator("[data-frame]")).to_have_text(f"frame {round(2.5 * fps) + 1}")
    page.locator("#comment-body").press("ArrowLeft")
    page.wait_for_timeout(200)
    expect(page.locator("[data-frame]")).to_have_text(f"frame {round(2.5 * fps) + 1}")


def test_a_reviewer_approves_and_the_summary_updates(page):
    owner = factories.owner()
    reviewer = factories.member(owner.workspace, Role.REVIEWER, name="Rae Viewer")
    take = rendered_take(owner)
    log_in(page, reviewer.user.email, factories.PASSWORD)
    page.goto(take.get_absolute_url())
    summary = page.locator("#decisions")
    assert "Nobody has decided yet" in summary.text_content()

    page.get_by_role("button", name="✓ Approve").click()
    page.locator("#decisions .decision-line").wait_for()
    assert "✓ 1" in page.locator("#decisions .decision-line").text_content()
    assert "Approved by Rae Viewer" in summary.text_content()
    approve = page.get_by_role("button", name="✓ Approve")
    assert approve.get_attribute("aria-pressed") == "true"

    page.goto("/?review=approved")
    assert page.locator(".card").count() == 1
    assert "✓ 1" in page.locator(".card .decision-line").text_content()


def test_the_compare_view_keeps_both_takes_in_step_while_playing(page):
    owner = factories.owner()
    first = rendered_take(owner)
    second = rendered_take(owner, shot_=first.shot)
    log_in(page, owner.user.email, factories.PASSWORD)
    page.goto(first.get_absolute_url())
    page.get_by_text("Compare…").click()
    page.get_by_role("link", name=f"Compare with take {second.number}").click()
    page.wait_for_url("**/review/compare/**")
    wait_for_video(page, "#player-a")
    wait_for_video(page, "#player-b")

    page.locator("[data-compare-bar] [data-do=play]").click()
    times = "() => ['#player-a', '#player-b'].map((s) => document.querySelector(s).currentTime)"
    page.wait_for_function(f"() => ({times})()[0] > 0.2")
    samples = []
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        samples.append(page.evaluate(times))
        page.wait_for_timeout(100)
    assert len(samples) >= 10
    drifts = [abs(a - b) for a, b in samples]
    assert max(drifts) < 0.1, samples
    assert samples[-1][0] > samples[0][0]  # they were playing

    page.locator("[data-compare-bar] [data-do=play]").click()
    # Paused: both show the same moment.
    page.wait_for_function(f"() => {{ const [a, b] = ({times})(); return a === b; }}")
