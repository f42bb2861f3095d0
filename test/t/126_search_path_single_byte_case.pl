# bh_search_path_place() must split the search_path as PostgreSQL does.
# PostgreSQL downcases an unquoted name of the path with
# downcase_identifier(): A-Z, and, in a single-byte server encoding, any
# high-bit character that the locale's isupper() says is upper case.  In a
# LATIN1 database under de_DE.ISO-8859-1, a path set as "Ü, ta" (set_config,
# postgresql.conf, PGOPTIONS: text that no SQL lexer downcased) is the
# schema ü first: a failure naming notes unqualified is ü.notes's.
# Needs a LATIN1 locale: BH_LATIN1_LOCALE, or de_DE.ISO-8859-1 (the
# machine's, else one made with localedef: bh_locale).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $locale = $ENV{BH_LATIN1_LOCALE} // '';
$locale = bh_locale('de_DE.ISO-8859-1')
  // BAIL_OUT('no LATIN1 locale: localedef could not make de_DE.ISO-8859-1 (package locales)')
  if $locale eq '';

my $node = bh_node('search_path_latin1',
	init => { extra => [ '--encoding=LATIN1', "--locale=$locale", '--lc-messages=C' ] });
$node->safe_psql('postgres', q{
SET client_encoding = UTF8;
CREATE SCHEMA ta; CREATE SCHEMA "ü";
CREATE TABLE ta.notes (note_id int PRIMARY KEY, patient_id text);
CREATE TABLE "ü".notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('ta.notes', 'NoteA', 'note_id', 'patient_id');
SELECT bh_audit.tag_table('"ü".notes', 'NoteUml', 'note_id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
SET client_encoding = UTF8;
BEGIN;
SELECT bh_audit.set_context(actor_id => 'latin1');
SELECT count(*) FROM ta.notes; SELECT count(*) FROM "ü".notes;
SELECT set_config('search_path', 'Ü, ta', true);
SELECT array_to_string(current_schemas(false), ',');
SELECT nosuchcol FROM notes;
ROLLBACK;
});
like($stdout, qr/^ü,ta$/m, 'PostgreSQL searches ü first');
like($stderr, qr/column "nosuchcol" does not exist/, 'the statement fails');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SET client_encoding = UTF8;
SELECT string_agg(actor_id || ' ' || resource_type, ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND outcome <> 'SUCCESS'}),
	'latin1 NoteUml', 'the failure is ü.notes\'s, the table PostgreSQL found');
$node->stop;
done_testing();
