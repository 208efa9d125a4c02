-- 032_forget.sql -- privacy: `lkarchive forget --identity ID` replaces a participant's identity
-- everywhere with its pseudonym (hex HMAC-SHA256 under pseudonymize_key_file), clears its
-- name and extra, and records the pseudonym here, never the identity: every later run
-- pseudonymizes that identity's rows before they are staged, so it does not come back.
-- On Citus it stays on the coordinator with the rest of the ledger (030_citus.sql).
CREATE TABLE livekit.forgotten_identities (
    project_id    text        NOT NULL,
    identity_hmac text        NOT NULL,
    forgotten_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, identity_hmac)
);
COMMENT ON TABLE livekit.forgotten_identities IS
    'Participants forgotten by lkarchive forget: the pseudonym (hex HMAC-SHA256 of the identity under the operator''s key), never the identity';
COMMENT ON COLUMN livekit.forgotten_identities.project_id IS 'The project the identity was forgotten in';
COMMENT ON COLUMN livekit.forgotten_identities.identity_hmac IS 'The pseudonym: hex HMAC-SHA256 of the identity under pseudonymize_key_file (never the identity)';
COMMENT ON COLUMN livekit.forgotten_identities.forgotten_at IS 'When lkarchive forget first forgot it';
