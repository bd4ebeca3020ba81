"""The web console at /console: operators and merchants' users, server-rendered."""
