"""Push delivery: every member gets what it may see on its own TAXII server, with receipts.

There is no outbox. A target is a durable cursor over its member's own view (the network
views, or the stored objects it may read), read through the same policy base query as a
TAXII GET by that member; receipts per object version make retries and rescans
idempotent and answer "which members did this reach, and when?". Why a cursor and not an
outbox written with its cause: docs/delivery.md.

    models      push targets and receipts (tables), and what the admin API returns
    targets     register, replace, pause, resume, retry, remove
    source      what a target is due: visible rows after its cursor that no receipt covers
    run         one target's delivery: lease, read, send, settle
    receipts    recording and reading receipts
    retry       backoff with jitter and the dead letter (any kind of target)
    status      lag, backlog, and the shapes operators see
    senders     how each kind of target is sent to (TAXII via client.push)
    credentials passwords and tokens, encrypted at rest
    job         the worker's ``delivery`` job: due targets, a bounded pool of threads
    api         the admin HTTP API under /api/v1/
"""
