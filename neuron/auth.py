"""btauth/1 on both ends: verifying requests bound to our hotkey, signing our own.

``bittensor.http_auth`` does the cryptography; this module fixes the policy around it: every
request must be bound to *this* neuron's hotkey, nonces are remembered long enough to cover
the whole freshness window, and each failure maps to an HTTP status and a metric reason with
the SDK's message, which never echoes signature or payload and is safe to return.
"""

from __future__ import annotations

from collections.abc import Mapping

from bittensor import http_auth
from bittensor.keyfiles import Keypair

from neuron.metrics import RefusalReason as Why


class Refusal(Exception):
    """A request refused before the handler: HTTP status, metric reason, safe message."""

    def __init__(self, status: int, reason: Why, message: str):
        super().__init__(message)
        self.status = status
        # Coerced, so a reason missing from the one list fails at once instead of being
        # exported as a series no dashboard or start-up zero knows about.
        self.reason = Why(reason)
        self.message = message


# Authentication failures are 401 (the caller can fix them by signing correctly); a request
# that is validly signed but not for us, or already used, is 403.
_AUTH_ERRORS: tuple[tuple[type[http_auth.AuthError], int, Why], ...] = (
    (http_auth.MalformedAuth, 401, Why.MALFORMED_AUTH),
    (http_auth.StaleRequest, 401, Why.STALE),
    (http_auth.BadSignature, 401, Why.BAD_SIGNATURE),
    (http_auth.WrongReceiver, 403, Why.WRONG_RECEIVER),
    (http_auth.ReplayedRequest, 403, Why.REPLAYED),
)


class Verifier:
    """``http_auth.verify`` bound to one hotkey, with its own replay store."""

    def __init__(
        self,
        own_hotkey: str,
        *,
        max_age: float = http_auth.DEFAULT_MAX_AGE,
        allowed_skew: float = http_auth.DEFAULT_ALLOWED_SKEW,
        nonce_store: http_auth.NonceStore | None = None,
    ):
        self.own_hotkey = own_hotkey
        self.max_age = max_age
        self.allowed_skew = allowed_skew
        # Retention must cover the whole window, or a replay inside the gap is accepted.
        self.nonces = nonce_store or http_auth.InMemoryNonceStore(
            retention=max_age + allowed_skew + 1.0
        )

    def verify(
        self, headers: Mapping[str, str], body: bytes, *, method: str, path: str
    ) -> http_auth.Caller:
        try:
            return http_auth.verify(
                headers,
                body,
                method=method,
                path=path,
                self_hotkey_ss58=self.own_hotkey,
                max_age=self.max_age,
                allowed_skew=self.allowed_skew,
                nonce_store=self.nonces,
            )
        except http_auth.AuthError as exc:
            for kind, status, reason in _AUTH_ERRORS:
                if isinstance(exc, kind):
                    raise Refusal(status, reason, str(exc)) from None
            raise Refusal(401, Why.AUTH_ERROR, "authentication failed") from None


def sign_request(
    hotkey: Keypair, *, method: str, path: str, body: bytes, receiver: str
) -> dict[str, str]:
    """btauth/1 headers signed with the loaded hotkey ``Keypair`` (not a ``Wallet``).

    ``path`` is the request target exactly as sent, query string included.
    """
    return http_auth.sign(hotkey, method=method, path=path, body=body, receiver_ss58=receiver)
