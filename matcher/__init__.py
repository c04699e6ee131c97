"""indicode.matcher: encoders, vector indexes, features, ranking and calibration (the linking core)."""
