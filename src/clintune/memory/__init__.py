"""Memory: what a run used (measure), and later what it will need (the planner)."""
