-- The application database and the two accounts every server of a replication group has.
-- The replication user streams the binary log and copies the databases when a replica bootstraps; it may
-- read everything, which the binary log it streams contains anyway.
CREATE DATABASE IF NOT EXISTS `{{id:APP_DATABASE}}`;
CREATE USER IF NOT EXISTS '{{REPLICATION_USER}}'@'%' IDENTIFIED BY '{{MYSQL_REPLICATION_PASSWORD}}';
GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD, SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES
  ON *.* TO '{{REPLICATION_USER}}'@'%';
CREATE USER IF NOT EXISTS '{{APP_USER}}'@'%' IDENTIFIED BY '{{MYSQL_APP_PASSWORD}}';
GRANT ALL PRIVILEGES ON `{{id:APP_DATABASE_GRANT}}`.* TO '{{APP_USER}}'@'%';
