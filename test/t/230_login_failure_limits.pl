# A LOGIN event keeps within the schema's maxLength whatever the encoding
# of the database the client asked for.  capture_login.c pushes its events
# to the ring as of PG_SQL_ASCII (bytes of no known encoding, which the
# sealer reads as UTF-8, each byte that starts no sequence U+FFFD), but a
# login refused after the database was chosen (an invalid startup option,
# PGOPTIONS='-c work_mem=bogus') has its FAILURE event built, and its
# strings cut, in that database's encoding (event.c bh_truncate()): in an
# EUC_JP database, a service name of 128 JIS X 0212 characters (8F B0 A1,
# 384 bytes) from postgresql.conf is 128 characters there and is kept
# whole, then sealed as 384 U+FFFD, over service.name's 128.  The SUCCESS
# event, built during authentication (before the database's encoding is
# set), is cut to 128.  In a LATIN1 database, a service name of 200 'é' in
# UTF-8 (400 bytes, 400 LATIN1 characters) was cut there to 125 bytes, in
# the middle of a UTF-8 character, and sealed as SQL_ASCII: 62 'é', U+FFFD;
# pushed as of LATIN1, the event is sealed as its database sees it, 125
# LATIN1 characters and "...".
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';
my $name = "\x8f\xb0\xa1" x 128;
my $node = bh_encoding_node('login_failure_limits', 'UTF8', 'EUC_JP',
	conf => "bh_audit.log_connections = on\nbh_audit.service_name = '$name'\n");
my $mark = bh_seal_mark($node, 'audit');
bh_login_refused_late($node, 'clinic',
	'the login is refused after the database was chosen');
$node->safe_psql('clinic', 'SELECT 1');
bh_wait_sealed($node, 'audit', "seq > $mark AND action = 'LOGIN'", 2);
is($node->safe_psql('audit', qq{
SELECT string_agg(outcome, ',' ORDER BY outcome) FROM bh_audit.events
 WHERE seq > $mark AND action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'clinic'}),
	'FAILURE,SUCCESS', 'both logins are recorded');
is($node->safe_psql('audit', qq{
SELECT string_agg(outcome || ' ' || (length(event -> 'service' ->> 'name') <= 128), ',' ORDER BY outcome)
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'clinic'}),
	'FAILURE true,SUCCESS true',
	'service.name is at most 128 code points in both LOGIN events');

# LATIN1: the value is UTF-8 bytes, each a LATIN1 character there
$node->safe_psql('postgres',
	"CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
$node->append_conf('postgresql.conf', "bh_audit.service_name = '" . ("\xc3\xa9" x 200) . "'\n");
$node->reload;
$node->poll_query_until('audit',
	"SELECT current_setting('bh_audit.service_name') = repeat('\xc3\xa9', 200)");
$mark = bh_seal_mark($node, 'audit');
bh_login_refused_late($node, 'latin',
	'the login to the LATIN1 database is refused after it was chosen');
$node->safe_psql('latin', 'SELECT 1');
bh_wait_sealed($node, 'audit', "seq > $mark AND action = 'LOGIN'", 2);
is($node->safe_psql('audit', qq{
SELECT string_agg(outcome || ' ' || (event -> 'service' ->> 'name' = CASE outcome
	WHEN 'SUCCESS' THEN repeat('\xc3\xa9', 125)
	ELSE convert_from(substring(convert_to(repeat('\xc3\xa9', 200), 'UTF8') FROM 1 FOR 125), 'LATIN1')
	END || '...'), ',' ORDER BY outcome)
  FROM bh_audit.events
 WHERE seq > $mark AND action = 'LOGIN' AND event -> 'metadata' ->> 'database' = 'latin'}),
	'FAILURE true,SUCCESS true',
	'LATIN1: the FAILURE is sealed as that database reads the value (125 characters and ...), the SUCCESS, built before, as UTF-8 (125 characters and ...)');

bh_chain_valid($node, 'audit');
done_testing();
