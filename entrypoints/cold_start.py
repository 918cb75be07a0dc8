"""Cold-start tuning of the Lambda functions, in one place (measured by ``bench/cold_start.py``;
the method and the numbers are in BENCHMARKS.md, "Cold start").

1. Import only what the mode needs: ``entrypoints/container.py`` imports the DynamoDB adapter (and
   cattrs), SQS and Bedrock inside the providers that make them, so memory mode and the fake model
   never load them.
2. Import nothing that does network I/O, and build no client at import: boto3 clients are
   ``Singleton`` providers, made on the first invocation that needs them.
3. ``freeze_imports()`` once everything is imported (the last line of ``entrypoints/container.py``,
   which every handler imports): what the imports made lives as long as the process, and moving it
   out of the collector's sight keeps the first invocation's garbage collections (botocore parses
   megabytes of JSON models when it makes its first client) from walking it again and again, about
   18 ms of a cold start.
"""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    gc.freeze()
