-- Verified passkeys by credential ID (collection `passkey_credential`, see
-- PasskeyCredentialView in crates/domain/src/readmodel/directory.rs) for
-- the passkeys verified before the store began keeping them: a sign-in by
-- discoverable credential finds its user through them.
INSERT INTO docs (instance_id, collection, id, lookup, body)
SELECT v.instance_id, 'passkey_credential',
       v.aggregate_id || ':' || json_extract(v.payload, '$.webAuthNTokenId'),
       json_extract(v.payload, '$.keyId'),
       json_object('user_id', v.aggregate_id, 'org_id', v.owner,
                   'token_id', json_extract(v.payload, '$.webAuthNTokenId'),
                   'key_id', json_extract(v.payload, '$.keyId'))
FROM events v
WHERE v.event_type = 'user.human.passwordless.token.verified'
  AND NOT EXISTS (
      SELECT 1 FROM events r
      WHERE r.instance_id = v.instance_id AND r.aggregate_type = v.aggregate_type
        AND r.aggregate_id = v.aggregate_id
        AND r.event_type = 'user.human.passwordless.token.removed'
        AND json_extract(r.payload, '$.webAuthNTokenId') = json_extract(v.payload, '$.webAuthNTokenId'))
ON CONFLICT (instance_id, collection, id) DO NOTHING;
