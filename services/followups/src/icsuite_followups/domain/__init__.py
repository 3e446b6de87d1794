"""The follow-up domain: pure and synchronous; time and ids are passed in."""

from types import ModuleType as _ModuleType

from .copying import CopyResult, SourceNote, SourceSnapshot, copy_from_source
from .customizing import (
    CHANNELS,
    COPYABLE_FIELDS,
    DEFAULT_COPY_RULES,
    DEFAULT_FOLLOWUP_TYPES,
    DISPLAY_AREAS,
    FOLLOWUP_TYPES,
    SOURCE_TYPES,
    Configured,
    CopyRule,
    CopyRules,
    FollowupTypeRules,
    decide_replace_config,
    decide_seed_config,
    display_area,
)
from .deadlines import decide_due, decide_overdue, is_coming_due, is_overdue
from .decisions import decide_append_note, decide_change, decide_complete_copy, decide_create
from .errors import (
    CustomizingChanged,
    CustomizingNotStored,
    FollowupFinished,
    FollowupNotFound,
    InvalidChange,
    InvalidLanguage,
    InvalidNote,
    InvalidSchedule,
    InvalidTransition,
    NoteNotFound,
    NotesHistoryFull,
    NotOwner,
    TypeNotPermitted,
)
from .events import envelopes_for
from .followup import (
    ACTIVE_STATUSES,
    CALL_TYPES,
    COPYING_CONTROL,
    DATE_FIELDS,
    FINAL_STATUSES,
    LATE_COPIED_FIELDS,
    PARTY_FIELDS,
    PROJECTED_SOURCE_TYPES,
    STATUSES,
    TRANSITIONS,
    Actor,
    CameDue,
    FieldsChanged,
    Followup,
    FollowupEvent,
    FollowupOpened,
    NewFollowup,
    NoteAppended,
    OverdueDetected,
    Schedule,
    StatusChanged,
    is_planned,
)
from .notes import (
    MAX_NOTE_CHARS,
    MAX_NOTES,
    NOTE_TYPES,
    CopiedFrom,
    Note,
    NoteDraft,
    filter_notes,
    language_matches,
    normalize_language,
)

__all__ = [name for name, value in dict(globals()).items()
           if not name.startswith("_") and not isinstance(value, _ModuleType)]
