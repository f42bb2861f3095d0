# src/typedefs.list names every type src/*.c and src/*.h define with
# typedef, and nothing else: pgindent (make indent) formats a declaration
# of a type it is not told of as an expression ("BhEvent *ev" becomes
# "BhEvent * ev"), and a name listed that is no type (a variable of the
# same name) as a declaration.  A typedef's name is the last identifier
# before its closing semicolon, outside braces and parentheses, or a
# function pointer's (*name).
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = "$FindBin::RealBin/../../src";
-f "$src/typedefs.list" or BAIL_OUT("no src/ next to test/ ($src): run-all.sh copies it");

my %defined;
for my $file (glob("$src/*.c"), glob("$src/*.h"))
{
	my $text = slurp_file($file);
	$text =~ s{/\*.*?\*/}{ }gs;
	$text =~ s{//[^\n]*}{}g;
	while ($text =~ /\btypedef\b/g)
	{
		my $start = pos($text);
		my ($depth, $i) = (0, $start);
		for (; $i < length($text); $i++)
		{
			my $c = substr($text, $i, 1);
			$depth++ if $c eq '{' || $c eq '(';
			$depth-- if $c eq '}' || $c eq ')';
			last if $c eq ';' && $depth == 0;
		}
		my $stmt = substr($text, $start, $i - $start);
		pos($text) = $i;
		my $name;
		if ($stmt !~ /\}\s*\w+\s*$/ && $stmt =~ /\(\s*\*\s*(\w+)\s*\)/)
		{
			$name = $1;
		}
		elsif ($stmt =~ /(\w+)\s*(?:\[[^\]]*\]\s*)*$/)
		{
			$name = $1;
		}
		$defined{$name} = $file =~ s{.*/}{}r if defined $name;
	}
}

my @listed = grep { length } split /\n/, slurp_file("$src/typedefs.list");
my %listed = map { $_ => 1 } @listed;

ok(scalar(keys %defined) > 100, 'the typedefs of src/ are found (' . scalar(keys %defined) . ')');
is_deeply([ grep { !$listed{$_} } sort keys %defined ], [],
	'every typedef of src/ is in src/typedefs.list');
is_deeply([ grep { !exists $defined{$_} } @listed ], [],
	'src/typedefs.list names no type src/ does not define');
is_deeply(\@listed, [ sort { $a cmp $b } keys %listed ],
	'src/typedefs.list is sorted, each name once');

done_testing();
