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

# 8 million no-break spaces, each an entry (24 MB)
my $set = q{SELECT length(set_config('bh_audit.actor_roles',
                                     repeat(E'\u00a0,', 8000000), false)) AS len;};

# The whole list read: every entry skipped (the value is kept as given,
# longer than 8 kB: replaced by the roles events take, none).
my $start = time;
is($node->safe_psql('audit', $set), '0', 'the list read to its end gives no roles');
my $full = time - $start;
note(sprintf('read to its end in %.2f s', $full));
cmp_ok($full, '>', 1.0, 'reading it to its end takes more than a second');

# The same, cancelled after 100 ms: within a fraction of that time.
$start = time;
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
