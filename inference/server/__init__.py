"""The MONAI Label-protocol server for 3D Slicer (`python -m inference.server`): the datastore of a studies folder,
upload sessions, the served model sets, the reply formats and the Flask app."""
