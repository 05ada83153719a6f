"""The hub itself: its identity and key, what it publishes in its ``hub`` collection, and
its republications of members' anonymous submissions."""
