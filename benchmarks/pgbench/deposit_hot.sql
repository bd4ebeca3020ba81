-- As deposit.sql, and the transfer also moves the two shared rows (the provider
-- clearing account and the fee revenue account) with their ledger entries, updated last
-- so that their row locks are held only through the COMMIT: the ceiling of a ledger that
-- keeps running balances on shared system accounts, touched last.
\set m random(1, 1000)
\set amt random(1000000, 1000000000)
\set r random(1, 9000000000000000000)
BEGIN;
INSERT INTO provider_callbacks VALUES (md5('cb' || :r)::uuid, 'topremit', 'va', '/callbacks/topremit/va', '{"content-type": "application/json", "x-signature": "abcdefabcdefabcdef"}', convert_to('{"partnerServiceId":"  88081","virtualAccountNo":"8808123456789012","paidAmount":{"value":"100000.00","currency":"IDR"},"paymentRequestId":"P' || :r || '"}', 'UTF8'), 'applied', 'payment', 'payment:P' || :r, NULL, 1, now(), now(), md5(:r::text), 180, '127.0.0.1');
INSERT INTO provider_event_claims VALUES (gen_random_uuid(), 'topremit', 'payment:P' || :r, md5('cb' || :r)::uuid, now());
INSERT INTO deposits VALUES (md5('dep' || :r)::uuid, md5('merchant:' || :m)::uuid, md5('va' || :m)::uuid, md5('user' || :m)::uuid, 'user-' || :m, 'va', 'topremit', '014', '8808123456789012', 'P' || :r, 'Budi Santoso', :amt, 400000, :amt - 400000, 'IDR', 'COMPLETED', NULL, now(), now());
INSERT INTO ledger_transfers VALUES ('deposit:topremit:P' || :r, 'deposit', 'posted', 'IDR', md5('fp' || :r) || md5('fp2' || :r), md5('dep' || :r)::uuid::text, now(), NULL, now(), NULL);
INSERT INTO ledger_postings VALUES ('deposit:topremit:P' || :r, 'posted', 0, md5('clearing')::uuid, md5('vault:' || :m)::uuid, :amt - 400000), ('deposit:topremit:P' || :r, 'posted', 1, md5('clearing')::uuid, md5('fees')::uuid, 400000);
WITH a AS (UPDATE ledger_accounts SET credits_posted = credits_posted + :amt - 400000, version = version + 1, updated_at = now() WHERE id = md5('vault:' || :m)::uuid RETURNING *) INSERT INTO ledger_entries SELECT id, version, 'deposit:topremit:P' || :r, 'post', 0, 0, 0, :amt - 400000, debits_pending, debits_posted, credits_pending, credits_posted, now() FROM a;
INSERT INTO webhook_events VALUES (md5('ev' || :r)::uuid, md5('merchant:' || :m)::uuid, 'va_payment', md5('dep' || :r)::uuid::text, convert_to('{"partnerServiceId":"  88081","customerNo":"123456789012","virtualAccountNo":"8808123456789012","paidAmount":{"value":"100000.00","currency":"IDR"},"trxId":"' || :r || '"}', 'UTF8'), now());
INSERT INTO jobs VALUES (gen_random_uuid(), 'webhooks.deliver', ('{"eventId": "' || md5('ev' || :r)::uuid || '"}')::jsonb, 'pending', now(), 0, 'deliver:' || md5('ev' || :r), 'webhook:' || :m, NULL, NULL, NULL, now(), NULL);
WITH a AS (UPDATE ledger_accounts SET debits_posted = debits_posted + :amt, version = version + 1, updated_at = now() WHERE id = md5('clearing')::uuid RETURNING *) INSERT INTO ledger_entries SELECT id, version, 'deposit:topremit:P' || :r, 'post', 0, :amt, 0, 0, debits_pending, debits_posted, credits_pending, credits_posted, now() FROM a;
WITH a AS (UPDATE ledger_accounts SET credits_posted = credits_posted + 400000, version = version + 1, updated_at = now() WHERE id = md5('fees')::uuid RETURNING *) INSERT INTO ledger_entries SELECT id, version, 'deposit:topremit:P' || :r, 'post', 0, 0, 0, 400000, debits_pending, debits_posted, credits_pending, credits_posted, now() FROM a;
COMMIT;
