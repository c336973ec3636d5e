"""A newcomer's first clip, in a real browser against the live server and a real worker."""

import pytest

from tests import factories
from tests.browser.conftest import log_in
from tests.workers import Worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(live_server):
    started = Worker().start()
    yield started
    started.stop()


def test_sign_up_write_a_prompt_and_watch_the_clip_arrive(page, worker):
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("a-very-long-password")
    page.get_by_role("button", name="Create account").click()

    page.get_by_label("Project name").fill("Spring launch")
    page.get_by_role("button", name="Create project").click()
    page.get_by_label("Shot name").fill("Barista at dawn")
    page.get_by_role("button", name="Add shot").click()

    page.get_by_text("Kling 2.6 Pro", exact=True).click()
    page.get_by_role("textbox", name="Who or what").fill("A young barista")
    page.get_by_role("textbox", name="Doing what").fill(
        "slides a latte across the counter and smiles"
    )
    page.get_by_role("textbox", name="Where").fill("a sunlit corner café")
    page.get_by_role("textbox", name="Speaker").fill("Barista")
    page.get_by_role("textbox", name="Line").fill("Your usual? Oat milk, extra hot.")
    page.get_by_role("textbox", name="Ambience").fill("quiet café murmur, rain on the window")
    page.get_by_label("Length").select_option("5")
    page.locator("label.pill", has_text="9:16").click()
    prompt = page.locator("#live .compiled-box")
    prompt.get_by_text("Ambience: quiet café murmur", exact=False).wait_for()
    assert 'Barista says: "Your usual? Oat milk, extra hot."' in prompt.inner_text()
    generate = page.locator("#generate")
    assert generate.inner_text().strip() == "Generate · Free"
    generate.click()

    page.goto("/")
    card = page.locator(".card").first
    card.locator(".badge", has_text="Ready").wait_for(timeout=90_000)
    card.get_by_role("link", name="Barista at dawn", exact=True).click()

    video = page.locator("video#player")
    video.wait_for()
    duration = page.evaluate(
        """() => new Promise((resolve) => {
            const v = document.querySelector('video#player');
            if (v.readyState >= 1) return resolve(v.duration);
            v.addEventListener('loadedmetadata', () => resolve(v.duration), {once: true});
            v.load();
        })"""
    )
    assert abs(duration - 5) <= 0.1
    facts = page.locator(".clip-facts").inner_text()
    assert facts.startswith("720\N{MULTIPLICATION SIGN}1280"), "a 9:16 clip, not landscape"


def test_a_prompt_over_the_limit_is_refused_next_to_the_prompt(page, owner_factory):
    membership = owner_factory()
    shot = factories.shot(membership.workspace)
    log_in(page, membership.user.email, factories.PASSWORD)
    page.goto(shot.get_absolute_url())
    for field in ("Who or what", "Doing what", "Where", "Style"):  # each stops at its maxlength
        page.get_by_role("textbox", name=field).fill("word " * 200)
    page.locator("#live .counter.error").wait_for()
    page.locator("#generate").click()
    page.wait_for_load_state()
    assert "the limit is 2500" in page.locator("#live").inner_text()
    assert shot.takes.count() == 0
