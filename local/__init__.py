"""Local runtime: the embedded AWS and the local stack that runs the template against it."""
