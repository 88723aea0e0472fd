"""APScheduler is the clock, the database is the queue: interval jobs that claim due rows."""
