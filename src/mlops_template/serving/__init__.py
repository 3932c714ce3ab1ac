"""The BentoML service: the contract's record and batch types (`request`, `batch`), the batch
routes (`batch_routes`), the model behind them (`predictor`, one path from a raw row to an
answer), shared model calls (`coalesce`), the entry point (`service`), the model store
(`registry`) and the service's Prometheus counters (`metrics`). The inference log's writer is
`logstore.buffer`; the smoke test of a running service is `deploy.smoke`.
"""
