# A capture trigger function taken out of the extension and then replaced
# (or dropped) while bh_audit was not preloaded must be reported by
# capture_status().  With the preload, ALTER EXTENSION bh_audit DROP
# FUNCTION is refused ("cannot remove objects from extension bh_audit": an
# object removed from the extension could be replaced without a trace);
# without it nothing refuses it.  docs/sql-reference.md and
# docs/operations.md ("Without the preload") say capture_status() reports
# an extension function that is not the library's C function any more, and
# each table whose capture trigger calls it.  But it looked only at the
# functions that are still members of the extension: once
# bh_audit._capture_row() is out of it and replaced by a no-op, every write
# to a tagged table goes unrecorded, and capture_status() is empty.  And a
# capture function dropped outright must be reported, not make
# capture_status() itself fail.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43f_function_out_of_extension');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
my ($ret, $out, $err) = $node->psql('postgres',
	'ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._capture_row()');
isnt($ret, 0, 'with the preload, taking a capture function out of the extension is refused');

# Without the preload: out of the extension, then replaced by a no-op.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
$node->safe_psql('postgres', q{
ALTER EXTENSION bh_audit DROP FUNCTION bh_audit._capture_row();
CREATE OR REPLACE FUNCTION bh_audit._capture_row() RETURNS trigger
LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
});
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't', 'preloaded again');

# What is at stake: a write to the tagged table leaves no event.
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$node->safe_psql('postgres', q{INSERT INTO notes VALUES (1, 'p1')});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM bh_audit.events WHERE resource_type = 'Note' AND action = 'CREATE'}),
	'0', 'the INSERT into the tagged table was not recorded');

my $status = $node->safe_psql('postgres',
	q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$status");
like($status, qr/_capture_row/,
	'capture_status() reports the replaced capture function');
like($status, qr/^notes\|row trigger/m,
	'capture_status() reports the tagged table whose row trigger calls it');

# Dropped outright (without the preload): its triggers go with it; the
# tables are reported, capture_status() does not fail.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
$node->safe_psql('postgres', 'DROP FUNCTION bh_audit._capture_row() CASCADE');
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
$node->restart;
($ret, $out, $err) = $node->psql('postgres',
	q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$out\n$err");
is($ret, 0, 'capture_status() runs with a capture function dropped');
like($out, qr/^notes\|row trigger missing/m,
	'capture_status() reports the row trigger dropped with the function');

done_testing();
