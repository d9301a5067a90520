"""Order integrity: reconcile what clients were told (201 confirmations) with what the
storefront's stores hold after the load stops. model and reconcile are pure; io reads files."""
