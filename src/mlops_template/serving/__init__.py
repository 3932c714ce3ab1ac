"""The BentoML service: the request model, the predictor behind it, and how it is deployed.

`request` derives the record model from the data contract and `batch` the types a batch
is read with; `batch_file` reads CSV and Parquet uploads, `batch_routes` serves both kinds
of batch; `predictor` runs the saved scikit-learn Pipeline on rows cleaned by the training
code; `service` is the BentoML entry point, `registry` puts the trained model into the
BentoML model store, `log_buffer` keeps the inference log off the request path and
`smoke` checks a running service.
"""
