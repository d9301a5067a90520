"""The mock storefront: auth, checkout and labels as three real HTTP services.

Each service is started as its own process with `python -m peakday.storefront SERVICE ...`;
`create_app(settings)` in `auth`, `checkout` and `labels` builds the FastAPI application.
"""

from __future__ import annotations
