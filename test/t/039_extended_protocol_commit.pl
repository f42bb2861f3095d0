# With the extended query protocol (what most drivers use), the commit that
# ends a statement outside a transaction block comes at the Sync message,
# when no statement runs.  An error raised there (a deferred constraint, a
# deferred trigger) undoes the statement's writes and is a FAILURE on each
# tagged table it wrote, as at the end of a simple-protocol statement; an
# error a deferred trigger catches itself there is none.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('extended');
$node->safe_psql('postgres', q{
CREATE TABLE patients (id int PRIMARY KEY);
INSERT INTO patients VALUES (1);
CREATE TABLE consents (id int PRIMARY KEY,
                       patient_id int REFERENCES patients DEFERRABLE INITIALLY DEFERRED);
SELECT bh_audit.tag_table('consents', 'Consent', 'id', 'patient_id');
CREATE FUNCTION check_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / (NEW.id - NEW.id);
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER check_consent AFTER INSERT ON consents
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_consent();
SELECT bh_audit.seal();
});

sub run_extended
{
	my ($sql) = @_;
	return (bh_pgbench_script($node, 'postgres', 'extended', "$sql\n"))[2];
}

sub events_since
{
	my ($mark) = @_;
	$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
	return $node->safe_psql('postgres', qq{
SELECT string_agg(action || ' ' || outcome || coalesce(' ' || error_type, '')
                  || coalesce(' ' || patient_id, ''), ', ' ORDER BY seq)
  FROM bh_audit.events WHERE seq > $mark AND resource_type = 'Consent'});
}

my $mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
like(run_extended('INSERT INTO consents VALUES (1, 999);'),
	qr/violates foreign key constraint/, 'the deferred foreign key fails at Sync');
is(events_since($mark), 'CREATE FAILURE foreign_key_violation',
	'a FAILURE on the table the statement wrote, and no write event');

$mark = $node->safe_psql('postgres', 'SELECT max(seq) FROM bh_audit.events');
is(run_extended('INSERT INTO consents VALUES (2, 1);'), '',
	'a statement whose deferred trigger catches its own error commits');
is(events_since($mark), 'CREATE SUCCESS 1', 'its write is recorded, and no FAILURE');

is($node->safe_psql('postgres', 'SELECT result FROM bh_audit.verify_chain()'),
	'PASS', 'the chain verifies');
$node->stop;
done_testing();
