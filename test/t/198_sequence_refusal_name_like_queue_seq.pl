# A refused nextval() of the queue's identity sequence is judged as it is
# raised (capture_failure.c, bh_sequence_refusal_judge): by the function
# raising it, bh_audit.queue_id_seq being locked by this transaction and
# open as the refusal is raised, and the name that ends PostgreSQL's message.  A transaction holds that lock once its
# events fill a queue row (a write of many rows of a tagged table), or
# after a refusal of the sequence itself that a handler caught.  Then a
# refused nextval() of a user's sequence whose name only ends in
# " queue_id_seq" ("x queue_id_seq", message "permission denied for
# sequence x queue_id_seq") must not be taken for a denial of the queue's
# sequence (another sequence named queue_id_seq: t/212).  Also (3.) the
# queue's sequence and the queue refused while a statement with parameters
# (extended query protocol) on a tagged table runs: their denials.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sequence_refusal_name_like_queue_seq');
$node->safe_psql('postgres', q{
CREATE ROLE app198 LOGIN;
CREATE SCHEMA c198;
GRANT USAGE ON SCHEMA c198 TO app198;
CREATE TABLE c198.pat (id int PRIMARY KEY, name text);
GRANT INSERT ON c198.pat TO app198;
SELECT bh_audit.tag_table('c198.pat', 'Patient198', 'id', 'id');
CREATE SEQUENCE c198."x queue_id_seq";
});

# DENIED events of the queue's sequence since mark, with their messages
sub seq_denials
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT count(*) || ':' || coalesce(string_agg(event -> 'outcome' ->> 'error_message', ',' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND outcome = 'DENIED'
   AND event -> 'metadata' ->> 'table' = 'bh_audit.queue_id_seq'});
}

# as app198, stderr kept
sub as_app
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		on_error_stop => 0, extra_params => [ '-U', 'app198' ]);
	return ($out, $err);
}

my $locked = q{SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()
  AND locktype = 'relation' AND relation = 'bh_audit.queue_id_seq'::regclass};

# 1. after a write that fills a queue row: the queue's sequence itself
# refused is its denial (the check can see one) ...
my $mark = bh_seal_mark($node, 'postgres');
my ($out, $err) = as_app(qq{
BEGIN;
INSERT INTO c198.pat SELECT g, 'n' FROM generate_series(1, 200) g;
$locked;
SELECT nextval('bh_audit.queue_id_seq');
ROLLBACK;
});
is($out, '1', 'the write took the lock on the queue\'s sequence');
like($err, qr/permission denied for sequence queue_id_seq/, 'nextval() refused');
is(seq_denials($mark), '1:permission denied for sequence queue_id_seq',
	'the refusal of the queue\'s sequence is its denial');

# ... and a sequence whose name only ends like it is none
$mark = bh_seal_mark($node, 'postgres');
($out, $err) = as_app(qq{
BEGIN;
INSERT INTO c198.pat SELECT g, 'n' FROM generate_series(1, 200) g;
$locked;
SELECT nextval('c198."x queue_id_seq"');
ROLLBACK;
});
is($out, '1', 'the write took the lock on the queue\'s sequence');
like($err, qr/permission denied for sequence x queue_id_seq/, 'nextval() refused');
is(seq_denials($mark), '0:', 'a refusal of "x queue_id_seq" is no denial of bh_audit.queue_id_seq');

# 2. after a refusal of the queue's sequence caught by a handler: that one
# only, not the later refusal of "x queue_id_seq" (currval() too)
$mark = bh_seal_mark($node, 'postgres');
($out, $err) = as_app(q{
BEGIN;
DO $$ BEGIN PERFORM nextval('bh_audit.queue_id_seq');
  EXCEPTION WHEN insufficient_privilege THEN NULL; END $$;
SELECT currval('c198."x queue_id_seq"');
ROLLBACK;
});
like($err, qr/permission denied for sequence x queue_id_seq/, 'currval() refused');
is(seq_denials($mark), '1:permission denied for sequence queue_id_seq',
	'one denial: the caught refusal of the queue\'s sequence only');

# 3. The same refusals raised while a client's statement with parameters
# (the extended query protocol, as applications send them) on a tagged table
# runs, as with the simple protocol (sql/99_own_relation_*): nextval() of the
# queue's sequence in its target list, the sequence's denial only; a LOCK
# TABLE of the queue in a function it calls, the queue's denial and the
# statement's FAILURE; the same caught in that function, the denial only
# (the statement went on), as any error caught there is no failure.  Before,
# each was the statement's FAILURE alone.
$node->safe_psql('postgres', q{
GRANT SELECT ON c198.pat TO app198;
INSERT INTO c198.pat VALUES (1, 'x');
CREATE FUNCTION c198.f_lock(t text) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'LOCK TABLE ' || t || ' IN ACCESS SHARE MODE'; RETURN 1; END $$;
CREATE FUNCTION c198.f_lock_caught(t text) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'LOCK TABLE ' || t || ' IN ACCESS SHARE MODE'; RETURN 1;
   EXCEPTION WHEN insufficient_privilege THEN RETURN -1; END $$;
CREATE FUNCTION c198.f_div_caught(d int) RETURNS int LANGUAGE plpgsql
AS $$ BEGIN RETURN 1 / d; EXCEPTION WHEN division_by_zero THEN RETURN -1; END $$;
});

my @extended = (
	[ 'nextval() in the target list', 2, qr/permission denied for sequence queue_id_seq/,
		"SELECT id, nextval('bh_audit.queue_id_seq') FROM c198.pat WHERE id = :v;\n",
		'UPDATE|DENIED|bh_audit.queue_id_seq' ],
	[ 'LOCK TABLE in a function', 2, qr/permission denied for table queue/,
		"BEGIN;\nSELECT c198.f_lock('bh_audit.queue') FROM c198.pat WHERE id = :v;\nROLLBACK;\n",
		'READ|DENIED|bh_audit.queue,READ|FAILURE|c198.pat' ],
	[ 'LOCK TABLE in a function, caught', 0, qr/^$/,
		"BEGIN;\nSELECT c198.f_lock_caught('bh_audit.queue') FROM c198.pat WHERE id = :v;\nCOMMIT;\n",
		'READ|DENIED|bh_audit.queue' ],
	# any error a function catches: the statement goes on, no FAILURE
	# ("Errors a function catches"), as with the simple protocol
	[ 'an error caught in a function', 0, qr/^$/,
		"SELECT c198.f_div_caught(0) FROM c198.pat WHERE id = :v;\n", '' ]);
for my $case (@extended)
{
	my ($name, $status, $error, $script, $events) = @$case;

	$mark = bh_seal_mark($node, 'postgres');
	$node->pgbench('-n -M extended -t 1 -D v=1 -U app198', $status, [qr{}], [$error],
		"extended protocol, $name: runs as expected",
		{ "extended_$name" =~ s/\W/_/gr => $script });
	is(bh_failures_in_order($node, 'postgres', $mark), $events, "extended protocol, $name: $events");
}

done_testing();
