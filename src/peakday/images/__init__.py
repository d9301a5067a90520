"""Container images: building peakday's storefront and Toxiproxy images, and checking that they
exist before a run (never pulling). The image half of the Docker adapter lives here too."""
