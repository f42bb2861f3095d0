# A data-only restore with --disable-triggers into tables already tagged
# (pg_restore runs ALTER TABLE ... DISABLE TRIGGER ALL, loads the table,
# then ENABLE TRIGGER ALL): the rows are loaded without events, each table
# loaded records the switch off (disable the capture triggers) and nothing
# for the switch back, and afterwards the capture triggers of the tagged
# tables (a plain one, the partitions of a tagged partitioned table) are
# ENABLE ALWAYS, as tag_table() made them: capture_status() lists
# nothing, and a write under session_replication_role = replica (a
# logical replication subscriber's apply) is captured.  The table's own
# trigger is enabled on the origin, as PostgreSQL does.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s45a_restore', database => 'clinic');
my $schema = q{
CREATE SCHEMA app;
CREATE FUNCTION app.noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
CREATE TABLE app.notes (id int PRIMARY KEY, patient text);
CREATE TRIGGER app_user AFTER INSERT ON app.notes FOR EACH ROW EXECUTE FUNCTION app.noop();
CREATE TABLE app.parted (id int, patient text) PARTITION BY RANGE (id);
CREATE TABLE app.parted_1 PARTITION OF app.parted FOR VALUES FROM (0) TO (100);
CREATE TABLE app.parted_2 PARTITION OF app.parted FOR VALUES FROM (100) TO (200);
SELECT bh_audit.tag_table('app.notes', 'S45aNote', 'id', 'patient');
SELECT bh_audit.tag_table('app.parted', 'S45aParted', 'id', 'patient');
};
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', "CREATE EXTENSION bh_audit; $schema"
	  . q{INSERT INTO app.notes VALUES (1, 's45a_p1'), (2, 's45a_p2');
	      INSERT INTO app.parted VALUES (5, 's45a_p3'), (150, 's45a_p4');});
my $dump = "$PostgreSQL::Test::Utils::tmp_check/s45a_src.dump";
$node->command_ok(['pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump], 'pg_dump');

$node->safe_psql('clinic', $schema);
my $triggers = q{SELECT string_agg(tgrelid::regclass || ' ' || tgname || '=' || tgenabled::text, E'\n'
                                   ORDER BY tgrelid::regclass::text, tgname)
                   FROM pg_trigger WHERE tgrelid::regclass::text LIKE 'app.%' AND NOT tgisinternal};
my $installed = $node->safe_psql('clinic', $triggers);
is($installed, join("\n",
		'app.notes app_user=O', 'app.notes bh_audit_capture_row=A',
		'app.notes bh_audit_capture_truncate=A', 'app.parted bh_audit_capture_row=A',
		'app.parted bh_audit_capture_truncate=A', 'app.parted_1 bh_audit_capture_row=A',
		'app.parted_1 bh_audit_capture_truncate=A', 'app.parted_2 bh_audit_capture_row=A',
		'app.parted_2 bh_audit_capture_truncate=A'),
	'tag_table() made the capture triggers ENABLE ALWAYS');
my $seq = $node->safe_psql('clinic', 'SELECT bh_audit.seal() >= 0; SELECT coalesce(max(seq), 0) FROM bh_audit.events');
$seq = (split /\n/, $seq)[-1];

$node->command_ok(['pg_restore', '--exit-on-error', '-d', $node->connstr('clinic'), '--data-only',
		'--disable-triggers', '-n', 'app', $dump],
	'a data-only restore with --disable-triggers loads the tagged tables');
is($node->safe_psql('clinic', 'SELECT (SELECT count(*) FROM app.notes) || \',\' || (SELECT count(*) FROM app.parted)'),
	'2,2', 'the rows are loaded');
is($node->safe_psql('clinic', $triggers), $installed,
	'after ENABLE TRIGGER ALL the capture triggers are ENABLE ALWAYS again, the table\'s own on the origin');
is($node->safe_psql('clinic',
		q{SELECT count(*) FROM bh_audit.capture_status() WHERE tbl::text LIKE 'app.%'}),
	'0', 'capture_status() lists none of the tables');

# the switch off recorded for each table loaded, not the switch back; the
# loaded rows not
is(bh_wait_sealed($node, 'clinic',
		"seq > $seq AND resource_type = 'AuditConfiguration' AND resource_id LIKE 'app.%'", 3),
	'3', 'three configuration events of the tables');
is($node->safe_psql('clinic',
		qq{SELECT string_agg(resource_id || ': ' || (event -> 'metadata' ->> 'change'), E'\\n'
		                     ORDER BY resource_id)
		     FROM bh_audit.events
		    WHERE seq > $seq AND resource_type = 'AuditConfiguration' AND resource_id LIKE 'app.%'}),
	join("\n", 'app.notes: disable the capture triggers', 'app.parted_1: disable the capture triggers',
		'app.parted_2: disable the capture triggers'),
	'DISABLE TRIGGER ALL is recorded for each table loaded, ENABLE TRIGGER ALL is not');
is($node->safe_psql('clinic',
		"SELECT count(*) FROM bh_audit.events WHERE seq > $seq AND resource_type IN ('S45aNote', 'S45aParted') AND action <> 'READ'"),
	'0', 'the loaded rows are not recorded (pg_dump\'s reads of the source are)');

# a write under session_replication_role = replica is captured
$node->safe_psql('clinic', q{SET session_replication_role = replica;
INSERT INTO app.notes VALUES (3, 's45a_p5');
INSERT INTO app.parted VALUES (6, 's45a_p6'), (160, 's45a_p7');});
is(bh_wait_sealed($node, 'clinic',
		"seq > $seq AND resource_type IN ('S45aNote', 'S45aParted') AND action = 'CREATE'", 3),
	'3', 'a write under session_replication_role = replica is captured on each table');

done_testing();
