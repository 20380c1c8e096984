"""Network diagnosis: the collaboration graph built from the database, analysed and cached."""
