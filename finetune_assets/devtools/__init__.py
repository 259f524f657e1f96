"""Developer tools, never imported at run time: a throwaway PostgreSQL server, the local stack, the
test prerequisites and the benchmark."""
