-- Points this replica at its primary. Replication continues from gtid_slave_pos, which the copy of the
-- primary's databases set; it starts with the server (the image's temporary server does not start it).
-- The primary's certificate is self-signed: where TLS is on (MariaDB 11.4 turns it on), it is not verified.
CHANGE MASTER TO
  MASTER_HOST = '{{PRIMARY_HOST}}',
  MASTER_PORT = {{id:PRIMARY_PORT}},
  MASTER_USER = '{{REPLICATION_USER}}',
  MASTER_PASSWORD = '{{MYSQL_REPLICATION_PASSWORD}}',
  MASTER_CONNECT_RETRY = 5,
  MASTER_SSL_VERIFY_SERVER_CERT = 0,
  MASTER_USE_GTID = slave_pos;
