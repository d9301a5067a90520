"""Faults: the plan (pure), and the adapters that apply them (Toxiproxy, processes, containers)."""
