# A view created in a transaction that is still open when another session
# tags the table it reads.  tag_table() takes no lock that waits for the
# view's creator (its SHARE ROW EXCLUSIVE lock does not conflict with the
# ACCESS SHARE lock the view's definition holds), so every session reloads
# its tag cache at the tagging's commit, before the view is visible to it.
# When the view's transaction commits, its rule's invalidation must still
# make the others learn the view (f1b6902 made a rule created reload
# nothing, the creating session judging by its own cache, which found the
# table untagged; taken back, every rule change reloads again): a statement through the view that fails in
# parse analysis, in a session whose cache was warm, is a FAILURE on the
# tagged table (also with a partition tagged on its own attached to the
# untagged partitioned table the view reads).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('viewduringtag', conf => "autovacuum = off\n");
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.u (id int PRIMARY KEY, patient_id int);
CREATE TABLE clin.plain (id int PRIMARY KEY);
INSERT INTO clin.u VALUES (1, 1);
});

# a session with a warm cache, before any of it
my $r = $node->background_psql('postgres', on_error_stop => 0);
$r->query_safe('SELECT id FROM clin.plain');

# the view's transaction, open across the tagging
my $c = $node->background_psql('postgres');
$c->query_safe('BEGIN');
$c->query_safe('CREATE VIEW clin.uv AS SELECT id, patient_id FROM clin.u');
$node->safe_psql('postgres',
	q{SET lock_timeout = '20s'; SELECT bh_audit.tag_table('clin.u', 'U', 'id', 'patient_id')});
$r->query_safe('SELECT id FROM clin.plain');    # reloads: no view yet
$c->query_safe('COMMIT');
$c->quit;

my $mark = bh_seal_mark($node, 'postgres');
$r->query(q{SELECT * FROM clin.uv WHERE id = 'tok_uv'});
like($r->{stderr}, qr/invalid input syntax/, 'the statement through the view failed');
$r->{stderr} = '';
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'U' AND outcome = 'FAILURE'}),
	'1', 'a failure through a view committed after the tagging is recorded');

# the same through a view over such a view, made in the open transaction
# over a view the cache did not know either
$c = $node->background_psql('postgres');
$node->safe_psql('postgres', q{
CREATE TABLE clin.w (id int PRIMARY KEY, patient_id int);
CREATE VIEW clin.wv AS SELECT id, patient_id FROM clin.w;
});
$r->query_safe('SELECT id FROM clin.plain');
$c->query_safe('BEGIN');
$c->query_safe('CREATE VIEW clin.wvv AS SELECT * FROM clin.wv');
$node->safe_psql('postgres',
	q{SET lock_timeout = '20s'; SELECT bh_audit.tag_table('clin.w', 'W', 'id', 'patient_id')});
$r->query_safe('SELECT id FROM clin.plain');
$c->query_safe('COMMIT');
$c->quit;
$mark = bh_seal_mark($node, 'postgres');
$r->query(q{SELECT * FROM clin.wvv WHERE id = 'tok_wvv'});
$r->{stderr} = '';
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'W' AND outcome = 'FAILURE'}),
	'1', 'a failure through a view over a view, committed after the tagging, is recorded');

# the same with a partition tagged on its own attached to the untagged
# partitioned table the view reads (ATTACH PARTITION's SHARE UPDATE
# EXCLUSIVE lock on it does not wait for the view's ACCESS SHARE either)
$node->safe_psql('postgres', q{
CREATE TABLE clin.q (id int, patient_id int) PARTITION BY RANGE (id);
CREATE TABLE clin.t2 (id int, patient_id int);
SELECT bh_audit.tag_table('clin.t2', 'T2', 'id', 'patient_id');
});
$r->query_safe('SELECT id FROM clin.plain');
$c = $node->background_psql('postgres');
$c->query_safe('BEGIN');
$c->query_safe('CREATE VIEW clin.qv AS SELECT * FROM clin.q');
$node->safe_psql('postgres', q{SET lock_timeout = '20s';
ALTER TABLE clin.q ATTACH PARTITION clin.t2 FOR VALUES FROM (0) TO (10)});
$r->query_safe('SELECT id FROM clin.plain');
$c->query_safe('COMMIT');
$c->quit;
$mark = bh_seal_mark($node, 'postgres');
$r->query(q{SELECT * FROM clin.qv WHERE id = 'tok_qv'});
$r->{stderr} = '';
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'T2' AND outcome = 'FAILURE'}),
	'1', 'a failure through a view over a partitioned table, committed after a tagged partition was attached, is recorded');

# control: the view made before the tagging, committed, is known
$mark = bh_seal_mark($node, 'postgres');
$r->query(q{SELECT * FROM clin.wv WHERE id = 'tok_wv'});
$r->{stderr} = '';
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'W' AND outcome = 'FAILURE'}),
	'1', 'control: a failure through a view committed before the tagging is recorded');
$r->quit;
done_testing();
