# A statement's text in an error's context that ends a line in a line
# comment ending in the SPI line's closing ('"', translated) is cut there
# when the next line of the statement itself reads as the context line of
# a COPY ... FROM reading a row (error_context.c, bh_context_line_at,
# bh_copy_contexts since dbc5d0d): in every language a line beginning
# "COPY " that holds ", line " (the untranslated format's conversions match
# anything), and under Japanese any line holding "のCOPY、行 " (the
# translation, "%sのCOPY、行 %llu", begins with its conversion).  The rest
# of the text, which names the tagged notes, is lost: a function's
# statement that fails after its parse analysis and before its executor (a
# data-modifying WITH query in a STABLE function), known only by its text,
# records no UPDATE FAILURE of notes.  Expected, in C and each of fr, de,
# ja whose locale and catalogs there are: one UPDATE FAILURE of notes for
# each line (as for the control, a line that reads as no COPY line).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @langs = bh_locales(qw(fr_FR de_DE ja_JP));

my $node = bh_node('context_copy_line_forged',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
CREATE FUNCTION stable_exec(q text) RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    EXECUTE q;
END $$;
});
@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language of fr, de, ja to translate to (above why): only C checked') if !@langs;

# the line after the comment: a WITH query's name, a comment
my %lines = (
	control => 'copy /* x */',
	english => 'COPY /* x, line 1 */',
	japanese => 'copy /* のCOPY、行 1 */');

for my $lang ('C', @langs)
{
	# the SPI line's closing in this language, as the server writes it
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lc_messages = '$lang'; SELECT query_to_xml('SELECT 1 / 0 -- x', false, false, '')");
	my ($closing) = $err =~ /-- x(.*)$/m;
	ok(defined $closing && $closing ne '', "$lang: the SPI line's closing read")
	  or diag($err);
	next if !defined $closing;
	for my $case (sort keys %lines)
	{
		my $text = "WITH -- say $closing\n$lines{$case} AS "
		  . "(UPDATE notes SET patient_id = patient_id WHERE note_id = 1) SELECT 1";
		my $mark = bh_seal_mark($node, 'postgres');
		($ret, $out, $err) = $node->psql('postgres',
			"SET lc_messages = '$lang';\nSELECT stable_exec(\$q\$$text\$q\$);\n");
		like($err, qr/\Q$lines{$case}\E/, "$lang, $case: the line is in the context")
		  or diag($err);
		is(bh_failures_in_order($node, 'postgres', $mark), 'UPDATE|FAILURE|public.notes',
			"$lang, $case: one UPDATE FAILURE of notes");
	}
}

$node->stop;
done_testing();
