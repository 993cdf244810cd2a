-- Points this replica at its primary with GTID auto-positioning: it asks for every transaction that is not
-- in its gtid_executed, which the copy of the primary's databases set (GTID_PURGED). Replication starts with
-- the server; the image's temporary server does not start it.
CHANGE REPLICATION SOURCE TO
  SOURCE_HOST = '{{PRIMARY_HOST}}',
  SOURCE_PORT = {{id:PRIMARY_PORT}},
  SOURCE_USER = '{{REPLICATION_USER}}',
  SOURCE_PASSWORD = '{{MYSQL_REPLICATION_PASSWORD}}',
  SOURCE_AUTO_POSITION = 1,
  SOURCE_CONNECT_RETRY = 5,
  SOURCE_RETRY_COUNT = 1000000,
  SOURCE_SSL = 1,
  GET_SOURCE_PUBLIC_KEY = 1;
-- super_read_only refuses root's writes too; my.cnf cannot set it (see replica.cnf), so it is set here,
-- after the bootstrap wrote what it had to, and persisted for every later start.
SET PERSIST super_read_only = ON;
