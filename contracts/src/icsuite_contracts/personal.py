"""Which fields of an event hold personal data (crypto-shredding, issue 21).

A field is marked in its model with :data:`PERSONAL` in its ``Annotated`` metadata:

    name: Annotated[ShortText, PERSONAL] = Field(...)

The marker changes neither the JSON schema nor what a producer may write; it lets a reader accept
:data:`ERASED` in place of a text whose own constraints (an E.164 pattern, a minimum length) it would
fail, so that an event whose personal fields were shredded still validates on every replay.

The chassis encrypts the marked fields of an event with the data key of the event's ``account_id`` when
it turns the event into a Kafka record, and decrypts them when it reads one (``icsuite_chassis.shredding``).
An event without an ``account_id`` value travels as it is: there is no account whose key could be shredded.
:func:`personal_paths` lists the marked fields of a model, nested value objects included (``address.street``).
"""

from __future__ import annotations

from functools import cache
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["ACCOUNT_FIELD", "ERASED", "PERSONAL", "Path", "PersonalData", "account_of", "personal_paths"]

ERASED = "[erased]"
"""What an erased text reads as, wherever a field cannot simply be emptied."""
ACCOUNT_FIELD = "account_id"
"""The field naming the account whose data key protects an event's personal fields."""

Path = tuple[str, ...]


class PersonalData:
    """The marker of a personal field; a text field marked with it also accepts :data:`ERASED`."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        inner = handler(source)
        return core_schema.no_info_wrap_validator_function(_erased_or, inner)

    def __repr__(self) -> str:
        return "PERSONAL"


def _erased_or(value: Any, validate: core_schema.ValidatorFunctionWrapHandler) -> Any:
    return value if value == ERASED else validate(value)


PERSONAL = PersonalData()
"""Put it in a field's ``Annotated`` metadata to mark the field as personal data."""


def _value_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field typed ``SomeValue`` or ``SomeValue | None``, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, UnionType):
        models = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(models) == 1:
            return _value_model(models[0])
    return None


@cache
def personal_paths(model: type[BaseModel]) -> tuple[Path, ...]:
    """The paths of the personal fields of ``model``, nested value objects included, by JSON name."""
    paths: list[Path] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if any(isinstance(meta, PersonalData) for meta in info.metadata):
            paths.append((key,))
            continue
        nested = _value_model(info.annotation)
        if nested is not None:
            paths.extend((key, *inner) for inner in personal_paths(nested))
    return tuple(paths)


def account_of(data: Any) -> str | None:
    """The account whose key protects ``data`` (an event's JSON data), or None when it names none."""
    if isinstance(data, dict):
        account = data.get(ACCOUNT_FIELD)
        if isinstance(account, str) and account:
            return account
    return None
