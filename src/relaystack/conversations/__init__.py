"""Conversations: durable, ordered lists of items that responses read from and append to."""
