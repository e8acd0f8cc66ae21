"""sensors_sim package."""
