"""Format backends: each reads one kind of file into the common document model."""
