#!/usr/bin/env python3
"""Independent check of a bh_audit JSONL export, outside the database.

Re-implements the checks of the bh-audit-logger chain verifier
(`bh-audit verify --source file`) with Python's own json and hashlib, so that
an export is verified by code that shares nothing with the extension:

  canonical  = json.dumps(event minus top-level "integrity", sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False) as UTF-8
  event_hash = hexdigest(H(prev_hash_text + canonical)), H(canonical) first

Events are walked in file order; the running previous hash is the previous
event's RECORDED hash; an event without an integrity block is "unchained"
(the upstream verifier's word for an event emitted without a chain) and
resets it.  Prints the verifier's JSON report (events_scanned, time_range,
chain_length, chain_gaps, hash_mismatches, unchained_events, result,
failures) and exits 0 on PASS, 1 on FAIL, 2 on unreadable input.

Stricter than the upstream verifier, for bh_audit's exports: any unchained
event makes the file FAIL (export_jsonl() writes an integrity block on
every line, so such a line was added; at the start or the end of the file
nothing else would disagree with it), and a hash_alg other than sha256,
sha384 and sha512 is a hash_mismatch, as bh_audit.verify_chain() reports
it.  An unchained event adds no entry to the failures: the reports of
the stored vectors stay the upstream's.

Usage: verify_jsonl.py FILE [--after HASH] [--expect RESULTS.json --name KEY]
  --after HASH verifies a file that continues a chain (an export of a seq
  range that does not start at the first event): HASH is the recorded
  event_hash of the event just before it, which its first line's
  prev_event_hash must be and its hash covers.  Without it the walk starts
  at the beginning of a chain, as the upstream verifier's does.
  --expect compares the whole report with the entry KEY of RESULTS.json
  (the format of test/vectors/expected_verify_results.json) and exits 0
  only if they are equal.

The file is read line by line and each event checked as it is read: memory
holds one event, the running hash and the failures found, whatever the
export's length.  A line that is not a JSON object (or whose integrity is
not one, or holds an event_hash or prev_event_hash that is neither a string
nor null), or that holds a lone surrogate escape (no UTF-8 text to hash),
makes the file unreadable (exit 2, no report, the line named), wherever it
is.
"""

import hashlib
import json
import sys

HASH_MISMATCH_MSG = ("Event content does not match its recorded hash. "
                     "Event may have been modified after emission.")
GAP_MSG = ("prev_event_hash does not match the previous event's hash. "
           "An event may have been deleted or reordered.")
MISSING_PREV_MSG = "Missing prev_event_hash mid-chain (possible unchained emission)."
UNKNOWN_ALG_MSG = "Unknown hash_alg: the event's hash cannot be recomputed."
HASH_ALGS = ("sha256", "sha384", "sha512")


def canonical_form(event):
    """The UTF-8 canonical form of event, without its integrity block."""
    body = {k: v for k, v in event.items() if k != "integrity"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def chain_hash(canonical, prev_hash, alg):
    h = hashlib.new(alg)
    if prev_hash is not None:
        h.update(prev_hash.encode("utf-8"))
    h.update(canonical)
    return h.hexdigest()


class Unreadable(Exception):
    """The export cannot be read or a line of it is not JSON."""


def read_events(f):
    """The events of an open export, one per non-blank line, as read, each
    with its canonical form."""
    try:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            event = json.loads(line)
            if not isinstance(event, dict):
                raise Unreadable(f"line {number} is not a JSON object")
            integrity = event.get("integrity", {})
            if not isinstance(integrity, dict):
                raise Unreadable(f"the integrity of line {number} is not a JSON object")
            # a hash is text (or null): the next line's hash covers it
            if any(integrity.get(k) is not None and not isinstance(integrity[k], str)
                   for k in ("event_hash", "prev_event_hash")):
                raise Unreadable(f"the integrity of line {number} holds a hash "
                                 "that is not a JSON string")
            try:
                canonical = canonical_form(event)
            except UnicodeEncodeError:
                # a lone surrogate escape ("\ud800"): no UTF-8 form to hash
                raise Unreadable(f"line {number} holds a character that is not "
                                 "Unicode text (a lone surrogate escape)") from None
            yield event, canonical
    except (OSError, ValueError) as e:
        raise Unreadable(e) from e


def verify(events, after=None):
    """The report of events (pairs of an event and its canonical form, as
    read_events() yields them: any iterable, consumed once, in file order)."""
    report = {"events_scanned": 0, "chain_length": 0, "chain_gaps": 0,
              "hash_mismatches": 0, "unchained_events": 0}
    failures = []
    prev_hash = after
    first_ts = last_ts = None

    def fail(idx, event, kind, expected, actual, message):
        failures.append({"event_index": idx,
                         "event_id": event.get("event_id", "unknown"),
                         "timestamp": event.get("timestamp", ""),
                         "failure_type": kind, "expected": expected,
                         "actual": actual, "message": message})

    for idx, (event, canonical) in enumerate(events):
        report["events_scanned"] += 1
        ts = event.get("timestamp", "")
        if first_ts is None:
            first_ts = ts
        last_ts = ts
        integrity = event.get("integrity")
        if integrity is None:
            report["unchained_events"] += 1
            prev_hash = None
            continue
        report["chain_length"] += 1
        recorded = integrity.get("event_hash", "")
        alg = integrity.get("hash_alg", "sha256")
        if alg not in HASH_ALGS:
            report["hash_mismatches"] += 1
            fail(idx, event, "hash_mismatch", None, recorded, UNKNOWN_ALG_MSG)
            recomputed = recorded
        else:
            recomputed = chain_hash(canonical, prev_hash, alg)
        if recomputed != recorded:
            report["hash_mismatches"] += 1
            fail(idx, event, "hash_mismatch", recomputed, recorded, HASH_MISMATCH_MSG)
        recorded_prev = integrity.get("prev_event_hash")
        if (report["chain_length"] > 1 or after is not None) and recorded_prev is None:
            report["chain_gaps"] += 1
            fail(idx, event, "chain_gap", prev_hash, None, MISSING_PREV_MSG)
        elif recorded_prev is not None and recorded_prev != prev_hash:
            report["chain_gaps"] += 1
            fail(idx, event, "chain_gap", prev_hash, recorded_prev, GAP_MSG)
        prev_hash = recorded

    ok = (report["hash_mismatches"] == 0 and report["chain_gaps"] == 0 and
          report["unchained_events"] == 0)
    report["time_range"] = {"start": first_ts or None, "end": last_ts or None}
    report["result"] = "PASS" if ok else "FAIL"
    report["failures"] = failures
    return report


def main(argv):
    args = argv[1:]
    after = None
    expect = None
    if len(args) >= 3 and args[1] == "--after":
        after = args[2]
        args = [args[0]] + args[3:]
    if len(args) == 5 and args[1] == "--expect" and args[3] == "--name":
        expect = (args[2], args[4])
    elif len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            report = verify(read_events(f), after)
    except (OSError, Unreadable) as e:
        print(f"unreadable export: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, sort_keys=True))
    if expect is not None:
        with open(expect[0], encoding="utf-8") as f:
            expected = json.load(f)[expect[1]]
        expected = {k: v for k, v in expected.items() if k != "description"}
        if report != expected:
            print("report differs from the expected result", file=sys.stderr)
            return 1
        return 0
    return 0 if report["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
