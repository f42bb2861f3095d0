# psql drops the 32 astral noncharacters (U+1FFFE, U+1FFFF, ... U+10FFFE,
# U+10FFFF) from what it writes, and any role can put one into an event
# (a tagged table's patient id, emit()'s resource id, bh_audit.actor_id).
# export_jsonl() writes each of them as a JSON escape (a UTF-16 surrogate
# pair), so that the documented export command (psql -At, client_encoding
# UTF8) gives a file that passes the independent verifier
# (test/verify_jsonl.py) and reads back the characters the ledger stores;
# their neighbours (U+FFFF, U+10FFFD, U+1F600) stay raw.  The hashes do not
# change: verify_chain() passes, each event's hash recomputes from the
# ledger's event, and the file's hashes are the ledger's.  In a SQL_ASCII
# database the same UTF-8 bytes are escaped; in a LATIN1 database the same
# bytes are other characters, exported as they are.
use strict;
use warnings;
use File::Basename qw(dirname);
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $verifier = dirname(__FILE__) . '/../verify_jsonl.py';

# Each line's event_hash, then the UTF-8 hex of its resource's patient_id,
# its resource id and its actor's subject_id, as Python's json reads them.
my $read_back = <<'PY';
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    h = lambda s: (s or "").encode("utf-8").hex()
    print("|".join([e["integrity"]["event_hash"], h(e["resource"].get("patient_id")),
                    h(e["resource"].get("id")), h(e["actor"].get("subject_id"))]))
PY

# The same, from the ledger, in seq order.
my $ledger_rows = q{
SELECT event_hash || '|' || coalesce(encode(convert_to(patient_id, 'UTF8'), 'hex'), '')
       || '|' || coalesce(encode(convert_to(resource_id, 'UTF8'), 'hex'), '')
       || '|' || coalesce(encode(convert_to(actor_id, 'UTF8'), 'hex'), '')
  FROM bh_audit.events ORDER BY seq};

# Export DB of NODE with the documented command (psql -At, client_encoding
# UTF8, the function in the SELECT list; @extra: FETCH_COUNT) to FILE.
sub export_to
{
	my ($node, $db, $file, @extra) = @_;
	local $ENV{PGCLIENTENCODING} = 'UTF8';
	ok(IPC::Run::run([ 'psql', '-d', $node->connstr($db), '-At', @extra,
			'-c', 'SELECT bh_audit.export_jsonl()' ], '>', $file),
		"psql -At @extra exports $db");
	return slurp_file($file);
}

# The verifier's report of FILE: its exit status (true on PASS) and output.
sub verify_file
{
	my ($file) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'python3', $verifier, $file ], '>', \$out, '2>', \$err);
	return ($ok, $out . $err);
}

sub read_back
{
	my ($file) = @_;
	my ($out, $err);
	IPC::Run::run([ 'python3', '-c', $read_back, $file ], '>', \$out, '2>', \$err)
	  or die "reading $file back: $err";
	chomp($out);
	return $out;
}

#--------------------------------------------------------------------------
# A UTF8 database: the characters come from an unprivileged role.
#--------------------------------------------------------------------------
my $node = bh_encoding_node('nonchars_utf8', 'UTF8', undef);
$node->safe_psql('audit', q{
CREATE ROLE app LOGIN;
CREATE TABLE public.notes (note_id text PRIMARY KEY, patient_id text, body text);
SELECT bh_audit.tag_table('public.notes', 'Note', 'note_id', 'patient_id');
GRANT SELECT, INSERT ON public.notes TO app;
});
$node->safe_psql('audit', q{
INSERT INTO public.notes VALUES ('n1', U&'pat\+01FFFE\+10FFFF', 'x');
INSERT INTO public.notes VALUES ('n2', U&'pat\+00FFFF\+10FFFD\+01F600', 'y');
INSERT INTO public.notes VALUES ('n3', U&'\+02FFFF\+0EFFFE"\+10FFFE', 'z');
SET bh_audit.actor_id = U&'dr \+05FFFE';
SELECT bh_audit.emit('EXPORT', 'PatientRecord', U&'exp\+10FFFF\+10FFFF', 'pat_plain') IS NOT NULL;
SELECT count(*) FROM public.notes;
}, extra_params => [ '-U', 'app' ]);
$node->safe_psql('audit', 'SELECT bh_audit.seal()');

is($node->safe_psql('audit', q{
SELECT string_agg(action || ' ' || resource_type, ', ' ORDER BY action, seq)
  FROM bh_audit.events
 WHERE patient_id IN (U&'pat\+01FFFE\+10FFFF', U&'pat\+00FFFF\+10FFFD\+01F600',
                      U&'\+02FFFF\+0EFFFE"\+10FFFE')
    OR resource_id = U&'exp\+10FFFF\+10FFFF'}),
	'CREATE Note, CREATE Note, CREATE Note, EXPORT PatientRecord, READ Note, READ Note, READ Note',
	'the events hold the characters');
is($node->safe_psql('audit', q{
SELECT count(*) FROM bh_audit.events
 WHERE actor_id = U&'dr \+05FFFE' AND action = 'READ' AND resource_type = 'Note'}),
	'3', 'the reads of the three patients are sealed, with the actor');
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'verify_chain() passes');
is($node->safe_psql('audit', q{
SELECT count(*) FROM (
  SELECT event_hash, bh_audit.event_hash(event::json,
             lag(event_hash) OVER (ORDER BY seq), hash_alg) AS recomputed
    FROM bh_audit.events) x
 WHERE recomputed IS DISTINCT FROM event_hash}),
	'0', 'each event hash recomputes from the ledger\'s event');
my $events = $node->safe_psql('audit', 'SELECT count(*) FROM bh_audit.events');

my $tmp = $PostgreSQL::Test::Utils::tmp_check;
my %text;
$text{plain} = export_to($node, 'audit', "$tmp/utf8.jsonl");
$text{fetch} = export_to($node, 'audit', "$tmp/utf8_fetch.jsonl", '--set=FETCH_COUNT=1000');
is($text{fetch}, $text{plain}, 'both commands write the same bytes');
my ($ok, $report) = verify_file("$tmp/utf8.jsonl");
ok($ok, 'the export passes the independent verifier') or diag($report);
like($report, qr/"events_scanned": $events,.*"hash_mismatches": 0,/s,
	'with every event, and no hash mismatch');
is(read_back("$tmp/utf8.jsonl"), $node->safe_psql('audit', $ledger_rows),
	'read back, the lines have the ledger\'s hashes, patient ids, ids and actors');

# The bytes: the 32 noncharacters escaped, lowercase, as Python's json
# writes them with ensure_ascii; other characters raw.
my $t = $text{plain};
my $n1 = () = $t =~ /"pat\\ud83f\\udffe\\udbff\\udfff"/g;
is($n1, 2, 'U+1FFFE and U+10FFFF are escaped (the write and the read)');
my $n3 = () = $t =~ /"\\ud87f\\udfff\\udb7f\\udffe\\"\\udbff\\udffe"/g;
is($n3, 2, 'U+2FFFF, U+EFFFE and U+10FFFE are escaped, next to an escaped quote');
like($t, qr/"id":"exp\\udbff\\udfff\\udbff\\udfff"/, 'in emit()\'s resource id');
my $n5 = () = $t =~ /"subject_id":"dr \\ud93f\\udffe"/g;
is($n5, 4, 'in bh_audit.actor_id (emit()\'s event and the three reads)');
my $n2 = () = $t =~ /"pat\xef\xbf\xbf\xf4\x8f\xbf\xbd\xf0\x9f\x98\x80"/g;
is($n2, 2, 'U+FFFF, U+10FFFD and U+1F600 stay raw');
unlike($t, qr/[\xf0-\xf4][\x8f\x9f\xaf\xbf]\xbf[\xbe\xbf]/,
	'no astral noncharacter is left raw');
$node->stop;

#--------------------------------------------------------------------------
# A SQL_ASCII database: the UTF-8 bytes of a noncharacter are escaped too.
#--------------------------------------------------------------------------
$node = bh_encoding_node('nonchars_sql_ascii', 'SQL_ASCII', undef);
$node->safe_psql('audit', q{
SELECT bh_audit.emit('READ', 'Patient', E'sa\xf4\x8f\xbf\xbf', E'sa\xf0\x9f\xbf\xbe\xf4\x8f\xbf\xbd') IS NOT NULL;
SELECT bh_audit.seal();
});
is($node->safe_psql('audit', 'SELECT result FROM bh_audit.verify_chain()'), 'PASS',
	'SQL_ASCII: verify_chain() passes');
$t = export_to($node, 'audit', "$tmp/sql_ascii.jsonl", '--set=FETCH_COUNT=1000');
($ok, $report) = verify_file("$tmp/sql_ascii.jsonl");
ok($ok, 'SQL_ASCII: the export passes the independent verifier') or diag($report);
is(read_back("$tmp/sql_ascii.jsonl"), $node->safe_psql('audit', $ledger_rows),
	'SQL_ASCII: read back, the lines have the ledger\'s hashes and ids');
like($t, qr/"id":"sa\\udbff\\udfff","patient_id":"sa\\ud83f\\udffe\xf4\x8f\xbf\xbd"/,
	'SQL_ASCII: U+10FFFF and U+1FFFE are escaped, U+10FFFD is raw');
$node->stop;

#--------------------------------------------------------------------------
# A LATIN1 database: the same bytes are four other characters.
#--------------------------------------------------------------------------
$node = bh_encoding_node('nonchars_latin1', 'LATIN1', undef);
$node->safe_psql('audit', q{
SELECT bh_audit.emit('READ', 'Patient', E'l1\xf4\x8f\xbf\xbf', 'p') IS NOT NULL;
SELECT bh_audit.seal();
});
$t = export_to($node, 'audit', "$tmp/latin1.jsonl");
($ok, $report) = verify_file("$tmp/latin1.jsonl");
ok($ok, 'LATIN1: the export passes the independent verifier') or diag($report);
like($t, qr/"id":"l1\xc3\xb4\xc2\x8f\xc2\xbf\xc2\xbf"/,
	'LATIN1: the bytes are exported as the characters they are there');
$node->stop;

done_testing();
