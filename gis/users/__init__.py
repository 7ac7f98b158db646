"""Users and roles: officers, police, planners, administrators and auditors."""
