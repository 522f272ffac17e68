INSERT INTO staging_logs.init_log (message)
VALUES ('staging schemas initialised by rehearse setup (database ' || current_database() || ')');
