"""Signatures as the Standard Webhooks specification defines them, checked by its reference library
and against the test vector the specification publishes."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from gateway.webhooks import new_secret, sign, signature_headers

# The specification's published example (standard-webhooks.com, "Signature scheme").
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specifications_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_reference_library_verifies_a_signed_message_and_refuses_a_changed_one() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    body = b'{"type":"contact.deleted","position":7}'
    headers = signature_headers(secret, "0f3a", int(time.time()), body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"7", b"8"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_two_secrets_differ() -> None:
    assert new_secret() != new_secret()
