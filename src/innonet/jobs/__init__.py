"""Background jobs: slow work (analyses, training, exports, imports, mail) runs outside the
request on a queue, and each job's status is kept in the database for whoever started it."""
