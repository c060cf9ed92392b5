"""Query execution: prefetch trees, fusion, payload filters."""
