# DROP OWNED BY the extension's owner CASCADE drops what depends on the
# owner's objects: another role's typed table of a composite type of the
# owner's (dropped whole), another role's column of a domain of the
# owner's (dropped with its foreign key).  PostgreSQL drops their foreign
# keys with them and so locks ACCESS EXCLUSIVE the tables at the other end
# (RemoveConstraintById()), as for the relations the statement drops
# itself (operations.md, "Removing it").  A transaction that read such a
# table and then records an event must be waited for before the drop holds
# the queue; otherwise one of the two fails with 40P01.  The table that
# has the key itself is taken (the control).  The same for the default
# partition of another role's partitioned table of which the owner's
# table is a partition: PostgreSQL locks it with the partitioned table
# (heap_drop_with_catalog()); a reader of the partitioned table is the
# control.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_cascade_dependent_neighbours', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
CREATE ROLE rr LOGIN;
GRANT CREATE ON SCHEMA public TO rr;
SET ROLE su2;
CREATE EXTENSION bh_audit;
CREATE TYPE st AS (a int);
CREATE DOMAIN dint AS int;
RESET ROLE;
CREATE TABLE pparent (id int) PARTITION BY RANGE (id);
CREATE TABLE pdef PARTITION OF pparent DEFAULT;
SET ROLE su2;
CREATE TABLE ppart PARTITION OF pparent FOR VALUES FROM (0) TO (10);
SET ROLE rr;
CREATE TABLE col_ref (id int PRIMARY KEY);
CREATE TABLE coltab (id int, d dint REFERENCES col_ref);
CREATE TABLE typed_ref (id int PRIMARY KEY);
CREATE TABLE typed OF st (a WITH OPTIONS REFERENCES typed_ref);
RESET ROLE;
});

my $mon = $node->background_psql('template1');

# control: the tables with the keys
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'typed');
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'coltab');
# the tables at the other end of their keys
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'col_ref');
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'typed_ref');
# the default partition of the partitioned table above the owner's table
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'pparent',
	'SELECT count(*) FROM ONLY pparent');
bh_drop_waits_for_reader($node, $mon, 'DROP OWNED BY su2 CASCADE', 'pdef');

$mon->quit;
$node->stop;
done_testing();
