-- The tables one deposit writes, with the gateway's own column shapes, keys and indexes
-- (from the migrations), stripped of the foreign keys to merchants, users and virtual
-- accounts (rows the deposit reads, never writes). Used only by the pgbench ceiling.
DROP TABLE IF EXISTS provider_event_claims, provider_callbacks, deposits, ledger_entries,
    ledger_postings, ledger_transfers, ledger_accounts, webhook_events, jobs;
CREATE TABLE provider_callbacks (
    id uuid PRIMARY KEY, provider varchar(32) NOT NULL, channel varchar(32) NOT NULL,
    path varchar(1024) NOT NULL, headers jsonb NOT NULL, body bytea NOT NULL,
    status varchar(16) NOT NULL, event_type varchar(64), event_key varchar(200), error text,
    attempts integer NOT NULL, received_at timestamptz NOT NULL, processed_at timestamptz,
    body_sha256 varchar(64), body_size integer, source varchar(64));
CREATE INDEX ON provider_callbacks (provider, event_key);
CREATE INDEX ON provider_callbacks (status, received_at);
CREATE TABLE provider_event_claims (
    id uuid PRIMARY KEY, provider varchar(32) NOT NULL, event_key varchar(200) NOT NULL,
    callback_id uuid NOT NULL REFERENCES provider_callbacks(id), claimed_at timestamptz NOT NULL,
    UNIQUE (provider, event_key));
CREATE TABLE deposits (
    id uuid PRIMARY KEY, merchant_id uuid NOT NULL, payment_instrument_id uuid NOT NULL,
    user_pk uuid NOT NULL, user_ref varchar(64) NOT NULL, instrument varchar(8) NOT NULL,
    provider varchar(16) NOT NULL, bank_code varchar(8) NOT NULL,
    virtual_account_no varchar(40) NOT NULL, payment_request_id varchar(128) NOT NULL,
    payer_name varchar(200), amount bigint NOT NULL, fee bigint NOT NULL,
    net_amount bigint NOT NULL, currency varchar(3) NOT NULL, status varchar(16) NOT NULL,
    failure_reason varchar(200), trx_date_time timestamptz NOT NULL,
    created_at timestamptz NOT NULL, UNIQUE (provider, payment_request_id));
CREATE INDEX ON deposits (merchant_id, created_at, id);
CREATE INDEX ON deposits (merchant_id, status, created_at);
CREATE INDEX ON deposits (merchant_id, user_ref, created_at);
CREATE TABLE ledger_accounts (
    id uuid PRIMARY KEY, code varchar(160) NOT NULL UNIQUE, kind varchar(32) NOT NULL,
    merchant_id uuid, provider varchar(32) NOT NULL, vault_type varchar(16),
    currency varchar(3) NOT NULL, must_not_go_negative boolean NOT NULL,
    debits_pending bigint NOT NULL, debits_posted bigint NOT NULL,
    credits_pending bigint NOT NULL, credits_posted bigint NOT NULL, version bigint NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    CHECK (NOT must_not_go_negative OR credits_posted - debits_posted - debits_pending >= 0),
    CHECK (debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0
           AND credits_posted >= 0));
CREATE INDEX ON ledger_accounts (merchant_id, provider, vault_type);
CREATE TABLE ledger_transfers (
    id varchar(128) PRIMARY KEY, kind varchar(32) NOT NULL, status varchar(16) NOT NULL,
    currency varchar(3) NOT NULL, fingerprint varchar(64) NOT NULL, note text,
    created_at timestamptz NOT NULL, held_at timestamptz, posted_at timestamptz,
    voided_at timestamptz, CHECK (status IN ('pending', 'posted', 'voided')));
CREATE TABLE ledger_postings (
    transfer_id varchar(128) NOT NULL REFERENCES ledger_transfers(id),
    stage varchar(8) NOT NULL, seq integer NOT NULL,
    debit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
    credit_account_id uuid NOT NULL REFERENCES ledger_accounts(id),
    amount bigint NOT NULL CHECK (amount > 0), PRIMARY KEY (transfer_id, stage, seq));
CREATE TABLE ledger_entries (
    account_id uuid NOT NULL REFERENCES ledger_accounts(id), version bigint NOT NULL,
    transfer_id varchar(128) NOT NULL REFERENCES ledger_transfers(id),
    event varchar(16) NOT NULL, debits_pending_delta bigint NOT NULL,
    debits_posted_delta bigint NOT NULL, credits_pending_delta bigint NOT NULL,
    credits_posted_delta bigint NOT NULL, debits_pending bigint NOT NULL,
    debits_posted bigint NOT NULL, credits_pending bigint NOT NULL,
    credits_posted bigint NOT NULL, created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, version));
CREATE INDEX ON ledger_entries (transfer_id);
CREATE TABLE webhook_events (
    id uuid PRIMARY KEY, merchant_id uuid NOT NULL, event_type varchar(32) NOT NULL,
    transaction_id varchar(64) NOT NULL, payload bytea NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX ON webhook_events (created_at);
CREATE INDEX ON webhook_events (merchant_id, transaction_id, created_at);
CREATE TABLE jobs (
    id uuid PRIMARY KEY, kind varchar(64) NOT NULL, payload jsonb NOT NULL,
    status varchar(16) NOT NULL, run_at timestamptz NOT NULL, attempts integer NOT NULL,
    dedupe_key varchar(200) UNIQUE, concurrency_key varchar(100), locked_by varchar(100),
    lease_token uuid, last_error text, created_at timestamptz NOT NULL, finished_at timestamptz);
CREATE INDEX ON jobs (status, run_at);
-- 1,000 merchants' deposit vaults (ids md5('vault:<n>')), the provider clearing and the
-- fee revenue account.
INSERT INTO ledger_accounts
SELECT md5('vault:' || g)::uuid, 'vault:' || g || ':topremit:deposit:IDR', 'merchant_vault',
       md5('merchant:' || g)::uuid, 'topremit', 'deposit', 'IDR', true, 0, 0, 0, 0, 0, now(), now()
FROM generate_series(1, 1000) g;
INSERT INTO ledger_accounts VALUES
    (md5('clearing')::uuid, 'provider_clearing:topremit:IDR', 'provider_clearing', NULL,
     'topremit', NULL, 'IDR', false, 0, 0, 0, 0, 0, now(), now()),
    (md5('fees')::uuid, 'fee_revenue:topremit:IDR', 'fee_revenue', NULL,
     'topremit', NULL, 'IDR', false, 0, 0, 0, 0, 0, now(), now());
