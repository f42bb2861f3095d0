# The sealer (the bootstrap superuser, in a background worker) must not
# resolve names through a search_path that a role other than a superuser
# chose.  It evaluates the defaults of the columns a superuser added to
# bh_audit.events (ledger_write.c) for every row it seals, and a function
# such a default calls may name other functions unqualified; the worker
# takes its search_path from the database's settings, which the database's
# owner sets (ALTER DATABASE ... SET search_path), so a function of the
# owner's of the same name as a built-in one, ahead of pg_catalog, ran as
# the bootstrap superuser at each seal: the owner became superuser.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('sealer_search_path');

# A superuser's column on the ledger, its default a function that leaves
# name resolution to the session (no SET search_path of its own).
$node->safe_psql('postgres', q{
CREATE FUNCTION public.ledger_tag() RETURNS text LANGUAGE sql
    AS $$ SELECT lower('Sealed'::text) $$;
ALTER TABLE bh_audit.events ADD COLUMN tag text DEFAULT public.ledger_tag();
CREATE ROLE dbo LOGIN;
ALTER DATABASE postgres OWNER TO dbo;
});

# The database's owner, not a superuser: a lower(text) of hers first on
# the database's search_path.
$node->safe_psql('postgres', q{
SET ROLE dbo;
CREATE SCHEMA evil;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE dbo SUPERUSER';
    END IF;
    RETURN 'evil';
END $$;
ALTER DATABASE postgres SET search_path = evil, pg_catalog, public;
});
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'}),
	'f', 'the database owner is not a superuser');

# The sealer starts with the database's settings.
$node->restart;
$node->safe_psql('postgres', q{
SELECT bh_audit.emit('READ', 'Doc', 'after_restart', 'p1');
SELECT bh_audit.seal();
});
is($node->safe_psql('postgres',
		q{SELECT tag FROM bh_audit.events WHERE resource_id = 'after_restart'}),
	'sealed', 'the default is evaluated with pg_catalog\'s lower()');
is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'}),
	'f', 'the database owner\'s function did not run as the sealer');

$node->stop;
done_testing();
