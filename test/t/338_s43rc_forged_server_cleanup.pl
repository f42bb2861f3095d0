# A superuser's own drop of a tagged column must not be recorded as the
# server's clean-up of a crashed session's temporary schema.  PostgreSQL lets
# a superuser create a function (any object but a relation) in the
# temporary schema pg_temp_N of no live session, a clean exit's empty
# leftover; a session given that schema next cleans it out at its first
# temporary object (InitTempTableNamespace() -> RemoveTempRelations()),
# which config_guard.c's bh_dead_session_schema() takes for a crashed
# session's: no crash here, the objects are the superuser's of a moment
# before, and the drop is recorded as actor postgresql-server, db_user the
# bootstrap superuser, statement "temporary schema cleanup", without the
# end-user context the superuser set.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# (no autovacuum: its workers take backend ids too, the temporary
# schemas' numbers, below)
my $node = bh_node('main', conf => "autovacuum = off\n");
$node->safe_psql('postgres', q{
CREATE ROLE dba LOGIN SUPERUSER;
CREATE SCHEMA clinic;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient_id text, body text);
INSERT INTO clinic.notes VALUES (1, 'pat_1', 'a'), (2, 'pat_2', 'b');
ANALYZE clinic.notes;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient_id');
});
# a session with a temporary table, ended cleanly: its schema stays, empty
my $schema = $node->safe_psql('postgres', q{
CREATE TEMP TABLE t (x int);
SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()});
my $mark = bh_seal_mark($node, 'postgres');
# the same session: its CREATE TEMP TABLE drops the column
my ($ret, $out, $err) = $node->psql('postgres', qq{
SET bh_audit.actor_id = 'dba_actor';
CREATE FUNCTION $schema.mask_tmp(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS \$\$SELECT upper(\$1)\$\$;
ALTER TABLE clinic.notes ADD COLUMN masked text GENERATED ALWAYS AS ($schema.mask_tmp(body)) STORED;
CREATE TEMP TABLE scratch (x int);
SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema();
}, extra_params => [ '-U', 'dba' ]);
diag($err) if $err;
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my $ev = $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'actor' ->> 'subject_id',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'dropped_columns'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'});
my $refused = ($err =~ /ERROR/);
# either PostgreSQL's refusal of the objects (no column) or the drop
# recorded as the superuser's own statement, its end-user context kept
unlike($ev, qr/postgresql-server|temporary schema cleanup/,
	'no crash: the superuser\'s drop is not recorded as the server\'s clean-up');
ok($refused || $ev =~ /^UPDATE\|dba_actor\|dba\|[^|]+\|masked$/,
	'the column never made, or its drop recorded as the superuser\'s') or diag($ev);

# Another superuser session's objects in that empty schema, cleaned out by
# an unrelated login's first temporary table: recorded as the server's
# clean-up "triggered by" that login, the superuser named nowhere.  A
# session is given the temporary schema of the lowest backend id free: the
# schema's session starts once every other session but the superuser's has
# exited, and the bystander once it has (watched from the superuser's
# session: a session of the test's own would take that id meanwhile).
$node->safe_psql('postgres', q{CREATE ROLE bystander LOGIN});
$mark = bh_seal_mark($node, 'postgres');
my $dba = $node->background_psql('postgres', on_error_stop => 0,
	extra_params => [ '-U', 'dba' ]);
ok(bh_poll_session($dba, q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()}, '0'),
	'the other sessions have exited');
my $spid;
($schema, $spid) = split /\|/, $node->safe_psql('postgres', q{
CREATE TEMP TABLE t (x int);
SELECT nspname, pg_backend_pid() FROM pg_namespace WHERE oid = pg_my_temp_schema()});
$dba->query(qq{SET bh_audit.actor_id = 'dba_actor'});
$dba->query(qq{CREATE FUNCTION $schema.mask_tmp2(text) RETURNS text IMMUTABLE
  LANGUAGE sql AS \$\$SELECT lower(\$1)\$\$});
$dba->query(qq{ALTER TABLE clinic.notes ADD COLUMN masked2 text GENERATED ALWAYS AS ($schema.mask_tmp2(body)) STORED});
$dba->{stderr} = '';	# (the ALTER's refusal, if any: read from the catalog)
$refused = $dba->query_safe(q{
SELECT count(*) FROM pg_attribute
 WHERE attrelid = 'clinic.notes'::regclass AND attname = 'masked2'}) eq '0';
ok(bh_poll_session($dba, qq{SELECT count(*) FROM pg_stat_activity WHERE pid = $spid}, '0'),
	'the schema\'s session has exited');
($ret, $out, $err) = $node->psql('postgres', q{
CREATE TEMP TABLE scratch (x int);
SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema();
}, extra_params => [ '-U', 'bystander' ]);
is($ret, 0, 'the bystander creates a temporary table') or diag($err);
is($out, $schema, 'the bystander was given that schema');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$ev = $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, event -> 'actor' ->> 'subject_id',
                            event -> 'metadata' ->> 'db_user',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'triggered_by',
                            event -> 'metadata' ->> 'dropped_columns'), ';' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'UPDATE'});
diag($ev);
unlike($ev, qr/postgresql-server|temporary schema cleanup/,
	'no crash: the superuser\'s objects cleaned out are not the server\'s clean-up of a dead session');
ok($refused || $ev !~ /bystander/,
	'the bystander is not named for the superuser\'s drop') or diag($ev);
$dba->quit;
done_testing();
