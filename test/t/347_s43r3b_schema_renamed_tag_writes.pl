# With the extension's schema renamed while the library was not preloaded
# (ALTER SCHEMA bh_audit RENAME TO bh_x; refused with the preload), the
# tag cache now reads the tag catalog it found (2b09a4e: every statement
# failed before), and capture_status() reports the rename.  But the
# catalog's own upkeep still names "bh_audit.tags" (tags.c): a DBA's
# DROP TABLE of a tagged table, or ALTER TABLE ... RENAME COLUMN of its
# tagged column, fails with 'relation "bh_audit.tags" does not exist' and
# the extension's internal query as its QUERY context.  They must go
# through, the tag following them in the catalog found, as they do with
# the schema named bh_audit.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43r3b_schema_renamed');
$node->safe_psql('postgres', q{
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE TABLE visits (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('visits', 'Encounter', 'id', 'patient_id');
});
my $visits = $node->safe_psql('postgres', q{SELECT 'visits'::regclass::oid});

$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
$node->safe_psql('postgres', 'ALTER SCHEMA bh_audit RENAME TO bh_x');
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
$node->restart;

my ($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE notes RENAME COLUMN patient_id TO pid');
note($err);
is($ret, 0, 'ALTER TABLE ... RENAME COLUMN of a tagged column succeeds with the schema renamed');
unlike($err, qr/bh_audit\.tags/, 'no error naming bh_audit.tags');
is($node->safe_psql('postgres', q{SELECT patient_column FROM bh_x.tags WHERE tbl = 'notes'::regclass}),
	'pid', 'the tag follows the renamed column');

($ret, $out, $err) = $node->psql('postgres', 'DROP TABLE visits');
note($err);
is($ret, 0, 'DROP TABLE of a tagged table succeeds with the schema renamed');
unlike($err, qr/bh_audit\.tags/, 'no error naming bh_audit.tags');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM bh_x.tags WHERE tbl::oid = $visits}),
	'0', 'the dropped table\'s tag goes');

done_testing();
