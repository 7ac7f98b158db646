"""Access control in the domain core: scopes, masking and the aggregate-only response base."""
