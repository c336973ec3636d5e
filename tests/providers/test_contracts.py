"""What every hosted adapter must do the same way, whatever its wire format."""

import pytest

from studio.providers import registry
from studio.providers.base import ErrorKind, ProviderError
from tests.providers.helpers import adapter, request, running

HOSTED = [slug for slug in registry.PROVIDERS if slug != "preview"]
# The credential a wrong value of which the provider refuses: Kling signs a token with its
# secret key; the others send the API key itself.
WRONG = {"kling": {"secret_key": "not-the-secret-the-sandbox-account-uses"}}
# Kling's 429 carries no Retry-After header: the adapter waits its own minimum instead.
NO_RETRY_AFTER = {"kling"}


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("auth", ErrorKind.AUTH),
        ("out_of_credit", ErrorKind.OUT_OF_CREDIT),
        ("429", ErrorKind.RATE_LIMITED),
        ("5xx", ErrorKind.TRANSIENT),
        ("malformed", ErrorKind.AMBIGUOUS),
        ("drop", ErrorKind.AMBIGUOUS),
    ],
)
@pytest.mark.parametrize("slug", HOSTED)
def test_submit_errors_are_classified_in_the_providers_own_terms(fake, slug, fault, kind):
    offer = registry.get(slug).offers[0]
    fake.fault(slug, "submit", fault, seconds=7)
    with pytest.raises(ProviderError) as caught:
        adapter(slug, fake).submit(request(slug, offer.family))
    assert caught.value.kind == kind
    if kind == ErrorKind.RATE_LIMITED and slug in NO_RETRY_AFTER:
        assert caught.value.retry_after >= 1
    elif kind == ErrorKind.RATE_LIMITED:
        assert caught.value.retry_after == 7  # from the provider's Retry-After


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("5xx", ErrorKind.TRANSIENT),
        ("malformed", ErrorKind.TRANSIENT),
        ("429", ErrorKind.RATE_LIMITED),
    ],
)
@pytest.mark.parametrize("slug", HOSTED)
def test_poll_errors_are_retryable_and_malformed_json_is_transient(fake, slug, fault, kind):
    provider = adapter(slug, fake)
    req = request(slug, registry.get(slug).offers[0].family)
    job = provider.submit(req)
    fake.fault(slug, "poll", fault)
    with pytest.raises(ProviderError) as caught:
        provider.poll(req, running(job))
    assert caught.value.kind == kind


@pytest.mark.parametrize("slug", HOSTED)
def test_a_wrong_key_is_an_auth_error_and_fails_the_connection_check(fake, slug):
    bad = adapter(slug, fake, **WRONG.get(slug, {"api_key": "wrong-key"}))
    for call in (
        bad.check_connection,
        lambda: bad.submit(request(slug, registry.get(slug).offers[0].family)),
    ):
        with pytest.raises(ProviderError) as caught:
            call()
        assert caught.value.kind == ErrorKind.AUTH
