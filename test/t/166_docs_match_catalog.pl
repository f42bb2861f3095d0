# The SQL reference against the installed extension: what docs/ states of
# bh_audit's SQL surface is what CREATE EXTENSION makes.
#
#   Functions: every function of the extension (pg_depend deptype 'e') a
#   user can call has a signature in docs/sql-reference.md, a code span
#   `bh_audit.NAME(ARGS) → RESULT`, with the same argument names in order,
#   their types (the doc's type as PostgreSQL reads it: int = integer) and
#   defaults (compared as values of the argument's type: 'PHI' =
#   'PHI'::text); an argument given by name only takes its type and default
#   from the argument table under the signature (| argument | type |
#   default |, "—" for none).  The result too: its type, SETOF, and the
#   names of the columns a record returns.  The docs' convention for
#   internal functions: a name beginning with "_" is internal (trigger
#   functions of the extension's own triggers, helpers of its own SQL);
#   sql-reference.md names each one (`_name()`) and says what it serves,
#   and gives it no signature.
#   Roles: the roles table of sql-reference.md names, for PUBLIC and each
#   of the extension's roles, exactly the functions it may execute (but the
#   internal ones) and the relations it may read.
#   Tables and views: each has a heading in sql-reference.md naming it with
#   its kind ("(table)", "(tables)", "(view)"), and every column of it is
#   named in a code span of that section.
#   Settings: every bh_audit.* setting (pg_settings) has a row in a settings
#   table of docs/*.md (a table whose header has setting, context and
#   default), and every such row of every doc gives the setting's context
#   (postmaster, sighup, superuser, user; "superuser-only" and "any role"
#   read as superuser and user) and its boot value (units converted:
#   8MB = 1024 x 8kB; "empty" = '').
#   The reverse: every bh_audit.NAME in docs/*.md and README.md is a
#   function, relation or setting that exists (NAME( a function), and every
#   `_name()` of sql-reference.md an internal function of the extension.
#   Links: every relative link of docs/*.md and README.md names a file
#   that exists, and its #anchor a heading there; every test they cite
#   (test/t/, sql/, test/pgtap/, test/isolation/specs/) exists.
# The test reads docs/ and README.md next to test/ (run-all.sh copies them
# into its work directory).
use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Encode qw(encode_utf8);

my $repo = "$FindBin::RealBin/../..";
my $docs = "$repo/docs";
-d $docs or BAIL_OUT("no docs/ next to test/ ($docs): run-all.sh copies it");

sub slurp
{
	my ($f) = @_;
	open my $fh, '<:encoding(UTF-8)', $f or die "open $f: $!";
	local $/;
	my $t = <$fh>;
	close $fh;
	return $t;
}

my $node = bh_node('docs_catalog');
my $ext_members = q{
  JOIN pg_depend d ON d.objid = o.oid AND d.deptype = 'e'
   AND d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bh_audit')};

sub rows
{
	my ($sql) = @_;
	return map { [ split /\|/, $_, -1 ] }
	  grep { $_ ne '' } split /\n/, $node->safe_psql('postgres', $sql);
}

sub sqlstr
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# The type as PostgreSQL names it (int: integer), or "?TYPE" if it names none.
my %typecache;
sub pgtype
{
	my ($t) = @_;
	return $typecache{$t} //= do {
		my $out = '';
		my $rc = $node->psql('postgres',
			'SELECT format_type(' . sqlstr($t) . '::regtype, NULL)',
			stdout => \$out);
		$rc == 0 ? $out : "?$t";
	};
}

# ---------------------------------------------------------------- catalog
my (%func, %internal);
foreach my $r (rows(qq{
SELECT o.proname, o.proretset, format_type(o.prorettype, NULL),
       a.n, coalesce(a.name, ''), coalesce(a.mode, 'i'), format_type(a.typ, NULL),
       coalesce(pg_get_function_arg_default(o.oid, a.n::int), '')
  FROM pg_proc o $ext_members
  LEFT JOIN LATERAL unnest(coalesce(o.proallargtypes, o.proargtypes::oid[]),
                           o.proargmodes, o.proargnames)
       WITH ORDINALITY AS a(typ, mode, name, n) ON true
 WHERE d.classid = 'pg_proc'::regclass
 ORDER BY o.proname, a.n}))
{
	my ($name, $set, $ret, $n, $arg, $mode, $typ, $def) = @$r;
	my $f = $func{$name} //=
	  { setof => $set eq 't', ret => $ret, in => [], out => [] };
	next if $n eq '';
	push @{ $f->{in} }, { name => $arg, type => $typ, default => $def }
	  if $mode =~ /^[ibv]$/;
	push @{ $f->{out} }, { name => $arg, type => $typ } if $mode =~ /^[obt]$/;
}
$internal{$_} = 1 foreach grep { /^_/ } keys %func;
ok($func{emit} && $internal{_capture_row} && !$internal{emit},
	'the extension\'s functions, user-callable and internal, are found');

my %rel = map { $_->[0] => { kind => $_->[1] } } rows(qq{
SELECT o.relname, o.relkind FROM pg_class o $ext_members
 WHERE d.classid = 'pg_class'::regclass AND o.relkind IN ('r', 'p', 'v', 'm', 'f')});
foreach my $r (rows(q{
SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'bh_audit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped}))
{
	push @{ $rel{ $r->[0] }{cols} }, $r->[1] if $rel{ $r->[0] };
}
my %all_rel = map { $_->[0] => 1 }
  rows(q{SELECT relname FROM pg_class WHERE relnamespace = 'bh_audit'::regnamespace});

my %guc = map {
	$_->[0] =>
	  { context => $_->[1], boot => $_->[2], unit => $_->[3], type => $_->[4] }
} rows(q{
SELECT name, context, boot_val, coalesce(unit, ''), vartype FROM pg_settings
 WHERE name LIKE 'bh\_audit.%'});
ok($guc{'bh_audit.database'} && $rel{events} && $rel{tagged_tables},
	'the extension\'s settings, tables and views are found');

# ---------------------------------------------------------------- the docs
my $ref = slurp("$docs/sql-reference.md");
(my $flat = $ref) =~ s/\s*\n\s*/ /g;

my @mismatch;
sub mismatch { push @mismatch, $_[0]; return; }

# split_args TEXT: the comma-separated items of TEXT outside parentheses
# and quotes.
sub split_args
{
	my ($s) = @_;
	my @items;
	my ($cur, $depth, $q) = ('', 0, 0);
	foreach my $c (split //, $s)
	{
		$q = !$q if $c eq "'";
		$depth++ if !$q && $c eq '(';
		$depth-- if !$q && $c eq ')';
		if (!$q && !$depth && $c eq ',')
		{
			push @items, $cur;
			$cur = '';
			next;
		}
		$cur .= $c;
	}
	push @items, $cur if $cur =~ /\S/;
	s/^\s+|\s+$//g foreach @items;
	return @items;
}

# same_default TYPE, DOC, CATALOG: the two defaults are the same value.
sub same_default
{
	my ($type, $doc, $cat) = @_;
	return $doc eq $cat if $doc eq '' || $cat eq '';
	my $out = '';
	$node->psql('postgres',
		"SELECT ($doc)::$type IS NOT DISTINCT FROM ($cat)::$type",
		stdout => \$out);
	return $out eq 't';
}

# Signatures: every code span `bh_audit.NAME(...) → ...`.
my %sigs;
while ($flat =~ /`(bh_audit\.(\w+)\(([^`]*?)\)\s*→\s*([^`]+))`/g)
{
	push @{ $sigs{$2} }, { span => $1, args => $3, result => $4, pos => pos($flat) };
}

foreach my $name (sort keys %func)
{
	my $f = $func{$name};
	if ($internal{$name})
	{
		mismatch("internal function $name() is not named in sql-reference.md")
		  unless $ref =~ /`(?:bh_audit\.)?\Q$name\E\(\)`/;
		mismatch("internal function $name() has a signature in sql-reference.md")
		  if $sigs{$name};
		next;
	}
	if (!$sigs{$name})
	{
		mismatch("function $name() has no signature in sql-reference.md");
		next;
	}
	foreach my $sig (@{ $sigs{$name} })
	{
		my $where = "sql-reference.md `$sig->{span}`";

		# the argument table of the signature's section, if any
		my ($section) = substr($flat, $sig->{pos}) =~ /^(.*?)(?: #|$)/;
		my %table;
		if ($section =~ /\| argument \| type \| default \|/)
		{
			while ($section =~ /\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \|/g)
			{
				my ($n, $t, $d) = ($1, $2, $3);
				s/`//g foreach $t, $d;
				$table{$n} = { type => $t, default => $d eq '—' ? '' : $d };
			}
		}
		my @doc = split_args($sig->{args});
		my @cat = @{ $f->{in} };
		mismatch("$where: " . scalar(@doc) . ' arguments, the function has ' . scalar(@cat))
		  if @doc != @cat;
		for my $i (0 .. $#doc)
		{
			my $c = $cat[$i] or last;
			my ($an, $at, $ad) = $doc[$i] =~ /^(\w+)(?:\s+(.+?))?(?:\s+DEFAULT\s+(.+))?$/i;
			$an //= '';
			if ($an ne $c->{name})
			{
				mismatch("$where: argument " . ($i + 1) . " is $c->{name}, the doc says \"$doc[$i]\"");
				next;
			}
			if (!defined $at && $table{$an})
			{
				$at = $table{$an}{type};
				$ad = $table{$an}{default};
			}
			if (!defined $at)
			{
				mismatch("$where: no type for argument $an ($c->{type})");
				next;
			}
			mismatch("$where: argument $an is $c->{type}, the doc says $at")
			  if pgtype($at) ne $c->{type};
			mismatch("$where: argument $an defaults to "
				  . ($c->{default} eq '' ? 'nothing' : $c->{default})
				  . ', the doc says ' . ($ad // 'nothing'))
			  unless same_default($c->{type}, $ad // '', $c->{default});
		}

		# the result: SETOF, its type, the names (and types, if given) of
		# its columns
		my $res = $sig->{result};
		my $setof = $res =~ s/^SETOF\s+//i;
		my @cols;
		if ($res =~ /^(?:TABLE\s*)?\((.*)\)$/i)
		{
			@cols = split_args($1);
			$setof ||= $res =~ /^TABLE/i;
			$res = 'record';
		}
		mismatch("$where: the function returns " . ($f->{setof} ? 'a set' : 'one row')
			  . ', the doc says ' . ($setof ? 'a set' : 'one row'))
		  if $setof != $f->{setof};
		if (@cols || @{ $f->{out} })
		{
			my @names = map { /^(\w+)/ ? $1 : $_ } @cols;
			my @want = map { $_->{name} } @{ $f->{out} };
			mismatch("$where: result columns (@want), the doc says (@names)")
			  if "@names" ne "@want";
			foreach my $col (@cols)
			{
				my ($cn, $ct) = $col =~ /^(\w+)\s+(.+)$/ or next;
				my ($o) = grep { $_->{name} eq $cn } @{ $f->{out} } or next;
				mismatch("$where: result column $cn is $o->{type}, the doc says $ct")
				  if pgtype($ct) ne $o->{type};
			}
		}
		else
		{
			mismatch("$where: returns $f->{ret}, the doc says $res")
			  if pgtype($res) ne $f->{ret};
		}
	}
}
foreach my $name (sort keys %sigs)
{
	mismatch("sql-reference.md has a signature of $name(), which does not exist")
	  unless $func{$name};
}

# Internal names the reference lists: `_name()`.
while ($ref =~ /`(?:bh_audit\.)?(_\w+)\(\)`/g)
{
	mismatch("sql-reference.md names $1(), which is no function of the extension")
	  unless $func{$1};
}

# ---------------------------------------------------------------- roles
# The roles table of sql-reference.md (| role | may |): the functions each
# row names (`name()`) are exactly the user-callable functions that role is
# granted EXECUTE on (PUBLIC: also by default, with no ACL), and the
# relations it names (`bh_audit.name`) exactly those it may SELECT.
my (%fn_grantees, %rel_grantees);
foreach my $r (rows(qq{
SELECT o.proname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
  FROM pg_proc o $ext_members
  CROSS JOIN LATERAL aclexplode(coalesce(o.proacl, acldefault('f', o.proowner))) a
 WHERE d.classid = 'pg_proc'::regclass AND a.privilege_type = 'EXECUTE'
   AND a.grantee <> o.proowner AND o.proname !~ '^_'}))
{
	$fn_grantees{ $r->[1] }{ $r->[0] } = 1;
}
foreach my $r (rows(qq{
SELECT o.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
  FROM pg_class o $ext_members
  CROSS JOIN LATERAL aclexplode(coalesce(o.relacl, acldefault('r', o.relowner))) a
 WHERE d.classid = 'pg_class'::regclass AND a.privilege_type = 'SELECT'
   AND a.grantee <> o.relowner}))
{
	$rel_grantees{ $r->[1] }{ $r->[0] } = 1;
}
ok($fn_grantees{PUBLIC}{emit} && $fn_grantees{bh_audit_reader}{verify_chain}
	  && $rel_grantees{bh_audit_reader}{events},
	'the grants of the extension\'s functions and relations are found');
my %role_rows;
foreach my $line (split /\n/, $ref)
{
	next unless $line =~ /^\| `(PUBLIC|bh_audit_\w+)` \| (.*) \|\s*$/;
	my ($role, $may) = ($1, $2);
	$role_rows{$role} = 1;
	my %fns = map { $_ => 1 } $may =~ /`(\w+)\(\)`/g;
	my %rels = map { $_ => 1 } $may =~ /`bh_audit\.(\w+)`/g;
	foreach my $what ([ 'function', \%fns, $fn_grantees{$role} // {}, '()' ],
		[ 'relation', \%rels, $rel_grantees{$role} // {}, ' (SELECT)' ])
	{
		my ($kind, $doc, $cat, $suffix) = @$what;
		mismatch("sql-reference.md: the roles table gives $role $_$suffix, which it is not granted")
		  foreach grep { !$cat->{$_} } sort keys %$doc;
		mismatch("sql-reference.md: $role is granted $_$suffix, which its row of the roles table does not name")
		  foreach grep { !$doc->{$_} } sort keys %$cat;
	}
}
foreach my $role (sort(keys %fn_grantees), sort(keys %rel_grantees))
{
	mismatch("sql-reference.md: the roles table has no row for $role")
	  unless $role_rows{$role};
}

# ---------------------------------------------------------------- relations
my %relkind = (r => 'table', p => 'table', v => 'view', m => 'materialized view',
	f => 'foreign table');
my @lines = split /\n/, $ref;
my %documented;
for my $i (0 .. $#lines)
{
	next unless $lines[$i] =~ /^(#+)\s.*\((tables?|view)\)\s*$/;
	my ($level, $kind) = (length $1, $2);
	$kind =~ s/s$//;
	my $end = $i + 1;
	$end++ while $end <= $#lines && !($lines[$end] =~ /^(#+)\s/ && length($1) <= $level);
	my $section = join ' ', @lines[ $i + 1 .. $end - 1 ];
	my %words;
	while ($section =~ /`([^`]+)`/g)
	{
		$words{$_} = 1 foreach split /[\s,]+/, $1;
	}
	while ($lines[$i] =~ /`bh_audit\.(\w+)`/g)
	{
		my $r = $1;
		$documented{$r} = 1;
		if (!$rel{$r})
		{
			mismatch("sql-reference.md documents the $kind bh_audit.$r, which the extension lacks");
			next;
		}
		my $is = $relkind{ $rel{$r}{kind} };
		mismatch("sql-reference.md documents bh_audit.$r as a $kind, it is a $is")
		  if $is ne $kind;
		foreach my $col (@{ $rel{$r}{cols} })
		{
			mismatch("sql-reference.md: column $col of bh_audit.$r is not named in its section")
			  unless $words{$col};
		}
	}
}
foreach my $r (sort keys %rel)
{
	mismatch("$relkind{ $rel{$r}{kind} } bh_audit.$r has no section in sql-reference.md")
	  unless $documented{$r};
}

# ---------------------------------------------------------------- settings
my %context_word = (
	postmaster => 'postmaster',
	sighup => 'sighup',
	superuser => 'superuser',
	'superuser-only' => 'superuser',
	user => 'user',
	'any role' => 'user');
my %unit_factor = (
	B => 1, kB => 1024, MB => 1024**2, GB => 1024**3, TB => 1024**4,
	us => 0.001, ms => 1, s => 1000, min => 60000, h => 3600000, d => 86400000);

# same_boot GUC, DOC: the doc's default is the setting's boot value.
sub same_boot
{
	my ($g, $doc) = @_;
	$doc =~ s/`//g;
	$doc = '' if $doc eq 'empty';
	return lc($doc) eq $g->{boot} if $g->{type} eq 'bool';
	return $doc eq $g->{boot} unless $g->{type} =~ /^(integer|real)$/;
	my ($num, $unit) = $doc =~ /^(-?[\d.]+)\s*([a-zA-Z]*)$/ or return 0;
	my ($gnum, $gunit) = $g->{unit} =~ /^(\d*)(\w*)$/;
	my $base = $g->{boot} * ($gnum || 1) * ($gunit eq '' ? 1 : $unit_factor{$gunit});
	return 0 if $unit ne '' && !$unit_factor{$unit};
	return $num * ($unit eq '' ? ($gnum || 1) * ($gunit eq '' ? 1 : $unit_factor{$gunit}) : $unit_factor{$unit}) == $base;
}

my %in_table;
opendir my $dh, $docs or die;
my @docfiles = sort grep { /\.md$/ } readdir $dh;
closedir $dh;
foreach my $file (@docfiles)
{
	my @l = split /\n/, slurp("$docs/$file");
	for my $i (0 .. $#l)
	{
		next unless $l[$i] =~ /^\|/;
		my @head = map { s/^\s+|\s+$//gr } split /\|/, $l[$i];
		shift @head;
		my %col;
		@col{@head} = 0 .. $#head;
		next unless defined $col{setting} && defined $col{context} && defined $col{default};
		next if $i > 0 && $l[ $i - 1 ] =~ /^\|/;
		for (my $j = $i + 2; $j <= $#l && $l[$j] =~ /^\|/; $j++)
		{
			my @cell = map { s/^\s+|\s+$//gr } split /\|/, $l[$j];
			shift @cell;
			my @names = map { /^bh_audit\./ ? $_ : "bh_audit.$_" } $cell[ $col{setting} ] =~ /`([^`]+)`/g;
			(my $ctx = $cell[ $col{context} ]) =~ s/\s*\(.*\)$//;
			my $def = $cell[ $col{default} ];
			foreach my $n (@names)
			{
				my $g = $guc{$n};
				if (!$g)
				{
					mismatch("$file: the setting $n does not exist");
					next;
				}
				$in_table{$n} = 1;
				mismatch("$file: $n is settable by context $g->{context}, the doc says $ctx")
				  if ($context_word{$ctx} // '?') ne $g->{context};
				mismatch("$file: $n defaults to '$g->{boot}'"
					  . ($g->{unit} ne '' ? " (unit $g->{unit})" : '')
					  . ", the doc says $def")
				  unless same_boot($g, $def);
			}
		}
	}
}
foreach my $n (sort keys %guc)
{
	mismatch("the setting $n is in no settings table of docs/")
	  unless $in_table{$n};
}

# ---------------------------------------------------------------- every name
foreach my $file ((map { "docs/$_" } @docfiles), 'README.md')
{
	my $text = slurp("$repo/$file");
	my %seen;
	while ($text =~ m{(?<![/\w])bh_audit\.(\w+)(\(|\*)?}g)
	{
		my ($n, $after) = ($1, $2 // '');
		next if $after eq '*' || $seen{"$n$after"}++;
		if ($after eq '(')
		{
			mismatch("$file: bh_audit.$n() is no function of the extension")
			  unless $func{$n};
		}
		else
		{
			mismatch("$file: bh_audit.$n is no setting, relation or function of the extension")
			  unless $guc{"bh_audit.$n"} || $all_rel{$n} || $func{$n};
		}
	}
}

# ---------------------------------------------------------------- links
# Every relative link of docs/*.md and README.md names a file that exists
# (relative to the linking file), and its #anchor a heading of the target
# as GitHub makes anchors of headings (lower case, punctuation but "-" and
# "_" dropped, spaces as "-", "-1", "-2" ... for repeated ones); links in
# code (fenced blocks, code spans) are no links.  And every test a doc
# cites (NNN_name.pl, NN_name.sql, zz_name.sql, name.spec, with or without
# its directory) is one of test/t/, sql/, test/pgtap/ or
# test/isolation/specs/.
my %anchors;
sub anchors_of
{
	my ($path) = @_;
	return $anchors{$path} //= do {
		my (%a, %n);
		my $fenced = 0;
		foreach my $line (split /\n/, slurp($path))
		{
			if ($line =~ /^```/)
			{
				$fenced = !$fenced;
				next;
			}
			next if $fenced || $line !~ /^#{1,6}\s+(.*?)\s*$/;
			(my $slug = lc $1) =~ s/[^\w\- ]//g;
			$slug =~ s/ /-/g;
			$a{ $n{$slug} ? "$slug-$n{$slug}" : $slug } = 1;
			$n{$slug}++;
		}
		\%a;
	};
}
foreach my $file ((map { "docs/$_" } @docfiles), 'README.md')
{
	my $text = slurp("$repo/$file");
	(my $dir = $file) =~ s{[^/]*$}{};
	(my $prose = $text) =~ s/^```.*?^```//gms;
	$prose =~ s/`[^`\n]*`/x/g;
	while ($prose =~ /\]\(([^)\s]+)\)/g)
	{
		my $link = $1;
		next if $link =~ /^[a-z][a-z0-9+.-]*:/i;	# a URL
		my ($path, $frag) = $link =~ /^([^#]*)(?:#(.*))?$/;
		my $target = $path eq '' ? $file : "$dir$path";
		1 while $target =~ s{[^/]+/\.\./}{};
		if (!-e "$repo/$target")
		{
			mismatch("$file: the link $link names no file");
			next;
		}
		mismatch("$file: the link $link names no heading of $target")
		  if defined $frag && !($target =~ /\.md$/
			&& anchors_of("$repo/$target")->{$frag});
	}
	while ($text =~ m{(?<![\w.-])(\d{3}_\w+\.pl|\d\d_\w+\.sql|zz_\w+\.sql|\w+\.spec)\b}g)
	{
		my $cited = $1;
		mismatch("$file: it cites $cited, which is no test")
		  unless grep { -e "$repo/$_/$cited" }
		  qw(test/t sql test/pgtap test/isolation/specs);
	}
}

diag(encode_utf8("mismatch: $_")) foreach @mismatch;
is(scalar(@mismatch), 0, 'docs and catalog agree: ' . scalar(@mismatch) . ' mismatches');

$node->stop;
done_testing();
