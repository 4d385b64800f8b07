"""Schemathesis hooks for Arbiter's contract run (`.ci/schemathesis.sh`).

Policy modules are uploaded as `application/wasm`, which Schemathesis has no serializer for:
they are bytes, sent as they are, like `application/octet-stream`.
"""

import schemathesis

schemathesis.serializer.alias("application/wasm", "application/octet-stream")
