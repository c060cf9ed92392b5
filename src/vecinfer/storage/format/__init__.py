"""vecinfer's on-disk format (docs/storage-format.md): how a collection's write-ahead log,
checkpoints and segment state are encoded. Protobuf for log records, `.npy` for arrays, JSON
for payloads, filters and manifests; nothing is pickled. Old (v1, pickled) folders are
converted once by `migrate_v1`."""
