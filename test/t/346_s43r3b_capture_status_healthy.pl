# capture_status() on a healthy install reports nothing: after a restart,
# a reload, a crash-restart (shared memory made again: bh_audit.enabled
# published again by the postmaster), and after pg_upgrade (pg_dump
# --binary-upgrade restores its helper functions member by member: each
# must still be judged the library's C function, its probin as stored).
# bh_audit.enabled switched off and on again by ALTER SYSTEM and a reload
# is reported exactly while it is off, a session's SET changes nothing.
# The caller is a member of bh_audit_reader, as documented (a superuser
# for the session's SET).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = bh_node('s43r3b_healthy_old', database => 'clinic', conf => "restart_after_crash = on\n");
$old->safe_psql('clinic', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
});

sub status
{
	my ($node, $sql, $user) = @_;
	my ($ret, $out, $err) = $node->psql('clinic',
		($sql // '') . q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
		extra_params => [ '-U', $user // 'auditor' ]);
	note("capture_status():\n$out\n$err");
	return "$out$err";
}

sub reload_and_wait
{
	my ($node, $value) = @_;
	$node->reload;
	$node->poll_query_until('clinic', qq{SELECT current_setting('bh_audit.enabled') = '$value'})
	  or die 'the reload did not take';
}

sub crash_restart
{
	my ($node) = @_;
	my $bg = $node->background_psql('clinic');
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	my $offset = -s $node->logfile;
	kill 'KILL', $pid;
	$node->wait_for_log(qr/all server processes terminated; reinitializing/, $offset);
	$node->poll_query_until('clinic', 'SELECT true') or die 'no restart';
	eval { $bg->quit };
}

is(status($old), '', 'capture_status() is empty as installed');
$old->restart;
is(status($old), '', 'capture_status() is empty after a restart');
$old->safe_psql('clinic', q{ALTER SYSTEM SET bh_audit.enabled = off});
reload_and_wait($old, 'off');
like(status($old), qr/^\|bh_audit\.enabled is off in the server's configuration \(postgresql\.auto\.conf line \d+\)/m,
	'bh_audit.enabled off by ALTER SYSTEM and a reload is reported');
like(status($old, 'SET bh_audit.enabled = on;', $old->safe_psql('clinic', 'SELECT current_user')), qr/^\|bh_audit\.enabled is off in the server's configuration: capture is off/m,
	'a session\'s SET bh_audit.enabled = on does not hide the server\'s off');
crash_restart($old);
like(status($old), qr/^\|bh_audit\.enabled is off in the server's configuration/m,
	'still reported off after a crash-restart');
$old->safe_psql('clinic', q{ALTER SYSTEM RESET bh_audit.enabled});
reload_and_wait($old, 'on');
is(status($old), '', 'capture_status() is empty once ALTER SYSTEM RESET is reloaded');
crash_restart($old);
is(status($old), '', 'capture_status() is empty after a crash-restart');
$old->stop;

my ($new, $ok) = bh_pg_upgrade($old, 's43r3b_healthy_new', 'clinic');
SKIP:
{
	skip 'no upgraded cluster', 1 unless $ok;
	$new->start;
	is(status($new), '', 'capture_status() is empty after pg_upgrade');
	$new->stop;
}

done_testing();
