"""The gateway's request and response bodies (the HTTP contract of CONTRACT.md, followups rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from icsuite_contracts.base import Code, Id, InteractionChannel
from icsuite_contracts.followups_v1 import FollowupNoteType, FollowupType, SourceType
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from .domain import MAX_NOTE_CHARS, MAX_NOTES

Status = Literal["open", "in_process", "completed", "cancelled"]
DisplayArea = Literal["activity_clipboard", "business_context", "linked_objects"]
CopyableField = Literal["account_id", "business_agreement_id", "premise_id", "reason_code"]
LanguageText = Annotated[str, Field(min_length=1, max_length=35, description="A BCP 47 language tag.",
                                    examples=["de-AT"])]
NoteBody = Annotated[str, Field(min_length=1, max_length=MAX_NOTE_CHARS, description="The note's text.")]


def _storable(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_storable),
                   Field(description="RFC 3339 with an offset.", examples=["2025-03-04T09:00:00+01:00"])]
Priority = Annotated[StrictInt, Field(ge=0, le=9, description="0 to 9; higher is more urgent.", examples=[3])]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_Body):
    type: FollowupNoteType = Field(examples=["note"])
    language: LanguageText
    text: NoteBody


class SourceIn(_Body):
    type: SourceType = Field(examples=["interaction"])
    id: Id = Field(examples=["int-81c2"])


class ScratchPadIn(_Body):
    text: NoteBody
    note_type: FollowupNoteType = Field(default="note", description="The note type to import the text as.")
    language: LanguageText | None = Field(default=None, description="Defaults to the service's setting.")


class SourceNoteIn(_Body):
    """A source's note; copied, it is written by the caller now, and ``author`` is kept in ``copied_from``
    (a time given here is ignored)."""

    note_id: Id
    type: Code
    language: LanguageText
    text: NoteBody
    author: Id


class SourceDataIn(_Body):
    """The source's fields, for source types no topic carries (copied by the copying control)."""

    account_id: Id | None = None
    business_agreement_id: Id | None = None
    premise_id: Id | None = None
    reason_code: Code | None = None
    notes: list[SourceNoteIn] = Field(default_factory=list, max_length=MAX_NOTES)


class FollowupIn(_Body):
    source: SourceIn
    type: FollowupType = Field(examples=["phone_call"])
    channel: InteractionChannel = Field(examples=["phone"])
    account_id: Id | None = None
    business_agreement_id: Id | None = None
    premise_id: Id | None = None
    contact_person_id: Id | None = None
    planned_start: Moment | None = None
    planned_end: Moment | None = None
    due_at: Moment | None = None
    reason_code: Code | None = None
    priority: Priority | None = None
    owner_id: Id | None = None
    notes: list[NoteIn] = Field(default_factory=list, max_length=MAX_NOTES - 1)
    scratch_pad: ScratchPadIn | None = None
    source_data: SourceDataIn | None = None


class FollowupPatch(_StrictBody):
    """Fields to change; ``null`` clears a date, a business partner, the owner or the reason."""

    status: Status | None = None
    account_id: Id | None = None
    business_agreement_id: Id | None = None
    premise_id: Id | None = None
    planned_start: Moment | None = None
    planned_end: Moment | None = None
    due_at: Moment | None = None
    priority: Priority | None = None
    owner_id: Id | None = None
    reason_code: Code | None = None
    contact_person_id: Id | None = None


class CopiedFromOut(BaseModel):
    source_type: SourceType
    source_id: str
    note_id: str
    author: str | None = Field(default=None, description="Who wrote the note in the source.")


class NoteOut(BaseModel):
    note_id: str
    type: str
    language: str
    text: str
    author: str
    created_at: datetime
    copied_from: CopiedFromOut | None = None


class SourceOut(BaseModel):
    type: SourceType
    id: str


class FollowupOut(BaseModel):
    followup_id: str
    source: SourceOut
    display_area: DisplayArea
    type: str
    channel: str
    status: Status
    priority: int
    account_id: str | None = None
    business_agreement_id: str | None = None
    premise_id: str | None = None
    contact_person_id: str | None = None
    reason_code: str | None = None
    owner_id: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    due_at: datetime | None = None
    overdue: bool = Field(description="The due date passed and ic.followup.overdue.v1 was emitted.")
    came_due_at: datetime | None = Field(default=None, description="When the planned start of a call "
                                         "arrived and ic.followup.due.v1 was emitted (call types only).")
    copied_fields: list[str] = Field(description="Fields (and `notes`) the copying control filled.")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    notes: list[NoteOut] | None = Field(default=None, description="The notes history (not in lists).")


class FollowupPage(BaseModel):
    items: list[FollowupOut]
    next_cursor: str | None = None


class SourceFollowupPage(FollowupPage):
    display_area: DisplayArea


class NotePage(BaseModel):
    items: list[NoteOut]
    next_cursor: str | None = None


class FollowupTypesIn(_StrictBody):
    """Permitted follow-up types per channel and per source type; a type must be permitted by both."""

    channels: dict[InteractionChannel, list[FollowupType]]
    source_types: dict[SourceType, list[FollowupType]]
    version: int | None = Field(default=None, description="If given, the write is refused (409) unless it is "
                                                          "the current version.")


class FollowupTypesOut(BaseModel):
    channels: dict[str, list[str]]
    source_types: dict[str, list[str]]
    version: int
    updated_at: datetime
    updated_by: str


class CopyRuleIn(_StrictBody):
    fields: list[CopyableField] = Field(default_factory=list, examples=[["account_id", "reason_code"]])
    note_types: list[Code] = Field(default_factory=list, description="Source note types to copy.",
                                   examples=[["note"]])


class CopyRulesIn(_StrictBody):
    source_types: dict[SourceType, CopyRuleIn]
    version: int | None = None


class CopyRulesOut(BaseModel):
    source_types: dict[str, CopyRuleIn]
    version: int
    updated_at: datetime
    updated_by: str
