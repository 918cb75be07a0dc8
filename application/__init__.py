"""Use cases of the conversation. Depend on ``domain`` and on the ports in ``application.ports``."""
