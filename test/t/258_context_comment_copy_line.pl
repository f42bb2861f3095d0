# A statement's text in an error's context that ends in a line comment
# ending in the SPI line's closing ('"', translated: « », »«, ...) ends
# there where a COPY ... FROM's line for the row it reads follows ("COPY c,
# line 1: ...", translated "COPY c, Zeile 1: »...«"), as when a column's
# DEFAULT runs a query through SPI from C (query_to_xml) as COPY reads a
# row (error_context.c, bh_context_line_at).  Before, that line was read on
# as more of the statement: a row " FROM notes (under C: a '"' first, which
# balances the line's quotes) gave the query of the untagged scratch a text
# naming the tagged notes, which the transaction had read: a false READ
# FAILURE of notes (translated, the row needs no quote at all).  Checked
# under C and each language of fr, de, ja whose locale and catalogs there
# are: rows with and without a quote, no FAILURE; the same query on notes,
# one READ FAILURE of notes (control).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @langs = bh_locales(qw(fr_FR de_DE ja_JP));

my $node = bh_node('context_comment_copy_line',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
CREATE TABLE scratch (x int);
INSERT INTO scratch VALUES (1);
CREATE FUNCTION raw_div(a int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    RETURN 10 / a;
END $$;
});
@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language of fr, de, ja to translate to (above why): only C checked') if !@langs;

my $n = 0;
for my $lang ('C', @langs)
{
	# the SPI line's closing in this language, as the server writes it
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lc_messages = '$lang'; SELECT query_to_xml('SELECT 1 / 0 -- x', false, false, '')");
	my ($closing) = $err =~ /-- x(.*)$/m;
	ok(defined $closing && $closing ne '', "$lang: the SPI line's closing read")
	  or diag($err);
	next if !defined $closing;
	for my $table (qw(scratch notes))
	{
		$n++;
		(my $text = "SELECT raw_div(0) FROM $table -- say $closing") =~ s/'/''/g;
		$node->safe_psql('postgres', qq{
CREATE TABLE c_$n (t text, x xml DEFAULT query_to_xml('$text', false, false, ''));});
		for my $row ('" FROM notes', 'FROM notes', 'x')
		{
			my $mark = bh_seal_mark($node, 'postgres');
			($ret, $out, $err) = $node->psql('postgres',
				"SET lc_messages = '$lang';\nBEGIN;\nSELECT count(*) FROM notes;\n"
				  . "COPY c_$n (t) FROM STDIN;\n$row\n\\.\nROLLBACK;\n");
			like($err, qr/COPY.*\bc_$n\b|\bc_$n\b.*COPY/, "$lang, $table, row '$row': the COPY line follows")
			  or diag($err);
			is(bh_failures_in_order($node, 'postgres', $mark),
				$table eq 'notes' ? 'READ|FAILURE|public.notes' : '',
				"$lang, $table, row '$row': "
				  . ($table eq 'notes' ? 'one READ FAILURE of notes' : 'no failure'));
		}
	}
}

$node->stop;
done_testing();
