# CREATE EXTENSION bh_audit into a schema bh_audit that already exists
# keeps that schema's privileges (own_acl.c resets only a schema the
# extension's CREATE EXTENSION made).  It tells the two apart by the
# schema row's xmin being the current transaction's: a schema that exists
# from before, but whose row this transaction changed (a GRANT, ALTER
# SCHEMA ... OWNER TO, COMMENT ON SCHEMA does not), has its privileges
# wiped to PostgreSQL's built-in ones when CREATE EXTENSION
# runs in the same transaction (a migration run in one transaction), and
# keeps them when the GRANT was committed before.  Right: a schema that
# existed before CREATE EXTENSION keeps its grants either way.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main', extension => 0);
$node->safe_psql('postgres', q{
CREATE ROLE reporting NOLOGIN;
CREATE ROLE etl NOLOGIN;
CREATE DATABASE other;
});

# The schema and its grant committed before CREATE EXTENSION.
$node->safe_psql('postgres', q{
CREATE SCHEMA bh_audit;
GRANT USAGE ON SCHEMA bh_audit TO reporting;
});
$node->safe_psql('postgres', 'CREATE EXTENSION bh_audit');
is($node->safe_psql('postgres', q{SELECT nspacl::text[] @> ARRAY['reporting=U/postgres']
   FROM pg_namespace WHERE nspname = 'bh_audit'}),
	't', 'an existing schema\'s grant is kept');

# The schema committed before, a grant in the transaction of CREATE EXTENSION.
$node->safe_psql('other', q{
CREATE SCHEMA bh_audit;
GRANT USAGE ON SCHEMA bh_audit TO reporting;
});
$node->safe_psql('other', q{
BEGIN;
GRANT USAGE ON SCHEMA bh_audit TO etl;
CREATE EXTENSION bh_audit;
COMMIT;
});
is($node->safe_psql('other', q{SELECT nspacl::text[] @> ARRAY['reporting=U/postgres', 'etl=U/postgres']
   FROM pg_namespace WHERE nspname = 'bh_audit'}),
	't', 'an existing schema\'s grants, one of them made in the same transaction, are kept');

$node->stop;
done_testing();
