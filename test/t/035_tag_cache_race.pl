# Taggings committed while a session loads its tag cache, or after its
# transaction's snapshot.  The load
# reads bh_audit.tags with one snapshot and then the catalog; an
# invalidation that arrives after that snapshot, while the load is still
# running, must not be lost: the session would otherwise keep a cache
# without the new tag, and capture nothing on that table, until some later
# invalidation.  Here the load is held back after its snapshot by a
# session holding pg_rewrite (the load reads the views' rules last), while
# another session tags a table.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('cacherace');
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.notes (note_id int PRIMARY KEY, patient_id int);
CREATE TABLE clin.later (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.later VALUES (1, 77);
CREATE TABLE clin.plain (id int);
SELECT bh_audit.tag_table('clin.notes', 'Note', 'note_id', 'patient_id');
});

# The session under test, its cache loaded.
my $reader = $node->background_psql('postgres');
$reader->query_safe('SELECT count(*) FROM clin.plain');

# Invalidate its whole cache (a view's rule created: an ANALYZE of a
# tagged table re-resolves only that table's entry, reading no rules), then hold
# pg_rewrite so that its next load stops after reading bh_audit.tags.
# Sessions that must not load a cache meanwhile (they would wait too) load
# theirs before, or capture nothing.
$node->safe_psql('postgres', 'CREATE VIEW clin.one AS SELECT 1 AS one');
my $tagger = $node->background_psql('postgres');
$tagger->query_safe('SELECT count(*) FROM clin.notes');
$tagger->query_safe('SET bh_audit.enabled = off');
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE pg_catalog.pg_rewrite IN ACCESS EXCLUSIVE MODE');

$reader->query_until(qr/loading/, q{
\echo loading
SELECT count(*) FROM clin.plain;
});
# (pg_lock_status() rather than a view: reading a view needs pg_rewrite)
{
local $ENV{PGOPTIONS} = '-c bh_audit.enabled=off';
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_catalog.pg_lock_status()
	 WHERE NOT granted AND relation = 'pg_catalog.pg_rewrite'::pg_catalog.regclass}),
	'the reader\'s cache load waits for pg_rewrite');
}

# Meanwhile another session tags a second table.
$tagger->query_safe(
	"SELECT bh_audit.tag_table('clin.later', 'Later', 'id', 'patient_id', capture_writes => false)");
$tagger->quit;

$holder->query_safe('COMMIT');
$holder->quit;
my $mark = bh_seal_mark($node, 'postgres');

# The reader's load finishes; its next statement reads the new tagged table.
$reader->query_safe('SELECT patient_id FROM clin.later WHERE id = 1');
$reader->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT action || '|' || patient_id FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'Later' ORDER BY seq}),
	'READ|77', 'the table tagged during the load is captured');

# A repeatable read transaction whose snapshot predates a tagging: its
# session reloads the cache when the tagging's invalidation arrives, and
# the reload reads the tagging as committed, not as the transaction's
# snapshot saw it.
$node->safe_psql('postgres', q{
CREATE TABLE clin.rr (id int PRIMARY KEY, patient_id int);
INSERT INTO clin.rr VALUES (1, 88);
});
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$rr->query_safe('SELECT count(*) FROM clin.plain');
$node->safe_psql('postgres', "SELECT bh_audit.tag_table('clin.rr', 'Repeatable', 'id', 'patient_id')");
$rr->query_safe('SELECT patient_id FROM clin.rr WHERE id = 1');
$rr->query_safe('UPDATE clin.rr SET patient_id = 89 WHERE id = 1');
$rr->query_safe('COMMIT');
$rr->query_safe('SELECT patient_id FROM clin.rr WHERE id = 1');
$rr->quit;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{
SELECT action || '|' || patient_id FROM bh_audit.events
 WHERE resource_type = 'Repeatable' ORDER BY seq}),
	"READ|88\nUPDATE|89\nUPDATE|88\nREAD|89",
	'a repeatable read transaction older than the tagging: its read and its write (moving the row to another patient: both) are captured, '
	  . 'and the next read');

done_testing();
