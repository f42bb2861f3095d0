# An API layer in the PostgREST / Supabase style: one pooled login
# (authenticator, NOINHERIT) serves every HTTP request as one transaction
# that switches role for the transaction only (set_config('role', ..., true),
# i.e. SET LOCAL ROLE), states the JWT claims (request.jwt.claims) and calls
# the application's pre-request function, which copies the claims into
# bh_audit's context with set_config(..., true).  Row-level security on the
# tagged table shows each clinician the patients assigned to them.
#
# Every event of such a request must name the end user (actor), the login
# (db_user = authenticator) and the role whose privileges the statement used
# (db_role: web_user, or a SECURITY DEFINER function's owner) — also the
# READ events of a request whose statement fails after reading (a division
# by zero, a statement timeout, an error raised in an RPC): PostgreSQL's abort
# restores the role of the transaction's start (the login) before bh_audit
# flushes the failing statement's reads, and those READ events came out
# without db_role (or with the caller's role instead of the definer's),
# while the FAILURE event next to them named it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('api_layer_roles');
$node->safe_psql('postgres', q{
CREATE ROLE clinic_owner NOLOGIN;
CREATE ROLE authenticator LOGIN NOINHERIT;
CREATE ROLE web_user NOLOGIN;
CREATE ROLE anon NOLOGIN;
GRANT web_user, anon TO authenticator;
CREATE SCHEMA clinic AUTHORIZATION clinic_owner;
CREATE SCHEMA api;
GRANT USAGE ON SCHEMA api TO web_user, anon;
GRANT USAGE ON SCHEMA clinic TO web_user;
SET ROLE clinic_owner;
CREATE TABLE clinic.notes (note_id int PRIMARY KEY, patient_id text, body text);
CREATE TABLE clinic.assignments (clinician text, patient_id text);
INSERT INTO clinic.notes SELECT i, 'pat_' || lpad((1 + (i - 1) % 20)::text, 3, '0'), 'body'
  FROM generate_series(1, 60) i;
INSERT INTO clinic.assignments SELECT 'dr_rivera', 'pat_' || lpad(i::text, 3, '0')
  FROM generate_series(1, 5) i;
ALTER TABLE clinic.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY assigned ON clinic.notes USING (patient_id IN (
  SELECT a.patient_id FROM clinic.assignments a
   WHERE a.clinician = current_setting('request.jwt.claims', true)::json ->> 'sub'));
GRANT SELECT ON clinic.notes, clinic.assignments TO web_user;
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'note_id', 'patient_id');
CREATE VIEW api.notes WITH (security_invoker = on) AS SELECT * FROM clinic.notes;
GRANT SELECT ON api.notes TO web_user, anon;
CREATE FUNCTION api.pre_request() RETURNS void LANGUAGE plpgsql AS $$
DECLARE c json := current_setting('request.jwt.claims', true)::json;
BEGIN
  PERFORM set_config('bh_audit.actor_id', c ->> 'sub', true);
  PERFORM set_config('bh_audit.actor_roles', c ->> 'role', true);
END $$;
-- an RPC reading PHI for its caller with its owner's privileges
CREATE FUNCTION api.note_ratio(pid text) RETURNS SETOF int LANGUAGE sql SECURITY DEFINER
  SET search_path = '' AS $$ SELECT 1 / (note_id - note_id) FROM clinic.notes WHERE patient_id = pid $$;
ALTER FUNCTION api.note_ratio(text) OWNER TO clinic_owner;
});

my $claims = '{"sub":"dr_rivera","role":"web_user"}';

# One request, as PostgREST sends it; returns psql's stderr.
sub request
{
	my ($query) = @_;
	my ($stdout, $stderr);
	$node->psql('postgres', qq{
BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT set_config('search_path', 'api', true), set_config('role', 'web_user', true),
       set_config('request.jwt.claims', '$claims', true);
SELECT api.pre_request();
$query
COMMIT;},
		stdout => \$stdout, stderr => \$stderr, extra_params => [ '-U', 'authenticator' ]);
	return $stderr;
}

my $mark = 0;
# the events since the last call: action|patient|outcome|actor|db_user|db_role
sub events
{
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $rows = $node->safe_psql('postgres', qq{
SELECT action, coalesce(patient_id, ''), outcome, actor_id,
       event -> 'metadata' ->> 'db_user', coalesce(event -> 'metadata' ->> 'db_role', '-')
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Note'
 ORDER BY outcome, patient_id});
	$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
	return $rows;
}

my $five_reads = join("\n",
	map { "READ|pat_00$_|SUCCESS|dr_rivera|authenticator|web_user" } 1 .. 5);

events();
request(q{WITH pgrst_source AS (SELECT notes.* FROM api.notes)
 SELECT count(_t) FROM (SELECT * FROM pgrst_source) _t;});
is(events(), $five_reads,
	'a request reads exactly the five patients RLS shows: actor from the claims, db_role web_user');

# The same request failing once its rows are read (a division by zero in
# the outer query): the five reads stand, and are web_user's as above.
like(request(q{WITH pgrst_source AS (SELECT notes.* FROM api.notes)
 SELECT count(_t), 1 / (count(_t) - 15) FROM (SELECT * FROM pgrst_source) _t;}),
	qr/division by zero/, 'the failing request fails');
is(events(),
	"READ||FAILURE|dr_rivera|authenticator|web_user\n$five_reads",
	'a request failing after its reads: every READ names db_role web_user, as its FAILURE does');

# A statement timeout cancelling the request's scan: the rows read until
# then are web_user's reads.
like(request(q{SET LOCAL statement_timeout = '250ms';
SELECT patient_id, pg_sleep(0.1) FROM api.notes;}),
	qr/statement timeout/, 'the request is cancelled');
my @timeout = split /\n/, events();
is(scalar(grep { /\|web_user$/ } @timeout), scalar(@timeout),
	'a request cancelled by statement_timeout: every event names db_role web_user')
  or diag(join("\n", @timeout));

# A SECURITY DEFINER RPC failing on the row it reads for its caller: the
# row's READ is the definer's read, as the FAILURE is.
like(request(q{SELECT * FROM api.note_ratio('pat_017');}),
	qr/division by zero/, 'the RPC fails');
is(events(),
	"READ||FAILURE|dr_rivera|authenticator|clinic_owner\n"
	  . "READ|pat_017|SUCCESS|dr_rivera|authenticator|clinic_owner",
	'a failing SECURITY DEFINER RPC: the READ of the row it failed on names the definer, as its FAILURE does');

# A request failing in parse analysis (a value that does not convert):
# its FAILURE, recorded as the transaction aborts, names web_user too.
like(request(q{SELECT * FROM api.notes WHERE note_id = 'abc';}),
	qr/invalid input syntax/, 'the request fails in parse analysis');
is(events(), 'READ||FAILURE|dr_rivera|authenticator|web_user',
	'a request failing in parse analysis: its FAILURE names db_role web_user');

# A cursor opened as web_user and read after RESET ROLE: its reads used
# web_user's privileges (checked as it opened), and name that role.
request(q{DECLARE c CURSOR FOR SELECT patient_id FROM api.notes;
RESET ROLE;
FETCH ALL FROM c;
CLOSE c;});
is(events(), $five_reads,
	'a cursor read after RESET ROLE: its READs name the role it was opened as');

$node->stop;
done_testing();
