# Under a translated lc_messages (a French or German clinic's server, and
# Japanese, Korean, Chinese, where names sit inside the message), the
# errors that bh_audit recognises by PostgreSQL's message are recorded as
# they are under lc_messages = C: the name a refusal's message gives is
# read from the message aligned with its translated format, the function's
# statement text and a procedure's COMMIT from the error's context lines
# aligned with theirs, and a message of a format of one conversion is kept
# as its English one would be (read-capture.md).  Run under C, then in each
# language (its locale the machine's or one made with localedef,
# bh_locale), the same events expected (action, outcome, table, error
# type, resource type, message) of:
#  - row-level security refusing a new row of a tagged table (DENIED), and
#    a query it would affect under row_security = off (German puts the
#    table's name inside the message);
#  - a refused COPY ... FROM of the ledger, the queue, the tag catalog and
#    the ledger's home (DENIED, CREATE);
#  - a refused nextval() of the queue's identity sequence (DENIED, UPDATE);
#  - a PL/pgSQL function's write refused before its executor (the
#    statement's text in the context): a FAILURE of the table;
#  - an error that a trigger's function catches itself, its write rolled
#    back: no event (the function's
#    frame known in the context);
#  - an error at a procedure's own COMMIT: a FAILURE of the table written.
# A language is left out, loudly (diag), only where its locale cannot be
# made or PostgreSQL's message catalogs (postgres, plpgsql) are missing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use BhAuditTest;
use PostgreSQL::Test::Utils;
use Test::More;

my @langs = bh_locales(qw(fr_FR de_DE ja_JP ko_KR zh_CN));

my $node = bh_node('refusal_names_translated',
	init => { extra => [ '--locale=C', '--encoding=UTF8' ] });
$node->safe_psql('postgres', q{
CREATE ROLE regress_nobody;
CREATE ROLE regress_clerk;
CREATE TABLE notes (note_id int PRIMARY KEY, patient_id text);
SELECT bh_audit.tag_table('notes', 'Note', 'note_id', 'patient_id');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY ins ON notes FOR INSERT WITH CHECK (patient_id <> 'blocked');
CREATE POLICY sel ON notes FOR SELECT USING (true);
GRANT SELECT, INSERT ON notes TO regress_clerk;
CREATE FUNCTION add_note_stable(n int) RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    INSERT INTO notes VALUES (n, 'p1');
END $$;
CREATE TABLE refs (id int PRIMARY KEY, patient_id text,
                   note_id int REFERENCES notes DEFERRABLE INITIALLY DEFERRED);
SELECT bh_audit.tag_table('refs', 'Ref', 'id', 'patient_id');
CREATE FUNCTION note_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / (NEW.note_id - NEW.note_id);
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER note_check BEFORE INSERT ON notes FOR EACH ROW EXECUTE FUNCTION note_check();
CREATE PROCEDURE add_ref(i int) LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO refs VALUES (i, 'p2', 999);
    COMMIT;
END $$;
});

@langs = bh_translated($node, [ 'postgres', 'plpgsql' ], @langs);
diag('no language of fr, de, ja, ko, zh_CN to translate to (above why): only C checked') if !@langs;

my @cases = (
	[ 'row-level security refusing a new row',
	  "SET ROLE regress_clerk; INSERT INTO notes VALUES (1, 'blocked');",
	  'CREATE|DENIED|public.notes|PermissionDenied|Note|new row violates row-level security policy for table ""' ],
	[ 'a query row-level security would affect, row_security = off',
	  "SET ROLE regress_clerk; SET row_security = off; SELECT * FROM notes;",
	  'READ|DENIED|public.notes|PermissionDenied|Note|query would be affected by row-level security policy for table ""' ],
	[ 'COPY ... FROM of the ledger refused',
	  "SET ROLE regress_nobody;\nCOPY bh_audit.events (seq) FROM STDIN;\n\\.\n",
	  'CREATE|DENIED|bh_audit.events|PermissionDenied|AuditLog|permission denied for table events' ],
	[ 'COPY ... FROM of the queue refused',
	  "SET ROLE regress_nobody;\nCOPY bh_audit.queue (id) FROM STDIN;\n\\.\n",
	  'CREATE|DENIED|bh_audit.queue|PermissionDenied|AuditLog|permission denied for table queue' ],
	[ 'COPY ... FROM of the tag catalog refused',
	  "SET ROLE regress_nobody;\nCOPY bh_audit.tags (tbl) FROM STDIN;\n\\.\n",
	  'CREATE|DENIED|bh_audit.tags|PermissionDenied|AuditConfiguration|permission denied for table tags' ],
	[ "COPY ... FROM of the ledger's home refused",
	  "SET ROLE regress_nobody;\nCOPY bh_audit.ledger_home FROM STDIN;\n\\.\n",
	  'CREATE|DENIED|bh_audit.ledger_home|PermissionDenied|AuditConfiguration|permission denied for table ledger_home' ],
	[ "nextval() of the queue's sequence refused",
	  "SET ROLE regress_nobody; SELECT nextval('bh_audit.queue_id_seq');",
	  'UPDATE|DENIED|bh_audit.queue_id_seq|PermissionDenied|AuditLog|permission denied for sequence queue_id_seq' ],
	[ "a function's write refused before its executor",
	  "SELECT add_note_stable(5);",
	  'CREATE|FAILURE|public.notes|feature_not_supported|Note|is not allowed in a non-volatile function' ],
	[ "an error a trigger's function catches itself",
	  "BEGIN; INSERT INTO notes VALUES (7, 'p7'); ROLLBACK;",
	  '' ],
	[ "an error at a procedure's own COMMIT",
	  "CALL add_ref(1);",
	  'CREATE|FAILURE|public.refs|foreign_key_violation|Ref|insert or update on table ""' ],
);

for my $lang ('C', @langs)
{
	if ($lang ne 'C')
	{
		my ($ret, $out, $err) = $node->psql('postgres',
			"SET lc_messages = '$lang'; SET ROLE regress_clerk; INSERT INTO notes VALUES (1, 'blocked')");
		ok($err !~ /new row violates/, "$lang: the server translates the refusal")
		  or diag($err);
	}
	for my $case (@cases)
	{
		my ($name, $sql, $expected) = @$case;
		is(bh_events_under($node, $lang, $sql, types => 1), $expected, "$lang: $name");
	}
}

$node->stop;
done_testing();
