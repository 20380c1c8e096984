"""Partner finding: who should work with whom, and how well the recommendations hold up."""
