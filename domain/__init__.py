"""The conversation's rules: entities and their legal moves. Imports nothing of ours or of AWS."""
