# Setting bh_audit.actor_roles to a long list of entries that show nothing
# (any role may, to hundreds of megabytes) reads each entry where it is
# set, to skip it: that read can be cancelled.  A statement_timeout (or
# pg_cancel_backend()) ends the statement while the list is being read,
# not only once the whole list was, and the value before is kept.  Timed:
# the cancelled statement is compared with the same statement run to its
# end, which must take long enough to tell them apart.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $node = bh_encoding_node('s45i_actor_roles_cancel', 'UTF8');

# A list of $n no-break spaces, each an entry (3 bytes each).
sub set_sql
{
	my ($n) = @_;
	return qq{SELECT length(set_config('bh_audit.actor_roles',
                                     repeat(E'\\u00a0,', $n), false)) AS len;};
}

# The whole list read: every entry skipped (the value is kept as given,
# longer than 8 kB: replaced by the roles events take, none).  From 8
# million entries (24 MB), doubled until it takes more than a second and a
# half (a faster machine), up to 64 million.
my ($n, $full, $roles) = (4000000, 0, undef);
while ($full < 1.5 && $n < 64000000)
{
	$n *= 2;
	my $start = time;
	$roles = $node->safe_psql('audit', set_sql($n));
	$full = time - $start;
	note(sprintf('%d entries read to their end in %.2f s', $n, $full));
}
is($roles, '0', 'a list of entries that show nothing, read to its end, gives no roles');
cmp_ok($full, '>', 1.0, 'reading it to its end takes more than a second');
my $set = set_sql($n);

# The same, cancelled after 100 ms: within a fraction of that time.
my $start = time;
my ($ret, $out, $err) = $node->psql('audit', qq{SET bh_audit.actor_roles = 'nurse';
SET statement_timeout = '100ms';
$set
RESET statement_timeout;
SELECT current_setting('bh_audit.actor_roles');},
	on_error_stop => 0, extra_params => [ '-t', '-A' ]);
my $cancelled = time - $start;
note(sprintf('cancelled in %.2f s', $cancelled));
like($err, qr/ERROR:  canceling statement due to statement timeout/,
	'the statement is cancelled');
cmp_ok($cancelled, '<', $full / 3, 'while the list is being read');
is($out, 'nurse', 'the value before is kept');

$node->stop;
done_testing();
