"""Driver self-service: a driver logs in (apart from operators), sees their tokens and sessions and
blocks a lost card (issue 5, "Drivers' own view")."""
