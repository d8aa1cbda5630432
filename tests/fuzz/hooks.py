"""Schemathesis hooks for tests/fuzz/run.sh.

The document offers an optional `Idempotency-Key` header on every write. Generated values repeat
across cases ("0", "a"), and a key sent again with another body is 422 by design: that would turn most
generated writes into idempotency refusals and keep them from the handlers. Each case that sends the
header gets a fresh key instead, so the layer is still exercised and the handlers still fuzzed.
(Malformed keys and reuse are covered by tests/it/idempotency.rs.)
"""
import uuid

import schemathesis


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            headers[name] = uuid.uuid4().hex
