# An end-user context setting of invisible characters only (a no-break
# space, an ideographic space) in postgresql.conf is not refused, at start
# nor at a reload: the postmaster reads the file before any database
# encoding is known, for databases of every encoding, and a backend's
# refusal at a reload would leave it with another value than the backends
# started after it, which inherit the postmaster's.  Every process of the
# server so takes the same value (a session of a UTF8 database reads the
# file at a reload outside a transaction, as the sealer does), while SET of
# the same value in that database is refused, and a value of ASCII blanks
# in the file is still refused everywhere.  So for bh_audit.actor_roles,
# whose entries that show nothing are skipped when set in a session: in the
# file such an entry is kept, and events name it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# U+00A0 and U+3000 in UTF-8, as bytes in the file
my $node = bh_encoding_node('s45d_context_invisible_conf', 'UTF8', undef,
	conf => "bh_audit.actor_id = '\xc2\xa0'\n"
	  . "bh_audit.actor_roles = 'nurse,\xc2\xa0'\n");

# The actor's subject_id of an event queued now, compared with $expected (SQL).
sub actor_is
{
	my ($expected) = @_;
	return $node->safe_psql('audit', qq{
BEGIN;
SELECT bh_audit.emit('READ', 'S45dThing') IS NULL;
SELECT (e -> 'actor' ->> 'subject_id') = $expected FROM bh_audit.pending_events() e;
ROLLBACK;}, extra_params => [ '-t', '-A' ]);
}

my $sealer_sql =
  q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'bh_audit sealer'};
my $sealer = $node->safe_psql('audit', $sealer_sql);

is($node->safe_psql('audit', q{SELECT current_setting('bh_audit.actor_id') = E'\u00a0'}),
	't', 'a no-break space in postgresql.conf is taken at start');
like(actor_is(q{E'\u00a0'}), qr/^f\nt$/m, 'and events name it');
unlike(slurp_file($node->logfile), qr/shows no character/,
	'nothing is refused at start');

# actor_roles: the file's entry of a no-break space kept; the same list set
# in the session has it skipped
my $roles_sql = q{
BEGIN;
SELECT bh_audit.emit('READ', 'S45dThing') IS NULL;
SELECT (e -> 'actor' -> 'roles') = jsonb_build_array('nurse', E'\u00a0')
  FROM bh_audit.pending_events() e;
ROLLBACK;};
like($node->safe_psql('audit', $roles_sql, extra_params => [ '-t', '-A' ]),
	qr/^f\nt$/m, 'a role of a no-break space in postgresql.conf is recorded');
like($node->safe_psql('audit', q{SET bh_audit.actor_roles = E'nurse,\u00a0';
BEGIN;
SELECT bh_audit.emit('READ', 'S45dThing') IS NULL;
SELECT (e -> 'actor' -> 'roles') = '["nurse"]' FROM bh_audit.pending_events() e;
ROLLBACK;}, extra_params => [ '-t', '-A' ]),
	qr/^f\nt$/m, 'set in the session, it is skipped');

# a session started before the reload reads the file as it goes on, in
# its UTF8 database, outside a transaction
my $before = $node->background_psql('audit');
is($before->query_safe(q{SELECT current_setting('bh_audit.actor_id') = E'\u00a0'}),
	't', 'a session started before the reload');
my $log_at = -s $node->logfile;
$node->append_conf('postgresql.conf', "bh_audit.actor_id = '\xe3\x80\x80'\n");
$node->reload;
ok($node->poll_query_until('audit',
		q{SELECT current_setting('bh_audit.actor_id') = E'\u3000'}),
	'an ideographic space is taken at reload');
is($before->query_safe(q{SELECT current_setting('bh_audit.actor_id') = E'\u3000'}),
	't', 'by the session started before it too');
$before->quit;
is($node->safe_psql('audit', $sealer_sql), $sealer,
	'the sealer, which read the file in a UTF8 database, still runs');
unlike(substr(slurp_file($node->logfile), $log_at), qr/shows no character/,
	'no process refused it');

# SET in the session: refused, the value of the file kept
my ($ret, $out, $err) = $node->psql('audit', q{SET bh_audit.actor_id = E'\u00a0';
SELECT current_setting('bh_audit.actor_id') = E'\u3000'},
	on_error_stop => 0, extra_params => [ '-t', '-A' ]);
like($err, qr/ERROR:  bh_audit\.actor_id shows no character\nDETAIL:  It holds only spaces or invisible characters\./,
	'SET of a no-break space is refused in the same database');
is($out, 't', 'the value of the file is kept');

# ASCII blanks in the file: refused at reload, the value before kept
$log_at = -s $node->logfile;
$node->append_conf('postgresql.conf', "bh_audit.actor_id = '  '\n");
$node->reload;
ok($node->wait_for_log(qr/bh_audit\.actor_id shows no character/, $log_at),
	'blanks are refused at reload');
is($node->safe_psql('audit', q{SELECT current_setting('bh_audit.actor_id') = E'\u3000'}),
	't', 'the value before is kept');

$node->stop;
done_testing();
