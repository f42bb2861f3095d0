# The extension installed by a superuser other than the bootstrap one (a
# DBA's own login), who leaves: REASSIGN OWNED BY the DBA TO the
# application's schema owner, a routine step before DROP OWNED BY, moves
# bh_audit.tags, bh_audit.queue and bh_audit.events to that role, which is
# no superuser.  It can then untag a table by deleting its tag row: the
# table's writes leave no event from then on, and nothing in the chain
# says capture was switched off, where untag_table() is recorded and
# editing the tag catalog is counted among a superuser's powers only
# (docs/threat-model.md).  Right: the ownership change refused or
# recorded, or the catalog edit refused or recorded.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE dba LOGIN SUPERUSER;
CREATE ROLE app_owner LOGIN;
SET ROLE dba;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE TABLE notes (id int, patient_id text);
GRANT INSERT ON notes TO app_owner;
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});
my $mark = bh_seal_mark($node, 'postgres');

# (PostgreSQL moves the extension's tables to app_owner; a fix may refuse it.)
$node->psql('postgres', 'REASSIGN OWNED BY dba TO app_owner');

# The new owner, no superuser, edits the tag catalog (if it still may).
$node->psql('postgres', q{DELETE FROM bh_audit.tags}, extra_params => [ '-U', 'app_owner' ]);
$node->safe_psql('postgres', q{INSERT INTO notes VALUES (1, 'pat_1')}, extra_params => [ '-U', 'app_owner' ]);
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

is($node->safe_psql('postgres', qq{SELECT
   (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND action = 'CREATE')
 + (SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND resource_type = 'AuditConfiguration') > 0}),
	't', 'the insert is recorded, or the switch-off (the ownership change or the catalog edit) is');

$node->stop;
done_testing();
