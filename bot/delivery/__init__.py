"""Delivery: one sender drains the outbox through every push channel."""
