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
def apiframe(owner, fake):
    return sandbox_account(owner.workspace, "apiframe", fake)


def test_an_uploaded_start_image_reaches_the_provider_as_a_signed_link(
    owner_client, owner, fake, apiframe, settings
):
    settings.STUDIO_PUBLIC_URL = "https://studio.example.com"
    shot = factories.shot(owner.workspace)
    data = builder_data(catalog.offer("apiframe", "kling-2.6-pro")) | {"start_image": png()}
    assert owner_client.post(shot.get_absolute_url(), data).status_code == 302
    take = Generation.objects.get(shot=shot)
    assert take.start_image.content_type == "image/jpeg"  # re-encoded, not stored as sent
    pipeline.advance(str(take.pk))
    link = fake.requests("apiframe")[0]["body"]["klingParams"]["start_image"]
    assert link.startswith("https://studio.example.com/media/workspaces/")
    assert "sig=" in link


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
