# Which functions given a tagged table's rows are exempt from the "filter
# shows rows" rule (read-capture.md, "What counts as a read"), against a
# reader who steers them.  An exemption stands for code the reader neither
# chose nor can change: an extension's function that runs no SQL (IMMUTABLE,
# owned by a superuser), the table owner's own functions and those of its
# row-level security policies for a reader without the privileges of their
# owner, and in each case only a function that resolves no name by a
# search_path the reader sets or a schema the reader may create in.  Each
# steered case shows the reader every row (NOTICE) and must record every
# patient read; each control records only the rows produced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('shown_rows_exemptions');
$node->safe_psql('postgres', q{
CREATE EXTENSION tablefunc;
CREATE ROLE owner_r NOLOGIN;
CREATE ROLE reader LOGIN;
CREATE ROLE analyst LOGIN;
GRANT CREATE ON DATABASE postgres TO analyst;
CREATE ROLE member_r LOGIN IN ROLE owner_r;
CREATE SCHEMA clinic AUTHORIZATION owner_r;
CREATE SCHEMA evil AUTHORIZATION reader;
GRANT USAGE ON SCHEMA clinic TO reader, analyst;
GRANT CREATE ON SCHEMA public TO reader;
SET ROLE owner_r;
CREATE TABLE clinic.notes (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO clinic.notes SELECT g, 'p' || g, 'secret' || g FROM generate_series(1, 5) g;
GRANT SELECT ON clinic.notes TO reader, analyst;
-- the owner's helpers: unpinned, pinned, pinned to '' (the session's
-- temporary schema first), pinned to a schema the reader may create in
CREATE FUNCTION clinic.norm(t text) RETURNS text LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN lower(t); END $$;
CREATE FUNCTION clinic.norm_pinned(t text) RETURNS text LANGUAGE plpgsql STABLE
  SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN lower(t); END $$;
CREATE FUNCTION clinic.norm_empty(t text) RETURNS text LANGUAGE plpgsql STABLE
  SET search_path = '' AS $$ BEGIN RETURN lower(t::text); END $$;
CREATE FUNCTION clinic.norm_public(t text) RETURNS text LANGUAGE plpgsql STABLE
  SET search_path = public, pg_catalog, pg_temp AS $$ BEGIN RETURN lower(t); END $$;
-- row-level security through a SECURITY DEFINER helper, unpinned and pinned
CREATE TABLE clinic.rl (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO clinic.rl SELECT g, 'p' || g, 'rsecret' || g FROM generate_series(1, 5) g;
CREATE FUNCTION clinic.can_see(p text) RETURNS bool LANGUAGE plpgsql STABLE SECURITY DEFINER
  AS $$ BEGIN RETURN lower(p) = 'p1'; END $$;
ALTER TABLE clinic.rl ENABLE ROW LEVEL SECURITY;
CREATE POLICY pol ON clinic.rl FOR SELECT USING (clinic.can_see(pid));
GRANT SELECT ON clinic.rl TO reader;
CREATE TABLE clinic.rl2 (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO clinic.rl2 SELECT * FROM clinic.rl;
CREATE FUNCTION clinic.can_see_pinned(p text) RETURNS bool LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN lower(p) = 'p1'; END $$;
ALTER TABLE clinic.rl2 ENABLE ROW LEVEL SECURITY;
CREATE POLICY pol ON clinic.rl2 FOR SELECT USING (clinic.can_see_pinned(pid));
GRANT SELECT ON clinic.rl2 TO reader;
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'pid');
SELECT bh_audit.tag_table('clinic.rl', 'Note', 'id', 'pid');
SELECT bh_audit.tag_table('clinic.rl2', 'Note', 'id', 'pid');
SET ROLE reader;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
CREATE FUNCTION evil.lower(t text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'hijack: %', t; RETURN pg_catalog.lower(t); END $$;
RESET ROLE;
});

my ($read, $seen);

# 6. An extension's function that runs SQL built from the row (tablefunc's
# crosstab, STABLE, a trusted extension) calling the reader's function.
($read, $seen) = bh_reads_as($node, 'c6', 'reader', q{
CREATE FUNCTION pg_temp.leak(t text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'leak: %', t; RETURN t; END $$;
SELECT id FROM clinic.notes n
 WHERE (SELECT count(*) FROM public.crosstab('SELECT ''a''::text, ''b''::text, pg_temp.leak('
        || quote_literal(n.pid || ' ' || n.body) || ')') AS ct(r text, c text)) < 0;});
like($seen, qr/leak: p4 secret4/, 'case 6: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 6: crosstab() running the reader's SQL: every row read");

# 7. A role with CREATE on the database installs a trusted extension (it
# owns it) and adds its own function to it, IMMUTABLE and pinned: an
# extension's function owned by no superuser counts.
($read, $seen) = bh_reads_as($node, 'c7', 'analyst', q{
CREATE SCHEMA an;
CREATE EXTENSION tcn SCHEMA an;
CREATE FUNCTION an.peek(t text) RETURNS bool LANGUAGE plpgsql IMMUTABLE
  SET search_path = pg_catalog, pg_temp
  AS $$ BEGIN RAISE NOTICE 'peek: %', t; RETURN false; END $$;
ALTER EXTENSION tcn ADD FUNCTION an.peek(text);
SELECT id FROM clinic.notes WHERE an.peek(pid || ' ' || body);});
like($seen, qr/peek: p4 secret4/, 'case 7: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 7: the reader's function added to the reader's extension: every row read");

# 8. A member of the owner's role creates a (pinned) function and gives it
# to the owner: the reader has the privileges of its owner, it counts.
($read, $seen) = bh_reads_as($node, 'c8', 'member_r', q{
CREATE FUNCTION clinic.peek(t text) RETURNS bool LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
  AS $$ BEGIN RAISE NOTICE 'peek: %', t; RETURN false; END $$;
ALTER FUNCTION clinic.peek(text) OWNER TO owner_r;
SELECT id FROM clinic.notes WHERE clinic.peek(pid || ' ' || body);});
like($seen, qr/peek: p4 secret4/, 'case 8: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 8: a member of the owner's role, the owner's function: every row read");

# Control: the same function, the owner's and pinned, in the query of a
# reader without the owner's privileges: exempt, no row produced, none read.
($read, $seen) = bh_reads_as($node, 'c8b', 'reader', q{
SELECT id FROM clinic.notes WHERE clinic.peek(pid || ' ' || body);});
like($seen, qr/peek: p4 secret4/, "control: the owner's function ran");
is($read, '', "control: the owner's pinned function, another reader: no row read");

# 9. The owner's function (no SET search_path) calls lower() unqualified:
# the reader's search_path puts the reader's lower() first.
($read, $seen) = bh_reads_as($node, 'c9', 'reader', q{
SET search_path = evil, pg_catalog;
SELECT id FROM clinic.notes WHERE clinic.norm(body) OPERATOR(pg_catalog.=) 'secret2';});
like($seen, qr/hijack: secret4/, 'case 9: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 9: the owner's function running the reader's lower(): every row read");

# 9b. SET search_path = '': the session's temporary schema is still searched
# first for types, where the reader puts a domain "text" whose CHECK calls
# the reader's function.
($read, $seen) = bh_reads_as($node, 'c9b', 'reader', q{
CREATE FUNCTION pg_temp.leak(t text) RETURNS bool LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'leak: %', t; RETURN true; END $$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.leak(VALUE));
SELECT id FROM clinic.notes WHERE clinic.norm_empty(body) OPERATOR(pg_catalog.=) 'secret2';});
like($seen, qr/leak: secret4/, 'case 9b: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 9b: the owner's function pinned to '': every row read");

# 9c. Pinned to a schema the reader may create in.
($read, $seen) = bh_reads_as($node, 'c9c', 'reader', q{
CREATE FUNCTION public.lower(t text) RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'hijack: %', t; RETURN pg_catalog.lower(t); END $$;
SELECT id FROM clinic.notes WHERE clinic.norm_public(body) OPERATOR(pg_catalog.=) 'secret2';
DROP FUNCTION public.lower(text);});
like($seen, qr/hijack: secret4/, 'case 9c: the client saw every row');
is($read, 'p1,p2,p3,p4,p5', "case 9c: the owner's function pinned to a schema the reader writes: every row read");

# Control: the owner's pinned function, whatever the reader's search_path:
# the row produced only.
($read, $seen) = bh_reads_as($node, 'c9d', 'reader', q{
SET search_path = evil, pg_catalog;
SELECT id FROM clinic.notes WHERE clinic.norm_pinned(body) OPERATOR(pg_catalog.=) 'secret2';});
unlike($seen, qr/hijack/, "control: the owner's pinned function is not steered");
is($read, 'p2', "control: the owner's pinned function: the row produced only");

# 10. The same through a row-level security policy's function: the rows the
# policy hides reach the reader's code.
($read, $seen) = bh_reads_as($node, 'c10', 'reader', q{
SET search_path = evil, pg_catalog;
SELECT * FROM clinic.rl;});
like($seen, qr/hijack: p4/, 'case 10: the client saw the hidden rows');
is($read, 'p1,p2,p3,p4,p5', "case 10: the policy's function running the reader's lower(): every row read");

# Control: the policy's helper with SET search_path: the rows it showed.
($read, $seen) = bh_reads_as($node, 'c10b', 'reader', q{
SET search_path = evil, pg_catalog;
SELECT * FROM clinic.rl2;});
unlike($seen, qr/hijack/, "control: the policy's pinned helper is not steered");
like($seen, qr/rsecret1/, 'control: the policy showed p1');
is($read, 'p1', "control: the policy's pinned helper: the rows the policy showed only");

$node->stop;
done_testing();
