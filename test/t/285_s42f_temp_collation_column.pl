# A tagged table's owner (no superuser, no bh_audit_admin) makes one of its
# columns depend on an object of the session's temporary schema other than
# a type: a collation (CREATE COLLATION pg_temp.c; the column COLLATE it,
# directly or through a domain of a permanent schema declared with it), or
# a permanent composite type whose attribute has it -- or a temporary type
# after all, as an attribute added to a permanent composite type that a
# column already is of.  When the session
# ends, PostgreSQL drops its temporary schema with CASCADE, outside any
# statement: the column goes with the collation (or the attribute, from
# every value of the column), and every row's values with it.  A DROP
# COLUMN, or a type of a temporary schema (refused, 0A000, sql/22), is
# recorded or refused; this leaves no event at all: the owner stores data
# in the column (writes recorded), disconnects, and the values vanish.
# Right: the statement refused as a column of a temporary type is (0A000,
# naming the table and the column), so that no value can vanish unseen.
# Also refused: the same through ALTER TYPE ... ALTER ATTRIBUTE ... TYPE, a
# range (or its multirange) of a temporary collation, and tag_table() of a
# table with such a column.  Also refused: a tagged table made a typed
# table of a temporary composite type (ALTER TABLE ... OF), which
# PostgreSQL would drop whole at the session's end.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner LOGIN;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE clinic.typed (id int, patient_id text, body text);
ALTER TABLE clinic.notes OWNER TO clinic_owner;
ALTER TABLE clinic.typed OWNER TO clinic_owner;
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
INSERT INTO clinic.typed VALUES (1, 'pat_1', 'a');
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
SELECT bh_audit.tag_table('clinic.typed', 'Typed', 'id', 'patient_id');
});

# The table-wide events of notes (no row id: not the rows' own UPDATEs),
# since $mark, that name column $col as changed or dropped.
sub column_events
{
	my ($mark, $col) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'
   AND '$col' = ANY (string_to_array(concat_ws(',', event -> 'metadata' ->> 'dropped_columns',
                                               event -> 'metadata' ->> 'changed_columns'), ','))
   AND resource_id IS NULL});
}

# Control: the owner's own DROP COLUMN is recorded, and found so.
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', q{
ALTER TABLE clinic.notes ADD COLUMN ctl text;
UPDATE clinic.notes SET ctl = 'x';
ALTER TABLE clinic.notes DROP COLUMN ctl;
}, extra_params => [ '-U', 'clinic_owner' ]);
is(column_events($mark, 'ctl'), '1', 'control: a DROP COLUMN is one UPDATE event naming the column');

# Run $sql's statements as the owner in a session of its own: the last one
# is refused with $msg (0A000), the others run; then the session ends, and
# column $col of notes is there (or not, $absent) with its values, none of
# which vanished with the temporary schema.
sub refused_at_last
{
	my ($name, $col, $absent, $msg, $sql) = @_;
	my @stmts = grep { /\S/ } split /;\n/, $sql;
	my $last = pop @stmts;
	my $s = $node->background_psql('postgres', on_error_stop => 0,
		extra_params => [ '-U', 'clinic_owner', '-v', 'VERBOSITY=verbose' ]);

	$s->query_safe($_) foreach @stmts;
	eval { $s->query_safe($last); 1 } and fail("$name: allowed");
	like($@, qr/ERROR:  0A000: \Q$msg\E\n/, "$name: refused");
	$s->quit;
	$node->poll_query_until('postgres', q{
SELECT NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'c_tmp')
   AND NOT EXISTS (SELECT 1 FROM pg_type WHERE typname IN ('nt_tmp', 'sev_tmp'))})
	  or diag("$name: the temporary schema was not emptied");
	is($node->safe_psql('postgres', qq{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = '$col' AND NOT attisdropped}),
		$absent ? '0' : '1', "$name: the column " . ($absent ? 'not added' : 'still there'));
	return;
}

refused_at_last('a column COLLATE a temporary collation', 'summary', 1,
	'column "summary" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
ALTER TABLE clinic.notes ADD COLUMN summary text COLLATE pg_temp.c_tmp;
});

refused_at_last('a column of a permanent domain with a temporary collation', 'code', 1,
	'column "code" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE DOMAIN clinic.code_d AS text COLLATE pg_temp.c_tmp;
ALTER TABLE clinic.notes ADD COLUMN code clinic.code_d;
});

refused_at_last('a column of a permanent composite type with an attribute of a temporary collation',
	'address', 1,
	'column "address" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE TYPE clinic.addr AS (street text, secret text COLLATE pg_temp.c_tmp);
ALTER TABLE clinic.notes ADD COLUMN address clinic.addr;
});

# The same through a temporary *type*, which a column of a tagged table
# cannot have (0A000, sql/22): an attribute of it added to a permanent
# composite type that a column of the table already is of (the statement's
# relation is the composite type, which is not tagged).
refused_at_last('a column of a permanent composite type given an attribute of a temporary type',
	'visit', 0,
	'column "visit" of tagged table "notes" cannot be of temporary type clinic.visit_t', q{
CREATE TYPE pg_temp.sev_tmp AS ENUM ('low', 'high');
CREATE TYPE clinic.visit_t AS (site text);
ALTER TABLE clinic.notes ADD COLUMN visit clinic.visit_t;
UPDATE clinic.notes SET visit = ROW('north');
ALTER TYPE clinic.visit_t ADD ATTRIBUTE severity pg_temp.sev_tmp;
});
is($node->safe_psql('postgres', q{SELECT string_agg((visit).site, ',') FROM clinic.notes}),
	'north,north', 'the composite column keeps its values');

# ... or of a temporary collation, the attribute already there retyped
refused_at_last('an attribute of a column\'s composite type retyped to a temporary collation',
	'visit', 0,
	'column "visit" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
ALTER TYPE clinic.visit_t ALTER ATTRIBUTE site TYPE text COLLATE pg_temp.c_tmp;
});

# a range of a temporary collation, and its multirange
refused_at_last('a column of a range of a temporary collation', 'span', 1,
	'column "span" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE TYPE clinic.code_range AS RANGE (subtype = text, collation = pg_temp.c_tmp);
ALTER TABLE clinic.notes ADD COLUMN span clinic.code_range;
});
refused_at_last('a column of a multirange of a range of a temporary collation', 'spans', 1,
	'column "spans" of tagged table "notes" cannot depend on temporary collation c_tmp', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE TYPE clinic.code_range AS RANGE (subtype = text, collation = pg_temp.c_tmp);
ALTER TABLE clinic.notes ADD COLUMN spans clinic.code_multirange;
});

# tag_table() of a table with such a column (a superuser's session)
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE COLLATION pg_temp.c_tmp (provider = libc, locale = 'C');
CREATE TABLE clinic.other (id int, patient_id text, body text COLLATE pg_temp.c_tmp);
SELECT bh_audit.tag_table('clinic.other', 'Other', 'id', 'patient_id');
}, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose' ]);
like($err,
	qr/ERROR:  0A000: column "body" of tagged table "other" cannot depend on temporary collation c_tmp\n/,
	'a table with a column of a temporary collation cannot be tagged');

# A tagged table made typed of a temporary composite type, which
# PostgreSQL would drop whole with the type at the session's end: refused
# (sql/99_s43ra_typed_table_temp_type), nothing dropped.
$mark = bh_seal_mark($node, 'postgres');
($ret, $out, $err) = $node->psql('postgres', q{
CREATE TYPE pg_temp.nt_tmp AS (id int, patient_id text, body text);
ALTER TABLE clinic.typed OF pg_temp.nt_tmp;
}, extra_params => [ '-U', 'clinic_owner', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose' ]);
like($err,
	qr/ERROR:  0A000: tagged table "typed" cannot depend on temporary type nt_tmp\n/,
	'a tagged table cannot be made typed of a temporary type');
$node->poll_query_until('postgres',
	q{SELECT NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'nt_tmp')});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND event -> 'metadata' ->> 'change' = 'tagged_table_dropped'}), '0',
	'the tagged table is still there after the session\'s end: nothing dropped');

done_testing();
