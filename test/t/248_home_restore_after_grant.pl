# A pg_dump of a database restored with psql (each COPY its own
# transaction) into the sealer's running database, as in t/242, but with a
# change of the database made between the restore of its schema (its
# CREATE EXTENSION, which writes this database as the ledger's home) and of
# its data: pg_dump --section=pre-data restored, then GRANT CONNECT, ALTER
# DATABASE ... CONNECTION LIMIT, OWNER TO or RENAME TO (each gives the
# database's pg_database row a new xmin, newer than the home's row), ALTER
# DATABASE ... SET or COMMENT ON DATABASE (the row stays as it is), then
# --section=data.  Exactly one ledger_continued, naming clinic, in each
# case, as without the change: the home's row naming this database, with
# the mark the ledger's rows add, waits for the dump's home row.  home.c
# took every row of the home older than the pg_database row for one
# CREATE DATABASE copied from a template (bh_home_mark_carried): this
# database's own row went, the mark alone named an "unknown" home at once,
# and the dump's home row came too late (3 of the 7 "one continuation"
# checks failed before: granted, limit, owner; a renamed database's
# sealer, which can connect only after the rename, writes the home's row
# again by the new name first).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $moves = q{event->'metadata'->>'change' = 'ledger_continued'};
my $trail = q{SELECT string_agg(seq || ':' || coalesce(event->'metadata'->>'change', '')
  || ':' || coalesce(event->'metadata'->>'previous_database', ''), ' ' ORDER BY seq)
  FROM bh_audit.events};

my $node = bh_node('restore_after_grant', database => 'clinic');
$node->safe_psql('postgres', 'CREATE ROLE app');
bh_notes_ledger($node, 'clinic');
# the dump in two parts, as an administrator restoring the schema, then
# letting roles in, then the data does (pg_dump --section)
my %part = map { $_ => bh_paced_dump($node, 'clinic', "clinic_$_", args => ["--section=$_"]) }
  ('pre-data', 'data');

# [database, change between the parts, whether it rewrites the database's
# pg_database row, the database's name while the schema is restored]
foreach my $case (['restored_plain', '', 0],
	['restored_granted', 'GRANT CONNECT ON DATABASE restored_granted TO PUBLIC', 1],
	['restored_limit', 'ALTER DATABASE restored_limit CONNECTION LIMIT 50', 1],
	['restored_owner', 'ALTER DATABASE restored_owner OWNER TO app', 1],
	['restored_renamed', 'ALTER DATABASE restored_before RENAME TO restored_renamed', 1,
		'restored_before'],
	['restored_set', q{ALTER DATABASE restored_set SET work_mem = '8MB'}, 0],
	['restored_comment', q{COMMENT ON DATABASE restored_comment IS 'restored'}, 0])
{
	my ($db, $change, $rewrites, $created) = @$case;
	$created //= $db;
	$node->safe_psql('postgres', qq{CREATE DATABASE $created});
	# a database is renamed without sessions: the sealer's comes after
	$node->append_conf('postgresql.conf',
		'bh_audit.database = ' . ($created eq $db ? "'$db'" : "'postgres'"));
	$node->restart;
	$node->safe_psql($created, 'SELECT 1');
	bh_restore_file($node, $created, $part{'pre-data'}, 'pre-data restored with psql');
	if ($change)
	{
		my $row = qq{SELECT xmin FROM pg_database WHERE oid = (SELECT oid FROM pg_database WHERE datname = '$created')};
		my $before = $node->safe_psql('postgres', $row);
		$node->safe_psql('postgres', $change);
		my $oid = $node->safe_psql('postgres', "SELECT oid FROM pg_database WHERE datname = '$db'");
		my $after = $node->safe_psql('postgres', "SELECT xmin FROM pg_database WHERE oid = $oid");
		is($after ne $before ? 1 : 0, $rewrites,
			"$db: the change " . ($rewrites ? 'rewrites' : 'leaves') . ' its pg_database row');
	}
	if ($created ne $db)
	{
		$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
		$node->restart;
		# its first batch there writes the home's row again, by the new
		# name (newer than the rename: this case passed before too)
		$node->safe_psql($db, 'SELECT bh_audit.seal()');
	}
	bh_restore_file($node, $db, $part{data}, 'data restored with psql');
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	is($node->safe_psql($db,
			"SELECT count(*), string_agg(event->'metadata'->>'previous_database', ',') FROM bh_audit.events WHERE $moves"),
		'1|clinic', "$db: one continuation, naming clinic")
	  or diag "$db: " . $node->safe_psql($db, $trail);
	bh_chain_valid($node, $db);
}

$node->stop;
done_testing();
