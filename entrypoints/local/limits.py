"""API Gateway's WebSocket quotas, as the local gateway applies them. Each default is the documented
quota ("Quotas for configuring and running a WebSocket API in API Gateway"); tests shrink the times."""

from __future__ import annotations

from attrs import frozen

KB = 1024


@frozen
class GatewayLimits:
    frame_bytes: int = 32 * KB  # "WebSocket frame size: 32 KB"; a larger frame closes with 1009
    message_bytes: int = 128 * KB  # "Message payload size: 128 KB"; a larger message closes with 1009
    integration_timeout: float = 29.0  # seconds API Gateway waits for a route's integration
    idle_timeout: float = 10 * 60.0  # "Idle Connection Timeout: 10 minutes"
    max_lifetime: float = 2 * 3600.0  # "Connection duration for WebSocket API: 2 hours"
