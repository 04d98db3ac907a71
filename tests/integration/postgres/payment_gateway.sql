-- The richest database of the test cluster: most column types,
-- sequences, views, functions, a trigger, large objects, grants and a
-- 200 000-row table.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA gateway AUTHORIZATION app_owner;
CREATE TYPE gateway.payment_state AS ENUM ('pending', 'authorized', 'captured', 'refunded', 'failed');
CREATE TYPE gateway.money_amount AS (amount numeric(14,2), currency char(3));
CREATE DOMAIN gateway.iso_currency AS char(3) CHECK (VALUE ~ '^[A-Z]{3}$');
CREATE SEQUENCE gateway.invoice_number START 100000 INCREMENT 7;

CREATE TABLE gateway.merchants (
	id bigserial PRIMARY KEY,
	name varchar(120) NOT NULL UNIQUE,
	country char(2) NOT NULL,
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00',
	settings jsonb,
	tags text[],
	api_key_hash bytea,
	ip_allow inet[],
	network cidr,
	mac macaddr,
	uid uuid NOT NULL
);

CREATE TABLE gateway.payments (
	id bigserial PRIMARY KEY,
	merchant_id bigint NOT NULL REFERENCES gateway.merchants(id),
	invoice bigint NOT NULL DEFAULT nextval('gateway.invoice_number'),
	state gateway.payment_state NOT NULL,
	amount numeric(14,2) NOT NULL,
	currency gateway.iso_currency NOT NULL,
	fee real,
	fx_rate double precision,
	small smallint,
	paid_on date,
	paid_at timestamp,
	settle_after interval,
	window_ int4range,
	location point,
	price money,
	payload json,
	note text,
	search tsvector,
	raw xml,
	bits bit varying(16),
	total gateway.money_amount
);
CREATE INDEX payments_merchant ON gateway.payments (merchant_id, state);

CREATE TABLE gateway.audit (
	id serial PRIMARY KEY,
	payment_id bigint,
	changed_at timestamptz NOT NULL DEFAULT now(),
	old_state gateway.payment_state,
	new_state gateway.payment_state
);

CREATE FUNCTION gateway.log_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.state IS DISTINCT FROM OLD.state THEN
		INSERT INTO gateway.audit (payment_id, changed_at, old_state, new_state)
		VALUES (NEW.id, '2024-06-01 12:00:00+00', OLD.state, NEW.state);
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER payments_state AFTER UPDATE ON gateway.payments
	FOR EACH ROW EXECUTE FUNCTION gateway.log_state();

CREATE FUNCTION gateway.fee_for(amount numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE AS 'SELECT round(amount * 0.029 + 0.30, 2)';

INSERT INTO gateway.merchants (name, country, settings, tags, api_key_hash,
	ip_allow, network, mac, uid)
SELECT 'merchant ' || g, (ARRAY['DE','FR','US','JP'])[1 + g % 4],
	jsonb_build_object('tier', g % 3, 'webhook', 'https://m' || g || '.example/hook'),
	ARRAY['t' || g % 5, 'n' || g], digest('key' || g, 'sha256'),
	ARRAY[('10.0.' || g % 250 || '.1')::inet], ('10.' || g % 250 || '.0.0/16')::cidr,
	('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr,
	md5('merchant' || g)::uuid
FROM generate_series(1, 500) g;

INSERT INTO gateway.payments (merchant_id, state, amount, currency, fee,
	fx_rate, small, paid_on, paid_at, settle_after, window_, location, price,
	payload, note, search, raw, bits, total)
SELECT 1 + g % 500,
	(ARRAY['pending','authorized','captured','refunded','failed']::gateway.payment_state[])[1 + g % 5],
	(g % 100000) / 100.0, (ARRAY['EUR','USD','JPY'])[1 + g % 3],
	(g % 97) / 7.0, 1 + (g % 13) / 1000.0, g % 30000,
	date '2024-01-01' + g % 365, timestamp '2024-01-01' + g * interval '17 seconds',
	(g % 72) * interval '1 hour', int4range(g, g + 10), point(g % 180, g % 90),
	(g % 1000)::money, json_build_object('n', g),
	CASE WHEN g % 10 = 0 THEN NULL ELSE 'payment ' || g || E' with a\ttab' END,
	to_tsvector('english', 'payment number ' || g),
	xmlparse(content '<p id="' || g || '"/>'), (g % 65536)::bit(16)::varbit,
	ROW((g % 1000)::numeric, 'EUR')::gateway.money_amount
FROM generate_series(1, 200000) g;
UPDATE gateway.payments SET state = 'captured' WHERE id % 1000 = 1 AND state <> 'captured';

CREATE VIEW gateway.daily_volume AS
	SELECT paid_on, currency, count(*) AS payments, sum(amount) AS volume
	FROM gateway.payments GROUP BY paid_on, currency;
CREATE MATERIALIZED VIEW gateway.merchant_totals AS
	SELECT merchant_id, sum(amount) AS total FROM gateway.payments GROUP BY merchant_id;

SELECT setval('gateway.invoice_number', 4242424);
SELECT lo_from_bytea(424242, convert_to(repeat('statement pdf ', 1000), 'UTF8'));
SELECT lo_from_bytea(424243, '\x00ff00ff'::bytea);
COMMENT ON TABLE gateway.payments IS 'one row per payment attempt';

ALTER TABLE gateway.merchants OWNER TO app_owner;
ALTER TABLE gateway.payments OWNER TO app_owner;
GRANT USAGE ON SCHEMA gateway TO readers, app_rw;
GRANT SELECT ON ALL TABLES IN SCHEMA gateway TO readers;
GRANT SELECT, INSERT, UPDATE ON gateway.payments TO app_rw;
GRANT USAGE ON SEQUENCE gateway.invoice_number TO app_rw;
ALTER DATABASE payment_gateway SET search_path = gateway, public;
GRANT CONNECT ON DATABASE payment_gateway TO readers;
