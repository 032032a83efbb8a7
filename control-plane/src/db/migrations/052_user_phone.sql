-- Up Migration
-- A user's phone number (issue 7, password reset): E.164, so SMS providers take it as it is.
-- Nullable: a user without one gets the email alone.
ALTER TABLE users ADD COLUMN phone text CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$');

-- Down Migration
ALTER TABLE users DROP COLUMN phone;
