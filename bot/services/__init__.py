"""Application services: each applies the core to the store for one kind of event."""
