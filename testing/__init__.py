"""What the tests and the benchmarks share, and the product never ships: test doubles (a recording
notifier, telemetry and model, a hand-moved clock), stand-ins of AWS APIs served over local HTTP
(Bedrock, the Management API, moto) and of an identity provider's key set (``issuer.py``), and a
harness that drives the real handlers with AWS-shaped events (``events/``). ``tests/`` and
``bench/`` import it; nothing else does (tests/test_layers.py)."""
