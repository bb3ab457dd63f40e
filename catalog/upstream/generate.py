#!/usr/bin/env python3
"""Writes upstream's catalog (catalog.json beside this file) by introspecting the installed openedx-events.

The Rust crate openedx-events-catalog must define what upstream defines; its tests read the JSON this script
writes. Run it with the interpreter of the repository's virtual environment, which `.ci/setup` makes:

    target/venv/bin/python catalog/upstream/generate.py            # rewrite catalog.json
    target/venv/bin/python catalog/upstream/generate.py --stdout   # print it instead

What it records, for every OpenEdxPublicSignal that `load_all_signals()` loads, in the order the package's
signal modules are walked and, within a module, the order of definition:

- event_type, name (the module attribute holding the signal), subdomain (the package under
  openedx_events), minor_version;
- event_key_field, event_trigger_repository and has_warning, read from the `# .. event_*:` annotations
  that precede the definition in the module's source (upstream keeps them nowhere else);
- data: each data key with its type, as the `type_name` function below writes types;
- avro_schema: the string `AvroSignalSerializer(signal).schema_string()` returns, or null where upstream
  refuses to serialize the event.

and, for every attrs class reachable from those events (depth first, in the order met), its module, name and
fields: name, type and default (`REQUIRED`, the repr of a literal, or `factory:<name>`).

The output is deterministic: the same package gives the same bytes.
"""

import argparse
import importlib
import inspect
import json
import pkgutil
import re
import sys
import typing
from pathlib import Path

import attr
import django
from django.conf import settings

settings.configure()
django.setup()

# Imported after Django is set up: the package's modules read settings at import time.
import openedx_events  # noqa: E402
from openedx_events.event_bus.avro.serializer import AvroSignalSerializer  # noqa: E402
from openedx_events.tooling import OpenEdxPublicSignal, load_all_signals  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "catalog.json"

# `# .. event_key_field: user.pii.username`, continued on following comment lines that do not start a new key.
ANNOTATION = re.compile(r"^#\s*\.\.\s*(event_[a-z_]+):\s*(.*)$")
CONTINUATION = re.compile(r"^#\s+(?!\.\.)(.*)$")


def subdomain_of(module_name):
    """`openedx_events.learning.signals` -> `learning`."""
    return module_name.split(".")[1]


def type_name(tp):
    """A type as the catalog writes it: builtins and opaque keys by name, attrs classes as `subdomain.Name`,
    generics in typing's spelling (`List[str]`, `Dict[str, List[str]]`), whether written `list[...]` or
    `typing.List[...]`."""
    origin = typing.get_origin(tp)
    if origin is not None:
        spelled = {list: "List", dict: "Dict", tuple: "Tuple", set: "Set"}.get(origin)
        if spelled is None:
            spelled = getattr(origin, "_name", None) or origin.__name__
        return "{}[{}]".format(spelled, ", ".join(type_name(arg) for arg in typing.get_args(tp)))
    if attr.has(tp):
        return "{}.{}".format(subdomain_of(tp.__module__), tp.__name__)
    return getattr(tp, "__name__", None) or getattr(tp, "_name", None) or repr(tp)


def default_of(attribute):
    default = attribute.default
    if default is attr.NOTHING:
        return "REQUIRED"
    if isinstance(default, attr.Factory):
        return "factory:" + default.factory.__name__
    return repr(default)


def nested_classes(tp):
    """The attrs classes a field type names, itself or inside a generic."""
    if attr.has(tp):
        yield tp
    for arg in typing.get_args(tp):
        yield from nested_classes(arg)


def annotations(module):
    """Each signal's `# .. event_*:` annotations, keyed by the name the definition after them assigns."""
    found = {}
    pending = {}
    last_key = None
    for line in inspect.getsource(module).splitlines():
        stripped = line.strip()
        match = ANNOTATION.match(stripped)
        if match:
            last_key = match.group(1)
            pending[last_key] = match.group(2).strip()
            continue
        continuation = CONTINUATION.match(stripped)
        if continuation and last_key is not None:
            pending[last_key] = (pending[last_key] + " " + continuation.group(1).strip()).strip()
            continue
        last_key = None
        assignment = re.match(r"^([A-Z][A-Z0-9_]*)\s*=\s*OpenEdxPublicSignal\(", line)
        if assignment and pending:
            found[assignment.group(1)] = pending
            pending = {}
    return found


def signal_modules():
    """The modules `load_all_signals` imports, in the order it walks them."""
    names = []
    for info in pkgutil.walk_packages(openedx_events.__path__, openedx_events.__name__ + "."):
        parts = info.name.split(".")
        if "tests" in parts or ".test_" in info.name:
            continue
        if info.name.endswith(".signals"):
            names.append(info.name)
    return [importlib.import_module(name) for name in names]


def avro_schema(signal):
    try:
        return AvroSignalSerializer(signal).schema_string()
    except Exception:  # pylint: disable=broad-except
        # Upstream raises for data it has no Avro type for (a file, in the certificate-config events).
        return None


def build():
    load_all_signals()
    events = []
    classes = {}

    def visit(cls):
        key = type_name(cls)
        if key in classes:
            return
        fields = []
        classes[key] = {"module": cls.__module__, "name": cls.__name__, "fields": fields}
        for attribute in attr.fields(cls):
            fields.append({"name": attribute.name, "type": type_name(attribute.type), "default": default_of(attribute)})
            for inner in nested_classes(attribute.type):
                visit(inner)

    for module in signal_modules():
        notes = annotations(module)
        for name, value in vars(module).items():
            if not isinstance(value, OpenEdxPublicSignal):
                continue
            note = notes.get(name, {})
            events.append({
                "event_type": value.event_type,
                "name": name,
                "subdomain": subdomain_of(module.__name__),
                "minor_version": value.minor_version,
                "event_key_field": note.get("event_key_field") or None,
                "data": {key: type_name(tp) for key, tp in value.init_data.items()},
                "avro_schema": avro_schema(value),
                "event_trigger_repository": note.get("event_trigger_repository") or None,
                "has_warning": "event_warning" in note,
            })
            for tp in value.init_data.values():
                for cls in nested_classes(tp):
                    visit(cls)

    version = importlib.metadata.version("openedx-events")
    source = (
        f"openedx-events {version} (PyPI), read by introspection of the installed package with "
        "catalog/upstream/generate.py: every OpenEdxPublicSignal, its data classes (qualified by subdomain), and "
        "the Avro schema string its AvroSignalSerializer produces (null where upstream cannot serialize the event)."
    )
    return {"source": source, "events": events, "data_classes": classes}


def render(catalog):
    return json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", action="store_true", help="print the catalog instead of writing catalog.json")
    args = parser.parse_args()
    text = render(build())
    if args.stdout:
        sys.stdout.write(text)
    else:
        OUTPUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
