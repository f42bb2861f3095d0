# pg_repack (Debian's postgresql-15-repack) beside bh_audit:
#  - on the extension's own tables (bh_audit.events, bh_audit.queue,
#    bh_audit.tags) it is refused before it copies anything: the extension
#    writes them without firing triggers, so pg_repack's logging trigger
#    would miss the rows written during the copy and the swap would lose
#    them (and bring back queue rows already sealed).  The refusal leaves
#    the ledger, the queue and the tags as they were, no trigger or log
#    table of pg_repack behind, and nothing waiting on a lock; a writer
#    committing changes to a tagged table all the while has every change
#    sealed once, and the chain verifies;
#  - on a tagged table it works: the capture triggers survive it, its copy
#    is a read of every patient by the login running it, and changes after
#    it are captured;
#  - pg_repack of the whole database stops at the first of them, having
#    changed none; with --exclude-extension bh_audit it repacks the rest.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my $pg_repack = '/usr/lib/postgresql/15/bin/pg_repack';
plan skip_all => 'pg_repack is not installed (postgresql-15-repack)' unless -x $pg_repack;

my $node = bh_node('repack');
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_repack;
CREATE TABLE notes (note_id bigint PRIMARY KEY, patient_id text NOT NULL, body text);
INSERT INTO notes SELECT g, 'pat_' || (g % 7), 'b' || g FROM generate_series(1, 300) g;
SELECT bh_audit.tag_table('public.notes', 'Note', 'note_id', 'patient_id');
CREATE TABLE plain (id int PRIMARY KEY, v text);
INSERT INTO plain SELECT g, 'v' || g FROM generate_series(1, 100) g;
CREATE PROCEDURE writer(n int, tag text) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1 .. n LOOP
    UPDATE notes SET body = tag || i WHERE note_id = 1 + i % 300;
    COMMIT;
  END LOOP;
END $$;
});

# Runs pg_repack with args; returns (exit ok, stdout and stderr).
sub repack
{
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run(
		[ $pg_repack, '-h', $node->host, '-p', $node->port, '-d', 'postgres', @args ],
		'>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	return ($ok, $out . $err);
}

# The state of the extension's tables that a refused repack must not change.
my $state_sql = q{
SELECT bh_audit.seal();
SELECT (SELECT count(*) FROM bh_audit.events) || '|' || (SELECT event_hash FROM bh_audit.chain_head())
       || '|' || (SELECT count(*) FROM bh_audit.tags)
       || '|' || (SELECT string_agg(c.oid::regclass || ':' || c.relfilenode, ',' ORDER BY c.relname)
                    FROM pg_class c WHERE c.oid IN ('bh_audit.events'::regclass, 'bh_audit.queue'::regclass,
                                                    'bh_audit.tags'::regclass))
       || '|' || (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'repack%')
       || '|' || (SELECT count(*) FROM pg_class WHERE relnamespace = 'repack'::regnamespace
                                                  AND relname LIKE 'log\_%');
};
sub state { my @l = split /\n/, $node->safe_psql('postgres', $state_sql); return $l[-1]; }

foreach my $table (qw(bh_audit.events bh_audit.queue bh_audit.tags))
{
	my $before = state();
	my $wmark = $node->safe_psql('postgres', q{SELECT max(seq) FROM bh_audit.events});
	my $writer = $node->background_psql('postgres');
	$writer->query_until(qr/started/, qq{\\echo started\nCALL writer(400, '$table');\n});
	my ($ok, $out) = repack('-t', $table);
	$writer->quit;
	ok(!$ok, "pg_repack -t $table fails");
	like($out, qr/cannot create trigger "repack_trigger" on \Q$table\E/,
		"... refused as it creates its logging trigger");
	my @b = split /\|/, $before;
	my @a = split /\|/, state();
	is($a[3], $b[3], "... the three tables keep their files (nothing swapped)");
	is("$a[4]|$a[5]", '0|0', '... and no trigger or log table of pg_repack is left');
	is($a[2], $b[2], '... the tags are as they were');
	is($node->safe_psql('postgres', qq{SELECT bh_audit.seal(); SELECT count(*) FROM bh_audit.events
		 WHERE seq > $wmark AND resource_type = 'Note' AND action = 'UPDATE'}) =~ s/.*\n//sr,
		'400', "... and the writer's 400 changes meanwhile are sealed");
}
is($node->safe_psql('postgres', q{SELECT count(*) - count(DISTINCT event_id) FROM bh_audit.events}),
	'0', 'no event sealed twice');
is($node->safe_psql('postgres', q{SELECT result FROM bh_audit.verify_chain()}), 'PASS',
	'the chain verifies');

# A tagged table: repacked, its capture triggers kept; the copy is a read.
my $mark = $node->safe_psql('postgres', q{SELECT bh_audit.seal(); SELECT max(seq) FROM bh_audit.events}) =~ s/.*\n//sr;
my $file = $node->safe_psql('postgres', q{SELECT relfilenode FROM pg_class WHERE oid = 'notes'::regclass});
my ($ok, $out) = repack('-t', 'public.notes');
ok($ok, 'pg_repack -t notes (tagged) works') or diag($out);
isnt($node->safe_psql('postgres', q{SELECT relfilenode FROM pg_class WHERE oid = 'notes'::regclass}),
	$file, '... the table was rewritten');
is($node->safe_psql('postgres', q{SELECT count(*) FROM bh_audit.capture_status()}), '0',
	'... its capture triggers are intact');
$node->safe_psql('postgres', q{UPDATE notes SET body = 'after' WHERE note_id = 5});
is($node->safe_psql('postgres', qq{SELECT bh_audit.seal();
  SELECT string_agg(DISTINCT action || ':' || coalesce(patient_id, '-'), ',' ORDER BY action || ':' || coalesce(patient_id, '-'))
    FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note' AND actor_id = current_user}) =~ s/.*\n//sr,
	'READ:pat_0,READ:pat_1,READ:pat_2,READ:pat_3,READ:pat_4,READ:pat_5,READ:pat_6,UPDATE:pat_5',
	'... its copy read every patient, and a change after it is captured');

# The whole database: pg_repack stops at the first of the extension's
# tables, having changed none of them; with --exclude-extension bh_audit
# it repacks the rest.
$file = $node->safe_psql('postgres', q{SELECT relfilenode FROM pg_class WHERE oid = 'plain'::regclass});
my $before = state();
($ok, $out) = repack();
ok(!$ok, 'pg_repack of the whole database fails');
like($out, qr/cannot create trigger "repack_trigger" on bh_audit\./,
	"... at one of the extension's tables");
my @b = split /\|/, $before;
my @a = split /\|/, state();
is("$a[3]|$a[4]|$a[5]", "$b[3]|0|0", '... leaving them as they were');
($ok, $out) = repack('--exclude-extension', 'bh_audit');
ok($ok, 'pg_repack --exclude-extension bh_audit of the whole database works') or diag($out);
unlike($out, qr/bh_audit\.(events|queue|tags)/, '... without touching the extension\'s tables');
isnt($node->safe_psql('postgres', q{SELECT relfilenode FROM pg_class WHERE oid = 'plain'::regclass}),
	$file, '... and repacks the other tables');
@a = split /\|/, state();
is("$a[3]|$a[4]|$a[5]", "$b[3]|0|0", '... leaving the extension\'s tables as they were');
is($node->safe_psql('postgres', q{SELECT result FROM bh_audit.verify_chain()}), 'PASS',
	'the chain verifies');

done_testing();
