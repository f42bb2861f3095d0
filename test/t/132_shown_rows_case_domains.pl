# A scan's filter that gives the row to a function a user defined reads
# every row it is given (docs/read-capture.md, "What counts as a read"),
# also when the row reaches the function without being named in its
# arguments: as the value a CASE compares (CASE x WHEN ...), as each
# element of an array cast element-wise, as the old value of a field or an
# element an UPDATE's SET assigns, and as a value checked by a domain's
# CHECK inside a composite, array or domain type made from it (a cast
# through text, json_populate_record(), record_in(), a column definition
# list, XMLTABLE's columns).  The controls: the same statements with
# built-in operators, casts and domains, or with the user's function given
# no value of the row, read only the rows produced.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('shown_rows_case_domains');
$node->safe_psql('postgres', q{
CREATE ROLE owner_r NOLOGIN;
CREATE ROLE reader LOGIN;
CREATE SCHEMA clinic AUTHORIZATION owner_r;
CREATE SCHEMA evil AUTHORIZATION reader;
GRANT USAGE ON SCHEMA clinic TO reader;
SET ROLE owner_r;
CREATE TABLE clinic.notes (id int PRIMARY KEY, pid text NOT NULL, body text);
INSERT INTO clinic.notes SELECT g, 'p' || g, 'secret' || g FROM generate_series(1, 5) g;
GRANT SELECT ON clinic.notes TO reader;
RESET ROLE;
SELECT bh_audit.tag_table('clinic.notes', 'Note', 'id', 'pid');
SET ROLE reader;
CREATE FUNCTION evil.eq(a text, b text) RETURNS bool LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'eq: %', a; RETURN a OPERATOR(pg_catalog.=) b; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq);
CREATE TYPE evil.ct AS (x text);
CREATE FUNCTION evil.toct(t text) RETURNS evil.ct LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'cast: %', t; RETURN ROW(t); END $$;
CREATE CAST (text AS evil.ct) WITH FUNCTION evil.toct(text);
CREATE FUNCTION evil.chk(t text) RETURNS bool LANGUAGE plpgsql
  AS $$ BEGIN RAISE NOTICE 'chk: %', t; RETURN true; END $$;
CREATE DOMAIN evil.d AS text CHECK (evil.chk(VALUE));
CREATE TYPE evil.r AS (x evil.d);
-- the controls' types: a domain whose CHECK calls built-in functions only
CREATE DOMAIN evil.bd AS text CHECK (VALUE <> '');
CREATE TYPE evil.br AS (x evil.bd);
CREATE TYPE evil.pr AS (x text);
-- a table of the reader's: the old value of a field or an element
CREATE TYPE evil.it AS (x text, y text);
CREATE DOMAIN evil.dd AS evil.it CHECK (evil.chk((VALUE).y));
CREATE TYPE evil.ot AS (f evil.dd);
CREATE TABLE evil.own (id int PRIMARY KEY, pid text NOT NULL, c evil.ot, a evil.dd[]);
INSERT INTO evil.own SELECT g, 'p' || g, ROW(ROW('x', 'y' || g)::evil.dd)::evil.ot, ARRAY[ROW('x', 'y' || g)::evil.dd]
  FROM generate_series(1, 3) g;
RESET ROLE;
SELECT bh_audit.tag_table('evil.own', 'Note', 'id', 'pid');
});

my @cases = (
	# CASE x WHEN ...: the reader's operator (through the search_path) is
	# given the row's value to compare
	[ 'case', q{SET search_path = evil, pg_catalog;
SELECT id FROM clinic.notes WHERE CASE body WHEN 'secret2' THEN true ELSE false END},
	  qr/eq: secret4/, 'p1,p2,p3,p4,p5' ],
	# a user's cast run on each element of an array made from the row
	[ 'elem_cast', q{SELECT id FROM clinic.notes
 WHERE (string_to_array(pid || ' ' || body, ',')::evil.ct[])[1] IS NULL},
	  qr/cast: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# each element cast to a domain whose CHECK is the reader's
	[ 'elem_domain', q{SELECT id FROM clinic.notes
 WHERE (string_to_array(pid || ' ' || body, ',')::evil.d[])[1] IS NULL},
	  qr/chk: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# a domain's CHECK reached through a composite type's input
	[ 'composite_in', q{SELECT id FROM clinic.notes
 WHERE ('(' || pid || '-' || body || ')')::evil.r IS NULL},
	  qr/chk: p4-secret4/, 'p1,p2,p3,p4,p5' ],
	# through an array's input
	[ 'array_in', q{SELECT id FROM clinic.notes
 WHERE ('{"' || pid || ' ' || body || '"}')::evil.d[] IS NULL},
	  qr/chk: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# through json_populate_record() into the composite type
	[ 'populate', q{SELECT id FROM clinic.notes
 WHERE json_populate_record(null::evil.r, json_build_object('x', pid || ' ' || body)) IS NULL},
	  qr/chk: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# through record_in() given the type
	[ 'record_in', q{SELECT id FROM clinic.notes
 WHERE record_in(('(' || pid || ' ' || body || ')')::cstring, 'evil.r'::regtype, -1) IS NULL},
	  qr/chk: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# through a column definition list, in a subquery given the row
	[ 'coldef', q{SELECT id FROM clinic.notes n
 WHERE (SELECT x FROM jsonb_to_record(jsonb_build_object('x', n.pid || ' ' || n.body))
          AS t(x evil.d)) IS NULL},
	  qr/chk: p4 secret4/, 'p1,p2,p3,p4,p5' ],
	# through XMLTABLE's columns, in a subquery given the row
	[ 'xmltable', q{SELECT id FROM clinic.notes n
 WHERE (SELECT x FROM XMLTABLE('/a' PASSING xmlparse(content '<a>' || n.body || '</a>')
          COLUMNS x evil.d PATH '.')) IS NULL},
	  qr/chk: secret4/, 'p1,p2,p3,p4,p5' ],
	# an UPDATE of a field of a field of the reader's table: the domain's
	# CHECK is given the field's old value (its y), for the row written
	[ 'field_store', q{UPDATE evil.own SET c.f.x = 'z' WHERE id = 2},
	  qr/chk: y2/, 'p2' ],
	# of a field of an array's element
	[ 'element_store', q{UPDATE evil.own SET a[1].x = 'z' WHERE id = 2},
	  qr/chk: y2/, 'p2' ],

	# The controls: only the row produced (p2) is read.
	[ 'case_builtin', q{SET search_path = pg_catalog;
SELECT id FROM clinic.notes WHERE CASE body WHEN 'secret2' THEN true ELSE false END},
	  qr/^\s*2\s*$/m, 'p2' ],
	# the reader's operator compares a value not of the row
	[ 'case_not_row', q{SET search_path = evil, pg_catalog;
SELECT id FROM clinic.notes
 WHERE CASE current_user::text WHEN 'reader' THEN body OPERATOR(pg_catalog.=) 'secret2' END},
	  qr/eq: reader/, 'p2' ],
	# the same inside a CASE whose argument is the row's
	[ 'case_nested_not_row', q{SET search_path = evil, pg_catalog;
SELECT id FROM clinic.notes
 WHERE CASE id WHEN length(CASE current_user::text WHEN 'x' THEN 'a' ELSE 'bb' END) THEN true END},
	  qr/eq: reader/, 'p2' ],
	[ 'elem_cast_builtin', q{SELECT id FROM clinic.notes
 WHERE (string_to_array(pid || ' ' || body, ',')::varchar(9)[])[1] = 'p2 secret'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'elem_domain_builtin', q{SELECT id FROM clinic.notes
 WHERE (string_to_array(pid || ' ' || body, ',')::evil.bd[])[1] = 'p2 secret2'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'composite_in_builtin', q{SELECT id FROM clinic.notes
 WHERE (('(' || pid || '-' || body || ')')::evil.br).x = 'p2-secret2'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'composite_in_plain', q{SELECT id FROM clinic.notes
 WHERE (('(' || pid || '-' || body || ')')::evil.pr).x = 'p2-secret2'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'array_in_builtin', q{SELECT id FROM clinic.notes
 WHERE (('{"' || pid || ' ' || body || '"}')::evil.bd[])[1] = 'p2 secret2'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'record_in_plain', q{SELECT id FROM clinic.notes
 WHERE record_in(('(' || pid || ')')::cstring, 'evil.pr'::regtype, -1)::text = '(p2)'},
	  qr/^\s*2\s*$/m, 'p2' ],
	[ 'populate_builtin', q{SELECT id FROM clinic.notes
 WHERE (json_populate_record(null::evil.br, json_build_object('x', pid || ' ' || body))).x = 'p2 secret2'},
	  qr/^\s*2\s*$/m, 'p2' ],
	# the domain's CHECK given constants only: the row written is not read
	[ 'field_store_const', q{UPDATE evil.own SET c.f = ROW('z', 'w') WHERE id = 2},
	  qr/chk: w/, '' ],
);

for my $c (@cases)
{
	my ($name, $sql, $shown, $read) = @$c;
	my ($got, $seen) = bh_reads_as($node, $name, 'reader', $sql);
	like($seen, $shown, "$name: the client saw the expected output");
	is($got, $read, "$name: patients read");
}

done_testing();
