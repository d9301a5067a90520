"""Server-side signals: a Prometheus server (started by peakday or the user's own), PromQL
series read each second into the run folder, and the alert states the run's faults caused."""
