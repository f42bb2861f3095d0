# Rows given to a reader's function or shown by an error are read
# (docs/read-capture.md, "What counts as a read", "Failed access"), also
#  1. on an index-only scan: a row given to a function in the output
#     columns, the statement then cancelled (as it sleeps, by
#     pg_cancel_backend(): deterministic); a row whose value an error
#     prints (as on an index scan, the control);
#  2. through a domain whose CHECK casts the value to another domain, or to
#     a composite type with one, whose CHECK is the reader's function: every
#     row given to the function is read (a domain calling it directly, the
#     control), also through a domain whose CHECK casts to a type of itself
#     (looked at once: the look ends), a domain over one, a CHECK added in
#     the session; one domain whose CHECK calls the owner's function of one
#     of two tables a statement casts values of to it counts for the other.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('failure_rows_ios_nested_domains');
$node->safe_psql('postgres', q{
CREATE SCHEMA t;
CREATE TABLE t.pat (id text PRIMARY KEY, name text, ssn text);
INSERT INTO t.pat VALUES ('p1', 'Alice', '111-11-1111'), ('p2', 'Bob', '222-22-2222'),
  ('p3', 'Carol', '333-33-3333');
SELECT bh_audit.tag_table('t.pat', 'Patient', 'id', 'id', capture_writes => false);
VACUUM ANALYZE t.pat;
CREATE ROLE reader LOGIN;
CREATE SCHEMA evil AUTHORIZATION reader;
GRANT USAGE ON SCHEMA t TO reader;
GRANT SELECT ON t.pat TO reader;
SET ROLE reader;
CREATE FUNCTION evil.show(v text) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'show: %', v; RETURN v; END $$;
CREATE FUNCTION evil.chk(t text) RETURNS bool LANGUAGE plpgsql AS
  $$ BEGIN RAISE NOTICE 'chk: %', t; RETURN true; END $$;
CREATE DOMAIN evil.d AS text CHECK (evil.chk(VALUE));
CREATE DOMAIN evil.outer_d AS text CHECK ((VALUE::evil.d) IS NOT NULL);
CREATE TYPE evil.r AS (x evil.d);
CREATE DOMAIN evil.outer_r AS text CHECK ((ROW(VALUE)::evil.r) IS NOT NULL);
-- domains whose CHECK casts to a composite type of themselves (checked
-- only as that cast runs: a CHECK casting straight to its own domain fails
-- in PostgreSQL as the statement starts), and one that casts to such a one
CREATE DOMAIN evil.self_d AS text CHECK (length(VALUE) >= 0);
CREATE TYPE evil.r_self AS (x evil.self_d);
ALTER DOMAIN evil.self_d ADD CHECK (VALUE = '' OR ('(' || substr(VALUE, 2) || ')')::evil.r_self::text <> '');
CREATE DOMAIN evil.self_chk AS text CONSTRAINT z_chk CHECK (evil.chk(VALUE));
CREATE TYPE evil.r_self_chk AS (x evil.self_chk);
-- (checked before z_chk: by name)
ALTER DOMAIN evil.self_chk ADD CONSTRAINT a_self
  CHECK (VALUE = '' OR ('(' || substr(VALUE, 2) || ')')::evil.r_self_chk::text <> '');
CREATE DOMAIN evil.to_self AS text CHECK ((VALUE::evil.self_chk) IS NOT NULL);
CREATE DOMAIN evil.over_d AS evil.d;
CREATE DOMAIN evil.later_d AS text CHECK (length(VALUE) > 0);
RESET ROLE;
-- the owner's function, exempt for its own table's rows only
CREATE ROLE own2;
CREATE TABLE t.vis (id text PRIMARY KEY, name text, ssn text);
INSERT INTO t.vis VALUES ('v1', 'Vic', 'x1'), ('v2', 'Val', 'x2'), ('v3', 'Vin', 'x3');
SELECT bh_audit.tag_table('t.vis', 'Patient', 'id', 'id', capture_writes => false);
ALTER TABLE t.vis OWNER TO own2;
GRANT SELECT ON t.vis TO reader;
CREATE FUNCTION t.ochk(v text) RETURNS bool LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp AS
  $$ BEGIN RETURN true; END $$;
CREATE DOMAIN t.od AS text CHECK (t.ochk(VALUE));
});

# Run sql; the patients read since, and the client's output.  With
# cancel => 1, sql ends in a statement calling pg_sleep(), cancelled once
# it sleeps (bh_cancel_waiting).
sub run
{
	my ($sql, %opt) = @_;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($out, $err);
	if ($opt{cancel})
	{
		($out, $err) = bh_cancel_waiting($node, 'postgres', $sql);
	}
	else
	{
		(undef, $out, $err) = $node->psql('postgres', $sql, on_error_stop => 0);
	}
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $ev = $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(DISTINCT patient_id, ',' ORDER BY patient_id), '')
  FROM bh_audit.events WHERE seq > $mark AND action = 'READ' AND patient_id IS NOT NULL});
	return ($ev, "$out\n$err");
}

my $noseq = 'SET enable_seqscan = off; SET enable_bitmapscan = off;';
for my $scan ('Index Scan', 'Index Only Scan')
{
	my $set = $scan eq 'Index Scan' ? "$noseq SET enable_indexonlyscan = off;" : $noseq;
	my $q = q{SELECT evil.show(id), pg_sleep(5) FROM t.pat WHERE id = 'p1'};
	like($node->safe_psql('postgres', "SET ROLE reader; $set EXPLAIN (COSTS OFF) $q"),
		qr/^\Q$scan\E using pat_pkey/m, "$scan: planned so");
	# the cancel comes as the statement sleeps, after the function
	# returned (output columns are computed in order)
	my ($ev, $out) = run(qq{SET ROLE reader; $set $q}, cancel => 1);
	like($out, qr/show: p1.*canceling statement due to user request/s,
		"$scan: the function was given p1, then a cancel");
	is($ev, 'p1', "$scan: the row given to the function is read");

	# the cancel with no function given the row: nothing read
	($ev, $out) = run(qq{SET ROLE reader; $set
SELECT id, pg_sleep(5) FROM t.pat WHERE id = 'p1'}, cancel => 1);
	like($out, qr/canceling statement due to user request/,
		"$scan: cancelled with no function given the row");
	is($ev, '', "$scan: a cancel shows no row");

	($ev, $out) = run(qq{SET ROLE reader; $set SELECT id::int FROM t.pat WHERE id = 'p2'});
	like($out, qr/invalid input syntax for type integer: "p2"/, "$scan: the error prints p2");
	is($ev, 'p2', "$scan: the row the error prints is read");
}

for my $dom ('evil.d', 'evil.outer_d', 'evil.outer_r', 'evil.to_self')
{
	my ($ev, $out) = run(qq{SET ROLE reader;
SELECT id FROM t.pat WHERE ssn::$dom IS NOT NULL AND name = 'Bob'});
	like($out, qr/chk: 333-33-3333/, "$dom: the reader's function was given p3's ssn");
	is($ev, 'p1,p2,p3', "$dom: every row given to the function is read");
}

# a domain over one whose CHECK calls the reader's function
my ($ev, $out) = run(q{SET ROLE reader;
SELECT id FROM t.pat WHERE ssn::evil.over_d IS NOT NULL AND name = 'Bob'});
is($ev, 'p1,p2,p3', 'a domain over such a domain: every row given to the function is read');

# a domain's CHECK changed in the session: the next statement sees it
($ev, $out) = run(q{SET ROLE reader;
SELECT id FROM t.pat WHERE ssn::evil.later_d IS NOT NULL AND name = 'Bob';
ALTER DOMAIN evil.later_d ADD CHECK (evil.chk(VALUE));
SELECT id FROM t.pat WHERE ssn::evil.later_d IS NOT NULL AND name = 'Carol'});
is($ev, 'p1,p2,p3', 'a CHECK added to a domain counts from the next statement');

# one domain in one statement, for the rows of two tables: its CHECK's
# function, the owner's of one of them, is exempt for that table's rows
# only (a row rejected after it: not read there, read in the other)
($ev, $out) = run(q{SET ROLE reader;
SELECT p.id, v.id FROM t.pat p, t.vis v
 WHERE (p.ssn::t.od)::text <> '333-33-3333' AND (v.ssn::t.od)::text <> 'x3'});
is($ev, 'p1,p2,v1,v2,v3', 'one domain, two tables: the owner\'s function exempt for its own table only');
($ev, $out) = run(q{SET ROLE reader;
SELECT p.id, v.id FROM t.vis v, t.pat p
 WHERE (v.ssn::t.od)::text <> 'x3' AND (p.ssn::t.od)::text <> '333-33-3333' AND p.id <> v.id});
is($ev, 'p1,p2,v1,v2,v3', 'the same, the tables the other way round');

# the controls: a domain casting to itself, calling no function of the
# reader's; the functions given no value of the row
($ev, $out) = run(q{SET ROLE reader;
SELECT id FROM t.pat WHERE ssn::evil.self_d IS NOT NULL AND name = 'Bob'});
is("$ev|$out", "p2|p2\n", 'a domain casting to itself, no function of the reader: the row produced');
($ev, $out) = run(q{SET ROLE reader;
SELECT id FROM t.pat WHERE name = 'Bob' AND ('x'::evil.outer_d) IS NOT NULL});
is($ev, 'p2', 'the function given no value of the row: the row produced');

$node->stop;
done_testing();
