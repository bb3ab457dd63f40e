#!/usr/bin/env python3
"""Generates vectors.json: Avro bytes that upstream openedx-events writes, for every serializable event.

For each event with an Avro schema in catalog/upstream/catalog.json (73 of the 75; the two
certificate-config events carry a file and have none), this builds payloads of upstream's own attrs classes
from their type annotations, in several variants, and records what upstream's event bus does with them:

    serializer = AvroSignalSerializer(signal)
    record = serializer.to_dict(data)                   # the JSON form ("json" in a vector)
    fastavro.schemaless_writer(out, serializer.schema, record)   # the bytes ("avro" in a vector, hex)

The Rust test catalog/tests/avro_vectors.rs checks that our encoder writes the same bytes from the JSON form,
that our decoder reads the bytes back to the same JSON form, and that decoding then encoding is lossless.

Variants (not every event has every one; each has at least three):
  minimal       every optional (default None) field unset, every list and dict empty, every field with
                another default left at it; ASCII text; datetimes without microseconds
  full          every optional field set; lists of three; dicts with keys inserted out of sorted order;
                datetimes with microseconds
  unicode       non-ASCII text and map keys (é, 中文, 😀, U+FF21 which sorts before 😀 by code point but
                after it in UTF-16), quotes, backslashes, control characters, NUL
  extremes_N    extremes_0 for every event, extremes_1-4 too for events with numbers or times: each long takes 2**63-1, -2**63, 0, -1, 1 and each double
                0.0, -0.0, 1e308, 5e-324, 1/3 across the five; datetimes at year 1 and year 9999;
                empty strings
  legacy_keys_N only for events with opaque keys: deprecated and alternative key forms (edX/DemoX/Run,
                i4x://..., ccx-v1 and library-v1 as a CourseKey, lb: and ccx-block-v1 as a UsageKey), one
                variant per alternative form

It also writes "datetime_forms": the bytes fastavro writes when a datetime field holds another string that
Python's datetime.fromisoformat() reads (Z, other offsets, naive, basic format, ...), with the UTC instant
Python reads from it, for the decoder's Python-compatibility checks.

Every vector is checked here too: fastavro reads the bytes back to the same record dict, and upstream's
AvroSignalDeserializer turns them into event data equal to the original (except where upstream itself drops
falsy values of fields that have defaults).

Set up: `bash .ci/setup` makes the repository's virtual environment (target/venv) with the pinned packages.
Regenerate, from the workspace root:
    target/venv/bin/python catalog/tests/data/avro_vectors/gen_vectors.py
The output is deterministic: running it twice gives the same file.
"""

import importlib
import io
import json
import math
import pkgutil
import sys
import typing
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attr
import django
import fastavro
from django.conf import settings

settings.configure()
django.setup()

# pylint: disable=wrong-import-position
import openedx_events  # noqa: E402
from ccx_keys.locator import CCXLocator  # noqa: E402
from opaque_keys.edx.keys import CourseKey, UsageKey  # noqa: E402
from opaque_keys.edx.locator import (  # noqa: E402
    LibraryCollectionLocator,
    LibraryContainerLocator,
    LibraryLocatorV2,
    LibraryUsageLocatorV2,
)
from openedx_events.event_bus.avro.deserializer import AvroSignalDeserializer  # noqa: E402
from openedx_events.event_bus.avro.serializer import AvroSignalSerializer  # noqa: E402
from openedx_events.tooling import OpenEdxPublicSignal  # noqa: E402

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "vectors.json"
CATALOG = HERE.parents[2] / "upstream" / "catalog.json"

LONGS = [2**63 - 1, -(2**63), 0, -1, 1]
DOUBLES = [0.0, -0.0, 1e308, 5e-324, 1 / 3]
EXTREME_VARIANTS = len(LONGS)

# Canonical key strings, and alternative forms that upstream also accepts (deprecated or other subclasses).
KEYS = {
    CourseKey: ["course-v1:edX+DemoX+Demo_Course", "edX/DemoX/Demo_Course", "ccx-v1:edX+DemoX+Demo_Course+ccx@3",
                "library-v1:edX+lib0"],
    UsageKey: ["block-v1:edX+DemoX+Demo_Course+type@problem+block@abc123", "i4x://edX/DemoX/problem/abc123",
               "lb:edX:lib1:problem:p1", "ccx-block-v1:edX+DemoX+Demo_Course+ccx@3+type@html+block@h1"],
    LibraryLocatorV2: ["lib:edX:lib1", "lib:Org_2:Lib-2.x"],
    LibraryUsageLocatorV2: ["lb:edX:lib1:problem:p1", "lb:Org_2:Lib-2.x:html:h-1.x"],
    LibraryCollectionLocator: ["lib-collection:edX:lib1:col1", "lib-collection:Org_2:Lib-2.x:col-2"],
    LibraryContainerLocator: ["lct:edX:lib1:unit:u1", "lct:Org_2:Lib-2.x:section:s-2"],
    CCXLocator: ["ccx-v1:edX+DemoX+Demo_Course+ccx@3", "ccx-v1:Org_2+Course-2+Run.2+ccx@12"],
}

# Dict keys whose insertion order differs from their sorted order (upstream's to_dict sorts them).
ASCII_KEYS = ["zeta", "alpha", "Mike", "10", "9", "_under"]
UNICODE_KEYS = ["中文", "é", "z", "😀", "\uff21", "E"]
UNICODE_TEXTS = ["é", "中文 😀", "Ünïcödé ✓ \uff21 😀", "quote\" back\\slash\nnew\tline\x00nul\x7f"]

UTC = timezone.utc

# Strings Python's datetime.fromisoformat() reads, which a producer could put in a datetime field.
DATETIME_FORMS = [
    "2024-05-01T12:00:00Z",
    "2024-05-01T14:00:00+02:00",
    "2024-05-01T07:30:00-04:30",
    "2024-05-02T02:00:00+14:00",
    "2024-05-01T12:00:00",
    "2024-05-01 12:00:00.123456+00:00",
    "2024-05-01T12:00:00.5+00:00",
    "2024-05-01T12:00:00,25Z",
    "2024-05-01T12:00:00.1234567+00:00",
    "2024-05-01T12:00",
    "2024-05-01T12",
    "2024-05-01",
    "20240501T120000Z",
    "2024-05-01T14:00:00+0200",
    "2024-W18-3T12:00:00Z",
    "2024-05-01T14:00:30+02:00:30",
    "2024-05-01T12:00:00.000001+00:00",
    "2024-05-01T14:00:30.5+02:00:30.5",
    "2024-05-01T14:00:31+020030.5",
    "2024-05-01T12.5",
    "2024-05-01T12:00,5Z",
]


def import_all_signals():
    """Import every `signals` module so that the registry holds every event."""
    for module in pkgutil.walk_packages(openedx_events.__path__, "openedx_events."):
        if module.name.endswith(".signals"):
            importlib.import_module(module.name)


class Builder:
    """Builds one payload for one variant, walking upstream's type annotations."""

    def __init__(self, variant):
        self.variant = variant
        self.kind = variant.split("_")[0]
        self.offset = int(variant.rsplit("_", 1)[1]) if self.kind in ("extremes", "legacy") else 0
        self.longs = 0
        self.doubles = 0
        self.texts = 0
        self.times = 0
        self.uuids = 0
        self.keys = 0

    def value(self, data_type, name):
        """A value of `data_type` for a field called `name`."""
        origin = typing.get_origin(data_type)
        if origin is list:
            (item_type,) = typing.get_args(data_type)
            count = {"minimal": 0, "full": 3, "unicode": 2, "extremes": 1, "legacy": 2}[self.kind]
            if self.kind == "extremes" and item_type in (int, float):
                count = EXTREME_VARIANTS
            return [self.value(item_type, f"{name}{i}") for i in range(count)]
        if origin is dict:
            key_type, value_type = typing.get_args(data_type)
            assert key_type is str, data_type
            keys = {"minimal": [], "full": ASCII_KEYS, "unicode": UNICODE_KEYS, "extremes": ["", "b", "a"],
                    "legacy": ["k2", "k1"]}[self.kind]
            return {key: self.value(value_type, f"{name}.{key}") for key in keys}
        if attr.has(data_type):
            return self.record(data_type)
        if data_type is bool:
            return self.kind in ("full", "legacy") or (self.kind == "extremes" and self.offset % 2 == 1)
        if data_type is int:
            self.longs += 1
            if self.kind == "extremes":
                return LONGS[(self.offset + self.longs) % len(LONGS)]
            return {"minimal": 7, "full": 1234567890123, "unicode": -300, "legacy": 64}[self.kind] + self.longs
        if data_type is float:
            self.doubles += 1
            if self.kind == "extremes":
                return DOUBLES[(self.offset + self.doubles) % len(DOUBLES)]
            return {"minimal": 50.0, "full": 87.5, "unicode": -2.25, "legacy": 1e-7}[self.kind] + self.doubles
        if data_type is str:
            self.texts += 1
            if self.kind == "unicode":
                return f"{name} {UNICODE_TEXTS[self.texts % len(UNICODE_TEXTS)]}"
            if self.kind == "extremes":
                return ""
            return f"{name}-{self.kind}-{self.texts}"
        if data_type is datetime:
            self.times += 1
            if self.kind == "minimal":
                return datetime(2024, 5, 1, 12, 0, self.times % 60, tzinfo=UTC)
            if self.kind == "extremes":
                low = datetime(1, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.offset)
                high = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
                return high if (self.offset + self.times) % 2 else low
            return datetime(2024, 5, 1, 12, 30, self.times % 60, 123456 + self.times, tzinfo=UTC)
        if data_type is uuid.UUID:
            self.uuids += 1
            return uuid.UUID(f"12345678-1234-5678-9abc-{self.uuids:012x}")
        if data_type in KEYS:
            self.keys += 1
            forms = KEYS[data_type]
            if self.kind == "legacy":
                text = forms[1 + (self.offset + self.keys) % (len(forms) - 1)]
            else:
                text = forms[0]
            return data_type.from_string(text)
        raise TypeError(f"no value for {data_type!r} ({name})")

    def record(self, cls):
        """An instance of the attrs class `cls`."""
        attr.resolve_types(cls)
        kwargs = {}
        for field in attr.fields(cls):
            if field.default is None and self.kind == "minimal":
                continue  # optional: left unset
            has_usable_default = field.default is not attr.NOTHING and not isinstance(field.default, type)
            if self.kind == "minimal" and has_usable_default:
                continue  # left at its default (False, True, "", [], {})
            kwargs[field.name] = self.value(field.type, field.name)
        return cls(**kwargs)

    def event_data(self, signal):
        """The keyword arguments of `signal.send_event`."""
        return {key: self.value(data_type, key) for key, data_type in signal.init_data.items()}


def leaf_types(data_type, seen=None):
    """Every non-container, non-record type reachable from `data_type`."""
    seen = set() if seen is None else seen
    origin = typing.get_origin(data_type)
    if origin in (list, dict):
        return set().union(*(leaf_types(arg, seen) for arg in typing.get_args(data_type)))
    if attr.has(data_type):
        if data_type in seen:
            return set()
        seen.add(data_type)
        attr.resolve_types(data_type)
        return set().union(*(leaf_types(field.type, seen) for field in attr.fields(data_type)))
    return {data_type}


def encode(serializer, data):
    """Upstream's bytes for `data`, and the record dict they came from."""
    record = serializer.to_dict(data)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, serializer.schema, record)
    return record, out.getvalue()


def same_event_data(original, decoded, data_type, path, problems):
    """Compares what upstream's deserializer gave back with what was sent.

    Upstream's deserializer drops falsy values of fields that have a default (`if sub_data or ...`), so a
    difference is accepted there and only there.
    """
    if attr.has(data_type) and original is not None and decoded is not None:
        for field in attr.fields(data_type):
            left, right = getattr(original, field.name), getattr(decoded, field.name)
            if left != right and not left and field.default is not attr.NOTHING:
                continue
            same_event_data(left, right, field.type, f"{path}.{field.name}", problems)
        return
    origin = typing.get_origin(data_type)
    if origin is list and isinstance(original, list) and isinstance(decoded, list) and len(original) == len(decoded):
        (item_type,) = typing.get_args(data_type)
        for i, (left, right) in enumerate(zip(original, decoded)):
            same_event_data(left, right, item_type, f"{path}[{i}]", problems)
        return
    if origin is dict and isinstance(original, dict) and isinstance(decoded, dict) and original.keys() == decoded.keys():
        value_type = typing.get_args(data_type)[1]
        for key in original:
            same_event_data(original[key], decoded[key], value_type, f"{path}[{key!r}]", problems)
        return
    if isinstance(original, float) and isinstance(decoded, float):
        if math.copysign(1, original) == math.copysign(1, decoded) and original == decoded:
            return
    elif original == decoded and type(original) is type(decoded):
        return
    problems.append(f"{path}: sent {original!r}, upstream read back {decoded!r}")


def check_upstream_reads(signal, data, record, avro):
    """fastavro and upstream's deserializer read the bytes back."""
    deserializer = AvroSignalDeserializer(signal)
    read = fastavro.schemaless_reader(io.BytesIO(avro), deserializer.schema)
    assert read == record, (signal.event_type, read, record)
    decoded = deserializer.from_dict(read)
    problems = []
    for key, data_type in signal.init_data.items():
        same_event_data(data[key], decoded[key], data_type, key, problems)
    assert not problems, (signal.event_type, problems)


def variants_for(signal):
    """The variants this event gets."""
    leaves = set().union(*(leaf_types(t) for t in signal.init_data.values()))
    names = ["minimal", "full", "unicode"]
    if leaves & {int, float, datetime}:
        names += [f"extremes_{i}" for i in range(EXTREME_VARIANTS)]
    else:
        names += ["extremes_0"]
    key_types = leaves & set(KEYS)
    if key_types:
        names += [f"legacy_keys_{i}" for i in range(max(len(KEYS[t]) - 1 for t in key_types))]
    return names


def datetime_paths(value, path=()):
    """Paths (as lists of keys and indexes) to the strings that hold datetimes in a record dict built by the
    "full" variant, recognised by their exact isoformat."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from datetime_paths(value[key], path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from datetime_paths(item, path + (i,))
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return
        if parsed.tzinfo is not None and value == parsed.isoformat():
            yield list(path)


def with_value_at(record, path, text):
    """A deep copy of `record` with the string at `path` replaced."""
    copy = json.loads(json.dumps(record))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    return copy


def datetime_form_vectors(signal, serializer):
    """fastavro's bytes for each form in DATETIME_FORMS, put in the first datetime field of `signal`."""
    record = serializer.to_dict(Builder("full").event_data(signal))
    path = next(datetime_paths(record))
    vectors = []
    for form in DATETIME_FORMS:
        instant = datetime.fromisoformat(form)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)  # what our decoder does with a naive time
        canonical = instant.astimezone(UTC).isoformat()
        json_form = with_value_at(record, path, form)
        out = io.BytesIO()
        fastavro.schemaless_writer(out, serializer.schema, json_form)
        # Upstream's consumers read it: the deserializer calls fromisoformat on it.
        AvroSignalDeserializer(signal).from_dict(fastavro.schemaless_reader(io.BytesIO(out.getvalue()),
                                                                            serializer.schema))
        vectors.append({
            "event_type": signal.event_type,
            "path": path,
            "form": form,
            "utc": canonical,
            "avro": out.getvalue().hex(),
        })
    return vectors


def main():
    import_all_signals()
    catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
    vectors = []
    skipped = []
    datetime_forms = None
    for entry in sorted(catalog["events"], key=lambda e: e["event_type"]):
        event_type = entry["event_type"]
        signal = OpenEdxPublicSignal.get_signal_by_type(event_type)
        if entry["avro_schema"] is None:
            skipped.append(event_type)
            continue
        serializer = AvroSignalSerializer(signal)
        assert serializer.schema_string() == entry["avro_schema"], f"{event_type}: schema differs from catalog.json"
        for variant in variants_for(signal):
            data = Builder(variant).event_data(signal)
            record, avro = encode(serializer, data)
            check_upstream_reads(signal, data, record, avro)
            vectors.append({"event_type": event_type, "variant": variant, "json": record, "avro": avro.hex()})
        if datetime_forms is None and event_type == "org.openedx.learning.course.enrollment.created.v1":
            datetime_forms = datetime_form_vectors(signal, serializer)
    assert len(skipped) == 2, skipped
    assert len({v["event_type"] for v in vectors}) == 73
    assert datetime_forms, "the enrollment event was not found"
    document = {
        "about": "Generated by gen_vectors.py from upstream openedx-events and fastavro; do not edit by hand.",
        "openedx_events_version": openedx_events.__version__,
        "fastavro_version": fastavro.__version__,
        "unserializable_events": skipped,
        "vectors": sorted(vectors, key=lambda v: (v["event_type"], v["variant"])),
        "datetime_forms": datetime_forms,
    }
    text = json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {len(vectors)} vectors and {len(datetime_forms)} datetime forms to {OUTPUT} "
          f"({len(text.encode('utf-8'))} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
