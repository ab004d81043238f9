"""What the provider's pages share: reading a form, the status of a page shown with a refusal, and the
idempotency key a money form carries so that posting it twice (a double click, a reload) counts once."""

from __future__ import annotations

import secrets

from portal.web import FormError
from portal.web import form_fields as form_fields  # moved to portal.web: the host's pages read forms too


def status_for(error: FormError | None) -> int:
    """200 for a page, 400 for the same page shown again with a refused form."""
    return 400 if error else 200


def idempotency_key() -> str:
    """A fresh key for one rendering of a money form (TopUp, AdjustWallet): the collector credits a key
    once, so the same form posted again is not counted twice."""
    return secrets.token_urlsafe(16)
