# pg_write_all_data (PostgreSQL 14+) writes every table of every schema
# whatever its ACL: a role granted it (an ETL or migration login; in
# PostgreSQL 15 any role with CREATEROLE can grant it to itself) can delete
# rows of bh_audit.tags -- untagging a table with no event: its writes go
# unrecorded from then on -- and insert rows into bh_audit.queue, events
# of its own making that the sealer chains as genuine.  The threat model
# counts direct edits of the tag catalog and of the queue among a
# superuser's powers only, and names CREATEROLE as an actor.  Right: such
# edits refused (the extension's own code writes these tables), or
# recorded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE staff_admin LOGIN CREATEROLE;
CREATE TABLE notes (id int, patient_id text);
GRANT INSERT ON notes TO staff_admin;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');

# A CREATEROLE role, no superuser, gives itself pg_write_all_data.
$node->psql('postgres', q{GRANT pg_write_all_data TO staff_admin}, extra_params => [ '-U', 'staff_admin' ]);
is($node->safe_psql('postgres', q{SELECT pg_has_role('staff_admin', 'pg_write_all_data', 'USAGE')}),
	't', 'PostgreSQL 15 lets a CREATEROLE role grant itself pg_write_all_data');

$node->psql('postgres', q{DELETE FROM bh_audit.tags}, extra_params => [ '-U', 'staff_admin' ]);
$node->safe_psql('postgres', q{INSERT INTO notes VALUES (1, 'pat_1')}, extra_params => [ '-U', 'staff_admin' ]);
$node->psql('postgres', q{INSERT INTO bh_audit.queue (events) VALUES (ARRAY['{"schema_version": "1.1", "event_id": "0f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "postgresql"}, "actor": {"subject_id": "dr_forged", "subject_type": "human"}, "action": {"type": "READ"}, "resource": {"type": "Note", "id": "42", "patient_id": "pat_x"}, "outcome": {"status": "SUCCESS"}}'::jsonb])},
	extra_params => [ '-U', 'staff_admin' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', qq{SELECT
   (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'CREATE')
 + (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration') > 0}),
	't', 'the insert is recorded, or the tag catalog edit is');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE actor_id = 'dr_forged'}),
	'0', 'no event the role made up is chained');

# The same role, with pg_read_all_data too, appends an event of its own
# making to the ledger as the next link of the chain (the ledger's guard
# accepts a row that continues the chain exactly, as a restore's).
$node->psql('postgres', q{GRANT pg_read_all_data TO staff_admin}, extra_params => [ '-U', 'staff_admin' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
my ($rc, $out, $err) = $node->psql('postgres', q{
LOCK TABLE bh_audit.events IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO bh_audit.events (seq, event, hash_alg, prev_event_hash, event_hash)
SELECT h.seq + 1, f.ev, 'sha256', h.event_hash, bh_audit.event_hash(f.ev::json, h.event_hash)
  FROM (SELECT seq, event_hash FROM bh_audit.events ORDER BY seq DESC LIMIT 1) h,
       (SELECT '{"schema_version": "1.1", "event_id": "1f4b5c3e-8d1a-4e6f-9a2b-3c4d5e6f7a8b", "timestamp": "2026-03-11T18:43:10.123Z", "service": {"name": "postgresql"}, "actor": {"subject_id": "dr_forged_ledger", "subject_type": "human"}, "action": {"type": "READ"}, "resource": {"type": "Note", "id": "42", "patient_id": "pat_x"}, "outcome": {"status": "SUCCESS"}}'::jsonb AS ev) f},
	extra_params => [ '-U', 'staff_admin', '-v', 'ON_ERROR_STOP=1', '-1' ]);
like($err, qr/cannot change bh_audit\.events: only the extension and superusers write it/,
	'the role\'s append to the ledger is refused');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.events WHERE actor_id = 'dr_forged_ledger'}),
	'0', 'no event the role appended to the ledger is there');

$node->stop;
done_testing();
