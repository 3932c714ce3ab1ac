"""The BentoML service: the request model, the predictor behind it, and how it is deployed.

`request` derives the request model from the data contract, `predictor` runs the saved
scikit-learn Pipeline on rows cleaned by `prepare.clean_features` (the training code),
`coalesce` and `log_buffer` keep the request path short, `service` is the BentoML entry
point, `registry` puts the trained model into the BentoML model store, `smoke` checks a
running service, and `deploy` rolls an image out to a cluster and back.
"""
