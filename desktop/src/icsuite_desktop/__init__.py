"""The agent desktop: server-rendered pages for agents, supervisors and administrators (a backend for the browser)."""
