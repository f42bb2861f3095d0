# The access-review queries of docs/compliance-mapping.md ("The review
# queries"), run as the document writes them, each statement of its SQL
# block taken from the file itself, on a ledger whose events are known:
# each answers what the text around it says it answers.  The ids in the
# queries (pat_456, dr_rivera, postgres) are those of the events made here;
# the integrity query's placeholder is replaced by the head anchored before
# the reviews, and the service login's page starts after the seq the
# document shows (none here) and after 0 (the first review).
#
# What the text says and this checks, besides each query's rows:
# - a patient's own events list the reads, exports and writes that name
#   them (a row moved to them too) and an application's emit() that names
#   them, whatever its outcome; the denials and failures bh_audit captures
#   name no patient and come with the next query, which shows each event's
#   outcome, so that a refused or failed read is not taken for a read;
# - the logins that assert other actors: the bootstrap superuser's count
#   includes postgresql-server, the actor of the server's own events
#   (here bh_audit.enabled read from the configuration file), which name
#   that superuser as their login;
# - the indexed queries read the ledger through the index their comment
#   names (the patientless events' too, whose types come from the
#   patient's events and the tagging events).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $doc = slurp_file("$FindBin::RealBin/../../docs/compliance-mapping.md");
my ($section) = $doc =~ /^## The review queries\n(.*?)(?=^## |\z)/ms
  or die 'no section "The review queries" in docs/compliance-mapping.md';
my ($block) = $section =~ /^```sql\n(.*?)^```$/ms
  or die 'no SQL block in "The review queries"';

# The block's statements, each with the comment lines before it, named by
# the first of them.
my %query;
my @order;
my $text = '';
for my $line (split /\n/, $block)
{
	next if $text eq '' && $line =~ /^\s*$/;
	$text .= "$line\n";
	next if $line =~ /^\s*--/ || $line !~ /;\s*$/;
	my ($name) = $text =~ /^--\s*(.*)$/m or die "a statement without a comment: $text";
	$query{$name} = $text;
	push @order, $name;
	$text = '';
}
die "text after the last statement: $text" if $text =~ /\S/;

# Each query of the document, found by the beginning of its comment.
sub q_named
{
	my ($start) = @_;
	my @found = grep { index($_, $start) == 0 } @order;
	die "no single query named \"$start\" (found: @found)" unless @found == 1;
	return $query{ $found[0] };
}

my $node = bh_node('s46b_review_queries_docs');

# Patients pat_456 and pat_123; SudRecord is Part 2.
$node->safe_psql('postgres', q{
CREATE SCHEMA clinic;
CREATE ROLE app;
CREATE ROLE clerk;
GRANT USAGE ON SCHEMA clinic TO app, clerk;
CREATE TABLE clinic.notes (id int PRIMARY KEY, patient text, body text);
CREATE TABLE clinic.sud (id int PRIMARY KEY, patient text, dx text);
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'patient');
SELECT bh_audit.tag_table('clinic.sud', 'SudRecord', 'id', 'patient', part2 => true);
GRANT SELECT, INSERT, UPDATE ON clinic.notes, clinic.sud TO app;
INSERT INTO clinic.notes VALUES (1, 'pat_456', 'a'), (2, 'pat_123', 'b');
INSERT INTO clinic.sud VALUES (1, 'pat_456', 'x');
});

# dr_rivera of org1 reads pat_456's note and Part 2 record, owned by org2,
# and moves note 2 from pat_123 to pat_456.
$node->safe_psql('postgres', q{
BEGIN;
SET LOCAL ROLE app;
SELECT bh_audit.set_context('dr_rivera', org_id => 'org1', owner_org_id => 'org2');
SELECT body FROM clinic.notes WHERE id = 1;
SELECT dx FROM clinic.sud WHERE id = 1;
UPDATE clinic.notes SET patient = 'pat_456' WHERE id = 2;
COMMIT;
});
# ... a read of the Part 2 record that fails after reading it,
my ($ret, $out, $err) = $node->psql('postgres', q{
BEGIN;
SET LOCAL ROLE app;
SELECT bh_audit.set_context('dr_rivera', org_id => 'org1', owner_org_id => 'org1');
SELECT dx::int FROM clinic.sud WHERE id = 1;
});
like($err, qr/invalid input syntax for type integer/, 'the failing read fails');
# ... a clerk refused the Part 2 table (a captured denial: no patient),
($ret, $out, $err) = $node->psql('postgres', q{
BEGIN;
SET LOCAL ROLE clerk;
SELECT bh_audit.set_context('clerk_kim', org_id => 'org1');
SELECT dx FROM clinic.sud WHERE id = 1;
});
like($err, qr/permission denied for table sud/, 'the clerk is refused');
# ... and a denial the application decides, naming the patient.
$node->safe_psql('postgres', q{
BEGIN;
SELECT bh_audit.set_context('portal');
SELECT bh_audit.emit('READ', 'Note', '1', 'pat_456', 'DENIED', 'ConsentRequired');
COMMIT;
});

# The server's own events: bh_audit.enabled switched off and on again in
# the configuration file, as the sealer reads it at each reload.
my $file_switch = q{resource_type = 'AuditConfiguration'
                    AND event -> 'metadata' ->> 'change' = 'configuration file'};
$node->append_conf('postgresql.conf', "bh_audit.enabled = off\n");
$node->reload;
is(bh_wait_sealed($node, 'postgres', $file_switch, 1), 1, 'the switch off is recorded');
$node->append_conf('postgresql.conf', "bh_audit.enabled = on\n");
$node->reload;
is(bh_wait_sealed($node, 'postgres', $file_switch, 2), 2, 'and the switch on');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

my $anchor = $node->safe_psql('postgres', 'SELECT event_hash FROM bh_audit.chain_head()');
my $head_seq = $node->safe_psql('postgres', 'SELECT seq FROM bh_audit.chain_head()');

# A query's rows, each field but those named by index in @drop (ts).
sub rows
{
	my ($sql, @drop) = @_;
	my $res = $node->safe_psql('postgres', $sql);
	my @rows;
	for my $line (split /\n/, $res)
	{
		my @f = split /\|/, $line, -1;
		splice(@f, $_, 1) for sort { $b <=> $a } @drop;
		push @rows, join('|', @f);
	}
	return join("\n", @rows);
}

# All access to a patient's records: the reads, exports and writes that
# name pat_456 (their inserts, the reads, the row moved to them, the read
# before the failure), and the application's denial; not the captured
# failure nor the captured denial.
my $q = q_named("All access to a patient's records");
like($q, qr/'pat_456'/, "the patient's query names pat_456");
is(rows($q, 0), join("\n",
		'postgres|postgres|CREATE|Note|1|SUCCESS',
		'postgres|postgres|CREATE|SudRecord|1|SUCCESS',
		'dr_rivera|postgres|READ|Note||SUCCESS',
		'dr_rivera|postgres|READ|SudRecord||SUCCESS',
		'dr_rivera|postgres|UPDATE|Note|2|SUCCESS',
		'dr_rivera|postgres|READ|SudRecord||SUCCESS',
		'portal|postgres|READ|Note|1|DENIED'),
	"a patient's own events, an application's denial among them");

# The events that name no patient but may concern them: the captured
# failure and denial of the Part 2 table, each with its outcome (and error
# type), so that neither reads as a read of the table.
$q = q_named('... and the events that name no patient');
my $cols = $node->safe_psql('postgres', "SELECT * FROM (" . ($q =~ s/;\s*$//r) . ") q LIMIT 0",
	extra_params => [ '-A', '-F', '|', '-P', 'tuples_only=off', '-P', 'footer=off' ]);
like($cols, qr/(^|\|)outcome(\||$)/m, 'the patientless events show their outcome');
like($cols, qr/(^|\|)error_type(\||$)/m, 'and their error type');
my @c = split /\|/, (split /\n/, $cols)[0];
my ($outcome_at) = grep { $c[$_] eq 'outcome' } 0 .. $#c;
my ($type_at) = grep { $c[$_] eq 'error_type' } 0 .. $#c;
my ($actor_at) = grep { $c[$_] eq 'actor_id' } 0 .. $#c;
my ($rtype_at) = grep { $c[$_] eq 'resource_type' } 0 .. $#c;
SKIP:
{
	skip 'no outcome or error_type column', 1
	  unless defined $outcome_at && defined $type_at;
	my @got;
	for my $line (split /\n/, $node->safe_psql('postgres', $q))
	{
		my @f = split /\|/, $line, -1;
		push @got, join('|', @f[ $actor_at, $rtype_at, $outcome_at, $type_at ]);
	}
	is(join("\n", @got), join("\n",
			'dr_rivera|SudRecord|FAILURE|invalid_text_representation',
			'clerk_kim|SudRecord|DENIED|PermissionDenied'),
		'the failure and the denial, each as what it was');
}

# Everything a user did.
is(rows(q_named('Everything a user did'), 0), join("\n",
		'READ|Note||pat_456|SUCCESS',
		'READ|SudRecord||pat_456|SUCCESS',
		'UPDATE|Note|2|pat_456|SUCCESS',
		'UPDATE|Note|2|pat_123|SUCCESS',
		'READ|SudRecord||pat_456|SUCCESS',
		'READ|SudRecord|||FAILURE'),
	"everything dr_rivera did, the moved row under both patients");

# A service login's pages, in chain order: after the document's seq, none
# here; from the first review on, all of postgres's events, by seq.
$q = q_named('... for an actor with a large share');
is($node->safe_psql('postgres', $q), '', 'nothing after the seq the document shows');
$q =~ s/seq > 81234567/seq > 0/ or die 'no seq 81234567 in the service query';
is($node->safe_psql('postgres', "SELECT string_agg(seq::text, ',') FROM (" . ($q =~ s/;\s*$//r) . ") q"),
	$node->safe_psql('postgres',
		"SELECT string_agg(seq::text, ',' ORDER BY seq) FROM bh_audit.events WHERE actor_id = 'postgres'"),
	"from the first review, every event of postgres's, by seq");

# All denied attempts, with the role refused.
is(rows(q_named('All denied attempts'), 0), join("\n",
		'clerk_kim|postgres|clerk|READ|SudRecord|||PermissionDenied',
		'portal|postgres||READ|Note|1|pat_456|ConsentRequired'),
	'the denied attempts');

# Part 2 records read or changed, and the attempts that failed; not the
# refused one.
is(rows(q_named('42 CFR Part 2'), 0), join("\n",
		'postgres|CREATE|SudRecord|1|pat_456',
		'dr_rivera|READ|SudRecord||pat_456',
		'dr_rivera|READ|SudRecord||pat_456',
		'dr_rivera|READ|SudRecord||'),
	'the Part 2 events');

# Cross-organisation access: dr_rivera's under org2's ownership.
is(rows(q_named('Cross-organisation access'), 0), join("\n",
		'dr_rivera|org1|org2|READ|Note|pat_456',
		'dr_rivera|org1|org2|READ|SudRecord|pat_456',
		'dr_rivera|org1|org2|UPDATE|Note|pat_456',
		'dr_rivera|org1|org2|UPDATE|Note|pat_123'),
	'the cross-organisation events');

# The logins that assert other actors: postgres asserted dr_rivera,
# clerk_kim and portal, and the server's events count postgresql-server.
is(rows(q_named('An asserted end user who is not the login')), 'postgres|4',
	'the login asserting others, with their number');
is($node->safe_psql('postgres', q{
SELECT string_agg(DISTINCT actor_id, ',' ORDER BY actor_id) FROM bh_audit.events
 WHERE actor_id IS DISTINCT FROM event -> 'metadata' ->> 'db_user'}),
	'clerk_kim,dr_rivera,portal,postgresql-server',
	'the server counted among them');

# Changes to what is audited: the taggings and the server's switches.
is(rows(q_named('Changes to what is audited'), 0), join("\n",
		'postgres|postgres|CREATE|clinic.notes|tag_table',
		'postgres|postgres|CREATE|clinic.sud|tag_table',
		'postgresql-server|postgres|UPDATE|bh_audit.enabled|configuration file',
		'postgresql-server|postgres|UPDATE|bh_audit.enabled|configuration file'),
	'the changes to what is audited');

# Integrity evidence, against the head anchored before the reviews (a
# superuser's reviews record nothing: the head is still the last event).
$q = q_named('Integrity evidence');
$q =~ s/…anchored hash…/$anchor/ or die 'no placeholder in the integrity query';
is(rows($q), "PASS|$head_seq|$head_seq|0|0|$head_seq|$anchor", 'the chain, to the anchored head');

# The indexes the comments name.  On a ledger of some size (20,000 more
# events of four actors and 2,000 patients, a tenth of them with no
# patient), with sequential and bitmap scans discouraged, as they are on a
# ledger of millions of events, each query reads the ledger through its
# index (the other plans: sql/38_access_review_plans.sql).
for my $actor ('bulk_a', 'bulk_b', 'bulk_c', 'bulk_d')
{
	$node->safe_psql('postgres', qq{
BEGIN;
SELECT bh_audit.set_context('$actor');
SELECT count(bh_audit.emit('READ', 'Bulk', i::text,
                           CASE WHEN i % 10 <> 0 THEN 'bulk_' || (i % 2000) END))
  FROM generate_series(1, 5000) AS i;
COMMIT;});
}
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
sub explain_of
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) $sql});
}
$node->safe_psql('postgres', 'ANALYZE bh_audit.events');
like(explain_of(q_named("All access to a patient's records")),
	qr/^Index Scan using events_patient_ts on events\n/, "the patient's query: (patient_id, ts)");
my $plan = explain_of(q_named('... and the events that name no patient'));
like($plan, qr/^\s*->  Index Scan using events_unattributed_ts on events\n\s*Index Cond: \(\(resource_type = ANY/m,
	'the patientless events: (resource_type, ts) where patient_id IS NULL');
like($plan, qr/Index Scan using events_patient_ts on events events_\d+\n\s*Index Cond: \(patient_id = 'pat_456'/,
	"their types: the patient's own, by (patient_id, ts)");
like($plan, qr/Index Scan using events_unattributed_ts on events events_\d+\n\s*Index Cond: \(resource_type = 'AuditConfiguration'/,
	'and the tagged tables\', by their tagging events');
unlike($plan, qr/Seq Scan/, 'no sequential scan');
like(explain_of(q_named('Everything a user did')),
	qr/^Index Scan using events_actor_ts on events\n/, "a user's query: (actor_id, ts)");
like(explain_of(q_named('All denied attempts')),
	qr/^Index Scan using events_denied_ts on events\n/, 'the denials: ts where DENIED');
like(explain_of(q_named('Changes to what is audited')),
	qr/^Index Scan using events_unattributed_ts on events\n/, 'the changes: (resource_type, ts)');

# Every statement of the block was run above.
is(scalar(@order), 10, 'the ten statements of the block');

$node->stop;
done_testing();
