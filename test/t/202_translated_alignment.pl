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

my %catalog = (fr_FR => 'fr', de_DE => 'de', ja_JP => 'ja', ko_KR => 'ko',
	zh_CN => 'zh_CN', zh_TW => 'zh_TW');
my @langs;
for my $lang (qw(fr_FR de_DE ja_JP ko_KR zh_CN zh_TW))
{
	my $locale = bh_locale("$lang.UTF-8");
	push @langs, [ $locale, $catalog{$lang} ] if defined $locale;
}

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

my $localedir = $node->safe_psql('postgres',
	"SELECT setting FROM pg_config WHERE name = 'LOCALEDIR'");
my $major = $node->pg_version->major;
@langs = grep {
	my $cat = $_->[1];
	my $found = 1;
	for my $domain ("postgres-$major", "plpgsql-$major")
	{
		next if grep { -e "$localedir/$_/LC_MESSAGES/$domain.mo" } ($cat, $cat =~ s/_.*//r);
		diag("no message catalog $domain.mo of $cat under $localedir: $_->[0] left out");
		$found = 0;
	}
	$found;
} @langs;
diag('no language to translate to (above why): only C checked') if !@langs;

# the events of SQL run under lc_messages LANG
sub events
{
	my ($lang, $sql) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $mark = $node->safe_psql('postgres', 'SELECT coalesce(max(seq), 0) FROM bh_audit.events');
	$node->psql('postgres', "SET lc_messages = '$lang';\n$sql");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, outcome, event -> 'metadata' ->> 'table',
                            event -> 'outcome' ->> 'error_type', resource_type,
                            event -> 'outcome' ->> 'error_message'), E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark});
}

my $n = 100;
for my $lang ('C', map { $_->[0] } @langs)
{
	is(events($lang, "SET ROLE regress_clerk; INSERT INTO notes VALUES (1, 'blocked');"),
		'CREATE|DENIED|public.notes|PermissionDenied|Note|new row violates row-level security policy ""',
		"$lang: a new row refused by a named policy");
	is(events($lang, "SET ROLE regress_clerk; INSERT INTO notes VALUES (2, 'x') "
		  . "ON CONFLICT (note_id) DO UPDATE SET patient_id = 'y';"),
		'CREATE|DENIED|public.notes|PermissionDenied|Note|new row violates row-level security policy ""',
		"$lang: a row ON CONFLICT DO UPDATE refused by a named policy's USING");
	$n++;
	is(events($lang, "SELECT add_note($n);"),
		'CREATE|SUCCESS|public.notes|Note',
		"$lang: an error a function's exception block catches in a SQL function is no failure");
}

$node->stop;
done_testing();
