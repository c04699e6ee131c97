"""indicode catalogue: read indicator documents, build and store the canonical code catalogue."""
