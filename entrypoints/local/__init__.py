"""Run the whole system on one machine: an API Gateway WebSocket emulator that drives the real Lambda
handlers, its Management API, a chat page and a terminal client (docs/PROTOCOL.md §14)."""
