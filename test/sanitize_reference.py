#!/usr/bin/env python3
"""Agreement test of bh_audit.sanitize_error_message() with Python's `re`.

The reference is the upstream (bh-audit-logger) algorithm, run here with
Python 3's own `re` on str (Unicode \\d, \\s, \\w and \\b):

    strip(); re.sub(r"\\s+", " "); SSN, EMAIL, PHONE, ID patterns in that
    order; if len > max_len: s[:max_len - 3] + "..."

The script
  1. checks the reference itself against every case of the vector file
     (expected_logger with its max_len);
  2. generates --count random strings (seeded: --seed) that mix decimal
     digits of several scripts, non-decimal numerics, letters of several
     scripts, combining marks, separators, e-mail and phone shapes and many
     kinds of whitespace (and look-alikes that are not whitespace), each
     with a max_len;
  3. feeds the vector cases and the random strings to the SQL function in
     ONE psql session (psql from PATH or --psql; connection from the usual
     PG* environment or --host/--port/--dbname), and
  4. compares every result, prints each disagreement and a summary line:
         vectors: R of V match the reference
         agreement: A of N agree, D disagree (seed S)
     and exits 0 only if everything agrees.

Standard library only.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys

PATTERNS = [
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "[REDACTED-SSN]"),
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "[REDACTED-EMAIL]"),
    (re.compile(r"\b\d{3}[-.\s]?\d{3}[-.\s]?\d{4}\b"), "[REDACTED-PHONE]"),
    (re.compile(r"\b\d{10,}\b"), "[REDACTED-ID]"),
]
WHITESPACE_RUN = re.compile(r"\s+")


def reference(message, max_len=200):
    """The upstream sanitiser, as the logger runs it."""
    s = message.strip()
    s = WHITESPACE_RUN.sub(" ", s)
    for pattern, marker in PATTERNS:
        s = pattern.sub(marker, s)
    if len(s) > max_len:
        s = s[: max_len - 3] + "..."
    return s


# Decimal digits (category Nd) of several scripts: the first code point of
# each block of ten.
DIGIT_ZEROS = [0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xE50, 0x1810,
               0xFF10, 0x1D7CE, 0x104A0]
# Numeric but not decimal: \w, never \d.
NON_DECIMAL_NUMERICS = "²³¹½Ⅻ①⑽٫"
LETTERS = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "éßЖж中文اǅ")
COMBINING = "\u0301\u0308"            # Mn: not \w
SEPARATORS = "-._@%+|:,/()'\"#!?[]"
# str.isspace() characters, then look-alikes that are not whitespace.
SPACES = (" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2003\u200a"
          "\u2028\u2029\u202f\u205f\u3000")
NOT_SPACES = "\u200b\u180e\ufeff\u2060"


def digit(rng, mixed=True):
    zero = rng.choice(DIGIT_ZEROS) if mixed and rng.random() < 0.5 else 0x30
    return chr(zero + rng.randrange(10))


def digits(rng, n):
    one_script = rng.random() < 0.6
    zero = rng.choice(DIGIT_ZEROS)
    if one_script:
        return "".join(chr(zero + rng.randrange(10)) for _ in range(n))
    return "".join(digit(rng) for _ in range(n))


def sep(rng):
    return rng.choice(["", "-", ".", " ", "\t", "\u3000", "\xa0", "--", "_", "/", "\u2003"])


def email(rng):
    local_chars = "abcxyzABC019._%+-"
    domain_chars = "abcxyz019.-"
    local = "".join(rng.choice(local_chars) for _ in range(rng.randint(1, 8)))
    domain = "".join(rng.choice(domain_chars) for _ in range(rng.randint(0, 6)))
    tld = "".join(rng.choice("comorgNETé1") for _ in range(rng.randint(0, 4)))
    at = rng.choice(["@", "@", "@", "@@", ""])
    dot = rng.choice([".", ".", ".", "..", ""])
    return local + at + domain + dot + tld


def ssn_sep(rng):
    return "-" if rng.random() < 0.75 else sep(rng)


# A small alphabet that packs the patterns' edge cases densely.
DENSE = "0159١٥۹５-.-. _@@aZé²x|\u3000\t"


def piece(rng):
    kind = rng.randrange(15)
    if kind == 0:
        return digits(rng, 3) + ssn_sep(rng) + digits(rng, 2) + ssn_sep(rng) + digits(rng, 4)
    if kind == 13:
        return "".join(rng.choice(DENSE) for _ in range(rng.randint(5, 30)))
    if kind == 1:
        return digits(rng, 3) + sep(rng) + digits(rng, 3) + sep(rng) + digits(rng, 4)
    if kind == 2:
        return digits(rng, rng.randint(7, 16))
    if kind == 3:
        return email(rng)
    if kind == 4:
        return "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 4)))
    if kind == 5:
        return rng.choice(NOT_SPACES)
    if kind == 6:
        return "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 6)))
    if kind == 7:
        return rng.choice(SEPARATORS)
    if kind == 8:
        return rng.choice(NON_DECIMAL_NUMERICS)
    if kind == 9:
        return rng.choice(COMBINING)
    if kind == 10:
        # an SSN or date glued to a word, as in SSN_123-45-6789
        return rng.choice(["SSN_", "x", "_", "é", "DOB_", "²"]) + digits(rng, 3) + "-" + \
            digits(rng, 2) + "-" + digits(rng, 4) + rng.choice(["", "_", "x", "²", ".", " "])
    if kind == 11:
        return digits(rng, rng.randint(1, 4))
    if kind == 12:
        return " "
    return "".join(chr(rng.randrange(0x20, 0x7F)) for _ in range(rng.randint(1, 5)))


def random_case(rng):
    s = "".join(piece(rng) for _ in range(rng.randint(1, 12)))
    r = rng.random()
    if r < 0.6:
        max_len = 200
    elif r < 0.8:
        max_len = rng.randint(3, 40)
    else:
        max_len = max(3, len(s) + rng.randint(-5, 5))
    return s, max_len


def dollar_tag(text):
    n = 0
    while True:
        tag = "$bh_sanitize_%d$" % n
        if tag not in text:
            return tag
        n += 1


def run_sql(args, cases):
    """Every case through the SQL function, in one psql session."""
    payload = json.dumps([{"s": s, "m": m} for s, m in cases], ensure_ascii=True)
    tag = dollar_tag(payload)
    sql = ("SET client_min_messages = warning;\n"
           "SELECT json_agg(bh_audit.sanitize_error_message(c ->> 's', (c ->> 'm')::int) ORDER BY o)\n"
           "  FROM json_array_elements(%s%s%s::json) WITH ORDINALITY AS x(c, o);\n"
           % (tag, payload, tag))
    cmd = [args.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for opt, val in (("-h", args.host), ("-p", args.port), ("-d", args.dbname), ("-U", args.user)):
        if val:
            cmd += [opt, str(val)]
    env = dict(os.environ, PGCLIENTENCODING="UTF8")
    proc = subprocess.run(cmd, input=sql.encode("utf-8"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        sys.exit("psql failed with status %d" % proc.returncode)
    return json.loads(proc.stdout.decode("utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", required=True, help="sanitize_error_message.json")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20260311)
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--host")
    ap.add_argument("--port")
    ap.add_argument("--dbname")
    ap.add_argument("--user")
    args = ap.parse_args()

    with open(args.vectors, encoding="utf-8") as f:
        vectors = json.load(f)["cases"]
    ref_ok = 0
    for v in vectors:
        got = reference(v["input"], v["max_len"])
        if got == v["expected_logger"]:
            ref_ok += 1
        else:
            print("REFERENCE MISMATCH on vector %r: %r != %r"
                  % (v["input"], got, v["expected_logger"]))
    print("vectors: %d of %d match the reference" % (ref_ok, len(vectors)))

    rng = random.Random(args.seed)
    cases = [(v["input"], v["max_len"]) for v in vectors]
    cases += [random_case(rng) for _ in range(args.count)]
    expected = [reference(s, m) for s, m in cases]
    got = run_sql(args, cases)
    if len(got) != len(cases):
        sys.exit("the SQL function returned %d results for %d cases" % (len(got), len(cases)))

    bad = 0
    redacted = sum(1 for e in expected if "[REDACTED-" in e)
    for (s, m), e, g in zip(cases, expected, got):
        if e != g:
            bad += 1
            print("DISAGREE max_len=%d input=%s\n  python: %s\n  sql:    %s"
                  % (m, json.dumps(s), json.dumps(e), json.dumps(g)))
    kinds = ", ".join("%s %d" % (k, sum(1 for e in expected if "[REDACTED-%s]" % k in e))
                      for k in ("SSN", "EMAIL", "PHONE", "ID"))
    truncated = sum(1 for (s, m), e in zip(cases, expected) if len(reference(s, 10 ** 9)) > m)
    print("expected outputs with a redaction: %d (%s); truncated: %d"
          % (redacted, kinds, truncated))
    print("agreement: %d of %d agree, %d disagree (seed %d)"
          % (len(cases) - bad, len(cases), bad, args.seed))
    sys.exit(0 if bad == 0 and ref_ok == len(vectors) else 1)


if __name__ == "__main__":
    main()
