"""The audit log: who read or changed what, when, where and why; hash-chained."""
