"""Record and replay upstream HTTP traffic in the reference system's recording format."""
