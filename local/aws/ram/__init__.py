"""AWS RAM as the embedded AWS extends it: shares created from resource policies."""
