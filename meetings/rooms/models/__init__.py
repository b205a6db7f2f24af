"""The domain of a voter contact conference, one module per entity."""

from meetings.rooms.models.agenda import AgendaItem, AgendaItemKind
from meetings.rooms.models.candidate import Candidate
from meetings.rooms.models.checkpoint import CheckpointReason, RecordCheckpoint
from meetings.rooms.models.event import GENESIS_HASH, Audience, Event, EventLogHead
from meetings.rooms.models.hall import BridgePoint, KioskConnection
from meetings.rooms.models.join_link import JoinLink, JoinLinkKind
from meetings.rooms.models.kiosk import (
    DECIDED_BY_STAFF,
    KioskEndReason,
    KioskSession,
    KioskSessionState,
)
from meetings.rooms.models.meeting import MEETING_TRANSITIONS, Meeting, MeetingStatus
from meetings.rooms.models.programme import FloorRequest, Programme, ProgrammeLayout
from meetings.rooms.models.recording import Clip, ClipStatus, Recording, RecordingStatus
from meetings.rooms.models.role import Role, RoleGrant
from meetings.rooms.models.round import Round, RoundGrant, RoundLevel

__all__ = [
    "DECIDED_BY_STAFF",
    "GENESIS_HASH",
    "MEETING_TRANSITIONS",
    "AgendaItem",
    "AgendaItemKind",
    "Audience",
    "BridgePoint",
    "Candidate",
    "CheckpointReason",
    "Clip",
    "ClipStatus",
    "Event",
    "EventLogHead",
    "FloorRequest",
    "JoinLink",
    "JoinLinkKind",
    "KioskConnection",
    "KioskEndReason",
    "KioskSession",
    "KioskSessionState",
    "Meeting",
    "MeetingStatus",
    "Programme",
    "ProgrammeLayout",
    "RecordCheckpoint",
    "Recording",
    "RecordingStatus",
    "Role",
    "RoleGrant",
    "Round",
    "RoundGrant",
    "RoundLevel",
]
