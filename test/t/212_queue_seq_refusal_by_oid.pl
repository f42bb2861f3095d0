# A refusal of the queue's identity sequence is told by the sequence the
# queue owns (by its OID), not by the name it was installed with
# (capture_failure.c, bh_sequence_refusal_judge): the name PostgreSQL's
# message gives stands for the sequences of that name in any schema, and the
# refusal is the queue's sequence's denial only where that one is the only
# one of them this transaction locked (the refused one is: PostgreSQL locks
# a sequence before it checks the privileges on it), or, of several locked,
# the only one open as the refusal is raised.
#  1. An application's table "queue" with a serial id has a sequence named
#     queue_id_seq too: its refusal (nextval(), currval(), setval()) in a
#     transaction that holds a lock on bh_audit.queue_id_seq (a write whose
#     events filled a queue row, or a caught refusal of the queue's sequence)
#     is no denial of the queue's sequence.  Before: a false DENIED each.
#  2. A refusal of the queue's sequence in a transaction that used the
#     application's sequence before is its denial all the same.
#  3. A rename by a superuser (ALTER SEQUENCE ... RENAME TO) is refused
#     (own_guard.c): the sequence keeps its name, its refusals their
#     denials.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('queue_seq_refusal_by_oid');
$node->safe_psql('postgres', q{
CREATE ROLE app212 LOGIN;
CREATE ROLE user212 LOGIN;
CREATE SCHEMA c212;
GRANT USAGE ON SCHEMA c212 TO app212, user212;
CREATE TABLE c212.pat (id int PRIMARY KEY, name text);
GRANT INSERT ON c212.pat TO app212, user212;
SELECT bh_audit.tag_table('c212.pat', 'Patient212', 'id', 'id');
CREATE TABLE c212.queue (id serial, note text);
GRANT INSERT ON c212.queue TO app212, user212;
GRANT USAGE ON SEQUENCE c212.queue_id_seq TO user212;
});

# DENIED events of the queue's sequence since mark, with their messages
sub seq_denials
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT count(*) || ':' || coalesce(string_agg(action || ' ' || (event -> 'outcome' ->> 'error_message'),
                                              ',' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND outcome = 'DENIED'
   AND event -> 'metadata' ->> 'table' = 'bh_audit.queue_id_seq'});
}

sub as_role
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		on_error_stop => 0, extra_params => [ '-U', $role ]);
	return ($out, $err);
}

my $locked = q{SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()
  AND locktype = 'relation' AND relation = 'bh_audit.queue_id_seq'::regclass};
my $fill = q{INSERT INTO c212.pat SELECT g, 'n' FROM generate_series(1, 200) g;};

# 1. the application's queue_id_seq refused, the queue's locked
for my $call ("nextval('c212.queue_id_seq')", "currval('c212.queue_id_seq')",
	"setval('c212.queue_id_seq', 5)")
{
	my $mark = bh_seal_mark($node, 'postgres');
	my ($out, $err) = as_role('app212', qq{
BEGIN;
$fill
$locked;
SELECT $call;
ROLLBACK;
});
	is($out, '1', "$call: the write took the lock on the queue's sequence");
	like($err, qr/permission denied for sequence queue_id_seq/, "$call refused");
	is(seq_denials($mark), '0:',
		"$call: the refusal of c212.queue_id_seq is no denial of bh_audit.queue_id_seq");
}

# ... after a caught refusal of the queue's sequence: that one only
my $mark = bh_seal_mark($node, 'postgres');
my ($out, $err) = as_role('app212', q{
BEGIN;
DO $$ BEGIN PERFORM nextval('bh_audit.queue_id_seq');
  EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
SELECT setval('c212.queue_id_seq', 5);
ROLLBACK;
});
like($err, qr/permission denied for sequence queue_id_seq/, 'setval() refused');
is(seq_denials($mark), '1:UPDATE permission denied for sequence queue_id_seq',
	'one denial: the caught refusal of the queue\'s sequence only');

# 2. the application's sequence used (and locked) first, then the queue's
# refused: its denial, with or without a write that locked it too
for my $before ('', $fill)
{
	$mark = bh_seal_mark($node, 'postgres');
	($out, $err) = as_role('user212', qq{
BEGIN;
INSERT INTO c212.queue (note) VALUES ('a');
$before
SELECT currval('bh_audit.queue_id_seq');
ROLLBACK;
});
	like($err, qr/permission denied for sequence queue_id_seq/, 'currval() of the queue\'s refused');
	is(seq_denials($mark), '1:READ permission denied for sequence queue_id_seq',
		'the refusal of the queue\'s sequence is its denial'
		  . ($before ? ', after a write too' : ''));
}

# 3. renamed by a superuser: refused (own_guard.c, bh_check_own_rename),
# so its refusals keep the name it was installed with
my ($ret, $rout, $rerr) = $node->psql('postgres',
	'ALTER SEQUENCE bh_audit.queue_id_seq RENAME TO queue_seq212');
like($rerr,
	qr/cannot rename bh_audit\.queue_id_seq: it belongs to extension bh_audit/,
	'a superuser\'s rename of the queue\'s sequence is refused');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_class WHERE relname = 'queue_seq212'}),
	'0', 'the queue\'s sequence keeps its name');
$mark = bh_seal_mark($node, 'postgres');
($out, $err) = as_role('app212', q{
SELECT nextval('bh_audit.queue_id_seq');
});
like($err, qr/permission denied for sequence queue_id_seq/, 'the sequence refused');
is(seq_denials($mark),
	'1:UPDATE permission denied for sequence queue_id_seq',
	'its refusal is its denial');

done_testing();
