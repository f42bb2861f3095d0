# test/lib/BhAuditTest.pm: set-up shared by the Perl TAP tests (test/t).
#
# bh_node(NAME, OPTION => VALUE, ...) returns a started
# PostgreSQL::Test::Cluster node with bh_audit in shared_preload_libraries:
#   database        bh_audit.database, the sealer's database (default
#                   'postgres'); created unless it is 'postgres' or
#                   create_database => 0
#   conf            further postgresql.conf lines
#   init            a hash of options for init() (allows_streaming, extra)
#   extension       CREATE EXTENSION bh_audit in that database (default 1;
#                   0 leaves it to the test)
package BhAuditTest;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(bh_node);

sub bh_node
{
	my ($name, %opt) = @_;
	my $db = $opt{database} // 'postgres';
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(%{ $opt{init} // {} });
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'bh_audit'\nbh_audit.database = '$db'\n"
		  . ($opt{conf} // ''));
	$node->start;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"})
	  if $db ne 'postgres' && ($opt{create_database} // 1);
	$node->safe_psql($db, 'CREATE EXTENSION bh_audit') if $opt{extension} // 1;
	return $node;
}

1;
