# A pg_dump of a database restored with psql (each COPY its own
# transaction) into the sealer's running database, as in t/242, but the
# database's schema was restored (its CREATE EXTENSION) and a GRANT on it
# made before the
# restore of its data (pg_dump --section=pre-data restored, GRANT CONNECT
# or ALTER DATABASE ... CONNECTION LIMIT, then --section=data).  The GRANT
# rewrites the database's pg_database row, a newer xmin than the home's row
# its CREATE EXTENSION wrote.  Exactly one ledger_continued, naming clinic,
# as without the GRANT (t/242): the home's row naming this database, with
# the mark the ledger's rows add, waits for the dump's home row
# (home.c bh_home_mark_carried deletes the rows older than the database's
# pg_database row, taking them for rows CREATE DATABASE copied from the
# template: this database's own row goes, the mark alone names an
# "unknown" home at once, and the dump's home row arrives too late).  Left
# open (operations.md): the granted and limit cases are TODO, the plain one
# passes.
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
$node->safe_psql('clinic', q{
CREATE TABLE notes (id int PRIMARY KEY, patient text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient', capture_reads => false);
INSERT INTO notes VALUES (1, 'p1'), (2, 'p2');
SELECT bh_audit.seal();
});
# the dump in two parts, as an administrator restoring the schema, then
# letting roles in, then the data does (pg_dump --section)
my %part;
foreach my $section ('pre-data', 'data')
{
	my $file = "$PostgreSQL::Test::Utils::tmp_check/clinic_$section.sql";
	$node->command_ok(['pg_dump', '-d', $node->connstr('clinic'), "--section=$section", '-f', $file],
		"pg_dump --section=$section of clinic");
	open(my $in, '<', $file) or die;
	my $sql = join('', <$in>);
	close $in;
	# a batch after each COPY (seal() waits for it), as in t/242
	$sql =~ s/^(\\\.\n)/$1SELECT bh_audit.seal();\n/mg;
	$part{$section} = "$PostgreSQL::Test::Utils::tmp_check/clinic_${section}_paced.sql";
	PostgreSQL::Test::Utils::append_to_file($part{$section}, $sql);
}

foreach my $case (['restored_plain', ''],
	['restored_granted', 'GRANT CONNECT ON DATABASE restored_granted TO PUBLIC'],
	['restored_limit', 'ALTER DATABASE restored_limit CONNECTION LIMIT 50'])
{
	my ($db, $change) = @$case;
	$node->safe_psql('postgres', qq{CREATE DATABASE $db});
	$node->append_conf('postgresql.conf', "bh_audit.database = '$db'");
	$node->restart;
	$node->safe_psql($db, 'SELECT 1');
	foreach my $section ('pre-data', 'data')
	{
		$node->command_ok(['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db),
				'-f', $part{$section}], "$db: $section restored with psql");
		$node->safe_psql('postgres', $change) if $change && $section eq 'pre-data';
	}
	$node->safe_psql($db, 'SELECT bh_audit.seal()');
	my $continued = $node->safe_psql($db,
		"SELECT count(*), string_agg(event->'metadata'->>'previous_database', ',') FROM bh_audit.events WHERE $moves");
  TODO:
	{
		# left open (operations.md), for the changed row only
		local $TODO = $change
		  ? "a pg_database row changed between the restore's CREATE EXTENSION and its data "
		  . "makes the restore's own home row look copied: the continuation names unknown, "
		  . 'not the dumped database'
		  : undef;
		is($continued, '1|clinic', "$db: one continuation, naming clinic")
		  or diag "$db: " . $node->safe_psql($db, $trail);
	}
	bh_chain_valid($node, $db);
}

$node->stop;
done_testing();
