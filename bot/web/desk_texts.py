"""The words of the volunteer desk's pages, from the catalogs like the rest of the coach."""

from __future__ import annotations

from bot.core.text import N_, Msg

DESK_TEXTS: dict[str, Msg] = {
    "title": N_("Volunteer desk"),
    "signInTitle": N_("Sign in to the volunteer desk"),
    "signInButton": N_("Sign in"),
    "signInWhy": N_(
        "This link signs you in on this browser only. It works once: keep this page open "
        "or bookmark the desk afterwards."
    ),
    "signInBad": N_(
        "This sign-in link does not work: it was used already, or it expired. "
        "Ask a coordinator for a new one."
    ),
    "signedOut": N_(
        "You are not signed in. Open the sign-in link a coordinator sent you, "
        "or ask them for a new one."
    ),
    "signOut": N_("Sign out"),
    "waiting": N_("Requests waiting for someone"),
    "noneWaiting": N_("No request is waiting. New ones appear here by themselves."),
    "yours": N_("Learners you are helping"),
    "noneYours": N_("You are not helping anyone right now."),
    "take": N_("✋ I take it"),
    "open": N_("Open the conversation"),
    "since": N_("Waiting since"),
    "back": N_("Back to the requests"),
    "write": N_("Write to the learner"),
    "send": N_("Send"),
    "close": N_("Close the request"),
    "outcome": N_("How did it end?"),
    "note": N_("A note for the coordinators (optional, never shown to the learner)"),
    "closeButton": N_("Close"),
    "closed": N_("This request is closed."),
    "you": N_("You"),
    "learner": N_("Learner"),
    "coach": N_("Coach"),
    "sentMedia": N_("The learner sent {kind}. Ask them to describe it in words if you need it."),
    "copy": N_("You sent a message from Telegram."),
    "photo": N_("A photo from the learner"),
    "notFound": N_("This request is not yours, or it does not exist."),
    "all": N_("Every request"),
    "allIntro": N_("The latest requests, with their times to be taken and to be closed."),
    "status": N_("Status"),
    "topic": N_("Topic"),
    "language": N_("Language"),
    "volunteer": N_("Volunteer"),
    "asked": N_("Asked (UTC)"),
    "toClaim": N_("To take"),
    "toClose": N_("To close"),
    "rating": N_("Rating"),
    "ended": N_("Outcome"),
    "notSent": N_("Not sent. Check the connection and try again."),
    "newMessages": N_("New messages appear here by themselves."),
    "wrongSite": N_("This form must be sent from the coach's own page."),
}

STATUSES: dict[str, Msg] = {
    "open": N_("waiting"),
    "claimed": N_("taken"),
    "closed": N_("closed"),
    "cancelled": N_("cancelled"),
}
