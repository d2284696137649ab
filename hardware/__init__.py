"""Hardware lines: implementations of edge.lines."""
