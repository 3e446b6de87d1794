"""Crypto-shredding of events on the in-memory key vault: personal fields leave sealed, come back opened,
and read as erased (still valid, never an error) once the account's key is tombstoned."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime

import pytest
from icsuite_contracts.callbacks_v1 import CallbackQueued
from icsuite_contracts.cloudevents import DecodeError, from_kafka, new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.interactions_v1 import NoteAdded
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address
from icsuite_contracts.personal import ERASED

from icsuite_chassis.data_keys import DATA_KEYS, DataKeyCodec, KeyRing, MasterKey
from icsuite_chassis.shredding import TOKEN_PREFIX, decode_record, encode_record, erase_sealed, open_data
from icsuite_chassis.testing import opened_record
from icsuite_chassis.store import InMemoryAggregateStore

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def key_ring(vault: InMemoryAggregateStore | None = None, master: bytes | None = None) -> KeyRing:
    vault = vault or InMemoryAggregateStore(DATA_KEYS, DataKeyCodec())
    return KeyRing(vault, MasterKey(master or b"m" * 32))


def account(account_id: str = "acc-1") -> AccountUpserted:
    return AccountUpserted(account_id=account_id, source_version=1, kind="person", name="Erika Mustermann",
                           phones=["+4930123456"], emails=["erika@example.org"],
                           address=Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE"))


def queued(account_id: str | None = "acc-1") -> CallbackQueued:
    return CallbackQueued(callback_id="cb-1", request_id="r-1", account_id=account_id, at=T0,
                          callback_number="+4930123456", profile="default", priority=1, due_at=T0)


async def test_personal_fields_are_sealed_on_the_wire_and_opened_by_a_reader() -> None:
    ring = key_ring()
    record = await encode_record(new_envelope(account(), source="/test"), ring)
    raw = record.value.decode()
    for secret in ("Erika", "+4930123456", "erika@example.org", "Hauptstr", "10115", "Berlin"):
        assert secret not in raw
    body = json.loads(raw)
    assert body["account_id"] == "acc-1" and body["address"]["country"] == "DE"
    assert body["name"].startswith(TOKEN_PREFIX + "s:") and body["phones"].startswith(TOKEN_PREFIX + "l:")
    read = await decode_record(record.headers, record.value, key_ring(ring._vault, b"m" * 32))
    assert read.data == account()


async def test_after_the_key_is_erased_the_fields_read_erased_and_still_validate() -> None:
    ring = key_ring()
    records = [await encode_record(new_envelope(event, source="/test"), ring) for event in (account(), queued())]
    assert await ring.erase("acc-1") is True
    assert await ring.erase("acc-1") is False
    other_replica = key_ring(ring._vault)
    upserted, callback = [(await decode_record(r.headers, r.value, other_replica)).data for r in records]
    assert (upserted.name, upserted.phones, upserted.emails) == (ERASED, [], [])
    assert upserted.address is not None and (upserted.address.street, upserted.address.city) == (ERASED, ERASED)
    assert upserted.address.country == "DE" and upserted.source_version == 1
    assert callback.callback_number == ERASED and callback.priority == 1


async def test_an_event_made_after_the_erasure_carries_its_fields_erased_and_no_new_key() -> None:
    ring = key_ring()
    await ring.erase("acc-1")
    record = await encode_record(new_envelope(queued(), source="/test"), ring)
    assert json.loads(record.value)["callback_number"] == ERASED
    assert (await ring._vault.get("acc-1")).state.wrapped is None


async def test_events_without_an_account_or_personal_fields_travel_unchanged() -> None:
    ring = key_ring()
    contact = ContactStarted(contact_id="c-1", channel="phone", direction="inbound",
                             from_address="+4930123456", started_at=T0)
    for event in (queued(account_id=None), contact):
        envelope = new_envelope(event, source="/test")
        record = await encode_record(envelope, ring)
        assert "+4930123456" in record.value.decode()
        assert (await decode_record(record.headers, record.value, ring)).data == event
    assert ring._vault.published() == [] and await ring._vault.find({}) == []


async def test_a_token_moved_to_another_account_or_a_wrong_master_key_does_not_decrypt() -> None:
    ring = key_ring()
    note = NoteAdded(interaction_id="i-1", account_id="acc-1", note_id="n-1", type="note", language="de",
                     text="Kunde zahlt in Raten.", author="a-1", created_at=T0)
    record = await encode_record(new_envelope(note, source="/test"), ring)
    await ring.writing_key("acc-2")
    moved = json.loads(record.value)
    moved["account_id"] = "acc-2"
    with pytest.raises(DecodeError):
        await decode_record(record.headers, json.dumps(moved).encode(), ring)
    with pytest.raises(Exception):  # noqa: B017 - the vault's key does not unwrap under another master key
        await decode_record(record.headers, record.value, key_ring(ring._vault, os.urandom(32)))


async def test_each_account_gets_its_own_key_once() -> None:
    ring = key_ring()
    first = await ring.writing_key("acc-1")
    assert first is not None and len(first) == 32
    assert await key_ring(ring._vault).writing_key("acc-1") == first
    assert await ring.writing_key("acc-2") != first


async def test_a_reader_without_a_key_ring_sees_the_tokens_and_a_writer_without_one_writes_plain() -> None:
    record = await encode_record(new_envelope(queued(), source="/test"), None)
    assert json.loads(record.value)["callback_number"] == "+4930123456"
    sealed = await encode_record(new_envelope(queued(), source="/test"), key_ring())
    with pytest.raises(DecodeError):  # a sealed E.164 number fails its pattern: only the ring opens it
        await decode_record(sealed.headers, sealed.value, None)


async def test_a_reader_without_the_vault_reads_sealed_fields_erased_and_never_fails() -> None:
    sealed = await encode_record(new_envelope(queued(), source="/test"), key_ring())
    read = from_kafka(sealed.headers, sealed.value, unseal=erase_sealed)
    assert read.data.callback_number == ERASED and read.data.callback_id == "cb-1"
    plain = await encode_record(new_envelope(queued(), source="/test"), None)
    assert from_kafka(plain.headers, plain.value, unseal=erase_sealed).data.callback_number == "+4930123456"


async def test_open_data_gives_the_raw_data_with_its_fields_opened_then_erased() -> None:
    ring = key_ring()
    record = await encode_record(new_envelope(account(), source="/test"), ring)
    reader = key_ring(ring._vault)  # another process: nothing in its cache yet
    opened = await open_data(record.headers, record.value, reader)
    assert opened == account().model_dump(mode="json")
    await ring.erase("acc-1")
    erased = await open_data(record.headers, record.value, key_ring(ring._vault))
    assert (erased["name"], erased["phones"], erased["address"]["city"]) == (ERASED, [], ERASED)
    with pytest.raises(DecodeError):
        await open_data(record.headers, b"{}", reader)


async def test_opened_record_puts_the_opened_data_in_a_copy_of_the_record() -> None:
    from aiokafka.structs import ConsumerRecord

    ring = key_ring()
    sealed = await encode_record(new_envelope(queued(), source="/test"), ring)
    record = ConsumerRecord("ic.callbacks.v1", 0, 7, 0, 0, sealed.key, sealed.value, None, len(sealed.key),
                            len(sealed.value), sealed.headers)
    opened = await opened_record(record, key_ring(ring._vault))
    assert json.loads(opened.value)["callback_number"] == "+4930123456" and opened.offset == 7
    assert opened.headers == record.headers and TOKEN_PREFIX in record.value.decode()
    assert await opened_record(record, None) is record
    poison = dataclasses.replace(record, value=TOKEN_PREFIX.encode() + b"not json")
    assert await opened_record(poison, ring) is poison
