# pg_upgrade of a cluster whose database has bh_audit (operations.md: a
# ledger carried by pg_upgrade keeps its chain).  pg_upgrade restores the
# extension's tables member by member (pg_dump --binary-upgrade, outside
# any extension script): bh_audit.tags' primary key comes back as
# ALTER TABLE ONLY bh_audit.tags ADD CONSTRAINT tags_pkey PRIMARY KEY (tbl),
# which the guard against code attached to the tag catalog (own_guard.c,
# bh_check_own_table_alter()) must let through: the upgrade completes, the
# tag and its primary key are there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = bh_node('upgrade_old', database => 'clinic');
$old->safe_psql('clinic', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
});
$old->stop;

my ($new, $ok) = bh_pg_upgrade($old, 'upgrade_new', 'clinic');

SKIP:
{
	skip 'no upgraded cluster', 2 unless $ok;
	$new->start;
	is($new->safe_psql('clinic',
			'SELECT count(*) FROM bh_audit.tags WHERE tbl = \'notes\'::regclass'),
		'1', 'the tag is upgraded');
	is($new->safe_psql('clinic', q{
SELECT count(*) FROM pg_constraint
 WHERE conrelid = 'bh_audit.tags'::regclass AND contype = 'p'}),
		'1', 'the tag catalog keeps its primary key');
	$new->stop;
}

done_testing();
