# In a SQL_ASCII database holding UTF-8 (the usual case: the application
# writes UTF-8 and the database checks nothing), the schema's limits count
# Unicode code points, as emit(), the validator and the canonical form read
# such bytes (recode.c: bh_recode_server_chars).  An id or a role within
# its limit in code points is kept whole; one over it is cut at a
# character, never inside one.  bh_truncate() counts such a database's
# bytes instead: a patient id of 200 two-byte characters (400 bytes) was cut
# to 253 bytes, half a character (U+FFFD in the ledger) and '...'.  A byte
# that starts no UTF-8 sequence is one code point (U+FFFD in the canonical
# form and the export), not none; tag_table() refuses a resource type over
# the tag catalog's CHECK (length() in bytes here) with its own error.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sql_ascii_limits', database => 'sa', create_database => 0, extension => 0);
$node->safe_psql('postgres',
	"CREATE DATABASE sa ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
# U+0416 (Cyrillic Zhe), two bytes in UTF-8
my $zhe = q{E'\\xd0\\x96'};
$node->safe_psql('sa', qq{
CREATE EXTENSION bh_audit;
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
INSERT INTO notes VALUES (1, repeat($zhe, 200)), (2, repeat($zhe, 300));
});
ok($node->poll_query_until('sa',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'"),
	'the sealer works in the SQL_ASCII database');
my $mark = bh_seal_mark($node, 'sa');
$node->safe_psql('sa', qq{
SELECT set_config('bh_audit.actor_roles', 'nurse,' || repeat($zhe, 60), false) IS NOT NULL;
SELECT count(*) FROM notes WHERE id = 1;
SELECT count(*) FROM notes WHERE id = 2;
RESET bh_audit.actor_roles;
SELECT bh_audit.emit('READ', 'Emitted', repeat($zhe, 200)) IS NOT NULL;
});
$node->safe_psql('sa', q{SET statement_timeout = '120s'; SELECT bh_audit.seal()});

is($node->safe_psql('sa', qq{
SELECT string_agg(action, ',' ORDER BY seq) FROM bh_audit.events
 WHERE resource_type = 'Note' AND patient_id = repeat($zhe, 200)}),
	'CREATE,READ',
	'a patient id of 200 code points (400 bytes) is kept whole, written and read');
is($node->safe_psql('sa', qq{
SELECT string_agg(action, ',' ORDER BY seq) FROM bh_audit.events
 WHERE resource_type = 'Note'
   AND patient_id = repeat($zhe, 253) || '...'}),
	'CREATE,READ',
	'a patient id of 300 code points is cut to 253 of them and "..."');
is($node->safe_psql('sa', qq{
SELECT count(*) FROM bh_audit.events
 WHERE resource_type = 'Emitted' AND resource_id = repeat($zhe, 200)}),
	'1', 'emit() takes a resource id of 200 code points (400 bytes), and it is kept whole');
is($node->safe_psql('sa', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND action = 'READ' AND resource_type = 'Note'
   AND event -> 'actor' -> 'roles' = jsonb_build_array('nurse', repeat($zhe, 60))}),
	'2', 'a role of 60 code points (120 bytes) is kept whole');
is($node->safe_psql('sa', q{
SELECT count(*) FROM bh_audit.export_jsonl() AS line
 WHERE (line LIKE '%"Note"%' OR line LIKE '%"Emitted"%') AND position(E'\\xef\\xbf\\xbd' IN line) > 0}),
	'0', 'no exported event holds half a character (U+FFFD)');
bh_chain_valid($node, 'sa');

# Bytes that start no UTF-8 sequence (a continuation byte without a lead,
# a lead its bytes do not follow) are one code point each, U+FFFD in the
# canonical form and the export: counted as one, and cut between.
my $stray = q{E'\\x80'};
my $cut2 = q{E'\\xe2\\x82'};	# a three-byte lead, one continuation, no third
my $mixed = q{E'\\xd0\\x96\\x80'};	# U+0416, then a stray byte
$mark = bh_seal_mark($node, 'sa');
$node->safe_psql('sa', qq{
INSERT INTO notes VALUES (3, repeat($stray, 300)), (4, repeat($cut2, 150)),
  (5, repeat($mixed, 80)), (6, repeat($mixed, 150));
SELECT count(*) FROM notes WHERE id >= 3;
});
$node->safe_psql('sa', q{SET statement_timeout = '120s'; SELECT bh_audit.seal()});
is($node->safe_psql('sa', qq{
SELECT string_agg(CASE patient_id
    WHEN repeat($stray, 253) || '...' THEN 'stray cut'
    WHEN repeat($cut2, 126) || E'\\xe2...' THEN 'lead cut'
    WHEN repeat($mixed, 80) THEN 'mixed whole'
    WHEN repeat($mixed, 126) || E'\\xd0\\x96...' THEN 'mixed cut'
    ELSE 'other: ' || length(patient_id) END, ',' ORDER BY action, seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note'}),
	'stray cut,lead cut,mixed whole,mixed cut,stray cut,lead cut,mixed whole,mixed cut',
	'bytes that start no UTF-8 sequence count one code point each (CREATE and READ)');
is($node->safe_psql('sa', qq{
SELECT count(*) FROM bh_audit.export_jsonl() AS line
 WHERE position(repeat(E'\\xef\\xbf\\xbd', 253) || '...' IN line) > 0
   AND position(repeat(E'\\xef\\xbf\\xbd', 254) IN line) = 0}),
	'4', 'the stray bytes export as 253 U+FFFD and "..." (the stray and the cut leads, CREATE and READ)');
my ($ret, undef, $err) = $node->psql('sa',
	qq{SELECT bh_audit.emit('READ', 'Emitted', repeat($stray, 300))});
like($err, qr/resource_id is longer than 256 characters/,
	'emit() refuses a resource id of 300 stray bytes (300 U+FFFD)');
is($node->safe_psql('sa', qq{
SELECT string_agg(v.message, ',') FROM bh_audit.events e,
  bh_audit.validation_errors(jsonb_set(e.event, '{resource,id}', to_jsonb(repeat($stray, 257)))) v
 WHERE e.seq = (SELECT max(seq) FROM bh_audit.events WHERE resource_type = 'Note')}),
	'is longer than 256 characters (maxLength)',
	'the validator counts 257 stray bytes as 257 code points');
($ret, undef, $err) = $node->psql('sa', qq{
CREATE TABLE rt229 (id int PRIMARY KEY);
SELECT bh_audit.tag_table('rt229', repeat($zhe, 100), 'id')});
like($err, qr/resource_type must be 1 to 128 bytes in a SQL_ASCII database/,
	'tag_table() refuses a resource type of 100 two-byte characters with its own error, before the catalog\'s CHECK');

done_testing();
