-- The login-policy preview's per-user summaries (collection `user_factors`,
-- see crates/domain/src/readmodel/user_factors.rs) for the human users that
-- existed before the store began deriving them from the user documents.
-- Mask bits: 1 password, 2 TOTP, 4 U2F, 8 OTP email, 16 OTP SMS, 32 recovery codes.
INSERT INTO docs (instance_id, collection, id, lookup, body)
SELECT instance_id, 'user_factors', id, org || ':' || mask,
       json_build_object('userId', id, 'loginName', name, 'orgId', org, 'state', state, 'mask', mask)::text
FROM (
    SELECT instance_id, id,
           b->>'org_id' AS org,
           b->>'user_name' AS name,
           b->>'state' AS state,
           (CASE WHEN (b->'kind'->'Human'->>'password_set')::boolean THEN 1 ELSE 0 END)
           | (CASE WHEN b->'factors'->>'totp' = 'Ready' THEN 2 ELSE 0 END)
           | (CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(b->'factors'->'u2f', '[]'::jsonb)) AS t
                               WHERE t->>'readiness' = 'Ready') THEN 4 ELSE 0 END)
           | (CASE WHEN (b->'factors'->>'otp_email')::boolean THEN 8 ELSE 0 END)
           | (CASE WHEN (b->'factors'->>'otp_sms')::boolean THEN 16 ELSE 0 END)
           | (CASE WHEN COALESCE((b->'factors'->>'recovery_codes')::int, 0) > 0 THEN 32 ELSE 0 END) AS mask
    FROM (SELECT instance_id, id, body::jsonb AS b FROM docs WHERE collection = 'user') AS users
    WHERE b->'kind' ? 'Human'
) AS summaries
ON CONFLICT (instance_id, collection, id) DO NOTHING;
