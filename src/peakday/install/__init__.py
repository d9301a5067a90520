"""Getting a machine ready for peakday: `peakday tools install` (toxiproxy into the tools folder)
and `peakday doctor` (what is present, its version, what each platform still lacks)."""
