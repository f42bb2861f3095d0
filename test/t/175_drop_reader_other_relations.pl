# A drop of the extension by DROP OWNED BY its owner or DROP SCHEMA
# bh_audit, ... CASCADE also drops relations that are neither tagged nor
# the extension's: the owner's untagged tables, views and sequences, those
# of the schemas named, and what PostgreSQL locks with them (the tables at
# the other end of their foreign keys), and, with CASCADE, the views and
# tables of what depends on the extension's functions (a view calling one,
# a table whose policy calls one) or on the objects dropped (a table whose
# default takes the next value of a sequence dropped).  A transaction that
# read such a relation and then reads a tagged table the drop takes: the
# drop waits for it holding none of its relations, and the read commits
# (no 40P01; operations.md, "Removing it").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('drop_reader_other', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE su2 SUPERUSER LOGIN;
CREATE ROLE rr LOGIN;
GRANT CREATE ON SCHEMA public TO rr;
SET ROLE su2;
CREATE EXTENSION bh_audit;
CREATE TABLE late (id int, pat text);
SELECT bh_audit.tag_table('late', 'ST', 'id', 'pat');
INSERT INTO late VALUES (1, 'p1');
CREATE TABLE plain (id int PRIMARY KEY);
CREATE VIEW plain_v AS SELECT id FROM plain;
CREATE SEQUENCE sq;
GRANT REFERENCES ON plain TO rr;
SET ROLE rr;
CREATE TABLE child_fk (id int REFERENCES plain);
CREATE VIEW rr_f AS SELECT bh_audit.event_timestamp('2020-01-01T00:00:00Z') AS x;
CREATE TABLE rr_pol (id int);
CREATE TABLE rr_def (id int DEFAULT nextval('sq'));
CREATE POLICY p ON rr_pol USING (bh_audit.event_timestamp('2020-01-01T00:00:00Z') IS NOT NULL);
RESET ROLE;
CREATE SCHEMA s2;
CREATE TABLE s2.t (id int);
GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO PUBLIC;
GRANT EXECUTE ON FUNCTION bh_audit.event_timestamp(text) TO PUBLIC;
});

# (in another database: no tag cache to load behind the drop)
my $mon = $node->background_psql('template1');

# $first in a transaction, then the drop, which waits for it; then the
# transaction reads the tagged table and commits
sub reader_then_tagged
{
	my ($drop, $first, $label) = @_;
	my ($r, $d, $dpid) = bh_start_drop($node, $drop, [$first], begin => 1);

	ok(bh_poll_session($mon, qq{SELECT count(*) FROM pg_locks
 WHERE pid = $dpid AND NOT granted}), "$label: the drop waits for the reader");
	$r->query('SELECT count(*) FROM late');
	$r->query('COMMIT');
	is($r->{stderr}, '', "$label: the read of the tagged table commits, no deadlock (40P01)");
	is($d->query(q{SELECT count(*) FROM pg_extension WHERE extname = 'bh_audit'}),
		'0', "$label: the drop then drops the extension");
	$d->query('ROLLBACK');
	$_->quit foreach $r, $d;
	return;
}

reader_then_tagged('DROP OWNED BY su2 CASCADE', 'SELECT count(*) FROM plain',
	'DROP OWNED, the owner\'s untagged table');
reader_then_tagged('DROP OWNED BY su2 CASCADE', 'SELECT count(*) FROM plain_v',
	'DROP OWNED, the owner\'s view');
reader_then_tagged('DROP OWNED BY su2 CASCADE', q{SELECT nextval('sq')},
	'DROP OWNED, the owner\'s sequence');
reader_then_tagged('DROP OWNED BY su2 CASCADE', 'SELECT count(*) FROM child_fk',
	'DROP OWNED, another role\'s table referencing the owner\'s untagged table');
reader_then_tagged('DROP SCHEMA s2, bh_audit CASCADE', 'SELECT count(*) FROM s2.t',
	'DROP SCHEMA, an untagged table of a schema named');
reader_then_tagged('DROP EXTENSION bh_audit CASCADE', 'SELECT * FROM rr_f',
	'DROP EXTENSION CASCADE, another role\'s view calling a function of the extension');
reader_then_tagged('DROP OWNED BY su2 CASCADE', 'SELECT * FROM rr_f',
	'DROP OWNED, another role\'s view calling a function of the extension');
reader_then_tagged('DROP OWNED BY su2 CASCADE', 'SELECT * FROM rr_def',
	'DROP OWNED, another role\'s table whose default calls nextval() of the owner\'s sequence');
reader_then_tagged('DROP EXTENSION bh_audit CASCADE', 'SELECT * FROM rr_pol',
	'DROP EXTENSION CASCADE, another role\'s table whose policy calls a function of the extension');

$mon->quit;
$node->stop;
done_testing();
