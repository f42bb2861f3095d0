# A LOGIN event refused after its database was chosen (an invalid startup
# option) goes to the ring as of that database's encoding (capture_login.c,
# 33a0dc1), but its role's and database's names are still the bytes of the
# startup packet, which match the catalog's bytes, in whatever encoding the
# name was created in: a role 'josé' (or a database 'clínica') created
# from a LATIN1 database is 'jos\xe9' ('cl\xednica'), not UTF-8.  Its
# FAILURE event into a UTF8 database must be sealed as the SUCCESS event
# is (each byte that starts no character U+FFFD), not with the raw byte,
# which breaks the export's verification.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';
my $node = bh_encoding_node('login_failure_name_bytes', 'UTF8', 'LATIN1',
	conf => "bh_audit.log_connections = on\n");
# created from the LATIN1 database: stored as LATIN1 bytes, 'jos\xe9'
$node->safe_psql('clinic', "CREATE ROLE \"jos\xc3\xa9\" LOGIN");
my $mark = bh_seal_mark($node, 'audit');
bh_login_refused_late($node, 'audit',
	'the login is refused after the database was chosen', '-U', "jos\xe9");
$node->psql('audit', 'SELECT 1', extra_params => [ '-U', "jos\xe9" ]);
bh_wait_sealed($node, 'audit', "seq > $mark AND action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'audit' AND substring(textsend(event -> 'metadata' ->> 'role') FROM 1 FOR 3) = 'jos'::bytea", 2);
is($node->safe_psql('audit', qq{
SELECT string_agg(outcome || ' ' || ((event -> 'metadata' ->> 'role') = 'jos' || U&'\\FFFD'), ',' ORDER BY outcome)
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'audit'
   AND substring(textsend(event -> 'metadata' ->> 'role') FROM 1 FOR 3) = 'jos'::bytea}),
	'FAILURE true,SUCCESS true',
	'the role name that is no UTF-8 is sealed as U+FFFD in both LOGIN events');

# the same for a database's name: 'clínica' created from the LATIN1 database
$node->safe_psql('clinic',
	"CREATE DATABASE \"cl\xc3\xadnica\" ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$mark = bh_seal_mark($node, 'audit');
bh_login_refused_late($node, "cl\xednica",
	'the login to the database named in LATIN1 bytes is refused after it was chosen');
$node->psql("cl\xednica", 'SELECT 1');
bh_wait_sealed($node, 'audit', "seq > $mark AND action = 'LOGIN' AND substring(textsend(event -> 'metadata' ->> 'database') FROM 1 FOR 2) = 'cl'::bytea", 2);
is($node->safe_psql('audit', qq{
SELECT string_agg(outcome || ' ' || ((event -> 'metadata' ->> 'database') = 'cl' || U&'\\FFFD' || 'nica'), ',' ORDER BY outcome)
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'LOGIN'
   AND substring(textsend(event -> 'metadata' ->> 'database') FROM 1 FOR 2) = 'cl'::bytea}),
	'FAILURE true,SUCCESS true',
	'the database name that is no UTF-8 is sealed as U+FFFD in both LOGIN events');
bh_chain_valid($node, 'audit');
bh_export_verified($node, 'audit', 'login_failure_name_bytes');
done_testing();
