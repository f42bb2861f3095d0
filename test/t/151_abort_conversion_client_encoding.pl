# Failures recorded as their transaction aborts, in databases whose
# encoding is not UTF-8, by clients whose client_encoding is not UTF8
# either (psql's default: the server's encoding).  The event's
# error_message is sanitised over UTF-8, and the conversion there needed
# the catalog (PostgreSQL caches only the conversions to and from the
# client's encoding), which the abort cannot read: "cannot perform encoding
# conversion outside a transaction", "AbortTransaction while in ABORT
# state", and the failure was neither sealed nor counted as dropped.
# Covered: failures in parse analysis, in the planner, in the executor and
# at COMMIT, in the sealer's database (LATIN1) and through the ring from
# another (EUC_JP), the statements holding non-ASCII characters (and, in
# EUC_JP, 0xA9A1, which has no UTF-8 equivalent).  The events' messages
# are the sanitised ones: the values are left out.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_encoding_node('abort_conversion', 'LATIN1', 'EUC_JP');

my $setup = q{
CREATE TABLE t_int (id bigint PRIMARY KEY, patient text, v int UNIQUE DEFERRABLE INITIALLY DEFERRED);
SELECT bh_audit.tag_table('t_int', 'Note', 'id', 'patient');
INSERT INTO t_int VALUES (1, 'p1', 1), (2, 'p2', 2);
};
{
	local $ENV{PGCLIENTENCODING} = 'EUC_JP';
	$node->safe_psql('clinic', "CREATE EXTENSION bh_audit; $setup");
}
{
	local $ENV{PGCLIENTENCODING} = 'LATIN1';
	$node->safe_psql('audit', $setup);
}
$node->safe_psql('audit', 'SELECT bh_audit.seal()');
my $before = $node->safe_psql('audit', 'SELECT max(seq) FROM bh_audit.events');

# Each statement in a session of its own: a failed abort leaves the session
# behind it in an unknown state.  Returns psql's stderr.
sub fails
{
	my ($db, $enc, $sql) = @_;
	local $ENV{PGCLIENTENCODING} = $enc;
	my ($ret, $out, $err) = $node->psql($db, $sql);
	isnt($ret, 0, "$db ($enc): fails: $sql");
	return $err;
}

# in LATIN1 bytes: é is \xe9
my @latin1 = (
	[ 'parse analysis', "SELECT * FROM t_int WHERE id = 'abc\xe9'::bigint;" ],
	[ 'planner', 'SELECT * FROM t_int WHERE id = 1/0;' ],
	[ 'executor', 'SELECT id / (v - v) FROM t_int;' ],
	[ 'COMMIT', "BEGIN; UPDATE t_int SET v = 1, patient = 'p\xe9' WHERE id = 2; COMMIT;" ],
);
foreach my $case (@latin1)
{
	my $err = fails('audit', 'LATIN1', $case->[1]);
	unlike($err, qr/outside a transaction|ABORT state/,
		"LATIN1, $case->[0]: the abort raises nothing of bh_audit's");
}
# in EUC_JP bytes: 患 is \xb4\xb5, 0xA9A1 has no UTF-8 equivalent
my @euc_jp = (
	[ 'parse analysis', "SELECT * FROM t_int WHERE id = 'abc\xb4\xb5\xa9\xa1'::bigint;" ],
	[ 'planner', 'SELECT * FROM t_int WHERE id = 1/0;' ],
	[ 'executor', 'SELECT id / (v - v) FROM t_int;' ],
	[ 'COMMIT', 'BEGIN; UPDATE t_int SET v = 1 WHERE id = 2; COMMIT;' ],
);
foreach my $case (@euc_jp)
{
	my $err = fails('clinic', 'EUC_JP', $case->[1]);
	unlike($err, qr/outside a transaction|ABORT state/,
		"EUC_JP, $case->[0]: the abort raises nothing of bh_audit's");
}

$node->safe_psql('audit', 'SELECT bh_audit.seal()');
bh_wait_sealed($node, 'audit', "outcome = 'FAILURE' AND event->'metadata' ? 'database'", 4);

{
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	is($node->safe_psql('audit', qq{
SELECT string_agg(coalesce(event->'metadata'->>'database', '-') || ' ' || action || ' ' ||
                  error_type || ': ' || (event->'outcome'->>'error_message'), E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $before AND outcome = 'FAILURE'}),
		join("\n",
			'- READ invalid_text_representation: invalid input syntax for type bigint: ""',
			'- READ division_by_zero: division by zero',
			'- READ division_by_zero: division by zero',
			'- UPDATE unique_violation: duplicate key value violates unique constraint ""',
			'clinic READ invalid_text_representation: invalid input syntax for type bigint: ""',
			'clinic READ division_by_zero: division by zero',
			'clinic READ division_by_zero: division by zero',
			'clinic UPDATE unique_violation: duplicate key value violates unique constraint ""'),
		'every failure is sealed, its message converted');
}
is($node->safe_psql('audit', 'SELECT events_dropped_total FROM bh_audit.stats()'), '0',
	'nothing dropped');
{
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	is($node->safe_psql('clinic', q{
SELECT bh_audit.sanitize_error_message('bad ' || convert_from('\xb4b5a9a1'::bytea, 'EUC_JP') || ' 123-45-6789')}),
		'bad 患? [REDACTED-SSN]', 'sanitize_error_message() takes 0xA9A1 as ?');
}
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'the chain verifies');
{
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	bh_export_verified($node, 'audit', 'abort_conversion');
}
ok(!$node->log_contains(qr/outside a transaction|AbortTransaction while in ABORT state/),
	'the server log has no failed abort');

$node->stop;
done_testing();
