# A trigger guarding the extension's own tables, replaced while bh_audit
# was not preloaded by one of the same name that calls another function,
# must be reported by capture_status().  docs/sql-reference.md: it lists
# "the extension's own tables while a trigger guarding them is missing,
# disabled or weaker than installed" (the ledger's append-only guard, the
# tag catalog's notice to every session's tag cache, ...).  It looked at
# each guard trigger's name and enabled state only: events_append_only
# dropped and created again calling a no-op (with the preload, DROP
# TRIGGER on the ledger is refused) passes, and from then on a superuser's
# UPDATE rewrites a sealed event in place, with capture_status() empty.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('s43f_guard_trigger_replaced');
$node->safe_psql('postgres', q{
CREATE ROLE auditor LOGIN IN ROLE bh_audit_reader;
CREATE TABLE notes (id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
INSERT INTO notes VALUES (1, 'p1');
SELECT bh_audit.seal();
});
my ($ret, $out, $err) = $node->psql('postgres',
	q{UPDATE bh_audit.events SET event = event WHERE seq = 1});
isnt($ret, 0, 'with the guard as installed, an UPDATE of the ledger is refused');

$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
$node->safe_psql('postgres', q{
CREATE FUNCTION public.pass_through() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN IF TG_LEVEL = 'ROW' THEN RETURN coalesce(NEW, OLD); END IF; RETURN NULL; END$$;
DROP TRIGGER events_append_only ON bh_audit.events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON bh_audit.events
  FOR EACH ROW EXECUTE FUNCTION public.pass_through();
ALTER TABLE bh_audit.events ENABLE ALWAYS TRIGGER events_append_only;
DROP TRIGGER tags_changed ON bh_audit.tags;
CREATE TRIGGER tags_changed AFTER INSERT ON bh_audit.tags
  FOR EACH STATEMENT EXECUTE FUNCTION public.pass_through();
});
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'bh_audit'\n");
$node->restart;
is($node->safe_psql('postgres', 'SELECT bh_audit._preloaded()'), 't', 'preloaded again');

($ret, $out, $err) = $node->psql('postgres',
	q{UPDATE bh_audit.events SET event = event WHERE seq = 1});
is($ret, 0, 'what is at stake: the ledger can now be updated in place') or diag($err);

my $status = $node->safe_psql('postgres',
	q{SELECT coalesce(tbl::text, ''), problem FROM bh_audit.capture_status()},
	extra_params => [ '-U', 'auditor' ]);
note("capture_status():\n$status");
like($status, qr/^bh_audit\.events\|[^\n]*events_append_only/m,
	'capture_status() reports the ledger guard events_append_only calling another function');
like($status, qr/^bh_audit\.tags\|[^\n]*tags_changed/m,
	'capture_status() reports the tag catalog trigger tags_changed calling another function on other events');

done_testing();
