"""What the provider's pages share: reading a form, the status of a page shown with a refusal, and the
idempotency key a money form carries so that posting it twice (a double click, a reload) counts once."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.requests import Request

from portal.web import FormError

# Longest text kept from an ordinary form field (plan documents have their own limit).
FIELD_LIMIT = 500


async def form_fields(request: Request, names: Iterable[str], limit: int = FIELD_LIMIT) -> dict[str, str]:
    """The form's text fields `names`, stripped and cut to `limit` characters ("" when absent or a file)."""
    async with request.form() as form:
        values = {name: form.get(name, "") for name in names}
    return {name: v.strip()[:limit] if isinstance(v, str) else "" for name, v in values.items()}


def status_for(error: FormError | None) -> int:
    """200 for a page, 400 for the same page shown again with a refused form."""
    return 400 if error else 200


def idempotency_key() -> str:
    """A fresh key for one rendering of a money form (TopUp, AdjustWallet): the collector credits a key
    once, so the same form posted again is not counted twice."""
    return secrets.token_urlsafe(16)
