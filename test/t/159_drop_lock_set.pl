# A drop of the extension (DROP EXTENSION bh_audit CASCADE, DROP SCHEMA
# bh_audit CASCADE, DROP OWNED BY its owner) takes the queue, the
# extension's relations and the tables with capture triggers together
# before PostgreSQL locks anything of it (config_guard.c,
# bh_lock_before_drop()).  The tables with capture triggers are those at
# the time it holds them all: a table tagged, or a partition created under
# a tagged table, while it waits is taken too, and a reader of that table
# whose first event comes then commits (else PostgreSQL's drop locks the
# table while the drop holds the queue: 40P01, the reader's writes lost).
# A DROP OWNED without CASCADE takes only the tables it drops (its roles'):
# one PostgreSQL refuses for another's tagged table does not wait for that
# table's readers first.  Nor does a drop PostgreSQL refuses at a schema
# the system requires named before bh_audit wait for writers holding events.
# lock_timeout bounds the drop's waits in all, which may be many short ones.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('droplockset', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
SET ROLE su2;
CREATE EXTENSION bh_audit;
RESET ROLE;
CREATE TABLE t1 (id int, pat text);
CREATE TABLE t3 (id int, pat text);
CREATE TABLE pt (id int, pat text) PARTITION BY RANGE (id);
CREATE TABLE pt_0 PARTITION OF pt FOR VALUES FROM (0) TO (10);
SELECT bh_audit.tag_table('t1', 'ST', 'id', 'pat');
SELECT bh_audit.tag_table('pt', 'ST', 'id', 'pat');
});
# the monitor in another database: one in this one would load its tag
# cache again (after a tagging) and wait for bh_audit.tags behind the drop
$node->safe_psql('postgres', 'CREATE DATABASE mon');
my $queue = $node->safe_psql('postgres', q{SELECT 'bh_audit.queue'::regclass::oid});
my $mon = $node->background_psql('mon');

sub wait_for
{
	my ($sql) = @_;
	return bh_poll_session($mon, $sql, 't');
}

# When the session $pid began to wait for the relation $rel (the epoch of
# pg_locks.waitstart), once it waits; '' if it does not within 30 s.
sub waitstart
{
	my ($pid, $rel) = @_;
	for (1 .. 300)
	{
		my $ws = $mon->query_safe(qq{SELECT extract(epoch FROM waitstart) FROM pg_locks
 WHERE locktype = 'relation' AND pid = $pid AND relation = $rel AND NOT granted});
		return $ws if $ws ne '';
		select(undef, undef, undef, 0.1);
	}
	return '';
}

# $change: run (uncommitted) in a transaction holding events, which the
# drop waits for (or, $apart, committed by another session while the drop
# waits for that transaction); $rel: the relation it tags or creates, which a reader
# holds before the drop gets the queue and writes (its first event) after.
sub stale_case
{
	my ($name, $change, $rel, $row, $apart) = @_;
	my $w = $node->background_psql('postgres', on_error_stop => 0);
	my $d = $node->background_psql('postgres', on_error_stop => 0);
	my $r = $node->background_psql('postgres', on_error_stop => 0);
	$r->query_safe(q{SET deadlock_timeout = '100ms'});
	$d->query_safe(q{SET deadlock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	$w->query_safe('BEGIN');
	$w->query_safe(q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')});
	$w->query_safe($change) unless $apart;
	$d->query_safe('BEGIN');
	$d->query_safe('SAVEPOINT s');
	my $dpid = $d->query_safe('SELECT pg_backend_pid()');
	$d->query_until(qr/started/,
		"\\echo started\nDROP EXTENSION bh_audit CASCADE;\n");
	ok(wait_for(qq{SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'relation'
 AND pid = $dpid AND relation = $queue AND NOT granted}),
		"$name: the drop waits for the transaction holding events");
	$node->safe_psql('postgres', $change) if $apart;	# committed while the drop waits
	$r->query_safe('BEGIN');
	$r->query_safe("SELECT count(*) FROM $rel");
	$w->query('COMMIT');
	is($w->{stderr}, '', "$name: the change commits");
	ok(wait_for(qq{SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'relation'
 AND pid = $dpid AND relation <> $queue AND mode = 'AccessExclusiveLock' AND NOT granted}),
		"$name: the drop waits for the reader of $rel");
	$r->query(qq{INSERT INTO $rel VALUES ($row, 'z')});
	$r->query('COMMIT');
	is($r->{stderr}, '', "$name: the reader's first event commits, no deadlock");
	$d->query('ROLLBACK TO s');
	$d->query('COMMIT');
	is($d->{stderr}, '', "$name: the drop completes (rolled back to its savepoint)");
	$_->quit foreach $w, $d, $r;
}

stale_case('a table tagged while the drop waits',
	q{SELECT bh_audit.tag_table('t3', 'ST', 'id', 'pat')}, 't3', 1);
stale_case('a partition created under a tagged table while the drop waits',
	q{CREATE TABLE pt_1 PARTITION OF pt FOR VALUES FROM (10) TO (20)}, 'pt_1', 11, 1);

# DROP OWNED BY su2 without CASCADE: t1's capture triggers depend on the
# extension and t1 is not su2's: PostgreSQL refuses it (2BP01) without
# locking t1, so the drop does not wait for t1's reader either: the
# reader holds t1 until the drop has ended, so a drop that waited for it
# would fail with the lock timeout instead (lock_timeout 60 s: no other
# wait of the drop's runs out).
{
	my $r = $node->background_psql('postgres');
	$r->query_safe('BEGIN');
	$r->query_safe('SELECT count(*) FROM t1');
	my ($ret, $out, $err) = $node->psql('postgres',
		q{SET lock_timeout = '60s'; DROP OWNED BY su2;});
	like($err, qr/ERROR:  cannot drop desired object\(s\) because other objects depend on them/,
		'DROP OWNED without CASCADE is refused by PostgreSQL (2BP01)');
	unlike($err, qr/lock timeout/, "... at once, not after waiting for t1's reader");
	$r->query_safe('COMMIT');
	$r->quit;
}

# DROP SCHEMA pg_catalog, bh_audit CASCADE: PostgreSQL refuses it at the
# first schema, before it locks the extension's objects.
{
	my $w = $node->background_psql('postgres');
	$w->query_safe('BEGIN');
	$w->query_safe(q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')});
	my ($ret, $out, $err) = $node->psql('postgres',
		q{SET lock_timeout = '3s'; DROP SCHEMA pg_catalog, bh_audit CASCADE;});
	like($err, qr/ERROR:  cannot drop schema pg_catalog because it is required by the database system/,
		'DROP SCHEMA pg_catalog, bh_audit is refused at once, not after waiting for the writer');
	$w->query_safe('COMMIT');
	$w->quit;
}

# lock_timeout bounds the drop's waits in all, not each: it waits 5 s for
# the queue (a transaction holding events, committed once pg_locks shows
# the drop's wait that long), then for t1 (its reader, which it found busy
# once it held the queue); each wait is shorter than lock_timeout (10 s),
# and the drop fails with PostgreSQL's lock timeout error once it has
# waited 10 s in all: its wait for t1 lasts 5 s or so (without this, 10 s).
# Timed by the server: from the waits' starts in pg_locks (waitstart) to
# the drop's end (state_change in pg_stat_activity).
{
	my $w = $node->background_psql('postgres');
	my $r = $node->background_psql('postgres');
	my $d = $node->background_psql('postgres', on_error_stop => 0);
	$d->query_safe(q{SET lock_timeout = '10s'});
	$d->query_safe('SET client_min_messages = warning');
	my $dpid = $d->query_safe('SELECT pg_backend_pid()');
	my $t1 = $node->safe_psql('postgres', q{SELECT 't1'::regclass::oid});
	$w->query_safe('BEGIN');
	$w->query_safe(q{SELECT bh_audit.emit('EXPORT', 'X', 'x1', 'p1')});
	$d->query_until(qr/started/,
		"\\echo started\nDROP EXTENSION bh_audit CASCADE;\n");
	my $queue_wait = waitstart($dpid, $queue);
	ok($queue_wait ne '', 'lock_timeout: the drop waits for the transaction holding events');
	$r->query_safe('BEGIN');
	$r->query_safe('SELECT count(*) FROM t1');
	ok(wait_for(qq{SELECT now() - waitstart >= interval '5 s' FROM pg_locks
 WHERE locktype = 'relation' AND pid = $dpid AND relation = $queue AND NOT granted}),
		'lock_timeout: ... for 5 s');
	$w->query_safe('COMMIT');
	my $t1_wait = waitstart($dpid, $t1);
	ok($t1_wait ne '', 'lock_timeout: then for the reader of t1');
	ok(wait_for(qq{SELECT state = 'idle' FROM pg_stat_activity WHERE pid = $dpid}),
		'lock_timeout: the drop ends');
	my $end = $mon->query_safe(
		"SELECT extract(epoch FROM state_change) FROM pg_stat_activity WHERE pid = $dpid");
	my $all = $end - $queue_wait;
	my $on_t1 = $end - $t1_wait;
	ok($all >= 9.9 && $on_t1 < 9.5,
		sprintf('lock_timeout: once it has waited 10 s in all (%.2f s, %.2f s of them for t1)',
			$all, $on_t1));
	my $lt = $d->query('SHOW lock_timeout');
	like($d->{stderr}, qr/ERROR:  canceling statement due to lock timeout/,
		'lock_timeout: the drop fails with the lock timeout error (55P03)');
	is($lt, '10s', 'lock_timeout: the session keeps its lock_timeout');
	$r->query_safe('COMMIT');
	is($node->safe_psql('postgres',
			q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'1', 'lock_timeout: the extension is still there');
	$_->quit foreach $w, $r, $d;
}

$mon->quit;
$node->stop;
done_testing();
