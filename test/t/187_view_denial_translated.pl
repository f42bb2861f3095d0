# A refusal of the trail's view bh_audit.tagged_tables is a DENIED event
# whatever the language of PostgreSQL's messages (lc_messages), with
# PostgreSQL's English message, as a refusal of bh_audit.queue is.  The
# planner's refusal of the view is recognised by its translated message
# (bh_record_refused_view, capture_failure.c): in Japanese, Korean or
# Chinese the view's name is not its last word, and no event is recorded;
# in French or German the event carries the translated message.  Run in
# each language the server translates its messages to (one check each);
# skipped where it translates to none of them (the locale, or
# PostgreSQL's message catalog under the installation's share/locale,
# missing).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('view_denial_translated');
$node->safe_psql('postgres', 'CREATE ROLE regress_nobody');

# the languages whose refusal of the view is translated
my @langs;
for my $lang (qw(ja_JP ko_KR zh_CN fr_FR de_DE))
{
	for my $candidate ("$lang.UTF-8", "$lang.utf8")
	{
		my ($ret, $out, $err) = $node->psql('postgres',
			"SET lc_messages = '$candidate'; SET ROLE regress_nobody; "
			  . "SELECT count(*) FROM bh_audit.tagged_tables");
		# an unknown locale is an error of the SET
		next if $err =~ /lc_messages/;
		my ($msg) = $err =~ /:\s+(.*tagged_tables.*)$/m;
		next if !defined $msg || $msg =~ /^permission denied/;
		push @langs, $candidate;
		last;
	}
}
plan skip_all => 'the server translates its messages to none of ja, ko, zh_CN, fr, de'
  unless @langs;

sub denials
{
	my ($lang, $sql) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	my $mark = $node->safe_psql('postgres', 'SELECT coalesce(max(seq), 0) FROM bh_audit.events');
	$node->psql('postgres', "SET lc_messages = '$lang'; SET ROLE regress_nobody; $sql");
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(concat_ws('|', action, outcome, event -> 'metadata' ->> 'table',
                            event -> 'outcome' ->> 'error_message'), E'\n' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark});
}

for my $lang (@langs)
{
	is(denials($lang, 'SELECT count(*) FROM bh_audit.queue'),
		'READ|DENIED|bh_audit.queue|permission denied for table queue',
		"$lang: the queue refused, a denial");
	is(denials($lang, 'SELECT count(*) FROM bh_audit.tagged_tables'),
		'READ|DENIED|bh_audit.tagged_tables|permission denied for view tagged_tables',
		"$lang: the view refused as the query is planned, a denial");
}

$node->stop;
done_testing();
