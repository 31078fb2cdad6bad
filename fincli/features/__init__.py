"""The feature store: one catalogue of feature definitions, materialized from the event log.

- catalog:      every feature's name, entity, owner service, description and definition
- store:        the materialized history (incremental by log position, rebuildable, digest)
- pit:          as-of computation over sorted arrays; the one code path for online and offline
- observations: where training observations come from, one small source per service
- training:     point-in-time training sets and their manifest
- labels:       the user's category labels (`fin label`)

Nothing here imports numpy or pandas at module level; the computation imports them lazily.
"""


def online_features(ws, txn_ids):
    """Current feature values for transactions (e.g. just imported), one dict per id, in order."""
    from .pit import online_features as compute

    return compute(ws, txn_ids)
