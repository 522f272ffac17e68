-- Schemas for rehearse's own records, kept apart from the app's tables.
CREATE SCHEMA IF NOT EXISTS staging_migrations;
CREATE SCHEMA IF NOT EXISTS staging_logs;
