# capture_status() judges bh_audit.enabled in the server's configuration by
# pg_file_settings, the files as they read now (fe7baa0), not by what is in
# force.  Both ways wrong:
# 1. postgresql.conf sets bh_audit.enabled = off and the server took it
#    (reload), then the file is edited back to on with no reload yet:
#    capture is off in every session, and capture_status() is empty.
# 2. the postmaster's command line sets bh_audit.enabled = on (it outranks
#    the files, and a reload does not change it), postgresql.conf says off:
#    capture is on in every session, and capture_status() reports
#    "postgresql.conf line N sets bh_audit.enabled = 'off': capture is off
#    for the whole server once reloaded" (pg_file_settings marks an entry
#    applied also when a higher source keeps the value).
# The caller is a member of bh_audit_reader, as documented.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43rf_file_settings');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
INSERT INTO notes VALUES (1, 'p1');
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

sub status
{
	my $out = $node->safe_psql('postgres',
		q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
		extra_params => [ '-U', 'auditor' ]);
	note("capture_status():\n$out");
	return $out;
}

sub reads_of_p1
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE action = 'READ' AND patient_id = 'p1'});
}

is(status(), '', 'capture_status() is empty to begin with');

# 1. off in force, the file already says on again (no reload yet)
$node->append_conf('postgresql.conf', "bh_audit.enabled = off\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT current_setting('bh_audit.enabled') = 'off'})
  or die 'the reload did not take';
my $conf = slurp_file($node->data_dir . '/postgresql.conf');
$conf =~ s/^bh_audit\.enabled = off$/bh_audit.enabled = on/m;
open(my $fh, '>', $node->data_dir . '/postgresql.conf') or die $!;
print $fh $conf;
close($fh);
my $reads = reads_of_p1();
$node->safe_psql('postgres', 'SELECT * FROM notes');
is(reads_of_p1(), $reads, 'capture is off in every session: a read of p1 leaves no event');
like(status(), qr/bh_audit\.enabled/,
	'capture_status() reports bh_audit.enabled off while it is in force, the file edited but not reloaded');

# 2. on from the command line, off in postgresql.conf
$node->stop;
$conf =~ s/^bh_audit\.enabled = on$/bh_audit.enabled = off/m;
open($fh, '>', $node->data_dir . '/postgresql.conf') or die $!;
print $fh $conf;
close($fh);
system_or_bail('pg_ctl', '-D', $node->data_dir, '-l', $node->logfile, '-w',
	'-o', '-c bh_audit.enabled=on', 'start');
$node->_update_pid(1);
$node->reload;
is($node->safe_psql('postgres', q{SELECT current_setting('bh_audit.enabled')}), 'on',
	'the command line keeps bh_audit.enabled on, through a reload');
$reads = reads_of_p1();
$node->safe_psql('postgres', 'SELECT * FROM notes');
cmp_ok(reads_of_p1(), ">", $reads, 'capture is on: a read of p1 leaves its event');
unlike(status(), qr/bh_audit\.enabled/,
	'capture_status() does not report the file\'s bh_audit.enabled = off, which the command line overrides');

done_testing();
