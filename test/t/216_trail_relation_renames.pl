# A superuser's rename of one of the trail's relations (the queue, the tag
# catalog, the ledger, the ledger's home, the view tagged_tables) or of the
# extension's schema.  "Capture cannot be switched off quietly"
# (tagging.md): such a rename is refused for everyone who owns the
# relation, superusers included (55000, naming it), the names stay, and
# capture goes on: a write and a read of a tagged table made after it are
# recorded, and a statement that touches nothing of bh_audit runs.
# Without the guard the renames were allowed and recorded by nothing; with
# the tag catalog renamed, reads and writes of tagged tables were captured
# no more, without an error; with the ledger renamed, reads were not (the
# sealer stops on "bh_audit.events does not exist"); with the schema
# renamed, every statement of the database failed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('trail_relation_renames');
$node->safe_psql('postgres', q{
CREATE ROLE app216 LOGIN;
CREATE SCHEMA c216;
GRANT USAGE ON SCHEMA c216 TO app216;
CREATE TABLE c216.pat (id serial PRIMARY KEY, name text);
GRANT SELECT, INSERT ON c216.pat TO app216;
GRANT USAGE ON SEQUENCE c216.pat_id_seq TO app216;
SELECT bh_audit.tag_table('c216.pat', 'Patient216', 'id', 'id');
});

# seal (with a bound: a sealer that stopped fails the test, not hangs it)
sub seal
{
	$node->safe_psql('postgres',
		q{SET statement_timeout = '120s'; SELECT bh_audit.seal()});
	return;
}

my @cases = (
	[ 'the queue', 'bh_audit.queue',
		'ALTER TABLE bh_audit.queue RENAME TO queue216' ],
	[ 'the tag catalog', 'bh_audit.tags',
		'ALTER TABLE bh_audit.tags RENAME TO tags216' ],
	[ 'the ledger', 'bh_audit.events',
		'ALTER TABLE bh_audit.events RENAME TO events216' ],
	[ 'the ledger\'s home', 'bh_audit.ledger_home',
		'ALTER TABLE bh_audit.ledger_home RENAME TO home216' ],
	[ 'the view tagged_tables', 'bh_audit.tagged_tables',
		'ALTER VIEW bh_audit.tagged_tables RENAME TO tagged216' ],
	[ 'the extension\'s schema', 'bh_audit',
		'ALTER SCHEMA bh_audit RENAME TO bh_audit216' ]);

my $names = q{
SELECT string_agg(c.relname || '.' || a.attname, ',' ORDER BY c.relname, a.attnum)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'bh_audit'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped};
my $names_before = $node->safe_psql('postgres', $names);

my $i = 0;
for my $case (@cases)
{
	my ($what, $rel, $rename) = @$case;
	$i++;
	my $mark = bh_seal_mark($node, 'postgres');
	my ($ret, undef, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$rename",
		on_error_stop => 1);
	# refused by the guard, with its error naming the object, not another
	is($ret, 3, "$what renamed: the statement fails");
	like($err,
		qr/ERROR:  55000: cannot rename (schema )?\Q$rel\E: it (belongs to|is the schema of) extension bh_audit\n/,
		"$what renamed: refused by bh_audit (55000), naming it");
	is($node->safe_psql('postgres', $names), $names_before,
		"$what renamed: the extension's relations keep their names and schema");

	# capture goes on: the application's statements after the refusal
	my ($plain, $plain_out) = $node->psql('postgres', 'SELECT 1', extra_params => [ '-U', 'app216' ]);
	my ($write_ret) = $node->psql('postgres',
		"INSERT INTO c216.pat (name) VALUES ('w$i')",
		extra_params => [ '-U', 'app216' ]);
	my (undef, $read_out) = $node->psql('postgres',
		"SELECT count(*) FROM c216.pat WHERE name = 'w$i'",
		extra_params => [ '-U', 'app216' ]);
	is("$plain $plain_out $write_ret $read_out", '0 1 0 1',
		"$what renamed: a statement on nothing of bh_audit, a write and a read of a tagged table then run");
	seal();
	is($node->safe_psql('postgres', qq{
SELECT coalesce(string_agg(action || ' ' || outcome || ' ' || actor_id, ',' ORDER BY seq), '')
  FROM bh_audit.events
 WHERE seq > $mark AND event -> 'metadata' ->> 'table' = 'c216.pat'}),
		'CREATE SUCCESS app216,READ SUCCESS app216',
		"$what renamed: the write and the read of the tagged table after it are recorded");
}

# The other ways to another name: the queue's identity sequence, a
# column of a relation, another schema (the extension itself PostgreSQL
# does not move: relocatable = false); refused, the names stay.
my @refusals = (
	[ 'ALTER SEQUENCE bh_audit.queue_id_seq RENAME TO seq216',
		qr/cannot rename bh_audit\.queue_id_seq: it belongs to extension bh_audit/ ],
	[ 'ALTER INDEX bh_audit.tags RENAME TO tags216',
		qr/cannot rename bh_audit\.tags: it belongs to extension bh_audit/ ],
	[ 'ALTER TABLE bh_audit.events RENAME COLUMN seq TO seq216',
		qr/cannot rename column seq of bh_audit\.events: it belongs to extension bh_audit/ ],
	[ 'ALTER TABLE bh_audit.tags RENAME COLUMN tbl TO tbl216',
		qr/cannot rename column tbl of bh_audit\.tags: it belongs to extension bh_audit/ ],
	[ 'ALTER VIEW bh_audit.tagged_tables RENAME COLUMN table_name TO t216',
		qr/cannot rename column table_name of bh_audit\.tagged_tables: it belongs to extension bh_audit/ ],
	[ 'ALTER TABLE bh_audit.tags SET SCHEMA public',
		qr/cannot move bh_audit\.tags to another schema: it belongs to extension bh_audit/ ],
	[ 'ALTER TABLE bh_audit.events SET SCHEMA public',
		qr/cannot move bh_audit\.events to another schema: it belongs to extension bh_audit/ ],
	[ 'ALTER VIEW bh_audit.tagged_tables SET SCHEMA public',
		qr/cannot move bh_audit\.tagged_tables to another schema: it belongs to extension bh_audit/ ],
	[ 'ALTER SEQUENCE bh_audit.queue_id_seq SET SCHEMA public',
		qr/cannot move bh_audit\.queue_id_seq to another schema: it belongs to extension bh_audit/ ],
	[ 'ALTER EXTENSION bh_audit SET SCHEMA public',
		qr/extension "bh_audit" does not support SET SCHEMA/ ]);
for my $r (@refusals)
{
	my ($sql, $re) = @$r;
	my ($ret, undef, $err) = $node->psql('postgres', $sql);
	ok($ret != 0 && $err =~ $re, "refused: $sql") or diag($err);
}
is($node->safe_psql('postgres', $names), $names_before,
	'the extension\'s relations and columns keep their names and schema');

# A role that owns none of them is refused by PostgreSQL, as before.
my (undef, undef, $err) = $node->psql('postgres',
	'ALTER TABLE bh_audit.tags RENAME TO tags216', extra_params => [ '-U', 'app216' ]);
like($err, qr/must be owner of table tags|permission denied for schema bh_audit/,
	'a role that is not the owner: PostgreSQL\'s refusal');

# A change of the schema's owner renames nothing: allowed, to a superuser
# (a role that is no superuser could drop everything in it: refused).
is($node->psql('postgres', q{CREATE ROLE su216 SUPERUSER;
ALTER SCHEMA bh_audit OWNER TO su216; ALTER SCHEMA bh_audit OWNER TO CURRENT_USER}),
	0, 'a change of the schema\'s owner is allowed');
(undef, undef, $err) = $node->psql('postgres', 'ALTER SCHEMA bh_audit OWNER TO app216');
like($err, qr/cannot give schema bh_audit to role "app216": bh_audit's objects are owned by superusers only/,
	'to a role that is no superuser: refused');

# the trail works as before
my $mark = bh_seal_mark($node, 'postgres');
$node->safe_psql('postgres', q{INSERT INTO c216.pat (name) VALUES ('end')},
	extra_params => [ '-U', 'app216' ]);
seal();
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM bh_audit.events WHERE seq > $mark AND action = 'CREATE'}),
	'1', 'a write after the renames is recorded');
is($node->safe_psql('postgres', 'SELECT bh_audit.verify_chain() IS NOT NULL'), 't',
	'the chain verifies');

done_testing();
