# capture_status() reports a guard trigger of the extension's own tables
# that does not fire (docs/sql-reference.md, docs/operations.md): disabled,
# or, for those that must also fire for a replication apply, not enabled
# ALWAYS.  The two guards that fire in ordinary sessions only, the tag
# catalog's tags_changed (a restore's COPY of tags reaching every backend's
# tag cache) and the queue's queue_restored (a restore's queue rows moving
# the identity past them), are judged for DISABLE only: ENABLE REPLICA
# TRIGGER, which makes a trigger fire only under session_replication_role =
# replica, i.e. never in an ordinary session, is allowed with the preload
# and left unreported.  The caller is a member of bh_audit_reader.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43rf_guard_replica');
$node->safe_psql('postgres', 'CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader');

sub status
{
	my $out = $node->safe_psql('postgres',
		q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
		extra_params => [ '-U', 'auditor' ]);
	note("capture_status():\n$out");
	return $out;
}

is(status(), '', 'capture_status() is empty to begin with');

for my $g ([ 'bh_audit.tags', 'tags_changed' ], [ 'bh_audit.queue', 'queue_restored' ])
{
	my ($tbl, $name) = @$g;
	$node->safe_psql('postgres', "ALTER TABLE $tbl ENABLE REPLICA TRIGGER $name");
	is($node->safe_psql('postgres',
		"SELECT tgenabled FROM pg_trigger WHERE tgrelid = '$tbl'::regclass AND tgname = '$name'"),
		'R', "$name fires only under session_replication_role = replica");
	like(status(), qr/^\Q$tbl\E\|.* trigger \Q$name\E /m,
		"capture_status() reports $name enabled for replica sessions only");
	$node->safe_psql('postgres', "ALTER TABLE $tbl ENABLE TRIGGER $name");
	is(status(), '', "capture_status() is empty again once $name is enabled");
}

done_testing();
