-- Database-level properties, which pg_dump writes only with --create:
-- comments, connection limits, settings of a database and of a role in
-- a database, and database ACLs with a grant option.
COMMENT ON DATABASE merchant IS 'merchants and their contracts';
ALTER DATABASE merchant CONNECTION LIMIT 50;
ALTER DATABASE merchant SET search_path = "$user", public, "Odd Schema";
ALTER DATABASE merchant SET statement_timeout = '90s';
ALTER ROLE app_rw IN DATABASE merchant SET work_mem = '32MB';
REVOKE CONNECT, TEMPORARY ON DATABASE merchant FROM PUBLIC;
GRANT CONNECT ON DATABASE merchant TO readers;
GRANT CONNECT, TEMPORARY ON DATABASE merchant TO app_rw WITH GRANT OPTION;
COMMENT ON DATABASE postgres IS 'the maintenance database';
ALTER DATABASE postgres SET lock_timeout = '5s';
ALTER ROLE auditor IN DATABASE postgres SET search_path = audit, public;
GRANT CREATE ON DATABASE "Partner Portal/Legacy" TO app_rw;
ALTER DATABASE "Partner Portal/Legacy" SET "DateStyle" = 'ISO, DMY';
COMMENT ON DATABASE "Partner Portal/Legacy" IS 'kept for partners'' old ''portal''';
