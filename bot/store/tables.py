"""The database tables, as typed SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.store.sealed import SealedBytes, SealedText


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)  # SQLite keeps the wall time only: store it in UTC

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Learner(Base):
    """One person in one chat on one channel; ``version`` guards concurrent updates."""

    __tablename__ = "learners"
    __table_args__ = (Index("uq_learner_identity", "channel", "chat_id", "user_id", unique=True),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    first_name: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    timezone: Mapped[str] = mapped_column(String(64))
    current_lesson: Mapped[str | None] = mapped_column(String(128))
    choices: Mapped[list[str]] = mapped_column(default=list)
    streak_days: Mapped[int] = mapped_column(default=0)
    last_active_day: Mapped[date | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_activity_at: Mapped[datetime | None]
    nudges_unanswered: Mapped[int] = mapped_column(default=0)
    last_nudge_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    asked_to_pause: Mapped[bool] = mapped_column(default=False)
    handoff_open: Mapped[bool] = mapped_column(default=False)
    next_nudge_at: Mapped[datetime | None] = mapped_column(index=True)
    reviews: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text_only: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=0)

    @property
    def in_group(self) -> bool:
        """A person in a group chat: the chat is not the person's own."""
        return self.chat_id != self.user_id

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class LessonProgressRow(Base):
    __tablename__ = "lesson_progress"

    learner_id: Mapped[int] = mapped_column(
        Id, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True
    )
    lesson_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    step_id: Mapped[str | None] = mapped_column(String(128))
    score: Mapped[int] = mapped_column(default=0)
    step_attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class EventRow(Base):
    """The append-only analytics log: ids and figures, never message text."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    learner_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("learners.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class InboundKey(Base):
    """One row per handled platform update, so a redelivery changes nothing."""

    __tablename__ = "inbound_keys"
    __table_args__ = (Index("ix_inbound_keys_learner_at", "learner_id", "at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    learner_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("learners.id", ondelete="CASCADE")
    )
    at: Mapped[datetime]


class OutboxRow(Base):
    """A message to send; written in the same transaction as the decision to send it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
        Index("ix_outbox_platform_message", "channel", "chat_id", "platform_message_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    learner_id: Mapped[int | None] = mapped_column(
        Id, ForeignKey("learners.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(SealedText())  # relayed words too: sealed at rest
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    media: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tag: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16))
    inbound_key: Mapped[str | None] = mapped_column(String(200), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    edit_message_id: Mapped[str | None] = mapped_column(String(64))
    reply_to_message_id: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    # The bytes of its words (text, button labels), for /data: the text is wiped after days.
    text_bytes: Mapped[int | None]


class MediaFile(Base):
    """A lesson file already uploaded to a channel, sent again by the channel's own id."""

    __tablename__ = "media_files"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    size: Mapped[int]
    file_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    # The file's size as the channel's servers keep it (they may re-encode it), when told.
    kept_size: Mapped[int | None]


class Volunteer(Base):
    """A person who helps learners in person or by chat; known to the coach by invitation."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    telegram_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    places: Mapped[list[Any]] = mapped_column(JSON, default=list)
    available: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    coordinator: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16))  # what the coach writes to them in
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class VolunteerInvite(Base):
    """A single-use invitation; only a hash of its token is kept."""

    __tablename__ = "volunteer_invites"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(Id, ForeignKey("volunteers.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(16), default="telegram")  # or "web"


class DeskSession(Base):
    """A volunteer signed in to the desk in a browser; only a hash of its token is kept."""

    __tablename__ = "desk_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(
        Id, ForeignKey("volunteers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class Handoff(Base):
    """A learner's request for a person: intake, open, claimed, then closed or cancelled."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_learner_status", "learner_id", "status"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    learner_id: Mapped[int] = mapped_column(Id, ForeignKey("learners.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(32))
    topic_text: Mapped[str | None] = mapped_column(SealedText(sqlite_length=300))
    place: Mapped[str | None] = mapped_column(String(64))
    slot: Mapped[datetime | None]
    share_name: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(16))
    context: Mapped[str | None] = mapped_column(SealedText(sqlite_length=300))
    created_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    volunteer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("volunteers.id"))
    volunteer_channel: Mapped[str | None] = mapped_column(String(16))  # where it was taken
    escalate_at: Mapped[datetime | None] = mapped_column(index=True)
    day_ends_at: Mapped[datetime | None] = mapped_column(index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(SealedText())
    rating: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(SealedText())


class HandoffMessage(Base):
    """A message between a learner and their volunteer, as the desk shows it; ``key`` is the
    desk action it came from, so a message is kept once however often it is handled."""

    __tablename__ = "handoff_messages"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    handoff_id: Mapped[int] = mapped_column(
        Id, ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(200), unique=True)
    author: Mapped[str] = mapped_column(String(16))  # "learner" or "volunteer"
    volunteer_id: Mapped[int | None] = mapped_column(Id, ForeignKey("volunteers.id"))
    text: Mapped[str | None] = mapped_column(SealedText())
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_ref: Mapped[str | None] = mapped_column(SealedText(sqlite_length=300))  # channel's
    # The file itself, for the web chat only (it has no platform to fetch it from later);
    # deferred, so that listing a conversation never loads it.
    media_data: Mapped[bytes | None] = mapped_column(SealedBytes(), deferred=True)
    created_at: Mapped[datetime]


class StaffMember(Base):
    """A person who signs in to the staff pages: a trainer, a coordinator or an admin."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # "trainer", "coordinator" or "admin"
    shared_token: Mapped[bool] = mapped_column(default=False)  # signs in by the trainer token
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class StaffInvite(Base):
    """A single-use sign-in link for a staff member; only a hash of its token is kept."""

    __tablename__ = "staff_invites"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Id, ForeignKey("staff.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StaffSession(Base):
    """A staff member signed in in a browser; only a hash of its token is kept."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        Id, ForeignKey("staff.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
