"""The workflow around the per-video steps: parse-time plan, aggregate, pending view."""
