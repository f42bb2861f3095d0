# A role without any privilege (TEMP on the database, PUBLIC's by default)
# must not be able to make every other session reload its tag cache: a
# temporary view of its own over no tagged table changes nothing that the
# cache holds.  Before f1b6902 each CREATE or DROP of any view (its
# pg_rewrite row: the RULERELNAME syscache callback of tag_cache.c) threw
# away the whole cache of every backend, and each one's next statement
# that names a relation, tagged or not, read bh_audit.tags and the views
# over the tagged tables again: with 500 tables tagged, one such role
# churning a temporary view made a clinic session's SELECT on an untagged
# table go from 0.1 ms to 32 ms.  The same through the schemas' callback
# (NAMESPACEOID): any change of a schema's row, a GRANT on it by its owner.
# (t/274: a temporary view over a tagged table or the ledger; t/275: a
# view created while a tagging is in flight.)  Left open: f1b6902 and its
# fix 777a137 were taken back (a view committed during a tagging was
# missed, then two migrations creating views and tagging deadlocked:
# t/275, t/279), so the checks of no reload are TODO.
#
# A reload is seen as a scan of bh_audit.tags in the reading session's own
# transaction (pg_stat_get_xact_numscans).  The first two checks show the
# probe: a temporary table of the other role reloads nothing, a tagging
# reloads the cache.  The last ones show what must still reload it (a view
# created or replaced over a tagged table, a rename of its schema) and why
# (a failure through such a view, made by another session, is recorded).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('viewreload', conf => "autovacuum = off\n");
$node->safe_psql('postgres', q{
CREATE SCHEMA clin;
CREATE TABLE clin.a (id int PRIMARY KEY, patient_id int);
CREATE TABLE clin.b (id int PRIMARY KEY, patient_id int);
CREATE TABLE clin.plain (id int PRIMARY KEY);
SELECT bh_audit.tag_table('clin.a', 'A', 'id', 'patient_id');
CREATE ROLE mallory LOGIN;
CREATE SCHEMA mine AUTHORIZATION mallory;
});
# mallory's session, whose temporary schema is made once here (a new
# schema reloads the cache, as a rename must: not the point)
my $m = $node->background_psql('postgres', extra_params => [ '-U', 'mallory' ]);
$m->query_safe('CREATE TEMP TABLE warm (x int)');

my $r = $node->background_psql('postgres');
$r->query_safe('BEGIN');
my $loads = sub {
	return $r->query_safe(
		q{SELECT pg_stat_get_xact_numscans('bh_audit.tags'::regclass)});
};
# The reading session's statement after another session's change: a read
# of an untagged table (every statement naming a relation looks it up).
my $reloads_after = sub {
	my ($sql, $session) = @_;
	$r->query_safe('SELECT id FROM clin.plain');
	my $before = $loads->();
	if ($session) { $node->safe_psql('postgres', $sql); }
	else
	{
		$m->query_safe($sql);
		die "mallory's statement failed: $m->{stderr}" if $m->{stderr} ne '';
	}
	$r->query_safe('SELECT id FROM clin.plain');
	return $loads->() - $before;
};

is($reloads_after->('CREATE TEMP TABLE t (x int); DROP TABLE t'),
	0, 'another role\'s temporary table: the tag cache is not reloaded');
cmp_ok($reloads_after->(
		q{SELECT bh_audit.tag_table('clin.b', 'B', 'id', 'patient_id')},
		'superuser'),
	'>=', 1, 'a tagging: the tag cache is reloaded (the probe sees reloads)');

my $reload_todo = 'left open: every rule (view) or schema change reloads every session\'s whole tag cache; a narrowing (f1b6902) and its fix (777a137) were taken back for missed views and deadlocks (t/275, t/279)';
TODO:
{
	local $TODO = $reload_todo;
	is($reloads_after->('CREATE TEMP VIEW v AS SELECT 1 AS x'),
		0, 'a role\'s CREATE TEMP VIEW over no tagged table: no reload elsewhere');
	is($reloads_after->(
			'CREATE TEMP VIEW w AS SELECT 1 AS x; DROP VIEW w; '
			  . 'CREATE TEMP VIEW w AS SELECT 2 AS x; DROP VIEW w, v'),
		0, 'a role\'s churn of temporary views: no reload elsewhere');
	# the same through the schemas' syscache callback: a schema's owner
	# granting and revoking on it renames nothing the cache holds
	is($reloads_after->(
			'GRANT USAGE ON SCHEMA mine TO PUBLIC; REVOKE USAGE ON SCHEMA mine FROM PUBLIC'),
		0, 'a schema owner\'s GRANT and REVOKE on its schema: no reload elsewhere');
}


# What must still reload it: a view created or replaced to read a tagged
# table (or such a view), and a rename of a tagged table's schema.
TODO:
{
	local $TODO = $reload_todo;
	is($reloads_after->('CREATE VIEW clin.pv AS SELECT 1 AS id', 'superuser'),
		0, 'a view over no tagged table: no reload elsewhere');
}
cmp_ok($reloads_after->(
		'CREATE VIEW clin.av AS SELECT id, patient_id FROM clin.a', 'superuser'),
	'>=', 1, 'a view over a tagged table: the tag cache is reloaded');
cmp_ok($reloads_after->(
		'CREATE OR REPLACE VIEW clin.pv AS SELECT id FROM clin.a', 'superuser'),
	'>=', 1, 'a view replaced to read a tagged table: the tag cache is reloaded');
cmp_ok($reloads_after->(
		'CREATE VIEW clin.avv AS SELECT * FROM clin.av', 'superuser'),
	'>=', 1, 'a view over such a view: the tag cache is reloaded');
cmp_ok($reloads_after->(
		'ALTER SCHEMA clin RENAME TO clin_r; ALTER SCHEMA clin_r RENAME TO clin',
		'superuser'),
	'>=', 1, 'a rename of a tagged table\'s schema: the tag cache is reloaded');

$r->query_safe('COMMIT');
$r->quit;

# And what the reload is for: a statement through a view made by another
# session after this one loaded its cache, failing in parse analysis, is a
# failure on the tagged table.
my $f = $node->background_psql('postgres', on_error_stop => 0);
$f->query_safe('SELECT id FROM clin.plain');
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres',
	'CREATE VIEW clin.fv AS SELECT * FROM clin.avv WHERE patient_id > 0');
$f->query(q{SELECT * FROM clin.fv WHERE id = 'tok_fv'});
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events
 WHERE seq > $mark AND resource_type = 'A' AND outcome = 'FAILURE'}),
	'1', 'a failure through a view made by another session is recorded');
$f->quit;
$m->quit;
done_testing();
