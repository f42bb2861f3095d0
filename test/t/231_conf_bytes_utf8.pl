# A setting from postgresql.conf that is not valid UTF-8 (a service name
# saved by a LATIN1 editor, 'Clínica' with 0xED) must not make the events
# of a UTF8 database invalid.  The postmaster checks such a value
# (context.c bh_check_event_text()) before any database's encoding is
# known, as SQL_ASCII, where any byte passes; a backend of a UTF8 database
# then puts the bytes into every event as they are: the ledger's export
# fails the independent verifier (test/verify_jsonl.py: a hash mismatch on
# every event), and bh_truncate() counts them with pg_mbstrlen() (a byte
# 0xE2 as a character of 3 bytes, "\xe2AA" one character) where the
# validator and the export count 3, so service.environment of 30 such
# triplets (90 code points) is kept whole, over its maxLength of 64.
# Such a value is repaired where a backend's events take it, each byte
# that starts no character U+FFFD (as a SQL_ASCII event's bytes are), the
# context settings too (bh_audit.actor_id), and the server log names the
# setting, never the value.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';
my $node = bh_encoding_node('conf_bytes_utf8', 'UTF8', undef,
	conf => "bh_audit.service_name = 'Cl\xednica Norte'\n"
	  . "bh_audit.service_environment = '" . ("\xe2AA" x 30) . "'\n"
	  . "bh_audit.actor_id = 'dr.\xff'\n");
$node->safe_psql('audit', q{
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient');
INSERT INTO notes VALUES (1, 'p');
SELECT count(*) FROM notes;
});
is(bh_wait_sealed($node, 'audit', "resource_type = 'Note'", 2), 2,
	'the write and the read are sealed');
bh_chain_valid($node, 'audit');
is($node->safe_psql('audit', q{
SELECT DISTINCT (event -> 'service' ->> 'name') = 'Cl' || U&'\FFFD' || 'nica Norte',
       (event -> 'service' ->> 'environment') = repeat(U&'\FFFD' || 'AA', 20) || U&'\FFFD' || '...',
       (event -> 'actor' ->> 'subject_id') = 'dr.' || U&'\FFFD'
  FROM bh_audit.events WHERE resource_type = 'Note'}),
	't|t|t', 'each byte that starts no character is U+FFFD, and the limits count code points');
my $log = slurp_file($node->logfile);
ok($log =~ /the value of bh_audit\.service_name is not valid in the database encoding/
	  && $log =~ /the value of bh_audit\.actor_id is not valid in the database encoding/
	  && $log !~ /Cl\xednica/ && $log !~ /dr\.\xff/,
	'the server log names the settings repaired, not their values');
bh_export_verified($node, 'audit', 'conf_bytes_utf8');
done_testing();
