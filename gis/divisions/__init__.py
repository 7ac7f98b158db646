"""Administrative divisions: province → city → county → township → community (12-digit codes)."""
