# A temporary table belongs to the session that created it: tag_table()
# refuses another session's temporary table (0A000), as PostgreSQL refuses
# most operations on it, whatever its ON COMMIT and capture_writes; the
# owning session's own rule for ON COMMIT DELETE ROWS stays (refused).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE FUNCTION err(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
});
my $owner = $node->background_psql('postgres');
$owner->query_safe(q{
CREATE TEMP TABLE emptied (id int, patient_id text) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE kept (id int, patient_id text);
});
my $schema = $owner->query_safe(q{SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()});
chomp $schema;

for my $t ('emptied', 'kept')
{
	for my $writes ('false', 'true')
	{
		is($node->safe_psql('postgres', qq{SELECT err(\$\$SELECT bh_audit.tag_table('$schema.$t', 'Tmp', 'id', 'patient_id', capture_writes => $writes)\$\$)}),
			qq{0A000: cannot tag temporary table "$t" of another session},
			"another session's temporary table $t, capture_writes => $writes: refused");
	}
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tags'), '0', 'nothing tagged');

# The owning session: its ON COMMIT DELETE ROWS table is refused as before
# (whatever capture_writes), its other temporary table may be tagged.
for my $writes ('false', 'true')
{
	like($owner->query_safe(qq{SELECT err(\$\$SELECT bh_audit.tag_table('emptied', 'Tmp', 'id', 'patient_id', capture_writes => $writes)\$\$)}),
		qr/^0A000: cannot tag "?emptied/, "the owner's ON COMMIT DELETE ROWS table, capture_writes => $writes: refused");
}
is($owner->query_safe(q{SELECT err($$SELECT bh_audit.tag_table('kept', 'Tmp', 'id', 'patient_id')$$)}), 'no error',
	'the owner tags its own temporary table');
$owner->quit;

done_testing();
