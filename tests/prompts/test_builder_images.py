"""Start and end images through the builder: validated, stored by us, handed over as a
short-lived signed link to our copy."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from studio.generation import pipeline
from studio.generation.models import Generation
from studio.providers import catalog
from tests import factories
from tests.generation.test_hosted_providers import builder_data
from tests.providers.helpers import sandbox_account

pytestmark = pytest.mark.django_db


def png(width=640, height=360) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (200, 120, 40)).save(buffer, "PNG")
    return SimpleUploadedFile("frame.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def apiframe(owner, fake, settings):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"  # Apiframe fetches images
    return sandbox_account(owner.workspace, "apiframe", fake)


def test_an_uploaded_start_image_reaches_the_provider_as_a_signed_link(
    owner_client, owner, fake, apiframe, client
):
    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("apiframe", "kling-2.6-pro")) | {"start_image": png()}
    assert owner_client.post(shot.get_absolute_url(), data).status_code == 302
    take = Generation.objects.get(shot=shot)
    assert take.start_image.content_type == "image/jpeg"  # re-encoded, not stored as sent
    pipeline.advance(str(take.pk))
    link = fake.requests("apiframe")[0]["body"]["klingParams"]["start_image"]
    assert link.startswith("https://studio.example.com/media/for-provider/")
    fetched = client.get(link.removeprefix("https://studio.example.com"))  # no login needed
    assert fetched.status_code == 200 and fetched["Content-Type"] == "image/jpeg"
    tampered = link.removeprefix("https://studio.example.com").replace(
        "/for-provider/", "/for-provider/x"
    )
    assert client.get(tampered).status_code == 404


def test_a_too_small_image_is_refused_next_to_the_field_and_nothing_is_created(
    owner_client, owner, fake, apiframe
):
    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("apiframe", "kling-2.6-pro")) | {"start_image": png(120, 90)}
    response = owner_client.post(shot.get_absolute_url(), data)
    assert response.status_code == 400
    assert "at least 300" in response.context["form"].errors["start_image"][0]
    assert not Generation.objects.exists() and fake.requests() == []


def test_an_image_link_to_a_private_address_is_refused(owner_client, owner, fake, apiframe):
    shot = factories.shot(owner.workspace)
    data = builder_data(
        catalog.offer("apiframe", "kling-2.6-pro"), start_image_url="http://127.0.0.1:6379/cat.png"
    )
    response = owner_client.post(shot.get_absolute_url(), data)
    assert response.status_code == 400
    assert response.context["form"].errors["start_image_url"]
    assert not Generation.objects.exists() and fake.requests() == []


def test_kling_26_pro_refuses_an_end_image_with_sound_before_storing_anything(
    owner_client, owner, fake, apiframe
):
    shot = factories.shot(owner.workspace)
    kling = sandbox_account(owner.workspace, "kling", fake)
    assert kling.provider == "kling"
    data = builder_data(catalog.offer("kling", "kling-2.6-pro")) | {
        "start_image": png(),
        "end_image": png(),
    }
    response = owner_client.post(shot.get_absolute_url(), data)
    assert response.context["form"].errors["end_image"] == [
        "Kling 2.6 Pro cannot combine an end image with sound."
    ]
    assert not Generation.objects.exists()
    from studio.media.models import Image

    assert not Image.objects.exists()


def test_a_double_click_with_an_image_stores_it_once(owner_client, owner, fake, apiframe):
    from studio.media.models import Image

    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("apiframe", "kling-2.6-pro"))
    for _ in range(2):
        owner_client.post(shot.get_absolute_url(), data | {"start_image": png()})
    assert Generation.objects.filter(shot=shot).count() == 1
    assert Image.objects.count() == 1


def test_a_resend_carries_the_same_image_link(owner, apiframe):
    from studio.generation.requests import build_request

    take = factories.take(owner, provider="apiframe", model="kling-2.6-pro", account=apiframe)
    from studio.media.images import accept_upload

    take.start_image = accept_upload(
        workspace=owner.workspace,
        user=owner.user,
        upload=png(),
        rules=catalog.offer("apiframe", "kling-2.6-pro").image_rules,
    )
    take.save()
    first, again = build_request(take).start_image, build_request(take).start_image
    assert first.url == again.url != ""


def test_without_a_public_address_a_fetching_provider_refuses_images(
    owner_client, owner, fake, settings
):
    settings.STUDIO_PUBLIC_URL = ""
    sandbox_account(owner.workspace, "apiframe", fake)
    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("apiframe", "kling-2.6-pro")) | {"start_image": png()}
    response = owner_client.post(shot.get_absolute_url(), data)
    assert "no public address" in response.context["form"].errors["start_image"][0]
    assert not Generation.objects.exists()


def test_without_a_public_address_an_inline_provider_takes_images(
    owner_client, owner, fake, settings
):
    settings.STUDIO_PUBLIC_URL = ""
    sandbox_account(owner.workspace, "fal", fake)
    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("fal", "kling-2.6-pro")) | {"start_image": png()}
    assert owner_client.post(shot.get_absolute_url(), data).status_code == 302
    pipeline.advance(str(Generation.objects.get().pk))
    sent = fake.requests("fal")[0]["body"]["start_image_url"]
    assert sent.startswith("data:image/jpeg;base64,")
