# A column of bh_audit.events whose type a superuser changed stops the
# sealer with an ERROR naming it (no crash): the events wait, seal() says
# why, and once the DBA sets the type back the sealer seals them, the chain
# intact (operations.md, "A damaged ledger").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_altered_repair');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'before', 'p1');
SELECT bh_audit.seal();
});

# what is changed, how, how the DBA repairs it, what the sealer logs
foreach my $case (
	[ 'seq', 'ALTER COLUMN seq TYPE numeric', 'ALTER COLUMN seq TYPE bigint',
		qr/ERROR:  column "seq" of bh_audit\.events has type numeric, not bigint/ ],
	# (uuid has no assignment cast from text, and a generated column takes
	# no USING: it is declared again)
	[ 'event_id', 'ALTER COLUMN event_id TYPE text',
		q{DROP COLUMN event_id, ADD COLUMN event_id uuid
		    GENERATED ALWAYS AS ((event ->> 'event_id')::uuid) STORED},
		qr/ERROR:  column "event_id" of bh_audit\.events has type text, not uuid/ ],
	[ 'ts', 'ALTER COLUMN ts TYPE timestamp', 'ALTER COLUMN ts TYPE timestamptz',
		qr/ERROR:  column "ts" of bh_audit\.events has type timestamp without time zone, not timestamp with time zone/ ],
	# a column added NOT NULL whose default is then dropped
	[ 'note', q{ADD COLUMN note text NOT NULL DEFAULT 'n/a';
		ALTER TABLE bh_audit.events ALTER COLUMN note DROP DEFAULT},
		'ALTER COLUMN note DROP NOT NULL',
		qr/ERROR:  the sealer cannot fill column "note" of bh_audit\.events: it is NOT NULL and the event gives it no value/ ])
{
	my ($col, $alter, $repair, $logged) = @$case;
	my $log_start = -s $node->logfile;
	$node->safe_psql('postgres', qq{
ALTER TABLE bh_audit.events $alter;
SELECT bh_audit.emit('READ', 'Doc', 'during_$col', 'p1');
});
	my ($ret, $out, $err) = $node->psql('postgres', 'SELECT bh_audit.seal()');
	is($ret, 3, "seal() fails after altering $col");
	like($err, qr/ERROR:  bh_audit\.seal\(\) cannot wait: the sealer does not seal\nDETAIL:  .*bh_audit\.events.*; events wait in the queue and the ring\./,
		"seal() says why after altering $col");
	like(slurp_file($node->logfile, $log_start), $logged,
		"the sealer's error names $col");
	unlike(slurp_file($node->logfile, $log_start), qr/terminated by signal/,
		"no process crashed after altering $col");
	is($node->safe_psql('postgres',
			qq{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'during_$col'}),
		'0', "nothing sealed after altering $col");

	$node->safe_psql('postgres', "ALTER TABLE bh_audit.events $repair");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	is($node->safe_psql('postgres',
			qq{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'during_$col'}),
		'1', "sealed once $col is repaired");
}
is($node->safe_psql('postgres',
		q{SELECT result, hash_mismatches, chain_gaps FROM bh_audit.verify_chain()}),
	'PASS|0|0', 'the chain verifies after the repairs');

$node->stop;
done_testing();
