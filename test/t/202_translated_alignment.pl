# Under a translated lc_messages, the errors bh_audit recognises by their
# message are recorded as under lc_messages = C (read-capture.md; the
# alignment of a message or a context line with its format as translated:
# bh_message_arg, bh_format_affixes):
#  - a new row refused by a named (RESTRICTIVE) row-level security policy,
#    of a plain INSERT and of an INSERT ... ON CONFLICT DO UPDATE, is a
#    DENIED event of the table (CREATE, as under C), also where the translation gives the
#    table's and the policy's names by the number of their argument
#    ("%2$s ... %1$s": Japanese, Simplified and Traditional Chinese);
#  - an error raised in a SQL function that a PL/pgSQL function's
#    exception block catches (a "safe cast" helper called by a function's
#    INSERT) is no failure: the function's frame ("SQL function ...") is
#    not read as the text of a statement, also in Japanese, where it is
#    translated as PostgreSQL's "SQL expression" line is.
# A language is left out, loudly (diag), only where its locale cannot be
# made (bh_locale) or PostgreSQL's message catalogs are missing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @langs = bh_locales(qw(fr_FR de_DE ja_JP ko_KR zh_CN zh_TW));

my $node = bh_node('translated_alignment',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE ROLE regress_clerk;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (2, 'locked');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY ins ON notes FOR INSERT WITH CHECK (true);
CREATE POLICY sel ON notes FOR SELECT USING (true);
CREATE POLICY upd ON notes FOR UPDATE USING (true);
CREATE POLICY r ON notes AS RESTRICTIVE FOR INSERT WITH CHECK (patient_id <> 'blocked');
CREATE POLICY ru ON notes AS RESTRICTIVE FOR UPDATE USING (patient_id <> 'locked');
GRANT SELECT, INSERT, UPDATE ON notes TO regress_clerk;
CREATE FUNCTION sql_div(a int) RETURNS int LANGUAGE sql AS 'SELECT 1; SELECT 10 / a';
CREATE FUNCTION safe_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN sql_div(a);
EXCEPTION WHEN division_by_zero THEN
    RETURN NULL;
END $$;
CREATE FUNCTION add_note(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notes VALUES (n, safe_div(0)::text);
END $$;
});

@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language to translate to (above why): only C checked') if !@langs;

my $n = 100;
for my $lang ('C', @langs)
{
	is(bh_events_under($node, $lang, "SET ROLE regress_clerk; INSERT INTO notes VALUES (1, 'blocked');",
			types => 1),
		'CREATE|DENIED|public.notes|PermissionDenied|Note|new row violates row-level security policy ""',
		"$lang: a new row refused by a named policy");
	is(bh_events_under($node, $lang, "SET ROLE regress_clerk; INSERT INTO notes VALUES (2, 'x') "
		  . "ON CONFLICT (note_id) DO UPDATE SET patient_id = 'y';", types => 1),
		'CREATE|DENIED|public.notes|PermissionDenied|Note|new row violates row-level security policy ""',
		"$lang: a row ON CONFLICT DO UPDATE refused by a named policy's USING");
	$n++;
	is(bh_events_under($node, $lang, "SELECT add_note($n);", types => 1),
		'CREATE|SUCCESS|public.notes|Note',
		"$lang: an error a function's exception block catches in a SQL function is no failure");
}

$node->stop;
done_testing();
