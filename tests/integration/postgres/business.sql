-- A small business database: psql variable :dbtag names it.
CREATE TABLE accounts (
	id serial PRIMARY KEY,
	reference text NOT NULL UNIQUE,
	balance numeric(14,2) NOT NULL DEFAULT 0,
	opened date NOT NULL,
	meta jsonb
);
INSERT INTO accounts (reference, balance, opened, meta)
SELECT :'dbtag' || '-' || g, g * 1.5, date '2023-01-01' + g % 400,
	jsonb_build_object('db', :'dbtag', 'n', g)
FROM generate_series(1, 2000) g;
CREATE VIEW rich_accounts AS SELECT * FROM accounts WHERE balance > 1000;
CREATE FUNCTION account_count() RETURNS bigint LANGUAGE sql STABLE
	AS 'SELECT count(*) FROM accounts';
GRANT SELECT ON accounts TO readers;
