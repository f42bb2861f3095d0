# Verification, the chain head and the export over a ledger whose key a
# superuser changed (accepted by PostgreSQL and by the extension): they
# must refuse clearly, as the sealer does (42P16, naming the key), and
# never crash the server nor answer from another order than seq's.
#
# src/verify.c scans the primary key of bh_audit.events with bigint scan
# keys and reads its seq as a bigint without checking that the key is a
# btree on seq of type bigint: with seq of type numeric it reports seqs
# that are pointers and, for a range, crashes (the btree compares the
# bigint key with numeric_cmp); with the key on another column it walks,
# anchors and ranges in that column's order.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('verify_ledger_key_altered', conf => "restart_after_crash = on\n");
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'd' || i, 'p1') FROM generate_series(1, 3) i;
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies before the change');

# Run call after the superuser's change alter, in a transaction rolled back;
# the result: its stderr, and whether the server crashed.
sub after_change
{
	my ($alter, $call) = @_;
	my $offset = -s $node->logfile;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
\\set VERBOSITY verbose
BEGIN;
$alter;
$call;
ROLLBACK;
}, on_error_stop => 1);
	my $crashed = $err =~ /server closed the connection|connection to server was lost/;

	if ($crashed)
	{
		# wait for the postmaster's restart, then for logins
		for (1 .. 600)
		{
			last
			  if slurp_file($node->logfile, $offset) =~
			  /all server processes terminated; reinitializing/;
			select(undef, undef, undef, 0.1);
		}
		bh_wait_ready($node, 'postgres');
	}
	return ($err, $crashed);
}

my @changes = (
	[ 'seq of type numeric',
	  'ALTER TABLE bh_audit.events ALTER COLUMN seq TYPE numeric' ],
	[ 'the key on event_id',
	  'ALTER TABLE bh_audit.events DROP CONSTRAINT events_pkey; '
	  . 'ALTER TABLE bh_audit.events ADD PRIMARY KEY (event_id)' ],
	[ 'the key on another bigint column',
	  'ALTER TABLE bh_audit.events ADD COLUMN k bigint GENERATED ALWAYS AS (-seq) STORED; '
	  . 'ALTER TABLE bh_audit.events DROP CONSTRAINT events_pkey; '
	  . 'ALTER TABLE bh_audit.events ADD PRIMARY KEY (k)' ]);
my @calls = (
	'SELECT * FROM bh_audit.verify_chain()',
	'SELECT * FROM bh_audit.verify_chain(1, 2)',
	'SELECT * FROM bh_audit.chain_failures(2)',
	'SELECT * FROM bh_audit.chain_head()',
	'SELECT bh_audit.export_jsonl(1, 1)');

foreach my $change (@changes)
{
	foreach my $call (@calls)
	{
		my ($err, $crashed) = after_change($change->[1], $call);
		ok(!$crashed, "$change->[0]: $call does not crash the server");
		like($err, qr/ERROR:  42P16: .*bh_audit\.events/,
			"$change->[0]: $call is refused, naming the ledger's key (42P16)");
	}
}

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies again with its key as installed');

done_testing();
