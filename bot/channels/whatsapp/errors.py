"""The Cloud API's error codes, in the sender's terms."""

from __future__ import annotations

from pywa_async.errors import WhatsAppError

from bot.delivery.errors import DeliveryError, Rejected, RetryAfter, Transient, Unreachable

PAIR_RATE = 131056  # too many messages to one learner: about one every 6 s
PAIR_RATE_SECONDS = 6.0
THROUGHPUT = 80  # messages a second per business number, Meta's default
THROTTLED = frozenset({4, 80007, 130429})  # the app's or the number's throughput
THROTTLED_SECONDS = 1.0  # the number counts a second: after one, it may send again
UNREACHABLE = frozenset({131026})  # not on WhatsApp, an old app, or the business is blocked
WINDOW_CLOSED = 131047  # more than 24 hours since the learner's last message
MEDIA_INVALID = frozenset({100, 131053})  # the media id is not (or no longer) valid
# The template does not exist in that language (not submitted, or not approved yet), or Meta
# paused or disabled it.
TEMPLATE_UNUSABLE = frozenset({132001, 132015, 132016})


def outcome(error: WhatsAppError) -> DeliveryError:
    """What the sender should do about a refused call."""
    code = error.code
    if code == PAIR_RATE:
        return RetryAfter(PAIR_RATE_SECONDS)
    if code in THROTTLED:  # the whole number waits, not one learner
        return RetryAfter(THROTTLED_SECONDS, everyone=True)
    if code in UNREACHABLE:
        return Unreachable(f"whatsapp {code}")
    if code == WINDOW_CLOSED:  # a message with no template to send instead
        return Rejected(f"whatsapp {code}: 24-hour window closed, no template for this message")
    if code in TEMPLATE_UNUSABLE:
        return Rejected(f"whatsapp {code}: template not approved")
    status = error.status_code
    if (status is not None and status >= 500) or error.is_transient:
        return Transient(f"whatsapp {code}")
    return Rejected(f"whatsapp {code}")


def media_forgotten(error: WhatsAppError) -> bool:
    """WhatsApp refused a media id it no longer keeps (ids last 30 days)."""
    return error.code in MEDIA_INVALID
