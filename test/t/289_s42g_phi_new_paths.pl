# A guard of docs/phi-safety.md over the paths added in s41: no value of a
# tagged table's column, nor a literal of a failing statement, reaches
# bh_audit.events, and every event stays valid against the vendored schema,
# through PL/pgSQL's failures as it takes a statement's rows (SELECT ...
# INTO a variable of int, a domain, an enum, varchar(3), date, jsonb, a
# composite, numeric(3,1), boolean, interval, int[]; INTO STRICT with
# print_strict_params; EXECUTE ... INTO; RETURNING ... INTO; an assignment's
# query; a SELECT without INTO), the refused writes of bh_audit's own tables
# by a role with pg_write_all_data (their statements reading the tagged
# table), the denials of column privileges, of GRANT, REVOKE, LOCK of a view
# and CREATE CONSTRAINT TRIGGER ... FROM, a superuser's edit of the tag
# catalog, and PREPARE TRANSACTION / COMMIT PREPARED names holding a value.
# The values hold French, German and Japanese quotes, a lone double quote
# and ": ", and every case runs under lc_messages C, fr_FR, de_DE, ja_JP
# (those whose locale can be made) and under schema versions 1.0 and 2.1.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use Encode qw(decode_utf8 encode_utf8);
use PostgreSQL::Test::Utils;
use Test::More;

$ENV{PGCLIENTENCODING} = 'UTF8';
my @langs = bh_locales(qw(fr_FR de_DE ja_JP));
my $node = bh_node('s42g', init => { extra => [ '--locale=C', '--encoding=UTF8' ] },
	conf => "max_prepared_transactions = 5\n");
@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);

my @tokens = (
	'PHI_AAA_ZKQ1',
	"PHI \x{ab} BBB_ZKQ2 \x{bb}",
	"PHI \x{201e}CCC_ZKQ3\x{201c}",
	"PHI \x{300c}DDD_ZKQ4\x{300d}",
	'PHI"EEE_ZKQ5',
	"PHI: FFF_ZKQ6 'x'",
	"PHI \x{201e}GGG_ZKQ7\" \x{bb}x\x{ab}: y",
);
sub lit { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }

$node->safe_psql('postgres', q{
CREATE SCHEMA s;
CREATE TABLE s.rec (id int PRIMARY KEY, patient_id text NOT NULL, v text, n numeric, d date);
SELECT bh_audit.tag_table('s.rec', 'ClinicalRecord', 'id', 'patient_id');
CREATE DOMAIN s.digits AS text CONSTRAINT digits_only CHECK (VALUE ~ '^[0-9]+$');
CREATE FUNCTION s.chk(x text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF x !~ '^[0-9]+$' THEN
        RAISE EXCEPTION 'bad value %', x USING DETAIL = x, HINT = x;
    END IF;
    RETURN true;
END $$;
CREATE DOMAIN s.fchk AS text CONSTRAINT fchk_c CHECK (s.chk(VALUE));
CREATE TYPE s.mood AS ENUM ('calm');
CREATE TYPE s.pair AS (a int, b date);
CREATE VIEW s.vw AS SELECT id, patient_id FROM s.rec;
CREATE ROLE r_plain LOGIN;
CREATE ROLE r_other;
CREATE ROLE r_write LOGIN;
GRANT pg_write_all_data TO r_write;
GRANT USAGE ON SCHEMA s TO r_plain, r_write;
GRANT SELECT ON s.rec TO r_write;
GRANT SELECT (id, patient_id) ON s.rec TO r_plain;
GRANT CREATE ON SCHEMA s TO r_plain;
});
my $rows = join(",\n", map { "($_, 'pat_$_', " . lit($tokens[ $_ - 1 ]) . ", 1, '2001-02-03')" } 1 .. @tokens);
$node->safe_psql('postgres', encode_utf8("INSERT INTO s.rec VALUES $rows"));

my @fn = (
	[ 'f_int', 'i int', 'SELECT v INTO i FROM s.rec WHERE id = k;' ],
	[ 'f_strict', 'i int', 'SELECT v INTO STRICT i FROM s.rec WHERE id = k;' ],
	[ 'f_two', 'r text', "#print_strict_params on\n", 'SELECT v INTO STRICT r FROM s.rec WHERE v <> (SELECT v FROM s.rec WHERE id = k);' ],
	[ 'f_domain', 'x s.digits', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_fdomain', 'x s.fchk', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_enum', 'x s.mood', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_varchar', 'x varchar(3)', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_date', 'x date', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_jsonb', 'x jsonb', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_pair', 'x s.pair', 'SELECT v, v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_exec', 'i int', q{EXECUTE 'SELECT v FROM s.rec WHERE id = $1' INTO i USING k;} ],
	[ 'f_exec_strict', 'i int', q{EXECUTE 'SELECT v FROM s.rec WHERE v <> $1' INTO STRICT i USING k::text;} ],
	[ 'f_returning', 'i int', 'UPDATE s.rec SET n = n WHERE id = k RETURNING v INTO i;' ],
	[ 'f_expr', 'i int', 'i := v FROM s.rec WHERE id = k;' ],
	[ 'f_nointo', 'i int', 'SELECT v FROM s.rec WHERE id = k;' ],
	[ 'f_numeric', 'x numeric(3,1)', 'SELECT length(v) * 100 INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_bool', 'x boolean', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_interval', 'x interval', 'SELECT v INTO x FROM s.rec WHERE id = k;' ],
	[ 'f_arr', 'x int[]', 'SELECT ARRAY[v] INTO x FROM s.rec WHERE id = k;' ],
);
for my $f (@fn)
{
	my ($name, $decl, @body) = @$f;
	my $opt = '';
	$opt = shift @body if $body[0] =~ /^#/;
	$node->safe_psql('postgres', qq{
CREATE FUNCTION s.$name(k int) RETURNS int LANGUAGE plpgsql AS \$\$
${opt}DECLARE $decl;
BEGIN
    @body
    RETURN 1;
END \$\$;});
}
$node->safe_psql('postgres', q{
CREATE TABLE s.own_t (id int);
ALTER TABLE s.own_t OWNER TO r_plain;
CREATE FUNCTION s.trg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END $$;
GRANT EXECUTE ON FUNCTION s.trg() TO r_plain;
});

my @cases;
for my $k (1 .. @tokens)
{
	push @cases, "SELECT s.$_->[0]($k);" for @fn;
	push @cases, "SET ROLE r_write; INSERT INTO bh_audit.queue (events) SELECT ARRAY[jsonb_build_object('x', v)] FROM s.rec WHERE id = $k; RESET ROLE;";
	push @cases, "SET ROLE r_write; UPDATE bh_audit.tags SET resource_type = v FROM s.rec WHERE id = $k; RESET ROLE;";
	push @cases, "SET ROLE r_write; DELETE FROM bh_audit.tags t USING s.rec r WHERE r.id = $k AND r.v = t.resource_type; RESET ROLE;";
	push @cases, "SET ROLE r_write; INSERT INTO s.rec (id, patient_id, v) SELECT id + 100, patient_id, v FROM s.rec WHERE id = $k AND v::int > 0; RESET ROLE;";
	push @cases, "SET ROLE r_write; COPY bh_audit.queue (events) FROM STDIN;\n" . '{' . $k . "}\n\\.\nRESET ROLE;";
	push @cases, "SET ROLE r_plain; SELECT id FROM s.rec WHERE v = " . lit($tokens[ $k - 1 ]) . "; RESET ROLE;";
	push @cases, "SET ROLE r_plain; UPDATE s.rec SET v = " . lit($tokens[ $k - 1 ]) . " WHERE id = $k; RESET ROLE;";
	push @cases, "BEGIN; UPDATE s.rec SET n = n + 1 WHERE id = $k; PREPARE TRANSACTION " . lit("gid_" . $tokens[ $k - 1 ]) . "; COMMIT PREPARED " . lit("gid_" . $tokens[ $k - 1 ]) . ";";
	push @cases, "COMMIT PREPARED " . lit("nope_" . $tokens[ $k - 1 ]) . ";";
	push @cases, "BEGIN; UPDATE s.rec SET n = n + 1 WHERE id = $k AND v = " . lit($tokens[ $k - 1 ]) . "; PREPARE TRANSACTION " . lit("gid2_" . $tokens[ $k - 1 ]) . "; ROLLBACK PREPARED " . lit("gid2_" . $tokens[ $k - 1 ]) . ";";
	push @cases, "UPDATE bh_audit.tags SET capture_reads = capture_reads WHERE tbl = 's.rec'::regclass AND resource_type <> " . lit($tokens[ $k - 1 ]) . ";";
}
push @cases, "SET ROLE r_plain; GRANT SELECT (v) ON s.rec TO r_other; RESET ROLE;";
push @cases, "SET ROLE r_plain; REVOKE SELECT (v) ON s.rec FROM r_other; RESET ROLE;";
push @cases, "SET ROLE r_plain; GRANT SELECT (id) ON s.rec TO r_other; RESET ROLE;";
push @cases, "SET ROLE r_plain; BEGIN; LOCK TABLE s.vw; COMMIT; RESET ROLE;";
push @cases, "SET ROLE r_plain; BEGIN; LOCK TABLE s.rec IN ACCESS SHARE MODE; COMMIT; RESET ROLE;";
push @cases, "SET ROLE r_plain; CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON s.own_t FROM s.rec FOR EACH ROW EXECUTE FUNCTION s.trg(); RESET ROLE;";

for my $pass ('C', @langs, 'C:1.0', 'C:2.1')
{
	my ($lang, $ver) = split /:/, $pass;
	my $tag = $ver ? "v$ver" : $lang eq 'C' ? 'cc' : lc substr($lang, 0, 2);
	my $script = "SET lc_messages = '$lang';\n" . ($ver ? "SET bh_audit.schema_version = '$ver';\n" : '');
	my $i = 0;
	for my $c (@cases)
	{
		$i++;
		$script .= "SET bh_audit.request_id = '$tag$i';\n$c\nROLLBACK;\nRESET ROLE;\n";
	}
	my ($out, $err) = ('', '');
	$node->psql('postgres', encode_utf8($script), stdout => \$out, stderr => \$err,
		on_error_stop => 0);
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	cmp_ok($node->safe_psql('postgres', qq{SELECT count(*) FROM bh_audit.events
  WHERE outcome <> 'SUCCESS' AND event -> 'correlation' ->> 'request_id' LIKE '$tag%'}),
		'>=', 100, "$pass: the failing cases are recorded");
}
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');

my @leaks = grep { /zkq|(aaa|bbb|ccc|ddd|eee|fff|ggg)_/i } split /\n/, decode_utf8($node->safe_psql('postgres',
	q{SELECT seq || ' ' || event::text FROM bh_audit.events}));
is(scalar(grep { /zkq|(aaa|bbb|ccc|ddd|eee|fff|ggg)_/i } split /\n/, decode_utf8($node->safe_psql('postgres',
	q{SELECT to_jsonb(r)::text FROM s.rec r}))), scalar(@tokens), 'control: the search finds every token in the table');
is(scalar(@leaks), 0, 'no token in the ledger') or diag(encode_utf8(join("\n", @leaks)));
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.events WHERE NOT bh_audit.validate_event(event)'),
	'0', 'every event valid')
  or diag($node->safe_psql('postgres', 'SELECT event::text FROM bh_audit.events WHERE NOT bh_audit.validate_event(event) LIMIT 5'));
bh_chain_valid($node, 'postgres');
done_testing();
