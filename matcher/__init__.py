"""indicode matcher: encoders, indexes, ranking, and the command line."""
