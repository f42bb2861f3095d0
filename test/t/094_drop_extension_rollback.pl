# DROP EXTENSION bh_audit (or a cascade that drops it: DROP SCHEMA
# bh_audit CASCADE, DROP OWNED BY its owner CASCADE) narrows read capture
# at once in its session (no tag, no capture trigger is left): rolled back
# once the drop has taken
# effect, it is recorded through the ring all the same, as an
# AuditConfiguration DELETE of the extension marked rolled_back, which the
# sealer writes to the ledger that is there again.  A drop refused (tagged
# tables depend on it, no CASCADE) leaves nothing; a committed one removes
# the ledger, and nothing is pushed for it; a transaction holding such a
# drop cannot be prepared.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_extension_rollback', conf => "max_prepared_transactions = 2\n");
$node->safe_psql('postgres', q{
CREATE TABLE pt (id int PRIMARY KEY, pid text);
INSERT INTO pt VALUES (9, 'p9');
SELECT bh_audit.tag_table('pt', 'PT', 'id', 'pid');
});

# The configuration events after a mark: action, resource, change, cascade,
# rolled_back.
sub config_after
{
	my ($mark) = @_;
	return $node->safe_psql('postgres', qq{
SELECT bh_audit.seal() >= 0;
SELECT string_agg(concat_ws(' ', action, resource_id, event -> 'metadata' ->> 'change',
                            event -> 'metadata' ->> 'statement',
                            event -> 'metadata' ->> 'rolled_back'), E'\\n' ORDER BY seq)
  FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'AuditConfiguration'});
}

# Dropped, a tagged table read, rolled back.
my $mark = bh_seal_mark($node, 'postgres');
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
DROP EXTENSION bh_audit CASCADE;
SELECT pid FROM pt WHERE id = 9;
ROLLBACK;
SELECT count(*) FROM bh_audit.tagged_tables;
});
is($stdout, "p9\n1", 'the drop was rolled back: the table is tagged again');
is(config_after($mark), "t\nDELETE bh_audit extension_dropped DROP EXTENSION true",
	'the rolled-back drop is recorded, marked rolled_back');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND NOT bh_audit.validate_event(event)}), '0',
	'its event is valid');

# Refused without CASCADE: it never took effect.
$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
DROP EXTENSION bh_audit;
ROLLBACK;
});
like($stderr, qr/ERROR:  cannot drop extension bh_audit because other objects depend on it/,
	'DROP EXTENSION without CASCADE is refused');
is(config_after($mark), "t\n", 'a refused drop leaves nothing');

# In a savepoint rolled back, the transaction committing; and in a PL/pgSQL
# block whose exception handler rolls it back.
$mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', q{
BEGIN;
SAVEPOINT s;
DROP EXTENSION bh_audit CASCADE;
ROLLBACK TO s;
INSERT INTO pt VALUES (10, 'p10');
COMMIT;
DO $$
BEGIN
    DROP EXTENSION bh_audit CASCADE;
    RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN NULL;
END $$;
});
is(config_after($mark),
	"t\nDELETE bh_audit extension_dropped DROP EXTENSION true\n"
	  . "DELETE bh_audit extension_dropped DROP EXTENSION true",
	'a drop rolled back to a savepoint is recorded');
is($node->safe_psql('postgres', qq{
SELECT string_agg(action || ' ' || patient_id, ',' ORDER BY seq) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'PT'}), 'CREATE p10',
	'the transaction\'s own write is kept');

# Refused at PREPARE TRANSACTION, which rolls it back (recorded).
$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
DROP EXTENSION bh_audit CASCADE;
PREPARE TRANSACTION 'd';
});
like($stderr, qr/ERROR:  cannot PREPARE a transaction that narrowed bh_audit's read capture/,
	'a transaction holding the drop cannot be prepared');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_prepared_xacts'), '0',
	'nothing was prepared');
is(config_after($mark), "t\nDELETE bh_audit extension_dropped DROP EXTENSION true",
	'the drop the refused PREPARE rolled back is recorded');

# The extension dropped by a cascade: DROP SCHEMA bh_audit CASCADE, and
# DROP OWNED BY its owner (a second superuser's, in a database of its own;
# the ring takes the record to the sealer's ledger).
$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
DROP SCHEMA bh_audit CASCADE;
SELECT pid FROM pt WHERE id = 9;
ROLLBACK;
SELECT count(*) FROM bh_audit.tagged_tables;
});
is($stdout, "p9
1", 'DROP SCHEMA bh_audit CASCADE rolled back');
is(config_after($mark), "t
DELETE bh_audit extension_dropped DROP SCHEMA true",
	'the extension dropped by DROP SCHEMA ... CASCADE, rolled back, is recorded');
$node->safe_psql('postgres', 'CREATE ROLE su2 SUPERUSER LOGIN; CREATE DATABASE other2');
$node->safe_psql('other2', 'SET ROLE su2; CREATE EXTENSION bh_audit');
$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('other2', q{
BEGIN;
DROP OWNED BY su2 CASCADE;
SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit';
ROLLBACK;
});
is($stdout, '0', 'DROP OWNED BY its owner dropped the extension');
is(config_after($mark), "t
DELETE bh_audit extension_dropped DROP OWNED true",
	'the extension dropped by DROP OWNED ... CASCADE, rolled back, is recorded');

# A transaction that recorded changes cannot drop the extension: their
# events would go with the ledger.  Refused at the drop, which never takes
# effect (nothing recorded); a change rolled back to a savepoint holds no
# event and does not stand in the way.
$mark = bh_seal_mark($node, 'postgres');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
INSERT INTO pt VALUES (11, 'p11');
DROP EXTENSION bh_audit CASCADE;
});
like($stderr,
	qr/ERROR:  cannot drop extension bh_audit in a transaction that recorded changes\nDETAIL:  This transaction holds 1 event of changes to tagged tables or emit\(\) calls; they would be dropped with the ledger\.\nHINT:  Commit or roll back the transaction first, then drop the extension in a transaction of its own\./,
	'a drop after a recorded change is refused at the drop, clearly');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM bh_audit.tagged_tables;
SELECT count(*) FROM pt WHERE id = 11}), "1\n0", 'the table is still tagged, the change rolled back');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
UPDATE pt SET pid = pid WHERE id IN (9, 10);
DROP SCHEMA bh_audit CASCADE;
ROLLBACK;
});
like($stderr, qr/ERROR:  cannot drop extension bh_audit in a transaction that recorded changes\nDETAIL:  This transaction holds 2 events /,
	'so is DROP SCHEMA bh_audit CASCADE');
($ret, $stdout, $stderr) = $node->psql('postgres', q{
BEGIN;
SAVEPOINT a;
INSERT INTO pt VALUES (12, 'p12');
ROLLBACK TO a;
DROP EXTENSION bh_audit CASCADE;
SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit';
ROLLBACK;
});
is($stdout, '0', 'a change rolled back to a savepoint does not stand in the way');
is(config_after($mark), "t\nDELETE bh_audit extension_dropped DROP EXTENSION true",
	'the refused drops leave nothing; the drop rolled back is recorded');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');

# Committed: the ledger is gone with the extension, and nothing is pushed
# (a new ledger, created afterwards, holds no such event).
$node->safe_psql('postgres', 'DROP EXTENSION bh_audit CASCADE');
$node->safe_psql('postgres', 'CREATE EXTENSION bh_audit');
is($node->safe_psql('postgres', q{
SELECT bh_audit.seal() >= 0;
SELECT count(*) FROM bh_audit.events WHERE event -> 'metadata' ->> 'change' = 'extension_dropped'}),
	"t\n0", 'a committed drop pushes nothing');

$node->stop;
done_testing();
