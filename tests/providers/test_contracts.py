"""What every hosted adapter must do the same way, whatever its wire format."""

import pytest

from studio.providers import registry
from studio.providers.base import ErrorKind, ProviderError
from tests.providers.helpers import adapter, request

HOSTED = [slug for slug in registry.PROVIDERS if slug != "preview"]
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
