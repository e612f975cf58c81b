"""Pictures of the results: per video a motion plot and a contact sheet of its static
sections; over the archive a timeline of the scheduled slots and the static-section
statistics over time.  Every figure is built as a matplotlib ``Figure`` by a function that
takes the data (so tests can read back what was drawn), then saved as PNG atomically.
"""
