# Default privileges of the role that runs CREATE EXTENSION bh_audit (ALTER
# DEFAULT PRIVILEGES FOR ROLE ... GRANT ALL ON TABLES TO the application's
# login, a common set-up, without IN SCHEMA) are applied to the
# extension's tables as the script creates them: the application's login,
# no superuser and no member of bh_audit_reader or bh_audit_admin, can
# then read the ledger without a DENIED event, delete tag rows (untagging
# a table with no event: its writes go unrecorded from then on) and
# empty the queue of committed events not yet sealed.  Right: the
# extension's tables carry only the privileges the install script grants
# (PUBLIC none, bh_audit_reader SELECT on the ledger), whatever defaults
# the installing role has; and the application's writes keep their events.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO app;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO app;
ALTER DEFAULT PRIVILEGES GRANT ALL ON FUNCTIONS TO app;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SCHEMAS TO app;
CREATE ROLE other LOGIN;
CREATE EXTENSION bh_audit;
CREATE TABLE notes (id int, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

is($node->safe_psql('postgres', q{SELECT string_agg(c.relname || ':' || p.priv, ',' ORDER BY c.relname, p.priv)
   FROM pg_class c, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p(priv)
  WHERE c.relnamespace = 'bh_audit'::regnamespace AND c.relkind IN ('r', 'v')
    AND has_table_privilege('app', c.oid, p.priv)}),
	'', 'the application\'s login holds no privilege on the extension\'s tables');
is($node->safe_psql('postgres', q{SELECT string_agg(p.oid::regprocedure::text, ',' ORDER BY p.oid::regprocedure::text)
   FROM pg_proc p
  WHERE p.pronamespace = 'bh_audit'::regnamespace
    AND has_function_privilege('app', p.oid, 'EXECUTE') AND NOT has_function_privilege('other', p.oid, 'EXECUTE')}),
	'', 'the application\'s login may execute no function of the extension that any other role may not');
is($node->safe_psql('postgres', q{SELECT has_sequence_privilege('app', 'bh_audit.queue_id_seq', 'USAGE')
     OR has_sequence_privilege('app', 'bh_audit.queue_id_seq', 'UPDATE')
     OR has_schema_privilege('app', 'bh_audit', 'CREATE')}),
	'f', 'nor any privilege on the queue\'s identity sequence, nor CREATE in the extension\'s schema');

my $mark = bh_seal_mark($node, 'postgres');
# The application's login, with whatever it was given.
$node->psql('postgres', q{DELETE FROM bh_audit.tags}, extra_params => [ '-U', 'app' ]);
$node->safe_psql('postgres', q{INSERT INTO notes VALUES (1, 'pat_1')}, extra_params => [ '-U', 'app' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{SELECT
   (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'CREATE')
 + (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration') > 0}),
	't', 'the application\'s insert is recorded (or the switch-off is)');

# A forged event queued by the application's login.
$node->psql('postgres', q{INSERT INTO bh_audit.queue (events) VALUES (ARRAY['{"schema_version": "1.1", "event_id": "0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "postgresql"}, "actor": {"subject_id": "dr_forged", "subject_type": "human"}, "action": {"type": "READ"}, "resource": {"type": "Note", "id": "42", "patient_id": "pat_x"}, "outcome": {"status": "SUCCESS"}}'::jsonb])},
	extra_params => [ '-U', 'app' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE actor_id = 'dr_forged'}),
	'0', 'no event the application\'s login made up is chained');

$node->stop;
done_testing();
