"""Locustfiles shipped in the package: the mock storefront's journeys.

They import Locust (and so gevent's monkey-patching): Locust processes load them by path with
`locust -f`; the orchestrator only ever names their files (peakday.assets).
"""
