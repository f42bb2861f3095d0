# own_acl.c and the tag catalog's trigger (tag_cache.c) take any
# extension's script (creating_extension) for bh_audit's own: while
# CREATE EXTENSION of another extension (isn) runs its script, a
# superuser's event trigger (ddl_command_end fires for each command of a
# script) deletes the tag rows, and no "edit the tag catalog directly"
# event is queued; or gives bh_audit.tags to a role that is no superuser,
# and the ownership change is not refused.  The rest of the extension
# counts only bh_audit's own script as its own (bh_in_own_script(): "a
# statement run then, by an event trigger, say, is checked as any other").
# Right: both are treated as outside a script: the catalog edit recorded,
# the ownership change refused (42501).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = bh_node('main');
$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE TABLE notes (id int, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'id', 'patient_id');
CREATE FUNCTION public.et_delete() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('t272.done', true) IS DISTINCT FROM 'yes' THEN
		PERFORM set_config('t272.done', 'yes', true);
		DELETE FROM bh_audit.tags;
	END IF;
END $$;
CREATE FUNCTION public.et_owner() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('t272.done', true) IS DISTINCT FROM 'yes' THEN
		PERFORM set_config('t272.done', 'yes', true);
		ALTER TABLE bh_audit.tags OWNER TO app;
	END IF;
END $$;
});
my $mark = bh_seal_mark($node, 'postgres');

# The tag catalog edited directly by a superuser's event trigger, inside
# another extension's script.
$node->safe_psql('postgres', q{
CREATE EVENT TRIGGER et_delete ON ddl_command_end EXECUTE FUNCTION public.et_delete();
CREATE EXTENSION isn;
DROP EVENT TRIGGER et_delete;
});
is($node->safe_psql('postgres', 'SELECT count(*) FROM bh_audit.tags'), '0',
	'(the tag row is deleted)');
$node->safe_psql('postgres', 'SELECT bh_audit.seal()');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM bh_audit.events
  WHERE seq > $mark AND resource_type = 'AuditConfiguration'
    AND event->'metadata'->>'change' = 'edit the tag catalog directly'
    AND event->'metadata'->>'statement' = 'DELETE'}),
	'1', 'the direct DELETE of the tag catalog inside another extension\'s script is recorded');

# The tag catalog given to a role that is no superuser, the same way.
my ($ret, $out, $err) = $node->psql('postgres', q{
CREATE EVENT TRIGGER et_owner ON ddl_command_end EXECUTE FUNCTION public.et_owner();
CREATE EXTENSION fuzzystrmatch;
});
$node->safe_psql('postgres', 'DROP EVENT TRIGGER IF EXISTS et_owner');
is($node->safe_psql('postgres', q{SELECT r.rolsuper FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
  WHERE c.oid = 'bh_audit.tags'::regclass}),
	't', 'bh_audit.tags is still owned by a superuser');
like($err, qr/bh_audit's objects are owned by superusers only/,
	'giving it to a role that is no superuser inside another extension\'s script is refused');

$node->stop;
done_testing();
