"""Plant invented patient identifiers into generated notes, with their exact positions, to measure the scan.

The identifiers follow the formats clinical documents use (several per class: "MRN# 00482910", "Name: Lee, Ana",
"DOB: 3/7/51", "Fax (617) 555-0199", ...). Every value is random; the name lists are common given names and
surnames, so no value is any real person's record. `plant_identifiers` returns the rows and the ground truth that
`benchmarks/phi_scan.py` scores `clintune data scan-phi` against.
"""

from __future__ import annotations

import random
import string

FIRST = ("Maria", "James", "Ana", "Robert", "Linda", "Wei", "Fatima", "Carlos", "Emily", "Jin", "Olga", "Kwame",
         "Priya", "Daniel", "Grace", "Tomas", "Aisha", "Henry", "Sofia", "Minho")
LAST = ("Smith", "Garcia", "Kim", "Johnson", "Nguyen", "Okafor", "Rossi", "Patel", "Lee", "Brown", "Haddad",
        "Novak", "Cohen", "Silva", "Moreau", "Tanaka", "Schmidt", "O'Brien", "Park", "Ivanova")
STREETS = ("Maple Street", "Oak Ave", "Elm Rd", "Cedar Lane", "Harbor Blvd", "Hill Court", "Pine Dr", "Mill Way")
CITIES = (("Springfield", "MA"), ("Riverside", "CA"), ("Franklin", "TN"), ("Greenville", "SC"), ("Salem", "OR"),
          ("Fairview", "NJ"), ("Madison", "WI"), ("Clinton", "IA"))
FACILITIES = ("Lakeside", "Mercy", "Northfield", "St. Anne's", "Valley View", "Bayshore")
FACILITY_KINDS = ("Hospital", "Medical Center", "Clinic", "Nursing Home")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DOMAINS = ("mail.example.com", "example.org", "inbox.example.net")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _code(rng: random.Random, letters: int, digits: int) -> str:
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(letters)) + _digits(rng, digits)


def _phone(rng: random.Random) -> str:
    area, mid, last = _digits(rng, 3).replace("0", "6", 1), "555", _digits(rng, 4)
    return rng.choice((f"({area}) {mid}-{last}", f"{area}-{mid}-{last}", f"{area}.{mid}.{last}",
                       f"+1 {area} {mid} {last}"))


def _date(rng: random.Random) -> str:
    year, month, day = rng.randint(1930, 2024), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{month:02d}/{day:02d}/{year}", f"{year}-{month:02d}-{day:02d}",
                       f"{month}/{day}/{year % 100:02d}",
                       f"{MONTHS[month - 1]} {day}, {year}", f"{day} {MONTHS[month - 1][:3]} {year}",
                       f"{day:02d}-{MONTHS[month - 1][:3]}-{year}", f"{MONTHS[month - 1]} {year}",
                       f"{MONTHS[month - 1][:3]}. {day}", f"{month}.{day}.{year}"))


# Each template holds one or more slots {class}; a slot's value comes from VALUES[class] (or a fixed-format maker).
TEMPLATES = (
    "Patient: {name}", "Name: {name_last_first}", "Pt Name: {name_initial}", "Attending: Dr. {name}",
    "Mr. {last} tolerated the procedure well.", "Mrs. {last} was seen by PT.", "Discussed plan with daughter {name}.",
    "{name} is a {age} y/o patient admitted from home.", "Electronically signed by {name}, MD", "PCP: Dr. {last}",
    "Emergency contact: {name} (spouse)",
    "Admission Date: {date}", "Discharge Date: {date}", "DOB: {date}", "Admitted on {date}.",
    "Last seen in clinic on {date}.", "Date of service: {date}", "Symptoms began on {date_short}.",
    "Pt is {age} per family.", "Patient is a {age}-year-old widow.",
    "Phone: {phone}", "Call back number {phone}", "Home phone {phone}",
    "Fax: {phone_fax}", "Records faxed to {phone_fax}.", "Email: {email}", "Portal email {email}",
    "SSN: {ssn}", "Social Security No. {ssn_spaced}", "MRN: {mrn}", "MRN# {mrn}", "Medical Record Number: {mrn}",
    "Acct #: {account}", "Account No. {account}", "FIN: {account}", "Member ID: {health_plan}",
    "Insurance ID: {health_plan}", "Medicare ID {health_plan}", "Policy #: {health_plan}",
    "Driver's license: {license}", "DEA# {license}", "NPI: {npi}", "License plate {vehicle}", "VIN {vin}",
    "Pacemaker serial no. {device}", "S/N: {device}", "Device ID: {device}",
    "Home: {address}", "Lives at {address}.", "Address: {address}, {city}, {state} {zip}", "ZIP: {zip}",
    "Results at {url}", "Portal login from IP {ip}.", "Telehealth visit from {ip}.",
    "Transferred from {facility} for further care.", "Followed at {facility} since 2015.",
    "Lives in {town} with her husband.", "Moved here from {town} last year.",
    "Completed the {town} weight loss program.", "Follows with the cardiology clinic at {initials}.",
    "Instructed {first} to return if febrile.", "{first} was brought to the operating room.",
)

SLOT_CLASS = {"name": "name", "name_last_first": "name", "name_initial": "name", "last": "name", "age": "age",
              "date": "date", "date_short": "date", "phone": "phone", "phone_fax": "fax", "email": "email",
              "ssn": "ssn", "ssn_spaced": "ssn", "mrn": "mrn", "account": "account", "health_plan": "health_plan",
              "license": "license", "npi": "license", "vehicle": "vehicle", "vin": "vehicle", "device": "device",
              "address": "address", "city": "address", "state": None, "zip": "zip", "url": "url", "ip": "ip",
              "facility": "place", "town": "place", "initials": "place", "first": "name"}


def _value(slot: str, rng: random.Random, person: tuple[str, str]) -> str:
    first, last = person
    makers = {
        "name": lambda: f"{first} {last}",
        "name_last_first": lambda: f"{last}, {first}",
        "name_initial": lambda: f"{first} {rng.choice(string.ascii_uppercase)}. {last}",
        "last": lambda: last,
        "age": lambda: str(rng.randint(90, 104)),
        "date": lambda: _date(rng),
        "date_short": lambda: f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
        "phone": lambda: _phone(rng),
        "phone_fax": lambda: _phone(rng),
        "email": lambda: f"{first.lower()}.{last.lower().replace(chr(39), '')}{_digits(rng, 2)}@{rng.choice(DOMAINS)}",
        "ssn": lambda: rng.choice((f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}", _digits(rng, 9))),
        "ssn_spaced": lambda: f"{_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 4)}",
        "mrn": lambda: rng.choice((_digits(rng, 7), "00" + _digits(rng, 6), _code(rng, 1, 7),
                                   f"{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 4)}")),
        "account": lambda: rng.choice((_digits(rng, 8), f"{_digits(rng, 4)}-{_digits(rng, 4)}")),
        "health_plan": lambda: rng.choice((_code(rng, 3, 9), f"{_code(rng, 3, 0)}-{_digits(rng, 5)}-{_digits(rng, 2)}",
                                           f"1{_code(rng, 2, 1)}-{_code(rng, 2, 1)}-{_code(rng, 2, 2)}")),
        "license": lambda: rng.choice((f"S{_digits(rng, 3)}-{_digits(rng, 4)}-{_digits(rng, 4)}", _code(rng, 2, 7))),
        "npi": lambda: "1" + _digits(rng, 9),
        "vehicle": lambda: f"{rng.randint(1, 9)}{_code(rng, 3, 3)}",
        "vin": lambda: "1" + _code(rng, 4, 0) + _digits(rng, 12),
        "device": lambda: rng.choice((_code(rng, 2, 5) + "X", f"{_digits(rng, 2)}A-{_digits(rng, 4)}-X",
                                      "00" + _digits(rng, 12))),
        "address": lambda: f"{rng.randint(2, 9999)} {rng.choice(STREETS)}",
        "facility": lambda: f"{rng.choice(FACILITIES)} {rng.choice(FACILITY_KINDS)}",
        "initials": lambda: "".join(word[0] for word in rng.choice(FACILITIES).split()) + rng.choice(("MC", "H")),
        "first": lambda: first,
        "town": lambda: rng.choice(CITIES)[0],
        "zip": lambda: rng.choice((_digits(rng, 5), f"{_digits(rng, 5)}-{_digits(rng, 4)}")),
        "url": lambda: f"https://portal.{rng.choice(DOMAINS)}/patient/{_digits(rng, 6)}",
        "ip": lambda: f"{rng.choice((10, 172, 192))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
    }
    return makers[slot]()


def fill(template: str, rng: random.Random) -> tuple[str, list[tuple[str, int, int]]]:
    """The template with every slot filled, and the (class, start, end) of each identifier in it."""
    person = (rng.choice(FIRST), rng.choice(LAST))
    city, state = rng.choice(CITIES)
    text, spans, rest = "", [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        text += before
        value = {"city": city, "state": state}.get(slot) or _value(slot, rng, person)
        if SLOT_CLASS[slot]:
            spans.append((SLOT_CLASS[slot], len(text), len(text) + len(value)))
        text += value
    return text + rest, spans


def plant_identifiers(rows: list[dict], rate: float = 0.5, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Copies of `rows` where a `rate` fraction of notes carry 1-4 planted identifier lines after the heading or at
    the end; and the truth: one {"row", "column", "class", "start", "end"} per identifier."""
    rng = random.Random(seed)
    planted, truth = [], []
    for index, row in enumerate(rows):
        if rng.random() >= rate:
            planted.append(dict(row))
            continue
        heading, _, body = row["note"].partition("\n")
        top, bottom = [], []
        for template in rng.sample(TEMPLATES, rng.randint(1, 4)):
            (top if rng.random() < 0.6 else bottom).append(fill(template, rng))
        note, spans = heading + "\n", []
        for text, found in top:
            spans += [(cls, len(note) + s, len(note) + e) for cls, s, e in found]
            note += text + "\n"
        note += body
        for text, found in bottom:
            note += "\n"
            spans += [(cls, len(note) + s, len(note) + e) for cls, s, e in found]
            note += text
        planted.append({**row, "note": note})
        truth += [{"row": index, "column": "note", "class": cls, "start": s, "end": e} for cls, s, e in spans]
    return planted, truth
