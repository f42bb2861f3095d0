# DROP EXTENSION bh_audit CASCADE drops, with the extension's relations,
# what depends on them: a foreign key of a user's table referencing
# bh_audit.events (an access review's table), a column of a user's table
# of the ledger's row type, or of an array of it (the array type is a part
# of the row type, as the row type is of the ledger).  PostgreSQL locks
# that table ACCESS EXCLUSIVE to drop it.  A transaction that read such a
# table and then records an event must be waited for before the drop holds
# the queue, as with DROP OWNED BY the owner or DROP SCHEMA bh_audit
# CASCADE, which take the tables at the other end of the foreign keys of
# the relations they drop (operations.md, "Removing it"); otherwise one of
# the two fails with 40P01.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_ext_ledger_dependents');
$node->safe_psql('postgres', q{
CREATE TABLE review (id int, event_seq bigint REFERENCES bh_audit.events (seq));
CREATE TABLE kept (id int, ev bh_audit.events);
CREATE TABLE kept_arr (id int, evs bh_audit.events[]);
});

my $mon = $node->background_psql('template1');

# the same statement through DROP SCHEMA, which held already
bh_drop_waits_for_reader($node, $mon, 'DROP SCHEMA bh_audit CASCADE', 'review');
bh_drop_waits_for_reader($node, $mon, 'DROP SCHEMA bh_audit CASCADE', 'kept');
bh_drop_waits_for_reader($node, $mon, 'DROP SCHEMA bh_audit CASCADE', 'kept_arr');
# DROP EXTENSION ... CASCADE
bh_drop_waits_for_reader($node, $mon, 'DROP EXTENSION bh_audit CASCADE', 'review');
bh_drop_waits_for_reader($node, $mon, 'DROP EXTENSION bh_audit CASCADE', 'kept');
bh_drop_waits_for_reader($node, $mon, 'DROP EXTENSION bh_audit CASCADE', 'kept_arr');

$mon->quit;
$node->stop;
done_testing();
