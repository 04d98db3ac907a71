-- Roles of the test cluster: logins with passwords, group roles,
-- memberships and an attribute or two, so restore has work to do.
CREATE ROLE app_owner LOGIN PASSWORD 'owner-pw' CREATEDB;
CREATE ROLE app_rw LOGIN PASSWORD 'rw-pw' CONNECTION LIMIT 20;
CREATE ROLE app_ro LOGIN PASSWORD 'ro-pw';
CREATE ROLE readers NOLOGIN;
CREATE ROLE auditor LOGIN PASSWORD 'audit-pw' VALID UNTIL '2099-01-01';
GRANT readers TO app_ro;
GRANT readers TO auditor;
ALTER ROLE app_rw SET statement_timeout = '30s';
COMMENT ON ROLE auditor IS 'quarterly audit access';
