# tagging.md: every ALTER SYSTEM / ALTER ROLE ... SET / ALTER DATABASE ...
# SET of a bh_audit setting is recorded.  Those settings are the cluster's
# (pg_db_role_setting is shared, postgresql.auto.conf is the server's), so
# the same statements made while connected to another database (without
# the extension, or with it but not the sealer's) take effect where it
# captures: they are recorded as there, through the ring once their
# transaction has committed, and a rollback (of the transaction or of a
# savepoint, or a commit that fails) leaves nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('settings_from_other_database',
	conf => "max_prepared_transactions = 2\nbh_audit.ring_size = '64kB'\n");
$node->safe_psql('postgres', q{
CREATE DATABASE other;
CREATE ROLE sneak LOGIN;
GRANT SET ON PARAMETER bh_audit.enabled TO sneak;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text, body text);
INSERT INTO notes VALUES (1, 'p1', 'a'), (2, 'p2', 'b');
GRANT SELECT, UPDATE ON notes TO sneak;
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
});

# the setting events since a mark, one line each
sub settings_since
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT concat_ws(' | ', event -> 'resource' ->> 'id', event -> 'metadata' ->> 'change',
       event -> 'metadata' ->> 'value', coalesce(event -> 'metadata' ->> 'setting_role', '-'),
       coalesce(event -> 'metadata' ->> 'setting_database', '-'),
       coalesce(event -> 'metadata' ->> 'database', '-'), event -> 'actor' ->> 'subject_id')
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'AuditConfiguration'
 ORDER BY seq});
}

# an unprivileged role, and a database's default, from the other database
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('other', q{
ALTER ROLE CURRENT_USER IN DATABASE postgres SET bh_audit.enabled = off;
ALTER ROLE CURRENT_USER IN DATABASE postgres SET bh_audit.actor_id = 'dr_someone';
}, extra_params => [ '-U', 'sneak' ]);
$node->safe_psql('other', q{ALTER DATABASE postgres SET bh_audit.actor_roles = 'chief'});
is(settings_since($mark), join("\n",
	'bh_audit.enabled | ALTER ROLE | off | sneak | postgres | other | sneak',
	'bh_audit.actor_id | ALTER ROLE | dr_someone | sneak | postgres | other | sneak',
	'bh_audit.actor_roles | ALTER DATABASE | chief | - | postgres | other | postgres'),
	'stored defaults set from another database are recorded, naming it');

# the switch took effect, and was recorded first: the reads are not captured
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', 'SELECT * FROM notes', extra_params => [ '-U', 'sneak' ]);
is($node->safe_psql('postgres', qq{SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events WHERE seq > $mark}), "t\n0",
	'the stored switch applies in the sealer\'s database');

# rolled back, whole or to a savepoint: nothing; a failing statement: nothing
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('other', q{
BEGIN;
ALTER ROLE sneak SET bh_audit.actor_type = 'service';
ROLLBACK;
BEGIN;
SAVEPOINT s;
ALTER ROLE sneak SET bh_audit.actor_org_id = 'org-1';
ROLLBACK TO SAVEPOINT s;
SAVEPOINT t;
ALTER ROLE sneak SET bh_audit.owner_org_id = 'org-2';
RELEASE SAVEPOINT t;
ALTER ROLE sneak RESET bh_audit.enabled;
COMMIT;
});
my ($rc, $out, $err) = $node->psql('other',
	q{ALTER ROLE no_such_role SET bh_audit.actor_id = 'x'});
like($err, qr/role "no_such_role" does not exist/, 'a failing ALTER fails as before');
is(settings_since($mark), join("\n",
	'bh_audit.owner_org_id | ALTER ROLE | org-2 | sneak | - | other | postgres',
	'bh_audit.enabled | ALTER ROLE RESET | default | sneak | - | other | postgres'),
	'a rolled-back ALTER, whole or to a savepoint, and a failing one leave nothing');
# (sneak's stored enabled = off for database postgres stays: RESET without
# IN DATABASE removes the setting for all databases, none here)

# RESET ALL from the other database: one event per bh_audit setting it removes
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('other', q{ALTER ROLE sneak IN DATABASE postgres RESET ALL});
is(settings_since($mark), join("\n",
	'bh_audit.enabled | ALTER ROLE RESET ALL | default | sneak | postgres | other | postgres',
	'bh_audit.actor_id | ALTER ROLE RESET ALL | default | sneak | postgres | other | postgres'),
	'ALTER ROLE ... RESET ALL records each bh_audit setting it removes');

# the server's settings, from the other database
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('other', q{ALTER SYSTEM SET bh_audit.log_connections = on});
$node->safe_psql('other', q{ALTER SYSTEM SET shared_preload_libraries = ''});
$node->safe_psql('other', q{ALTER SYSTEM RESET ALL});
is(settings_since($mark), join("\n",
	'bh_audit.log_connections | ALTER SYSTEM | on | - | - | other | postgres',
	'shared_preload_libraries | preload_removed | "" | - | - | other | postgres',
	'bh_audit.log_connections | ALTER SYSTEM RESET ALL | default | - | - | other | postgres'),
	'ALTER SYSTEM from another database is recorded, a removal of the preload too');

# a transaction holding such an event cannot be prepared
($rc, $out, $err) = $node->psql('other', q{
BEGIN;
ALTER ROLE sneak SET bh_audit.actor_id = 'prepared';
PREPARE TRANSACTION 'p1';
});
like($err, qr/cannot PREPARE a transaction that changed bh_audit's stored settings outside bh_audit.database/,
	'PREPARE TRANSACTION refused');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
	   WHERE r.rolname = 'sneak' AND array_to_string(s.setconfig, ',') LIKE '%prepared%'}),
	'0', 'and its change was not made');

# a commit that fails after its pre-commit (a serializable transaction
# cancelled as the pivot of a write skew during its commit): nothing
$node->safe_psql('other', q{
CREATE TABLE ssi (id int PRIMARY KEY, v int);
INSERT INTO ssi VALUES (1, 0), (2, 0);
});
$mark = bh_seal_mark($node, 'postgres');
my $s1 = $node->background_psql('other', on_error_stop => 0);
my $s2 = $node->background_psql('other', on_error_stop => 0);
$s1->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE');
$s1->query_safe('SELECT sum(v) FROM ssi WHERE id = 1');
$s2->query_safe('BEGIN ISOLATION LEVEL SERIALIZABLE');
$s2->query_safe('SELECT sum(v) FROM ssi WHERE id = 2');
$s1->query_safe('UPDATE ssi SET v = 1 WHERE id = 2');
$s2->query_safe(q{ALTER ROLE sneak IN DATABASE postgres SET bh_audit.actor_id = 'dr_ghost'});
$s2->query_safe('UPDATE ssi SET v = 1 WHERE id = 1');
$s1->query_safe('COMMIT');
$s2->query('COMMIT');
like($s2->{stderr}, qr/could not serialize access/, 'the commit fails (pivot)');
$s1->quit;
$s2->quit;
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%dr_ghost%'}),
	'0', 'its change was not made');
is(settings_since($mark), '', 'and no event records it');

# under on_ring_full = error, a full ring fails the statement before the
# change (ALTER SYSTEM writes its file as it runs)
my $sealer = bh_stop_sealer($node, 'postgres');
$node->safe_psql('postgres', q{
CREATE TABLE fill (id int PRIMARY KEY, patient_id text);
INSERT INTO fill SELECT g, 'f' || g FROM generate_series(1, 50) g;
SELECT bh_audit.tag_table('fill', 'Fill', 'id', 'patient_id');
SET bh_audit.on_ring_full = drop;
DO $$ BEGIN FOR i IN 1..400 LOOP PERFORM * FROM fill WHERE id = i % 50 + 1; END LOOP; END $$;
});
($rc, $out, $err) = $node->psql('other',
	q{SET bh_audit.on_ring_full = error; ALTER SYSTEM SET bh_audit.actor_type = 'service'});
like($err, qr/bh_audit event ring is full/, 'ALTER SYSTEM fails: the ring is full');
my $auto = slurp_file($node->data_dir . '/postgresql.auto.conf');
kill 'CONT', $sealer;
unlike($auto, qr/bh_audit\.actor_type/, 'and has not changed postgresql.auto.conf');

# a database with the extension that is not the sealer's: recorded in the
# sealer's ledger, not queued where nothing seals it
$node->safe_psql('postgres', 'CREATE DATABASE insp');
$node->safe_psql('insp', 'CREATE EXTENSION bh_audit');
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('insp', q{ALTER ROLE sneak IN DATABASE postgres SET bh_audit.actor_id = 'dr_insp'});
is(settings_since($mark),
	'bh_audit.actor_id | ALTER ROLE | dr_insp | sneak | postgres | insp | postgres',
	'from a database whose queue is not sealed: through the ring');
is($node->safe_psql('insp', 'SELECT count(*) FROM bh_audit.queue'), '0', 'nothing queued there');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
$node->stop;
done_testing();
