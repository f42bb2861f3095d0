# A tagged table (or a partition of one) made unlogged while bh_audit was
# not preloaded must be reported by capture_status().  With the preload,
# ALTER TABLE ... SET UNLOGGED of a tagged table, and the attachment of an
# unlogged partition under one, are refused (docs/tagging.md: a crash's
# recovery empties an unlogged table, with no DELETE event); without it
# nothing refuses them, and capture_status() -- which the monitoring check
# of docs/operations.md expects empty when capture is complete, and which
# reports the extension's own tables when unlogged -- said nothing: the
# table's rows could then vanish at the next crash or immediate shutdown
# with no event, unseen by the DBA checking capture status.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43f_unlogged_tagged');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
INSERT INTO notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE TABLE visits (id int, patient_id text, d date) PARTITION BY RANGE (d);
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT bh_audit.tag_table('visits', 'Visit', 'id', 'patient_id');
});

# With the preload: refused (as documented).
my ($ret, $out, $err) = $node->psql('postgres', 'ALTER TABLE notes SET UNLOGGED');
isnt($ret, 0, 'with the preload, SET UNLOGGED of a tagged table is refused');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.capture_status()'), '0',
	'capture_status() is empty to begin with');

# Without the preload: nothing refuses them.
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
$node->safe_psql('postgres', q{
ALTER TABLE notes SET UNLOGGED;
CREATE UNLOGGED TABLE visits_2027 (LIKE visits);
ALTER TABLE visits ATTACH PARTITION visits_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
});
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'");
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't', 'preloaded again');

my $status = $node->safe_psql('postgres', 'SELECT tbl, problem FROM bh_audit.capture_status()',
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$status");
like($status, qr/^notes\|[^\n]*unlogged/m,
	'capture_status() reports the tagged table made unlogged');
like($status, qr/^visits_2027\|[^\n]*unlogged/m,
	'capture_status() reports the unlogged partition attached under a tagged table');

# What is at stake: an immediate shutdown empties the table, and no event
# records the rows that went.
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $before = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM notes'), '0',
	'the unlogged tagged table was emptied by crash recovery');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $before AND resource_type = 'Note' AND action = 'DELETE'}), '0',
	'no DELETE event records the rows it lost');

done_testing();
