"""A deterministic, realistic demo data set: accounts, business agreements and premises.

The data set is the same on every run (a fixed seed and fixed name lists); only the due dates of the
open bills move with ``today`` so that "overdue" stays overdue. It is published as ``ic.masterdata.v1``
snapshots with ``source_version`` 1 and deterministic event ids, so loading it twice changes nothing.

The first two accounts are the ones the walkthrough uses: Erika Mustermann (``acc-100001``,
``+4930123456``, dunning level 2, an overdue bill) and Max Mustermann (``acc-100002``), who share the
premise ``pr-500001``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from icsuite_contracts.base import Event
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.masterdata_v1 import (
    AccountUpserted,
    Address,
    BusinessAgreementUpserted,
    OpenBill,
    PremiseUpserted,
)

SOURCE = "/demo/erp"
SEED = 11
FEATURED_ACCOUNT = "acc-100001"
FEATURED_PHONE = "+4930123456"
UNKNOWN_PREFIX = "+49157"
"""Mobile prefix the demo data never uses: the simulator's unknown callers come from it."""

# city, postcode, area code (E.164 without the leading '+'), country, currency, streets
CITIES = [
    ("Berlin", "10115", "4930", "DE", "EUR", ["Hauptstr.", "Invalidenstr.", "Kastanienallee", "Sonnenallee"]),
    ("Hamburg", "20095", "4940", "DE", "EUR", ["Mönckebergstr.", "Ottenser Hauptstr.", "Eppendorfer Weg"]),
    ("München", "80331", "4989", "DE", "EUR", ["Sendlinger Str.", "Leopoldstr.", "Rosenheimer Str."]),
    ("Köln", "50667", "49221", "DE", "EUR", ["Hohe Str.", "Venloer Str.", "Aachener Str."]),
    ("Frankfurt am Main", "60311", "4969", "DE", "EUR", ["Berger Str.", "Schweizer Str."]),
    ("Leipzig", "04109", "49341", "DE", "EUR", ["Karl-Liebknecht-Str.", "Eisenbahnstr."]),
    ("Stuttgart", "70173", "49711", "DE", "EUR", ["Königstr.", "Tübinger Str."]),
    ("Wien", "1070", "431", "AT", "EUR", ["Mariahilfer Str.", "Neubaugasse", "Burggasse"]),
    ("Zürich", "8004", "4144", "CH", "CHF", ["Langstrasse", "Badenerstrasse"]),
]
PERSONS = [
    "Lena Schmidt", "Jonas Becker", "Sophie Wagner", "Lukas Hoffmann", "Marie Schäfer", "Felix Koch",
    "Hannah Richter", "Paul Klein", "Emma Wolf", "Leon Schröder", "Mia Neumann", "Elias Schwarz",
    "Anna Zimmermann", "Noah Braun", "Laura Krüger", "Ben Hofmann", "Clara Hartmann", "Jakob Lange",
    "Johanna Huber", "Matteo Rossi", "Zoé Dubois", "Piotr Nowak", "Sanne de Vries", "Aylin Yılmaz",
    "Katarina Horvat", "Lars Eriksson",
]
ORGANISATIONS = [
    "Bäckerei Schulze GmbH", "Müller & Söhne KG", "Café Sperl Betriebs GmbH", "Hotel Alpenblick AG",
    "Kita Sonnenschein e.V.", "Autohaus Becker GmbH", "Praxis Dr. Wagner", "Druckerei Lindner OHG",
]
DUNNING_WEIGHTS = {0: 55, 1: 20, 2: 15, 3: 10}
CREDIT_STATUS = {0: "good", 1: "good", 2: "watch", 3: "poor"}


@dataclass(frozen=True)
class DemoDataSet:
    accounts: list[AccountUpserted]
    agreements: list[BusinessAgreementUpserted]
    premises: list[PremiseUpserted]
    phones_by_account: dict[str, list[str]] = field(default_factory=dict)

    @property
    def account_ids(self) -> list[str]:
        return [a.account_id for a in self.accounts]

    @property
    def known_numbers(self) -> list[str]:
        """Every phone number of the data set (E.164), in account order."""
        return [p for a in self.accounts for p in a.phones]

    @property
    def known_emails(self) -> list[str]:
        return [e for a in self.accounts for e in a.emails]

    def account_for_number(self, number: str) -> str | None:
        return next((a.account_id for a in self.accounts if number in a.phones), None)

    def events(self) -> list[Event]:
        """Accounts first, then business agreements, then premises."""
        return [*self.accounts, *self.agreements, *self.premises]

    def envelopes(self) -> list[Envelope]:
        """The events wrapped with deterministic ids (a reload is a duplicate the consumers drop)."""
        return [
            new_envelope(event, source=SOURCE, id=derive_event_id(f"demo:{_aggregate_id(event)}",
                                                                 f"{event.ce_type}:1"))
            for event in self.events()
        ]


def _aggregate_id(event: Event) -> str:
    for name in ("premise_id", "business_agreement_id", "account_id"):
        if hasattr(event, name):
            return str(getattr(event, name))
    raise ValueError(f"no id in {event!r}")


def _slug(name: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ı": "i", " ": "."})
    kept = name.lower().translate(table)
    return "".join(c for c in kept if c.isalnum() or c == ".").strip(".")


class _Builder:
    def __init__(self, today: date) -> None:
        self.rng = random.Random(SEED)
        self.today = today
        self.accounts: list[AccountUpserted] = []
        self.agreements: list[BusinessAgreementUpserted] = []
        self.premises: list[PremiseUpserted] = []
        self.used_numbers: set[str] = set()

    def number(self, area: str) -> str:
        while True:
            mobile = self.rng.random() < 0.4 and not area.startswith(("43", "41"))
            prefix = self.rng.choice(["49151", "49160", "49170", "49176"]) if mobile else area
            candidate = "+" + prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(7))
            if candidate not in self.used_numbers:
                self.used_numbers.add(candidate)
                return candidate

    def address(self, city: tuple) -> Address:
        name, postcode, _, country, _, streets = city
        street = f"{self.rng.choice(streets)} {self.rng.randint(1, 140)}"
        return Address(street=street, postcode=postcode, city=name, country=country)

    def bills(self, ba_number: int, level: int) -> list[OpenBill]:
        bills = []
        overdue = level + (1 if level and self.rng.random() < 0.5 else 0)
        for n in range(overdue):  # oldest first, about a month apart
            due = self.today - timedelta(days=14 + 30 * (overdue - 1 - n) + self.rng.randint(0, 6))
            bills.append(self._bill(ba_number, len(bills) + 1, due))
        if self.rng.random() < 0.6:  # the current bill, not yet due
            due = self.today + timedelta(days=self.rng.randint(5, 25))
            bills.append(self._bill(ba_number, len(bills) + 1, due))
        return bills

    def _bill(self, ba_number: int, n: int, due: date) -> OpenBill:
        amount = Decimal(self.rng.randint(3500, 19000)) / 100
        return OpenBill(bill_id=f"bill-{ba_number}-{n:02d}", amount=amount, due_date=due)

    def agreement(self, account_id: str, currency: str,
                  level: int | None = None) -> BusinessAgreementUpserted:
        number = 300001 + len(self.agreements)
        if level is None:
            level = self.rng.choices(list(DUNNING_WEIGHTS), weights=list(DUNNING_WEIGHTS.values()))[0]
        bills = self.bills(number, level)
        credit = Decimal(0) - Decimal(self.rng.randint(0, 6000)) / 100  # no open bills: paid ahead
        balance = sum((b.amount for b in bills), Decimal(0)) or credit
        ba = BusinessAgreementUpserted(
            business_agreement_id=f"ba-{number}", account_id=account_id, source_version=1, balance=balance,
            currency=currency, open_bills=bills, dunning_level=level, credit_status=CREDIT_STATUS[level],
        )
        self.agreements.append(ba)
        return ba

    def premise(self, address: Address, account_ids: list[str], ba_ids: list[str]) -> None:
        self.premises.append(PremiseUpserted(
            premise_id=f"pr-{500001 + len(self.premises)}", source_version=1, address=address,
            account_ids=account_ids, business_agreement_ids=ba_ids,
        ))

    def account(self, kind: str, name: str, city: tuple, *, phones: list[str] | None = None,
                address: Address | None = None, flags: list[str] | None = None) -> AccountUpserted:
        account_id = f"acc-{100001 + len(self.accounts)}"
        domain = self.rng.choice(["example.org", "example.com", "example.net"])
        local = "info" if kind == "organisation" else _slug(name)
        words = [w for w in (_slug(w) for w in name.split()[:2]) if w]
        host = f"{'-'.join(words)}.{domain}" if kind == "organisation" else domain
        phones = phones or [self.number(city[2]) for _ in range(1 + (self.rng.random() < 0.3))]
        account = AccountUpserted(
            account_id=account_id, source_version=1, kind=kind, name=name, phones=phones,
            emails=[f"{local}@{host}"], address=address or self.address(city), flags=flags or [],
        )
        self.accounts.append(account)
        return account


def _featured(b: _Builder) -> None:
    berlin = CITIES[0]
    home = Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE")
    b.used_numbers.add(FEATURED_PHONE)
    erika = b.account("person", "Erika Mustermann", berlin, phones=[FEATURED_PHONE], address=home,
                      flags=["paperless"])
    max_ = b.account("person", "Max Mustermann", berlin, phones=[b.number("49151")], address=home)
    ba_erika = b.agreement(erika.account_id, "EUR", level=2)
    ba_max = b.agreement(max_.account_id, "EUR", level=0)
    b.premise(home, [erika.account_id, max_.account_id],
              [ba_erika.business_agreement_id, ba_max.business_agreement_id])


@cache
def demo_dataset(today: date | None = None) -> DemoDataSet:
    """The demo data set; due dates are relative to ``today`` (default: the current date)."""
    b = _Builder(today or date.today())
    _featured(b)
    for name in PERSONS:
        city = b.rng.choice(CITIES)
        flags = ["vulnerable_customer"] if b.rng.random() < 0.08 else []
        account = b.account("person", name, city, flags=flags)
        ba = b.agreement(account.account_id, city[4])
        assert account.address is not None
        b.premise(account.address, [account.account_id], [ba.business_agreement_id])
    for name in ORGANISATIONS:
        city = b.rng.choice(CITIES)
        flags = b.rng.choice([[], ["key_account"], ["vip", "key_account"]])
        account = b.account("organisation", name, city, flags=flags)
        assert account.address is not None
        for n in range(b.rng.randint(1, 3)):  # one business agreement per site
            ba = b.agreement(account.account_id, city[4])
            site = account.address if n == 0 else b.address(city)
            b.premise(site, [account.account_id], [ba.business_agreement_id])
    phones = {a.account_id: list(a.phones) for a in b.accounts}
    return DemoDataSet(accounts=b.accounts, agreements=b.agreements, premises=b.premises,
                       phones_by_account=phones)


def known_numbers() -> list[str]:
    """The demo phone numbers (independent of the date), for the simulator's known callers."""
    return demo_dataset().known_numbers


def known_emails() -> list[str]:
    return demo_dataset().known_emails
