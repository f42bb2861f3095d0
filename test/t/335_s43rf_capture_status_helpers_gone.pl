# capture_status() reports an extension function gone (dropped, renamed or
# moved while bh_audit was not preloaded) instead of failing (a446ffe,
# docs/sql-reference.md): a monitoring check that errors is read as "the
# check is broken", not as "capture is broken".  It holds for the functions
# the triggers call (t/327), but capture_status() itself calls two of the
# extension's functions by name, bh_audit._preloaded() and
# bh_audit._sealer_absence(): with either of them gone, capture_status()
# fails with 'function bh_audit._preloaded() does not exist' and reports
# nothing, though the function is in its own list of those it reports as
# gone.  So it does with the extension's schema renamed (refused with the
# preload, as capture would stop) or one of its tables taken out of it and
# dropped: 'relation "bh_audit.tags" does not exist', where the
# functions' and the guards' absence is what it should report.  The
# caller is a member of bh_audit_reader, as documented.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43rf_helpers_gone');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
});

sub without_preload
{
	my ($sql) = @_;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
	$node->restart;
	$node->safe_psql('postgres', $sql);
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
	$node->restart;
}

sub status
{
	my ($what, $schema) = @_;
	$schema //= 'bh_audit';
	my ($ret, $out, $err) = $node->psql('postgres',
		qq{SELECT coalesce(tbl::text, ''), problem FROM $schema.capture_status()},
		extra_params => [ '-U', 'auditor' ]);
	note("capture_status():\n$out\n$err");
	is($ret, 0, "capture_status() runs ($what)");
	unlike($err, qr/ERROR/, "capture_status() raises no error ($what)");
	return $out;
}

is(status('as installed'), '', 'capture_status() is empty to begin with');

for my $fn ('_preloaded', '_sealer_absence')
{
	# taken out of the extension and dropped: a trace of neither is left
	without_preload(qq{
ALTER EXTENSION bh_audit DROP FUNCTION bh_audit.$fn();
DROP FUNCTION bh_audit.$fn();
});
	my $status = status("bh_audit.$fn() dropped");
	like($status, qr/^\|function bh_audit\.\Q$fn\E\(\) does not exist \(dropped, renamed or moved\)/m,
		"bh_audit.$fn() is reported missing");

	# created again as the script does, for the next round
	without_preload(qq{
CREATE FUNCTION bh_audit.$fn() RETURNS @{[ $fn eq '_preloaded' ? 'boolean' : 'text' ]}
AS '\$libdir/bh_audit', 'bh_audit$fn' LANGUAGE C @{[ $fn eq '_preloaded' ? 'STABLE' : 'VOLATILE' ]} PARALLEL SAFE;
REVOKE ALL ON FUNCTION bh_audit.$fn() FROM PUBLIC;
ALTER EXTENSION bh_audit ADD FUNCTION bh_audit.$fn();
});
	is(status("bh_audit.$fn() created again"), '', "capture_status() is empty again once bh_audit.$fn() is back");
}

# the extension's schema renamed: the functions are gone from where they
# are looked for, and capture of tagged tables stops
without_preload('ALTER SCHEMA bh_audit RENAME TO bh_audit_moved');
isnt(status('schema renamed', 'bh_audit_moved'), '', 'capture_status() reports something with the schema renamed');
without_preload('ALTER SCHEMA bh_audit_moved RENAME TO bh_audit');
is(status('schema named back'), '', 'capture_status() is empty again with the schema named back');

# one of the extension's tables taken out of it and dropped, its guards with it
without_preload(q{
ALTER EXTENSION bh_audit DROP TABLE bh_audit.ledger_home;
DROP TABLE bh_audit.ledger_home;
});
like(status('bh_audit.ledger_home dropped'), qr/ledger_home/,
	'capture_status() reports the ledger home (or its guards) gone');

done_testing();
