"""The journey beacon: a service's pages tell the platform which step of the journey a visitor
reached, and the platform counts, privately, per service, step and hour (SPEC.md section 15)."""
