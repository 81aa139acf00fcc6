-- The login-policy preview's per-user summaries (collection `user_factors`,
-- see crates/domain/src/readmodel/user_factors.rs) for the human users that
-- existed before the store began deriving them from the user documents.
-- Mask bits: 1 password, 2 TOTP, 4 U2F, 8 OTP email, 16 OTP SMS, 32 recovery codes.
INSERT INTO docs (instance_id, collection, id, lookup, body)
SELECT instance_id, 'user_factors', id, org || ':' || mask,
       json_object('userId', id, 'loginName', name, 'orgId', org, 'state', state, 'mask', mask)
FROM (
    SELECT instance_id, id,
           json_extract(body, '$.org_id') AS org,
           json_extract(body, '$.user_name') AS name,
           json_extract(body, '$.state') AS state,
           (CASE WHEN json_extract(body, '$.kind.Human.password_set') THEN 1 ELSE 0 END)
           | (CASE WHEN json_extract(body, '$.factors.totp') = 'Ready' THEN 2 ELSE 0 END)
           | (CASE WHEN EXISTS (SELECT 1 FROM json_each(docs.body, '$.factors.u2f')
                               WHERE json_extract(value, '$.readiness') = 'Ready') THEN 4 ELSE 0 END)
           | (CASE WHEN json_extract(body, '$.factors.otp_email') THEN 8 ELSE 0 END)
           | (CASE WHEN json_extract(body, '$.factors.otp_sms') THEN 16 ELSE 0 END)
           | (CASE WHEN json_extract(body, '$.factors.recovery_codes') > 0 THEN 32 ELSE 0 END) AS mask
    FROM docs
    WHERE collection = 'user' AND json_extract(body, '$.kind.Human') IS NOT NULL
)
WHERE true
ON CONFLICT (instance_id, collection, id) DO NOTHING;
