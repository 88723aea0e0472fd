"""The Cloud API's error codes, in the sender's terms."""

from __future__ import annotations

from pywa_async.errors import WhatsAppError

from bot.delivery.errors import DeliveryError, Rejected, RetryAfter, Transient, Unreachable

PAIR_RATE = 131056  # too many messages to one learner: about one every 6 s
PAIR_RATE_SECONDS = 6.0
THROTTLED = frozenset({4, 80007, 130429})  # the app's or the number's throughput
THROTTLED_SECONDS = 2.0
UNREACHABLE = frozenset({131026})  # not on WhatsApp, an old app, or the business is blocked
WINDOW_CLOSED = 131047  # more than 24 hours since the learner's last message
MEDIA_INVALID = frozenset({100, 131053})  # the media id is not (or no longer) valid


def outcome(error: WhatsAppError) -> DeliveryError:
    """What the sender should do about a refused call."""
    code = error.code
    if code == PAIR_RATE:
        return RetryAfter(PAIR_RATE_SECONDS)
    if code in THROTTLED:
        return RetryAfter(THROTTLED_SECONDS)
    if code in UNREACHABLE:
        return Unreachable(f"whatsapp {code}")
    if code == WINDOW_CLOSED:
        # Templates are not sent yet: outside the 24-hour window the message is refused.
        return Rejected(f"whatsapp {code}: 24-hour window closed")
    status = error.status_code
    if (status is not None and status >= 500) or error.is_transient:
        return Transient(f"whatsapp {code}")
    return Rejected(f"whatsapp {code}")


def media_forgotten(error: WhatsAppError) -> bool:
    """WhatsApp refused a media id it no longer keeps (ids last 30 days)."""
    return error.code in MEDIA_INVALID
