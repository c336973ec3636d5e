from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def owner(db):
    return factories.owner()


@pytest.fixture
def workspace(owner):
    return owner.workspace


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner.user)
    return client


@pytest.fixture(scope="session")
def fake_server():
    """The fake provider, in a thread of this process, on a free local port."""
    from studio.providers.fake.server import serve
    from tests.fake import FakeControl

    app, server = serve(port=0, background=True)
    yield FakeControl(app)
    server.shutdown()
    app.close()


@pytest.fixture
def fake(fake_server, settings):
    """A clean fake provider that outbound HTTP is allowed to reach, with fast timing."""
    fake_server.reset()
    fake_server.timing()
    settings.STUDIO_OUTBOUND_ALLOW = [fake_server.hostport]
    settings.STUDIO_FAKE_PROVIDER_URL = fake_server.url
    return fake_server


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need row locks that SQLite does not have: skip them there."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's folder (database file, broker messages, media)."""
    import shutil

    from django.conf import settings

    shutil.rmtree(settings.VAR_DIR, ignore_errors=True)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def owner_factory(db):
    """Make owners on demand (tests that need committed rows use transactional db)."""
    return factories.owner
