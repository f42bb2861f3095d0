# A refusal of the trail's view bh_audit.tagged_tables is a DENIED event
# whatever the language of PostgreSQL's messages (lc_messages), with
# PostgreSQL's English message, as a refusal of bh_audit.queue is.  The
# planner's refusal of the view was recognised by its translated message
# (bh_record_refused_view, capture_failure.c): in Japanese, Korean or
# Chinese the view's name is not its last word, and no event was recorded;
# in French or German the event carried the translated message.  And a
# failure's translated message, which cannot be checked against its
# format (French and German quote values in guillemets), keeps its
# untranslated format only, no value.  Run in each language (one check
# that the server translates the refusal, three of the events), its
# locale (language_TERRITORY.UTF-8) the machine's or one made with
# localedef (bh_locale).  A language is left out, loudly (diag), only
# where its locale cannot be made (no localedef) or PostgreSQL's message
# catalog of it is missing under the server's LOCALEDIR; the test is
# skipped where all are.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

# the languages whose refusal of the view is translated, by locale and
# message catalog; made before the server starts, which inherits LOCPATH
my @langs = bh_locales(qw(ja_JP ko_KR zh_CN fr_FR de_DE));

# a C database in UTF8: no locale of the environment needed (which
# LOCPATH may hide), the translations converted to UTF8
my $node = bh_node('view_denial_translated',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE ROLE regress_nobody;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
});

@langs = bh_translated($node, ['postgres'], @langs);
if (!@langs)
{
	diag('SKIPPED: no language of ja, ko, zh_CN, fr, de to translate to (above why)');
	plan skip_all => 'the server translates its messages to none of ja, ko, zh_CN, fr, de';
}

for my $lang (@langs)
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lc_messages = '$lang'; SET ROLE regress_nobody; "
		  . "SELECT count(*) FROM bh_audit.tagged_tables");
	my ($msg) = $err =~ /:\s+(.*tagged_tables.*)$/m;
	ok(defined $msg && $msg !~ /^permission denied/,
		"$lang: the server translates its refusal of the view")
	  or diag($err);
	is(bh_events_under($node, $lang, 'SET ROLE regress_nobody; SELECT count(*) FROM bh_audit.queue'),
		'READ|DENIED|bh_audit.queue|permission denied for table queue',
		"$lang: the queue refused, a denial");
	is(bh_events_under($node, $lang, 'SET ROLE regress_nobody; SELECT count(*) FROM bh_audit.tagged_tables'),
		'READ|DENIED|bh_audit.tagged_tables|permission denied for view tagged_tables',
		"$lang: the view refused as the query is planned, a denial");
	is(bh_events_under($node, $lang, "SELECT count(*) FROM notes WHERE note_id = 'pt4711'"),
		'READ|FAILURE|public.notes|invalid input syntax for type %s: ""',
		"$lang: a failure keeps its untranslated format, no value");
}

$node->stop;
done_testing();
