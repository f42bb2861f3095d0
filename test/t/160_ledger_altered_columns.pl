# A superuser's ALTER TABLE of bh_audit.events (accepted by PostgreSQL and
# by the extension) must not make the sealer write a value a column cannot
# hold, nor crash it: each column either gets the value its declaration
# gives (its generated expression, its default, its type's limits) or the
# sealer refuses clearly (an ERROR naming the column), and no server process
# is terminated by a signal.
#
# bh_ledger_open() (src/ledger_write.c) finds each column by name only and
# bh_ledger_append() stores the datum of the type the install script
# declares, whatever the column's type now is; columns it does not know get
# NULL (no default, no generated expression, no NOT NULL check).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('ledger_altered_columns');
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'before', 'p1');
SELECT bh_audit.seal();
});

# 1. Columns added by a superuser: a NOT NULL one with a default, a
# generated one.
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.events ADD COLUMN note text NOT NULL DEFAULT 'n/a';
ALTER TABLE bh_audit.events ADD COLUMN db_user text
    GENERATED ALWAYS AS (event -> 'metadata' ->> 'db_user') STORED;
SELECT bh_audit.emit('READ', 'Doc', 'after_add', 'p1');
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE note IS NULL}),
	'0', 'no NULL is sealed into a NOT NULL column added with a default');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events
		   WHERE db_user IS DISTINCT FROM event -> 'metadata' ->> 'db_user'}),
	'0', 'an added generated column holds its expression\'s value');
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.events DROP COLUMN note;
ALTER TABLE bh_audit.events DROP COLUMN db_user;
});

# 2. A derived column's type narrowed (PostgreSQL checks the stored rows).
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.events ALTER COLUMN resource_id TYPE varchar(40);
SELECT bh_audit.emit('READ', 'Doc', repeat('r', 53), 'p1');
});
$node->psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE length(resource_id) > 40}),
	'0', 'no value longer than varchar(40) is sealed into resource_id');
$node->safe_psql('postgres',
	q{ALTER TABLE bh_audit.events ALTER COLUMN resource_id TYPE text});
$node->psql('postgres', 'SELECT bh_audit.seal()');

# 3. A derived column's type changed to one of another representation.
my $log_start = -s $node->logfile;
$node->safe_psql('postgres', q{
ALTER TABLE bh_audit.events ALTER COLUMN event_id TYPE text;
SELECT bh_audit.emit('READ', 'Doc', 'after_event_id_text', 'p1');
});
$node->psql('postgres', 'SELECT bh_audit.seal()');
# until the event is sealed, the sealer refuses, or a process crashed
for (1 .. 30)
{
	last if slurp_file($node->logfile, $log_start) =~
	  /terminated by signal|ERROR: .*bh_audit\.events/;
	my ($ret, $out) = $node->psql('postgres',
		q{SELECT count(*) FROM bh_audit.events WHERE resource_id = 'after_event_id_text'});
	last if $ret == 0 && $out eq '1';
	sleep(1);
}
sleep(3);    # the sealer's next batches (its own events) too
unlike(slurp_file($node->logfile, $log_start), qr/terminated by signal/,
	'no process is terminated by a signal after ALTER COLUMN event_id TYPE text');
my ($ret, $out) = $node->psql('postgres',
	q{SELECT count(*) FROM bh_audit.events WHERE event_id IS DISTINCT FROM event ->> 'event_id'});
is($out, '0', 'the text event_id column holds each event\'s event_id');

$node->stop('immediate', fail_ok => 1);
done_testing();
