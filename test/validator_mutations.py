#!/usr/bin/env python3
"""validator_mutations.py: does bh_audit's C validator agree with a
reference JSON Schema validator?

It makes deterministic (seeded) mutations of the bh-audit-schema examples of
every version (removed keys, wrong types, lengths around every limit with
one- to four-byte characters, unknown keys, bad and good uuids, date-times
and IP addresses, enum and const violations, broken if/then conditionals,
too many items and properties, ...), computes the reference verdict with
jsonschema.Draft202012Validator and a FormatChecker, has the C validator
judge every mutation through ONE psql session (bh_audit.validate_event()
and bh_audit.validation_errors()), and compares.

The reference really checks the four formats: the script refuses to run
unless its FormatChecker rejects a bad and accepts a good uuid, date-time,
ipv4 and ipv6.  Debian 12's python3-jsonschema checks date-time only when
rfc3339-validator is installed, which Debian 12 does not package; the
script then registers a date-time check made from python3-rfc3339
(pyrfc3339), an independent RFC 3339 parser that Debian does package.

A few "divergence probes" are judged apart from the mutations: inputs on
which a Python reference is known to deviate from the RFCs (a trailing
newline accepted by Python's "$", Python int() syntax inside a uuid,
pyrfc3339's unchecked offset range and its rounding of long fractions).
For those the C verdict is asserted to be the RFC's, and the reference's
verdict is printed next to it.

Output: a summary ("mutations: N", "disagreements: D", per version and per
kind), one "DISAGREE ..." line per disagreement with the mutation's
description, both verdicts and both validators' errors, and one "probe ..."
line per divergence probe.  Exit status 0 only if there is no disagreement,
no probe failure, validate_event() and validation_errors() agree on every
input, and at least --min mutations were judged.

Usage:
  validator_mutations.py --examples DIR --schemas DIR --dbname CONNSTR
                         [--psql PATH] [--seed N] [--min N]
  validator_mutations.py --examples DIR --schemas DIR --list   (no database)
"""

import argparse
import copy
import json
import os
import random
import subprocess
import sys

from jsonschema import Draft202012Validator, FormatChecker

VERSIONS = ["1.0", "1.1", "2.0", "2.1"]

# Characters of 1, 2, 3 and 4 UTF-8 bytes: lengths are in code points.
CHARS = ["a", "\u00e9", "\u2603", "\U0001F600"]

GOOD_UUIDS = [
    "12345678-1234-1234-1234-123456789012",
    "00000000-0000-0000-0000-000000000000",
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    "9a8b7c6d-5555-6666-7777-888899990000",
    "AbCdEf01-2345-6789-aBcD-ef0123456789",
]
BAD_UUIDS = [
    "",
    "not-a-uuid",
    "12345678-1234-1234-1234-12345678901g",
    "g2345678-1234-1234-1234-123456789012",
    "12345678-1234-1234-1234-12345678901",
    "12345678-1234-1234-1234-1234567890123",
    "123456781234-1234-1234-1234567890123",
    "12345678_1234_1234_1234_123456789012",
    "1234567-81234-1234-1234-123456789012",
    "12345678-1234-1234-12341-23456789012",
    "{12345678-1234-1234-1234-123456789012}",
    "urn:uuid:12345678-1234-1234-1234-123456789012",
    "12345678123412341234123456789012",
    "12345678-1234-1234-1234-123456789012 ",
    "12345678-1234-1234-1234-12345678901\u00e9",
    "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
    "--------------------------------------"[:36],
]
GOOD_DATE_TIMES = [
    "2026-01-07T12:00:00Z",
    "2026-01-07T12:00:00.123Z",
    "2026-01-07T12:00:00.123456789Z",
    "2026-01-07T12:00:00.5Z",
    "2026-01-07t12:00:00z",
    "2026-01-07T12:00:00+05:30",
    "2026-01-07T12:00:00-00:00",
    "2026-01-07T23:59:59+23:59",
    "2026-01-07T00:00:00-23:00",
    "2024-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-04-30T10:20:30.000+01:00",
]
BAD_DATE_TIMES = [
    "",
    "now",
    "1736251200",
    "2026-01-07",
    "12:00:00Z",
    "2026-01-07T12:00:00",
    "2026-01-07 12:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-32T00:00:00Z",
    "2026-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-01-07T24:00:00Z",
    "2026-01-07T12:60:00Z",
    "2026-01-07T12:00:60Z",
    "2026-01-07T12:00:00.Z",
    "2026-01-07T12:00:00+0530",
    "2026-01-07T12:00:00+5:30",
    "2026-01-07T12:00:00+05",
    "26-01-07T12:00:00Z",
    "2026-1-7T12:00:00Z",
    "0000-01-01T00:00:00Z",
    "2026-01-07T12:00Z",
    "2026-01-07T12:00:00ZZ",
    " 2026-01-07T12:00:00Z",
    "2026-01-07T12:00:00Z ",
    "2026-01-07T12:00:00,5Z",
    "2026/01/07T12:00:00Z",
    "2026-01-07T12:00:00.123+",
    "\uff12026-01-07T12:00:00Z",
    "2026-01-07T1\u0662:00:00Z",
    "2026-01-07X12:00:00Z",
]
GOOD_IPV4 = ["192.168.0.1", "0.0.0.0", "255.255.255.255", "10.0.0.10", "8.8.4.4"]
BAD_IPV4 = [
    "", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
    "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-1", "1.2.3.4/24", "1.2.3.1000",
    "\u0661.\u0662.\u0663.\u0664", "1.2.3.4\n", "1.2.3.",
]
GOOD_IPV6 = [
    "::1", "::", "fe80::1", "2001:db8::8a2e:370:7334",
    "2001:0db8:0000:0000:0000:ff00:0042:8329", "::ffff:192.168.1.1",
    "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::", "1:2:3:4:5:6:1.2.3.4",
    "ABCD:EF01::1", "1:2:3:4:5:6:7:8", "1::8", "0:0:0:0:0:0:0:0",
]
BAD_IPV6 = [
    ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::1", "g::1", "fe80::1%eth0",
    "fe80::1%", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:",
    "::1.2.3.256", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4",
    "1:2:3:4::5:6:7:8", "::1/128", " ::1", "1:", ":1", "1:2", "::1::",
    "1.2.3.4::", "2001:db8::8a2e:370:7334:1:2:3", ":", "1:2:3:4:5:6::1.2.3.4:5",
]

# Inputs where a Python reference is known to deviate from the RFC.
# (description, value, field, RFC verdict)
PROBES = [
    ("date-time with a trailing newline (Python re '$' matches before it)",
     "2026-01-07T12:00:00Z\n", "timestamp", False),
    ("date-time offset hour 24 (pyrfc3339 does not check the offset range)",
     "2026-01-07T12:00:00+24:00", "timestamp", False),
    ("date-time offset minute 60 (pyrfc3339 does not check the offset range)",
     "2026-01-07T12:00:00+05:60", "timestamp", False),
    ("date-time fraction .9999999 (pyrfc3339 rounds it to a whole second and fails)",
     "2026-01-07T12:00:00.9999999Z", "timestamp", True),
    ("uuid with a leading space (Python int() strips whitespace)",
     " 2345678-1234-1234-1234-123456789012", "event_id", False),
    ("uuid with a sign (Python int() accepts '+')",
     "+2345678-1234-1234-1234-123456789012", "event_id", False),
    ("uuid with an underscore between digits (Python int() accepts it)",
     "1_345678-1234-1234-1234-123456789012", "event_id", False),
    ("uuid with a 0x prefix (Python int() accepts it in base 16)",
     "0x345678-1234-1234-1234-123456789012", "event_id", False),
    ("uuid with Arabic-Indic digits (Python int() accepts any Unicode decimal digit)",
     "12345678-1234-1234-1234-1234567890\u0661\u0662", "event_id", False),
]


def die(msg):
    print("validator_mutations.py: error: " + msg, file=sys.stderr)
    sys.exit(2)


def make_format_checker():
    """A FormatChecker that really checks uuid, date-time, ipv4 and ipv6."""
    fc = FormatChecker()
    source = {f: "jsonschema" for f in ("uuid", "date-time", "ipv4", "ipv6")
              if f in fc.checkers}
    if "date-time" not in fc.checkers:
        try:
            import pyrfc3339
        except ImportError:
            die("python-jsonschema does not check date-time here (no rfc3339-validator) "
                "and pyrfc3339 is missing: install python3-rfc3339")

        @fc.checks("date-time", raises=ValueError)
        def _date_time(instance):
            if not isinstance(instance, str):
                return True
            pyrfc3339.parse(instance)
            return True
        source["date-time"] = "pyrfc3339 (python3-rfc3339)"
    probes = {
        "uuid": ("12345678-1234-1234-1234-123456789012", "not-a-uuid"),
        "date-time": ("2026-01-07T12:00:00Z", "2026-13-07T12:00:00Z"),
        "ipv4": ("192.168.0.1", "256.0.0.1"),
        "ipv6": ("::1", "1::2::3"),
    }
    for fmt, (good, bad) in probes.items():
        if fmt not in fc.checkers:
            die("the reference does not check format %s" % fmt)
        if not fc.conforms(good, fmt) or fc.conforms(bad, fmt):
            die("the reference's %s check does not work" % fmt)
    return fc, source


def ptr(path):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def all_paths(doc, prefix=()):
    """(path, value) of everything below doc."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield prefix + (k,), v
            yield from all_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield prefix + (i,), v
            yield from all_paths(v, prefix + (i,))


def get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def with_value(doc, path, value):
    out = copy.deepcopy(doc)
    cur = out
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return out


def without(doc, path):
    out = copy.deepcopy(doc)
    cur = out
    for p in path[:-1]:
        cur = cur[p]
    del cur[path[-1]]
    return out


def resolve(root, node):
    """node with its $ref merged in (local refs only)."""
    while isinstance(node, dict) and "$ref" in node:
        target = root
        for tok in node["$ref"].lstrip("#").split("/")[1:]:
            target = target[tok.replace("~1", "/").replace("~0", "~")]
        merged = dict(target)
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    return node


def schema_at(root, path):
    """The subschemas that "properties", "items" and "additionalProperties"
    apply at path (conditionals aside)."""
    nodes = [root]
    for step in path:
        nxt = []
        for n in nodes:
            n = resolve(root, n)
            if not isinstance(n, dict):
                continue
            if isinstance(step, str):
                if step in n.get("properties", {}):
                    nxt.append(n["properties"][step])
                elif isinstance(n.get("additionalProperties"), dict):
                    nxt.append(n["additionalProperties"])
            elif isinstance(n.get("items"), dict):
                nxt.append(n["items"])
        nodes = nxt
    return [resolve(root, n) for n in nodes if isinstance(n, dict)]


def wrong_types(value):
    """Replacement values of other JSON types than value's."""
    if isinstance(value, bool):
        return ["true", 1, None]
    if isinstance(value, (int, float)):
        return [str(value), True, [value]]
    if isinstance(value, str):
        return [42, None, True, [value], {"v": value}]
    if isinstance(value, list):
        return [{}, "a,b", 3]
    if isinstance(value, dict):
        return [[], "object", None]
    return ["null", 0, {}]


class Generator:
    """Collects (kind, version, description, doc) mutations."""

    def __init__(self, schemas, seed):
        self.schemas = schemas
        self.rng = random.Random(seed)
        self.items = []

    def add(self, kind, version, desc, doc):
        self.items.append((kind, version, desc, doc))

    def base_mutations(self, name, version, doc):
        schema = self.schemas[version]
        rng = self.rng
        paths = list(all_paths(doc))

        # removed keys (every key)
        for path, _ in paths:
            if isinstance(path[-1], str):
                self.add("remove", version, "%s: remove %s" % (name, ptr(path)),
                         without(doc, path))

        # wrong types (one or two per value)
        for path, value in paths:
            choices = wrong_types(value)
            for repl in rng.sample(choices, min(len(choices), 2 if rng.random() < 0.3 else 1)):
                self.add("type", version, "%s: %s := %s" % (name, ptr(path), json.dumps(repl)),
                         with_value(doc, path, repl))

        # lengths around every limit, in characters of 1 to 4 bytes
        for path, value in paths:
            if not isinstance(value, str):
                continue
            for sub in schema_at(schema, path):
                lo, hi = sub.get("minLength"), sub.get("maxLength")
                lengths = set()
                if lo is not None:
                    lengths.update(n for n in (lo - 1, lo) if n >= 0)
                if hi is not None:
                    lengths.update((hi, hi + 1))
                if lo is None and hi is None:
                    lengths.update((0, 300))
                for n in sorted(lengths):
                    for ch in rng.sample(CHARS, 2):
                        self.add("length", version,
                                 "%s: %s := %d x U+%04X" % (name, ptr(path), n, ord(ch)),
                                 with_value(doc, path, ch * n))

        # unknown keys, on every object
        objects = [((), doc)] + [(p, v) for p, v in paths if isinstance(v, dict)]
        for path, _ in objects:
            extra = rng.choice(["x_unknown", "ssn", "note_text", "Type", "schemaVersion"])
            value = rng.choice(["v", 1, True, None, {"nested": 1}, ["a"]])
            target = dict(get(doc, path)) if path else dict(doc)
            target[extra] = value
            self.add("unknown-key", version,
                     "%s: add %s%s = %s" % (name, ptr(path) if path else "/", extra, json.dumps(value)),
                     with_value(doc, path, target) if path else target)

        # enum and const violations
        for path, value in paths:
            for sub in schema_at(schema, path):
                if "enum" in sub or "const" in sub:
                    allowed = sub.get("enum", [sub.get("const")])
                    pool = ["OVERRIDE", "DENIED", "agent", "unattributed", "sha1", "TRACE",
                            "read", "", "1.2", "api ", "PHI", "human", "supervised"]
                    cands = [c for c in pool if c not in allowed]
                    if isinstance(value, str):
                        cands.append(value.lower() if value.lower() != value else value.upper())
                    for repl in rng.sample(cands, 2):
                        self.add("enum", version, "%s: %s := %s" % (name, ptr(path), json.dumps(repl)),
                                 with_value(doc, path, repl))
                    for repl in allowed:
                        if repl != value:
                            self.add("enum", version,
                                     "%s: %s := %s (allowed)" % (name, ptr(path), json.dumps(repl)),
                                     with_value(doc, path, repl))

        # the document against the other versions
        for other in VERSIONS:
            if other != version:
                self.add("version", other, "%s: validated against %s" % (name, other), doc)
                self.add("version", other, "%s: schema_version := %s, validated against %s"
                         % (name, other, other), with_value(doc, ("schema_version",), other))

        # conditionals on the outcome
        outcomes = [
            {"status": "SUCCESS"},
            {"status": "SUCCESS", "error_type": "Timeout"},
            {"status": "FAILURE"},
            {"status": "FAILURE", "error_type": "Timeout"},
            {"status": "FAILURE", "error_message": "timed out"},
            {"status": "FAILURE", "error_type": "Timeout", "error_message": "timed out"},
            {"status": "FAILURE", "error_type": "Timeout", "error_message": ""},
            {"status": "DENIED"},
            {"status": "DENIED", "error_type": "PermissionDenied"},
            {"status": "DENIED", "error_type": "", "error_message": "no"},
            {"status": "DENIED", "error_message": "no"},
            {"error_type": "Timeout"},
        ]
        for o in outcomes:
            self.add("conditional", version, "%s: outcome := %s" % (name, json.dumps(o)),
                     with_value(doc, ("outcome",), o))

        # counts: roles, metadata, correlation
        if isinstance(doc.get("actor"), dict):
            for n in (0, 1, 24, 25, 26, 40):
                roles = ["role_%d" % i for i in range(n)]
                self.add("count", version, "%s: /actor/roles := %d roles" % (name, n),
                         with_value(doc, ("actor", "roles"), roles))
            self.add("count", version, "%s: /actor/roles := [\"\"]" % name,
                     with_value(doc, ("actor", "roles"), [""]))
        for n in (0, 1, 19, 20, 21, 30):
            md = {"k%02d" % i: rng.choice(["v", i, i + 0.5, True, None]) for i in range(n)}
            self.add("count", version, "%s: /metadata := %d keys" % (name, n),
                     with_value(doc, ("metadata",), md))
        for md in ({"a": {"b": 1}}, {"a": [1]}, {"a": None, "b": False, "c": 1.5, "d": "x" * 900}):
            self.add("count", version, "%s: /metadata := %s" % (name, json.dumps(md)[:60]),
                     with_value(doc, ("metadata",), md))
        for corr in ({}, {"request_id": "r"}, {"trace_id": "t", "session_id": "s"},
                     {"request_id": "r", "span_id": "x"}, {"request_id": ""}):
            self.add("count", version, "%s: /correlation := %s" % (name, json.dumps(corr)),
                     with_value(doc, ("correlation",), corr))
        for integ in ({}, {"event_hash": "ab"}, {"event_hash": "ab", "hash_alg": "sha256"},
                      {"prev_event_hash": "cd", "hash_alg": "sha256"},
                      {"prev_event_hash": "cd", "event_hash": "ab", "hash_alg": "sha512"},
                      {"hash_alg": "md5"}, {"hash_alg": "sha384"},
                      {"event_hash": "", "hash_alg": "sha256"}):
            self.add("count", version, "%s: /integrity := %s" % (name, json.dumps(integ)),
                     with_value(doc, ("integrity",), integ))

        # numbers: http.status_code
        for code in (99, 100, 200, 200.0, 200.5, 599, 600, -1, 1e3, "200", True, None):
            http = dict(doc.get("http", {"method": "GET"}))
            http["status_code"] = code
            self.add("number", version, "%s: /http/status_code := %s" % (name, json.dumps(code)),
                     with_value(doc, ("http",), http))

        # 2.x: delegation, attribution, OVERRIDE, chain depth
        if version in ("2.0", "2.1"):
            self.agent_mutations(name, version, doc)

    def agent_mutations(self, name, version, doc):
        rng = self.rng
        for st in ("human", "service", "agent"):
            self.add("conditional", version, "%s: /actor/subject_type := %s" % (name, st),
                     with_value(doc, ("actor", "subject_type"), st))
        for key in ("delegation", "attribution"):
            if key in doc:
                self.add("conditional", version, "%s: remove /%s" % (name, key), without(doc, (key,)))
        for level in ("verified", "bound", "asserted", "unattributed", "none"):
            self.add("conditional", version, "%s: /attribution := {level: %s}" % (name, level),
                     with_value(doc, ("attribution",), {"level": level}))
            if "delegation" in doc:
                d = without(doc, ("delegation",))
                self.add("conditional", version,
                         "%s: remove /delegation, /attribution := {level: %s}" % (name, level),
                         with_value(d, ("attribution",), {"level": level}))
        if "delegation" in doc:
            for depth in (0, 1, 2, 3, 32, 33, 2.0, 2.5, "2", None):
                for with_parent in (True, False):
                    d = copy.deepcopy(doc)
                    if depth is None:
                        d["delegation"].pop("chain_depth", None)
                    else:
                        d["delegation"]["chain_depth"] = depth
                    if with_parent:
                        d["delegation"]["parent_agent_session_id"] = "agsess_parent"
                    else:
                        d["delegation"].pop("parent_agent_session_id", None)
                    self.add("conditional", version,
                             "%s: /delegation/chain_depth := %s, parent %s"
                             % (name, json.dumps(depth), "set" if with_parent else "absent"), d)
        # OVERRIDE by various actors on various resources
        for st in ("human", "agent"):
            for rtype, rid in (("AgentSession", "agsess_1"), ("AgentSession", None), ("Patient", "p1")):
                d = copy.deepcopy(doc)
                d["action"] = {"type": "OVERRIDE", "name": "agent_session_cancel"}
                d["actor"]["subject_type"] = st
                d["resource"] = {"type": rtype}
                if rid:
                    d["resource"]["id"] = rid
                strip = rng.random() < 0.5
                if strip:
                    d.pop("delegation", None)
                    d.pop("attribution", None)
                self.add("conditional", version,
                         "%s: OVERRIDE by %s on %s%s%s" % (name, st, rtype, "" if rid else " without id",
                                                          ", no delegation/attribution" if strip else ""), d)

    def format_mutations(self, name, version, doc):
        for v in GOOD_UUIDS + BAD_UUIDS:
            self.add("format", version, "%s: /event_id := %s" % (name, json.dumps(v)),
                     with_value(doc, ("event_id",), v))
        for v in GOOD_DATE_TIMES + BAD_DATE_TIMES:
            self.add("format", version, "%s: /timestamp := %s" % (name, json.dumps(v)),
                     with_value(doc, ("timestamp",), v))
        for v in GOOD_IPV4 + BAD_IPV4 + GOOD_IPV6 + BAD_IPV6 + [7, None]:
            http = dict(doc.get("http", {"method": "GET"}))
            http["client_ip"] = v
            self.add("format", version, "%s: /http/client_ip := %s" % (name, json.dumps(v)),
                     with_value(doc, ("http",), http))

    def random_op(self, version, doc):
        """One random removal, retyping, resizing or addition, applied to doc."""
        rng = self.rng
        paths = list(all_paths(doc))
        op = rng.choice(("remove", "type", "length", "add", "enum"))
        if op == "remove" and paths:
            path = rng.choice([p for p, _ in paths])
            if isinstance(path[-1], str):
                return "remove %s" % ptr(path), without(doc, path)
        if op == "type" and paths:
            path, value = rng.choice(paths)
            repl = rng.choice(wrong_types(value))
            return "%s := %s" % (ptr(path), json.dumps(repl)), with_value(doc, path, repl)
        if op in ("length", "type") or not paths:
            strings = [(p, v) for p, v in paths if isinstance(v, str)]
            if strings:
                path, _ = rng.choice(strings)
                n = rng.choice((0, 1, 35, 36, 37, 64, 65, 128, 129, 256, 257, 500, 501, 513))
                ch = rng.choice(CHARS)
                return ("%s := %d x U+%04X" % (ptr(path), n, ord(ch)),
                        with_value(doc, path, ch * n))
        if op == "enum":
            path = rng.choice([("outcome", "status"), ("action", "type"), ("actor", "subject_type"),
                               ("schema_version",), ("action", "data_classification")])
            if isinstance(doc.get(path[0]), dict) or len(path) == 1:
                repl = rng.choice(("SUCCESS", "FAILURE", "DENIED", "OVERRIDE", "READ", "human",
                                   "agent", "PHI", "1.0", "2.1", "x"))
                return "%s := %s" % (ptr(path), json.dumps(repl)), with_value(doc, path, repl)
        objects = [((), doc)] + [(p, v) for p, v in paths if isinstance(v, dict)]
        path, obj = rng.choice(objects)
        key = rng.choice(("x_extra", "error_type", "error_message", "roles", "org_id", "level"))
        value = rng.choice(("v", "", 1, None, ["r"], {"k": "v"}))
        target = dict(obj)
        target[key] = value
        return ("add %s%s = %s" % (ptr(path) + "/" if path else "/", key, json.dumps(value)),
                with_value(doc, path, target) if path else target)

    def combos(self, n):
        """n random compositions of two or three operations on one example."""
        keys = sorted(self.bases)
        for _ in range(n):
            version, base = self.rng.choice(keys)
            doc = self.bases[(version, base)]
            descs = []
            for _ in range(self.rng.choice((2, 3))):
                if not isinstance(doc, dict):
                    break
                desc, doc = self.random_op(version, doc)
                descs.append(desc)
            self.add("combo", version, "%s: %s" % (base, " + ".join(descs)), doc)


def copy_escape(s):
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def judge_with_c(cases, psql, dbname):
    """{id: (valid, nerrors, errors text)} from one psql session."""
    script = ["\\set ON_ERROR_STOP 1",
              "CREATE TEMP TABLE mut (id int PRIMARY KEY, version text NOT NULL, doc jsonb NOT NULL);",
              "COPY mut FROM STDIN;"]
    for cid, version, doc in cases:
        script.append("%d\t%s\t%s" % (cid, version,
                                      copy_escape(json.dumps(doc, ensure_ascii=False))))
    script.append("\\.")
    script.append(
        "SELECT m.id, bh_audit.validate_event(m.doc, m.version), count(e.path), "
        "coalesce(string_agg(e.path || ' ' || e.message, ' | '), '') "
        "FROM mut m LEFT JOIN LATERAL bh_audit.validation_errors(m.doc, m.version) e ON true "
        "GROUP BY m.id ORDER BY m.id;")
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    proc = subprocess.run([psql, "-X", "-q", "-A", "-t", "-F", "\t", "-d", dbname, "-f", "-"],
                          input="\n".join(script) + "\n", capture_output=True,
                          text=True, encoding="utf-8", env=env)
    if proc.returncode != 0:
        die("psql failed (%d): %s" % (proc.returncode, proc.stderr.strip()[:2000]))
    out = {}
    for line in proc.stdout.splitlines():
        if not line:
            continue
        cid, valid, nerr, errors = line.split("\t", 3)
        out[int(cid)] = (valid == "t", int(nerr), errors)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--examples", required=True, help="directory with <version>/*.json")
    ap.add_argument("--schemas", required=True, help="directory with <version>/audit_event.schema.json")
    ap.add_argument("--dbname", help="connection string of a database with bh_audit")
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--seed", type=int, default=20260311)
    ap.add_argument("--combos", type=int, default=400)
    ap.add_argument("--min", type=int, default=1000)
    ap.add_argument("--list", action="store_true", help="print the mutations and reference verdicts only")
    args = ap.parse_args()

    fc, fmt_source = make_format_checker()
    schemas, validators = {}, {}
    for v in VERSIONS:
        with open(os.path.join(args.schemas, v, "audit_event.schema.json"), encoding="utf-8") as f:
            schemas[v] = json.load(f)
        Draft202012Validator.check_schema(schemas[v])
        validators[v] = Draft202012Validator(schemas[v], format_checker=fc)

    gen = Generator(schemas, args.seed)
    gen.bases = {}
    examples = []
    for v in VERSIONS:
        d = os.path.join(args.examples, v)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".json"):
                with open(os.path.join(d, fn), encoding="utf-8") as f:
                    examples.append((v, "%s/%s" % (v, fn), json.load(f), True))
        neg = os.path.join(d, "negative")
        if os.path.isdir(neg):
            for fn in sorted(os.listdir(neg)):
                if fn.endswith(".json"):
                    with open(os.path.join(neg, fn), encoding="utf-8") as f:
                        examples.append((v, "%s/negative/%s" % (v, fn), json.load(f), False))

    for v, name, doc, positive in examples:
        gen.add("example", v, name + " (as is)", doc)
        if positive:
            gen.bases[(v, name)] = doc
    # every positive example is mutated; the format lists go through the
    # first two examples of each version
    seen = {}
    for v, name, doc, positive in examples:
        if not positive:
            continue
        gen.base_mutations(name, v, doc)
        seen[v] = seen.get(v, 0) + 1
        if seen[v] <= 2:
            gen.format_mutations(name, v, doc)
    # whole documents of the wrong type
    for v in VERSIONS:
        for doc in ([], "event", 42, None, True, {}):
            gen.add("type", v, "document := %s" % json.dumps(doc), doc)
    gen.combos(args.combos)

    cases = []
    for i, (kind, version, desc, doc) in enumerate(gen.items, start=1):
        ref_valid = validators[version].is_valid(doc)
        cases.append((i, kind, version, desc, doc, ref_valid))

    probe_cases = []
    base_v, base_name, base_doc, _ = next(e for e in examples if e[0] == "1.1" and e[3])
    for j, (desc, value, field, rfc) in enumerate(PROBES, start=1):
        doc = with_value(base_doc, (field,), value)
        probe_cases.append((100000 + j, desc, "1.1", doc, rfc, validators["1.1"].is_valid(doc)))

    print("reference: python-jsonschema %s, Draft202012Validator + FormatChecker (%s)"
          % (jsonschema_version(),
             ", ".join("%s: %s" % (k, fmt_source[k]) for k in sorted(fmt_source))))
    if args.list:
        for cid, kind, version, desc, doc, ref in cases:
            print("%d\t%s\t%s\t%s\t%s" % (cid, kind, version, "valid" if ref else "invalid", desc))
        return 0

    if not args.dbname:
        die("--dbname is required (or --list)")
    verdicts = judge_with_c([(c[0], c[2], c[4]) for c in cases] +
                            [(p[0], p[2], p[3]) for p in probe_cases], args.psql, args.dbname)

    disagreements = 0
    inconsistent = 0
    per_version, per_kind = {}, {}
    n_invalid = 0
    for cid, kind, version, desc, doc, ref in cases:
        if cid not in verdicts:
            die("no C verdict for mutation %d" % cid)
        c_valid, nerr, errors = verdicts[cid]
        per_version[version] = per_version.get(version, 0) + 1
        per_kind[kind] = per_kind.get(kind, 0) + 1
        n_invalid += 0 if ref else 1
        if c_valid != (nerr == 0):
            inconsistent += 1
            print("INCONSISTENT id=%d version=%s %s: validate_event=%s but %d error rows"
                  % (cid, version, desc, c_valid, nerr))
        if c_valid != ref:
            disagreements += 1
            ref_errors = "; ".join("%s: %s" % (ptr(e.absolute_path), e.message[:120])
                                   for e in validators[version].iter_errors(doc))
            print("DISAGREE id=%d version=%s kind=%s: %s\n    reference=%s C=%s\n"
                  "    C errors: %s\n    reference errors: %s"
                  % (cid, version, kind, desc, "valid" if ref else "invalid",
                     "valid" if c_valid else "invalid", errors or "-", ref_errors or "-"))

    probe_failures = 0
    for cid, desc, version, doc, rfc, ref in probe_cases:
        c_valid = verdicts[cid][0]
        ok = c_valid == rfc
        probe_failures += 0 if ok else 1
        print("probe %s: %s: RFC=%s C=%s reference=%s%s"
              % ("ok" if ok else "FAILED", desc, "valid" if rfc else "invalid",
                 "valid" if c_valid else "invalid", "valid" if ref else "invalid",
                 "" if ref == rfc else " (reference deviates)"))

    print("per version: " + " ".join("%s=%d" % (v, per_version.get(v, 0)) for v in VERSIONS))
    print("per kind: " + " ".join("%s=%d" % (k, per_kind[k]) for k in sorted(per_kind)))
    print("reference verdicts: %d valid, %d invalid" % (len(cases) - n_invalid, n_invalid))
    print("mutations: %d" % len(cases))
    print("disagreements: %d" % disagreements)
    print("inconsistent: %d" % inconsistent)
    print("probe failures: %d" % probe_failures)
    if disagreements or inconsistent or probe_failures or len(cases) < args.min:
        return 1
    return 0


def jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
