# The capture triggers of a tagged table that is a partition of a
# partitioned table that is not tagged (a tagged table attached under a
# parent of its owner's) are not changed through that parent unseen.
# PostgreSQL takes a statement on a row trigger of a partitioned table to
# its partitions: CREATE OR REPLACE TRIGGER replaces a partition's trigger
# of that name (skipping, while it recurses, its check that it is not the
# partition's own), which makes it a clone of the parent's; DROP, RENAME,
# ENABLE/DISABLE (not ONLY), DEPENDS ON EXTENSION and DETACH PARTITION
# (which drops a partition's clones) then reach it through the parent.
# Each is checked as if it named the tagged table: refused for everyone but
# superusers (the same error), recorded for a superuser (the same event).
#
#  - the tagged table's owner (not superuser), who attaches it under a
#    partitioned table of their own, cannot replace either capture trigger
#    through it (a row trigger named bh_audit_capture_truncate would
#    replace the TRUNCATE one);
#  - nor can a role with nothing but TRIGGER on the parent and partitions;
#  - a superuser's replacement through the parent is recorded, once for a
#    tagged partitioned table (its partitions are its);
#  - the replaced trigger, a clone of the parent's, cannot then be dropped,
#    renamed, disabled, weakened, tied to an extension or detached away
#    through the parent by the owner; a superuser's drop is recorded;
#  - a parent's own triggers of those names that reach no tagged table
#    (a statement trigger, ONLY) stay the owner's to change;
#  - a tagged table cannot be attached under a parent with a row trigger
#    of a capture trigger's name (PostgreSQL's own refusal).
# Each time, the writes afterwards have their events.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('parent_trigger_replace', database => 'clinic');
$node->safe_psql('clinic', q{
CREATE ROLE owner1 LOGIN;
CREATE ROLE trig LOGIN;
CREATE SCHEMA app AUTHORIZATION owner1;
GRANT USAGE ON SCHEMA app TO trig;
CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
SET ROLE owner1;
-- a tagged table, later attached under a parent of the owner's
CREATE TABLE app.vis (id int, pid text, k int, body text);
INSERT INTO app.vis VALUES (1, 'p1', 1, 'a'), (2, 'p2', 1, 'b');
CREATE TABLE app.vis_parent (id int, pid text, k int, body text) PARTITION BY LIST (k);
-- a tagged partition of an untagged partitioned table
CREATE TABLE app.top (id int, pid text, k int, body text) PARTITION BY LIST (k);
CREATE TABLE app.tp1 PARTITION OF app.top FOR VALUES IN (1);
CREATE TABLE app.tp2 PARTITION OF app.top FOR VALUES IN (2);
INSERT INTO app.top VALUES (1, 'p1', 1, 'a');
GRANT TRIGGER ON app.top, app.tp1, app.tp2 TO trig;
GRANT SELECT, UPDATE ON app.tp1 TO trig;
-- a tagged partitioned table under an untagged one (superuser's case)
CREATE TABLE app.h (id int, pid text, k int, body text) PARTITION BY LIST (k);
CREATE TABLE app.h1 PARTITION OF app.h FOR VALUES IN (1);
INSERT INTO app.h VALUES (1, 'p1', 1, 'a');
CREATE TABLE app.hp (id int, pid text, k int, body text) PARTITION BY LIST (k);
-- a tagged table, and a parent with a row trigger of a capture name
CREATE TABLE app.vis2 (id int, pid text, k int, body text);
CREATE TABLE app.vp2 (id int, pid text, k int, body text) PARTITION BY LIST (k);
CREATE TRIGGER bh_audit_capture_row AFTER INSERT ON app.vp2
    FOR EACH ROW EXECUTE FUNCTION public.noop();
RESET ROLE;
SELECT bh_audit.tag_table('app.vis', 'Visit', 'id', 'pid');
SELECT bh_audit.tag_table('app.tp1', 'Top', 'id', 'pid');
SELECT bh_audit.tag_table('app.h', 'H', 'id', 'pid');
SELECT bh_audit.tag_table('app.vis2', 'Visit2', 'id', 'pid');
});

my $mark;
sub set_mark
{
	$mark = bh_seal_mark($node, 'clinic');
}

# Events since the mark but reads: "action type id patient" (or change).
sub events
{
	my @rows = split /\n/, $node->safe_psql('clinic', qq{
SELECT bh_audit.seal();
SELECT action || ' ' || resource_type || ' ' || coalesce(resource_id, '-') || ' '
       || coalesce(patient_id, event -> 'metadata' ->> 'change', '-')
  FROM bh_audit.events
 WHERE seq > $mark AND action <> 'READ'
 ORDER BY seq});
	shift @rows;	# seal()'s result
	return join("\n", @rows);
}

# The error of a statement run as role: "SQLSTATE: message", or 'ok'.
sub refusal
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('clinic',
		"SET ROLE $role;\n\\set VERBOSITY verbose\n$sql");
	return $err =~ /ERROR:  (\w{5}: [^\n]*)/ ? $1 : ($ret == 0 ? 'ok' : $err);
}

# capture_status() of a table: its problems, one a line.
sub status
{
	my ($tbl) = @_;
	return $node->safe_psql('clinic', qq{
SELECT problem FROM bh_audit.capture_status() WHERE tbl = '$tbl'::regclass ORDER BY 1});
}

# 1. The owner, through a parent of their own.
$node->safe_psql('clinic', q{
SET ROLE owner1;
ALTER TABLE app.vis_parent ATTACH PARTITION app.vis FOR VALUES IN (1);
CREATE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
});
set_mark();
is(refusal('owner1', q{
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON app.vis_parent
    FOR EACH ROW EXECUTE FUNCTION app.noop()}),
	'42501: cannot replace the capture trigger of tagged table "vis"',
	'the owner cannot replace the capture trigger of a tagged partition through its parent');
is($node->safe_psql('clinic',
		q{SELECT tgfoid::regproc::text || ' ' || tgenabled::text FROM pg_trigger
		   WHERE tgrelid = 'app.vis'::regclass AND tgname = 'bh_audit_capture_row'}),
	'bh_audit._capture_row A', 'the capture trigger of app.vis is still bh_audit\'s, ALWAYS');
is(refusal('owner1', q{
CREATE OR REPLACE TRIGGER bh_audit_capture_truncate AFTER INSERT ON app.vis_parent
    FOR EACH ROW EXECUTE FUNCTION app.noop()}),
	'42501: cannot replace the capture trigger of tagged table "vis"',
	'nor the TRUNCATE capture trigger, by a row trigger of its name');
# a statement trigger of that name stays the parent's own (not recursed)
is(refusal('owner1', q{
CREATE TRIGGER bh_audit_capture_truncate BEFORE TRUNCATE ON app.vis_parent
    FOR EACH STATEMENT EXECUTE FUNCTION app.noop();
DROP TRIGGER bh_audit_capture_truncate ON app.vis_parent}),
	'ok', 'a statement trigger of the parent of that name is the owner\'s to create and drop');
is(status('app.vis'), '', 'capture_status() finds nothing wrong with app.vis');
$node->safe_psql('clinic', q{
SET ROLE owner1;
UPDATE app.vis SET body = 'changed' WHERE id = 1;
DELETE FROM app.vis WHERE id = 2;
INSERT INTO app.vis VALUES (3, 'p3', 1, 'c');
TRUNCATE app.vis;
});
is(events(), "UPDATE Visit 1 p1\nDELETE Visit 2 p2\nCREATE Visit 3 p3\nDELETE Visit - -",
	'the owner\'s writes afterwards have their events');

# 2. A role with TRIGGER only (and UPDATE on the tagged partition).
set_mark();
is(refusal('trig', q{
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON app.top
    FOR EACH ROW EXECUTE FUNCTION public.noop()}),
	'42501: cannot replace the capture trigger of tagged table "tp1"',
	'a role with TRIGGER cannot replace the capture trigger of a tagged partition through its parent');
$node->safe_psql('clinic', q{
SET ROLE trig;
UPDATE app.tp1 SET body = 'by trig';
});
is(events(), 'UPDATE Top 1 p1', 'its update has its event');

# 3. A superuser: recorded, like on the tagged table itself, once for the
# tagged partitioned table (not for its partition).
set_mark();
$node->safe_psql('clinic', q{
ALTER TABLE app.hp ATTACH PARTITION app.h FOR VALUES IN (1);
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT ON app.hp
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION bh_audit._capture_row();
});
is(events(), 'UPDATE AuditConfiguration app.h replace the capture trigger',
	'a superuser\'s replacement through the parent is recorded');
# (put back as bh_audit's, now a clone of the parent's trigger)
$node->safe_psql('clinic', q{
CREATE OR REPLACE TRIGGER bh_audit_capture_row AFTER INSERT OR UPDATE OR DELETE ON app.hp
    FOR EACH ROW EXECUTE FUNCTION bh_audit._capture_row();
ALTER TABLE app.hp ENABLE ALWAYS TRIGGER bh_audit_capture_row;
});
is(status('app.h') . status('app.h1'), '', 'capture_status() finds nothing wrong with app.h');

# 4. The clone cannot then be changed through the parent by the owner.
$node->safe_psql('clinic', 'ALTER TABLE app.hp OWNER TO owner1');
set_mark();
is(refusal('owner1', 'DROP TRIGGER bh_audit_capture_row ON app.hp'),
	'42501: cannot drop the capture trigger of tagged table "h"',
	'the owner cannot drop it through the parent');
is(refusal('owner1', 'ALTER TRIGGER bh_audit_capture_row ON app.hp RENAME TO x'),
	'42501: cannot rename the capture trigger of tagged table "h"',
	'nor rename it');
is(refusal('owner1', 'ALTER TABLE app.hp DISABLE TRIGGER bh_audit_capture_row'),
	'42501: cannot disable the capture trigger of tagged table "h"',
	'nor disable it');
is(refusal('owner1', 'ALTER TABLE app.hp ENABLE TRIGGER bh_audit_capture_row'),
	'42501: cannot weaken the capture trigger of tagged table "h"',
	'nor make it ENABLE (origin)');
is(refusal('owner1', 'ALTER TABLE app.hp DISABLE TRIGGER USER'),
	'42501: cannot disable the capture triggers of tagged table "h"',
	'nor disable the parent\'s triggers');
is(refusal('owner1', 'ALTER TRIGGER bh_audit_capture_row ON app.hp DEPENDS ON EXTENSION plpgsql'),
	'42501: cannot make the capture trigger depend on an extension of tagged table "h"',
	'nor tie it to an extension');
is(refusal('owner1', 'ALTER TABLE app.hp DETACH PARTITION app.h'),
	'42501: cannot drop the capture trigger of tagged table "h"',
	'nor detach the tagged table, which drops the clone');
# ONLY the parent's trigger reaches no partition
is(refusal('owner1', q{
ALTER TABLE ONLY app.hp DISABLE TRIGGER bh_audit_capture_row;
ALTER TABLE ONLY app.hp ENABLE ALWAYS TRIGGER bh_audit_capture_row}),
	'ok', 'the owner may change the parent\'s own trigger, ONLY');
is(status('app.h') . status('app.h1'), '', 'capture_status() still finds nothing wrong');
$node->safe_psql('clinic', q{
SET ROLE owner1;
UPDATE app.h SET body = 'changed';
});
is(events(), 'UPDATE H 1 p1', 'the owner\'s update afterwards has its event');

# ... a superuser's drop through the parent is recorded.
set_mark();
$node->safe_psql('clinic', 'DROP TRIGGER bh_audit_capture_row ON app.hp');
is(events(), 'UPDATE AuditConfiguration app.h drop the capture trigger',
	'a superuser\'s drop through the parent is recorded');
is(status('app.h'), 'row trigger missing', 'capture_status() shows the gap');

# 5. PostgreSQL refuses to attach a tagged table under a parent with a row
# trigger of a capture trigger's name (it would clone it).
is(refusal('owner1', 'ALTER TABLE app.vp2 ATTACH PARTITION app.vis2 FOR VALUES IN (1)'),
	'42710: trigger "bh_audit_capture_row" for relation "vis2" already exists',
	'a tagged table is not attached under a parent with a trigger of that name');

$node->stop;
done_testing();
