"""The BentoML service: the request model, the predictor behind it, and how it is deployed.

`request` derives the record model from the data contract and `batch` the types a batch
is read with; `batch_routes` serves batches as JSON and as files; `predictor` runs the saved
scikit-learn Pipeline on rows cleaned by the training code; `coalesce` shares a model call
among requests ready together; `service` is the BentoML entry point, `registry` puts the
trained model into the BentoML model store, `log_buffer` and `metrics` keep the inference
log and the counters off the request path, and `smoke` checks a running service.
"""
