// Placeholder; the record model lands next.
