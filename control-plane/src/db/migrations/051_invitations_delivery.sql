-- Up Migration
-- The invite-user flow (issue 7) emails the one-time link: the request stores a hash no token
-- matches, and the flow's email step replaces it with the hash of the token it sends, in the
-- transaction that records the send. emailed_at says the link went out (shown in the API);
-- auth_invitation_id is the auth provider's invitation (Auth0 organization invitation).
ALTER TABLE invitations ADD COLUMN emailed_at timestamptz, ADD COLUMN auth_invitation_id text;

-- Down Migration
ALTER TABLE invitations DROP COLUMN emailed_at, DROP COLUMN auth_invitation_id;
