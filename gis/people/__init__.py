"""People, residences and organizations: who lives in which house, from when to when."""
