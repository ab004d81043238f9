"""The rentmeter web portal: renters, hosts and the provider in a browser.

A backend-for-frontend: every page is made from the collector's public gRPC API, called with the signed-in
user's own bearer token, so a page shows exactly what the API lets that user see. It never touches the
database and never imports `collector` (tests/portal/test_imports.py holds that).
"""
