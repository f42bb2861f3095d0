# What a session's end does to a tagged table when a generated column, a
# default, a constraint or an index of it, or an object a column's type
# reaches, calls a function of the session's temporary schema: PostgreSQL
# drops the function with CASCADE, outside any statement.
#   - a generated column (its expression an internal part of the column):
#     dropped with its values; a tagged patient column that is one cannot
#     be dropped, so the session's exit fails and its temporary schema
#     stays behind.  Right: refused (0A000) when added or tagged;
#   - an aggregate a view calls, replaced by CREATE OR REPLACE AGGREGATE
#     with a temporary support function, a column being of the view's row
#     type; a base type given a temporary RECEIVE function (ALTER TYPE ...
#     SET): the column is dropped.  Right: refused (0A000);
#   - a plain DEFAULT, a CHECK constraint, an expression or partial index:
#     PostgreSQL drops the default, the constraint, the index; the column
#     and its values stay, no event.  Not refused (tagging.md).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
bh_clinic_notes($node);

# $sql run in a session of its own (as $user), which then ends and whose
# temporary schema PostgreSQL empties; its stderr
sub session
{
	my ($user, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		extra_params => [ '-U', $user, '-v', 'VERBOSITY=terse' ]);

	$node->poll_query_until('postgres', qq{
SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE usename = '$user' AND pid <> pg_backend_pid()
                   AND backend_type = 'client backend')
   AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname LIKE 'pg_temp%' AND p.proname LIKE 'tmp_%')})
	  or diag('the temporary schema was not emptied');
	return $err;
}

# the events other than reads since $mark, for Note
sub changes
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(concat_ws('|', action, event -> 'metadata' ->> 'statement',
                                     event -> 'metadata' ->> 'dropped_columns'), ';' ORDER BY seq), '')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action <> 'READ'});
}

sub columns
{
	return $node->safe_psql('postgres', q{
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attnum > 0 AND NOT attisdropped});
}

my $create_fn = q{
CREATE FUNCTION pg_temp.tmp_up(text) RETURNS text IMMUTABLE LANGUAGE sql AS $$SELECT upper($1)$$;
};

# 1. a DEFAULT, a CHECK constraint, an expression index and a partial index:
# allowed; at the session's end the column and its values stay
my $mark = bh_seal_mark($node, 'postgres');
my $err = session('clinic_owner', $create_fn . q{
ALTER TABLE clinic.notes ALTER COLUMN body SET DEFAULT pg_temp.tmp_up('d');
ALTER TABLE clinic.notes ADD CONSTRAINT loud CHECK (pg_temp.tmp_up(body) <> 'Z');
CREATE INDEX notes_up ON clinic.notes (pg_temp.tmp_up(body));
CREATE INDEX notes_part ON clinic.notes (id) WHERE pg_temp.tmp_up(body) <> 'Q';
});
is($err, '', 'a default, a constraint and indexes calling a temporary function: allowed');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM pg_attrdef WHERE adrelid = 'clinic.notes'::regclass)
    || '|' || (SELECT count(*) FROM pg_constraint WHERE conrelid = 'clinic.notes'::regclass AND contype = 'c')
    || '|' || (SELECT string_agg(relname, ',') FROM pg_index JOIN pg_class ON oid = indexrelid
               WHERE indrelid = 'clinic.notes'::regclass)}),
	'0|0|notes_pkey', 'at the session\'s end PostgreSQL dropped the default, the constraint, the indexes');
is(columns(), 'id,patient_id,body', 'not the column');
is($node->safe_psql('postgres', q{SELECT string_agg(patient_id || body, ',' ORDER BY id) FROM clinic.notes}),
	'pat_1a,pat_2b', 'nor its values');
is(changes($mark), '', 'nothing written: no event');

# 2. a generated column calling a temporary function: refused
$mark = bh_seal_mark($node, 'postgres');
$err = session('clinic_owner', $create_fn . q{
ALTER TABLE clinic.notes ADD COLUMN loud text GENERATED ALWAYS AS (pg_temp.tmp_up(body)) STORED;
});
like($err, qr/ERROR:  generated column "loud" of tagged table "notes" cannot depend on temporary function pg_temp_\d+\.tmp_up\(text\)/,
	'a generated column calling a temporary function: refused');
is(columns(), 'id,patient_id,body', 'the table has no such column');
is(changes($mark), '', 'nothing dropped at the session\'s end');

# 3. a table whose tagged patient column is one: its tagging refused; the
# session's exit works and empties its temporary schema
$err = session('postgres', $create_fn . q{
CREATE TABLE clinic.gen (id int PRIMARY KEY, body text,
  patient_id text GENERATED ALWAYS AS (pg_temp.tmp_up(body)) STORED);
INSERT INTO clinic.gen (id, body) VALUES (1, 'pat_g');
SELECT bh_audit.tag_table('clinic.gen', 'Gen', 'id', 'patient_id');
});
like($err, qr/ERROR:  generated column "patient_id" of tagged table "gen" cannot depend on temporary function/,
	'tagging a table whose patient column calls a temporary function: refused');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname LIKE 'pg_temp%' AND p.proname = 'tmp_up'}),
	'0', 'the session\'s exit emptied its temporary schema');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.tagged_tables WHERE table_name = 'gen'}),
	'0', 'the table is not tagged');

# 4. CREATE OR REPLACE AGGREGATE of an aggregate a view calls, a column
# being of the view's row type: refused
$node->safe_psql('postgres', q{
CREATE AGGREGATE clinic.total(int) (sfunc = int4pl, stype = int);
CREATE VIEW clinic.tally AS SELECT clinic.total(x) AS n FROM generate_series(1, 2) x;
ALTER AGGREGATE clinic.total(int) OWNER TO clinic_owner;
ALTER VIEW clinic.tally OWNER TO clinic_owner;
ALTER TABLE clinic.notes ADD COLUMN tally clinic.tally;
UPDATE clinic.notes SET tally = ROW(3);
});
$mark = bh_seal_mark($node, 'postgres');
$err = session('clinic_owner', q{
CREATE FUNCTION pg_temp.tmp_plus(int, int) RETURNS int LANGUAGE sql AS $$SELECT $1 + $2$$;
CREATE OR REPLACE AGGREGATE clinic.total(int) (sfunc = pg_temp.tmp_plus, stype = int);
});
like($err, qr/ERROR:  column "tally" of tagged table "notes" cannot depend on temporary function pg_temp_\d+\.tmp_plus/,
	'CREATE OR REPLACE AGGREGATE giving a column\'s type a temporary dependency: refused');
is($node->safe_psql('postgres', q{SELECT string_agg((tally).n::text, ',' ORDER BY id) FROM clinic.notes}),
	'3,3', 'the column keeps its values after the session');
is(changes($mark), '', 'nothing dropped at the session\'s end');

# 5. ALTER TYPE ... SET (RECEIVE = ...) of a base type a column is of (a
# superuser's): refused
$node->safe_psql('postgres', q{
CREATE TYPE clinic.code;
CREATE FUNCTION clinic.code_in(cstring) RETURNS clinic.code LANGUAGE internal IMMUTABLE STRICT AS 'int4in';
CREATE FUNCTION clinic.code_out(clinic.code) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'int4out';
CREATE TYPE clinic.code (INPUT = clinic.code_in, OUTPUT = clinic.code_out, LIKE = int4);
ALTER TABLE clinic.notes ADD COLUMN code clinic.code;
UPDATE clinic.notes SET code = '7';
});
$mark = bh_seal_mark($node, 'postgres');
$err = session('postgres', q{
CREATE FUNCTION pg_temp.tmp_recv(internal) RETURNS clinic.code LANGUAGE internal IMMUTABLE STRICT AS 'int4recv';
ALTER TYPE clinic.code SET (RECEIVE = pg_temp.tmp_recv);
});
like($err, qr/ERROR:  column "code" of tagged table "notes" cannot depend on temporary function pg_temp_\d+\.tmp_recv/,
	'ALTER TYPE ... SET (RECEIVE) to a temporary function: refused');
is($node->safe_psql('postgres', q{SELECT string_agg(code::text, ',' ORDER BY id) FROM clinic.notes}),
	'7,7', 'the column keeps its values after the session');
is(changes($mark), '', 'nothing dropped at the session\'s end');

is(columns(), 'id,patient_id,body,tally,code', 'the tagged table keeps its columns');
my ($ret, $out);
($ret, $out, $err) = $node->psql('postgres', q{CREATE TEMP TABLE scratch (x int)},
	extra_params => [ '-U', 'clinic_owner' ]);
is($ret, 0, 'a later session creates a temporary table') or diag($err);
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');

done_testing();
